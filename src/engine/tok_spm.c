/* tok_spm.c — SentencePiece-style tokenisation (tokenizer.ggml.model = "llama").
 *
 * The input is already space-escaped (U+2581). It is split into UTF-8 characters, then the
 * adjacent pair whose concatenation is a vocabulary token with the highest score is merged,
 * repeatedly (ties: leftmost first), as llama.cpp's llm_tokenizer_spm does. Symbols that are
 * not tokens at the end fall back to <0xXX> byte tokens (or unk when the vocabulary has none).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/tokenizer_internal.h"

struct sym {
    int prev, next;
    size_t off, n;
};

struct bigram {
    int left, right;
    float score;
    size_t size;
};

/* Max-heap order: higher score first, then smaller left index. */
static bool bigram_before(const struct bigram *a, const struct bigram *b)
{
    if (a->score != b->score) return a->score > b->score;
    return a->left < b->left;
}

struct heap {
    struct bigram *v;
    size_t n, cap;
};

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

/* Queues the pair (left, right) if their joined text is a token. */
static int try_bigram(const struct lm_tokenizer *t, const char *text, struct sym *syms, int left, int right, struct heap *h)
{
    if (left < 0 || right < 0) return 0;
    size_t n = syms[left].n + syms[right].n;
    int32_t id = lm__tok_find(t, text + syms[left].off, n);
    if (id < 0) return 0;
    return heap_push(h, (struct bigram){left, right, t->score[id], n});
}

/* Token for one byte: "<0xXX>", else the one-character token, else unk. */
static int32_t byte_token(const struct lm_tokenizer *t, unsigned char c)
{
    static const char hex[] = "0123456789ABCDEF";
    char buf[6] = {'<', '0', 'x', hex[c >> 4], hex[c & 15], '>'};
    int32_t id = lm__tok_find(t, buf, 6);
    if (id < 0) id = lm__tok_find(t, (const char *)&c, 1);
    return id >= 0 ? id : t->unk;
}

int lm__spm_tokenize(const struct lm_tokenizer *t, const char *text, size_t len, struct lm__ids *out)
{
    if (len == 0) return 0;
    struct sym *syms = malloc(len * sizeof *syms);
    struct heap h = {0};
    int rc = 0;
    if (!syms) return LM_ENOMEM;
    int ns = 0;
    for (size_t off = 0; off < len;) {
        size_t n = lm__utf8_len((unsigned char)text[off]);
        if (n > len - off) n = len - off;
        syms[ns] = (struct sym){ns - 1, off + n == len ? -1 : ns + 1, off, n};
        off += n;
        ns++;
    }
    for (int i = 1; i < ns; i++)
        if ((rc = try_bigram(t, text, syms, i - 1, i, &h)) < 0) goto done;
    while (h.n) {
        struct bigram b = heap_pop(&h);
        struct sym *l = &syms[b.left], *r = &syms[b.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.size) continue;
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) syms[r->next].prev = b.left;
        if ((rc = try_bigram(t, text, syms, l->prev, b.left, &h)) < 0) goto done;
        if ((rc = try_bigram(t, text, syms, b.left, l->next, &h)) < 0) goto done;
    }
    for (int i = 0; i != -1; i = syms[i].next) {
        const struct sym *s = &syms[i];
        int32_t id = lm__tok_find(t, text + s->off, s->n);
        if (id >= 0) {
            if ((rc = lm__ids_push(out, id)) < 0) goto done;
            continue;
        }
        for (size_t j = 0; j < s->n; j++) {
            int32_t b = byte_token(t, (unsigned char)text[s->off + j]);
            if (b >= 0 && (rc = lm__ids_push(out, b)) < 0) goto done;
        }
    }
done:
    free(h.v);
    free(syms);
    return rc;
}
