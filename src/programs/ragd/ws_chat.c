/* ws_chat.c — WebSocket /api/v1/ws/chat with the seed's protocol.
 *
 * Client → server: {"content": "..."}, {"type": "reset"}, and beyond the seed {"type": "stop"}
 * and {"type": "auth", "token": "..."} (when RAGD_API_KEY is set and no header carried it).
 * Server → client: {"type":"sources","items":[...]}, {"type":"delta","content":...} per piece,
 * {"type":"done"}, {"type":"reset_ok"}, {"type":"error","message":...}.
 *
 * Threads: the connection's I/O thread (lm_ws_run) parses messages and queues them for one
 * worker thread per connection, which answers them in order: retrieval, then the LLM stream.
 * A "stop" is not queued: the I/O thread sends the answer's "done" at once and sets the cancel
 * flag the running LLM call checks; pieces still arriving are dropped (send_mu orders them
 * against the done). When the socket closes the worker is cancelled and joined. */
#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "lm/buf.h"
#include "lm/log.h"
#include "lm/ws.h"

#define MAX_PENDING 16        /* queued messages per connection before "busy" errors */
#define ANSWER_SHARE 4        /* a quarter of the context is left for the answer */

enum job_kind { JOB_CONTENT, JOB_RESET, JOB_ERROR };

struct job {
    struct job *next;
    enum job_kind kind;
    char *text;
};

struct ragd_chat {
    struct ragd_app *app;
    struct lm_ws *ws;
    pthread_t worker;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *head, *tail;   /* guarded by mu */
    int pending;               /* guarded by mu */
    bool quit;                 /* guarded by mu */
    atomic_int cancel;         /* stop the answer in flight */
    pthread_mutex_t send_mu;   /* orders answer messages against a stop from the I/O thread */
    bool answering;            /* guarded by send_mu: an answer is in flight */
    bool ended;                /* guarded by send_mu: it got its done (or error) already */
    bool authed;               /* I/O thread only */
    long rate_window;          /* I/O thread only: start of the 10 s window */
    int rate_count;
    struct lm_rag_turn *turns; /* worker only: the conversation, plain questions and answers */
    size_t n_turns, cap_turns;
    bool busy;                 /* guarded by mu: the worker is handling a message */
    long id;                   /* serial number, for the log */
    struct ragd_chat *next, *prev; /* app->chats, guarded by app->chats_mu */
};

/* Sends a JSON object (deleted here). */
static int send_obj(struct ragd_chat *c, cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s) return LM_ENOMEM;
    int rc = lm_ws_send_text(c->ws, s, strlen(s));
    free(s);
    return rc;
}

/* Sends {"type": type} or {"type": "error", "message": msg}. */
static int send_simple(struct ragd_chat *c, const char *type, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", type);
    if (message) cJSON_AddStringToObject(o, "message", message);
    return send_obj(c, o);
}

/* Sends o as part of the answer in flight, unless that answer already ended (a stop sent its
 * done): then o is dropped and 1 returned. */
static int send_answer_obj(struct ragd_chat *c, cJSON *o)
{
    pthread_mutex_lock(&c->send_mu);
    int rc;
    if (c->ended) {
        cJSON_Delete(o);
        rc = 1;
    } else {
        rc = send_obj(c, o);
    }
    pthread_mutex_unlock(&c->send_mu);
    return rc;
}

/* Ends the answer in flight with {"type": type} (done, or error with message), once. Called
 * by the worker when the answer ends and by the I/O thread on stop, so a stop gets its done
 * at once even while the LLM request is still being torn down. */
static void end_answer(struct ragd_chat *c, const char *type, const char *message)
{
    pthread_mutex_lock(&c->send_mu);
    if (c->answering && !c->ended) {
        send_simple(c, type, message);
        c->ended = true;
    }
    pthread_mutex_unlock(&c->send_mu);
}

/* Queues a job for the worker; false when too many are waiting. */
static bool push_job(struct ragd_chat *c, enum job_kind kind, const char *text)
{
    struct job *j = calloc(1, sizeof *j);
    if (!j) return false;
    j->kind = kind;
    j->text = text ? strdup(text) : NULL;
    pthread_mutex_lock(&c->mu);
    bool ok = c->pending < MAX_PENDING;
    if (ok) {
        if (c->tail) c->tail->next = j;
        else c->head = j;
        c->tail = j;
        c->pending++;
        pthread_cond_signal(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    if (!ok) {
        free(j->text);
        free(j);
    }
    return ok;
}

/* Forgets the conversation. */
static void clear_history(struct ragd_chat *c)
{
    for (size_t i = 0; i < c->n_turns; i++) {
        free(c->turns[i].question);
        free(c->turns[i].answer);
    }
    c->n_turns = 0;
}

/* Appends a finished turn to the history. */
static void add_turn(struct ragd_chat *c, const char *q, const char *a)
{
    if (c->n_turns == c->cap_turns) {
        size_t cap = c->cap_turns ? c->cap_turns * 2 : 8;
        struct lm_rag_turn *t = realloc(c->turns, cap * sizeof *t);
        if (!t) return;
        c->turns = t;
        c->cap_turns = cap;
    }
    struct lm_rag_turn *t = &c->turns[c->n_turns];
    t->question = strdup(q);
    t->answer = strdup(a);
    if (!t->question || !t->answer) {
        free(t->question);
        free(t->answer);
        return;
    }
    /* counted once, when added: history is re-sent with every question */
    struct lm_buf both = {0};
    lm_buf_printf(&both, "%s\n%s", q, a);
    t->tokens = ragd_app_count_tokens(c->app, both.data ? both.data : "");
    lm_buf_free(&both);
    c->n_turns++;
    /* very old turns can never fit again: drop them so memory stays bounded */
    if (c->n_turns > 256) {
        free(c->turns[0].question);
        free(c->turns[0].answer);
        memmove(c->turns, c->turns + 1, (c->n_turns - 1) * sizeof *c->turns);
        c->n_turns--;
    }
}

struct stream_ctx {
    struct ragd_chat *c;
    struct lm_buf answer;
    long long t0_us;
    long long first_us;        /* when the first piece arrived */
    long deltas;
    bool first;
    bool gone;
};

/* Microseconds on the monotonic clock. */
static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One piece of the answer: forwarded as a delta. */
static int on_delta(void *user, const char *text, size_t len)
{
    struct stream_ctx *s = user;
    s->deltas++;
    if (!s->first) {
        s->first = true;
        s->first_us = now_us();
        atomic_fetch_add(&s->c->app->m.first_delta_us_sum, (long)(s->first_us - s->t0_us));
        atomic_fetch_add(&s->c->app->m.first_delta_count, 1);
    }
    lm_buf_append(&s->answer, text, len);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "delta");
    char *piece = lm_str_dup((struct lm_str){text, len});
    cJSON_AddStringToObject(o, "content", piece ? piece : "");
    free(piece);
    int rc = send_answer_obj(s->c, o);
    if (rc < 0) s->gone = true; /* the socket closed (or the client reads too slowly) */
    return rc != 0;             /* stop generating when gone or already ended by a stop */
}

/* Sends the sources message. */
static void send_sources(struct ragd_chat *c, const struct lm_hit *h, size_t n)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "sources");
    cJSON *items = cJSON_AddArrayToObject(o, "items");
    for (size_t i = 0; i < n; i++) {
        cJSON *it = cJSON_CreateObject();
        cJSON_AddStringToObject(it, "source", h[i].source ? h[i].source : "");
        cJSON_AddNumberToObject(it, "chunk_id", (double)h[i].chunk_id);
        cJSON_AddNumberToObject(it, "document_id", (double)h[i].document_id);
        cJSON_AddNumberToObject(it, "score", h[i].score);
        cJSON_AddStringToObject(it, "text", h[i].content ? h[i].content : "");
        cJSON_AddItemToArray(items, it);
    }
    send_answer_obj(c, o);
}

/* The answer's one log line (stable key=value): retrieval time, time to first token, pieces
 * streamed and their rate, total time and how it ended. Never the question or a key. */
static void log_answer(struct ragd_chat *c, const char *outcome, long long t0, long long t_ret,
                       const struct stream_ctx *s, size_t n_sources)
{
    long long end = now_us();
    bool first = s && s->first;
    long deltas = s ? s->deltas : 0;
    double gen_s = first ? (double)(end - s->first_us) / 1e6 : 0;
    double tok_s = deltas > 1 && gen_s > 0 ? (double)(deltas - 1) / gen_s : 0;
    LM_LOG_INFO("ragd: chat id=%ld outcome=%s sources=%zu retrieval_ms=%.1f ttft_ms=%.1f tokens=%ld tok_s=%.1f "
                "total_ms=%.1f",
                c->id, outcome, n_sources, t_ret ? (double)(t_ret - t0) / 1e3 : 0.0,
                first ? (double)(s->first_us - t0) / 1e3 : -1.0, deltas, tok_s, (double)(end - t0) / 1e3);
}

/* Answers one question: retrieval, prompt within the context, streamed answer, done. */
static void answer(struct ragd_chat *c, const char *question)
{
    struct ragd_app *app = c->app;
    long long t0 = now_us();
    /* a stop that arrives from here on (during retrieval too) ends this answer */
    atomic_store(&c->cancel, 0);
    pthread_mutex_lock(&c->send_mu);
    c->answering = true;
    c->ended = false;
    pthread_mutex_unlock(&c->send_mu);
    if (lm_ws_closed(c->ws)) return; /* the client left while this question waited */
    if (atomic_load(&app->drain_ending)) {
        /* the shutdown's bound ran out between taking this question and starting it */
        end_answer(c, "done", NULL);
        log_answer(c, "stopped", t0, 0, NULL, 0);
        return;
    }
    struct lm_hit *hits = NULL;
    size_t n_hits = 0;
    struct lm_error err = {0};
    if (app->cfg.rag_top_k > 0 &&
        lm_rag_retrieve(app->store, &app->emb, question, app->cfg.rag_top_k, &hits, &n_hits, &err) < 0) {
        char msg[400];
        snprintf(msg, sizeof msg, "knowledge store unavailable: %s", err.msg);
        atomic_fetch_add(&app->m.answer_errors, 1);
        end_answer(c, "error", msg);
        log_answer(c, "error", t0, now_us(), NULL, 0);
        return;
    }
    long long t_ret = now_us();
    atomic_fetch_add(&app->m.retrieval_us_sum, (long)(t_ret - t0));
    atomic_fetch_add(&app->m.retrieval_count, 1);

    /* fit the prompt in the model's context: fewer chunks first, then older turns */
    int n_ctx = ragd_app_n_ctx(app);
    int budget = n_ctx > 0 ? n_ctx - n_ctx / ANSWER_SHARE : 0;
    char *turn = NULL;
    int turn_tokens = 0;
    for (;;) {
        free(turn);
        turn = lm_rag_user_turn(question, hits, n_hits);
        if (!turn) break;
        if (!budget) break;
        turn_tokens = ragd_app_count_tokens(app, turn) + ragd_app_count_tokens(app, LM_RAG_SYSTEM_PROMPT);
        if (turn_tokens + 32 <= budget || n_hits == 0) break;
        n_hits--;
        free(hits[n_hits].source);
        free(hits[n_hits].content);
    }
    if (!turn) {
        lm_store_free_hits(hits, n_hits);
        end_answer(c, "error", "out of memory");
        log_answer(c, "error", t0, t_ret, NULL, 0);
        return;
    }
    if (budget && turn_tokens + 32 > budget) {
        char msg[200];
        snprintf(msg, sizeof msg, "the question is too long for the model's context (%d tokens, %d fit)", turn_tokens,
                 budget);
        free(turn);
        lm_store_free_hits(hits, n_hits);
        end_answer(c, "error", msg);
        log_answer(c, "error", t0, t_ret, NULL, 0);
        return;
    }
    send_sources(c, hits, n_hits);
    size_t n_sources = n_hits;
    lm_store_free_hits(hits, n_hits);

    size_t keep = budget ? lm_rag_history_fit(c->turns, c->n_turns, turn_tokens, budget) : c->n_turns;
    size_t n_msgs = 2 + 2 * keep;
    struct lm_llm_message *msgs = calloc(n_msgs, sizeof *msgs);
    if (!msgs) {
        free(turn);
        end_answer(c, "error", "out of memory");
        log_answer(c, "error", t0, t_ret, NULL, n_sources);
        return;
    }
    size_t m = 0;
    msgs[m++] = (struct lm_llm_message){"system", LM_RAG_SYSTEM_PROMPT};
    for (size_t i = c->n_turns - keep; i < c->n_turns; i++) {
        msgs[m++] = (struct lm_llm_message){"user", c->turns[i].question};
        msgs[m++] = (struct lm_llm_message){"assistant", c->turns[i].answer};
    }
    msgs[m++] = (struct lm_llm_message){"user", turn};

    struct stream_ctx s = {.c = c, .t0_us = t0};
    if (lm_ws_closed(c->ws)) atomic_store(&c->cancel, 1);
    struct lm_llm_result res;
    int rc;
    /* a busy LLM (503, its queue full) is retried a few times with backoff before giving up */
    for (int attempt = 0;; attempt++) {
        rc = lm_llm_chat_stream(&app->llm, &(struct lm_llm_chat_params){msgs, m, 0.2, 0}, on_delta, &s, &c->cancel,
                                &res, &err);
        if (rc != LM_EBUSY || s.first || attempt == 5 || atomic_load(&c->cancel)) break;
        for (int w = 0; w < (2 << attempt) && !atomic_load(&c->cancel); w++) usleep(100 * 1000);
    }
    free(msgs);
    free(turn);
    if (rc == 0 || rc == LM_ECANCELED) {
        if (rc == LM_ECANCELED) atomic_fetch_add(&app->m.answers_stopped, 1);
        else atomic_fetch_add(&app->m.answers, 1);
        add_turn(c, question, s.answer.data ? s.answer.data : "");
        if (!s.gone) end_answer(c, "done", NULL);
        log_answer(c, rc == LM_ECANCELED ? "stopped" : "done", t0, t_ret, &s, n_sources);
    } else {
        char msg[400];
        snprintf(msg, sizeof msg, "LLM unavailable: %s", err.msg);
        LM_LOG_WARN("ragd: chat: %s", err.msg);
        atomic_fetch_add(&app->m.answer_errors, 1);
        end_answer(c, "error", msg);
        log_answer(c, "error", t0, t_ret, &s, n_sources);
    }
    lm_buf_free(&s.answer);
}

/* The worker: answers queued messages in order until the connection ends. */
static void *worker_main(void *arg)
{
    struct ragd_chat *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        while (!c->head && !c->quit) pthread_cond_wait(&c->cv, &c->mu);
        if (c->quit) {
            pthread_mutex_unlock(&c->mu);
            break;
        }
        struct job *j = c->head;
        c->head = j->next;
        if (!c->head) c->tail = NULL;
        c->pending--;
        c->busy = true;
        pthread_mutex_unlock(&c->mu);
        if (j->kind == JOB_RESET) {
            clear_history(c);
            send_simple(c, "reset_ok", NULL);
        } else if (j->kind == JOB_ERROR) {
            send_simple(c, "error", j->text); /* in order: after the answer before it, as the seed */
        } else if (atomic_load(&c->app->draining)) {
            send_simple(c, "error", "server is shutting down"); /* nothing new starts during the drain */
        } else {
            answer(c, j->text);
            pthread_mutex_lock(&c->send_mu);
            c->answering = false;
            pthread_mutex_unlock(&c->send_mu);
        }
        free(j->text);
        free(j);
        pthread_mutex_lock(&c->mu);
        c->busy = false;
        pthread_mutex_unlock(&c->mu);
    }
    return NULL;
}

/* Copies s without leading/trailing white space (Python's str.strip on ASCII space). */
static char *strip_dup(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f' || *s == '\v') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == '\f' ||
                 s[n - 1] == '\v'))
        n--;
    return lm_str_dup((struct lm_str){s, n});
}

/* A message from the client (I/O thread). */
static void on_message(struct lm_ws *ws, const char *data, size_t len, void *user)
{
    struct ragd_chat *c = user;
    struct ragd_app *app = c->app;
    atomic_fetch_add(&app->m.ws_messages, 1);
    long now = (long)time(NULL);
    if (now - c->rate_window >= 10) c->rate_window = now, c->rate_count = 0;
    if (++c->rate_count > app->cfg.ws_rate) {
        send_simple(c, "error", "too many messages; slow down");
        return;
    }
    cJSON *j = cJSON_ParseWithLength(data, len);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        if (!push_job(c, JOB_ERROR, "invalid message: expected a JSON object"))
            send_simple(c, "error", "busy: too many pending messages");
        return;
    }
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
    const char *t = cJSON_IsString(type) ? type->valuestring : "";
    if (!c->authed) {
        const cJSON *tok = cJSON_GetObjectItemCaseSensitive(j, "token");
        if (!strcmp(t, "auth") && cJSON_IsString(tok) && !strcmp(tok->valuestring, app->cfg.api_key)) {
            c->authed = true;
            send_simple(c, "auth_ok", NULL);
        } else {
            send_simple(c, "error", "unauthorized: send {\"type\":\"auth\",\"token\":KEY} first");
            lm_ws_close(ws, 1008, "unauthorized");
        }
        cJSON_Delete(j);
        return;
    }
    if (!strcmp(t, "stop")) {
        atomic_store(&c->cancel, 1);
        end_answer(c, "done", NULL);
    } else if (!strcmp(t, "reset")) {
        /* a reset also ends the answer in flight: the conversation it belongs to is gone */
        atomic_store(&c->cancel, 1);
        end_answer(c, "done", NULL);
        if (!push_job(c, JOB_RESET, NULL)) send_simple(c, "error", "busy: too many pending messages");
    } else if (!strcmp(t, "auth")) {
        send_simple(c, "auth_ok", NULL);
    } else {
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(j, "content");
        char *text = cJSON_IsString(content) ? strip_dup(content->valuestring) : NULL;
        if (!text || !text[0]) {
            if (!push_job(c, JOB_ERROR, "empty content")) send_simple(c, "error", "busy: too many pending messages");
        } else if (!push_job(c, JOB_CONTENT, text)) {
            send_simple(c, "error", "busy: too many pending messages");
        }
        free(text);
    }
    cJSON_Delete(j);
}

/* Runs one upgraded connection to its end (HTTP layer's upgrade callback). */
static void run_chat(int fd, const char *extra, size_t extra_len, void *arg, bool authed)
{
    struct ragd_app *app = arg;
    struct ragd_chat *c = calloc(1, sizeof *c);
    if (!c) return;
    c->app = app;
    c->authed = authed;
    c->rate_window = (long)time(NULL);
    pthread_mutex_init(&c->mu, NULL);
    pthread_mutex_init(&c->send_mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->ws = lm_ws_new(&(struct lm_ws_config){.max_message = app->cfg.max_ws_message, .on_message = on_message,
                                             .user = c});
    c->id = atomic_fetch_add(&app->chat_ids, 1) + 1;
    atomic_fetch_add(&app->m.ws_connections, 1);
    atomic_fetch_add(&app->m.ws_connections_total, 1);
    pthread_mutex_lock(&app->chats_mu);
    c->next = app->chats;
    if (app->chats) app->chats->prev = c;
    app->chats = c;
    pthread_mutex_unlock(&app->chats_mu);
    /* a connection that raced with the start of a shutdown is told at once */
    if (c->ws && atomic_load(&app->drain_ending)) lm_ws_close(c->ws, 1001, "server is shutting down");
    if (c->ws && pthread_create(&c->worker, NULL, worker_main, c) == 0) {
        lm_ws_run(c->ws, fd, extra, extra_len);
        pthread_mutex_lock(&c->mu);
        c->quit = true;
        pthread_cond_signal(&c->cv);
        pthread_mutex_unlock(&c->mu);
        atomic_store(&c->cancel, 1);
        pthread_join(c->worker, NULL);
    }
    pthread_mutex_lock(&app->chats_mu);
    if (c->prev) c->prev->next = c->next;
    else app->chats = c->next;
    if (c->next) c->next->prev = c->prev;
    pthread_mutex_unlock(&app->chats_mu);
    atomic_fetch_sub(&app->m.ws_connections, 1);
    for (struct job *j = c->head, *n; j; j = n) {
        n = j->next;
        free(j->text);
        free(j);
    }
    clear_history(c);
    free(c->turns);
    lm_ws_free(c->ws);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->send_mu);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* Chats answering or with questions waiting (see app.h). */
int ragd_chat_busy(struct ragd_app *app)
{
    int n = 0;
    pthread_mutex_lock(&app->chats_mu);
    for (struct ragd_chat *c = app->chats; c; c = c->next) {
        pthread_mutex_lock(&c->mu);
        if (c->busy || c->head) n++;
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_unlock(&app->chats_mu);
    return n;
}

/* Ends every answer in flight with done (see app.h). */
void ragd_chat_end_all(struct ragd_app *app)
{
    atomic_store(&app->drain_ending, 1);
    pthread_mutex_lock(&app->chats_mu);
    for (struct ragd_chat *c = app->chats; c; c = c->next) {
        atomic_store(&c->cancel, 1);
        end_answer(c, "done", NULL);
    }
    pthread_mutex_unlock(&app->chats_mu);
}

/* Closes every chat WebSocket with 1001 (see app.h). */
void ragd_chat_close_all(struct ragd_app *app)
{
    atomic_store(&app->drain_ending, 1);
    pthread_mutex_lock(&app->chats_mu);
    for (struct ragd_chat *c = app->chats; c; c = c->next)
        if (c->ws) lm_ws_close(c->ws, 1001, "server is shutting down");
    pthread_mutex_unlock(&app->chats_mu);
}

/* Upgrade callbacks: authorised by header already, or waiting for an auth message. */
static void run_chat_authed(int fd, const char *extra, size_t extra_len, void *arg)
{
    run_chat(fd, extra, extra_len, arg, true);
}
static void run_chat_unauthed(int fd, const char *extra, size_t extra_len, void *arg)
{
    run_chat(fd, extra, extra_len, arg, false);
}

/* True when the Origin header is allowed (cross-site WebSocket hijacking defence). */
static bool origin_allowed(struct ragd_app *app, struct lm_http_req *req)
{
    const char *origin = lm_http_header(req, "Origin");
    if (!origin) return true; /* not a browser: nothing to hijack */
    const char *list = app->cfg.allowed_origins;
    if (!strcmp(list, "*")) return true;
    if (!list[0]) {
        /* same origin: the Origin's host[:port] equals the Host header */
        const char *host = lm_http_header(req, "Host");
        const char *p = strstr(origin, "://");
        return host && p && !strcasecmp(p + 3, host);
    }
    size_t ol = strlen(origin);
    for (const char *s = list; *s;) {
        while (*s == ' ' || *s == ',') s++;
        const char *e = s;
        while (*e && *e != ',') e++;
        const char *t = e;
        while (t > s && t[-1] == ' ') t--;
        if ((size_t)(t - s) == ol && !strncasecmp(s, origin, ol)) return true;
        s = e;
    }
    return false;
}

/* Handshake, origin, auth and connection limit, then the upgrade (see app.h). */
void ragd_chat_upgrade(struct ragd_app *app, struct lm_http_req *req)
{
    if (atomic_load(&app->draining)) {
        lm_http_respond_error(req, 503, "unavailable_error", "server is shutting down");
        return;
    }
    if (!origin_allowed(app, req)) {
        lm_http_respond_error(req, 403, "permission_error", "origin not allowed (RAGD_ALLOWED_ORIGINS)");
        return;
    }
    if (atomic_load(&app->m.ws_connections) >= app->cfg.max_ws_connections) {
        lm_http_respond_error(req, 503, "overloaded_error", "too many WebSocket connections (RAGD_MAX_WS_CONNECTIONS=%d)",
                              app->cfg.max_ws_connections);
        return;
    }
    struct lm_error err = {0};
    if (lm_ws_handshake(req, &err) < 0) {
        lm_http_add_header(req, "Sec-WebSocket-Version", "13");
        lm_http_respond_error(req, 400, "invalid_request_error", "%s", err.msg);
        return;
    }
    lm_http_upgrade(req, ragd_authorized(app, req) ? run_chat_authed : run_chat_unauthed, app);
}
