/* llm_client.c — OpenAI-compatible HTTP client over libcurl (see lm/llm_client.h). */
#include "lm/llm_client.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lm/buf.h"
#include "lm/sse_parse.h"

#define ERR_BODY_MAX 4096          /* bytes of a non-200 answer kept for the message */
#define RESP_MAX (64u << 20)       /* bytes of a non-streamed answer (embeddings of a batch) */

static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;

/* libcurl's global state is set up once, before the first handle. */
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Builds base + path, dropping a trailing slash of base. */
static int make_url(struct lm_buf *b, const char *base, const char *path)
{
    size_t n = strlen(base);
    while (n && base[n - 1] == '/') n--;
    if (lm_buf_append(b, base, n) < 0 || lm_buf_append_str(b, path) < 0) return LM_ENOMEM;
    return 0;
}

/* The server root: base without a trailing "/v1" (where llama.cpp keeps /props, /tokenize). */
static int make_root_url(struct lm_buf *b, const char *base, const char *path)
{
    size_t n = strlen(base);
    while (n && base[n - 1] == '/') n--;
    if (n >= 3 && !memcmp(base + n - 3, "/v1", 3)) n -= 3;
    if (lm_buf_append(b, base, n) < 0 || lm_buf_append_str(b, path) < 0) return LM_ENOMEM;
    return 0;
}

/* New easy handle with the common options (timeouts, headers). *hdrs must be freed. */
static CURL *new_handle(const struct lm_llm_config *cfg, const char *url, struct curl_slist **hdrs, bool json_body)
{
    pthread_once(&g_curl_once, curl_init_once);
    CURL *h = curl_easy_init();
    if (!h) return NULL;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 5000L);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    *hdrs = NULL;
    if (json_body) *hdrs = curl_slist_append(*hdrs, "Content-Type: application/json");
    if (cfg->api_key && *cfg->api_key) {
        char auth[1024];
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", cfg->api_key);
        *hdrs = curl_slist_append(*hdrs, auth);
    }
    if (*hdrs) curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
    return h;
}

/* The error text of an OpenAI-shaped error body, or the body itself (first line). */
static void error_from_body(const char *body, char *out, size_t cap)
{
    out[0] = 0;
    cJSON *j = cJSON_Parse(body);
    const cJSON *e = j ? cJSON_GetObjectItemCaseSensitive(j, "error") : NULL;
    const cJSON *m = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "message") : e;
    if (cJSON_IsString(m)) snprintf(out, cap, "%s", m->valuestring);
    else if (j && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "message")))
        snprintf(out, cap, "%s", cJSON_GetObjectItemCaseSensitive(j, "message")->valuestring);
    else snprintf(out, cap, "%.200s", body);
    cJSON_Delete(j);
    char *nl = strchr(out, '\n');
    if (nl) *nl = 0;
}

/* Maps a failed curl transfer to our error codes with a message that names the URL. */
static int curl_failure(CURLcode rc, const char *url, struct lm_error *err)
{
    int code = (rc == CURLE_OPERATION_TIMEDOUT) ? LM_ETIMEDOUT : LM_EIO;
    return lm_error_set(err, code, "llm: %s: %s", url, curl_easy_strerror(rc));
}

/* ---- streamed chat completions ---- */

struct stream_state {
    CURL *h;
    struct lm_sse_parser sse;
    lm_llm_delta_fn fn;
    void *user;
    struct lm_llm_result *res;
    struct lm_buf errbody;     /* body of a non-200 answer */
    long status;
    int rc;                    /* first error met inside callbacks */
    bool done;                 /* [DONE] seen */
    bool stopped;              /* fn asked to stop */
    struct timespec last_rx;   /* when the last byte arrived (idle timeout) */
    long idle_ms;
    const atomic_int *cancel;  /* set by another thread to stop */
    bool canceled, idle;
    struct lm_error *err;
};

/* One SSE event of the completion stream: a chat.completion.chunk, an error, or [DONE]. */
static int on_sse_event(void *user, const char *event, const char *data, size_t len)
{
    struct stream_state *st = user;
    (void)event;
    if (len == 6 && !memcmp(data, "[DONE]", 6)) {
        st->done = true;
        return 0;
    }
    cJSON *j = cJSON_ParseWithLength(data, len);
    if (!j) {
        st->rc = lm_error_set(st->err, LM_EFORMAT, "llm: stream chunk is not JSON: %.80s", data);
        return 1;
    }
    int rc = 0;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (e) {
        char msg[200];
        char *txt = cJSON_PrintUnformatted(j);
        error_from_body(txt ? txt : "", msg, sizeof msg);
        free(txt);
        st->rc = lm_error_set(st->err, LM_EIO, "llm: server error mid-stream: %s", msg);
        cJSON_Delete(j);
        return 1;
    }
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(j, "usage");
    if (cJSON_IsObject(usage) && st->res) {
        const cJSON *pt = cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens");
        const cJSON *ct = cJSON_GetObjectItemCaseSensitive(usage, "completion_tokens");
        if (cJSON_IsNumber(pt)) st->res->prompt_tokens = pt->valueint;
        if (cJSON_IsNumber(ct)) st->res->completion_tokens = ct->valueint;
    }
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(j, "choices");
    const cJSON *c0 = cJSON_IsArray(choices) ? cJSON_GetArrayItem(choices, 0) : NULL;
    if (c0) {
        const cJSON *delta = cJSON_GetObjectItemCaseSensitive(c0, "delta");
        const cJSON *content = cJSON_IsObject(delta) ? cJSON_GetObjectItemCaseSensitive(delta, "content") : NULL;
        /* legacy completions stream "text" instead of a delta */
        if (!content) content = cJSON_GetObjectItemCaseSensitive(c0, "text");
        if (cJSON_IsString(content) && content->valuestring[0] && !st->stopped) {
            if (st->fn(st->user, content->valuestring, strlen(content->valuestring)) != 0) {
                st->stopped = true;
                rc = 1;
            }
        }
        const cJSON *fr = cJSON_GetObjectItemCaseSensitive(c0, "finish_reason");
        if (cJSON_IsString(fr) && st->res)
            snprintf(st->res->finish_reason, sizeof st->res->finish_reason, "%s", fr->valuestring);
    } else if (!cJSON_IsObject(usage)) {
        st->rc = lm_error_set(st->err, LM_EFORMAT, "llm: stream chunk without choices: %.80s", data);
        rc = 1;
    }
    cJSON_Delete(j);
    return rc;
}

/* curl write callback: SSE bytes on 200, else the error body. */
static size_t on_stream_write(char *ptr, size_t size, size_t nmemb, void *user)
{
    struct stream_state *st = user;
    size_t n = size * nmemb;
    clock_gettime(CLOCK_MONOTONIC, &st->last_rx);
    if (st->cancel && atomic_load(st->cancel)) {
        st->canceled = true;
        return 0;
    }
    if (!st->status) curl_easy_getinfo(st->h, CURLINFO_RESPONSE_CODE, &st->status);
    if (st->status != 200) {
        if (st->errbody.len < ERR_BODY_MAX) lm_buf_append(&st->errbody, ptr, n);
        return n;
    }
    int rc = lm_sse_feed(&st->sse, ptr, n, on_sse_event, st, st->err);
    if (rc < 0 && !st->rc) st->rc = rc;
    return rc == 0 ? n : 0; /* 0 aborts the transfer */
}

/* The JSON request body of a streamed chat completion. Caller frees. */
static char *chat_body(const struct lm_llm_config *cfg, const struct lm_llm_chat_params *p)
{
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    cJSON_AddStringToObject(j, "model", cfg->model ? cfg->model : "");
    cJSON *msgs = cJSON_AddArrayToObject(j, "messages");
    for (size_t i = 0; msgs && i < p->n_messages; i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "role", p->messages[i].role);
        cJSON_AddStringToObject(m, "content", p->messages[i].content);
        cJSON_AddItemToArray(msgs, m);
    }
    cJSON_AddBoolToObject(j, "stream", 1);
    cJSON_AddNumberToObject(j, "temperature", p->temperature);
    if (p->max_tokens > 0) cJSON_AddNumberToObject(j, "max_tokens", p->max_tokens);
    cJSON *so = cJSON_AddObjectToObject(j, "stream_options");
    if (so) cJSON_AddBoolToObject(so, "include_usage", 1);
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

/* Milliseconds between two monotonic times. */
static long elapsed_ms(const struct timespec *from, const struct timespec *to)
{
    return (long)((to->tv_sec - from->tv_sec) * 1000 + (to->tv_nsec - from->tv_nsec) / 1000000);
}

/* curl progress callback (about once a second while silent): the cancel flag and the idle
 * timeout for transfers of their own; the pool's thread checks both every 50 ms as well. */
static int on_stream_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    struct stream_state *st = user;
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    if (st->cancel && atomic_load(st->cancel)) {
        st->canceled = true;
        return 1;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (elapsed_ms(&st->last_rx, &now) > st->idle_ms) {
        st->idle = true;
        return 1;
    }
    return 0;
}

/* ---- the shared transfer thread ---- */

struct pool_req {
    struct pool_req *next;
    CURL *h;
    struct stream_state *st;
    bool done;                 /* guarded by the pool's mu */
    CURLcode result;
    pthread_cond_t cv;
};

struct lm_llm_pool {
    CURLM *multi;
    pthread_t thread;
    pthread_mutex_t mu;
    struct pool_req *incoming; /* guarded by mu: submitted, not yet added to multi */
    bool quit;                 /* guarded by mu */
};

/* Hands a finished (or aborted) request back to its caller. Pool thread only. */
static void pool_finish(struct lm_llm_pool *p, struct pool_req **active, struct pool_req *r, CURLcode rc)
{
    curl_multi_remove_handle(p->multi, r->h);
    for (struct pool_req **pp = active; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    pthread_mutex_lock(&p->mu);
    r->result = rc;
    r->done = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&p->mu);
}

/* The pool thread: adds submitted requests, drives the transfers, checks cancel flags and idle
 * timeouts every 50 ms, and hands results back. */
static void *pool_main(void *arg)
{
    struct lm_llm_pool *p = arg;
    struct pool_req *active = NULL;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        bool quit = p->quit;
        struct pool_req *in = p->incoming;
        p->incoming = NULL;
        pthread_mutex_unlock(&p->mu);
        while (in) {
            struct pool_req *n = in->next;
            in->next = active;
            active = in;
            curl_easy_setopt(in->h, CURLOPT_PRIVATE, in);
            if (curl_multi_add_handle(p->multi, in->h) != CURLM_OK) pool_finish(p, &active, in, CURLE_FAILED_INIT);
            in = n;
        }
        if (quit && !active) break;
        int running = 0;
        curl_multi_perform(p->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(p->multi, &left))) {
            if (m->msg != CURLMSG_DONE) continue;
            struct pool_req *r = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
            if (r) pool_finish(p, &active, r, m->data.result);
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        for (struct pool_req *r = active, *n; r; r = n) {
            n = r->next;
            struct stream_state *st = r->st;
            if (quit || (st->cancel && atomic_load(st->cancel))) {
                st->canceled = true;
                pool_finish(p, &active, r, CURLE_ABORTED_BY_CALLBACK);
            } else if (elapsed_ms(&st->last_rx, &now) > st->idle_ms) {
                st->idle = true;
                pool_finish(p, &active, r, CURLE_OPERATION_TIMEDOUT);
            }
        }
        curl_multi_poll(p->multi, NULL, 0, 50, NULL);
    }
    return NULL;
}

/* Runs one transfer on the pool's thread and waits for its end. */
static CURLcode pool_run(struct lm_llm_pool *p, CURL *h, struct stream_state *st)
{
    struct pool_req r = {.h = h, .st = st};
    pthread_cond_init(&r.cv, NULL);
    pthread_mutex_lock(&p->mu);
    r.next = p->incoming;
    p->incoming = &r;
    pthread_mutex_unlock(&p->mu);
    curl_multi_wakeup(p->multi);
    pthread_mutex_lock(&p->mu);
    while (!r.done) pthread_cond_wait(&r.cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
    pthread_cond_destroy(&r.cv);
    return r.result;
}

/* Starts the pool's thread (see header). */
int lm_llm_pool_new(struct lm_llm_pool **out, struct lm_error *err)
{
    pthread_once(&g_curl_once, curl_init_once);
    struct lm_llm_pool *p = calloc(1, sizeof *p);
    if (!p || !(p->multi = curl_multi_init())) {
        free(p);
        return lm_error_set(err, LM_ENOMEM, "llm: cannot create the transfer pool");
    }
    pthread_mutex_init(&p->mu, NULL);
    if (pthread_create(&p->thread, NULL, pool_main, p) != 0) {
        curl_multi_cleanup(p->multi);
        pthread_mutex_destroy(&p->mu);
        free(p);
        return lm_error_set(err, LM_ENOMEM, "llm: cannot start the transfer thread");
    }
    *out = p;
    return 0;
}

/* Stops the thread (aborting what is still in flight) and frees the pool. */
void lm_llm_pool_free(struct lm_llm_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    pthread_mutex_unlock(&p->mu);
    curl_multi_wakeup(p->multi);
    pthread_join(p->thread, NULL);
    curl_multi_cleanup(p->multi);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* Streams one chat completion (see header). */
int lm_llm_chat_stream(const struct lm_llm_config *cfg, const struct lm_llm_chat_params *p,
                       lm_llm_delta_fn fn, void *user, const atomic_int *cancel,
                       struct lm_llm_result *res, struct lm_error *err)
{
    if (res) *res = (struct lm_llm_result){.prompt_tokens = -1, .completion_tokens = -1};
    struct lm_buf url = {0};
    if (make_url(&url, cfg->base_url, "/chat/completions") < 0) return lm_error_set(err, LM_ENOMEM, "llm: out of memory");
    char *body = chat_body(cfg, p);
    struct curl_slist *hdrs = NULL;
    CURL *h = body ? new_handle(cfg, url.data, &hdrs, true) : NULL;
    int rc = 0;
    if (!h) {
        rc = lm_error_set(err, LM_ENOMEM, "llm: cannot set up the request");
        goto out;
    }
    struct stream_state st = {.h = h, .fn = fn, .user = user, .res = res, .err = err, .cancel = cancel,
                              .idle_ms = (cfg->idle_timeout_s > 0 ? cfg->idle_timeout_s : 120L) * 1000};
    clock_gettime(CLOCK_MONOTONIC, &st.last_rx);
    lm_sse_init(&st.sse, 4u << 20);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_stream_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &st);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_stream_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &st);
    CURLcode done_rc = cfg->pool ? pool_run(cfg->pool, h, &st) : curl_easy_perform(h);

    if (st.canceled || st.stopped) {
        rc = lm_error_set(err, LM_ECANCELED, "llm: canceled");
    } else if (st.idle) {
        rc = lm_error_set(err, LM_ETIMEDOUT, "llm: %s: no data for %ld s", url.data, st.idle_ms / 1000);
    } else if (st.rc) {
        rc = st.rc;
    } else if (done_rc != CURLE_OK) {
        rc = curl_failure(done_rc, url.data, err);
    } else if (st.status != 200) {
        char msg[300];
        error_from_body(st.errbody.data ? st.errbody.data : "", msg, sizeof msg);
        rc = lm_error_set(err, st.status == 503 ? LM_EBUSY : st.status >= 400 && st.status < 500 ? LM_EINVAL : LM_EIO,
                          "llm: HTTP %ld: %s", st.status, msg);
    } else {
        lm_sse_finish(&st.sse, on_sse_event, &st);
        if (st.rc) rc = st.rc;
        else if (!st.done && (!res || !res->finish_reason[0])) {
            /* a whole JSON answer or a proxy's HTML page is a wrong server, not a dropped stream */
            char *ct = NULL;
            curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
            if (ct && !strstr(ct, "event-stream"))
                rc = lm_error_set(err, LM_EIO, "llm: %s: the answer is not an event stream (Content-Type %.80s)", url.data,
                                  ct);
            else
                rc = lm_error_set(err, LM_EIO, "llm: the stream ended early (connection dropped)");
        }
    }
    lm_sse_free(&st.sse);
    lm_buf_free(&st.errbody);
out:
    if (h) curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    free(body);
    lm_buf_free(&url);
    return rc;
}

/* ---- plain requests ---- */

struct body_state {
    struct lm_buf b;
    bool too_big;
};

/* curl write callback collecting a bounded body. */
static size_t on_body_write(char *ptr, size_t size, size_t nmemb, void *user)
{
    struct body_state *bs = user;
    size_t n = size * nmemb;
    if (bs->b.len + n > RESP_MAX) {
        bs->too_big = true;
        return 0;
    }
    return lm_buf_append(&bs->b, ptr, n) == 0 ? n : 0;
}

/* GET (body NULL) or POST a JSON body to url; returns the parsed JSON answer of a 200 in *out. */
static int request_json(const struct lm_llm_config *cfg, const char *url, const char *body, cJSON **out,
                        long *status_out, struct lm_error *err)
{
    struct curl_slist *hdrs = NULL;
    CURL *h = new_handle(cfg, url, &hdrs, body != NULL);
    if (!h) return lm_error_set(err, LM_ENOMEM, "llm: cannot set up the request");
    struct body_state bs = {0};
    if (body) curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, cfg->timeout_s > 0 ? cfg->timeout_s : 300L);
    /* a server that accepts and then says nothing is given up on after the idle timeout, as a
     * stream is: else a chat's metadata calls (/models, /props, /tokenize) wait out the whole
     * request timeout each, far longer than the LLM_IDLE_TIMEOUT_S the user set */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, cfg->idle_timeout_s > 0 ? cfg->idle_timeout_s : 120L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &bs);
    CURLcode crc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status_out) *status_out = status;
    int rc = 0;
    if (bs.too_big) rc = lm_error_set(err, LM_ETOOBIG, "llm: %s: answer larger than %u bytes", url, RESP_MAX);
    else if (crc != CURLE_OK) rc = curl_failure(crc, url, err);
    else if (status != 200) {
        char msg[300];
        error_from_body(bs.b.data ? bs.b.data : "", msg, sizeof msg);
        rc = lm_error_set(err, status >= 400 && status < 500 ? LM_EINVAL : LM_EIO, "llm: %s: HTTP %ld: %s", url,
                          status, msg);
    } else {
        *out = cJSON_ParseWithLength(bs.b.data ? bs.b.data : "", bs.b.len);
        if (!*out) rc = lm_error_set(err, LM_EFORMAT, "llm: %s: answer is not JSON", url);
    }
    lm_buf_free(&bs.b);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    return rc;
}

/* An integer member of o by any of the given names (first found), or 0. */
static int int_member(const cJSON *o, const char *const *names)
{
    for (; *names; names++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, *names);
        if (cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble < 1e9) return (int)v->valuedouble;
    }
    return 0;
}

/* Model id and context size (see header). */
int lm_llm_models(const struct lm_llm_config *cfg, struct lm_llm_model_info *out, struct lm_error *err)
{
    memset(out, 0, sizeof *out);
    struct lm_buf url = {0};
    if (make_url(&url, cfg->base_url, "/models") < 0) return LM_ENOMEM;
    cJSON *j = NULL;
    int rc = request_json(cfg, url.data, NULL, &j, NULL, err);
    lm_buf_free(&url);
    if (rc < 0) return rc;
    static const char *const ctx_names[] = {"n_ctx", "n_ctx_slot", "n_ctx_per_slot", "context_length", NULL};
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(j, "data");
    const cJSON *m0 = cJSON_IsArray(data) ? cJSON_GetArrayItem(data, 0) : NULL;
    int ctx_train = 0;
    if (m0) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(m0, "id");
        if (cJSON_IsString(id)) snprintf(out->id, sizeof out->id, "%s", id->valuestring);
        const cJSON *meta = cJSON_GetObjectItemCaseSensitive(m0, "meta");
        if (cJSON_IsObject(meta)) {
            out->n_ctx = int_member(meta, ctx_names);
            static const char *const train[] = {"n_ctx_train", NULL};
            ctx_train = int_member(meta, train);
        }
        if (!out->n_ctx) out->n_ctx = int_member(m0, ctx_names);
    }
    cJSON_Delete(j);
    if (out->n_ctx) return 0;

    /* llama.cpp: /props → default_generation_settings.n_ctx (per slot), or n_ctx */
    struct lm_buf purl = {0};
    if (make_root_url(&purl, cfg->base_url, "/props") < 0) return LM_ENOMEM;
    cJSON *p = NULL;
    if (request_json(cfg, purl.data, NULL, &p, NULL, NULL) == 0) {
        const cJSON *dgs = cJSON_GetObjectItemCaseSensitive(p, "default_generation_settings");
        if (cJSON_IsObject(dgs)) out->n_ctx = int_member(dgs, ctx_names);
        if (!out->n_ctx) out->n_ctx = int_member(p, ctx_names);
        cJSON_Delete(p);
    }
    lm_buf_free(&purl);
    if (!out->n_ctx) out->n_ctx = ctx_train;
    return 0;
}

/* Embeddings through the server (see header). */
int lm_llm_embed(const struct lm_llm_config *cfg, const char *const *texts, size_t n, float *out, int *dim,
                 struct lm_error *err)
{
    cJSON *req = cJSON_CreateObject();
    cJSON *in = req ? cJSON_AddArrayToObject(req, "input") : NULL;
    if (!in) {
        cJSON_Delete(req);
        return lm_error_set(err, LM_ENOMEM, "embeddings: out of memory");
    }
    cJSON_AddStringToObject(req, "model", cfg->model ? cfg->model : "");
    for (size_t i = 0; i < n; i++) cJSON_AddItemToArray(in, cJSON_CreateString(texts[i]));
    char *body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    struct lm_buf url = {0};
    if (!body || make_url(&url, cfg->base_url, "/embeddings") < 0) {
        free(body);
        return lm_error_set(err, LM_ENOMEM, "embeddings: out of memory");
    }
    cJSON *j = NULL;
    int rc = request_json(cfg, url.data, body, &j, NULL, err);
    free(body);
    lm_buf_free(&url);
    if (rc < 0) return rc;
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(j, "data");
    if (!cJSON_IsArray(data) || (size_t)cJSON_GetArraySize(data) != n) {
        cJSON_Delete(j);
        return lm_error_set(err, LM_EFORMAT, "embeddings: expected %zu vectors in data", n);
    }
    int want = *dim;
    const cJSON *item;
    cJSON_ArrayForEach(item, data) {
        const cJSON *idx = cJSON_GetObjectItemCaseSensitive(item, "index");
        const cJSON *emb = cJSON_GetObjectItemCaseSensitive(item, "embedding");
        int i = cJSON_IsNumber(idx) ? idx->valueint : -1;
        int d = cJSON_IsArray(emb) ? cJSON_GetArraySize(emb) : -1;
        if (i < 0 || (size_t)i >= n || d <= 0 || d > 4096 || (want && d != want)) {
            rc = lm_error_set(err, LM_EFORMAT, "embeddings: bad vector %d (dimension %d, expected %d)", i, d, want);
            break;
        }
        want = d;
        int k = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, emb) out[(size_t)i * (size_t)d + (size_t)k++] = (float)v->valuedouble;
    }
    cJSON_Delete(j);
    if (rc == 0) *dim = want;
    return rc;
}

/* Token count by the server's /tokenize (see header). */
int lm_llm_count_tokens(const struct lm_llm_config *cfg, const char *text, struct lm_error *err)
{
    cJSON *req = cJSON_CreateObject();
    if (!req) return LM_ENOMEM;
    cJSON_AddStringToObject(req, "content", text);
    char *body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    struct lm_buf url = {0};
    if (!body || make_root_url(&url, cfg->base_url, "/tokenize") < 0) {
        free(body);
        return LM_ENOMEM;
    }
    cJSON *j = NULL;
    int rc = request_json(cfg, url.data, body, &j, NULL, err);
    free(body);
    lm_buf_free(&url);
    if (rc < 0) return rc;
    const cJSON *toks = cJSON_GetObjectItemCaseSensitive(j, "tokens");
    rc = cJSON_IsArray(toks) ? cJSON_GetArraySize(toks) : lm_error_set(err, LM_EFORMAT, "tokenize: no tokens");
    cJSON_Delete(j);
    return rc;
}
