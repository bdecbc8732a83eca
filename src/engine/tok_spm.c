/* tok_spm.c — SentencePiece-style tokenisation (tokenizer.ggml.model = "llama").
 *
 * The input is already space-escaped (U+2581). It is split into UTF-8 characters, then the
 * adjacent pair whose concatenation is a vocabulary token with the highest score is merged,
 * repeatedly (ties: leftmost first), as llama.cpp's llm_tokenizer_spm does. Symbols that are
 * not tokens at the end fall back to <0xXX> byte tokens (or unk when the vocabulary has none).
 */

#include "engine/tok_merge.h"
#include "engine/tokenizer_internal.h"

/* Merge key: the joined text must be a token; higher scores merge first. */
static bool spm_key(const void *ctx, const char *text, const struct lm__sym *l, const struct lm__sym *r, double *key)
{
    const struct lm_tokenizer *t = ctx;
    int32_t id = lm__tok_find(t, text + l->off, l->n + r->n);
    if (id < 0) return false;
    *key = -(double)t->score[id];
    return true;
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
    struct lm__merge m = {0};
    int rc = lm__merge_run(&m, text, len, spm_key, t);
    for (int i = 0; rc == 0 && i != -1; i = m.syms[i].next) {
        const struct lm__sym *s = &m.syms[i];
        int32_t id = lm__tok_find(t, text + s->off, s->n);
        if (id >= 0) {
            rc = lm__ids_push(out, id);
            continue;
        }
        for (size_t j = 0; rc == 0 && j < s->n; j++) {
            int32_t b = byte_token(t, (unsigned char)text[s->off + j]);
            if (b >= 0) rc = lm__ids_push(out, b);
        }
    }
    lm__merge_free(&m);
    return rc;
}
