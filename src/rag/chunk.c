/* chunk.c — the seed's split_text in Unicode code points (semantics in include/lm/chunk.h).
 *
 * The text is decoded once into code points (invalid bytes -> U+FFFD), the work is done on
 * index ranges of that array, and chunks are encoded back to UTF-8 only when emitted or counted,
 * so no chunk can end inside a UTF-8 sequence.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "lm/buf.h"
#include "lm/chunk.h"

/* A growable array of code points. */
struct cps {
    int32_t *v;
    size_t n, cap;
};

/* Appends n code points; LM_ENOMEM on failure. */
static int cps_append(struct cps *c, const int32_t *v, size_t n)
{
    if (c->n + n > c->cap) {
        size_t cap = c->cap ? c->cap : 256;
        while (cap < c->n + n) cap *= 2;
        int32_t *nv = realloc(c->v, cap * sizeof *nv);
        if (!nv) return LM_ENOMEM;
        c->v = nv;
        c->cap = cap;
    }
    memcpy(c->v + c->n, v, n * sizeof *v);
    c->n += n;
    return 0;
}

/* Python's str.isspace() set. */
static bool is_space(int32_t c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f) || c == 0x85 || c == 0xa0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000;
}

static bool is_line_break(int32_t c)
{
    return c == '\n' || c == '\r' || c == 0x2028 || c == 0x2029 || c == 0x85;
}

static bool is_cjk_terminator(int32_t c)
{
    return c == 0x3002 /* 。 */ || c == 0xff01 /* ！ */ || c == 0xff1f /* ？ */ || c == 0xff1b /* ； */;
}

static bool is_ascii_alnum(int32_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Decodes UTF-8; invalid bytes become U+FFFD (one per byte), NUL becomes a space. */
static int decode(const char *text, size_t len, struct cps *out)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)text;
    size_t i = 0;
    while (i < len) {
        utf8proc_int32_t c;
        utf8proc_ssize_t l = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &c);
        if (l <= 0) {
            c = 0xfffd;
            l = 1;
        }
        if (c == 0) c = ' ';
        int32_t v = c;
        if (cps_append(out, &v, 1) < 0) return LM_ENOMEM;
        i += (size_t)l;
    }
    return 0;
}

/* Encodes v[0..n) as UTF-8 into b (cleared first). */
static int encode(const int32_t *v, size_t n, struct lm_buf *b)
{
    lm_buf_clear(b);
    if (lm_buf_reserve(b, n * 4 + 1) < 0) return LM_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        utf8proc_ssize_t l = utf8proc_encode_char(v[i], (utf8proc_uint8_t *)b->data + b->len);
        b->len += (size_t)l;
    }
    b->data[b->len] = 0;
    return 0;
}

/* Index ranges [a, b) of the decoded text. */
struct range {
    size_t a, b;
};

struct ranges {
    struct range *v;
    size_t n, cap;
};

static int ranges_push(struct ranges *r, size_t a, size_t b)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        struct range *nv = realloc(r->v, cap * sizeof *nv);
        if (!nv) return LM_ENOMEM;
        r->v = nv;
        r->cap = cap;
    }
    r->v[r->n++] = (struct range){a, b};
    return 0;
}

/* Narrows [a, b) to exclude surrounding white space. */
static void strip(const int32_t *v, size_t *a, size_t *b)
{
    while (*a < *b && is_space(v[*a])) (*a)++;
    while (*b > *a && is_space(v[*b - 1])) (*b)--;
}

/* State shared by the steps of one split. */
struct split {
    const struct lm_chunk_params *p;
    const int32_t *v;          /* decoded text */
    struct lm_buf tmp;         /* UTF-8 scratch for token counts */
    struct lm_error *err;
};

/* Tokens of the code points c[0..n) (0 when no budget is set). */
static int count_tokens(struct split *s, const int32_t *c, size_t n, int *tokens)
{
    *tokens = 0;
    if (!s->p->count_tokens) return 0;
    if (encode(c, n, &s->tmp) < 0) return lm_error_set(s->err, LM_ENOMEM, "chunk: out of memory");
    int t = s->p->count_tokens(s->tmp.data, s->tmp.len, s->p->user);
    if (t < 0) return lm_error_set(s->err, t, "chunk: token count failed");
    *tokens = t;
    return 0;
}

/* Adds a sentence, halving it until it fits the token budget. */
static int add_piece_budget(struct split *s, struct ranges *out, size_t a, size_t b, int depth)
{
    int t = 0;
    int rc = count_tokens(s, s->v + a, b - a, &t);
    if (rc) return rc;
    if (!s->p->count_tokens || t <= s->p->max_tokens || b - a <= 1 || depth > 60) return ranges_push(out, a, b);
    size_t mid = a + (b - a) / 2, reach = (b - a) / 4, cut = mid;
    for (size_t d = 0; d <= reach; d++) {
        if (mid + d < b && is_space(s->v[mid + d])) { cut = mid + d; break; }
        if (mid - d > a && is_space(s->v[mid - d])) { cut = mid - d; break; }
    }
    size_t a1 = a, b1 = cut, a2 = cut, b2 = b;
    strip(s->v, &a1, &b1);
    strip(s->v, &a2, &b2);
    if (b1 > a1 && (rc = add_piece_budget(s, out, a1, b1, depth + 1))) return rc;
    if (b2 > a2 && (rc = add_piece_budget(s, out, a2, b2, depth + 1))) return rc;
    return 0;
}

/* Adds a stripped sentence, cutting one longer than max_len code points into pieces. */
static int add_sentence(struct split *s, struct ranges *out, size_t a, size_t b, size_t max_len)
{
    while (b - a > max_len) {
        size_t end = a + max_len, cut = end;
        for (size_t i = end; i > a + max_len / 2; i--)
            if (is_space(s->v[i])) { cut = i; break; }
        size_t pa = a, pb = cut;
        strip(s->v, &pa, &pb);
        int rc = pb > pa ? add_piece_budget(s, out, pa, pb, 0) : 0;
        if (rc) return rc;
        a = cut;
        strip(s->v, &a, &b);
    }
    return b > a ? add_piece_budget(s, out, a, b, 0) : 0;
}

/* Step 1: sentences (stripped, non-empty), already cut to size and token budget. */
static int sentences(struct split *s, size_t n, struct ranges *out)
{
    const int32_t *v = s->v;
    size_t max_len = (size_t)s->p->size - (size_t)s->p->overlap - 1;
    if (max_len < 1 || s->p->size <= s->p->overlap + 1) max_len = (size_t)s->p->size;
    size_t start = 0, i = 0;
    while (i < n) {
        size_t end = 0, next = 0;
        if (is_line_break(v[i])) {
            end = i;
            next = i + 1;
        } else if (is_cjk_terminator(v[i]) || v[i] == '.' || v[i] == '!' || v[i] == '?') {
            size_t j = i;
            while (j < n && (is_cjk_terminator(v[j]) || v[j] == '.' || v[j] == '!' || v[j] == '?')) j++;
            /* "3.14", "example.com": an ASCII terminator glued to a letter or digit is not an end */
            bool ascii_last = v[j - 1] == '.' || v[j - 1] == '!' || v[j - 1] == '?';
            if (ascii_last && j < n && is_ascii_alnum(v[j]) && !is_cjk_terminator(v[i])) {
                i = j;
                continue;
            }
            end = j;
            next = j;
        } else {
            i++;
            continue;
        }
        size_t a = start, b = end;
        strip(v, &a, &b);
        if (b > a) {
            int rc = add_sentence(s, out, a, b, max_len);
            if (rc) return rc;
        }
        start = i = next;
    }
    size_t a = start, b = n;
    strip(v, &a, &b);
    return b > a ? add_sentence(s, out, a, b, max_len) : 0;
}

/* Appends cur as a new chunk. */
static int emit(struct lm_chunks *out, const struct cps *cur, struct lm_buf *b)
{
    char **items = realloc(out->items, (out->n + 1) * sizeof *items);
    if (!items) return LM_ENOMEM;
    out->items = items;
    if (encode(cur->v, cur->n, b) < 0) return LM_ENOMEM;
    out->items[out->n] = lm_buf_take(b);
    if (!out->items[out->n]) return LM_ENOMEM;
    out->n++;
    return 0;
}

/* size 300, overlap 50, no budget. */
struct lm_chunk_params lm_chunk_params_default(void)
{
    return (struct lm_chunk_params){.size = 300, .overlap = 50};
}

/* Code points as the splitter counts them. */
size_t lm_chunk_codepoints(const char *text, size_t len)
{
    size_t n = 0, i = 0;
    while (i < len) {
        utf8proc_int32_t c;
        utf8proc_ssize_t l = utf8proc_iterate((const utf8proc_uint8_t *)text + i, (utf8proc_ssize_t)(len - i), &c);
        i += l > 0 ? (size_t)l : 1;
        n++;
    }
    return n;
}

/* Step 2: the seed's packing with overlap (see chunk.h). */
static int pack(struct split *s, const struct ranges *sent, struct lm_chunks *out)
{
    struct cps cur = {0}, cand = {0};
    struct lm_buf ob = {0};
    const struct lm_chunk_params *p = s->p;
    int rc = 0;
    static const int32_t SP = ' ';
    for (size_t k = 0; k < sent->n && !rc; k++) {
        const int32_t *sv = s->v + sent->v[k].a;
        size_t sn = sent->v[k].b - sent->v[k].a;
        if (cur.n == 0) {
            rc = cps_append(&cur, sv, sn);
            continue;
        }
        bool sep = !(cur.v[cur.n - 1] == ' ' || cur.v[cur.n - 1] == '\n');
        bool fits = cur.n + (sep ? 1 : 0) + sn <= (size_t)p->size;
        if (fits && p->count_tokens) {
            cand.n = 0;
            rc = cps_append(&cand, cur.v, cur.n);
            if (!rc && sep) rc = cps_append(&cand, &SP, 1);
            if (!rc) rc = cps_append(&cand, sv, sn);
            int t = 0;
            if (!rc) rc = count_tokens(s, cand.v, cand.n, &t);
            if (rc) break;
            fits = t <= p->max_tokens;
        }
        if (fits) {
            if (sep) rc = cps_append(&cur, &SP, 1);
            if (!rc) rc = cps_append(&cur, sv, sn);
            continue;
        }
        if ((rc = emit(out, &cur, &ob)) < 0) break;
        /* the next chunk starts with the last `overlap` code points of this one */
        size_t pre = (p->overlap > 0 && cur.n > (size_t)p->overlap) ? (size_t)p->overlap : 0;
        cand.n = 0;
        if (pre) {
            rc = cps_append(&cand, cur.v + cur.n - pre, pre);
            int32_t last = cand.v[cand.n - 1];
            if (!rc && !(last == ' ' || last == '\n')) rc = cps_append(&cand, &SP, 1);
        }
        if (!rc) rc = cps_append(&cand, sv, sn);
        if (!rc && pre && p->count_tokens) {
            int t = 0;
            rc = count_tokens(s, cand.v, cand.n, &t);
            if (!rc && t > p->max_tokens) { /* no room for the overlap: start clean */
                cand.n = 0;
                rc = cps_append(&cand, sv, sn);
            }
        }
        struct cps swap = cur;
        cur = cand;
        cand = swap;
    }
    if (!rc && cur.n) rc = emit(out, &cur, &ob);
    free(cur.v);
    free(cand.v);
    lm_buf_free(&ob);
    if (rc == LM_ENOMEM) return lm_error_set(s->err, LM_ENOMEM, "chunk: out of memory");
    return rc;
}

/* Splits text into chunks (see chunk.h). */
int lm_chunk_split(const char *text, size_t len, const struct lm_chunk_params *p, struct lm_chunks *out,
                   struct lm_error *err)
{
    if (!out) return lm_error_set(err, LM_EINVAL, "chunk: out is NULL");
    out->items = NULL;
    out->n = 0;
    if (!p || p->size <= 0 || p->overlap < 0 || p->overlap >= p->size)
        return lm_error_set(err, LM_EINVAL, "chunk: need CHUNK_SIZE > 0 and 0 <= CHUNK_OVERLAP < CHUNK_SIZE");
    if (p->count_tokens && p->max_tokens <= 0)
        return lm_error_set(err, LM_EINVAL, "chunk: a token budget needs max_tokens > 0");
    if (!text && len) return lm_error_set(err, LM_EINVAL, "chunk: text is NULL");
    struct cps all = {0};
    struct ranges sent = {0};
    struct split s = {.p = p, .err = err};
    int rc = decode(text, len, &all);
    if (rc) rc = lm_error_set(err, LM_ENOMEM, "chunk: out of memory");
    s.v = all.v;
    if (!rc) rc = sentences(&s, all.n, &sent);
    if (rc == LM_ENOMEM) rc = lm_error_set(err, LM_ENOMEM, "chunk: out of memory");
    if (!rc) rc = pack(&s, &sent, out);
    free(all.v);
    free(sent.v);
    lm_buf_free(&s.tmp);
    if (rc) lm_chunks_free(out);
    return rc;
}

/* Frees the chunks and resets *c. */
void lm_chunks_free(struct lm_chunks *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) free(c->items[i]);
    free(c->items);
    c->items = NULL;
    c->n = 0;
}
