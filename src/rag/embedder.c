/* embedder.c — the in-process embedder behind struct lm_rag_embedder: a bert GGUF on our
 * engine, one context, calls serialised by a mutex (an lm_embedder is single-threaded). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lm/embed.h"
#include "lm/model.h"
#include "lm/rag.h"

struct local {
    struct lm_model *model;
    struct lm_embedder *emb;
    pthread_mutex_t mu;
    char name[256];
};

/* Embeds a batch under the lock. */
static int local_embed(void *self, const char *const *texts, size_t n, float *out, struct lm_error *err)
{
    struct local *l = self;
    pthread_mutex_lock(&l->mu);
    int rc = lm_embed(l->emb, texts, n, out, NULL, err);
    pthread_mutex_unlock(&l->mu);
    return rc;
}

/* Counts tokens with the model's own tokenizer (read-only, so no lock). */
static int local_count(void *self, const char *text, size_t len)
{
    struct local *l = self;
    return lm_embed_count_tokens(l->emb, text, len);
}

/* Frees the model and its context. */
static void local_free(void *self)
{
    struct local *l = self;
    lm_embedder_free(l->emb);
    lm_model_free(l->model);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

/* Loads the bert model at path into an embedder (see header). */
int lm_rag_embedder_local(const char *path, int n_threads, struct lm_rag_embedder *out, struct lm_error *err)
{
    memset(out, 0, sizeof *out);
    struct local *l = calloc(1, sizeof *l);
    if (!l) return lm_error_set(err, LM_ENOMEM, "embedder: out of memory");
    int rc = lm_model_load(path, &(struct lm_model_params){.n_threads = n_threads}, &l->model, err);
    if (rc < 0) {
        free(l);
        return rc;
    }
    rc = lm_embedder_init(l->model, &(struct lm_embed_params){.n_threads = n_threads}, &l->emb, err);
    if (rc < 0) {
        lm_model_free(l->model);
        free(l);
        return rc;
    }
    pthread_mutex_init(&l->mu, NULL);
    /* the recorded name is the file's base name: moving the models folder keeps the store valid */
    const char *base = strrchr(path, '/');
    snprintf(l->name, sizeof l->name, "%s", base ? base + 1 : path);
    out->dim = lm_embedder_dim(l->emb);
    out->max_tokens = lm_embedder_max_tokens(l->emb);
    out->name = l->name;
    out->embed = local_embed;
    out->count_tokens = local_count;
    out->free = local_free;
    out->self = l;
    return 0;
}

/* Releases whatever the embedder holds. */
void lm_rag_embedder_free(struct lm_rag_embedder *e)
{
    if (e && e->free) e->free(e->self);
    if (e) memset(e, 0, sizeof *e);
}
