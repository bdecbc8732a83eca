/* app.c — opening what the commands share (see app.h). */
#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lm/log.h"

/* Embeddings through EMBEDDING_BASE_URL's /v1/embeddings. */
static int remote_embed(void *self, const char *const *texts, size_t n, float *out, struct lm_error *err)
{
    struct ragd_app *app = self;
    int dim = app->emb.dim;
    return lm_llm_embed(&app->emb_llm, texts, n, out, &dim, err);
}

/* Sets up the remote embedder, learning the dimension from one call. */
static int open_remote_embedder(struct ragd_app *app, struct lm_error *err)
{
    struct ragd_config *c = &app->cfg;
    app->emb_llm = (struct lm_llm_config){.base_url = c->embedding_base_url, .api_key = c->llm_api_key,
                                          .model = c->embedding_model,
                                          .connect_timeout_ms = c->llm_connect_timeout_ms,
                                          .idle_timeout_s = c->llm_idle_timeout_s};
    float *probe = malloc(sizeof(float) * 4096);
    if (!probe) return lm_error_set(err, LM_ENOMEM, "out of memory");
    int dim = 0;
    const char *t = "dimension probe";
    int rc = lm_llm_embed(&app->emb_llm, &t, 1, probe, &dim, err);
    free(probe);
    if (rc < 0) return rc;
    app->emb = (struct lm_rag_embedder){.dim = dim, .name = c->embedding_model, .embed = remote_embed, .self = app};
    return 0;
}

/* mkdir -p: creates each missing folder of path. */
static void mkdir_p(char *path)
{
    for (char *p = path + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (access(path, F_OK) != 0) (void)!mkdir(path, 0755);
            *p = '/';
        }
    if (access(path, F_OK) != 0) (void)!mkdir(path, 0755);
}

/* Loads settings, embedder and store (see header). */
int ragd_app_open(struct ragd_app *app, bool print_settings)
{
    memset(app, 0, sizeof *app);
    pthread_mutex_init(&app->chats_mu, NULL);
    char msg[1024];
    if (ragd_config_load(&app->cfg, msg, sizeof msg) < 0) {
        fprintf(stderr, "%s\n", msg);
        return 2;
    }
    struct ragd_config *c = &app->cfg;
    if (print_settings) ragd_config_print(c, stderr);
    app->llm = (struct lm_llm_config){.base_url = c->llm_base_url, .api_key = c->llm_api_key, .model = c->llm_model,
                                      .connect_timeout_ms = c->llm_connect_timeout_ms,
                                      .idle_timeout_s = c->llm_idle_timeout_s};
    if (c->llm_context_size) atomic_store(&app->n_ctx, c->llm_context_size);
    ssize_t n = readlink("/proc/self/exe", app->exe, sizeof app->exe - 1);
    app->exe[n > 0 ? n : 0] = 0;

    struct lm_error err = {0};
    if (c->embedding_base_url[0]) {
        if (open_remote_embedder(app, &err) < 0) {
            fprintf(stderr, "ragd: embeddings server %s: %s\n", c->embedding_base_url, err.msg);
            return 1;
        }
    } else {
        char path[2048];
        if (ragd_config_embedding_path(c, path, sizeof path, msg, sizeof msg) < 0) {
            fprintf(stderr, "%s\n", msg);
            return 2;
        }
        if (lm_rag_embedder_local(path, c->threads, &app->emb, &err) < 0) {
            fprintf(stderr, "ragd: embedding model %s: %s\n", path, err.msg);
            return 1;
        }
    }
    /* SQLite: create the folder of the database file (data/ by default) */
    if (!strncmp(c->database_url, "sqlite:", 7) && strcmp(c->database_url + 7, ":memory:")) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s", c->database_url + 7);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
            *slash = 0;
            mkdir_p(dir);
        }
    }
    struct lm_store_open_params sp = {.url = c->database_url, .model_name = app->emb.name, .dim = app->emb.dim,
                                      .migrate = true};
    if (lm_store_open(&sp, &app->store, &err) < 0) {
        fprintf(stderr, "ragd: store %s: %s\n", c->database_url, err.msg);
        lm_rag_embedder_free(&app->emb);
        return 1;
    }
    return 0;
}

/* Releases the store and the embedder. */
void ragd_app_close(struct ragd_app *app)
{
    if (app->store) lm_store_close(app->store);
    app->store = NULL;
    if (app->emb.free) lm_rag_embedder_free(&app->emb);
}

/* The LLM's context size (see header). */
int ragd_app_n_ctx(struct ragd_app *app)
{
    int n = atomic_load(&app->n_ctx);
    if (n > 0) return n;
    struct lm_llm_model_info info;
    struct lm_error err = {0};
    if (lm_llm_models(&app->llm, &info, &err) == 0 && info.n_ctx > 0) {
        atomic_store(&app->n_ctx, info.n_ctx);
        LM_LOG_INFO("ragd: the LLM's context is %d tokens per request", info.n_ctx);
        return info.n_ctx;
    }
    return 0;
}

/* Tokens of text for the LLM (see header). */
int ragd_app_count_tokens(struct ragd_app *app, const char *text)
{
    int bound = (int)(strlen(text) + 1); /* byte-level tokenizers: at most one token per byte */
    if (atomic_load(&app->tokenize) < 0) return bound;
    struct lm_error err = {0};
    int n = lm_llm_count_tokens(&app->llm, text, &err);
    if (n >= 0) {
        atomic_store(&app->tokenize, 1);
        return n;
    }
    if (err.code == LM_EINVAL) atomic_store(&app->tokenize, -1); /* 404: the server has no /tokenize */
    return bound;
}

/* Ingests one document with the configured chunking and limits. */
int ragd_ingest(struct ragd_app *app, const char *source, const char *text, struct lm_rag_ingest_result *res,
                void (*progress)(void *, size_t, size_t), void *user, struct lm_error *err)
{
    struct lm_rag_ingest_params p = {.chunk_size = app->cfg.chunk_size, .chunk_overlap = app->cfg.chunk_overlap,
                                     .max_chunks = app->cfg.max_chunks, .progress = progress, .user = user};
    int rc = lm_rag_ingest(app->store, &app->emb, source, text, &p, res, err);
    if (rc == 0 && !res->duplicate) {
        atomic_fetch_add(&app->m.documents_added, 1);
        atomic_fetch_add(&app->m.chunks_added, (long)res->n_chunks);
    }
    return rc;
}
