/* tok_wpm.c — WordPiece (tokenizer.ggml.model = "bert"), as llama.cpp's llm_tokenizer_wpm.
 *
 * Pre-processing (BERT's basic tokenizer): drop NUL, U+FFFD and control characters, split on
 * whitespace, lower-case and strip accents (first code point of the canonical decomposition,
 * accent marks dropped), and make every punctuation character, ASCII symbol and CJK ideograph a
 * word of its own. Each word gets the word-start marker U+2581 and is cut greedily into the
 * longest vocabulary pieces (continuation pieces are stored without "##" in GGUF); a word with
 * any unmatched position becomes [UNK].
 */
#include <stdlib.h>
#include <string.h>

#include "engine/tokenizer_internal.h"

/* BERT's CJK ranges (including the HF quirk at 0x2B920). */
static bool is_chinese_char(uint32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* Greedy longest-match of "▁" + word[0..wl); appends ids or unk. */
static int match_word(const struct lm_tokenizer *t, char *w, size_t n, struct lm__ids *out)
{
    size_t before = out->n;
    int rc;
    for (size_t i = 0; i < n; i++) {
        bool match = false;
        size_t jmax = i + t->max_token_len + 1 < n ? i + t->max_token_len + 1 : n;
        for (size_t j = jmax; j > i; j--) {
            int32_t id = lm__tok_find(t, w + i, j - i);
            if (id >= 0) {
                if ((rc = lm__ids_push(out, id)) < 0) return rc;
                match = true;
                i = j - 1;
                break;
            }
        }
        if (!match) {
            out->n = before;
            break;
        }
    }
    if (out->n == before) return lm__ids_push(out, t->unk);
    return 0;
}

int lm__wpm_tokenize(const struct lm_tokenizer *t, const char *text, size_t len, struct lm__ids *out)
{
    if (len == 0) return 0;
    size_t n;
    uint32_t *cp = lm__utf8_decode_all(text, len, &n);
    /* worst case per code point: 4 bytes; each word also gets a 3-byte marker */
    char *w = malloc(len * 4 + 8);
    int rc = 0;
    if (!cp || !w) { rc = LM_ENOMEM; goto done; }
    memcpy(w, "\xe2\x96\x81", 3);
    size_t wl = 3;  /* bytes in w, the marker included */
#define FLUSH() do { if (wl > 3) { if ((rc = match_word(t, w, wl, out)) < 0) goto done; wl = 3; } } while (0)
    for (size_t i = 0; i < n; i++) {
        uint32_t c = cp[i];
        if (t->strip_accents) c = lm__cpt_nfd_first(c);
        unsigned f = lm__cpt_flags(c);
        if (f & LM__CF_WHITESPACE) {
            FLUSH();
            continue;
        }
        if (c == 0 || c == 0xFFFD || (f & LM__CF_CONTROL)) continue;
        if (t->strip_accents && (f & LM__CF_ACCENT)) continue;
        uint32_t lc = t->lowercase ? lm__cpt_tolower(c) : c;
        if ((f & LM__CF_PUNCT) || (c < 0x7F && (f & LM__CF_SYMBOL)) || is_chinese_char(c)) {
            FLUSH();
            wl += lm__utf8_put(lc, w + wl);
            FLUSH();
        } else {
            wl += lm__utf8_put(lc, w + wl);
        }
    }
    FLUSH();
#undef FLUSH
done:
    free(w);
    free(cp);
    return rc;
}
