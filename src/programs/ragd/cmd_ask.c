/* cmd_ask.c — `ragd ask "question"`: retrieval, the seed's prompt, the streamed answer on
 * stdout, then the sources. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cmds.h"

/* Writes each piece of the answer as it arrives. */
static int print_delta(void *user, const char *text, size_t len)
{
    (void)user;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    return 0;
}

/* `ragd ask`. */
int ragd_cmd_ask(int argc, char **argv)
{
    const char *q = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs("usage: ragd ask \"QUESTION\"\n"
                  "Answers one question with the knowledge store's best RAG_TOP_K chunks (the same prompt as the\n"
                  "chat), printing the answer as it streams and then the sources. Settings as for ragd serve.\n",
                  stdout);
            return 0;
        }
        if (q) {
            fprintf(stderr, "ragd ask: one question expected (quote it)\n");
            return 2;
        }
        q = argv[i];
    }
    if (!q || !q[0]) {
        fprintf(stderr, "ragd ask: missing the question (usage: ragd ask \"QUESTION\")\n");
        return 2;
    }
    static struct ragd_app app;
    int rc = ragd_app_open(&app, false);
    if (rc) return rc;
    struct lm_hit *hits = NULL;
    size_t n = 0;
    struct lm_error err = {0};
    if (app.cfg.rag_top_k > 0 && lm_rag_retrieve(app.store, &app.emb, q, app.cfg.rag_top_k, &hits, &n, &err) < 0) {
        fprintf(stderr, "ragd ask: knowledge store: %s\n", err.msg);
        ragd_app_close(&app);
        return 1;
    }
    char *turn = lm_rag_user_turn(q, hits, n);
    struct lm_llm_message msgs[] = {{"system", LM_RAG_SYSTEM_PROMPT}, {"user", turn ? turn : q}};
    struct lm_llm_result res;
    rc = lm_llm_chat_stream(&app.llm, &(struct lm_llm_chat_params){msgs, 2, 0.2, 0}, print_delta, NULL, NULL, &res,
                            &err);
    free(turn);
    if (rc < 0) {
        fprintf(stderr, "\nragd ask: %s\n", err.msg);
    } else {
        printf("\n\nSources:\n");
        for (size_t i = 0; i < n; i++)
            printf("[%zu] %s (document %lld, chunk %lld, score %.4f)\n", i + 1, hits[i].source,
                   (long long)hits[i].document_id, (long long)hits[i].chunk_id, hits[i].score);
        if (!n) printf("(none)\n");
    }
    lm_store_free_hits(hits, n);
    ragd_app_close(&app);
    return rc < 0 ? 1 : 0;
}
