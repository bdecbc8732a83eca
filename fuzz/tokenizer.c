/* Fuzz target for the tokenizers: arbitrary bytes through SentencePiece, byte-level BPE (several
 * pre-tokenizers, custom splitters and the PCRE2 path) and WordPiece vocabularies built here in
 * code, with and without special-token parsing, then detokenised and rendered piece by piece.
 * Input: byte 0 picks the vocabulary, byte 1 the flags, the rest is the text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tokenizer_internal.h"
#include "lm/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SP "\xe2\x96\x81"
#define NKIND 10

static struct lm_tokenizer *g_tok[NKIND];

static const char *const k_words[] = {
    "the", "he", "hello", "world", "in", "on", "an", "ing", "er", "re", "at", "es", "or", "ll", "lo", "wor", "ld", "12", "123",
    "\xc3\xa9", "caf", "\xe4\xbd\xa0", "\xe5\xa5\xbd", "\xf0\x9f\x98\x80", "a", "b", "c", "d", "e", "h", "l", "o", "r", "w",
};
#define NWORDS (sizeof k_words / sizeof *k_words)

/* SPM: controls, byte tokens, words with and without the space marker. */
static struct lm_tokenizer *make_spm(bool space_prefix)
{
    static char bytes[256][8];
    static char words[2 * NWORDS][32];
    struct lm_str tv[300 + 2 * NWORDS];
    float sc[300 + 2 * NWORDS];
    int32_t ty[300 + 2 * NWORDS];
    size_t n = 0;
    tv[n] = LM_STR("<unk>"), sc[n] = 0, ty[n++] = 2;
    tv[n] = LM_STR("<s>"), sc[n] = 0, ty[n++] = 3;
    tv[n] = LM_STR("</s>"), sc[n] = 0, ty[n++] = 3;
    tv[n] = LM_STR("<start_of_turn>"), sc[n] = 0, ty[n++] = 3;
    tv[n] = LM_STR("<user_tok>"), sc[n] = 0, ty[n++] = 4;
    tv[n] = LM_STR(SP), sc[n] = -1, ty[n++] = 1;
    for (int b = 0; b < 256; b++) {
        snprintf(bytes[b], sizeof bytes[b], "<0x%02X>", b);
        tv[n] = lm_str_c(bytes[b]), sc[n] = 0, ty[n++] = 6;
    }
    for (size_t i = 0; i < NWORDS; i++) {
        snprintf(words[2 * i], 32, "%s", k_words[i]);
        snprintf(words[2 * i + 1], 32, SP "%s", k_words[i]);
        tv[n] = lm_str_c(words[2 * i]), sc[n] = -(float)strlen(k_words[i]), ty[n++] = 1;
        tv[n] = lm_str_c(words[2 * i + 1]), sc[n] = -(float)i, ty[n++] = 1;
    }
    struct lm_tokenizer_spec s;
    lm_tokenizer_spec_init(&s);
    s.model = "llama";
    s.tokens = tv;
    s.n_tokens = n;
    s.scores = sc;
    s.types = ty;
    s.add_space_prefix = space_prefix;
    s.add_eos = 1;
    struct lm_tokenizer *t = NULL;
    return lm_tokenizer_from_spec(&s, &t, NULL) < 0 ? NULL : t;
}

/* BPE: the 256 byte stand-ins, pair merges building the words, specials. */
static struct lm_tokenizer *make_bpe(const char *pre)
{
    static char bytes[256][4];
    static char pieces[NWORDS * 8][48];
    static char merges[NWORDS * 8][64];
    struct lm_str tv[300 + NWORDS * 8], mv[NWORDS * 8];
    size_t n = 0, nm = 0, np = 0;
    for (int b = 0; b < 256; b++) {
        size_t k = lm__utf8_put(lm__bytelevel_cpt((unsigned char)b), bytes[b]);
        bytes[b][k] = 0;
        tv[n++] = lm_str_c(bytes[b]);
    }
    /* merges for each word, left to right: w[0..1], w[0..2], ... (byte-level encoded) */
    for (size_t w = 0; w < NWORDS && np + 8 < NWORDS * 8; w++) {
        char enc[48];
        size_t el = 0, starts[16], ns = 0;
        for (const unsigned char *p = (const unsigned char *)k_words[w]; *p && ns < 15; p++) {
            starts[ns++] = el;
            el += lm__utf8_put(lm__bytelevel_cpt(*p), enc + el);
        }
        starts[ns] = el;
        for (size_t j = 2; j <= ns && np + 1 < NWORDS * 8; j++) {
            snprintf(pieces[np], 48, "%.*s", (int)starts[j], enc);
            bool dup = false;
            for (size_t q = 0; q < n; q++) dup |= tv[q].len == strlen(pieces[np]) && !memcmp(tv[q].ptr, pieces[np], tv[q].len);
            if (dup) continue;
            snprintf(merges[nm], 64, "%.*s %.*s", (int)starts[j - 1], enc, (int)(starts[j] - starts[j - 1]), enc + starts[j - 1]);
            mv[nm] = lm_str_c(merges[nm]);
            nm++;
            tv[n++] = lm_str_c(pieces[np++]);
        }
    }
    tv[n++] = LM_STR("<|endoftext|>");
    tv[n++] = LM_STR("<|im_start|>");
    tv[n++] = LM_STR("<|im_end|>");
    int32_t ty[300 + NWORDS * 8];
    for (size_t i = 0; i < n; i++) ty[i] = i + 3 >= n ? 3 : 1;
    struct lm_tokenizer_spec s;
    lm_tokenizer_spec_init(&s);
    s.model = "gpt2";
    s.pre = pre;
    s.tokens = tv;
    s.n_tokens = n;
    s.types = ty;
    s.merges = mv;
    s.n_merges = nm;
    s.bos = (int64_t)n - 3;
    s.eos = (int64_t)n - 1;
    struct lm_tokenizer *t = NULL;
    return lm_tokenizer_from_spec(&s, &t, NULL) < 0 ? NULL : t;
}

static struct lm_tokenizer *make_wpm(void)
{
    static char words[2 * NWORDS][32];
    struct lm_str tv[8 + 2 * NWORDS];
    int32_t ty[8 + 2 * NWORDS];
    size_t n = 0;
    static const char *const ctl[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    for (int i = 0; i < 5; i++) tv[n] = lm_str_c(ctl[i]), ty[n++] = 3;
    for (size_t i = 0; i < NWORDS; i++) {
        snprintf(words[2 * i], 32, SP "%s", k_words[i]);
        tv[n] = lm_str_c(words[2 * i]), ty[n++] = 1;
        if (strlen(k_words[i]) > 1) {
            snprintf(words[2 * i + 1], 32, "%s", k_words[i]);
            tv[n] = lm_str_c(words[2 * i + 1]), ty[n++] = 1;
        }
    }
    tv[n] = LM_STR(SP "!"), ty[n++] = 1;
    tv[n] = LM_STR(SP ","), ty[n++] = 1;
    struct lm_tokenizer_spec s;
    lm_tokenizer_spec_init(&s);
    s.model = "bert";
    s.tokens = tv;
    s.n_tokens = n;
    s.types = ty;
    s.pad = 0, s.unk = 1, s.bos = 2, s.sep = 3, s.mask = 4;
    struct lm_tokenizer *t = NULL;
    return lm_tokenizer_from_spec(&s, &t, NULL) < 0 ? NULL : t;
}

static void init(void)
{
    if (g_tok[0]) return;
    g_tok[0] = make_spm(true);
    g_tok[1] = make_spm(false);
    g_tok[2] = make_bpe("llama-bpe");
    g_tok[3] = make_bpe("qwen2");
    g_tok[4] = make_bpe("default");
    g_tok[5] = make_bpe("gpt-4o");
    g_tok[6] = make_bpe("smollm");
    g_tok[7] = make_wpm();
    g_tok[8] = make_bpe("deepseek-llm");
    g_tok[9] = make_bpe("deepseek-v3");
    for (int i = 0; i < NKIND; i++)
        if (!g_tok[i]) abort();  /* a broken fuzz harness, not an input problem */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    if (size < 2) return 0;
    const struct lm_tokenizer *t = g_tok[data[0] % NKIND];
    uint8_t flags = data[1];
    const char *text = (const char *)data + 2;
    size_t len = size - 2;
    int32_t *ids = NULL;
    size_t n = 0;
    if (lm_tokenize(t, text, len, flags & 1, flags & 2, &ids, &n, NULL) < 0) return 0;
    int nv = lm_tokenizer_n_vocab(t);
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= nv) abort();
    struct lm_buf out = {0};
    if (lm_detokenize_ex(t, ids, n, flags & 4, flags & 8, &out) < 0) abort();
    for (size_t i = 0; i < n; i++)
        if (lm_token_to_piece(t, ids[i], flags & 16, &out) < 0) abort();
    /* ids from the input itself, in range or not, must not crash the detokenizer */
    if (len >= 8) {
        int32_t raw[64];
        size_t k = len / 4 < 64 ? len / 4 : 64;
        memcpy(raw, text, k * 4);
        for (size_t i = 0; i < k; i++) {
            if (raw[i] < 0 || raw[i] >= nv) raw[i] = (int32_t)((uint32_t)raw[i] % (uint32_t)nv);
        }
        lm_detokenize(t, raw, k, flags & 32, &out);
        lm_token_to_piece(t, -5, true, &out);
    }
    lm_buf_free(&out);
    free(ids);
    return 0;
}
