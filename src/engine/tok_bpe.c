/* tok_bpe.c — byte-level BPE (tokenizer.ggml.model = "gpt2") with llama.cpp's pre-tokenizers.
 *
 * Pre-tokenisation splits the text into words with the regex list chosen by tokenizer.ggml.pre.
 * Like llama.cpp, the GPT-2 and Llama-3 regexes run as hand-written splitters over code points,
 * and the other regexes run on a "collapsed" copy of the text where every code point above
 * U+007F is one byte standing for its category (letter 0xD2, number 0xD1, ...), with \p{..} in the
 * pattern rewritten to match those bytes; we compile that with PCRE2 in byte mode, which gives
 * the same matches as llama.cpp's std::regex. Each word is mapped through the GPT-2 byte table
 * and merged by rank (lowest first, ties leftmost).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tokenizer_internal.h"

enum { SPLIT_REGEX = 0, SPLIT_GPT2 = 1, SPLIT_LLAMA3 = 2 };

static const char k_re_qwen2[] =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char k_re_gpt4o[] =
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char k_re_tekken[] =
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/* The regex list of each pre-tokenizer (NULL-terminated); "@gpt2"/"@llama3" are the custom
 * splitters. */
static const char *const *pre_regexes(enum lm__pre pre)
{
    static const char *const def[] = {"[\\p{P}\\$\\+<=>\\^~\\|]+", "@gpt2", "\\p{N}+", "[0-9][0-9][0-9]", NULL};
    static const char *const llama3[] = {"@llama3", NULL};
    static const char *const gpt2[] = {"@gpt2", NULL};
    static const char *const qwen2[] = {k_re_qwen2, NULL};
    static const char *const smollm[] = {"\\p{N}", "@gpt2", NULL};
    static const char *const falcon[] = {"[\\p{P}\\$\\+<=>\\^~\\|`]+", "@gpt2", "[0-9][0-9][0-9]", NULL};
    static const char *const gpt4o[] = {k_re_gpt4o, NULL};
    static const char *const tekken[] = {k_re_tekken, NULL};
    switch (pre) {
    case LM__PRE_LLAMA3: case LM__PRE_CHATGLM4: return llama3;
    case LM__PRE_GPT2: return gpt2;
    case LM__PRE_QWEN2: return qwen2;
    case LM__PRE_SMOLLM: return smollm;
    case LM__PRE_FALCON: return falcon;
    case LM__PRE_GPT4O: return gpt4o;
    case LM__PRE_TEKKEN: return tekken;
    default: return def;
    }
}

/* Category byte of the collapsed text for a code point above U+007F. */
static unsigned char collapse_cpt(uint32_t cp, unsigned f)
{
    if (f & LM__CF_WHITESPACE) return 0x0B;
    if (f & LM__CF_NUMBER) return 0xD1;
    if (f & LM__CF_LETTER) return 0xD2;
    if (f & LM__CF_PUNCT) return 0xD3;
    if (f & LM__CF_ACCENT) return 0xD4;
    if (f & LM__CF_SYMBOL) return 0xD5;
    (void)cp;
    return 0xD0;
}

/* Rewrites \p{N} \p{L} \p{P} \p{M} \p{S} (and \p{Lu}...) into classes over the collapsed bytes,
 * the way llama.cpp does. Returns a malloc'd pattern. */
static char *collapse_regex(const char *re, size_t *out_len)
{
    size_t n = strlen(re);
    char *o = malloc(n * 8 + 16);
    if (!o) return NULL;
    size_t k = 0;
    bool inside = false;
    for (size_t i = 0; i < n; i++) {
        if (re[i] == '[' && (i == 0 || re[i - 1] != '\\')) {
            o[k++] = '[';
            inside = true;
            continue;
        }
        if (inside && re[i] == ']' && re[i - 1] != '\\') {
            o[k++] = ']';
            inside = false;
            continue;
        }
        if (re[i] == '\\' && i + 3 < n && re[i + 1] == 'p' && re[i + 2] == '{') {
            const char *close = strchr(re + i + 3, '}');
            if (close && (size_t)(close - re) <= i + 10) {
                size_t pl = (size_t)(close - re) - i + 1;
                const char *cls = NULL;
                unsigned char code = 0;
                if (pl == 5 && re[i + 3] == 'N') code = 0xD1, cls = "\x30-\x39";
                else if (pl == 5 && re[i + 3] == 'L') code = 0xD2, cls = "\x41-\x5A\x61-\x7A";
                else if (pl == 6 && re[i + 3] == 'L' && strchr("ultmo", re[i + 4])) code = 0xD2, cls = "\x41-\x5A\x61-\x7A";
                else if (pl == 5 && re[i + 3] == 'P')
                    code = 0xD3, cls = "\x21-\x23\x25-\x2A\x2C-\x2F\x3A-\x3B\x3F-\x40\\[-\\]_\\{\\}";
                else if (pl == 5 && re[i + 3] == 'M') code = 0xD4, cls = "";
                else if (pl == 5 && re[i + 3] == 'S') code = 0xD5, cls = "\\$\\+\x3C-\x3E^`\\|";
                if (cls) {
                    if (!inside) o[k++] = '[';
                    o[k++] = (char)code;
                    size_t cl = strlen(cls);
                    memcpy(o + k, cls, cl);
                    k += cl;
                    if (!inside) o[k++] = ']';
                    i += pl - 1;
                    continue;
                }
            }
        }
        o[k++] = re[i];
    }
    o[k] = 0;
    *out_len = k;
    return o;
}

int lm__bpe_init_pre(struct lm_tokenizer *t, struct lm_error *err)
{
    const char *const *list = pre_regexes(t->pre);
    t->n_regex = 0;
    for (int i = 0; list[i] && i < LM__TOK_MAX_REGEX; i++) {
        int k = t->n_regex++;
        t->regex[k] = NULL;
        if (!strcmp(list[i], "@gpt2")) {
            t->regex_custom[k] = SPLIT_GPT2;
            continue;
        }
        if (!strcmp(list[i], "@llama3")) {
            t->regex_custom[k] = SPLIT_LLAMA3;
            continue;
        }
        t->regex_custom[k] = SPLIT_REGEX;
        size_t pl;
        char *pat = collapse_regex(list[i], &pl);
        if (!pat) return lm_error_set(err, LM_ENOMEM, "tokenizer: out of memory");
        int ec;
        PCRE2_SIZE eo;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, pl, 0, &ec, &eo, NULL);
        free(pat);
        if (!re) {
            PCRE2_UCHAR msg[128];
            pcre2_get_error_message(ec, msg, sizeof msg);
            return lm_error_set(err, LM_EINVAL, "tokenizer: pre-tokenizer regex %d: %s", i, (char *)msg);
        }
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
        t->regex[k] = re;
    }
    return 0;
}

void lm__bpe_free_pre(struct lm_tokenizer *t)
{
    for (int i = 0; i < t->n_regex; i++) pcre2_code_free(t->regex[i]);
    t->n_regex = 0;
}

/* ---- word splitting ---------------------------------------------------------------------- */

struct offs {
    size_t *v;
    size_t n, cap;
};

static int offs_push(struct offs *o, size_t len)
{
    if (len == 0) return 0;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        size_t *v = realloc(o->v, cap * sizeof *v);
        if (!v) return LM_ENOMEM;
        o->v = v;
        o->cap = cap;
    }
    o->v[o->n++] = len;
    return 0;
}

/* The code points and flags of the fragment; positions outside [ini, end) read as absent. */
struct cview {
    const uint32_t *cp;
    const unsigned *fl;
    size_t ini, end;
};
#define OUT_OF_RANGE 0xFFFFFFFFu
static uint32_t cv_cpt(const struct cview *c, size_t p) { return p >= c->ini && p < c->end ? c->cp[p] : OUT_OF_RANGE; }
static unsigned cv_fl(const struct cview *c, size_t p) { return p >= c->ini && p < c->end ? c->fl[p] : 0; }

/* Splitter state: adds the token ending at `end`. */
struct spl {
    struct offs *o;
    size_t prev_end;
    int rc;
};
static size_t spl_add(struct spl *s, size_t end)
{
    size_t len = end - s->prev_end;
    if (offs_push(s->o, len) < 0) s->rc = LM_ENOMEM;
    s->prev_end = end;
    return len;
}

#define IS_WS(f) ((f) & LM__CF_WHITESPACE)
#define IS_L(f) ((f) & LM__CF_LETTER)
#define IS_N(f) ((f) & LM__CF_NUMBER)

/* GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
static void split_gpt2(const struct cview *c, struct spl *s)
{
    for (size_t pos = c->ini; pos < c->end;) {
        uint32_t cpt = cv_cpt(c, pos);
        unsigned flags = cv_fl(c, pos);
        if (cpt == '\'' && pos + 1 < c->end) {
            uint32_t nx = cv_cpt(c, pos + 1);
            if (nx == 's' || nx == 't' || nx == 'm' || nx == 'd') {
                pos += spl_add(s, pos + 2);
                continue;
            }
            if (pos + 2 < c->end) {
                uint32_t nn = cv_cpt(c, pos + 2);
                if ((nx == 'r' && nn == 'e') || (nx == 'v' && nn == 'e') || (nx == 'l' && nn == 'l')) {
                    pos += spl_add(s, pos + 3);
                    continue;
                }
            }
        }
        unsigned f2 = cpt == ' ' ? cv_fl(c, pos + 1) : flags;
        if (IS_L(f2)) {
            pos += cpt == ' ';
            while (IS_L(f2)) f2 = cv_fl(c, ++pos);
            spl_add(s, pos);
            continue;
        }
        if (IS_N(f2)) {
            pos += cpt == ' ';
            while (IS_N(f2)) f2 = cv_fl(c, ++pos);
            spl_add(s, pos);
            continue;
        }
        if (!(IS_WS(f2) | IS_L(f2) | IS_N(f2)) && f2) {
            pos += cpt == ' ';
            while (!(IS_WS(f2) | IS_L(f2) | IS_N(f2)) && f2) f2 = cv_fl(c, ++pos);
            spl_add(s, pos);
            continue;
        }
        size_t nws = 0;
        while (IS_WS(cv_fl(c, pos + nws))) nws++;
        if (nws > 1 && cv_cpt(c, pos + nws) != OUT_OF_RANGE) {
            pos += nws - 1;
            spl_add(s, pos);
            continue;
        }
        if (nws > 0) {
            pos += nws;
            spl_add(s, pos);
            continue;
        }
        spl_add(s, ++pos);
    }
}

/* Llama 3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
static void split_llama3(const struct cview *c, struct spl *s)
{
    for (size_t pos = c->ini; pos < c->end;) {
        uint32_t cpt = cv_cpt(c, pos);
        unsigned flags = cv_fl(c, pos);
        if (cpt == '\'' && pos + 1 < c->end) {
            uint32_t nx = lm__cpt_tolower(cv_cpt(c, pos + 1));
            if (nx == 's' || nx == 't' || nx == 'm' || nx == 'd') {
                pos += spl_add(s, pos + 2);
                continue;
            }
            if (pos + 2 < c->end) {
                uint32_t nn = lm__cpt_tolower(cv_cpt(c, pos + 2));
                if ((nx == 'r' && nn == 'e') || (nx == 'v' && nn == 'e') || (nx == 'l' && nn == 'l')) {
                    pos += spl_add(s, pos + 3);
                    continue;
                }
            }
        }
        if (!(cpt == '\r' || cpt == '\n' || IS_N(flags))) {
            if (IS_L(flags) || IS_L(cv_fl(c, pos + 1))) {
                pos++;
                while (IS_L(cv_fl(c, pos))) pos++;
                spl_add(s, pos);
                continue;
            }
        }
        if (IS_N(flags)) {
            size_t ini = pos;
            while (IS_N(cv_fl(c, pos))) {
                if (++pos - ini >= 3) {
                    spl_add(s, pos);
                    ini = pos;
                }
            }
            spl_add(s, pos);
            continue;
        }
        unsigned f2 = cpt == ' ' ? cv_fl(c, pos + 1) : flags;
        if (!(IS_WS(f2) | IS_L(f2) | IS_N(f2)) && flags) {
            pos += cpt == ' ';
            while (!(IS_WS(f2) | IS_L(f2) | IS_N(f2)) && f2) f2 = cv_fl(c, ++pos);
            uint32_t c2 = cv_cpt(c, pos);
            while (c2 == '\r' || c2 == '\n') c2 = cv_cpt(c, ++pos);
            spl_add(s, pos);
            continue;
        }
        size_t nws = 0, last_rn = 0;
        while (IS_WS(cv_fl(c, pos + nws))) {
            uint32_t c2 = cv_cpt(c, pos + nws);
            if (c2 == '\r' || c2 == '\n') last_rn = pos + nws + 1;
            nws++;
        }
        if (last_rn > 0) {
            pos = last_rn;
            spl_add(s, pos);
            continue;
        }
        if (nws > 1 && cv_cpt(c, pos + nws) != OUT_OF_RANGE) {
            pos += nws - 1;
            spl_add(s, pos);
            continue;
        }
        if (nws > 0) {
            pos += nws;
            spl_add(s, pos);
            continue;
        }
        spl_add(s, ++pos);
    }
}

/* Regex split of each current segment over the collapsed text: matches and the gaps between
 * them become words. */
static int split_regex(const pcre2_code *re, const unsigned char *col, const struct offs *in, struct offs *out)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    if (!md) return LM_ENOMEM;
    size_t start = 0;
    int rc = 0;
    for (size_t i = 0; i < in->n && rc == 0; i++) {
        size_t seg = in->v[i], pos = 0, last = 0;
        while (pos <= seg) {
            int m = pcre2_match(re, col + start, seg, pos, 0, md, NULL);
            if (m < 0) break;
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            size_t ms = ov[0], me = ov[1];
            if (me == ms) {  /* empty match: step over one unit */
                pos = ms + 1;
                continue;
            }
            if (ms > last && (rc = offs_push(out, ms - last)) < 0) break;
            if ((rc = offs_push(out, me - ms)) < 0) break;
            last = pos = me;
        }
        if (rc == 0 && last < seg) rc = offs_push(out, seg - last);
        start += seg;
    }
    pcre2_match_data_free(md);
    return rc;
}

/* ---- merging ----------------------------------------------------------------------------- */

struct sym {
    int prev, next;
    size_t off, n;
};
struct bigram {
    int left, right, rank;
    size_t size;
};
struct heap {
    struct bigram *v;
    size_t n, cap;
};

/* Min-heap order: lower rank first, then smaller left index. */
static bool bigram_before(const struct bigram *a, const struct bigram *b)
{
    if (a->rank != b->rank) return a->rank < b->rank;
    return a->left < b->left;
}

static int heap_push(struct heap *h, struct bigram b)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        struct bigram *v = realloc(h->v, cap * sizeof *v);
        if (!v) return LM_ENOMEM;
        h->v = v;
        h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!bigram_before(&b, &h->v[p])) break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = b;
    return 0;
}

static struct bigram heap_pop(struct heap *h)
{
    struct bigram top = h->v[0], last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && bigram_before(&h->v[c + 1], &h->v[c])) c++;
        if (!bigram_before(&h->v[c], &last)) break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n) h->v[i] = last;
    return top;
}

struct work {
    struct sym *syms;
    size_t cap;
    struct heap h;
};

static int add_bigram(const struct lm_tokenizer *t, const char *w, struct work *k, int left, int right)
{
    if (left < 0 || right < 0) return 0;
    const struct sym *l = &k->syms[left], *r = &k->syms[right];
    int32_t rank = lm__bpe_rank(t, w + l->off, l->n, w + r->off, r->n);
    if (rank < 0) return 0;
    return heap_push(&k->h, (struct bigram){left, right, rank, l->n + r->n});
}

/* BPE over one byte-encoded word. */
static int merge_word(const struct lm_tokenizer *t, const char *w, size_t len, struct work *k, struct lm__ids *out)
{
    if (len == 0) return 0;
    int rc;
    if (t->ignore_merges) {
        int32_t id = lm__tok_find(t, w, len);
        if (id >= 0) return lm__ids_push(out, id);
    }
    if (k->cap < len) {
        struct sym *s = realloc(k->syms, len * sizeof *s);
        if (!s) return LM_ENOMEM;
        k->syms = s;
        k->cap = len;
    }
    k->h.n = 0;
    int ns = 0;
    for (size_t off = 0; off < len;) {
        size_t n = lm__utf8_len((unsigned char)w[off]);
        if (n > len - off) n = len - off;
        k->syms[ns] = (struct sym){ns - 1, off + n == len ? -1 : ns + 1, off, n};
        off += n;
        ns++;
    }
    for (int i = 1; i < ns; i++)
        if ((rc = add_bigram(t, w, k, i - 1, i)) < 0) return rc;
    while (k->h.n) {
        struct bigram b = heap_pop(&k->h);
        struct sym *l = &k->syms[b.left], *r = &k->syms[b.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.size) continue;
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) k->syms[r->next].prev = b.left;
        if ((rc = add_bigram(t, w, k, l->prev, b.left)) < 0) return rc;
        if ((rc = add_bigram(t, w, k, b.left, l->next)) < 0) return rc;
    }
    for (int i = 0; i != -1; i = k->syms[i].next) {
        const struct sym *s = &k->syms[i];
        if (s->n == 0) continue;
        int32_t id = lm__tok_find(t, w + s->off, s->n);
        if (id >= 0) {
            if ((rc = lm__ids_push(out, id)) < 0) return rc;
            continue;
        }
        /* llama.cpp then looks each single byte up as a token and drops the misses */
        for (size_t j = 0; j < s->n; j++) {
            int32_t b = lm__tok_find(t, w + s->off + j, 1);
            if (b >= 0 && (rc = lm__ids_push(out, b)) < 0) return rc;
        }
    }
    return 0;
}

int lm__bpe_tokenize(const struct lm_tokenizer *t, const char *text, size_t len, struct lm__ids *out)
{
    if (len == 0) return 0;
    size_t n;
    uint32_t *cp = lm__utf8_decode_all(text, len, &n);
    unsigned *fl = malloc(n * sizeof *fl);
    unsigned char *col = NULL;
    struct offs a = {0}, b = {0};
    struct work k = {0};
    char *word = NULL;
    int rc = 0;
    if (!cp || !fl) { rc = LM_ENOMEM; goto done; }
    bool need_col = false;
    for (int i = 0; i < t->n_regex; i++) need_col |= t->regex_custom[i] == SPLIT_REGEX;
    if (need_col && !(col = malloc(n ? n : 1))) { rc = LM_ENOMEM; goto done; }
    for (size_t i = 0; i < n; i++) {
        fl[i] = lm__cpt_flags(cp[i]);
        if (col) col[i] = cp[i] < 128 ? (unsigned char)cp[i] : collapse_cpt(cp[i], fl[i]);
    }
    if ((rc = offs_push(&a, n)) < 0) goto done;
    for (int r = 0; r < t->n_regex; r++) {
        b.n = 0;
        if (t->regex_custom[r] == SPLIT_REGEX) {
            rc = split_regex(t->regex[r], col, &a, &b);
        } else {
            struct spl s = {&b, 0, 0};
            size_t start = 0;
            for (size_t i = 0; i < a.n; i++) {
                struct cview c = {cp, fl, start, start + a.v[i]};
                s.prev_end = start;
                if (t->regex_custom[r] == SPLIT_GPT2) split_gpt2(&c, &s);
                else split_llama3(&c, &s);
                start += a.v[i];
            }
            rc = s.rc;
        }
        if (rc < 0) goto done;
        struct offs tmp = a;
        a = b;
        b = tmp;
    }
    /* each word: code points -> UTF-8 -> GPT-2 byte stand-ins (at most 2 bytes per byte) */
    word = malloc(len * 8 + 8);
    if (!word) { rc = LM_ENOMEM; goto done; }
    size_t start = 0;
    for (size_t i = 0; i < a.n; i++) {
        size_t wl = 0;
        for (size_t j = start; j < start + a.v[i]; j++) {
            char u[4];
            size_t ul = lm__utf8_put(cp[j], u);
            for (size_t q = 0; q < ul; q++) wl += lm__utf8_put(lm__bytelevel_cpt((unsigned char)u[q]), word + wl);
        }
        start += a.v[i];
        if ((rc = merge_word(t, word, wl, &k, out)) < 0) goto done;
    }
done:
    free(word);
    free(k.syms);
    free(k.h.v);
    free(a.v);
    free(b.v);
    free(col);
    free(fl);
    free(cp);
    return rc;
}
