/* main.c — gguf-synth: writes a deterministic random-weight GGUF model of an architecture
 * preset (arch_<name>.c), any shape and tensor type (or llama.cpp's Q4_K_M / Q5_K_M mix),
 * with a synthetic SentencePiece-style vocabulary or one copied from another GGUF. Same
 * options and seed, same bytes. --list prints a GGUF file's tensors as our reader sees them. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lm/buf.h"
#include "lm/gguf.h"
#include "synth.h"

/* Presets: each in its own arch_<name>.c; weak so an absent file just drops out. */
extern const struct synth_arch synth_arch_llama __attribute__((weak));
extern const struct synth_arch synth_arch_qwen2 __attribute__((weak));
extern const struct synth_arch synth_arch_gemma3 __attribute__((weak));
extern const struct synth_arch synth_arch_bert __attribute__((weak));

static const struct synth_arch *const *arch_table(size_t *n)
{
    static const struct synth_arch *table[4];
    table[0] = &synth_arch_llama;
    table[1] = &synth_arch_qwen2;
    table[2] = &synth_arch_gemma3;
    table[3] = &synth_arch_bert;
    *n = 4;
    return table;
}

int synth_fail(struct synth *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    return -1;
}

/* splitmix64: small, seedable, identical everywhere. */
static uint64_t next_u64(struct synth *s)
{
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

float synth_normal(struct synth *s)
{
    /* Box-Muller on two uniforms in (0, 1] */
    double u1 = ((double)(next_u64(s) >> 11) + 1.0) / 9007199254740992.0;
    double u2 = (double)(next_u64(s) >> 11) / 9007199254740992.0;
    return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

const char *synth_key(const struct synth *s, const char *suffix)
{
    static char key[256];
    snprintf(key, sizeof key, "%s.%s", s->o.arch, suffix);
    return key;
}

int synth_mat_t(struct synth *s, const char *name, enum lm_type type, int64_t ncols, int64_t nrows, float std)
{
    const struct lm_type_traits *tr = lm_type_traits(type);
    if (!tr) return synth_fail(s, "%s: unsupported type %d", name, (int)type);
    if (ncols % tr->block_size)
        return synth_fail(s, "%s: row of %lld is not a multiple of the %s block size %d", name, (long long)ncols,
                          tr->name, tr->block_size);
    size_t row = lm_row_size(type, ncols);
    float *f = malloc((size_t)ncols * sizeof *f);
    uint8_t *data = malloc(row * (size_t)nrows);
    if (!f || !data) {
        free(f);
        free(data);
        return synth_fail(s, "%s: out of memory", name);
    }
    for (int64_t r = 0; r < nrows; r++) {
        for (int64_t c = 0; c < ncols; c++) f[c] = synth_normal(s) * std;
        lm_quantize_row(type, f, data + (size_t)r * row, ncols);
    }
    int rc = lm_gguf_add_tensor(s->w, name, type, 2, (int64_t[]){ncols, nrows}, data, row * (size_t)nrows);
    free(f);
    free(data);
    return rc < 0 ? synth_fail(s, "%s: cannot add tensor (%d)", name, rc) : 0;
}

/* llama.cpp's quantizer gives a layer's attn_v and ffn_down more bits in the first and the
 * last eighth of the layers and in every third layer between them. (It counts those tensors
 * in layer order, so its counter is the layer index here.) */
static bool more_bits(int layer, int n_layer)
{
    return layer < n_layer / 8 || layer >= 7 * n_layer / 8 || (layer - n_layer / 8) % 3 == 2;
}

/* The Q4_K_M / Q5_K_M choice for a dense model with separate Q/K/V (not Falcon, not 70B, no
 * experts): output.weight, and token_embd when it doubles as the output, in Q6_K; attn_v and
 * ffn_down in Q6_K on the more_bits layers; everything else in the base type. A Q6_K tensor
 * whose rows are not a multiple of 256 becomes Q8_0, as llama.cpp falls back; the base
 * type's fallback (Q5_0) is not one of ours, so such a row stays an error. */
enum lm_type synth_mat_type(const struct synth *s, const char *name, int64_t ncols)
{
    const struct synth_opts *o = &s->o;
    if (o->mix == SYNTH_MIX_NONE) return o->type;
    const enum lm_type more = ncols % 256 ? LM_TYPE_Q8_0 : LM_TYPE_Q6_K;
    if (!strcmp(name, "output.weight") || (s->tied_embd && !strcmp(name, "token_embd.weight"))) return more;
    int layer;
    if ((strstr(name, "attn_v.weight") || strstr(name, "ffn_down")) && sscanf(name, "blk.%d.", &layer) == 1 &&
        more_bits(layer, o->n_layer))
        return more;
    return o->type;
}

int synth_mat(struct synth *s, const char *name, int64_t ncols, int64_t nrows)
{
    return synth_mat_t(s, name, synth_mat_type(s, name, ncols), ncols, nrows, s->o.std);
}

int synth_vec(struct synth *s, const char *name, int64_t n, float mean, float std)
{
    float *f = malloc((size_t)n * sizeof *f);
    if (!f) return synth_fail(s, "%s: out of memory", name);
    for (int64_t i = 0; i < n; i++) f[i] = mean + synth_normal(s) * std;
    int rc = lm_gguf_add_tensor(s->w, name, LM_TYPE_F32, 1, (int64_t[]){n}, f, (size_t)n * sizeof *f);
    free(f);
    return rc < 0 ? synth_fail(s, "%s: cannot add tensor (%d)", name, rc) : 0;
}

/* A SentencePiece-style vocabulary of n tokens: <unk> <s> </s>, 256 byte tokens, then
 * pieces made of letters, digits and punctuation, with and without the ▁ word marker. */
static int synth_vocab(struct synth *s, int n)
{
    static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'-:;()";
    const int nc = (int)sizeof chars - 1;
    if (n < 259 + 2 * nc) return synth_fail(s, "--n-vocab must be at least %d for the synthetic vocabulary", 259 + 2 * nc);
    char (*text)[16] = calloc((size_t)n, sizeof *text);
    struct lm_str *toks = calloc((size_t)n, sizeof *toks);
    float *scores = calloc((size_t)n, sizeof *scores);
    int32_t *types = calloc((size_t)n, sizeof *types);
    if (!text || !toks || !scores || !types) {
        free(text); free(toks); free(scores); free(types);
        return synth_fail(s, "vocabulary: out of memory");
    }
    strcpy(text[0], "<unk>"); types[0] = 2;
    strcpy(text[1], "<s>"); types[1] = 3;
    strcpy(text[2], "</s>"); types[2] = 3;
    for (int b = 0; b < 256; b++) {
        snprintf(text[3 + b], sizeof text[0], "<0x%02X>", b);
        types[3 + b] = 6;
    }
    int id = 259;
    /* ▁x, x, then ▁xy, xy, ▁xyz ... in a fixed order until the vocabulary is full */
    for (int len = 1; id < n; len++) {
        long combos = 1;
        for (int k = 0; k < len; k++) combos *= nc;
        for (long c = 0; c < combos && id < n; c++) {
            char piece[8];
            long v = c;
            for (int k = len - 1; k >= 0; k--) { piece[k] = chars[v % nc]; v /= nc; }
            piece[len] = 0;
            for (int marker = 1; marker >= 0 && id < n; marker--) {
                snprintf(text[id], sizeof text[0], "%s%s", marker ? "\xe2\x96\x81" : "", piece);
                types[id] = 1;
                scores[id] = -(float)(id - 259);
                id++;
            }
        }
    }
    for (int i = 0; i < n; i++) toks[i] = lm_str_c(text[i]);
    int rc = 0;
    rc |= lm_gguf_set_str(s->w, "tokenizer.ggml.model", "llama");
    rc |= lm_gguf_set_arr_str(s->w, "tokenizer.ggml.tokens", toks, (size_t)n);
    rc |= lm_gguf_set_arr(s->w, "tokenizer.ggml.scores", LM_GGUF_TYPE_FLOAT32, scores, (size_t)n);
    rc |= lm_gguf_set_arr(s->w, "tokenizer.ggml.token_type", LM_GGUF_TYPE_INT32, types, (size_t)n);
    rc |= lm_gguf_set_u32(s->w, "tokenizer.ggml.bos_token_id", 1);
    rc |= lm_gguf_set_u32(s->w, "tokenizer.ggml.eos_token_id", 2);
    rc |= lm_gguf_set_u32(s->w, "tokenizer.ggml.unknown_token_id", 0);
    rc |= lm_gguf_set_bool(s->w, "tokenizer.ggml.add_bos_token", true);
    rc |= lm_gguf_set_bool(s->w, "tokenizer.ggml.add_eos_token", false);
    free(text); free(toks); free(scores); free(types);
    return rc ? synth_fail(s, "vocabulary: out of memory") : 0;
}

/* Copies every tokenizer.* key of path; sets *n_vocab to its token count. */
static int copy_vocab(struct synth *s, const char *path, int *n_vocab)
{
    struct lm_gguf *g;
    struct lm_error err = {0};
    if (lm_gguf_open(path, &g, &err) < 0) return synth_fail(s, "--vocab-from: %s", err.msg);
    struct lm_gguf_arr toks;
    if (lm_gguf_get_arr(g, "tokenizer.ggml.tokens", &toks) < 0 || toks.type != LM_GGUF_TYPE_STRING) {
        lm_gguf_close(g);
        return synth_fail(s, "--vocab-from %s: no tokenizer.ggml.tokens", path);
    }
    *n_vocab = (int)toks.n;
    int rc = 0;
    for (int64_t i = 0; i < lm_gguf_n_kv(g) && rc == 0; i++) {
        struct lm_str k = lm_gguf_key_name(g, i);
        if (k.len > 10 && !memcmp(k.ptr, "tokenizer.", 10)) rc = lm_gguf_copy_kv(s->w, g, i);
    }
    lm_gguf_close(g);
    return rc ? synth_fail(s, "--vocab-from: out of memory") : 0;
}

/* llama.cpp's general.file_type for an all-one-type model or a mix. */
static uint32_t file_type(enum lm_type t, enum synth_mix mix)
{
    if (mix == SYNTH_MIX_Q4_K_M) return 15;
    if (mix == SYNTH_MIX_Q5_K_M) return 17;
    switch (t) {
    case LM_TYPE_F32: return 0;
    case LM_TYPE_F16: return 1;
    case LM_TYPE_Q4_0: return 2;
    case LM_TYPE_Q4_1: return 3;
    case LM_TYPE_Q8_0: return 7;
    case LM_TYPE_Q4_K: return 15;
    case LM_TYPE_Q5_K: return 17;
    case LM_TYPE_Q6_K: return 18;
    case LM_TYPE_BF16: return 32;
    default: return 0;
    }
}

static void usage(FILE *f)
{
    size_t n;
    const struct synth_arch *const *t = arch_table(&n);
    fprintf(f, "usage: gguf-synth [--arch NAME] [--n-embd N] [--n-layer N] [--n-head N] [--n-head-kv N]\n"
               "                  [--n-ff N] [--n-ctx N] [--n-vocab N] [--head-dim N] [--type T] [--std X]\n"
               "                  [--rope-base X] [--tied] [--vocab-from FILE.gguf] [--seed S] -o OUT.gguf\n"
               "       gguf-synth --list FILE.gguf   (file type, then every tensor: name, type, shape, bytes)\n"
               "types: f32 f16 bf16 q8_0 q4_0 q4_1 q4_k q5_k q6_k, or the mixes llama.cpp's quantizer makes:\n"
               "  q4_k_m q5_k_m (Q6_K output, attn_v and ffn_down on some layers; rows multiples of 256)\n"
               "architectures:");
    for (size_t i = 0; i < n; i++)
        if (t[i]) fprintf(f, " %s", t[i]->name);
    fprintf(f, "\n");
}

/* --list: general.file_type and every tensor of path as our reader sees it, one a line:
 * "file_type N", then "tensor NAME TYPE NE0,NE1,... BYTES". */
static int list_file(const char *path)
{
    struct lm_gguf *g;
    struct lm_error err = {0};
    if (lm_gguf_open(path, &g, &err) < 0) {
        fprintf(stderr, "gguf-synth: %s\n", err.msg);
        return 1;
    }
    uint32_t ft;
    if (lm_gguf_get_u32(g, "general.file_type", &ft) == 0) printf("file_type %u\n", ft);
    for (int64_t i = 0; i < lm_gguf_n_tensors(g); i++) {
        const struct lm_gguf_tensor *t = lm_gguf_tensor(g, i);
        printf("tensor %.*s %s ", (int)t->name.len, t->name.ptr, lm_type_traits(t->type)->name);
        for (int d = 0; d < t->n_dims; d++) printf("%s%lld", d ? "," : "", (long long)t->ne[d]);
        printf(" %zu\n", t->size);
    }
    lm_gguf_close(g);
    return 0;
}

/* Parses a positive int option value. */
static bool parse_int(const char *v, int lo, int *out)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (*v == 0 || *end || x < lo || x > (1 << 24)) return false;
    *out = (int)x;
    return true;
}

/* --type: a tensor type, or a mix (its base type and the mix). */
static bool parse_type(const char *v, struct synth_opts *o)
{
    o->mix = SYNTH_MIX_NONE;
    if (!strcmp(v, "q4_k_m")) { o->mix = SYNTH_MIX_Q4_K_M; o->type = LM_TYPE_Q4_K; return true; }
    if (!strcmp(v, "q5_k_m")) { o->mix = SYNTH_MIX_Q5_K_M; o->type = LM_TYPE_Q5_K; return true; }
    int t = lm_type_from_name(v);
    if (t < 0 || t == LM_TYPE_Q8_1 || t == LM_TYPE_Q8_K) return false;
    o->type = (enum lm_type)t;
    return true;
}

int main(int argc, char **argv)
{
    struct synth s = {0};
    struct synth_opts *o = &s.o;
    *o = (struct synth_opts){.arch = "llama", .n_embd = 64, .n_layer = 2, .n_head = 4, .n_head_kv = 2, .n_ff = 128,
                             .n_ctx = 2048, .n_vocab = 512, .type = LM_TYPE_F32, .seed = 1, .std = 0.08f};
    const char *out = NULL, *vocab_from = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true, takes = true;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--tied")) { o->tied = true; takes = false; }
        else if (!v) ok = false;
        else if (!strcmp(a, "--arch")) o->arch = v;
        else if (!strcmp(a, "--n-embd")) ok = parse_int(v, 1, &o->n_embd);
        else if (!strcmp(a, "--n-layer")) ok = parse_int(v, 1, &o->n_layer);
        else if (!strcmp(a, "--n-head")) ok = parse_int(v, 1, &o->n_head);
        else if (!strcmp(a, "--n-head-kv")) ok = parse_int(v, 1, &o->n_head_kv);
        else if (!strcmp(a, "--n-ff")) ok = parse_int(v, 1, &o->n_ff);
        else if (!strcmp(a, "--n-ctx")) ok = parse_int(v, 1, &o->n_ctx);
        else if (!strcmp(a, "--n-vocab")) ok = parse_int(v, 1, &o->n_vocab);
        else if (!strcmp(a, "--head-dim")) ok = parse_int(v, 1, &o->head_dim);
        else if (!strcmp(a, "--std")) { o->std = strtof(v, NULL); ok = o->std > 0; }
        else if (!strcmp(a, "--rope-base")) { o->rope_base = strtof(v, NULL); ok = o->rope_base > 0; }
        else if (!strcmp(a, "--seed")) o->seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--type")) ok = parse_type(v, o);
        else if (!strcmp(a, "--vocab-from")) vocab_from = v;
        else if (!strcmp(a, "--list")) return list_file(v);
        else if (!strcmp(a, "-o")) out = v;
        else ok = false;
        if (!ok) {
            fprintf(stderr, "gguf-synth: bad option %s%s%s\n", a, v && takes ? " " : "", v && takes ? v : "");
            usage(stderr);
            return 2;
        }
        if (takes) i++;
    }
    if (!out) { usage(stderr); return 2; }
    size_t n_arch;
    const struct synth_arch *const *table = arch_table(&n_arch), *arch = NULL;
    for (size_t i = 0; i < n_arch; i++)
        if (table[i] && !strcmp(table[i]->name, o->arch)) arch = table[i];
    if (!arch) {
        fprintf(stderr, "gguf-synth: unknown architecture %s\n", o->arch);
        return 2;
    }
    s.rng = o->seed;
    s.tied_embd = o->tied || arch->no_output;
    s.w = lm_gguf_writer_new();
    if (!s.w) { fprintf(stderr, "gguf-synth: out of memory\n"); return 1; }
    int rc = 0;
    rc |= lm_gguf_set_str(s.w, "general.architecture", o->arch);
    char name[96];
    const char *tname = o->mix == SYNTH_MIX_Q4_K_M ? "q4_k_m" : o->mix == SYNTH_MIX_Q5_K_M ? "q5_k_m" : lm_type_traits(o->type)->name;
    snprintf(name, sizeof name, "synth-%s-%s-%d", o->arch, tname, o->n_embd);
    rc |= lm_gguf_set_str(s.w, "general.name", name);
    rc |= lm_gguf_set_u32(s.w, "general.file_type", file_type(o->type, o->mix));
    rc |= lm_gguf_set_u32(s.w, "general.quantization_version", 2);
    if (rc) { fprintf(stderr, "gguf-synth: out of memory\n"); lm_gguf_writer_free(s.w); return 1; }
    if (vocab_from ? copy_vocab(&s, vocab_from, &o->n_vocab) < 0 : synth_vocab(&s, o->n_vocab) < 0) goto fail;
    if (arch->write(&s) < 0) goto fail;
    struct lm_error err = {0};
    if (lm_gguf_writer_write(s.w, out, &err) < 0) {
        fprintf(stderr, "gguf-synth: %s\n", err.msg);
        lm_gguf_writer_free(s.w);
        return 1;
    }
    lm_gguf_writer_free(s.w);
    return 0;
fail:
    fprintf(stderr, "gguf-synth: %s\n", s.err);
    lm_gguf_writer_free(s.w);
    return 1;
}
