/* tokenizer.h — text to token ids and back, from GGUF metadata.
 *
 * Kinds (tokenizer.ggml.model): "llama" (SentencePiece-style, scores, byte fallback),
 * "gpt2" (byte-level BPE with merges and a pre-tokenizer regex chosen by tokenizer.ggml.pre),
 * "bert" (WordPiece). Behaviour matches llama.cpp's for the same GGUF.
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
 * token strings (e.g. "<|im_start|>") in the text; otherwise they are plain text.
 * On success *out is a new array of *n ids (malloc; caller frees). Invalid UTF-8 is handled
 * as llama.cpp does (never an error, never a crash). */
int lm_tokenize(const struct lm_tokenizer *t, const char *text, size_t len, bool add_special,
                bool parse_special, int32_t **out, size_t *n, struct lm_error *err);

/* Appends the bytes of one token to out. special = false renders control tokens as ""
 * (as llama.cpp's detokenizer does for generated text). Returns 0 or LM_EINVAL for an id out
 * of range. Bytes may be an incomplete UTF-8 sequence (byte tokens): callers that stream
 * text hold back incomplete sequences. */
int lm_token_to_piece(const struct lm_tokenizer *t, int32_t id, bool special, struct lm_buf *out);

/* Appends the text of ids[0..n) to out, as llama.cpp's detokenize does (removes the leading
 * space SentencePiece adds after BOS, etc.). */
int lm_detokenize(const struct lm_tokenizer *t, const int32_t *ids, size_t n, bool special,
                  struct lm_buf *out);

/* The token's vocabulary string (borrowed) or NULL if out of range. */
const char *lm_tokenizer_token_text(const struct lm_tokenizer *t, int32_t id);

#endif
