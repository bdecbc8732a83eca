/* server.h — llmd's server internals, shared by its files (private to the program).
 *
 *   serve.c         flags, start-up (HTTP first, then the model), signals, shutdown
 *   routes.c        request routing, auth, the small routes, /metrics
 *   oai_request.c   OpenAI request bodies (JSON) to struct llmd_request
 *   oai_complete.c  /v1/chat/completions and /v1/completions: prompt, task, SSE or JSON answer
 *   sched.c         the continuous-batching scheduler: slots, one lm_ctx, the decode loop
 *   textout.c       generated text to safe deltas: stop strings, UTF-8 hold-back
 *   json_prefix.c   incremental JSON-prefix validator for response_format json_object
 */
#ifndef LLMD_SERVER_H
#define LLMD_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lm/buf.h"
#include "lm/chat.h"
#include "lm/err.h"
#include "lm/http.h"
#include "lm/sampler.h"

struct lm_model;
struct lm_ctx;
struct lm_embedder;
struct lm_tokenizer;
struct llmd_sched;

/* Command-line options. */
struct llmd_opts {
    const char *model, *host, *api_key, *alias, *chat_template;
    int port, n_ctx, n_parallel, n_threads, n_predict, queue, n_batch;
    bool embeddings;
    size_t max_body;
};

/* Counters for /metrics (atomics: updated by handlers and the scheduler). */
struct llmd_metrics {
    atomic_ullong requests, requests_ok, requests_err;
    atomic_ullong prompt_tokens, gen_tokens;
    atomic_ullong prompt_us, gen_us;        /* slot-time spent on prompts / generation */
    atomic_ullong decode_calls;
};

/* The whole server. */
struct llmd_server {
    struct llmd_opts opts;
    atomic_bool ready;           /* model loaded */
    atomic_bool stopping;
    struct lm_model *model;
    const struct lm_tokenizer *tok;
    const char *model_id;        /* alias or the file name */
    const char *chat_family;     /* chat template family name */
    int n_ctx;                   /* per slot */
    struct llmd_sched *sched;    /* NULL for embedding models */
    struct lm_embedder *embedder;
    pthread_mutex_t embed_mu;    /* one embedding call at a time */
    struct llmd_metrics metrics;
    long long started_at;
};

/* ---- oai_request.c ---- */

enum llmd_kind { LLMD_CHAT = 0, LLMD_COMPLETION = 1 };

struct llmd_request {
    enum llmd_kind kind;
    char *model;
    bool stream, include_usage, json_mode, ignore_eos;
    struct lm_sampler_params sp;
    int n_predict;               /* -1: until the context is full */
    char **stop;                 /* owned strings */
    size_t n_stop;
    struct lm_chat_msg *msgs;    /* chat: role/content owned */
    size_t n_msgs;
    int32_t *bias_ids;           /* logit_bias: token ids ... */
    float *bias;                 /* ... and what is added to their logits (-100 bans) */
    size_t n_bias;
    char *prompt;                /* completion: text, or NULL when given as token ids */
    int32_t *prompt_ids;
    size_t n_prompt_ids;
};

/* Parses an OpenAI request body. Defaults: sampling from lm_sampler_defaults (seed from
 * default_seed), n_predict from default_n_predict. Returns 0 or LM_EFORMAT/LM_EINVAL with a
 * message naming the field. *out is filled (free with llmd_request_free) only on success. */
int llmd_request_parse(const char *body, size_t len, enum llmd_kind kind, int default_n_predict,
                       uint64_t default_seed, struct llmd_request *out, struct lm_error *err);
void llmd_request_free(struct llmd_request *r);

/* ---- textout.c ---- */

/* Turns the growing generated text into deltas that are safe to send: no stop string (nor a
 * prefix of one that may still complete) and no incomplete UTF-8 sequence at the end. */
struct llmd_textout {
    struct lm_buf text;          /* everything generated so far (raw bytes) */
    size_t sent;                 /* bytes of text already handed out */
    char *const *stop;
    size_t n_stop;
    bool stopped;                /* a stop string was found; text is cut before it */
};
/* Appends piece; returns true when a stop string completed (generation must end). */
bool llmd_textout_add(struct llmd_textout *t, const char *piece, size_t len);
/* The next safe delta: appends it to out, valid UTF-8 (invalid bytes become U+FFFD).
 * final = true flushes everything that is held back (generation ended). */
void llmd_textout_take(struct llmd_textout *t, bool final, struct lm_buf *out);
void llmd_textout_free(struct llmd_textout *t);
/* Appends s[0..n) to out with invalid UTF-8 replaced by U+FFFD. */
void llmd_utf8_sanitize(const char *s, size_t n, struct lm_buf *out);
/* Length of the longest prefix of s[0..n) that does not end inside a UTF-8 sequence that
 * could still be completed. */
size_t llmd_utf8_complete_len(const char *s, size_t n);

/* ---- json_prefix.c ---- */

#define LLMD_JSON_MAX_DEPTH 64
/* Incremental validator: accepts exactly the byte strings that are prefixes of one JSON
 * object (RFC 8259, top level an object, then optional whitespace). Copy by value to try a
 * continuation without committing it. */
struct llmd_json {
    uint8_t state, lit_i, hex_left, is_key;
    const char *lit;
    int depth;
    char stack[LLMD_JSON_MAX_DEPTH];   /* '{' or '[' */
};
void llmd_json_init(struct llmd_json *j);
/* Feeds bytes; false (and j unusable) when they cannot continue a JSON object. */
bool llmd_json_feed(struct llmd_json *j, const char *s, size_t n);
/* True once the top-level object is complete. */
bool llmd_json_done(const struct llmd_json *j);
/* Writes the shortest text that completes the JSON (NUL-terminated, bounded by cap). */
size_t llmd_json_closing(const struct llmd_json *j, char *out, size_t cap);

/* ---- sched.c ---- */

enum llmd_finish { LLMD_FINISH_NONE = 0, LLMD_FINISH_STOP, LLMD_FINISH_LENGTH, LLMD_FINISH_ERROR,
                   LLMD_FINISH_CANCELLED };

/* One generation request as the scheduler sees it. The handler fills the inputs, submits,
 * then reads the outputs under mu until done; it frees the task only after done. */
struct llmd_task {
    /* inputs, read-only once submitted */
    int32_t *prompt;             /* owned */
    int n_prompt;
    struct lm_sampler_params sp;
    int n_predict;               /* -1: unlimited */
    char **stop;                 /* borrowed from the request */
    size_t n_stop;
    bool json_mode;
    bool ignore_eos;                 /* end-of-generation tokens are never sampled */
    const int32_t *bias_ids;         /* logit_bias, borrowed from the request */
    const float *bias;
    size_t n_bias;
    /* the answer's stream once it began (NULL before, and for JSON answers): the scheduler
     * checks it every step, so a vanished client frees its slot at the next step. The
     * handler ends the stream only after done, so the pointer stays valid while it matters. */
    struct lm_http_stream *_Atomic stream;
    atomic_bool cancel;              /* set by the handler: free the slot at the next step */

    /* outputs, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct lm_buf delta;         /* text produced and not yet taken by the handler */
    bool done;                   /* the scheduler is finished with this task */
    enum llmd_finish finish;
    char errmsg[256];
    int n_gen;                   /* tokens generated */
    int n_cached;                /* prompt tokens reused from the slot's cache */
    double prompt_ms, gen_ms;
    int slot;                    /* slot that served it, -1 before */
};

struct llmd_task *llmd_task_new(void);
void llmd_task_free(struct llmd_task *t);

struct llmd_sched_params {
    int n_slots, n_ctx, n_batch, n_threads, queue_max;
};

/* Creates the context (n_seq = n_slots) and starts the loop thread. */
int llmd_sched_start(struct llmd_server *srv, const struct llmd_sched_params *p, struct llmd_sched **out,
                     struct lm_error *err);
/* Queues t. LM_EBUSY when the queue is full, LM_ECANCELED while stopping. */
int llmd_sched_submit(struct llmd_sched *s, struct llmd_task *t);
/* Ends every task (running ones finish with "stop", queued ones with an error) and joins the
 * loop; later submits fail with LM_ECANCELED. */
void llmd_sched_stop(struct llmd_sched *s);
/* Stops (if needed) and frees, once no request thread can reach s any more. */
void llmd_sched_free(struct llmd_sched *s);

struct llmd_sched_stats {
    int n_slots, busy, queued;
    int n_ctx;
};
void llmd_sched_stats(struct llmd_sched *s, struct llmd_sched_stats *out);

/* ---- routes.c / oai_complete.c ---- */

void llmd_handle(struct lm_http_req *req, void *user);
void llmd_handle_completion(struct llmd_server *srv, struct lm_http_req *req, enum llmd_kind kind);
long long llmd_now_us(void);

#endif
