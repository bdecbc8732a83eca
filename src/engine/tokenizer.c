/* tokenizer.c — vocabulary construction, special-token handling, tokenize/detokenize dispatch.
 *
 * Mirrors llama.cpp's llama_vocab: the same defaults per model kind, the same attribute fix-ups
 * (EOT/EOG detection by token text), the same special-token partitioning of the input (longest
 * special text first, control tokens only when parse_special) and the same detokenizer clean-up.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tokenizer_internal.h"
#include "lm/log.h"

/* ---- string map ------------------------------------------------------------------------ */

/* FNV-1a over the bytes, then a murmur3 finaliser so the low bits (the table index) mix well. */
static uint32_t hash_bytes(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

/* Sizes the table for n keys. */
static int strmap_init(struct lm__strmap *m, size_t n, const char *const *keys, const uint32_t *lens)
{
    size_t cap = 16;
    while (cap < n * 2 + 1) cap <<= 1;
    m->slots = calloc(cap, sizeof *m->slots);
    if (!m->slots) return LM_ENOMEM;
    m->mask = (uint32_t)(cap - 1);
    m->keys = keys;
    m->lens = lens;
    return 0;
}

/* Looks key up; returns its value or -1. The stored hash avoids touching the key memory of
 * other entries on a probe. */
static int32_t strmap_get(const struct lm__strmap *m, const char *k, size_t n)
{
    if (!m->slots) return -1;
    uint32_t h = hash_bytes(k, n), i = h & m->mask;
    for (;;) {
        uint64_t s = m->slots[i];
        if (!s) return -1;
        uint32_t v = (uint32_t)s - 1;
        if ((uint32_t)(s >> 32) == h && m->lens[v] == n && memcmp(m->keys[v], k, n) == 0) return (int32_t)v;
        i = (i + 1) & m->mask;
    }
}

/* Inserts value v (whose key is keys[v]) unless the key is present; returns the existing value
 * or -1 when inserted. */
static int32_t strmap_put(struct lm__strmap *m, uint32_t v)
{
    const char *k = m->keys[v];
    size_t n = m->lens[v];
    uint32_t h = hash_bytes(k, n), i = h & m->mask;
    for (;;) {
        uint64_t s = m->slots[i];
        if (!s) {
            m->slots[i] = (uint64_t)h << 32 | (v + 1);
            return -1;
        }
        uint32_t o = (uint32_t)s - 1;
        if ((uint32_t)(s >> 32) == h && m->lens[o] == n && memcmp(m->keys[o], k, n) == 0) return (int32_t)o;
        i = (i + 1) & m->mask;
    }
}

int32_t lm__tok_find(const struct lm_tokenizer *t, const char *text, size_t len)
{
    return strmap_get(&t->tok_map, text, len);
}

int32_t lm__bpe_rank(const struct lm_tokenizer *t, const char *l, size_t ln, const char *r, size_t rn)
{
    char stack[256];
    size_t n = ln + 1 + rn;
    char *k = n <= sizeof stack ? stack : malloc(n);
    if (!k) return -1;
    memcpy(k, l, ln);
    k[ln] = ' ';
    memcpy(k + ln + 1, r, rn);
    int32_t v = strmap_get(&t->merge_map, k, n);
    if (k != stack) free(k);
    return v;
}

int lm__ids_push(struct lm__ids *a, int32_t id)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        int32_t *v = realloc(a->v, cap * sizeof *v);
        if (!v) return LM_ENOMEM;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = id;
    return 0;
}

/* ---- construction ----------------------------------------------------------------------- */

void lm_tokenizer_spec_init(struct lm_tokenizer_spec *s)
{
    memset(s, 0, sizeof *s);
    s->bos = s->eos = s->eot = s->eom = s->unk = s->sep = s->pad = s->mask = LM_TOKENIZER_UNSET;
    s->add_bos = s->add_eos = s->add_sep = s->add_space_prefix = -1;
    s->remove_extra_ws = s->lowercase = s->strip_accents = -1;
}

void lm_tokenizer_free(struct lm_tokenizer *t)
{
    if (!t) return;
    lm__bpe_free_pre(t);
    free(t->text);
    free(t->len);
    free(t->score);
    free(t->attr);
    free(t->pool);
    free(t->tok_map.slots);
    free(t->merge_text);
    free(t->merge_len);
    free(t->merge_pool);
    free(t->merge_map.slots);
    free(t->eog);
    free(t->special);
    free(t->piece_pool);
    free(t->piece_off);
    free(t);
}

/* Pre-tokenizer names as llama.cpp maps them, with the per-name options it sets. */
struct pre_name {
    const char *name;
    enum lm__pre pre;
    int clean_spaces;   /* -1 keep (true) */
    bool ignore_merges, add_bos;
};
static const struct pre_name k_pre_names[] = {
    {"default", LM__PRE_DEFAULT, -1, false, false},
    {"llama3", LM__PRE_LLAMA3, -1, true, true},
    {"llama-v3", LM__PRE_LLAMA3, -1, true, true},
    {"llama-bpe", LM__PRE_LLAMA3, -1, true, true},
    {"falcon3", LM__PRE_LLAMA3, -1, true, true},
    {"falcon-h1", LM__PRE_LLAMA3, -1, true, true},
    {"pixtral", LM__PRE_LLAMA3, -1, true, true},
    {"midm-2.0", LM__PRE_LLAMA3, -1, true, true},
    {"lfm2", LM__PRE_LLAMA3, -1, true, true},
    {"dbrx", LM__PRE_LLAMA3, -1, false, false},
    {"smaug-bpe", LM__PRE_LLAMA3, -1, false, false},
    {"falcon", LM__PRE_FALCON, -1, false, false},
    {"mpt", LM__PRE_GPT2, -1, false, false},
    {"olmo", LM__PRE_GPT2, -1, false, false},
    {"jais", LM__PRE_GPT2, -1, false, false},
    {"gpt-2", LM__PRE_GPT2, -1, false, false},
    {"phi-2", LM__PRE_GPT2, -1, false, false},
    {"jina-es", LM__PRE_GPT2, -1, false, false},
    {"jina-de", LM__PRE_GPT2, -1, false, false},
    {"gigachat", LM__PRE_GPT2, -1, false, false},
    {"jina-v2-es", LM__PRE_GPT2, -1, false, false},
    {"jina-v2-de", LM__PRE_GPT2, -1, false, false},
    {"jina-v1-en", LM__PRE_GPT2, -1, false, false},
    {"jina-v2-code", LM__PRE_GPT2, -1, false, false},
    {"roberta-bpe", LM__PRE_GPT2, -1, false, false},
    {"exaone4", LM__PRE_GPT2, -1, false, false},
    {"starcoder", LM__PRE_SMOLLM, -1, false, false},
    {"refact", LM__PRE_SMOLLM, -1, false, false},
    {"command-r", LM__PRE_SMOLLM, 0, false, false},
    {"smollm", LM__PRE_SMOLLM, 0, false, false},
    {"codeshell", LM__PRE_SMOLLM, -1, false, false},
    {"exaone", LM__PRE_SMOLLM, -1, false, false},
    {"minerva-7b", LM__PRE_SMOLLM, -1, false, false},
    {"qwen2", LM__PRE_QWEN2, 0, false, false},
    {"deepseek-r1-qwen", LM__PRE_QWEN2, 0, false, false},
    {"stablelm2", LM__PRE_QWEN2, -1, false, false},
    {"megrez", LM__PRE_QWEN2, -1, false, false},
    {"hunyuan", LM__PRE_QWEN2, 0, false, false},
    {"deepseek-llm", LM__PRE_DEEPSEEK_LLM, 0, false, false},
    {"deepseek-coder", LM__PRE_DEEPSEEK_CODER, 0, false, false},
    {"deepseek-v3", LM__PRE_DEEPSEEK3, 0, false, false},
    {"hunyuan-dense", LM__PRE_DEEPSEEK3, 0, false, false},
    {"bloom", LM__PRE_BLOOM, -1, false, false},
    {"gpt3-finnish", LM__PRE_BLOOM, -1, false, false},
    {"poro-chat", LM__PRE_BLOOM, 0, false, false},
    {"viking", LM__PRE_VIKING, 0, false, false},
    {"glm4", LM__PRE_CHATGLM4, -1, false, false},
    {"chatglm-bpe", LM__PRE_CHATGLM4, -1, false, false},
    {"gpt-4o", LM__PRE_GPT4O, 0, false, false},
    {"llama4", LM__PRE_GPT4O, 0, false, false},
    {"tekken", LM__PRE_TEKKEN, 0, true, true},
    {"jina-v5-nano", LM__PRE_LLAMA3, -1, true, true},
    {"a.x-4.0", LM__PRE_GPT2, -1, false, false},
    {"mellum", LM__PRE_GPT2, -1, false, false},
    {"modern-bert", LM__PRE_GPT2, -1, false, false},
    {"trillion", LM__PRE_GPT2, 0, false, false},
    {"granite-docling", LM__PRE_GPT2, 0, false, false},
    {"mellum2", LM__PRE_SMOLLM, -1, false, false},
    {"kormo", LM__PRE_QWEN2, 0, false, false},
    {"f2llmv2", LM__PRE_QWEN2, 0, false, false},
    {"solar-open", LM__PRE_QWEN2, 0, false, false},
    {"grok-2", LM__PRE_QWEN2, 0, false, false},
    {"joyai-llm", LM__PRE_DEEPSEEK3, 0, false, false},
    {"kanana2", LM__PRE_GPT4O, 0, false, false},
    {"talkie", LM__PRE_GPT4O, 0, false, false},
    {"minimax-m2", LM__PRE_GPT4O, 0, false, false},
    {"qwen35", LM__PRE_QWEN35, 0, false, false},
    {"tiny_aya", LM__PRE_TINY_AYA, 0, false, false},
    {"cohere2moe", LM__PRE_TINY_AYA, 0, false, false},
    {"bailingmoe", LM__PRE_BAILINGMOE, 0, false, false},
    {"bailingmoe2", LM__PRE_BAILINGMOE, 0, false, false},
    {"llada-moe", LM__PRE_BAILINGMOE, 0, false, false},
    {"seed-coder", LM__PRE_SEED_CODER, 0, false, false},
    {"minicpm5", LM__PRE_MINICPM5, -1, true, false},
    {"jais-2", LM__PRE_JAIS2, -1, false, false},
    {"exaone-moe", LM__PRE_EXAONE_MOE, -1, false, false},
    {"chameleon", LM__PRE_CHAMELEON, 0, false, true},
    {"youtu", LM__PRE_YOUTU, 0, true, false},
    {"laguna", LM__PRE_LAGUNA, 0, false, false},
    {"granite-embed-multi-97m", LM__PRE_GRANITE_EMB, 0, true, false},
};

/* Texts llama.cpp treats as end-of-turn (first match becomes eot when none is set). */
static const char *const k_eot_texts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
    "<EOT>", "_<EOT>", "[EOT]", "<\xef\xbd\x9c" "end\xe2\x96\x81" "of\xe2\x96\x81" "sentence\xef\xbd\x9c>",
    "<end_of_utterance>",
};
/* Texts that end generation. */
static const char *const k_eog_texts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
    "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
    "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
    "<\xef\xbd\x9c" "end\xe2\x96\x81" "of\xe2\x96\x81" "sentence\xef\xbd\x9c>", "[e~[",
};
/* FIM tokens llama.cpp marks as control (pad/rep/sep also end generation). */
static const char *const k_fim_texts[] = {
    "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<PRE>", "\xe2\x96\x81<PRE>",
    "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<SUF>", "\xe2\x96\x81<SUF>",
    "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<MID>", "\xe2\x96\x81<MID>",
};
static const char *const k_fim_eog_texts[] = {
    "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]",
    "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", "<|file_sep|>",
};

static int32_t find_c(const struct lm_tokenizer *t, const char *s)
{
    return lm__tok_find(t, s, strlen(s));
}

static int eog_add(struct lm_tokenizer *t, int32_t id)
{
    if (id < 0 || id >= t->n) return 0;
    for (int i = 0; i < t->n_eog; i++)
        if (t->eog[i] == id) return 0;
    int32_t *v = realloc(t->eog, (size_t)(t->n_eog + 1) * sizeof *v);
    if (!v) return LM_ENOMEM;
    t->eog = v;
    t->eog[t->n_eog++] = id;
    return 0;
}

static void eog_remove(struct lm_tokenizer *t, int32_t id)
{
    for (int i = 0; i < t->n_eog; i++) {
        if (t->eog[i] != id) continue;
        t->eog[i] = t->eog[--t->n_eog];
        return;
    }
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Orders the special cache: longer text first, then by id (ctx: the token lengths). */
static int cmp_special(const void *a, const void *b, void *ctx)
{
    const uint32_t *lens = ctx;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    uint32_t lx = lens[x], ly = lens[y];
    if (lx != ly) return lx > ly ? -1 : 1;
    return (x > y) - (x < y);
}

/* Resolves a metadata special id against the default as llama.cpp does (out of range: keep the
 * default; a default out of range is dropped). */
static int32_t special_id(int64_t meta, int32_t def, int32_t n)
{
    if (def >= n) def = -1;
    if (meta == LM_TOKENIZER_UNSET) return def;
    if (meta < 0 || meta >= n) return def;
    return (int32_t)meta;
}

/* Copies the token strings, builds the lookup map and attributes. */
static int build_vocab(struct lm_tokenizer *t, const struct lm_tokenizer_spec *s, struct lm_error *err)
{
    size_t n = s->n_tokens, total = 0;
    for (size_t i = 0; i < n; i++) total += (s->tokens[i].len ? s->tokens[i].len : 24) + 1;
    t->n = (int32_t)n;
    t->text = calloc(n ? n : 1, sizeof *t->text);
    t->len = calloc(n ? n : 1, sizeof *t->len);
    t->score = calloc(n ? n : 1, sizeof *t->score);
    t->attr = calloc(n ? n : 1, sizeof *t->attr);
    t->pool = malloc(total ? total : 1);
    if (!t->text || !t->len || !t->score || !t->attr || !t->pool) return lm_error_set(err, LM_ENOMEM, "tokenizer: out of memory");
    char *p = t->pool;
    for (size_t i = 0; i < n; i++) {
        struct lm_str w = s->tokens[i];
        t->text[i] = p;
        if (w.len == 0) {
            /* llama.cpp renames empty tokens so that they stay unique */
            int k = snprintf(p, 24, "[EMPTY_%zu]", i);
            t->len[i] = (uint32_t)k;
        } else {
            if (w.len > UINT32_MAX / 2) return lm_error_set(err, LM_EFORMAT, "tokenizer: token %zu too long", i);
            memcpy(p, w.ptr, w.len);
            t->len[i] = (uint32_t)w.len;
        }
        p[t->len[i]] = 0;
        p += t->len[i] + 1;
        if (t->len[i] > t->max_token_len) t->max_token_len = t->len[i];
        t->score[i] = s->scores ? s->scores[i] : 0.0f;
        uint8_t a = LM__ATTR_NORMAL;
        if (s->types) {
            switch (s->types[i]) {
            case 1: a = LM__ATTR_NORMAL; break;
            case 2: a = LM__ATTR_UNKNOWN; break;
            case 3: a = LM__ATTR_CONTROL; break;
            case 4: a = LM__ATTR_USER_DEFINED; break;
            case 5: a = LM__ATTR_UNUSED; break;
            case 6: a = LM__ATTR_BYTE; break;
            default: a = LM__ATTR_UNDEFINED; break;
            }
        }
        t->attr[i] = a;
    }
    int rc = strmap_init(&t->tok_map, n, (const char *const *)t->text, t->len);
    if (rc < 0) return lm_error_set(err, rc, "tokenizer: out of memory");
    for (size_t i = 0; i < n; i++) {
        int32_t dup = strmap_put(&t->tok_map, (uint32_t)i);
        if (dup >= 0)
            return lm_error_set(err, LM_EFORMAT, "tokenizer: duplicate token in vocabulary: ids %d and %zu", dup, i);
    }
    return 0;
}

/* Copies the merges and maps "left right" to its rank (first occurrence wins). */
static int build_merges(struct lm_tokenizer *t, const struct lm_tokenizer_spec *s, struct lm_error *err)
{
    size_t n = s->n_merges, total = 0;
    for (size_t i = 0; i < n; i++) total += s->merges[i].len + 1;
    t->n_merges = (uint32_t)n;
    t->merge_text = calloc(n ? n : 1, sizeof *t->merge_text);
    t->merge_len = calloc(n ? n : 1, sizeof *t->merge_len);
    t->merge_pool = malloc(total ? total : 1);
    if (!t->merge_text || !t->merge_len || !t->merge_pool) return lm_error_set(err, LM_ENOMEM, "tokenizer: out of memory");
    int rc = strmap_init(&t->merge_map, n, (const char *const *)t->merge_text, t->merge_len);
    if (rc < 0) return lm_error_set(err, rc, "tokenizer: out of memory");
    char *p = t->merge_pool;
    for (size_t i = 0; i < n; i++) {
        struct lm_str w = s->merges[i];
        memcpy(p, w.ptr, w.len);
        p[w.len] = 0;
        t->merge_text[i] = p;
        t->merge_len[i] = (uint32_t)w.len;
        p += w.len + 1;
        /* llama.cpp splits at the first space after position 0; lines without one are ignored */
        const char *sp = w.len > 1 ? memchr(w.ptr + 1, ' ', w.len - 1) : NULL;
        if (!sp) continue;
        strmap_put(&t->merge_map, (uint32_t)i);
    }
    return 0;
}

/* The attribute and EOG fix-ups llama.cpp applies by token text. */
static int fixup_specials(struct lm_tokenizer *t)
{
    int rc;
    if (t->eot < 0) {
        for (size_t k = 0; k < sizeof k_eot_texts / sizeof *k_eot_texts && t->eot < 0; k++) t->eot = find_c(t, k_eot_texts[k]);
    }
    if (t->eom < 0) t->eom = find_c(t, "<|eom_id|>");
    if (t->eot >= 0) t->attr[t->eot] |= LM__ATTR_CONTROL;
    if (t->eom >= 0) t->attr[t->eom] |= LM__ATTR_CONTROL;
    for (size_t k = 0; k < sizeof k_fim_texts / sizeof *k_fim_texts; k++) {
        int32_t id = find_c(t, k_fim_texts[k]);
        if (id >= 0) t->attr[id] |= LM__ATTR_CONTROL;
    }
    for (size_t k = 0; k < sizeof k_fim_eog_texts / sizeof *k_fim_eog_texts; k++) {
        int32_t id = find_c(t, k_fim_eog_texts[k]);
        if (id < 0) continue;
        t->attr[id] |= LM__ATTR_CONTROL;
        if ((rc = eog_add(t, id)) < 0) return rc;
    }
    for (int32_t i = 0; i < t->n; i++)
        if ((t->attr[i] & LM__ATTR_CONTROL) && strstr(t->text[i], "unused")) t->attr[i] |= LM__ATTR_UNUSED;
    for (size_t k = 0; k < sizeof k_eog_texts / sizeof *k_eog_texts; k++) {
        int32_t id = find_c(t, k_eog_texts[k]);
        if (id < 0) continue;
        t->attr[id] |= LM__ATTR_CONTROL;
        if ((rc = eog_add(t, id)) < 0) return rc;
    }
    static const char *const k_user_defined[] = {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"};
    for (size_t k = 0; k < 4; k++) {
        int32_t id = find_c(t, k_user_defined[k]);
        if (id >= 0) t->attr[id] = LM__ATTR_USER_DEFINED;
    }
    if ((rc = eog_add(t, t->eos)) < 0 || (rc = eog_add(t, t->eot)) < 0 || (rc = eog_add(t, t->eom)) < 0) return rc;
    /* gpt-oss / solar-open: <|end|> ends a message, not the generation, when <|return|> and
     * <|call|> (or <|calls|> and <|flush|>) exist; gemma4: </s> is not an end token there */
    int32_t end = find_c(t, "<|end|>"), ret = find_c(t, "<|return|>"), call = find_c(t, "<|call|>"),
            calls = find_c(t, "<|calls|>"), flush = find_c(t, "<|flush|>"), tool_resp = find_c(t, "<|tool_response>"),
            eos_s = find_c(t, "</s>");
    if (end >= 0 && ((ret >= 0 && (call >= 0 || calls >= 0)) || ((call >= 0 || calls >= 0) && flush >= 0))) {
        eog_remove(t, end);
        t->attr[end] = LM__ATTR_USER_DEFINED;
    }
    if (tool_resp >= 0 && eos_s >= 0) {
        eog_remove(t, eos_s);
        t->attr[eos_s] = LM__ATTR_NORMAL;
    }
    if (t->n_eog > 1) qsort(t->eog, (size_t)t->n_eog, sizeof *t->eog, cmp_i32);

    /* the special-token cache: longest text first */
    t->special = malloc((size_t)(t->n ? t->n : 1) * sizeof *t->special);
    if (!t->special) return LM_ENOMEM;
    for (int32_t i = 0; i < t->n; i++)
        if (t->attr[i] & (LM__ATTR_CONTROL | LM__ATTR_USER_DEFINED | LM__ATTR_UNKNOWN)) t->special[t->n_special++] = i;
    if (t->n_special > 1) qsort_r(t->special, (size_t)t->n_special, sizeof *t->special, cmp_special, t->len);
    return 0;
}

/* Case-insensitive substring test (ASCII). */
static bool contains_ci(const char *hay, const char *needle)
{
    if (!hay) return false;
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, n)) return true;
    return false;
}

/* The per-model strip attributes llama.cpp sets from the model name / architecture / pre. */
static void strip_attrs(struct lm_tokenizer *t, const struct lm_tokenizer_spec *s)
{
    const char *pre = s->pre;
    if ((pre && (strstr(pre, "jina-v2-de") || strstr(pre, "jina-v2-es") || strstr(pre, "jina-v2-code"))) ||
        (s->arch && (strstr(s->arch, "nomic-bert-moe") || strstr(s->arch, "jina-bert-v3")))) {
        int32_t id = find_c(t, "<mask>");
        if (id >= 0) t->attr[id] |= LM__ATTR_LSTRIP;
    } else if (contains_ci(s->name, "phi-3") || contains_ci(s->name, "phi3")) {
        for (int i = 0; i < t->n_special; i++) t->attr[t->special[i]] |= LM__ATTR_RSTRIP;
        int32_t id = find_c(t, "</s>");
        if (id >= 0) t->attr[id] |= LM__ATTR_RSTRIP;
        static const char *const keep[] = {"<unk>", "<s>", "<|endoftext|>"};
        for (int k = 0; k < 3; k++)
            if ((id = find_c(t, keep[k])) >= 0) t->attr[id] &= (uint8_t)~LM__ATTR_RSTRIP;
    } else if (contains_ci(s->name, "modern-bert")) {
        int32_t id = find_c(t, "[MASK]");
        if (id >= 0) t->attr[id] |= LM__ATTR_LSTRIP;
    }
}

static void set_bool(bool *dst, int v)
{
    if (v >= 0) *dst = v != 0;
}

/* The pre-tokenizer entry for a tokenizer.ggml.pre value (NULL: "default"), or NULL. */
static const struct pre_name *find_pre(const char *pre)
{
    for (size_t k = 0; k < sizeof k_pre_names / sizeof *k_pre_names; k++)
        if (pre ? !strcmp(pre, k_pre_names[k].name) : k == 0) return &k_pre_names[k];
    return NULL;
}

/* Applies a pre-tokenizer's options to a BPE tokenizer (defaults first, as llama.cpp). */
static void apply_pre(struct lm_tokenizer *t, const struct pre_name *p)
{
    t->pre = p->pre;
    t->clean_spaces = p->clean_spaces != 0;
    t->ignore_merges = p->ignore_merges;
    t->add_bos = p->add_bos;
}

int lm__tokenizer_set_pre(struct lm_tokenizer *t, const char *pre, int add_bos, struct lm_error *err)
{
    if (t->kind != LM__TOK_BPE) return lm_error_set(err, LM_EINVAL, "tokenizer: not a BPE vocabulary");
    const struct pre_name *p = find_pre(pre);
    if (!p) return lm_error_set(err, LM_ENOTSUP, "tokenizer: unknown pre-tokenizer type '%s'", pre);
    lm__bpe_free_pre(t);
    apply_pre(t, p);
    set_bool(&t->add_bos, add_bos);
    if (t->add_bos && t->bos < 0) return lm_error_set(err, LM_EFORMAT, "tokenizer: add_bos_token is true, but bos_token_id is not set");
    return lm__bpe_init_pre(t, err);
}

int lm_tokenizer_from_spec(const struct lm_tokenizer_spec *s, struct lm_tokenizer **out, struct lm_error *err)
{
    *out = NULL;
    if (!s || !s->model) return lm_error_set(err, LM_EINVAL, "tokenizer: no tokenizer.ggml.model");
    if (!s->tokens || s->n_tokens == 0) return lm_error_set(err, LM_EFORMAT, "tokenizer: tokenizer.ggml.tokens is missing or empty");
    if (s->n_tokens > (size_t)INT32_MAX / 4) return lm_error_set(err, LM_ETOOBIG, "tokenizer: %zu tokens is too many", s->n_tokens);
    struct lm_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return lm_error_set(err, LM_ENOMEM, "tokenizer: out of memory");
    int32_t d_bos, d_eos, d_unk, d_sep, d_pad, d_mask;
    int rc;
    t->lowercase = true;
    if (!strcmp(s->model, "llama")) {
        t->kind = LM__TOK_SPM;
        d_bos = 1, d_eos = 2, d_unk = 0, d_sep = -1, d_pad = -1, d_mask = -1;
        t->add_space_prefix = true;
        t->add_bos = true;
    } else if (!strcmp(s->model, "bert")) {
        t->kind = LM__TOK_WPM;
        d_bos = 101, d_eos = -1, d_unk = 100, d_sep = 102, d_pad = 0, d_mask = 103;
        t->add_bos = true;
        t->add_sep = true;
        t->clean_spaces = true;
    } else if (!strcmp(s->model, "gpt2")) {
        t->kind = LM__TOK_BPE;
        d_bos = 11, d_eos = 11, d_unk = -1, d_sep = -1, d_pad = -1, d_mask = -1;
        const char *pre = s->pre && *s->pre ? s->pre : NULL;
        if (!pre) LM_LOG_WARN("tokenizer: missing pre-tokenizer type, using 'default'");
        const struct pre_name *p = find_pre(pre);
        if (!p) {
            lm_tokenizer_free(t);
            return lm_error_set(err, LM_ENOTSUP, "tokenizer: unknown pre-tokenizer type '%s'", pre);
        }
        apply_pre(t, p);
        if (t->pre == LM__PRE_CHATGLM4) d_bos = -1;
    } else {
        lm_tokenizer_free(t);
        return lm_error_set(err, LM_ENOTSUP, "tokenizer: unknown tokenizer model '%s'", s->model);
    }
    set_bool(&t->add_space_prefix, s->add_space_prefix);
    set_bool(&t->remove_extra_ws, s->remove_extra_ws);

    if ((rc = build_vocab(t, s, err)) < 0) goto fail;
    if (t->kind == LM__TOK_BPE) {
        if (!s->merges) {
            rc = lm_error_set(err, LM_EFORMAT, "tokenizer: tokenizer.ggml.merges is missing");
            goto fail;
        }
        if ((rc = build_merges(t, s, err)) < 0) goto fail;
        if ((rc = lm__bpe_init_pre(t, err)) < 0) goto fail;
    }
    t->bos = special_id(s->bos, d_bos, t->n);
    t->eos = special_id(s->eos, d_eos, t->n);
    t->eot = special_id(s->eot, -1, t->n);
    t->eom = special_id(s->eom, -1, t->n);
    t->unk = special_id(s->unk, d_unk, t->n);
    t->sep = special_id(s->sep, d_sep, t->n);
    t->pad = special_id(s->pad, d_pad, t->n);
    t->mask = special_id(s->mask, d_mask, t->n);
    set_bool(&t->add_bos, s->add_bos);
    set_bool(&t->add_eos, s->add_eos);
    set_bool(&t->add_sep, s->add_sep);
    if (t->add_bos && t->bos < 0) {
        rc = lm_error_set(err, LM_EFORMAT, "tokenizer: add_bos_token is true, but bos_token_id is not set");
        goto fail;
    }
    if (t->add_eos && t->eos < 0) {
        rc = lm_error_set(err, LM_EFORMAT, "tokenizer: add_eos_token is true, but eos_token_id is not set");
        goto fail;
    }
    if (t->kind == LM__TOK_WPM && (t->bos < 0 || t->sep < 0 || t->unk < 0)) {
        rc = lm_error_set(err, LM_EFORMAT, "tokenizer: bert vocabulary needs cls, sep and unknown ids");
        goto fail;
    }
    set_bool(&t->lowercase, s->lowercase);
    t->strip_accents = t->lowercase;
    set_bool(&t->strip_accents, s->strip_accents);
    if ((rc = fixup_specials(t)) < 0) {
        lm_error_set(err, rc, "tokenizer: out of memory");
        goto fail;
    }
    strip_attrs(t, s);
    if ((rc = lm__build_piece_cache(t)) < 0) {
        lm_error_set(err, rc, "tokenizer: out of memory");
        goto fail;
    }
    *out = t;
    return 0;
fail:
    lm_tokenizer_free(t);
    return rc;
}

/* ---- special-token partitioning --------------------------------------------------------- */

struct frag {
    int32_t id;      /* -1: raw text */
    size_t off, len;
};
struct frags {
    struct frag *v;
    size_t n, cap;
};

static int frags_push(struct frags *f, int32_t id, size_t off, size_t len)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        struct frag *v = realloc(f->v, cap * sizeof *v);
        if (!v) return LM_ENOMEM;
        f->v = v;
        f->cap = cap;
    }
    f->v[f->n++] = (struct frag){id, off, len};
    return 0;
}

/* Splits the raw fragments at every occurrence of each special token in turn (longest first),
 * as llama.cpp's tokenizer_st_partition does. */
static int partition(const struct lm_tokenizer *t, const char *text, size_t len, bool parse_special, struct frags *f)
{
    if (frags_push(f, -1, 0, len) < 0) return LM_ENOMEM;
    /* which byte pairs occur in the text: vocabularies with thousands of special tokens
     * (<unused123>...) then cost one bit test each instead of a scan of the text */
    uint8_t *pairs = len >= 2 ? calloc(65536 / 8, 1) : NULL;
    if (len >= 2 && !pairs) return LM_ENOMEM;
    for (size_t i = 0; i + 1 < len; i++) {
        unsigned v = (unsigned)(unsigned char)text[i] << 8 | (unsigned char)text[i + 1];
        pairs[v >> 3] |= (uint8_t)(1u << (v & 7));
    }
    struct frags nf = {0};
    for (int k = 0; k < t->n_special; k++) {
        int32_t id = t->special[k];
        if (!parse_special && (t->attr[id] & (LM__ATTR_CONTROL | LM__ATTR_UNKNOWN))) continue;
        const char *st = t->text[id];
        size_t sl = t->len[id];
        if (sl > len) continue;
        if (sl >= 2) {
            unsigned v = (unsigned)(unsigned char)st[0] << 8 | (unsigned char)st[1];
            if (!(pairs[v >> 3] & (1u << (v & 7)))) continue;
        }
        if (!memmem(text, len, st, sl)) continue;
        nf.n = 0;
        for (size_t i = 0; i < f->n; i++) {
            struct frag fr = f->v[i];
            if (fr.id >= 0) {
                if (frags_push(&nf, fr.id, 0, 0) < 0) goto oom;
                continue;
            }
            size_t off = fr.off, rem = fr.len;
            while (rem > 0) {
                const char *m = rem >= sl ? memmem(text + off, rem, st, sl) : NULL;
                if (!m) {
                    if (frags_push(&nf, -1, off, rem) < 0) goto oom;
                    break;
                }
                size_t pos = (size_t)(m - text), llen = pos - off;
                if (t->attr[id] & LM__ATTR_LSTRIP)
                    while (llen > 0 && isspace((unsigned char)text[off + llen - 1])) llen--;
                if (llen > 0 && frags_push(&nf, -1, off, llen) < 0) goto oom;
                if (frags_push(&nf, id, 0, 0) < 0) goto oom;
                rem -= pos - off + sl;
                off = pos + sl;
                if (t->attr[id] & LM__ATTR_RSTRIP)
                    while (rem > 0 && isspace((unsigned char)text[off])) off++, rem--;
            }
        }
        struct frags tmp = *f;
        *f = nf;
        nf = tmp;
    }
    free(nf.v);
    free(pairs);
    return 0;
oom:
    free(nf.v);
    free(pairs);
    return LM_ENOMEM;
}

int lm_tokenize(const struct lm_tokenizer *t, const char *text, size_t len, bool add_special, bool parse_special,
                int32_t **out, size_t *n, struct lm_error *err)
{
    *out = NULL;
    *n = 0;
    struct frags f = {0};
    struct lm__ids ids = {0};
    char *buf = NULL;
    int rc = 0;
    if (len > (size_t)INT32_MAX) return lm_error_set(err, LM_ETOOBIG, "tokenize: text of %zu bytes is too long", len);
    if (len > 0 && (rc = partition(t, text, len, parse_special, &f)) < 0) goto done;
    switch (t->kind) {
    case LM__TOK_SPM: {
        bool prev_special = true;  /* the first text gets the space prefix too */
        if (add_special && t->add_bos && (rc = lm__ids_push(&ids, t->bos)) < 0) goto done;
        for (size_t i = 0; i < f.n; i++) {
            if (f.v[i].id >= 0) {
                if ((rc = lm__ids_push(&ids, f.v[i].id)) < 0) goto done;
                prev_special = true;
                continue;
            }
            /* escape spaces as U+2581, with the prefix space when the previous piece was special */
            const char *s = text + f.v[i].off;
            size_t sl = f.v[i].len, k = 0;
            free(buf);
            buf = malloc(sl * 3 + 4);
            if (!buf) { rc = LM_ENOMEM; goto done; }
            if (t->add_space_prefix && prev_special) {
                memcpy(buf, "\xe2\x96\x81", 3);
                k = 3;
            }
            for (size_t j = 0; j < sl; j++) {
                if (s[j] == ' ') {
                    memcpy(buf + k, "\xe2\x96\x81", 3);
                    k += 3;
                } else {
                    buf[k++] = s[j];
                }
            }
            if ((rc = lm__spm_tokenize(t, buf, k, &ids)) < 0) goto done;
            prev_special = false;
        }
        if (add_special && t->add_eos && (rc = lm__ids_push(&ids, t->eos)) < 0) goto done;
        break;
    }
    case LM__TOK_BPE:
        if (add_special && t->add_bos && (rc = lm__ids_push(&ids, t->bos)) < 0) goto done;
        for (size_t i = 0; i < f.n; i++) {
            if (f.v[i].id >= 0) rc = lm__ids_push(&ids, f.v[i].id);
            else rc = lm__bpe_tokenize(t, text + f.v[i].off, f.v[i].len, &ids);
            if (rc < 0) goto done;
        }
        if (add_special && t->add_eos && (rc = lm__ids_push(&ids, t->eos)) < 0) goto done;
        break;
    case LM__TOK_WPM:
        if (add_special && (rc = lm__ids_push(&ids, t->bos)) < 0) goto done;
        for (size_t i = 0; i < f.n; i++) {
            if (f.v[i].id >= 0) rc = lm__ids_push(&ids, f.v[i].id);
            else rc = lm__wpm_tokenize(t, text + f.v[i].off, f.v[i].len, &ids);
            if (rc < 0) goto done;
        }
        if (add_special && (rc = lm__ids_push(&ids, t->sep)) < 0) goto done;
        break;
    }
done:
    free(buf);
    free(f.v);
    if (rc < 0) {
        free(ids.v);
        return lm_error_set(err, rc, "tokenize: %s", lm_strerror(rc));
    }
    if (!ids.v) ids.v = malloc(sizeof *ids.v);
    if (!ids.v) return lm_error_set(err, LM_ENOMEM, "tokenize: out of memory");
    *out = ids.v;
    *n = ids.n;
    return 0;
}

/* ---- getters ----------------------------------------------------------------------------- */

int lm_tokenizer_n_vocab(const struct lm_tokenizer *t) { return t->n; }
int32_t lm_tokenizer_bos(const struct lm_tokenizer *t) { return t->bos; }
int32_t lm_tokenizer_eos(const struct lm_tokenizer *t) { return t->eos; }
int32_t lm_tokenizer_eot(const struct lm_tokenizer *t) { return t->eot; }
int32_t lm_tokenizer_cls(const struct lm_tokenizer *t) { return t->kind == LM__TOK_WPM ? t->bos : -1; }
int32_t lm_tokenizer_sep(const struct lm_tokenizer *t) { return t->sep; }
int32_t lm_tokenizer_pad(const struct lm_tokenizer *t) { return t->pad; }
int32_t lm_tokenizer_unk(const struct lm_tokenizer *t) { return t->unk; }
bool lm_tokenizer_adds_bos(const struct lm_tokenizer *t) { return t->add_bos; }
bool lm_tokenizer_adds_eos(const struct lm_tokenizer *t) { return t->add_eos; }

bool lm_tokenizer_is_eog(const struct lm_tokenizer *t, int32_t id)
{
    if (id < 0) return false;
    return bsearch(&id, t->eog, (size_t)t->n_eog, sizeof *t->eog, cmp_i32) != NULL;
}

bool lm_tokenizer_is_control(const struct lm_tokenizer *t, int32_t id)
{
    return id >= 0 && id < t->n && (t->attr[id] & LM__ATTR_CONTROL);
}

const char *lm_tokenizer_token_text(const struct lm_tokenizer *t, int32_t id)
{
    return id >= 0 && id < t->n ? t->text[id] : NULL;
}

const char *lm_tokenizer_kind(const struct lm_tokenizer *t)
{
    return t->kind == LM__TOK_SPM ? "llama" : t->kind == LM__TOK_BPE ? "gpt2" : "bert";
}
