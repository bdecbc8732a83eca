/* Tokenizer unit tests on small in-memory vocabularies (no files): SPM merges by score and byte
 * fallback, byte-level BPE merges by rank and byte round trips (invalid UTF-8 included),
 * WordPiece greedy matching and [UNK], special tokens, EOG detection, spec errors; then the
 * fixtures: arbitrary bytes never fail, concurrent use gives identical results. */
#include <pthread.h>

#include "engine/tokenizer_internal.h"
#include "lm/gguf.h"
#include "lm/tokenizer.h"
#include "lm_test.h"

#define SP "\xe2\x96\x81"

static const char *g_name;  /* general.name for the next build() */

static struct lm_tokenizer *build(const char *model, const char *pre, const char *const *toks, const float *scores,
                                  const int32_t *types, size_t n, const char *const *merges, size_t nm)
{
    struct lm_str tv[600], mv[64];
    ASSERT(n <= 600 && nm <= 64);
    for (size_t i = 0; i < n; i++) tv[i] = lm_str_c(toks[i]);
    for (size_t i = 0; i < nm; i++) mv[i] = lm_str_c(merges[i]);
    struct lm_tokenizer_spec s;
    lm_tokenizer_spec_init(&s);
    s.model = model;
    s.pre = pre;
    s.tokens = tv;
    s.n_tokens = n;
    s.scores = scores;
    s.types = types;
    s.merges = nm ? mv : NULL;
    s.n_merges = nm;
    s.name = g_name;
    struct lm_tokenizer *t = NULL;
    struct lm_error err = {0};
    if (lm_tokenizer_from_spec(&s, &t, &err) < 0) LM_FAIL_("from_spec: %s", err.msg);
    return t;
}

/* Tokenises and returns the ids as "a b c" in a static buffer. */
static const char *ids_of(const struct lm_tokenizer *t, const char *text, size_t len, bool add, bool special)
{
    static char out[4096];
    int32_t *ids;
    size_t n;
    struct lm_error err = {0};
    ASSERT_OK(lm_tokenize(t, text, len, add, special, &ids, &n, &err));
    size_t k = 0;
    out[0] = 0;
    for (size_t i = 0; i < n && k < sizeof out - 16; i++) k += (size_t)snprintf(out + k, sizeof out - k, "%s%d", i ? " " : "", ids[i]);
    free(ids);
    return out;
}

/* Round trip: detokenize(tokenize(text)) as a new string. */
static char *round_trip(const struct lm_tokenizer *t, const char *text, size_t len)
{
    int32_t *ids;
    size_t n;
    struct lm_error err = {0};
    ASSERT_OK(lm_tokenize(t, text, len, false, false, &ids, &n, &err));
    struct lm_buf b = {0};
    ASSERT_OK(lm_detokenize(t, ids, n, false, &b));
    free(ids);
    if (!b.data) lm_buf_append(&b, "", 0);
    return lm_buf_take(&b);
}

/* SPM: 0 <unk>, 1 <s>, 2 </s>, 3..258 <0x00>..<0xFF>, then pieces. */
static struct lm_tokenizer *spm_vocab(void)
{
    static const char *toks[300];
    static float scores[300];
    static int32_t types[300];
    static char bytes[256][8];
    size_t n = 0;
    toks[n] = "<unk>", types[n++] = 2;
    toks[n] = "<s>", types[n++] = 3;
    toks[n] = "</s>", types[n++] = 3;
    for (int b = 0; b < 256; b++) {
        snprintf(bytes[b], sizeof bytes[b], "<0x%02X>", b);
        toks[n] = bytes[b], types[n++] = 6;
    }
    static const char *pieces[] = {SP, "h", "e", "l", "o", SP "h", SP "he", "ll", "llo", SP "hello", "w", "r", "d", SP "w", "or", "ld", SP "world", "<|im_end|>", SP "wor"};
    static const float ps[] = {-1, -2, -2, -2, -2, -3, -4, -3, -5, -6, -2, -2, -2, -3, -4, -4, -7, 0, -5};
    for (size_t i = 0; i < sizeof pieces / sizeof *pieces; i++) toks[n] = pieces[i], scores[n] = ps[i], types[n++] = 1;
    return build("llama", NULL, toks, scores, types, n, NULL, 0);
}

static void test_spm(void)
{
    struct lm_tokenizer *t = spm_vocab();
    int32_t hello = 259 + 9, world = 259 + 16;
    char want[64];
    snprintf(want, sizeof want, "1 %d %d", hello, world);
    ASSERT_STR_EQ(ids_of(t, "hello world", 11, true, false), want);
    ASSERT(lm_tokenizer_adds_bos(t) && !lm_tokenizer_adds_eos(t));
    /* byte fallback: U+00E9 is not a piece -> <0xC3><0xA9> */
    snprintf(want, sizeof want, "%d %d %d", 259, 3 + 0xC3, 3 + 0xA9);
    ASSERT_STR_EQ(ids_of(t, "\xc3\xa9", 2, false, false), want);
    /* "<s>" is text unless parse_special */
    ASSERT(strcmp(ids_of(t, "<s>", 3, false, true), "1") == 0);
    ASSERT(strcmp(ids_of(t, "<s>", 3, false, false), "1") != 0);
    /* round trips, including bytes that are not UTF-8 */
    char *r = round_trip(t, "hello world", 11);
    ASSERT_STR_EQ(r, "hello world");
    free(r);
    r = round_trip(t, "x\xff\xc3yz  w", 8);
    ASSERT(memcmp(r, "x\xff\xc3yz  w", 9) == 0);
    free(r);
    /* <|im_end|> (normal type in the vocabulary) is made a control, end-of-generation token */
    int32_t im_end = 259 + 17;
    ASSERT(lm_tokenizer_is_eog(t, im_end));
    ASSERT(lm_tokenizer_is_eog(t, 2));
    ASSERT(!lm_tokenizer_is_eog(t, hello));
    ASSERT_EQ(lm_tokenizer_eot(t), im_end);
    struct lm_buf b = {0};
    ASSERT_OK(lm_token_to_piece(t, im_end, false, &b));
    ASSERT_EQ(b.len, 0);
    ASSERT_OK(lm_token_to_piece(t, im_end, true, &b));
    ASSERT_STR_EQ(b.data, "<|im_end|>");
    ASSERT_EQ(lm_token_to_piece(t, 100000, true, &b), LM_EINVAL);
    ASSERT_EQ(lm_token_to_piece(t, -1, true, &b), LM_EINVAL);
    lm_buf_free(&b);
    lm_tokenizer_free(t);
}

/* BPE: the 256 byte stand-ins, then merged pieces. */
static struct lm_tokenizer *bpe_vocab(const char *pre)
{
    static const char *toks[300];
    static char bytes[256][4];
    size_t n = 0;
    for (int b = 0; b < 256; b++) {
        size_t k = lm__utf8_put(lm__bytelevel_cpt((unsigned char)b), bytes[b]);
        bytes[b][k] = 0;
        toks[n++] = bytes[b];
    }
    static const char *pieces[] = {"he", "ll", "hell", "hello", "\xc4\xa0w", "\xc4\xa0wo", "<|endoftext|>"};
    for (size_t i = 0; i < 7; i++) toks[n++] = pieces[i];
    static const char *merges[] = {"h e", "l l", "he ll", "hell o", "\xc4\xa0 w", "\xc4\xa0w o"};
    return build("gpt2", pre, toks, NULL, NULL, n, merges, 6);
}

/* Phi-3 models (by general.name) drop the white space after special tokens, as llama.cpp. */
static void test_rstrip(void)
{
    struct lm_tokenizer *plain = spm_vocab();
    g_name = "Phi-3 Mini Instruct phi3";
    struct lm_tokenizer *phi = spm_vocab();
    g_name = NULL;
    char want[64];
    int32_t im_end = 259 + 17, hello = 259 + 9;
    /* after the special token: "\n  hello" keeps its spaces normally, loses them for Phi-3 */
    const char *text = "<|im_end|>  hello";
    snprintf(want, sizeof want, "%d %d", im_end, hello);
    ASSERT_STR_EQ(ids_of(phi, text, strlen(text), false, true), want);
    ASSERT(strcmp(ids_of(plain, text, strlen(text), false, true), want) != 0);
    /* </s> strips too, <s> does not */
    text = "</s>  hello";
    snprintf(want, sizeof want, "2 %d", hello);
    ASSERT_STR_EQ(ids_of(phi, text, strlen(text), false, true), want);
    text = "<s>  hello";
    char first[256];
    snprintf(first, sizeof first, "%s", ids_of(phi, text, strlen(text), false, true));
    ASSERT_STR_EQ(first, ids_of(plain, text, strlen(text), false, true));
    ASSERT(strchr(first, ' ') != NULL && strcmp(first, want) != 0);
    lm_tokenizer_free(plain);
    lm_tokenizer_free(phi);
}

static void test_bpe(void)
{
    struct lm_tokenizer *t = bpe_vocab("gpt-2");
    /* "hello wo" -> hello, Ġwo ; "hell" via ranks */
    ASSERT_STR_EQ(ids_of(t, "hello wo", 8, false, false), "259 261");
    ASSERT_STR_EQ(ids_of(t, "hell", 4, false, false), "258");
    ASSERT(!lm_tokenizer_adds_bos(t));
    /* every byte string survives a round trip; invalid UTF-8 becomes U+FFFD like llama.cpp */
    char *r = round_trip(t, "a\x01\x7f b\t\n", 7);
    ASSERT(memcmp(r, "a\x01\x7f b\t\n", 7) == 0);
    free(r);
    r = round_trip(t, "x\xffy", 3);
    ASSERT_STR_EQ(r, "x\xef\xbf\xbdy");
    free(r);
    /* <|endoftext|> is detected as end-of-generation and parsed only with parse_special */
    ASSERT(lm_tokenizer_is_eog(t, 262));
    ASSERT_STR_EQ(ids_of(t, "<|endoftext|>", 13, false, true), "262");
    ASSERT(strcmp(ids_of(t, "<|endoftext|>", 13, false, false), "262") != 0);
    lm_tokenizer_free(t);
    /* each supported pre-tokenizer builds */
    static const char *const pres[] = {"default", "llama3", "llama-bpe", "qwen2", "smollm", "falcon", "gpt-4o", "tekken", "glm4", "starcoder", NULL};
    for (int i = 0; pres[i]; i++) {
        t = bpe_vocab(pres[i]);
        r = round_trip(t, "Hello 123 world!\n\n  x", 21);
        ASSERT_STR_EQ(r, "Hello 123 world!\n\n  x");
        free(r);
        lm_tokenizer_free(t);
    }
}

static void test_wpm(void)
{
    static const char *toks[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", SP "hello", SP "world", SP "un", "aff", "able",
                                 SP ",", SP "!", SP "cafe", SP "\xe4\xbd\xa0"};
    static const int32_t types[] = {3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    struct lm_tokenizer_spec s;
    struct lm_str tv[14];
    for (int i = 0; i < 14; i++) tv[i] = lm_str_c(toks[i]);
    lm_tokenizer_spec_init(&s);
    s.model = "bert";
    s.tokens = tv;
    s.n_tokens = 14;
    s.types = types;
    s.bos = 2, s.sep = 3, s.unk = 1, s.pad = 0, s.mask = 4;
    struct lm_tokenizer *t;
    struct lm_error err = {0};
    ASSERT_OK(lm_tokenizer_from_spec(&s, &t, &err));
    ASSERT_EQ(lm_tokenizer_cls(t), 2);
    ASSERT_STR_EQ(ids_of(t, "Hello, WORLD!", 13, true, false), "2 5 10 6 11 3");
    ASSERT_STR_EQ(ids_of(t, "unaffable", 9, false, false), "7 8 9");
    ASSERT_STR_EQ(ids_of(t, "unaffablex", 10, false, false), "1");      /* no full match -> [UNK] */
    ASSERT_STR_EQ(ids_of(t, "Caf\xc3\xa9\xe4\xbd\xa0", 8, false, false), "12 13");  /* accents stripped, CJK split */
    ASSERT_STR_EQ(ids_of(t, "[MASK] hello", 12, false, true), "4 5");
    struct lm_buf b = {0};
    int32_t ids[] = {2, 5, 10, 6, 3};
    ASSERT_OK(lm_detokenize(t, ids, 5, false, &b));
    ASSERT_STR_EQ(b.data, " hello, world");
    lm_buf_free(&b);
    lm_tokenizer_free(t);
}

/* llama.cpp's end-of-generation exceptions: with <|return|> and <|call|> present, <|end|> only
 * ends a message (user-defined, not EOG); <|eot_id|>-style texts become control + EOG. */
static void test_eog(void)
{
    static const char *toks[] = {"a", "b", "<|end|>", "<|return|>", "<|call|>", "<|eot_id|>", "<|start|>"};
    static const int32_t types[] = {1, 1, 3, 3, 3, 1, 3};
    static const char *merges[] = {"a b"};
    struct lm_tokenizer *t = build("gpt2", "gpt-2", toks, NULL, types, 7, merges, 1);
    ASSERT(!lm_tokenizer_is_eog(t, 2));
    ASSERT(lm_tokenizer_is_eog(t, 3) && lm_tokenizer_is_eog(t, 4) && lm_tokenizer_is_eog(t, 5));
    ASSERT(!lm_tokenizer_is_eog(t, 6));
    ASSERT(lm_tokenizer_is_control(t, 5));  /* normal in the vocabulary, made control */
    ASSERT(!lm_tokenizer_is_control(t, 2) && !lm_tokenizer_is_control(t, 6));  /* user-defined now */
    /* user-defined tokens are split out even without parse_special */
    ASSERT_STR_EQ(ids_of(t, "<|start|>", 9, false, false), "6");
    lm_tokenizer_free(t);
    /* without <|return|>/<|call|>, <|end|> ends generation */
    struct lm_tokenizer *u = build("gpt2", "gpt-2", toks, NULL, types, 3, merges, 1);
    ASSERT(lm_tokenizer_is_eog(u, 2));
    struct lm_error err = {0};
    ASSERT_EQ(lm__tokenizer_set_pre(u, "no-such", -1, &err), LM_ENOTSUP);
    ASSERT_OK(lm__tokenizer_set_pre(u, "qwen2", -1, &err));
    ASSERT_STR_EQ(ids_of(u, "ab", 2, false, false), "0 1");  /* "ab" merges but is no token: bytes */
    lm_tokenizer_free(u);
}

static void test_spec_errors(void)
{
    struct lm_tokenizer_spec s;
    struct lm_tokenizer *t = NULL;
    struct lm_error err = {0};
    struct lm_str toks[] = {LM_STR("a"), LM_STR("b"), LM_STR("a")};
    lm_tokenizer_spec_init(&s);
    s.model = "llama";
    s.tokens = toks;
    s.n_tokens = 3;
    ASSERT_EQ(lm_tokenizer_from_spec(&s, &t, &err), LM_EFORMAT);  /* duplicate */
    ASSERT(strstr(err.msg, "duplicate") != NULL);
    s.n_tokens = 2;
    s.model = "t5x";
    ASSERT_EQ(lm_tokenizer_from_spec(&s, &t, &err), LM_ENOTSUP);
    s.model = "gpt2";
    ASSERT_EQ(lm_tokenizer_from_spec(&s, &t, &err), LM_EFORMAT);  /* no merges */
    struct lm_str merges[] = {LM_STR("a b")};
    s.merges = merges;
    s.n_merges = 1;
    s.pre = "no-such-pre";
    ASSERT_EQ(lm_tokenizer_from_spec(&s, &t, &err), LM_ENOTSUP);
    s.pre = "gpt-2";
    s.add_bos = 1;
    s.bos = 5;  /* out of range: default 11 is out of range too -> no bos */
    ASSERT_EQ(lm_tokenizer_from_spec(&s, &t, &err), LM_EFORMAT);
    s.add_bos = -1;
    ASSERT_OK(lm_tokenizer_from_spec(&s, &t, &err));
    ASSERT_EQ(lm_tokenizer_bos(t), -1);
    lm_tokenizer_free(t);
    s.model = NULL;
    ASSERT_EQ(lm_tokenizer_from_spec(&s, &t, &err), LM_EINVAL);
}

/* ---- fixtures ------------------------------------------------------------------------------ */

static struct lm_tokenizer *load_fixture(const char *name)
{
    struct lm_gguf *g;
    struct lm_error err = {0};
    if (lm_gguf_open(lm_test_fixture(name), &g, &err) < 0) {
        printf("SKIP: %s\n", err.msg);
        exit(77);
    }
    struct lm_tokenizer *t;
    if (lm_tokenizer_from_gguf(g, &t, &err) < 0) LM_FAIL_("%s: %s", name, err.msg);
    lm_gguf_close(g);
    return t;
}

static uint64_t rng = 88172645463325252ull;
static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

/* Random bytes, random UTF-8 and special-token soup: never an error, ids in range, pieces ok. */
static void check_random(const struct lm_tokenizer *t)
{
    char buf[512];
    for (int iter = 0; iter < 300; iter++) {
        size_t n = next_rand() % sizeof buf;
        for (size_t i = 0; i < n; i++) {
            uint32_t r = next_rand();
            static const char soup[] = "ab <|>[]\xe2\x96\x81\xc3\xa9\n\t0";
            unsigned v = iter % 3 == 0 ? (unsigned)r : iter % 3 == 1 ? (unsigned char)soup[r % 16] : (r & 0x7f) | ((r >> 8) & 0x80);
            buf[i] = (char)v;
        }
        int32_t *ids;
        size_t m;
        struct lm_error err = {0};
        ASSERT_OK(lm_tokenize(t, buf, n, iter & 1, iter & 2, &ids, &m, &err));
        for (size_t i = 0; i < m; i++) ASSERT(ids[i] >= 0 && ids[i] < lm_tokenizer_n_vocab(t));
        struct lm_buf b = {0};
        ASSERT_OK(lm_detokenize(t, ids, m, iter & 4, &b));
        lm_buf_free(&b);
        free(ids);
    }
}

struct thr {
    const struct lm_tokenizer *t;
    const char *text;
    char result[8192];
};

static void *thr_main(void *p)
{
    struct thr *a = p;
    for (int k = 0; k < 20; k++) {
        int32_t *ids;
        size_t n, len = 0;
        struct lm_error err = {0};
        if (lm_tokenize(a->t, a->text, strlen(a->text), true, true, &ids, &n, &err) < 0) return NULL;
        a->result[0] = 0;
        for (size_t i = 0; i < n && len < sizeof a->result - 16; i++)
            len += (size_t)snprintf(a->result + len, sizeof a->result - len, " %d", ids[i]);
        free(ids);
    }
    return NULL;
}

static void test_fixtures(void)
{
    static const char *const names[] = {"llama-2-tiny-random.gguf", "llama3-vocab-tiny.gguf", "bert-uncased-vocab-tiny.gguf"};
    for (int i = 0; i < 3; i++) {
        struct lm_tokenizer *t = load_fixture(names[i]);
        check_random(t);
        /* the same text from 4 threads at once gives the same ids */
        struct thr th[4];
        pthread_t tid[4];
        for (int k = 0; k < 4; k++) {
            th[k].t = t;
            th[k].text = "Concurrent tokenisation: caf\xc3\xa9, \xe4\xbd\xa0\xe5\xa5\xbd, 12345, <|eot_id|> <s> [CLS] done.";
            ASSERT_EQ(pthread_create(&tid[k], NULL, thr_main, &th[k]), 0);
        }
        for (int k = 0; k < 4; k++) pthread_join(tid[k], NULL);
        for (int k = 1; k < 4; k++) ASSERT_STR_EQ(th[k].result, th[0].result);
        lm_tokenizer_free(t);
    }
}

int main(void)
{
    RUN_TEST(test_spm);
    RUN_TEST(test_rstrip);
    RUN_TEST(test_bpe);
    RUN_TEST(test_wpm);
    RUN_TEST(test_eog);
    RUN_TEST(test_spec_errors);
    RUN_TEST(test_fixtures);
    return 0;
}
