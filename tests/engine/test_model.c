/* test_model.c — model loading and contexts: info and metadata, one-line load errors
 * (unknown architecture, missing tensor, wrong shape, missing or mistyped hyper-parameter),
 * batch semantics (a whole prompt at once, token by token, split micro-batches and mixed
 * sequences give the same logits), truncation, decode errors that leave the cache unchanged,
 * and resident memory after loading (the file is mapped, not copied). Models come from
 * gguf-synth. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lm/gguf.h"
#include "lm/gguf_write.h"
#include "lm/model.h"
#include "lm_test.h"

/* Runs gguf-synth with args (NULL-terminated) into out. */
static void synth(const char *out, const char *const *args)
{
    char bin[4096];
    snprintf(bin, sizeof bin, "%s/gguf-synth", lm_test_env("LM_RELBIN", lm_test_env("LM_BIN", "build/rel/bin")));
    const char *argv[64];
    int n = 0;
    argv[n++] = bin;
    while (*args && n < 58) argv[n++] = *args++;
    argv[n++] = "-o";
    argv[n++] = out;
    argv[n] = NULL;
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    int st;
    ASSERT(waitpid(pid, &st, 0) == pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) LM_FAIL_("%s failed (status %d)", bin, st);
}

static char model_a[4096];

static struct lm_model *load(const char *path)
{
    struct lm_model *m;
    struct lm_error err = {0};
    if (lm_model_load(path, NULL, &m, &err) < 0) LM_FAIL_("%s", err.msg);
    return m;
}

static struct lm_ctx *ctx(struct lm_model *m, int n_ctx, int n_seq, int n_batch)
{
    struct lm_ctx *c;
    struct lm_error err = {0};
    if (lm_ctx_init(m, &(struct lm_ctx_params){.n_ctx = n_ctx, .n_seq = n_seq, .n_batch = n_batch, .n_threads = 2},
                    &c, &err) < 0)
        LM_FAIL_("%s", err.msg);
    return c;
}

static void decode(struct lm_ctx *c, int n, const int32_t *toks, const int32_t *seq, const int8_t *want)
{
    struct lm_error err = {0};
    struct lm_batch b = {.n = n, .tokens = toks, .seq = seq, .logits = want};
    if (lm_ctx_decode(c, &b, &err) < 0) LM_FAIL_("decode: %s", err.msg);
}

static void assert_close(const float *a, const float *b, int n, double tol, const char *what)
{
    if (!a || !b) LM_FAIL_("%s: no logits", what);
    for (int i = 0; i < n; i++)
        if (fabs((double)a[i] - (double)b[i]) > tol) LM_FAIL_("%s: logit %d: %.6f vs %.6f", what, i, (double)a[i], (double)b[i]);
}

static void test_info(void)
{
    struct lm_model *m = load(model_a);
    const struct lm_model_info *in = lm_model_info(m);
    ASSERT_STR_EQ(in->arch, "llama");
    ASSERT_EQ(in->n_vocab, 512);
    ASSERT_EQ(in->n_embd, 64);
    ASSERT_EQ(in->n_layer, 2);
    ASSERT_EQ(in->n_head, 4);
    ASSERT_EQ(in->n_head_kv, 2);
    ASSERT_EQ(in->n_ff, 128);
    ASSERT_EQ(in->n_ctx_train, 2048);
    ASSERT_STR_EQ(in->ftype, "Q8_0");
    ASSERT(!in->is_embedding);
    ASSERT(in->n_params > 100000);
    ASSERT(in->file_size > 0);
    ASSERT_STR_EQ(lm_model_meta_str(m, "general.architecture"), "llama");
    ASSERT_STR_EQ(lm_model_meta_str(m, "llama.block_count"), "2");
    ASSERT_STR_EQ(lm_model_meta_str(m, "llama.block_count"), "2");  /* cached */
    ASSERT_STR_EQ(lm_model_meta_str(m, "no.such.key"), "");
    ASSERT(lm_model_chat_template(m) == NULL);
    ASSERT(lm_model_tokenizer(m) != NULL);
    lm_model_free(m);
}

/* Writes a copy of model_a with key/tensor edits: drop a tensor, or set the architecture. */
static void write_variant(const char *out, const char *drop_tensor, const char *arch, const char *reshape);
static const char *variant_rope;  /* rope.scaling.type to set in the next variant, or NULL */

static void write_variant(const char *out, const char *drop_tensor, const char *arch, const char *reshape)
{
    struct lm_gguf *g;
    ASSERT_OK(lm_gguf_open(model_a, &g, NULL));
    struct lm_gguf_writer *w = lm_gguf_writer_new();
    for (int64_t i = 0; i < lm_gguf_n_kv(g); i++) ASSERT_OK(lm_gguf_copy_kv(w, g, i));
    if (arch) ASSERT_OK(lm_gguf_set_str(w, "general.architecture", arch));
    if (variant_rope) {
        ASSERT_OK(lm_gguf_set_str(w, "llama.rope.scaling.type", variant_rope));
        ASSERT_OK(lm_gguf_set_f32(w, "llama.rope.scaling.factor", 4.0f));
    }
    for (int64_t i = 0; i < lm_gguf_n_tensors(g); i++) {
        const struct lm_gguf_tensor *t = lm_gguf_tensor(g, i);
        char *name = lm_str_dup(t->name);
        if (drop_tensor && !strcmp(name, drop_tensor)) { free(name); continue; }
        int64_t ne[4] = {t->ne[0], t->ne[1], t->ne[2], t->ne[3]};
        if (reshape && !strcmp(name, reshape)) { ne[0] = t->ne[1]; ne[1] = t->ne[0]; }
        ASSERT_OK(lm_gguf_add_tensor(w, name, t->type, t->n_dims, ne, t->data, t->size));
        free(name);
    }
    ASSERT_OK(lm_gguf_writer_write(w, out, NULL));
    lm_gguf_writer_free(w);
    lm_gguf_close(g);
}

/* Writes a copy of model_a without key, or with key holding the string value instead. */
static void write_key_variant(const char *out, const char *key, const char *value)
{
    struct lm_gguf *g;
    ASSERT_OK(lm_gguf_open(model_a, &g, NULL));
    struct lm_gguf_writer *w = lm_gguf_writer_new();
    for (int64_t i = 0; i < lm_gguf_n_kv(g); i++)
        if (!lm_str_eq_c(lm_gguf_key_name(g, i), key)) ASSERT_OK(lm_gguf_copy_kv(w, g, i));
    if (value) ASSERT_OK(lm_gguf_set_str(w, key, value));
    for (int64_t i = 0; i < lm_gguf_n_tensors(g); i++) {
        const struct lm_gguf_tensor *t = lm_gguf_tensor(g, i);
        char *name = lm_str_dup(t->name);
        ASSERT_OK(lm_gguf_add_tensor(w, name, t->type, t->n_dims, t->ne, t->data, t->size));
        free(name);
    }
    ASSERT_OK(lm_gguf_writer_write(w, out, NULL));
    lm_gguf_writer_free(w);
    lm_gguf_close(g);
}

static void expect_load_error(const char *path, int code, const char *needle)
{
    struct lm_model *m = (struct lm_model *)1;
    struct lm_error err = {0};
    int rc = lm_model_load(path, NULL, &m, &err);
    if (rc != code || !strstr(err.msg, needle) || strchr(err.msg, '\n'))
        LM_FAIL_("load %s: rc %d (want %d), \"%s\" (want \"%s\")", path, rc, code, err.msg, needle);
    ASSERT(m == NULL);
}

static void test_load_errors(void)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", lm_test_tmp("noarch.gguf"));
    write_variant(p, NULL, "mamba9", NULL);
    expect_load_error(p, LM_ENOTSUP, "unsupported architecture mamba9");
    snprintf(p, sizeof p, "%s", lm_test_tmp("missing.gguf"));
    write_variant(p, "blk.1.ffn_up.weight", NULL, NULL);
    expect_load_error(p, LM_EFORMAT, "missing tensor blk.1.ffn_up.weight");
    snprintf(p, sizeof p, "%s", lm_test_tmp("shape.gguf"));
    write_variant(p, NULL, NULL, "blk.0.attn_k.weight");
    expect_load_error(p, LM_EFORMAT, "tensor blk.0.attn_k.weight: shape [32, 64");
    expect_load_error(lm_test_tmp("absent.gguf"), LM_ENOENT, "absent.gguf");
    snprintf(p, sizeof p, "%s", lm_test_tmp("yarn.gguf"));
    variant_rope = "yarn";
    write_variant(p, NULL, NULL, NULL);
    variant_rope = NULL;
    expect_load_error(p, LM_ENOTSUP, "rope scaling yarn not supported");
    FILE *f = fopen(lm_test_tmp("junk.gguf"), "wb");
    ASSERT(f);
    fputs("this is not a model at all, just text", f);
    fclose(f);
    expect_load_error(lm_test_tmp("junk.gguf"), LM_EFORMAT, "bad magic");
    /* hyper-parameters: a required one absent, or of the wrong type */
    snprintf(p, sizeof p, "%s", lm_test_tmp("nokey.gguf"));
    write_key_variant(p, "llama.block_count", NULL);
    expect_load_error(p, LM_EFORMAT, "model: missing key llama.block_count");
    snprintf(p, sizeof p, "%s", lm_test_tmp("strkey.gguf"));
    write_key_variant(p, "llama.block_count", "two");
    expect_load_error(p, LM_EFORMAT, "model: key llama.block_count: not an unsigned 32-bit integer");
    snprintf(p, sizeof p, "%s", lm_test_tmp("strfloat.gguf"));
    write_key_variant(p, "llama.rope.freq_base", "high");
    expect_load_error(p, LM_EFORMAT, "model: key llama.rope.freq_base: not a float");
}

/* Every integer hyper-parameter of model_a set to hostile values: loading either fails with one
 * line or gives a model that decodes; never a crash or a sanitizer finding. */
static void test_hostile_hparams(void)
{
    struct lm_gguf *g;
    ASSERT_OK(lm_gguf_open(model_a, &g, NULL));
    static const uint32_t vals[] = {0, 1, 3, 7, 65, 4096, 1u << 20, 0x7fffffffu, 0xffffffffu};
    int loaded = 0, refused = 0;
    for (int64_t k = 0; k < lm_gguf_n_kv(g); k++) {
        struct lm_str key = lm_gguf_key_name(g, k);
        if (lm_gguf_key_type(g, k) != LM_GGUF_TYPE_UINT32 && lm_gguf_key_type(g, k) != LM_GGUF_TYPE_FLOAT32) continue;
        if (key.len < 6 || memcmp(key.ptr, "llama.", 6)) continue;
        for (size_t v = 0; v < sizeof vals / sizeof vals[0]; v++) {
            struct lm_gguf_writer *w = lm_gguf_writer_new();
            for (int64_t i = 0; i < lm_gguf_n_kv(g); i++) ASSERT_OK(lm_gguf_copy_kv(w, g, i));
            char *kn = lm_str_dup(key);
            if (lm_gguf_key_type(g, k) == LM_GGUF_TYPE_UINT32) ASSERT_OK(lm_gguf_set_u32(w, kn, vals[v]));
            else ASSERT_OK(lm_gguf_set_f32(w, kn, v == 0 ? 0.0f : v == 1 ? -1.0f : v == 2 ? NAN : (float)vals[v]));
            for (int64_t i = 0; i < lm_gguf_n_tensors(g); i++) {
                const struct lm_gguf_tensor *t = lm_gguf_tensor(g, i);
                char *name = lm_str_dup(t->name);
                ASSERT_OK(lm_gguf_add_tensor(w, name, t->type, t->n_dims, t->ne, t->data, t->size));
                free(name);
            }
            const char *p = lm_test_tmp("hostile.gguf");
            ASSERT_OK(lm_gguf_writer_write(w, p, NULL));
            lm_gguf_writer_free(w);
            struct lm_model *m;
            struct lm_error err = {0};
            if (lm_model_load(p, NULL, &m, &err) < 0) {
                ASSERT(err.msg[0] && !strchr(err.msg, '\n'));
                refused++;
            } else {
                struct lm_ctx *c;
                if (lm_ctx_init(m, &(struct lm_ctx_params){.n_ctx = 8, .n_threads = 1}, &c, &err) == 0) {
                    int32_t toks[2] = {1, 2};
                    struct lm_batch b = {.n = 2, .tokens = toks};
                    ASSERT_OK(lm_ctx_decode(c, &b, &err));
                    lm_ctx_free(c);
                }
                lm_model_free(m);
                loaded++;
            }
            free(kn);
        }
    }
    printf("hostile hparams: %d refused, %d loaded\n", refused, loaded);
    ASSERT(refused > 20);
    lm_gguf_close(g);
}

#define NT 12
static const int32_t TOKS[NT] = {1, 300, 301, 310, 420, 333, 290, 77, 500, 260, 261, 399};

/* Logits of every token of TOKS decoded in one batch (reference). */
static float *reference(struct lm_model *m)
{
    const int nv = lm_model_info(m)->n_vocab;
    float *ref = malloc((size_t)NT * (size_t)nv * sizeof *ref);
    struct lm_ctx *c = ctx(m, 64, 1, 512);
    int8_t want[NT];
    memset(want, 1, sizeof want);
    decode(c, NT, TOKS, NULL, want);
    for (int i = 0; i < NT; i++) memcpy(ref + (size_t)i * nv, lm_ctx_logits(c, i), (size_t)nv * sizeof *ref);
    ASSERT_EQ(lm_ctx_seq_len(c, 0), NT);
    lm_ctx_free(c);
    return ref;
}

static void test_batches(void)
{
    struct lm_model *m = load(model_a);
    const int nv = lm_model_info(m)->n_vocab;
    float *ref = reference(m);
    const double tol = 2e-3;  /* matrix-matrix and matrix-vector kernels may round differently */

    /* token by token */
    struct lm_ctx *c = ctx(m, 64, 1, 512);
    for (int i = 0; i < NT; i++) {
        decode(c, 1, &TOKS[i], NULL, NULL);
        assert_close(lm_ctx_logits(c, 0), ref + (size_t)i * nv, nv, tol, "one by one");
    }
    /* truncate and redo the tail */
    lm_ctx_seq_truncate(c, 0, 5);
    ASSERT_EQ(lm_ctx_seq_len(c, 0), 5);
    decode(c, NT - 5, TOKS + 5, NULL, NULL);  /* default: logits of the last token only */
    ASSERT(lm_ctx_logits(c, 0) == NULL);
    assert_close(lm_ctx_logits(c, NT - 6), ref + (size_t)(NT - 1) * nv, nv, tol, "after truncate");
    lm_ctx_free(c);

    /* micro-batches of 5 */
    c = ctx(m, 64, 1, 5);
    int8_t want[NT];
    memset(want, 1, sizeof want);
    decode(c, NT, TOKS, NULL, want);
    for (int i = 0; i < NT; i++) assert_close(lm_ctx_logits(c, i), ref + (size_t)i * nv, nv, tol, "split");
    lm_ctx_free(c);

    /* three sequences in one batch: 0 and 2 get TOKS, 1 gets TOKS shifted, interleaved */
    c = ctx(m, 64, 3, 512);
    int32_t toks[3 * NT], seq[3 * NT];
    int n = 0;
    for (int i = 0; i < NT; i++) {
        toks[n] = TOKS[i]; seq[n++] = 0;
        if (i < NT - 1) { toks[n] = TOKS[i + 1]; seq[n++] = 1; }
        toks[n] = TOKS[i]; seq[n++] = 2;
    }
    decode(c, n, toks, seq, NULL);
    ASSERT_EQ(lm_ctx_seq_len(c, 0), NT);
    ASSERT_EQ(lm_ctx_seq_len(c, 1), NT - 1);
    ASSERT_EQ(lm_ctx_seq_len(c, 2), NT);
    assert_close(lm_ctx_logits(c, n - 2), ref + (size_t)(NT - 1) * nv, nv, tol, "seq 0");
    assert_close(lm_ctx_logits(c, n - 1), ref + (size_t)(NT - 1) * nv, nv, tol, "seq 2");
    /* sequence 1 saw TOKS[1..]: compare with a fresh context */
    struct lm_ctx *c1 = ctx(m, 64, 1, 512);
    decode(c1, NT - 1, TOKS + 1, NULL, NULL);
    assert_close(lm_ctx_logits(c, n - 4), lm_ctx_logits(c1, NT - 2), nv, tol, "seq 1");
    lm_ctx_free(c1);
    /* one more token each, positions given explicitly */
    int32_t next[3] = {TOKS[0], TOKS[0], TOKS[0]}, nseq[3] = {0, 1, 2}, npos[3] = {NT, NT - 1, NT};
    struct lm_batch b = {.n = 3, .tokens = next, .pos = npos, .seq = nseq};
    ASSERT_OK(lm_ctx_decode(c, &b, NULL));
    assert_close(lm_ctx_logits(c, 0), lm_ctx_logits(c, 2), nv, 1e-6, "seq 0 vs 2");

    /* errors leave the cache as it was */
    struct lm_error err = {0};
    int32_t bad_tok[2] = {5, 512};
    b = (struct lm_batch){.n = 2, .tokens = bad_tok};
    ASSERT_EQ(lm_ctx_decode(c, &b, &err), LM_EINVAL);
    ASSERT(strstr(err.msg, "outside the vocabulary"));
    int32_t one = 5, badseq = 3, badpos = 3;
    b = (struct lm_batch){.n = 1, .tokens = &one, .seq = &badseq};
    ASSERT_EQ(lm_ctx_decode(c, &b, &err), LM_EINVAL);
    b = (struct lm_batch){.n = 1, .tokens = &one, .pos = &badpos};
    ASSERT_EQ(lm_ctx_decode(c, &b, &err), LM_EINVAL);
    ASSERT(strstr(err.msg, "position 3"));
    b = (struct lm_batch){.n = 0, .tokens = &one};
    ASSERT_EQ(lm_ctx_decode(c, &b, &err), LM_EINVAL);
    ASSERT_EQ(lm_ctx_seq_len(c, 0), NT + 1);
    ASSERT_EQ(lm_ctx_seq_len(c, 1), NT);
    lm_ctx_free(c);

    /* context overflow */
    c = ctx(m, 8, 1, 512);
    b = (struct lm_batch){.n = NT, .tokens = TOKS};
    ASSERT_EQ(lm_ctx_decode(c, &b, &err), LM_ECONTEXT);
    ASSERT_EQ(lm_ctx_seq_len(c, 0), 0);
    decode(c, 8, TOKS, NULL, NULL);
    b = (struct lm_batch){.n = 1, .tokens = TOKS};
    ASSERT_EQ(lm_ctx_decode(c, &b, &err), LM_ECONTEXT);
    struct lm_ctx_timings t;
    lm_ctx_timings(c, &t);
    ASSERT_EQ(t.n_prompt_tokens, 8);
    lm_ctx_free(c);
    free(ref);
    lm_model_free(m);
}

static void test_no_mmap(void)
{
    struct lm_model *a = load(model_a), *b;
    struct lm_error err = {0};
    if (lm_model_load(model_a, &(struct lm_model_params){.no_mmap = true}, &b, &err) < 0) LM_FAIL_("%s", err.msg);
    struct lm_ctx *ca = ctx(a, 32, 1, 32), *cb = ctx(b, 32, 1, 32);
    decode(ca, NT, TOKS, NULL, NULL);
    decode(cb, NT, TOKS, NULL, NULL);
    assert_close(lm_ctx_logits(ca, NT - 1), lm_ctx_logits(cb, NT - 1), lm_model_info(a)->n_vocab, 0, "no_mmap");
    lm_ctx_free(ca);
    lm_ctx_free(cb);
    lm_model_free(a);
    lm_model_free(b);
    ASSERT_EQ(lm_model_load(lm_test_tmp("absent.gguf"), &(struct lm_model_params){.no_mmap = true}, &b, &err), LM_ENOENT);
}

/* Resident set size in KiB. */
static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long v = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) v = strtol(line + 6, NULL, 10);
    fclose(f);
    return v;
}

/* Loads a synthetic model of type and checks resident memory after load and after a decode. */
static void check_rss(const char *type, const char *n_embd, bool touched_at_load)
{
    const char *p = lm_test_tmp("big.gguf");
    synth(p, (const char *const[]){"--n-embd", n_embd, "--n-ff", "1024", "--n-layer", "4", "--n-head", "8",
                                    "--n-head-kv", "4", "--n-vocab", "4096", "--type", type, "--seed", "3", NULL});
    struct lm_model *m;
    long before = rss_kib();
    if (before < 0) return;
    m = load(p);
    long file_kib = (long)(lm_model_info(m)->file_size / 1024);
    long after_load = rss_kib();
    struct lm_ctx *c = ctx(m, 32, 1, 32);
    decode(c, 8, TOKS, NULL, NULL);
    long after_decode = rss_kib();
    printf("%s: file %ld KiB; RSS +%ld KiB after load, +%ld KiB after a decode\n", type, file_kib,
           after_load - before, after_decode - before);
    /* mapped weights are resident only once touched; repacked ones replace their mapped pages */
    if (!touched_at_load) ASSERT(after_load - before < file_kib / 4);
    ASSERT(after_load - before < file_kib * 3 / 2);
    ASSERT(after_decode - before < file_kib * 3 / 2);
    lm_ctx_free(c);
    lm_model_free(m);
}

static void test_rss(void)
{
    check_rss("f32", "512", false);
    check_rss("q4_0", "1024", true);  /* may be repacked at load (AVX2) */
}

int main(void)
{
    snprintf(model_a, sizeof model_a, "%s", lm_test_tmp("a.gguf"));
    synth(model_a, (const char *const[]){"--type", "q8_0", "--seed", "7", NULL});
    RUN_TEST(test_info);
    RUN_TEST(test_load_errors);
    RUN_TEST(test_hostile_hparams);
    RUN_TEST(test_batches);
    RUN_TEST(test_no_mmap);
    RUN_TEST(test_rss);
    return 0;
}
