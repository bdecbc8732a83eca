/* prompt.c — the seed's RAG user turn and the conversation budget. */
#include <stdlib.h>
#include <string.h>

#include "lm/buf.h"
#include "lm/rag.h"

#define MSG_OVERHEAD 8   /* template tokens around one message (role markers, separators) */

/* The user turn in the seed's wording (see header). */
char *lm_rag_user_turn(const char *question, const struct lm_hit *hits, size_t n)
{
    struct lm_buf b = {0};
    int rc = 0;
    if (n == 0) {
        rc = lm_buf_append_str(&b, question);
    } else {
        rc |= lm_buf_append_str(&b, "请参考以下资料回答问题，若资料不足请说明：\n");
        for (size_t i = 0; i < n; i++) {
            if (i) rc |= lm_buf_append_str(&b, "\n---\n");
            rc |= lm_buf_append_str(&b, hits[i].content ? hits[i].content : "");
        }
        rc |= lm_buf_append_str(&b, "\n问题：");
        rc |= lm_buf_append_str(&b, question);
    }
    if (rc) {
        lm_buf_free(&b);
        return NULL;
    }
    if (!b.data) return strdup("");
    return lm_buf_take(&b);
}

/* Number of newest turns that fit the budget with the current turn (see header). */
size_t lm_rag_history_fit(const struct lm_rag_turn *turns, size_t n, int current_tokens, int budget)
{
    long used = (long)current_tokens + 2 * MSG_OVERHEAD; /* system message + current turn */
    size_t keep = 0;
    while (keep < n) {
        const struct lm_rag_turn *t = &turns[n - 1 - keep];
        long cost = (long)t->tokens + 2 * MSG_OVERHEAD;
        if (used + cost > budget) break;
        used += cost;
        keep++;
    }
    return keep;
}
