/* chat.h — chat templates: OpenAI-style messages to the prompt text a model expects.
 *
 * The family is recognised from tokenizer.chat_template (chatml, llama2, llama3, gemma,
 * mistral, ...) or forced by name (--chat-template NAME). The output is exactly what
 * llama.cpp produces for the same messages. An unrecognised template falls back to chatml
 * with a warning that names the fallback.
 */
#ifndef LM_CHAT_H
#define LM_CHAT_H

#include <stdbool.h>
#include <stddef.h>

#include "lm/buf.h"
#include "lm/err.h"

struct lm_chat_msg {
    const char *role;     /* "system", "user", "assistant" */
    const char *content;
};

/* Family name for a template text (NULL or "" gives "chatml"); *recognised is set false when
 * the text matched no family and the fallback was chosen. Returns a static string. */
const char *lm_chat_detect(const char *template_text, bool *recognised);

/* True if name is a known family name. */
bool lm_chat_family_known(const char *name);

/* Appends the prompt for msgs[0..n) in family to out; add_assistant appends the opening of the
 * assistant turn. The text is exactly llama.cpp's llm_chat_apply_template output, which never
 * contains BOS (the tokenizer adds it with add_special); bos_text, when not NULL, is written
 * first for callers that tokenise without add_special. LM_EINVAL for an unknown family. */
int lm_chat_apply(const char *family, const struct lm_chat_msg *msgs, size_t n, bool add_assistant,
                  const char *bos_text, struct lm_buf *out, struct lm_error *err);

#endif
