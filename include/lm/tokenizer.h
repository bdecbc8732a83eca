/* tokenizer.h — text to token ids and back, from GGUF metadata.
 *
 * Kinds (tokenizer.ggml.model): "llama" (SentencePiece-style, scores, byte fallback),
 * "gpt2" (byte-level BPE with merges and a pre-tokenizer regex chosen by tokenizer.ggml.pre),
 * "bert" (WordPiece). Behaviour matches llama.cpp's for the same GGUF (ids, detokenised text,
 * BOS/EOS/CLS/SEP, end-of-generation set); tests/parity/tok_golden_*.json hold llama.cpp's
 * output for 33 vocabulary/pre-tokenizer combinations. Other kinds ("t5" UGM, "rwkv", ...) and
 * pre-tokenizers llama.cpp implements by hand (kimi-k2, afmoe, superbpe, gemma4) give
 * LM_ENOTSUP.
 *
 * A tokenizer is immutable after creation and safe to use from many threads.
 */
#ifndef LM_TOKENIZER_H
#define LM_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lm/buf.h"
#include "lm/err.h"

struct lm_tokenizer;
struct lm_gguf;

/* A vocabulary given as plain arrays (what the GGUF keys hold), for building a tokenizer without a
 * file (tests, fuzzing, converters). All pointers are borrowed for the duration of the call only. */
#define LM_TOKENIZER_UNSET INT64_MIN
struct lm_tokenizer_spec {
    const char *model;            /* tokenizer.ggml.model: "llama", "gpt2", "bert" */
    const char *pre;              /* tokenizer.ggml.pre, or NULL (BPE then uses "default") */
    size_t n_tokens;
    const struct lm_str *tokens;  /* tokenizer.ggml.tokens */
    const float *scores;          /* tokenizer.ggml.scores, or NULL (all 0) */
    const int32_t *types;         /* tokenizer.ggml.token_type, or NULL (all normal) */
    size_t n_merges;
    const struct lm_str *merges;  /* tokenizer.ggml.merges ("left right"), BPE only */
    /* tokenizer.ggml.*_token_id; LM_TOKENIZER_UNSET keeps the model kind's default */
    int64_t bos, eos, eot, eom, unk, sep, pad, mask;
    /* booleans: -1 = key absent (kind default), 0 = false, 1 = true */
    int add_bos, add_eos, add_sep, add_space_prefix, remove_extra_ws, lowercase, strip_accents;
    /* general.name and general.architecture, or NULL: llama.cpp sets white-space stripping
     * around special tokens by them (Phi-3 names, modern-bert, jina/nomic-bert-moe <mask>) */
    const char *name, *arch;
};
/* Sets every field to "absent". */
void lm_tokenizer_spec_init(struct lm_tokenizer_spec *s);
/* Builds a tokenizer from s (everything is copied). */
int lm_tokenizer_from_spec(const struct lm_tokenizer_spec *s, struct lm_tokenizer **out,
                           struct lm_error *err);
/* Fills s from g's tokenizer.* keys (to inspect or change them before lm_tokenizer_from_spec).
 * model/pre/name/arch and the arrays are allocated, token and merge strings borrow from g: free
 * with lm_tokenizer_spec_free before closing g. */
int lm_tokenizer_spec_from_gguf(const struct lm_gguf *g, struct lm_tokenizer_spec *s,
                                struct lm_error *err);
void lm_tokenizer_spec_free(struct lm_tokenizer_spec *s);

/* Builds a tokenizer from the tokenizer.* keys of g (g may be closed afterwards: everything
 * needed is copied). Free with lm_tokenizer_free. */
int lm_tokenizer_from_gguf(const struct lm_gguf *g, struct lm_tokenizer **out, struct lm_error *err);
void lm_tokenizer_free(struct lm_tokenizer *t);

int lm_tokenizer_n_vocab(const struct lm_tokenizer *t);

/* Special ids, -1 when the model has none. */
int32_t lm_tokenizer_bos(const struct lm_tokenizer *t);
int32_t lm_tokenizer_eos(const struct lm_tokenizer *t);
int32_t lm_tokenizer_eot(const struct lm_tokenizer *t);   /* <|eot_id|>, <|im_end|>, <end_of_turn> */
int32_t lm_tokenizer_cls(const struct lm_tokenizer *t);
int32_t lm_tokenizer_sep(const struct lm_tokenizer *t);
int32_t lm_tokenizer_pad(const struct lm_tokenizer *t);
/* True for every id that ends generation (eos, eot and the model's other end tokens). */
bool lm_tokenizer_is_eog(const struct lm_tokenizer *t, int32_t id);

/* Tokenises text[0..len). add_special adds what the model adds (BOS when add_bos_token,
 * [CLS]/[SEP] for bert, EOS when add_eos_token). parse_special recognises special/control
 * token strings (e.g. "<|im_start|>") in the text; otherwise they are plain text. User-defined
 * tokens (token type 4) are always recognised, as in llama.cpp. Texts over 2 GiB: LM_ETOOBIG.
 * On success *out is a new array of *n ids (malloc; caller frees). Invalid UTF-8 is handled
 * as llama.cpp does (never an error, never a crash). */
int lm_tokenize(const struct lm_tokenizer *t, const char *text, size_t len, bool add_special,
                bool parse_special, int32_t **out, size_t *n, struct lm_error *err);

/* Appends the bytes of one token to out. special = false renders control tokens as ""
 * (as llama.cpp's detokenizer does for generated text). Returns 0 or LM_EINVAL for an id out
 * of range. Bytes may be an incomplete UTF-8 sequence (byte tokens): callers that stream
 * text hold back incomplete sequences. */
int lm_token_to_piece(const struct lm_tokenizer *t, int32_t id, bool special, struct lm_buf *out);

/* Appends the text of ids[0..n) to out, as llama.cpp's llama_detokenize(remove_special = false,
 * unparse_special = special) does: for SentencePiece the first token loses one leading space
 * (so detokenize(tokenize(s)) == s without BOS), byte tokens are joined, and for vocabularies
 * with clean-up (gpt2 default, llama3, bert) " ," " ." " 's" etc. are tightened. */
int lm_detokenize(const struct lm_tokenizer *t, const int32_t *ids, size_t n, bool special,
                  struct lm_buf *out);
/* The same with remove_special: a leading BOS (and trailing EOS when the model adds one) is
 * dropped and the SentencePiece leading space of the next token is then kept. */
int lm_detokenize_ex(const struct lm_tokenizer *t, const int32_t *ids, size_t n, bool remove_special,
                     bool special, struct lm_buf *out);

/* Model kind: "llama" (SPM), "gpt2" (BPE), "bert" (WPM). */
const char *lm_tokenizer_kind(const struct lm_tokenizer *t);
/* Whether tokenising with add_special adds BOS / EOS (llama.cpp's add_bos / add_eos). */
bool lm_tokenizer_adds_bos(const struct lm_tokenizer *t);
bool lm_tokenizer_adds_eos(const struct lm_tokenizer *t);
int32_t lm_tokenizer_unk(const struct lm_tokenizer *t);
/* True for control tokens (rendered as "" unless special). */
bool lm_tokenizer_is_control(const struct lm_tokenizer *t, int32_t id);

/* The token's vocabulary string (borrowed) or NULL if out of range. */
const char *lm_tokenizer_token_text(const struct lm_tokenizer *t, int32_t id);

#endif
