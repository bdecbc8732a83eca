/* tok_merge.h — the pair-merge loop shared by the SPM and byte-level BPE tokenizers
 * (engine-internal).
 *
 * A word is split into UTF-8 characters kept as a linked list of symbols. Every adjacent pair
 * the caller's key function accepts goes into a min-heap; the loop pops the best pair, skips it
 * when either side has changed since it was queued, joins the two symbols and queues the new
 * pairs with the neighbours. Ties go to the leftmost pair, as in llama.cpp.
 *
 * The functions are static inline so that each tokenizer's copy of the loop calls its key
 * function directly (inlined) rather than through a pointer: this loop is the tokenizers' hot
 * path. Include it from one .c file per tokenizer.
 */
#ifndef LM_TOK_MERGE_H
#define LM_TOK_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include "engine/tokenizer_internal.h"

/* One symbol of the word being merged: text[off..off+n), linked to its neighbours (-1 at the
 * ends); a symbol joined into its left neighbour keeps n = 0 and drops out of the list. */
struct lm__sym {
    int prev, next;
    size_t off, n;
};

/* Whether symbols l and r (adjacent, in text) may merge; if so, *key orders the merge (lower
 * keys merge first). A double holds every int32 rank and float score exactly, so ordering by
 * it is ordering by the tokenizer's own numbers. */
typedef bool (*lm__merge_key_fn)(const void *ctx, const char *text, const struct lm__sym *l,
                                 const struct lm__sym *r, double *key);

/* A queued merge of symbols left and right. */
struct lm__bigram {
    int left, right;
    double key;
    size_t size; /* their joined length when queued: the pair is stale once it differs */
};

/* Scratch for lm__merge_run, reusable across words; zero-initialise, release with lm__merge_free. */
struct lm__merge {
    struct lm__sym *syms;    /* the result: the list from syms[0] along next */
    size_t cap_syms;
    struct lm__bigram *heap; /* the pair queue, a binary min-heap */
    size_t n_heap, cap_heap;
};

/* Heap order: lower key first, then smaller left index. */
static inline bool lm__bigram_before(const struct lm__bigram *a, const struct lm__bigram *b)
{
    if (a->key != b->key) return a->key < b->key;
    return a->left < b->left;
}

static inline int lm__bigram_push(struct lm__merge *m, struct lm__bigram b)
{
    if (m->n_heap == m->cap_heap) {
        size_t cap = m->cap_heap ? m->cap_heap * 2 : 64;
        struct lm__bigram *v = realloc(m->heap, cap * sizeof *v);
        if (!v) return LM_ENOMEM;
        m->heap = v;
        m->cap_heap = cap;
    }
    struct lm__bigram *v = m->heap;
    size_t i = m->n_heap++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!lm__bigram_before(&b, &v[p])) break;
        v[i] = v[p];
        i = p;
    }
    v[i] = b;
    return 0;
}

static inline struct lm__bigram lm__bigram_pop(struct lm__merge *m)
{
    struct lm__bigram *v = m->heap;
    struct lm__bigram top = v[0], last = v[--m->n_heap];
    size_t n = m->n_heap, i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && lm__bigram_before(&v[c + 1], &v[c])) c++;
        if (!lm__bigram_before(&v[c], &last)) break;
        v[i] = v[c];
        i = c;
    }
    if (n) v[i] = last;
    return top;
}

/* Queues the pair (left, right) if the key function accepts it. */
static inline int lm__merge_add_pair(struct lm__merge *m, const char *text, int left, int right,
                                     lm__merge_key_fn key_fn, const void *ctx)
{
    if (left < 0 || right < 0) return 0;
    const struct lm__sym *l = &m->syms[left], *r = &m->syms[right];
    double key;
    if (!key_fn(ctx, text, l, r, &key)) return 0;
    return lm__bigram_push(m, (struct lm__bigram){left, right, key, l->n + r->n});
}

/* Splits text[0..len) (len > 0) into UTF-8 characters, then merges adjacent symbols, lowest key
 * first (ties: leftmost), until no pair key_fn accepts remains. 0 or LM_ENOMEM. */
static inline int lm__merge_run(struct lm__merge *m, const char *text, size_t len, lm__merge_key_fn key_fn,
                                const void *ctx)
{
    if (m->cap_syms < len) {
        struct lm__sym *s = realloc(m->syms, len * sizeof *s);
        if (!s) return LM_ENOMEM;
        m->syms = s;
        m->cap_syms = len;
    }
    m->n_heap = 0;
    struct lm__sym *syms = m->syms;
    int ns = 0, rc;
    for (size_t off = 0; off < len;) {
        size_t n = lm__utf8_len((unsigned char)text[off]);
        if (n > len - off) n = len - off;
        syms[ns] = (struct lm__sym){ns - 1, off + n == len ? -1 : ns + 1, off, n};
        off += n;
        ns++;
    }
    for (int i = 1; i < ns; i++)
        if ((rc = lm__merge_add_pair(m, text, i - 1, i, key_fn, ctx)) < 0) return rc;
    while (m->n_heap) {
        struct lm__bigram b = lm__bigram_pop(m);
        struct lm__sym *l = &syms[b.left], *r = &syms[b.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.size) continue;
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) syms[r->next].prev = b.left;
        if ((rc = lm__merge_add_pair(m, text, l->prev, b.left, key_fn, ctx)) < 0) return rc;
        if ((rc = lm__merge_add_pair(m, text, b.left, l->next, key_fn, ctx)) < 0) return rc;
    }
    return 0;
}

/* Frees the scratch (and zeroes it for reuse). */
static inline void lm__merge_free(struct lm__merge *m)
{
    free(m->syms);
    free(m->heap);
    *m = (struct lm__merge){0};
}

#endif
