/* tokenizer_internal.h — shared between tokenizer.c, tok_*.c and unicode.c (engine-internal).
 *
 * The algorithms follow llama.cpp's llama-vocab.cpp / unicode.cpp behaviour (same GGUF, same
 * ids); the code is our own. Everything here is immutable after lm_tokenizer creation except
 * the per-call scratch the functions allocate themselves.
 */
#ifndef LM_TOKENIZER_INTERNAL_H
#define LM_TOKENIZER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lm/buf.h"
#include "lm/tokenizer.h"

/* ---- unicode.c: code points, categories, byte-level BPE mapping ------------------------- */

/* Code point flags, the categories llama.cpp's unicode tables use. */
enum {
    LM__CF_UNDEF = 1u << 0,      /* Cn (not assigned) and out of range */
    LM__CF_NUMBER = 1u << 1,     /* \p{N} */
    LM__CF_LETTER = 1u << 2,     /* \p{L} */
    LM__CF_SEPARATOR = 1u << 3,  /* \p{Z} */
    LM__CF_ACCENT = 1u << 4,     /* \p{M} */
    LM__CF_PUNCT = 1u << 5,      /* \p{P} */
    LM__CF_SYMBOL = 1u << 6,     /* \p{S} */
    LM__CF_CONTROL = 1u << 7,    /* \p{C} other than Cn */
    LM__CF_WHITESPACE = 1u << 8, /* the Unicode White_Space set */
};

/* Length of the UTF-8 sequence a lead byte announces (1 for continuation bytes), as llama.cpp. */
size_t lm__utf8_len(unsigned char lead);
/* Decodes one code point at s[*off] (< len); an invalid sequence yields U+FFFD and advances one
 * byte, exactly like llama.cpp's unicode_cpts_from_utf8. */
uint32_t lm__utf8_next(const char *s, size_t len, size_t *off);
/* Encodes cp (values past U+10FFFF become U+FFFD); returns the byte count (1..4). */
size_t lm__utf8_put(uint32_t cp, char out[4]);
/* Decodes a whole string into a new array (malloc) of *n code points. */
uint32_t *lm__utf8_decode_all(const char *s, size_t len, size_t *n);
unsigned lm__cpt_flags(uint32_t cp);
uint32_t lm__cpt_tolower(uint32_t cp);
/* First code point of cp's canonical decomposition (llama.cpp's "NFD" table does this). */
uint32_t lm__cpt_nfd_first(uint32_t cp);
/* GPT-2 byte <-> code point mapping. byte_cpt(b) is the code point standing for byte b;
 * cpt_byte returns the byte or -1. */
uint32_t lm__bytelevel_cpt(unsigned char b);
int lm__bytelevel_byte(uint32_t cp);

/* ---- tokenizer.c: vocabulary ------------------------------------------------------------ */

enum lm__tok_kind { LM__TOK_SPM = 1, LM__TOK_BPE, LM__TOK_WPM };

/* Token attributes (llama.cpp's llama_token_attr bits). */
enum {
    LM__ATTR_UNDEFINED = 0,
    LM__ATTR_UNKNOWN = 1 << 0,
    LM__ATTR_UNUSED = 1 << 1,
    LM__ATTR_NORMAL = 1 << 2,
    LM__ATTR_CONTROL = 1 << 3,
    LM__ATTR_USER_DEFINED = 1 << 4,
    LM__ATTR_BYTE = 1 << 5,
    LM__ATTR_LSTRIP = 1 << 6,   /* white space before the special token is dropped */
    LM__ATTR_RSTRIP = 1 << 7,   /* white space after it is dropped */
};

/* Pre-tokenizer regex sets for byte-level BPE. */
enum lm__pre {
    LM__PRE_DEFAULT = 0,
    LM__PRE_LLAMA3,
    LM__PRE_GPT2,
    LM__PRE_QWEN2,
    LM__PRE_SMOLLM,   /* also starcoder, refact, command-r, ... */
    LM__PRE_FALCON,
    LM__PRE_DEEPSEEK_LLM,
    LM__PRE_DEEPSEEK_CODER,
    LM__PRE_DEEPSEEK3,
    LM__PRE_BLOOM,    /* also poro-chat, gpt3-finnish */
    LM__PRE_VIKING,
    LM__PRE_CHATGLM4,
    LM__PRE_GPT4O,
    LM__PRE_TEKKEN,
    LM__PRE_QWEN35,
    LM__PRE_TINY_AYA,
    LM__PRE_BAILINGMOE,
    LM__PRE_SEED_CODER,
    LM__PRE_MINICPM5,
    LM__PRE_JAIS2,
    LM__PRE_EXAONE_MOE,
    LM__PRE_CHAMELEON,
    LM__PRE_YOUTU,
    LM__PRE_LAGUNA,
    LM__PRE_GRANITE_EMB,
};

/* Open-addressing string -> int map (keys borrowed from the owner). */
struct lm__strmap {
    uint64_t *slots;         /* hash << 32 | (value index + 1); 0 = empty */
    uint32_t mask;
    const char *const *keys; /* keys[v] */
    const uint32_t *lens;
};

#define LM__TOK_MAX_REGEX 8

struct lm_tokenizer {
    enum lm__tok_kind kind;
    enum lm__pre pre;
    int32_t n;
    char **text;           /* token texts (into pool), NUL-terminated */
    uint32_t *len;
    float *score;
    uint8_t *attr;
    char *pool;
    struct lm__strmap tok_map;
    uint32_t max_token_len;

    /* byte-level BPE merges: "left right" -> rank */
    uint32_t n_merges;
    char **merge_text;
    uint32_t *merge_len;
    char *merge_pool;
    struct lm__strmap merge_map;

    /* pre-tokenizer: each entry is a custom splitter (gpt2/llama3) or a compiled regex over the
     * category-collapsed text (see tok_bpe.c) */
    int n_regex;
    int regex_custom[LM__TOK_MAX_REGEX];   /* 0 collapsed regex, 1 gpt2, 2 llama3, 3 code point regex */
    void *regex[LM__TOK_MAX_REGEX];        /* pcre2_code_8 * */

    int32_t bos, eos, eot, eom, unk, sep, pad, mask;
    int32_t *eog;           /* sorted */
    int n_eog;
    int32_t *special;       /* control/user-defined/unknown ids, longest text first */
    int n_special;

    char *piece_pool;       /* every token's piece (special tokens rendered), back to back */
    uint32_t *piece_off;    /* n + 1 offsets into piece_pool */

    bool add_bos, add_eos, add_sep, add_space_prefix, ignore_merges, clean_spaces;
    bool remove_extra_ws, lowercase, strip_accents;
};

/* Token id of text[0..len) or -1. */
int32_t lm__tok_find(const struct lm_tokenizer *t, const char *text, size_t len);
/* Merge rank of (left, right) or -1. */
int32_t lm__bpe_rank(const struct lm_tokenizer *t, const char *l, size_t ln, const char *r, size_t rn);

/* A growable id vector. */
struct lm__ids {
    int32_t *v;
    size_t n, cap;
};
int lm__ids_push(struct lm__ids *a, int32_t id);

/* Per-kind tokenisation of one raw text fragment (no special tokens inside), appending ids. */
int lm__spm_tokenize(const struct lm_tokenizer *t, const char *text, size_t len, struct lm__ids *out);
int lm__bpe_tokenize(const struct lm_tokenizer *t, const char *text, size_t len, struct lm__ids *out);
int lm__wpm_tokenize(const struct lm_tokenizer *t, const char *text, size_t len, struct lm__ids *out);

/* tok_detok.c: renders every token's piece into t->piece_pool (called once at creation). */
int lm__build_piece_cache(struct lm_tokenizer *t);

/* Switches a BPE tokenizer to another pre-tokenizer (its regexes and options, add_bos -1 for the
 * pre-tokenizer's default) — what lm_tokenizer_from_spec does for spec->pre; lets the parity test
 * check many pre-tokenizers on one loaded vocabulary. */
int lm__tokenizer_set_pre(struct lm_tokenizer *t, const char *pre, int add_bos, struct lm_error *err);

/* tok_bpe.c: sets up t->regex for t->pre; frees them. */
int lm__bpe_init_pre(struct lm_tokenizer *t, struct lm_error *err);
void lm__bpe_free_pre(struct lm_tokenizer *t);

#endif
