/* tokenizer_gguf.c — lm_tokenizer_from_gguf: reads the tokenizer.* metadata into a spec. */
#include <stdlib.h>
#include <string.h>

#include "engine/tokenizer_internal.h"
#include "lm/gguf.h"

/* Reads an optional id key into *dst (left unset when absent or not an integer). */
static void get_id(const struct lm_gguf *g, const char *key, int64_t *dst)
{
    int64_t v;
    if (lm_gguf_get_i64(g, key, &v) == 0) *dst = v;
}

static void get_flag(const struct lm_gguf *g, const char *key, int *dst)
{
    bool v;
    if (lm_gguf_get_bool(g, key, &v) == 0) *dst = v ? 1 : 0;
}

/* Copies an lm_str into a NUL-terminated string (malloc). */
static char *dup_str(struct lm_str s)
{
    char *p = malloc(s.len + 1);
    if (!p) return NULL;
    memcpy(p, s.ptr, s.len);
    p[s.len] = 0;
    return p;
}

void lm_tokenizer_spec_free(struct lm_tokenizer_spec *s)
{
    free((void *)s->model);
    free((void *)s->pre);
    free((void *)s->name);
    free((void *)s->arch);
    free((void *)s->tokens);
    free((void *)s->scores);
    free((void *)s->types);
    free((void *)s->merges);
    lm_tokenizer_spec_init(s);
}

int lm_tokenizer_spec_from_gguf(const struct lm_gguf *g, struct lm_tokenizer_spec *s, struct lm_error *err)
{
    lm_tokenizer_spec_init(s);
    struct lm_str model, pre;
    struct lm_gguf_arr toks, scores, types, merges;
    struct lm_str *tv = NULL, *mv = NULL;
    float *sv = NULL;
    int32_t *yv = NULL;
    int rc = 0;

    if (lm_gguf_get_str(g, "tokenizer.ggml.model", &model) < 0)
        return lm_error_set(err, LM_EFORMAT, "tokenizer: key tokenizer.ggml.model missing or not a string");
    if (!(s->model = dup_str(model))) goto oom;
    if (lm_gguf_get_str(g, "tokenizer.ggml.pre", &pre) == 0 && !(s->pre = dup_str(pre))) goto oom;
    struct lm_str gname, garch;
    if (lm_gguf_get_str(g, "general.name", &gname) == 0 && !(s->name = dup_str(gname))) goto oom;
    if (lm_gguf_get_str(g, "general.architecture", &garch) == 0 && !(s->arch = dup_str(garch))) goto oom;
    if (lm_gguf_get_arr(g, "tokenizer.ggml.tokens", &toks) < 0 || toks.type != LM_GGUF_TYPE_STRING) {
        rc = lm_error_set(err, LM_EFORMAT, "tokenizer: key tokenizer.ggml.tokens missing or not a string array");
        goto fail;
    }
    if (toks.n == 0 || toks.n > (uint64_t)INT32_MAX / 4) {
        rc = lm_error_set(err, LM_EFORMAT, "tokenizer: tokenizer.ggml.tokens has %llu entries", (unsigned long long)toks.n);
        goto fail;
    }
    size_t n = (size_t)toks.n;
    if (!(tv = malloc(n * sizeof *tv))) goto oom;
    s->tokens = tv;
    for (size_t i = 0; i < n; i++) {
        if (lm_gguf_arr_str(&toks, i, &tv[i]) < 0) {
            rc = lm_error_set(err, LM_EFORMAT, "tokenizer: tokenizer.ggml.tokens[%zu] unreadable", i);
            goto fail;
        }
    }
    s->n_tokens = n;
    if (lm_gguf_get_arr(g, "tokenizer.ggml.scores", &scores) == 0) {
        if (scores.n < n || (scores.type != LM_GGUF_TYPE_FLOAT32 && scores.type != LM_GGUF_TYPE_INT32)) {
            rc = lm_error_set(err, LM_EFORMAT, "tokenizer: tokenizer.ggml.scores has the wrong type or too few entries");
            goto fail;
        }
        if (!(sv = malloc(n * sizeof *sv))) goto oom;
        s->scores = sv;
        for (size_t i = 0; i < n; i++)
            if (lm_gguf_arr_f32(&scores, i, &sv[i]) < 0) sv[i] = 0;
    }
    if (lm_gguf_get_arr(g, "tokenizer.ggml.token_type", &types) == 0) {
        if (types.n < n || types.type != LM_GGUF_TYPE_INT32) {
            rc = lm_error_set(err, LM_EFORMAT, "tokenizer: tokenizer.ggml.token_type has the wrong type or too few entries");
            goto fail;
        }
        if (!(yv = malloc(n * sizeof *yv))) goto oom;
        s->types = yv;
        for (size_t i = 0; i < n; i++) {
            int64_t v = 1;
            lm_gguf_arr_i64(&types, i, &v);
            yv[i] = (int32_t)v;
        }
    }
    if (lm_gguf_get_arr(g, "tokenizer.ggml.merges", &merges) == 0) {
        if (merges.type != LM_GGUF_TYPE_STRING || merges.n > (uint64_t)INT32_MAX) {
            rc = lm_error_set(err, LM_EFORMAT, "tokenizer: tokenizer.ggml.merges is not a string array");
            goto fail;
        }
        size_t m = (size_t)merges.n;
        if (!(mv = malloc((m ? m : 1) * sizeof *mv))) goto oom;
        s->merges = mv;
        for (size_t i = 0; i < m; i++) {
            if (lm_gguf_arr_str(&merges, i, &mv[i]) < 0) {
                rc = lm_error_set(err, LM_EFORMAT, "tokenizer: tokenizer.ggml.merges[%zu] unreadable", i);
                goto fail;
            }
        }
        s->n_merges = m;
    }
    get_id(g, "tokenizer.ggml.bos_token_id", &s->bos);
    get_id(g, "tokenizer.ggml.eos_token_id", &s->eos);
    get_id(g, "tokenizer.ggml.eot_token_id", &s->eot);
    get_id(g, "tokenizer.ggml.eom_token_id", &s->eom);
    get_id(g, "tokenizer.ggml.unknown_token_id", &s->unk);
    get_id(g, "tokenizer.ggml.seperator_token_id", &s->sep);
    get_id(g, "tokenizer.ggml.padding_token_id", &s->pad);
    get_id(g, "tokenizer.ggml.mask_token_id", &s->mask);
    get_flag(g, "tokenizer.ggml.add_bos_token", &s->add_bos);
    get_flag(g, "tokenizer.ggml.add_eos_token", &s->add_eos);
    get_flag(g, "tokenizer.ggml.add_sep_token", &s->add_sep);
    get_flag(g, "tokenizer.ggml.add_space_prefix", &s->add_space_prefix);
    get_flag(g, "tokenizer.ggml.remove_extra_whitespaces", &s->remove_extra_ws);
    return 0;
oom:
    rc = lm_error_set(err, LM_ENOMEM, "tokenizer: out of memory");
fail:
    lm_tokenizer_spec_free(s);
    return rc;
}

int lm_tokenizer_from_gguf(const struct lm_gguf *g, struct lm_tokenizer **out, struct lm_error *err)
{
    *out = NULL;
    struct lm_tokenizer_spec s;
    int rc = lm_tokenizer_spec_from_gguf(g, &s, err);
    if (rc < 0) return rc;
    rc = lm_tokenizer_from_spec(&s, out, err);
    lm_tokenizer_spec_free(&s);
    return rc;
}
