/* serve.c — `ragd serve`: the HTTP server, its routes, /metrics and the chat page. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "cmds.h"
#include "lm/buf.h"
#include "lm/log.h"
#include "web_bundle.h"

static volatile sig_atomic_t g_stop;

/* SIGINT/SIGTERM: leave the wait loop (a second one cuts the drain short). */
static void on_signal(int sig)
{
    (void)sig;
    g_stop = g_stop + 1;
}

/* Milliseconds on the monotonic clock. */
static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Appends s to b for a key=value log line: bytes that would break the line or its fields
 * (controls, space, quote, non-ASCII) as %XX. */
static void log_field(struct lm_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '%') lm_buf_printf(b, "%%%02X", *p);
        else lm_buf_append(b, (const char *)p, 1);
    }
}

/* GET /metrics: Prometheus text. */
static void metrics(struct ragd_app *app, struct lm_http_req *req)
{
    struct ragd_metrics *m = &app->m;
    struct lm_buf b = {0};
    struct lm_store_counts c = {0};
    lm_store_counts(app->store, &c, NULL);
#define METRIC(name, type, help, val) \
    lm_buf_printf(&b, "# HELP " name " " help "\n# TYPE " name " " type "\n" name " %ld\n", (long)(val))
    METRIC("ragd_http_requests_total", "counter", "HTTP requests", atomic_load(&m->http_requests));
    METRIC("ragd_ws_connections", "gauge", "open chat WebSocket connections", atomic_load(&m->ws_connections));
    METRIC("ragd_ws_connections_total", "counter", "chat WebSocket connections", atomic_load(&m->ws_connections_total));
    METRIC("ragd_ws_messages_total", "counter", "chat messages received", atomic_load(&m->ws_messages));
    METRIC("ragd_answers_total", "counter", "answers completed", atomic_load(&m->answers));
    METRIC("ragd_answers_stopped_total", "counter", "answers stopped by the client", atomic_load(&m->answers_stopped));
    METRIC("ragd_answer_errors_total", "counter", "answers failed (LLM or store)", atomic_load(&m->answer_errors));
    METRIC("ragd_documents_added_total", "counter", "documents ingested", atomic_load(&m->documents_added));
    METRIC("ragd_chunks_added_total", "counter", "chunks ingested", atomic_load(&m->chunks_added));
    METRIC("ragd_ingests_running", "gauge", "ingestions in progress", atomic_load(&m->ingests_running));
    METRIC("ragd_store_documents", "gauge", "documents in the store", c.documents);
    METRIC("ragd_store_chunks", "gauge", "chunks in the store", c.chunks);
#undef METRIC
    long n = atomic_load(&m->first_delta_count);
    lm_buf_printf(&b,
                  "# HELP ragd_first_delta_seconds time from question to first answer piece\n"
                  "# TYPE ragd_first_delta_seconds summary\nragd_first_delta_seconds_sum %.6f\n"
                  "ragd_first_delta_seconds_count %ld\n",
                  (double)atomic_load(&m->first_delta_us_sum) / 1e6, n);
    lm_buf_printf(&b,
                  "# HELP ragd_retrieval_seconds time to retrieve a question's chunks (embedding and search)\n"
                  "# TYPE ragd_retrieval_seconds summary\nragd_retrieval_seconds_sum %.6f\n"
                  "ragd_retrieval_seconds_count %ld\n",
                  (double)atomic_load(&m->retrieval_us_sum) / 1e6, atomic_load(&m->retrieval_count));
    lm_http_respond(req, 200, "text/plain; version=0.0.4", b.data ? b.data : "", b.len);
    lm_buf_free(&b);
}

/* True when the comma-separated header value lists token (e.g. gzip in Accept-Encoding). */
static bool accepts(const char *v, const char *token)
{
    return v && strstr(v, token) != NULL;
}

/* The chat page: /index.html for "/" and for unknown non-API paths (client-side routes). */
static void web(struct lm_http_req *req)
{
    const struct ragd_web_asset *a = strcmp(req->path, "/") ? ragd_web_find(req->path) : NULL;
    if (!a) a = ragd_web_find("/index.html");
    if (!a) {
        lm_http_respond_error(req, 404, "not_found_error", "no chat page in this build");
        return;
    }
    bool immutable = !strncmp(a->path, "/assets/", 8);
    lm_http_add_header(req, "Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
    lm_http_add_header(req, "X-Content-Type-Options", "nosniff");
    if (a->etag) lm_http_add_header(req, "ETag", a->etag);
    lm_http_add_header(req, "Vary", "Accept-Encoding");
    const char *inm = lm_http_header(req, "If-None-Match");
    if (a->etag && inm && strstr(inm, a->etag)) {
        lm_http_respond(req, 304, a->content_type, "", 0);
        return;
    }
    if (a->gz && accepts(lm_http_header(req, "Accept-Encoding"), "gzip")) {
        lm_http_add_header(req, "Content-Encoding", "gzip");
        lm_http_respond(req, 200, a->content_type, a->gz, a->gz_len);
    } else {
        lm_http_respond(req, 200, a->content_type, a->data, a->len);
    }
}

/* Routes a request to its handler. */
static void route(struct ragd_app *app, struct lm_http_req *req)
{
    if (atomic_load(&app->draining)) {
        lm_http_respond_error(req, 503, "unavailable_error", "server is shutting down");
        return;
    }
    const char *p = req->path, *m = req->method;
    bool get = !strcmp(m, "GET") || !strcmp(m, "HEAD"), post = !strcmp(m, "POST");
    static const char docs[] = "/api/v1/knowledge/documents/";
    if (!strcmp(p, "/api/v1/ws/chat")) {
        ragd_chat_upgrade(app, req);
    } else if (!strcmp(p, "/api/v1/knowledge/add-document") && post) {
        ragd_api_add_document(app, req);
    } else if (!strcmp(p, "/api/v1/knowledge/upload") && post) {
        ragd_api_upload(app, req);
    } else if (!strcmp(p, "/api/v1/knowledge/documents") && get) {
        ragd_api_documents(app, req);
    } else if (!strncmp(p, docs, sizeof docs - 1) && !strcmp(m, "DELETE")) {
        ragd_api_delete(app, req, p + sizeof docs - 1);
    } else if (!strcmp(p, "/api/v1/knowledge/search") && post) {
        ragd_api_search(app, req);
    } else if ((!strcmp(p, "/api/v1/health") || !strcmp(p, "/health")) && get) {
        ragd_api_health(app, req);
    } else if (!strcmp(p, "/metrics") && get) {
        metrics(app, req);
    } else if (!strncmp(p, "/api/", 5) || !strcmp(p, "/api")) {
        bool known = !strcmp(p, "/api/v1/knowledge/add-document") || !strcmp(p, "/api/v1/knowledge/upload") ||
                     !strcmp(p, "/api/v1/knowledge/documents") || !strncmp(p, docs, sizeof docs - 1) ||
                     !strcmp(p, "/api/v1/knowledge/search") || !strcmp(p, "/api/v1/health");
        if (known) lm_http_respond_error(req, 405, "invalid_request_error", "method %s not allowed on %s", m, p);
        else lm_http_respond_error(req, 404, "not_found_error", "no route %s %s", m, p);
    } else if (get) {
        web(req);
    } else {
        lm_http_respond_error(req, 405, "invalid_request_error", "method %s not allowed on %s", m, p);
    }
}

/* Every request: routed, then one access-log line (method, path without the query, status,
 * body bytes, milliseconds; never headers, so never a key). */
static void handle(struct lm_http_req *req, void *user)
{
    struct ragd_app *app = user;
    atomic_fetch_add(&app->m.http_requests, 1);
    double t0 = now_ms();
    route(app, req);
    size_t bytes = 0;
    int status = lm_http_resp_status(req, &bytes);
    struct lm_buf line = {0};
    lm_buf_printf(&line, "ragd: http method=");
    log_field(&line, req->method);
    lm_buf_printf(&line, " path=");
    log_field(&line, req->path);
    lm_buf_printf(&line, " status=%d bytes=%zu ms=%.1f", status, bytes, now_ms() - t0);
    LM_LOG_INFO("%s", line.data ? line.data : "ragd: http");
    lm_buf_free(&line);
}

/* Graceful shutdown: no new requests or questions, answers in flight finish (or end with done
 * after RAGD_DRAIN_TIMEOUT_S), ingestions finish, chats closed with 1001. */
static void drain(struct ragd_app *app, struct lm_http_server *srv)
{
    double t0 = now_ms(), until = t0 + app->cfg.drain_timeout_s * 1e3;
    atomic_store(&app->draining, 1);
    lm_http_quiesce(srv);
    LM_LOG_INFO("ragd: draining: chats=%ld busy=%d ingests=%ld timeout_s=%d", atomic_load(&app->m.ws_connections),
                ragd_chat_busy(app), atomic_load(&app->m.ingests_running), app->cfg.drain_timeout_s);
    while ((ragd_chat_busy(app) || atomic_load(&app->m.ingests_running)) && now_ms() < until && g_stop < 2)
        usleep(20 * 1000);
    int left = ragd_chat_busy(app);
    if (left) {
        LM_LOG_INFO("ragd: draining: ending %d answers in flight with done", left);
        ragd_chat_end_all(app);
        for (double end = now_ms() + 3000; ragd_chat_busy(app) && now_ms() < end;) usleep(20 * 1000);
    }
    ragd_chat_close_all(app);
    /* the clients answer the close; lm_http_stop cuts off those that do not */
    for (double end = now_ms() + 3000; atomic_load(&app->m.ws_connections) > 0 && now_ms() < end;) usleep(20 * 1000);
    LM_LOG_INFO("ragd: drained in %.0f ms (answers ended early: %d)", now_ms() - t0, left);
}

/* Usage of `ragd serve`. */
static void serve_help(FILE *f)
{
    fputs("usage: ragd [serve] [--host H] [--port N]\n"
          "Serves the chat WebSocket (/api/v1/ws/chat), the knowledge API (/api/v1/knowledge/...),\n"
          "/api/v1/health, /metrics and the chat page.\n\n",
          f);
    ragd_config_help(f);
}

/* `ragd serve`. */
int ragd_cmd_serve(int argc, char **argv)
{
    const char *host = NULL, *port = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            serve_help(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--host") && i + 1 < argc) {
            host = argv[++i];
        } else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
            port = argv[++i];
        } else {
            fprintf(stderr, "ragd serve: unknown argument '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    /* RAGD_LOG=debug shows the HTTP layer's and libmicrohttpd's own messages */
    const char *lvl = getenv("RAGD_LOG");
    if (lvl && !strcmp(lvl, "debug")) lm_log_set_level(LM_LOG_DEBUG);
    else if (lvl && !strcmp(lvl, "warn")) lm_log_set_level(LM_LOG_WARN);
    if (host) setenv("HOST", host, 1);
    if (port) setenv("PORT", port, 1);
    /* every chat holds a few descriptors (socket, wake-up, LLM request): use the hard limit */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    static struct ragd_app app;
    int rc = ragd_app_open(&app, true);
    if (rc) return rc;
    struct lm_http_server *srv;
    struct lm_error err = {0};
    /* one transfer thread streams every chat's answer (see lm/llm_client.h) */
    struct lm_llm_pool *pool = NULL;
    if (lm_llm_pool_new(&pool, &err) < 0) {
        fprintf(stderr, "ragd: %s\n", err.msg);
        ragd_app_close(&app);
        return 1;
    }
    app.llm.pool = pool;
    struct lm_http_config hc = {.host = app.cfg.host, .port = app.cfg.port, .max_body = app.cfg.max_body,
                                .max_connections = (unsigned)app.cfg.max_ws_connections + 64, .handler = handle,
                                .user = &app};
    if (lm_http_start(&hc, &srv, &err) < 0) {
        fprintf(stderr, "ragd: %s\n", err.msg);
        lm_llm_pool_free(pool);
        ragd_app_close(&app);
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "ragd: listening on http://%s:%d (store %s, %s)\n", app.cfg.host, lm_http_port(srv),
            lm_store_kind(app.store), app.emb.name ? app.emb.name : "");
    fflush(stderr);
    while (!g_stop) pause();
    fprintf(stderr, "ragd: shutting down\n");
    drain(&app, srv);
    lm_http_stop(srv); /* waits for handlers still running: an ingestion commits or rolls back */
    lm_llm_pool_free(pool);
    ragd_app_close(&app);
    return 0;
}
