/* unicode.c — UTF-8 decoding, code point categories and the GPT-2 byte mapping, with the exact
 * conventions llama.cpp's tokenizers use (invalid bytes become U+FFFD one byte at a time, the
 * White_Space set, \p{L}/\p{N}/... from the general category). Categories come from utf8proc. */
#include <stdlib.h>
#include <utf8proc.h>

#include "engine/tokenizer_internal.h"

/* Sequence length announced by a lead byte (llama.cpp's table: continuation bytes count 1). */
size_t lm__utf8_len(unsigned char lead)
{
    static const unsigned char lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lookup[lead >> 4];
}

/* Decodes one code point; invalid sequences give U+FFFD and consume one byte. The checks are
 * llama.cpp's: lead byte form and continuation bytes only (no overlong/surrogate checks). */
uint32_t lm__utf8_next(const char *s, size_t len, size_t *off)
{
    const unsigned char *p = (const unsigned char *)s + *off;
    size_t rem = len - *off;
    if (!(p[0] & 0x80)) {
        *off += 1;
        return p[0];
    }
    if (!(p[0] & 0x40)) goto bad;
    if (!(p[0] & 0x20)) {
        if (rem < 2 || (p[1] & 0xc0) != 0x80) goto bad;
        *off += 2;
        return ((uint32_t)(p[0] & 0x1f) << 6) | (p[1] & 0x3f);
    }
    if (!(p[0] & 0x10)) {
        if (rem < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80) goto bad;
        *off += 3;
        return ((uint32_t)(p[0] & 0x0f) << 12) | ((uint32_t)(p[1] & 0x3f) << 6) | (p[2] & 0x3f);
    }
    if (!(p[0] & 0x08)) {
        if (rem < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80) goto bad;
        *off += 4;
        return ((uint32_t)(p[0] & 0x07) << 18) | ((uint32_t)(p[1] & 0x3f) << 12) |
               ((uint32_t)(p[2] & 0x3f) << 6) | (p[3] & 0x3f);
    }
bad:
    *off += 1;
    return 0xFFFD;
}

/* Encodes one code point; anything past U+10FFFF is written as U+FFFD. */
size_t lm__utf8_put(uint32_t cp, char out[4])
{
    if (cp > 0x10FFFF) cp = 0xFFFD;
    if (cp <= 0x7f) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp <= 0x7ff) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp <= 0xffff) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Whole-string decode into a malloc'd array (never fails on content; NULL only on ENOMEM). */
uint32_t *lm__utf8_decode_all(const char *s, size_t len, size_t *n)
{
    uint32_t *v = malloc((len ? len : 1) * sizeof *v);
    if (!v) return NULL;
    size_t k = 0, off = 0;
    while (off < len) v[k++] = lm__utf8_next(s, len, &off);
    *n = k;
    return v;
}

/* White_Space property (what llama.cpp's generated table lists). */
static bool is_white_space(uint32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

/* Category flags of a code point (LM__CF_*). Never 0 for a code point in range. */
unsigned lm__cpt_flags(uint32_t cp)
{
    if (cp > 0x10FFFF) return LM__CF_UNDEF;
    unsigned f = 0;
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_CN: f = LM__CF_UNDEF; break;
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: f = LM__CF_LETTER; break;
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: f = LM__CF_ACCENT; break;
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO: f = LM__CF_NUMBER; break;
    case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS: case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF: case UTF8PROC_CATEGORY_PO: f = LM__CF_PUNCT; break;
    case UTF8PROC_CATEGORY_SM: case UTF8PROC_CATEGORY_SC: case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO: f = LM__CF_SYMBOL; break;
    case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP: f = LM__CF_SEPARATOR; break;
    default: f = LM__CF_CONTROL; break;
    }
    if (is_white_space(cp)) f |= LM__CF_WHITESPACE;
    return f;
}

/* Simple lower-case mapping. */
uint32_t lm__cpt_tolower(uint32_t cp)
{
    if (cp > 0x10FFFF) return cp;
    return (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp);
}

/* First code point of the canonical decomposition (e.g. U+00E9 -> 'e'). */
uint32_t lm__cpt_nfd_first(uint32_t cp)
{
    if (cp < 0xC0 || cp > 0x10FFFF) return cp;
    utf8proc_int32_t buf[8];
    int last = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char((utf8proc_int32_t)cp, buf, 8, UTF8PROC_DECOMPOSE, &last);
    if (n < 1 || n > 8) return cp;
    return (uint32_t)buf[0];
}

/* GPT-2's printable stand-ins for bytes: printable Latin-1 bytes map to themselves, the other
 * 68 bytes to U+0100.. in byte order. */
static bool byte_is_printable(unsigned b)
{
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
}

uint32_t lm__bytelevel_cpt(unsigned char b)
{
    if (byte_is_printable(b)) return b;
    if (b <= 0x20) return 256u + b;            /* 33 control/space bytes */
    if (b >= 0x7F && b <= 0xA0) return 256u + 33 + (b - 0x7Fu);
    return 256u + 67;                          /* 0xAD */
}

int lm__bytelevel_byte(uint32_t cp)
{
    if (cp < 256) return byte_is_printable(cp) ? (int)cp : -1;
    if (cp <= 256 + 32) return (int)(cp - 256);
    if (cp <= 256 + 66) return (int)(0x7F + (cp - 256 - 33));
    if (cp == 256 + 67) return 0xAD;
    return -1;
}
