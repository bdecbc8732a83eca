/* model.c — lm_model_load and the context (lm/model.h): opens the GGUF, picks the
 * architecture from a table, validates batches, splits them into micro-batches for the
 * architecture's forward pass, and keeps the logits and timings. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/model_internal.h"
#include "lm/buf.h"
#include "lm/cpu.h"
#include "lm/kernels.h"
#include "lm/pool.h"
#include "lm/tokenizer.h"

/* Architectures: each defined in its own file. The references must be strong: the linker
 * pulls an architecture's object out of liblm.a only because this table names it. */
extern const struct lm__arch lm__arch_llama, lm__arch_qwen2, lm__arch_gemma3, lm__arch_bert;

static const struct lm__arch *arch_find(struct lm_str name)
{
    const struct lm__arch *table[] = {&lm__arch_llama, &lm__arch_qwen2, &lm__arch_gemma3, &lm__arch_bert};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (lm_str_eq_c(name, table[i]->name)) return table[i];
    return NULL;
}

struct lm__meta_entry {
    char *key, *value;
};

/* --- helpers for architecture files ------------------------------------------------- */

/* The outcome of reading hyperparameter key (rc from an lm_gguf getter of the given type). */
static int hp_result(int rc, const char *key, bool required, const char *type, struct lm_error *err)
{
    if (rc == LM_ENOENT && !required) return 0;
    if (rc == LM_ENOENT) return lm_error_set(err, LM_EFORMAT, "model: missing key %s", key);
    if (rc < 0) return lm_error_set(err, LM_EFORMAT, "model: key %s: not %s", key, type);
    return 0;
}

int lm__hp_u32(const struct lm_model *m, const char *suffix, bool required, uint32_t *out, struct lm_error *err)
{
    char key[256];
    snprintf(key, sizeof key, "%s.%s", m->arch_name, suffix);
    return hp_result(lm_gguf_get_u32(m->gguf, key, out), key, required, "an unsigned 32-bit integer", err);
}

int lm__hp_f32(const struct lm_model *m, const char *suffix, bool required, float *out, struct lm_error *err)
{
    char key[256];
    snprintf(key, sizeof key, "%s.%s", m->arch_name, suffix);
    return hp_result(lm_gguf_get_f32(m->gguf, key, out), key, required, "a float", err);
}

int lm__model_own(struct lm_model *m, void *p)
{
    if (!p) return LM_ENOMEM;
    if (m->n_owned == m->cap_owned) {
        size_t nc = m->cap_owned ? m->cap_owned * 2 : 64;
        void **n = realloc(m->owned, nc * sizeof *n);
        if (!n) {
            free(p);
            return LM_ENOMEM;
        }
        m->owned = n;
        m->cap_owned = nc;
    }
    m->owned[m->n_owned++] = p;
    return 0;
}

/* Finds tensor (printf name); LM_ENOENT without message when absent and not required. */
static int find_tensor(struct lm_model *m, const struct lm_gguf_tensor **t, bool required, char *name,
                       size_t cap, struct lm_error *err, const char *fmt, va_list ap)
{
    vsnprintf(name, cap, fmt, ap);
    *t = lm_gguf_find_tensor(m->gguf, name);
    if (*t) return 0;
    if (!required) return LM_ENOENT;
    return lm_error_set(err, LM_EFORMAT, "model: %s: missing tensor %s", m->arch_name, name);
}

/* Gives back the whole pages a mapped tensor lies on. Private clean file pages are simply
 * dropped; nothing reads them again (a page shared with a neighbour is re-read if it is used). */
static void drop_pages(const struct lm_gguf_tensor *t)
{
    const size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = ((uintptr_t)t->data + pg - 1) / pg * pg, b = ((uintptr_t)t->data + t->size) / pg * pg;
    if (b > a) madvise((void *)a, b - a, MADV_DONTNEED);
}

/* Swaps a matrix for the kernels' repacked layout when they have one, and gives the mapped
 * pages back to the system (private file pages are dropped clean and would be re-read), so
 * resident memory stays at one copy of the weights. */
static int prepare(struct lm_model *m, struct lm__mat *mat, const struct lm_gguf_tensor *t, struct lm_error *err)
{
    void *buf = NULL;
    int type = lm_weights_prepare(mat->type, mat->data, mat->nrows, mat->ncols, &buf);
    if (type < 0) return lm_error_set(err, LM_ENOMEM, "model: out of memory repacking %.*s", (int)t->name.len, t->name.ptr);
    if (!buf) return 0;
    if (m->n_prepared == m->cap_prepared) {
        size_t nc = m->cap_prepared ? m->cap_prepared * 2 : 64;
        void **n = realloc(m->prepared, nc * sizeof *n);
        if (!n) {
            lm_weights_free(buf);
            return lm_error_set(err, LM_ENOMEM, "model: out of memory");
        }
        m->prepared = n;
        m->cap_prepared = nc;
    }
    m->prepared[m->n_prepared++] = buf;
    mat->type = (enum lm_type)type;
    mat->data = buf;
    if (m->mapped) {
        if (m->n_dropped == m->cap_dropped) {
            size_t nc = m->cap_dropped ? m->cap_dropped * 2 : 64;
            const struct lm_gguf_tensor **n = realloc(m->dropped, nc * sizeof *n);
            if (!n) return 0;  /* only costs memory */
            m->dropped = n;
            m->cap_dropped = nc;
        }
        m->dropped[m->n_dropped++] = t;
        drop_pages(t);      /* now, so that loading never holds both copies of the weights */
    }
    return 0;
}

/* Gives back the mapped pages of repacked tensors again after loading, so pages that readahead
 * brought in while later tensors were read go too. */
static void release_dropped(struct lm_model *m)
{
    for (size_t i = 0; i < m->n_dropped; i++) drop_pages(m->dropped[i]);
    free(m->dropped);
    m->dropped = NULL;
    m->n_dropped = m->cap_dropped = 0;
}

int lm__model_mat(struct lm_model *m, struct lm__mat *out, int64_t ncols, int64_t nrows, bool required,
                  struct lm_error *err, const char *fmt, ...)
{
    char name[256];
    const struct lm_gguf_tensor *t;
    va_list ap;
    va_start(ap, fmt);
    int rc = find_tensor(m, &t, required, name, sizeof name, err, fmt, ap);
    va_end(ap);
    if (rc < 0) return rc;
    if (t->ne[0] != ncols || t->ne[1] != nrows || t->ne[2] != 1 || t->ne[3] != 1)
        return lm_error_set(err, LM_EFORMAT, "model: tensor %s: shape [%lld, %lld, %lld, %lld], expected [%lld, %lld]",
                            name, (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2],
                            (long long)t->ne[3], (long long)ncols, (long long)nrows);
    switch (t->type) {
    case LM_TYPE_F32: case LM_TYPE_F16: case LM_TYPE_BF16: case LM_TYPE_Q4_0: case LM_TYPE_Q4_1:
    case LM_TYPE_Q8_0: case LM_TYPE_Q4_K: case LM_TYPE_Q5_K: case LM_TYPE_Q6_K:
        break;
    default:
        return lm_error_set(err, LM_ENOTSUP, "model: tensor %s: type %s has no matmul kernel", name,
                            lm_type_traits(t->type)->name);
    }
    out->type = (enum lm_type)t->type;
    out->data = t->data;
    out->nrows = nrows;
    out->ncols = ncols;
    return prepare(m, out, t, err);
}

int lm__model_vec(struct lm_model *m, const float **out, int64_t n, bool required, struct lm_error *err,
                  const char *fmt, ...)
{
    char name[256];
    const struct lm_gguf_tensor *t;
    va_list ap;
    va_start(ap, fmt);
    int rc = find_tensor(m, &t, required, name, sizeof name, err, fmt, ap);
    va_end(ap);
    *out = NULL;
    if (rc == LM_ENOENT && !required) return 0;
    if (rc < 0) return rc;
    if (t->ne[0] != n || t->ne[1] != 1 || t->ne[2] != 1 || t->ne[3] != 1)
        return lm_error_set(err, LM_EFORMAT, "model: tensor %s: shape [%lld, %lld], expected [%lld]", name,
                            (long long)t->ne[0], (long long)t->ne[1], (long long)n);
    float *v = malloc((size_t)n * sizeof *v);
    if (lm__model_own(m, v) < 0) return lm_error_set(err, LM_ENOMEM, "model: out of memory");
    *out = v;
    /* F32 from a mapped file: read through the page cache, not the mapping, so that faulting
     * the vector's page does not map its neighbours (the weights) into this process */
    size_t off = (size_t)((const char *)t->data - (const char *)lm_gguf_bytes(m->gguf));
    if (t->type == LM_TYPE_F32 && m->load_fd >= 0 && pread(m->load_fd, v, t->size, (off_t)off) == (ssize_t)t->size)
        return 0;
    lm_dequantize_row((enum lm_type)t->type, t->data, v, n);
    return 0;
}

/* --- loading ------------------------------------------------------------------------- */

/* Fills the info fields common to every architecture (name, params, ftype). */
static void fill_common_info(struct lm_model *m, const char *path)
{
    struct lm_gguf *g = m->gguf;
    uint64_t counts[LM_TYPE_COUNT] = {0};
    for (int64_t i = 0; i < lm_gguf_n_tensors(g); i++) {
        const struct lm_gguf_tensor *t = lm_gguf_tensor(g, i);
        uint64_t ne = (uint64_t)t->ne[0] * (uint64_t)t->ne[1] * (uint64_t)t->ne[2] * (uint64_t)t->ne[3];
        m->info.n_params += ne;
        if (t->n_dims >= 2 && t->type >= 0 && t->type < LM_TYPE_COUNT) counts[t->type] += ne;
    }
    int best = LM_TYPE_F32;
    for (int t = 0; t < LM_TYPE_COUNT; t++)
        if (counts[t] > counts[best]) best = t;
    m->info.ftype = lm_type_traits(best)->name;
    m->info.file_size = lm_gguf_size(g);
    m->info.arch = m->arch_name;
    struct lm_str s;
    if (lm_gguf_get_str(g, "general.name", &s) == 0 && s.len) {
        m->name = lm_str_dup(s);
    } else {
        const char *base = strrchr(path, '/');
        m->name = strdup(base ? base + 1 : path);
    }
    m->info.name = m->name ? m->name : "";
    if (lm_gguf_get_str(g, "tokenizer.chat_template", &s) == 0) m->chat_template = lm_str_dup(s);
}

/* Reads path into an owned, 64-byte aligned buffer and parses it (no_mmap). */
static int open_copy(struct lm_model *m, const char *path, struct lm_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return lm_error_set(err, errno == ENOENT ? LM_ENOENT : LM_EIO, "gguf: cannot open %s: %s", path, strerror(errno));
    void *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0 || posix_memalign(&buf, 64, (size_t)n + 1) != 0) {
        fclose(f);
        return lm_error_set(err, LM_EIO, "gguf: cannot read %s", path);
    }
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    if (lm__model_own(m, buf) < 0) return lm_error_set(err, LM_ENOMEM, "model: out of memory");
    if (got != (size_t)n) return lm_error_set(err, LM_EIO, "gguf: short read of %s", path);
    return lm_gguf_open_memory(buf, (size_t)n, &m->gguf, err);
}

int lm_model_load(const char *path, const struct lm_model_params *params, struct lm_model **out,
                  struct lm_error *err)
{
    *out = NULL;
    struct lm_model *m = calloc(1, sizeof *m);
    pthread_mutex_t *mu = malloc(sizeof *mu);
    if (!m || !mu) {
        free(m);
        free(mu);
        return lm_error_set(err, LM_ENOMEM, "model: out of memory");
    }
    pthread_mutex_init(mu, NULL);
    m->meta_lock = mu;
    m->load_fd = -1;
    m->mapped = !(params && params->no_mmap);
    int rc = m->mapped ? lm_gguf_open(path, &m->gguf, err) : open_copy(m, path, err);
    if (rc < 0) goto fail;
    struct lm_str arch;
    if (lm_gguf_get_str(m->gguf, "general.architecture", &arch) < 0) {
        rc = lm_error_set(err, LM_EFORMAT, "model: missing key general.architecture");
        goto fail;
    }
    m->arch_name = lm_str_dup(arch);
    if (!m->arch_name) {
        rc = lm_error_set(err, LM_ENOMEM, "model: out of memory");
        goto fail;
    }
    m->arch = arch_find(arch);
    if (!m->arch) {
        char nb[64];
        snprintf(nb, sizeof nb, "%.*s", (int)(arch.len < 40 ? arch.len : 40), arch.ptr);
        for (char *p = nb; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
        rc = lm_error_set(err, LM_ENOTSUP, "model: unsupported architecture %s", nb);
        goto fail;
    }
    fill_common_info(m, path);
    m->info.is_embedding = m->arch->is_embedding;
    m->load_fd = m->mapped ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    rc = m->arch->load(m, err);
    if (m->load_fd >= 0) close(m->load_fd);
    m->load_fd = -1;
    if (rc < 0) goto fail;
    release_dropped(m);
    if ((rc = lm_tokenizer_from_gguf(m->gguf, &m->tok, err)) < 0) {
        lm_error_prefix(err, "model: tokenizer");
        goto fail;
    }
    if (lm_tokenizer_n_vocab(m->tok) > m->info.n_vocab) {
        rc = lm_error_set(err, LM_EFORMAT, "model: tokenizer has %d tokens, the embeddings %d",
                          lm_tokenizer_n_vocab(m->tok), m->info.n_vocab);
        goto fail;
    }
    *out = m;
    return 0;
fail:
    lm_model_free(m);
    return rc;
}

void lm_model_free(struct lm_model *m)
{
    if (!m) return;
    if (m->arch && m->arch->free && m->impl) m->arch->free(m);
    if (m->tok) lm_tokenizer_free(m->tok);
    lm_gguf_close(m->gguf);  /* before the owned buffers: a no_mmap copy is among them */
    m->gguf = NULL;
    for (size_t i = 0; i < m->n_owned; i++) free(m->owned[i]);
    free(m->owned);
    for (size_t i = 0; i < m->n_prepared; i++) lm_weights_free(m->prepared[i]);
    free(m->prepared);
    free(m->dropped);
    for (size_t i = 0; i < m->n_meta; i++) {
        free(m->meta[i].key);
        free(m->meta[i].value);
    }
    free(m->meta);
    if (m->meta_lock) {
        pthread_mutex_destroy(m->meta_lock);
        free(m->meta_lock);
    }
    free(m->arch_name);
    free(m->name);
    free(m->chat_template);
    free(m);
}

const struct lm_model_info *lm_model_info(const struct lm_model *m) { return &m->info; }
const struct lm_tokenizer *lm_model_tokenizer(const struct lm_model *m) { return m->tok; }
const char *lm_model_chat_template(const struct lm_model *m) { return m->chat_template; }

const char *lm_model_meta_str(const struct lm_model *m, const char *key)
{
    struct lm_model *mm = (struct lm_model *)m;  /* the cache is internal, logically const */
    const char *res = "";
    pthread_mutex_lock(mm->meta_lock);
    for (size_t i = 0; i < mm->n_meta; i++) {
        if (!strcmp(mm->meta[i].key, key)) {
            res = mm->meta[i].value;
            goto out;
        }
    }
    int64_t ki = lm_gguf_find_key(m->gguf, key);
    if (ki < 0) goto out;
    struct lm_buf b = {0};
    if (lm_gguf_render_value(m->gguf, ki, 16, &b) < 0 || lm_buf_append(&b, "", 0) < 0) {
        lm_buf_free(&b);
        goto out;
    }
    struct lm__meta_entry *n = realloc(mm->meta, (mm->n_meta + 1) * sizeof *n);
    char *k = strdup(key);
    if (!n || !k) {
        if (n) mm->meta = n;
        free(k);
        lm_buf_free(&b);
        goto out;
    }
    mm->meta = n;
    n[mm->n_meta].key = k;
    n[mm->n_meta].value = b.data ? lm_buf_take(&b) : strdup("");
    res = n[mm->n_meta].value ? n[mm->n_meta].value : "";
    mm->n_meta++;
out:
    pthread_mutex_unlock(mm->meta_lock);
    return res;
}

/* --- contexts ------------------------------------------------------------------------ */

int lm_ctx_init(struct lm_model *m, const struct lm_ctx_params *params, struct lm_ctx **out,
                struct lm_error *err)
{
    *out = NULL;
    if (!m->arch->forward) return lm_error_set(err, LM_ENOTSUP, "model: %s is an encoder (use lm_embed)", m->arch_name);
    struct lm_ctx_params p = params ? *params : (struct lm_ctx_params){0};
    if (p.n_ctx < 0 || p.n_seq < 0 || p.n_batch < 0 || p.n_threads < 0)
        return lm_error_set(err, LM_EINVAL, "context: negative parameter");
    if (p.n_ctx == 0) p.n_ctx = m->info.n_ctx_train > 0 && m->info.n_ctx_train < 8192 ? m->info.n_ctx_train : 8192;
    if (p.n_seq == 0) p.n_seq = 1;
    if (p.n_batch == 0) p.n_batch = 512;
    if (p.n_threads == 0) p.n_threads = lm_cpu_count();
    if (p.n_ctx > (1 << 24) || p.n_seq > 4096) return lm_error_set(err, LM_EINVAL, "context: n_ctx or n_seq too large");
    struct lm_ctx *c = calloc(1, sizeof *c);
    if (!c) return lm_error_set(err, LM_ENOMEM, "context: out of memory");
    c->m = m;
    c->n_ctx = p.n_ctx;
    c->n_seq = p.n_seq;
    c->n_batch = p.n_batch;
    c->n_threads = p.n_threads;
    c->flash_attn = p.flash_attn;
    c->seq_len = calloc((size_t)p.n_seq, sizeof *c->seq_len);
    c->pool = lm_pool_new(p.n_threads);
    if (!c->seq_len || !c->pool) {
        lm_ctx_free(c);
        return lm_error_set(err, LM_ENOMEM, "context: out of memory");
    }
    int rc = m->arch->ctx_init(c, err);
    if (rc < 0) {
        lm_ctx_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void lm_ctx_free(struct lm_ctx *c)
{
    if (!c) return;
    if (c->impl && c->m->arch->ctx_free) c->m->arch->ctx_free(c);
    lm_pool_free(c->pool);
    free(c->seq_len);
    free(c->logits);
    free(c->logits_row);
    free(c);
}

int lm_ctx_n_ctx(const struct lm_ctx *c) { return c->n_ctx; }
int lm_ctx_n_seq(const struct lm_ctx *c) { return c->n_seq; }

int lm_ctx_seq_len(const struct lm_ctx *c, int seq)
{
    return seq >= 0 && seq < c->n_seq ? c->seq_len[seq] : 0;
}

void lm_ctx_seq_truncate(struct lm_ctx *c, int seq, int from)
{
    if (seq < 0 || seq >= c->n_seq || from < 0 || from >= c->seq_len[seq]) return;
    c->seq_len[seq] = from;
    if (c->m->arch->seq_truncate) c->m->arch->seq_truncate(c, seq, from);
}

void lm_ctx_timings(const struct lm_ctx *c, struct lm_ctx_timings *out) { *out = c->timings; }

const float *lm_ctx_logits(struct lm_ctx *c, int i)
{
    if (i < 0 || i >= c->n_last || !c->logits_row || c->logits_row[i] < 0) return NULL;
    return c->logits + (size_t)c->logits_row[i] * (size_t)c->m->info.n_vocab;
}

/* Checks every token, sequence and position of b, and fills pos (given or continued). */
static int validate(struct lm_ctx *c, const struct lm_batch *b, int32_t *pos, struct lm_error *err)
{
    int32_t *next = malloc((size_t)c->n_seq * sizeof *next);
    if (!next) return lm_error_set(err, LM_ENOMEM, "decode: out of memory");
    memcpy(next, c->seq_len, (size_t)c->n_seq * sizeof *next);
    int rc = 0;
    for (int i = 0; i < b->n && rc == 0; i++) {
        int32_t s = b->seq ? b->seq[i] : 0, t = b->tokens[i];
        if (s < 0 || s >= c->n_seq)
            rc = lm_error_set(err, LM_EINVAL, "decode: token %d: sequence %d out of range (n_seq %d)", i, s, c->n_seq);
        else if (t < 0 || t >= c->m->info.n_vocab)
            rc = lm_error_set(err, LM_EINVAL, "decode: token %d: id %d outside the vocabulary (%d)", i, t, c->m->info.n_vocab);
        else if (b->pos && b->pos[i] != next[s])
            rc = lm_error_set(err, LM_EINVAL, "decode: token %d: position %d, sequence %d expects %d", i, b->pos[i], s, next[s]);
        else if (next[s] >= c->n_ctx)
            rc = lm_error_set(err, LM_ECONTEXT, "decode: sequence %d exceeds the context of %d tokens", s, c->n_ctx);
        else
            pos[i] = next[s]++;
    }
    free(next);
    return rc;
}

int lm_ctx_decode(struct lm_ctx *c, const struct lm_batch *b, struct lm_error *err)
{
    if (b->n <= 0 || !b->tokens) return lm_error_set(err, LM_EINVAL, "decode: empty batch");
    const int n = b->n, n_vocab = c->m->info.n_vocab;
    int32_t *pos = malloc((size_t)n * sizeof *pos);
    int32_t *seq = malloc((size_t)n * sizeof *seq);
    int32_t *out_idx = malloc((size_t)n * sizeof *out_idx);
    int32_t *row = malloc((size_t)n * sizeof *row);
    int rc = 0;
    if (!pos || !seq || !out_idx || !row) {
        rc = lm_error_set(err, LM_ENOMEM, "decode: out of memory");
        goto done;
    }
    if ((rc = validate(c, b, pos, err)) < 0) goto done;
    for (int i = 0; i < n; i++) seq[i] = b->seq ? b->seq[i] : 0;
    /* which tokens get logits: as asked, or the last of each sequence */
    int n_out = 0;
    for (int i = 0; i < n; i++) {
        bool want;
        if (b->logits) {
            want = b->logits[i] != 0;
        } else {
            want = true;
            for (int k = i + 1; k < n && want; k++)
                if (seq[k] == seq[i]) want = false;
        }
        row[i] = want ? n_out++ : -1;
    }
    if (n_out > c->n_logits_cap) {
        float *nl = realloc(c->logits, (size_t)n_out * (size_t)n_vocab * sizeof *nl);
        if (!nl) {
            rc = lm_error_set(err, LM_ENOMEM, "decode: out of memory for %d logit rows", n_out);
            goto done;
        }
        c->logits = nl;
        c->n_logits_cap = n_out;
    }
    free(c->logits_row);
    c->logits_row = row;
    row = NULL;
    c->n_last = n;
    for (int start = 0; start < n && rc == 0; start += c->n_batch) {
        int len = n - start < c->n_batch ? n - start : c->n_batch;
        int k = 0, first_row = -1;
        for (int i = start; i < start + len; i++) {
            if (c->logits_row[i] >= 0) {
                if (first_row < 0) first_row = c->logits_row[i];
                out_idx[k++] = i - start;
            }
        }
        struct lm__ubatch ub = {len, b->tokens + start, pos + start, seq + start, k, out_idx};
        double t0 = lm__now_ms();
        rc = c->m->arch->forward(c, &ub, k ? c->logits + (size_t)first_row * (size_t)n_vocab : NULL, err);
        if (rc < 0) break;
        double dt = lm__now_ms() - t0;
        if (len > 1) {
            c->timings.n_prompt_tokens += (uint64_t)len;
            c->timings.prompt_ms += dt;
        } else {
            c->timings.n_gen_tokens += 1;
            c->timings.gen_ms += dt;
        }
        for (int i = start; i < start + len; i++)
            if (c->seq_len[seq[i]] < pos[i] + 1) c->seq_len[seq[i]] = pos[i] + 1;
    }
    if (rc < 0) c->n_last = 0;
done:
    free(pos);
    free(seq);
    free(out_idx);
    free(row);
    return rc;
}
