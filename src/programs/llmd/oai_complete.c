/* oai_complete.c — /v1/chat/completions and /v1/completions.
 *
 * The handler runs on the request's own thread (see lm/http.h): it parses the body, builds
 * and tokenises the prompt, checks that it fits the slot's context (a 400 with the counts,
 * before any stream starts), queues a task for the scheduler, and then either streams the
 * deltas as Server-Sent Events as they arrive or waits and answers one JSON object. While it
 * streams it watches the connection; a client that went away cancels the task, and the
 * scheduler frees the slot at its next step.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "lm/log.h"
#include "lm/model.h"
#include "lm/tokenizer.h"
#include "server.h"

/* A fresh random id such as "chatcmpl-3Hx...". */
static void make_id(const char *prefix, char *out, size_t cap)
{
    static const char al[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    uint64_t x = (uint64_t)llmd_now_us() ^ ((uint64_t)(uintptr_t)out << 17) ^ (uint64_t)rand();
    size_t n = (size_t)snprintf(out, cap, "%s", prefix);
    for (int i = 0; i < 24 && n + 1 < cap; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out[n++] = al[x % (sizeof al - 1)];
    }
    out[n] = 0;
}

static uint64_t random_seed(void)
{
    uint64_t s = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    if (f) {
        if (fread(&s, sizeof s, 1, f) != 1) s = 0;
        fclose(f);
    }
    return s ^ (uint64_t)llmd_now_us();
}

static const char *finish_name(enum llmd_finish f)
{
    return f == LLMD_FINISH_LENGTH ? "length" : "stop";
}

struct answer {
    struct llmd_server *srv;
    enum llmd_kind kind;
    char id[48];
    long long created;
    int n_prompt;
};

/* Common envelope of a response object or chunk. */
static cJSON *envelope(const struct answer *a, bool chunk)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", a->id);
    cJSON_AddStringToObject(o, "object",
                            a->kind == LLMD_CHAT ? (chunk ? "chat.completion.chunk" : "chat.completion")
                                                 : "text_completion");
    cJSON_AddNumberToObject(o, "created", (double)a->created);
    cJSON_AddStringToObject(o, "model", a->srv->model_id);
    cJSON_AddStringToObject(o, "system_fingerprint", "llmd");
    return o;
}

static cJSON *usage_json(const struct answer *a, int n_gen)
{
    cJSON *u = cJSON_CreateObject();
    cJSON_AddNumberToObject(u, "prompt_tokens", a->n_prompt);
    cJSON_AddNumberToObject(u, "completion_tokens", n_gen);
    cJSON_AddNumberToObject(u, "total_tokens", a->n_prompt + n_gen);
    return u;
}

/* llama.cpp-style timings. */
static cJSON *timings_json(const struct answer *a, const struct llmd_task *t)
{
    cJSON *o = cJSON_CreateObject();
    int n = a->n_prompt - t->n_cached;  /* as llama.cpp: prompt_n counts the decoded ones */
    cJSON_AddNumberToObject(o, "cache_n", t->n_cached);
    cJSON_AddNumberToObject(o, "prompt_n", n);
    cJSON_AddNumberToObject(o, "prompt_ms", t->prompt_ms);
    cJSON_AddNumberToObject(o, "prompt_per_token_ms", n ? t->prompt_ms / n : 0);
    cJSON_AddNumberToObject(o, "prompt_per_second", t->prompt_ms > 0 ? 1000.0 * n / t->prompt_ms : 0);
    cJSON_AddNumberToObject(o, "predicted_n", t->n_gen);
    cJSON_AddNumberToObject(o, "predicted_ms", t->gen_ms);
    cJSON_AddNumberToObject(o, "predicted_per_token_ms", t->n_gen ? t->gen_ms / t->n_gen : 0);
    cJSON_AddNumberToObject(o, "predicted_per_second", t->gen_ms > 0 ? 1000.0 * t->n_gen / t->gen_ms : 0);
    return o;
}

/* One choice; text NULL with a chat chunk gives an empty delta. */
static cJSON *choice_json(const struct answer *a, bool chunk, bool role, const char *text, const char *finish)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddNumberToObject(c, "index", 0);
    if (a->kind == LLMD_CHAT) {
        cJSON *m = cJSON_AddObjectToObject(c, chunk ? "delta" : "message");
        if (role || !chunk) cJSON_AddStringToObject(m, "role", "assistant");
        if (text) cJSON_AddStringToObject(m, "content", text);
    } else {
        cJSON_AddStringToObject(c, "text", text ? text : "");
    }
    cJSON_AddNullToObject(c, "logprobs");
    if (finish) cJSON_AddStringToObject(c, "finish_reason", finish);
    else cJSON_AddNullToObject(c, "finish_reason");
    return c;
}

/* Writes one SSE event "data: <json>\n\n" and frees o. */
static int sse_json(struct lm_http_stream *st, cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s) return LM_ENOMEM;
    int rc = lm_http_sse_data(st, s);
    free(s);
    return rc;
}

static cJSON *chunk_json(const struct answer *a, bool role, const char *text, const char *finish, bool usage_null)
{
    cJSON *o = envelope(a, true);
    cJSON *ch = cJSON_AddArrayToObject(o, "choices");
    cJSON_AddItemToArray(ch, choice_json(a, true, role, text, finish));
    if (usage_null) cJSON_AddNullToObject(o, "usage");
    return o;
}

/* Builds the prompt token ids of a request; on failure answers the request and returns -1. */
static int build_prompt(struct llmd_server *srv, struct lm_http_req *req, const struct llmd_request *r,
                        int32_t **ids, size_t *n)
{
    struct lm_error err = {0};
    *ids = NULL;
    *n = 0;
    if (r->prompt_ids) {
        int n_vocab = lm_model_info(srv->model)->n_vocab;
        for (size_t i = 0; i < r->n_prompt_ids; i++) {
            if (r->prompt_ids[i] >= n_vocab) {
                lm_http_respond_error(req, 400, "invalid_request_error", "prompt token %d is outside the vocabulary (%d)",
                                      r->prompt_ids[i], n_vocab);
                return -1;
            }
        }
        *ids = malloc(r->n_prompt_ids * sizeof **ids);
        if (!*ids) {
            lm_http_respond_error(req, 500, "server_error", "out of memory");
            return -1;
        }
        memcpy(*ids, r->prompt_ids, r->n_prompt_ids * sizeof **ids);
        *n = r->n_prompt_ids;
        return 0;
    }
    struct lm_buf text = {0};
    const char *p = r->prompt;
    if (r->kind == LLMD_CHAT) {
        if (lm_chat_apply(srv->chat_family, r->msgs, r->n_msgs, true, NULL, &text, &err) < 0) {
            lm_buf_free(&text);
            lm_http_respond_error(req, 400, "invalid_request_error", "chat template: %s", err.msg);
            return -1;
        }
        p = text.data ? text.data : "";
    }
    int rc = lm_tokenize(srv->tok, p, strlen(p), true, true, ids, n, &err);
    lm_buf_free(&text);
    if (rc < 0) {
        lm_http_respond_error(req, 400, "invalid_request_error", "cannot tokenize the prompt: %s", err.msg);
        return -1;
    }
    return 0;
}

/* Waits (bounded) for new text or the end; returns true when the task is done. */
static bool wait_task(struct llmd_task *t, struct lm_buf *text, int ms)
{
    pthread_mutex_lock(&t->mu);
    if (!t->delta.len && !t->done) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)ms * 1000000L;
        while (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&t->cv, &t->mu, &ts);
    }
    if (t->delta.len) {
        lm_buf_append(text, t->delta.data, t->delta.len);
        lm_buf_clear(&t->delta);
    }
    bool done = t->done && !t->delta.len;
    pthread_mutex_unlock(&t->mu);
    return done;
}

static void stream_answer(struct answer *a, struct lm_http_req *req, const struct llmd_request *r,
                          struct llmd_task *t)
{
    struct lm_http_stream *st = lm_http_stream_begin(req, 200, "text/event-stream");
    atomic_store(&t->stream, st);
    struct lm_buf text = {0};
    bool gone = false;
    if (a->kind == LLMD_CHAT) gone = sse_json(st, chunk_json(a, true, "", NULL, r->include_usage)) < 0;
    for (;;) {
        lm_buf_clear(&text);
        bool done = wait_task(t, &text, 25);
        if (text.len && !gone)
            gone = sse_json(st, chunk_json(a, false, text.data, NULL, r->include_usage)) < 0;
        if (done) break;
        if (!gone && lm_http_stream_gone(st)) gone = true;
        if (gone) atomic_store(&t->cancel, true);
    }
    if (!gone) {
        if (t->finish == LLMD_FINISH_ERROR) {
            cJSON *o = cJSON_CreateObject();
            cJSON *e = cJSON_AddObjectToObject(o, "error");
            cJSON_AddStringToObject(e, "message", t->errmsg);
            cJSON_AddStringToObject(e, "type", "server_error");
            cJSON_AddNumberToObject(e, "code", 500);
            sse_json(st, o);
        } else {
            cJSON *o = chunk_json(a, false, a->kind == LLMD_CHAT ? NULL : "", finish_name(t->finish), r->include_usage);
            cJSON_AddItemToObject(o, "timings", timings_json(a, t));
            sse_json(st, o);
            if (r->include_usage) {
                cJSON *u = envelope(a, true);
                cJSON_AddArrayToObject(u, "choices");
                cJSON_AddItemToObject(u, "usage", usage_json(a, t->n_gen));
                sse_json(st, u);
            }
        }
        lm_http_sse_data(st, "[DONE]");
    }
    lm_http_stream_end(st);
    lm_buf_free(&text);
}

static void json_answer(struct answer *a, struct lm_http_req *req, struct llmd_task *t)
{
    struct lm_buf text = {0};
    /* a client that gives up on a long answer frees its slot too */
    while (!wait_task(t, &text, 100))
        if (!atomic_load(&t->cancel) && lm_http_req_gone(req)) atomic_store(&t->cancel, true);
    if (t->finish == LLMD_FINISH_ERROR) {
        lm_http_respond_error(req, 500, "server_error", "%s", t->errmsg);
        lm_buf_free(&text);
        return;
    }
    cJSON *o = envelope(a, false);
    cJSON *ch = cJSON_AddArrayToObject(o, "choices");
    cJSON_AddItemToArray(ch, choice_json(a, false, true, text.data ? text.data : "", finish_name(t->finish)));
    cJSON_AddItemToObject(o, "usage", usage_json(a, t->n_gen));
    cJSON_AddItemToObject(o, "timings", timings_json(a, t));
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (s) lm_http_respond_json(req, 200, s);
    else lm_http_respond_error(req, 500, "server_error", "out of memory");
    free(s);
    lm_buf_free(&text);
}

void llmd_handle_completion(struct llmd_server *srv, struct lm_http_req *req, enum llmd_kind kind)
{
    struct lm_error err = {0};
    struct llmd_request r;
    if (llmd_request_parse(req->body, req->body_len, kind, srv->opts.n_predict, random_seed(), &r, &err) < 0) {
        lm_http_respond_error(req, 400, "invalid_request_error", "%s", err.msg);
        return;
    }
    if (!srv->sched) {
        lm_http_respond_error(req, 501, "not_supported_error",
                              "model %s is an embedding model: it serves /v1/embeddings only", srv->model_id);
        llmd_request_free(&r);
        return;
    }
    int32_t *ids;
    size_t n;
    if (build_prompt(srv, req, &r, &ids, &n) < 0) {
        llmd_request_free(&r);
        return;
    }
    if (n == 0) {
        lm_http_respond_error(req, 400, "invalid_request_error", "the prompt is empty");
        goto out;
    }
    for (size_t i = 0; i < r.n_bias; i++) {
        if (r.bias_ids[i] >= lm_model_info(srv->model)->n_vocab) {
            lm_http_respond_error(req, 400, "invalid_request_error", "logit_bias: token %d is outside the vocabulary",
                                  r.bias_ids[i]);
            goto out;
        }
    }
    if (n >= (size_t)srv->n_ctx) {
        lm_http_respond_error(req, 400, "exceed_context_size_error",
                              "the request exceeds the available context size: the prompt has %zu tokens, the "
                              "context per slot is %d tokens (room for %d prompt tokens plus generation)",
                              n, srv->n_ctx, srv->n_ctx - 1);
        goto out;
    }
    struct llmd_task *t = llmd_task_new();
    if (!t) {
        lm_http_respond_error(req, 500, "server_error", "out of memory");
        goto out;
    }
    t->prompt = ids;
    ids = NULL;
    t->n_prompt = (int)n;
    t->sp = r.sp;
    t->n_predict = r.n_predict;
    t->stop = r.stop;
    t->n_stop = r.n_stop;
    t->json_mode = r.json_mode;
    t->ignore_eos = r.ignore_eos;
    t->bias_ids = r.bias_ids;
    t->bias = r.bias;
    t->n_bias = r.n_bias;
    int rc = llmd_sched_submit(srv->sched, t);
    if (rc < 0) {
        llmd_task_free(t);
        lm_http_add_header(req, "Retry-After", "1");
        lm_http_respond_error(req, 503, "unavailable_error",
                              rc == LM_EBUSY ? "server is busy: all slots and the queue are full, retry later"
                                             : "server is shutting down");
        goto out;
    }
    struct answer a = {.srv = srv, .kind = kind, .created = (long long)time(NULL), .n_prompt = (int)n};
    make_id(kind == LLMD_CHAT ? "chatcmpl-" : "cmpl-", a.id, sizeof a.id);
    if (r.stream) stream_answer(&a, req, &r, t);
    else json_answer(&a, req, t);
    /* the scheduler may still hold the task (a cancelled stream): wait until it lets go */
    pthread_mutex_lock(&t->mu);
    while (!t->done) pthread_cond_wait(&t->cv, &t->mu);
    pthread_mutex_unlock(&t->mu);
    if (t->finish == LLMD_FINISH_ERROR) atomic_fetch_add(&srv->metrics.requests_err, 1);
    else atomic_fetch_add(&srv->metrics.requests_ok, 1);
    llmd_task_free(t);
out:
    free(ids);
    llmd_request_free(&r);
}
