/* tok_detok.c — token ids back to text: the per-token pieces (U+2581 to space for SentencePiece
 * and WordPiece, GPT-2 byte stand-ins to bytes for BPE, <0xXX> byte tokens), the piece cache, and
 * llama.cpp's detokenizer (leading-space removal, clean-up of spaces before punctuation). */
#include <stdlib.h>
#include <string.h>

#include "engine/tokenizer_internal.h"

/* Appends s[0..n) with U+2581 replaced by a space. */
static int append_unescaped(struct lm_buf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (i + 3 <= n && (unsigned char)s[i] == 0xe2 && (unsigned char)s[i + 1] == 0x96 && (unsigned char)s[i + 2] == 0x81) {
            if (lm_buf_append_char(out, ' ') < 0) return LM_ENOMEM;
            i += 3;
        } else {
            const char *e = memchr(s + i + 1, 0xe2, n - i - 1);
            size_t run = e ? (size_t)(e - s) - i : n - i;
            if (lm_buf_append(out, s + i, run) < 0) return LM_ENOMEM;
            i += run;
        }
    }
    return 0;
}

/* Byte-level token text back to bytes (llama.cpp's llama_decode_text, including its marker for
 * code points outside the byte map). */
static int append_bytelevel(struct lm_buf *out, const char *s, size_t n)
{
    size_t off = 0;
    while (off < n) {
        size_t start = off;
        uint32_t cp = lm__utf8_next(s, n, &off);
        int b = lm__bytelevel_byte(cp);
        if (b >= 0) {
            if (lm_buf_append_char(out, (char)b) < 0) return LM_ENOMEM;
            continue;
        }
        char u[4];
        size_t ul = lm__utf8_put(cp, u);
        (void)start;
        if (lm_buf_append_str(out, "[UNK_BYTE_0x") < 0) return LM_ENOMEM;
        for (size_t i = 0; i < ul; i++)
            if (lm_buf_printf(out, "%02x", (unsigned char)u[i]) < 0) return LM_ENOMEM;
        if (lm_buf_append(out, s, n) < 0 || lm_buf_append_char(out, ']') < 0) return LM_ENOMEM;
    }
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The bytes a token stands for when special tokens are rendered (llama.cpp's token_to_piece). */
static int render_piece(const struct lm_tokenizer *t, int32_t id, struct lm_buf *out)
{
    uint8_t a = t->attr[id];
    const char *s = t->text[id];
    size_t n = t->len[id];
    if (a & (LM__ATTR_UNKNOWN | LM__ATTR_CONTROL | LM__ATTR_USER_DEFINED)) return lm_buf_append(out, s, n);
    if (a & LM__ATTR_NORMAL) {
        if (t->kind == LM__TOK_BPE) return append_bytelevel(out, s, n);
        return append_unescaped(out, s, n);
    }
    if (a & LM__ATTR_BYTE) {
        /* "<0xXX>": llama.cpp reads the two hex digits after "<0x" */
        int hi = n > 3 ? hexval(s[3]) : -1, lo = n > 4 ? hexval(s[4]) : -1;
        int v = hi < 0 ? 0 : lo < 0 ? hi : hi * 16 + lo;
        return lm_buf_append_char(out, (char)v);
    }
    return 0;
}

/* Renders every token's piece once (generation and constrained sampling ask for pieces of
 * many tokens per step). */
int lm__build_piece_cache(struct lm_tokenizer *t)
{
    struct lm_buf pool = {0};
    t->piece_off = malloc(((size_t)t->n + 1) * sizeof *t->piece_off);
    if (!t->piece_off) return LM_ENOMEM;
    for (int32_t id = 0; id < t->n; id++) {
        t->piece_off[id] = (uint32_t)pool.len;
        if (render_piece(t, id, &pool) < 0 || pool.len > UINT32_MAX / 2) {
            lm_buf_free(&pool);
            return LM_ENOMEM;
        }
    }
    t->piece_off[t->n] = (uint32_t)pool.len;
    if (!pool.data && lm_buf_append(&pool, "", 0) < 0) return LM_ENOMEM;
    t->piece_pool = lm_buf_take(&pool);
    return t->piece_pool ? 0 : LM_ENOMEM;
}

int lm_token_to_piece(const struct lm_tokenizer *t, int32_t id, bool special, struct lm_buf *out)
{
    if (!t || id < 0 || id >= t->n) return LM_EINVAL;
    if (!special && (t->attr[id] & (LM__ATTR_UNKNOWN | LM__ATTR_CONTROL))) return 0;
    if (!t->piece_pool) return render_piece(t, id, out);
    uint32_t a = t->piece_off[id], b = t->piece_off[id + 1];
    return b > a ? lm_buf_append(out, t->piece_pool + a, b - a) : 0;
}

/* llama.cpp's three clean-up passes over detokenised text (spaces before ?!., and in " ' ",
 * and before contractions). Works in place on s[0..n), returns the new length. */
static size_t clean_spaces(char *text, size_t n)
{
    size_t total = n ? 1 : 0;
    for (size_t i = 1; i < n; i++) {
        char x = text[i];
        if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) total--;
        text[total++] = x;
    }
    size_t n2 = total;
    total = n2 ? 1 : 0;
    for (size_t i = 1; i < n2; i++) {
        char x = text[i];
        if (x == '\'' && i + 1 < n2 && text[i - 1] == ' ' && text[i + 1] == ' ') {
            total--;
            text[++i] = '\0';
        }
        text[total++] = x;
    }
    size_t n3 = total;
    total = n3 ? 1 : 0;
    for (size_t i = 1; i < n3; i++) {
        char x = text[i];
        if (text[i - 1] == ' ' && x == '\'' && i + 1 < n3) {
            char x1 = text[i + 1];
            if (x1 == 's' || x1 == 'm') {
                total--;
            } else if (x1 != 't' && x1 != 'd' && i + 2 < n3) {
                char x2 = text[i + 2];
                if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) total--;
            }
        }
        text[total++] = x;
    }
    return total;
}

int lm_detokenize_ex(const struct lm_tokenizer *t, const int32_t *ids, size_t n, bool remove_special, bool special,
                     struct lm_buf *out)
{
    bool remove_space = t->add_space_prefix;
    if (remove_special && t->add_bos && n > 0 && ids[0] == t->bos) {
        remove_space = false;
        ids++;
        n--;
    }
    if (remove_special && t->add_eos && n > 0 && ids[n - 1] == t->eos) n--;
    struct lm_buf tmp = {0};
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        size_t before = tmp.len;
        if ((rc = lm_token_to_piece(t, ids[i], special, &tmp)) < 0) goto done;
        if (remove_space && tmp.len > before && tmp.data[before] == ' ') {
            memmove(tmp.data + before, tmp.data + before + 1, tmp.len - before - 1);
            tmp.len--;
            tmp.data[tmp.len] = 0;
        }
        remove_space = false;
    }
    if (t->clean_spaces && tmp.len) tmp.len = clean_spaces(tmp.data, tmp.len);
    if (tmp.len) rc = lm_buf_append(out, tmp.data, tmp.len);
done:
    lm_buf_free(&tmp);
    return rc;
}

int lm_detokenize(const struct lm_tokenizer *t, const int32_t *ids, size_t n, bool special, struct lm_buf *out)
{
    return lm_detokenize_ex(t, ids, n, false, special, out);
}

