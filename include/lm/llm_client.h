/* llm_client.h — a client for an OpenAI-compatible server (llmd, llama.cpp, vLLM, Ollama),
 * over libcurl: streamed chat completions (Server-Sent Events), the model list with its
 * context size, embeddings and token counting.
 *
 * Every call is blocking and runs on the caller's thread; any number of threads may call at
 * once (each call has its own curl handle). A streamed call can be cancelled from another
 * thread by setting *cancel to non-zero: it returns LM_ECANCELED within about 50 ms with a
 * pool, else at the next piece of data or within about a second while the server is silent.
 *
 *     struct lm_llm_config cfg = {.base_url = "http://127.0.0.1:8080/v1", .api_key = "sk-local",
 *                                 .model = "m.gguf"};
 *     struct lm_llm_message msgs[] = {{"system", "You are a helpful assistant."}, {"user", "Hi"}};
 *     lm_llm_chat_stream(&cfg, &(struct lm_llm_chat_params){msgs, 2, 0.2, 0}, on_delta, user,
 *                        &cancel, &res, &err);
 */
#ifndef LM_LLM_CLIENT_H
#define LM_LLM_CLIENT_H

#include <stdatomic.h>
#include <stddef.h>

#include "lm/err.h"

struct lm_llm_pool;

struct lm_llm_config {
    const char *base_url;        /* ".../v1" (a trailing slash is fine) */
    const char *api_key;         /* Bearer key, or NULL/"" for none */
    const char *model;           /* model name sent in requests */
    long connect_timeout_ms;     /* 0 = 5000 */
    long idle_timeout_s;         /* abort when no byte arrives for this long; 0 = 120 */
    long timeout_s;              /* whole request (non-streamed calls); 0 = 300 */
    struct lm_llm_pool *pool;    /* streamed calls run on this pool's thread; NULL = their own */
};

/* A transfer thread shared by streamed calls: one curl multi handle drives every request in
 * flight, so a server with hundreds of chats holds one descriptor per request (a transfer of
 * its own costs three: curl's wake-up socket pair besides the connection) and reuses the
 * connections to the LLM server. Delta callbacks then run on the pool's thread: they must not
 * block. Free it after every call that uses it has returned. */
int lm_llm_pool_new(struct lm_llm_pool **out, struct lm_error *err);
void lm_llm_pool_free(struct lm_llm_pool *p);

struct lm_llm_message {
    const char *role;            /* "system", "user", "assistant" */
    const char *content;
};

struct lm_llm_chat_params {
    const struct lm_llm_message *messages;
    size_t n_messages;
    double temperature;          /* sent as is */
    int max_tokens;              /* 0 = not sent (the server's default) */
};

/* Called with each piece of answer text (not NUL-terminated). Return 0 to go on, non-zero
 * to stop the stream (the call then returns LM_ECANCELED). */
typedef int (*lm_llm_delta_fn)(void *user, const char *text, size_t len);

struct lm_llm_result {
    char finish_reason[16];      /* "stop", "length", or "" when the stream ended without one */
    int prompt_tokens;           /* from usage when the server sent it, else -1 */
    int completion_tokens;
};

/* POST {base}/chat/completions with stream=true, calling fn per delta. cancel may be NULL.
 * Errors: LM_EIO (unreachable, connection dropped: message says which), LM_ETIMEDOUT,
 * LM_EINVAL (the server answered 4xx; message carries its error text), LM_EBUSY (503: the
 * server's queue is full, worth a retry), LM_EFORMAT (a chunk that is not the OpenAI shape),
 * LM_ECANCELED. res may be NULL. */
int lm_llm_chat_stream(const struct lm_llm_config *cfg, const struct lm_llm_chat_params *p,
                       lm_llm_delta_fn fn, void *user, const atomic_int *cancel,
                       struct lm_llm_result *res, struct lm_error *err);

struct lm_llm_model_info {
    char id[256];                /* first model's id */
    int n_ctx;                   /* context per request (slot), or 0 when the server does not say */
};

/* GET {base}/models, then the server's /props for the context size when the list does not
 * carry it (llama.cpp keeps it there). Also a cheap liveness check. */
int lm_llm_models(const struct lm_llm_config *cfg, struct lm_llm_model_info *out, struct lm_error *err);

/* POST {base}/embeddings for n texts; out receives n * dim floats. *dim is in/out: pass the
 * expected dimension (or 0 to learn it; then out must hold n * 4096). */
int lm_llm_embed(const struct lm_llm_config *cfg, const char *const *texts, size_t n, float *out, int *dim,
                 struct lm_error *err);

/* Token count of text by the server's /tokenize route (llama.cpp, llmd), or a negative
 * error when the server has none. */
int lm_llm_count_tokens(const struct lm_llm_config *cfg, const char *text, struct lm_error *err);

#endif
