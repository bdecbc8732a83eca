/* http.c — the shared HTTP server layer (include/lm/http.h) over libmicrohttpd.
 *
 * Threads: libmicrohttpd runs one thread per connection. When a request is complete, that
 * thread starts a short-lived handler thread that runs the application's handler and waits
 * until the handler decides what to answer (a full response, a stream, an upgrade, or
 * nothing = 500), then queues it. Running the handler on its own thread is what lets a
 * handler write a stream itself, synchronously: the connection thread is free to send what
 * was written while the handler is still producing it.
 *
 * Streams: the connection thread's content reader blocks on the stream's condition variable
 * until bytes arrive, the producer ends the stream, the client goes away (checked every
 * 50 ms by peeking at the socket), or the server stops. So a producer learns of a vanished
 * client within about 50 ms, through lm_http_stream_write (LM_EIO) or lm_http_stream_gone.
 *
 * Lifetime: one struct lm_http_conn per request, reference counted: the connection thread
 * (until libmicrohttpd reports the request completed), the handler thread (until the
 * handler returns), the stream producer (until lm_http_stream_end) and a queued streaming
 * response (until libmicrohttpd frees it) each hold a reference.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "lm/buf.h"
#include "lm/http.h"
#include "lm/log.h"

enum conn_decision {
    DECIDE_NONE = 0,     /* handler still deciding */
    DECIDE_RESPOND,      /* full response in resp_body */
    DECIDE_STREAM,       /* chunked stream */
    DECIDE_UPGRADE,      /* 101 + hand the socket to upgrade_fn */
    DECIDE_NOTHING,      /* handler returned without answering: 500 */
};

struct hdr {
    char *name, *value;
};

struct lm_http_stream {
    struct lm_http_conn *conn;
};

struct lm_http_conn {
    struct lm_http_server *srv;
    struct MHD_Connection *mhd;
    struct lm_http_req req;
    struct lm_http_stream st;
    char *method, *path;
    char peer[64];
    struct lm_buf body;
    bool body_too_big;
    bool started;         /* handler thread launched */

    pthread_mutex_t mu;   /* guards everything below */
    pthread_cond_t cv;
    int refs;
    enum conn_decision decision;
    int status;
    char *content_type;
    struct lm_buf resp_body;
    struct hdr *hdrs;
    size_t n_hdrs;
    /* stream state */
    struct lm_buf out;    /* written, not yet sent */
    size_t out_off;
    bool ended;           /* producer called stream_end */
    atomic_bool gone;     /* client disconnected or server stopping */
    /* upgrade */
    lm_http_upgrade_fn upgrade_fn;
    void *upgrade_arg;
    int upgraded_fd;      /* -1 unless an upgrade handler holds the socket */

    struct lm_http_conn *next, *prev;  /* server's list of live requests (under srv->mu) */
};

struct lm_http_server {
    struct MHD_Daemon *d;
    struct lm_http_config cfg;
    char *host;
    int port;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct lm_http_conn *conns;   /* requests libmicrohttpd still holds */
    int n_handlers;               /* handler threads still running */
    bool stopping;
};

/* Drops one reference; frees the request state with the last one. */
static void conn_unref(struct lm_http_conn *c)
{
    pthread_mutex_lock(&c->mu);
    int left = --c->refs;
    pthread_mutex_unlock(&c->mu);
    if (left > 0) return;
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c->method);
    free(c->path);
    free(c->content_type);
    lm_buf_free(&c->body);
    lm_buf_free(&c->resp_body);
    lm_buf_free(&c->out);
    for (size_t i = 0; i < c->n_hdrs; i++) {
        free(c->hdrs[i].name);
        free(c->hdrs[i].value);
    }
    free(c->hdrs);
    free(c);
}

static void conn_ref(struct lm_http_conn *c)
{
    pthread_mutex_lock(&c->mu);
    c->refs++;
    pthread_mutex_unlock(&c->mu);
}

/* Records the handler's decision and wakes the connection thread waiting for it. */
static bool conn_decide(struct lm_http_conn *c, enum conn_decision d)
{
    pthread_mutex_lock(&c->mu);
    bool ok = c->decision == DECIDE_NONE;
    if (ok) {
        c->decision = d;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    if (!ok) LM_LOG_WARN("http: second response for %s %s ignored", c->method, c->path);
    return ok;
}

const char *lm_http_header(const struct lm_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->_conn->mhd, MHD_HEADER_KIND, name);
}

const char *lm_http_query(const struct lm_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->_conn->mhd, MHD_GET_ARGUMENT_KIND, name);
}

void lm_http_add_header(struct lm_http_req *req, const char *name, const char *value)
{
    struct lm_http_conn *c = req->_conn;
    pthread_mutex_lock(&c->mu);
    struct hdr *nh = realloc(c->hdrs, (c->n_hdrs + 1) * sizeof *nh);
    if (nh) {
        c->hdrs = nh;
        nh[c->n_hdrs].name = strdup(name);
        nh[c->n_hdrs].value = strdup(value);
        if (nh[c->n_hdrs].name && nh[c->n_hdrs].value) c->n_hdrs++;
        else {
            free(nh[c->n_hdrs].name);
            free(nh[c->n_hdrs].value);
        }
    }
    pthread_mutex_unlock(&c->mu);
}

/* Records the status and content type of the connection's first answer (c->mu held); false,
 * recording nothing, when it has already been answered. */
static bool set_head(struct lm_http_conn *c, int status, const char *content_type)
{
    if (c->decision != DECIDE_NONE) return false;
    c->status = status;
    free(c->content_type);
    c->content_type = content_type ? strdup(content_type) : NULL;
    return true;
}

void lm_http_respond(struct lm_http_req *req, int status, const char *content_type, const void *body,
                     size_t len)
{
    struct lm_http_conn *c = req->_conn;
    pthread_mutex_lock(&c->mu);
    bool first = set_head(c, status, content_type);
    if (first) {
        lm_buf_clear(&c->resp_body);
        if (len && lm_buf_append(&c->resp_body, body, len) < 0) {
            c->status = 500;
            lm_buf_clear(&c->resp_body);
        }
    }
    pthread_mutex_unlock(&c->mu);
    if (first) conn_decide(c, DECIDE_RESPOND);
    else LM_LOG_WARN("http: second response for %s %s ignored", c->method, c->path);
}

void lm_http_respond_json(struct lm_http_req *req, int status, const char *json)
{
    lm_http_respond(req, status, "application/json", json, strlen(json));
}

/* Appends s to b as the body of a JSON string (quotes not included). */
static void json_escape(struct lm_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': lm_buf_append_str(b, "\\\""); break;
        case '\\': lm_buf_append_str(b, "\\\\"); break;
        case '\n': lm_buf_append_str(b, "\\n"); break;
        case '\r': lm_buf_append_str(b, "\\r"); break;
        case '\t': lm_buf_append_str(b, "\\t"); break;
        default:
            if (*p < 0x20) lm_buf_printf(b, "\\u%04x", *p);
            else lm_buf_append_char(b, (char)*p);
        }
    }
}

void lm_http_respond_error(struct lm_http_req *req, int status, const char *type, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct lm_buf b = {0};
    lm_buf_append_str(&b, "{\"error\":{\"message\":\"");
    json_escape(&b, msg);
    lm_buf_append_str(&b, "\",\"type\":\"");
    json_escape(&b, type ? type : "server_error");
    lm_buf_printf(&b, "\",\"code\":%d}}", status);
    if (b.data) lm_http_respond(req, status, "application/json", b.data, b.len);
    else lm_http_respond(req, 500, "text/plain", "out of memory", 13);
    lm_buf_free(&b);
}

struct lm_http_stream *lm_http_stream_begin(struct lm_http_req *req, int status, const char *content_type)
{
    struct lm_http_conn *c = req->_conn;
    pthread_mutex_lock(&c->mu);
    bool first = set_head(c, status, content_type);
    if (first) c->refs++;  /* the producer's, until stream_end */
    pthread_mutex_unlock(&c->mu);
    if (!first) {
        /* a second answer: hand out a stream that is already gone so the caller's code path
         * (write fails, end) stays the same */
        LM_LOG_WARN("http: stream_begin after a response for %s %s", c->method, c->path);
        return NULL;
    }
    conn_decide(c, DECIDE_STREAM);
    return &c->st;
}

int lm_http_stream_write(struct lm_http_stream *st, const void *data, size_t len)
{
    if (!st) return LM_EIO;
    struct lm_http_conn *c = st->conn;
    if (atomic_load(&c->gone)) return LM_EIO;
    pthread_mutex_lock(&c->mu);
    int rc = lm_buf_append(&c->out, data, len);
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return rc < 0 ? rc : 0;
}

bool lm_http_stream_gone(struct lm_http_stream *st)
{
    return !st || atomic_load(&st->conn->gone);
}

void lm_http_stream_end(struct lm_http_stream *st)
{
    if (!st) return;
    struct lm_http_conn *c = st->conn;
    pthread_mutex_lock(&c->mu);
    c->ended = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    conn_unref(c);
}

void lm_http_upgrade(struct lm_http_req *req, lm_http_upgrade_fn fn, void *arg)
{
    struct lm_http_conn *c = req->_conn;
    pthread_mutex_lock(&c->mu);
    bool first = c->decision == DECIDE_NONE;
    if (first) {
        c->upgrade_fn = fn;
        c->upgrade_arg = arg;
    }
    pthread_mutex_unlock(&c->mu);
    if (first) conn_decide(c, DECIDE_UPGRADE);
    else LM_LOG_WARN("http: upgrade after a response for %s %s ignored", c->method, c->path);
}

/* Status and body size of the decided response (see header). */
int lm_http_resp_status(struct lm_http_req *req, size_t *bytes)
{
    struct lm_http_conn *c = req->_conn;
    pthread_mutex_lock(&c->mu);
    int st = 0;
    size_t n = 0;
    if (c->decision == DECIDE_RESPOND || c->decision == DECIDE_STREAM) st = c->status;
    else if (c->decision == DECIDE_UPGRADE) st = 101;
    if (c->decision == DECIDE_RESPOND) n = c->resp_body.len;
    pthread_mutex_unlock(&c->mu);
    if (bytes) *bytes = n;
    return st;
}

/* True when the peer closed or reset the socket (looked at without consuming anything). */
static bool socket_closed(int fd)
{
    if (fd < 0) return false;
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, 0) <= 0) return false;
    if (p.revents & (POLLHUP | POLLERR | POLLRDHUP | POLLNVAL)) return true;
    char b;
    ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return true;
    return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

static int conn_fd(struct lm_http_conn *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c->mhd, MHD_CONNECTION_INFO_CONNECTION_FD);
    return ci ? ci->connect_fd : -1;
}

bool lm_http_req_gone(struct lm_http_req *req)
{
    struct lm_http_conn *c = req->_conn;
    if (atomic_load(&c->gone)) return true;
    pthread_mutex_lock(&c->mu);
    bool waiting = c->decision == DECIDE_NONE;  /* the connection thread is parked in dispatch */
    pthread_mutex_unlock(&c->mu);
    if (waiting && socket_closed(conn_fd(c))) atomic_store(&c->gone, true);
    return atomic_load(&c->gone);
}

/* Content reader of a stream: blocks until bytes, the end, a vanished client or a stop. */
static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct lm_http_conn *c = cls;
    int fd = conn_fd(c);
    pthread_mutex_lock(&c->mu);
    for (;;) {
        size_t avail = c->out.len - c->out_off;
        if (avail) {
            size_t n = avail < max ? avail : max;
            memcpy(buf, c->out.data + c->out_off, n);
            c->out_off += n;
            if (c->out_off == c->out.len) {
                lm_buf_clear(&c->out);
                c->out_off = 0;
            }
            pthread_mutex_unlock(&c->mu);
            return (ssize_t)n;
        }
        if (c->ended) {
            pthread_mutex_unlock(&c->mu);
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        if (atomic_load(&c->gone)) break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        int rc = pthread_cond_timedwait(&c->cv, &c->mu, &ts);
        if (rc == ETIMEDOUT && c->out.len == c->out_off && !c->ended && socket_closed(fd))
            atomic_store(&c->gone, true);
    }
    pthread_mutex_unlock(&c->mu);
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

/* libmicrohttpd is done with a streaming response. */
static void stream_free(void *cls)
{
    conn_unref(cls);
}

/* Runs on the connection thread after the 101 went out: hands the socket to the application. */
static void upgrade_cb(void *cls, struct MHD_Connection *connection, void *req_cls, const char *extra_in,
                       size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
    struct lm_http_conn *c = cls;
    struct lm_http_server *s = c->srv;
    pthread_mutex_lock(&s->mu);
    bool stopping = s->stopping;
    c->upgraded_fd = sock;
    pthread_mutex_unlock(&s->mu);
    /* libmicrohttpd's sockets are non-blocking; the application gets a plain blocking one */
    int fl = fcntl(sock, F_GETFL);
    if (fl >= 0) fcntl(sock, F_SETFL, fl & ~O_NONBLOCK);
    if (!stopping && c->upgrade_fn) c->upgrade_fn(sock, extra_in, extra_in_size, c->upgrade_arg);
    pthread_mutex_lock(&s->mu);
    c->upgraded_fd = -1;
    pthread_mutex_unlock(&s->mu);
    MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
    conn_unref(c);  /* the upgrade response's reference */
}

/* Body of the handler thread. */
static void *handler_main(void *arg)
{
    struct lm_http_conn *c = arg;
    struct lm_http_server *s = c->srv;
    s->cfg.handler(&c->req, s->cfg.user);
    pthread_mutex_lock(&c->mu);
    if (c->decision == DECIDE_NONE) {
        c->decision = DECIDE_NOTHING;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    conn_unref(c);
    pthread_mutex_lock(&s->mu);
    if (--s->n_handlers == 0) pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Queues a small complete response. */
static enum MHD_Result queue_simple(struct MHD_Connection *mhd, int status, const char *ctype, const void *body,
                                   size_t len, const struct hdr *hdrs, size_t n_hdrs)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    if (ctype) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    for (size_t i = 0; i < n_hdrs; i++) MHD_add_response_header(r, hdrs[i].name, hdrs[i].value);
    enum MHD_Result rc = MHD_queue_response(mhd, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result queue_error(struct MHD_Connection *mhd, int status, const char *type, const char *msg)
{
    char body[512];
    int n = snprintf(body, sizeof body, "{\"error\":{\"message\":\"%s\",\"type\":\"%s\",\"code\":%d}}", msg, type,
                     status);
    return queue_simple(mhd, status, "application/json", body, (size_t)n, NULL, 0);
}

/* Launches the handler thread and queues whatever it decides. */
static enum MHD_Result dispatch(struct lm_http_conn *c)
{
    struct lm_http_server *s = c->srv;
    c->req.method = c->method;
    c->req.path = c->path;
    c->req.body = c->body.data ? c->body.data : "";
    c->req.body_len = c->body.len;
    c->req.peer = c->peer;
    c->req._conn = c;

    pthread_mutex_lock(&s->mu);
    bool stopping = s->stopping;
    if (!stopping) s->n_handlers++;
    pthread_mutex_unlock(&s->mu);
    if (stopping) return queue_error(c->mhd, 503, "unavailable_error", "server is shutting down");

    conn_ref(c);  /* the handler thread's */
    pthread_t th;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int prc = pthread_create(&th, &at, handler_main, c);
    pthread_attr_destroy(&at);
    if (prc != 0) {
        conn_unref(c);
        pthread_mutex_lock(&s->mu);
        if (--s->n_handlers == 0) pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        return queue_error(c->mhd, 503, "unavailable_error", "cannot start a request thread");
    }

    pthread_mutex_lock(&c->mu);
    while (c->decision == DECIDE_NONE) pthread_cond_wait(&c->cv, &c->mu);
    enum conn_decision d = c->decision;
    pthread_mutex_unlock(&c->mu);

    /* From here the handler may still run, but it only touches the stream buffer and
     * c->mu-guarded fields; the response fields below are final once decided. */
    struct MHD_Response *r = NULL;
    switch (d) {
    case DECIDE_RESPOND:
        return queue_simple(c->mhd, c->status, c->content_type, c->resp_body.data, c->resp_body.len, c->hdrs,
                            c->n_hdrs);
    case DECIDE_NOTHING:
        LM_LOG_ERROR("http: handler gave no response for %s %s", c->method, c->path);
        return queue_error(c->mhd, 500, "server_error", "no response");
    case DECIDE_STREAM:
        conn_ref(c);  /* the response's, dropped in stream_free */
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_reader, c, stream_free);
        if (!r) {
            conn_unref(c);
            atomic_store(&c->gone, true);
            return MHD_NO;
        }
        break;
    case DECIDE_UPGRADE:
        conn_ref(c);  /* dropped at the end of upgrade_cb */
        r = MHD_create_response_for_upgrade(upgrade_cb, c);
        if (!r) {
            conn_unref(c);
            return MHD_NO;
        }
        break;
    case DECIDE_NONE:
        return MHD_NO;
    }
    if (c->content_type) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, c->content_type);
    if (d == DECIDE_STREAM) MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    for (size_t i = 0; i < c->n_hdrs; i++) MHD_add_response_header(r, c->hdrs[i].name, c->hdrs[i].value);
    enum MHD_Result rc = MHD_queue_response(c->mhd, d == DECIDE_UPGRADE ? 101 : (unsigned)c->status, r);
    MHD_destroy_response(r);
    if (rc != MHD_YES && d == DECIDE_STREAM) atomic_store(&c->gone, true);
    return rc;
}

/* Formats the client address of a connection. */
static void peer_text(struct MHD_Connection *mhd, char *out, size_t n)
{
    snprintf(out, n, "?");
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mhd, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr) return;
    const struct sockaddr *sa = ci->client_addr;
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(out, n, "%s:%u", host, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(out, n, "[%s]:%u", host, ntohs(in6->sin6_port));
    }
}

/* libmicrohttpd's access handler: collects the body, then dispatches. */
static enum MHD_Result access_cb(void *cls, struct MHD_Connection *mhd, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size,
                                 void **req_cls)
{
    struct lm_http_server *s = cls;
    struct lm_http_conn *c = *req_cls;
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c) return MHD_NO;
        c->srv = s;
        c->mhd = mhd;
        c->st.conn = c;
        c->refs = 1;  /* the connection thread's, dropped in completed_cb */
        c->upgraded_fd = -1;
        atomic_init(&c->gone, false);
        pthread_mutex_init(&c->mu, NULL);
        pthread_cond_init(&c->cv, NULL);
        c->method = strdup(method ? method : "");
        c->path = strdup(url ? url : "/");
        peer_text(mhd, c->peer, sizeof c->peer);
        *req_cls = c;
        pthread_mutex_lock(&s->mu);
        c->next = s->conns;
        if (s->conns) s->conns->prev = c;
        s->conns = c;
        pthread_mutex_unlock(&s->mu);
        if (!c->method || !c->path) return MHD_NO;
        /* A declared length over the limit: answer at once when the client waits for
         * "100 Continue" (it then sends nothing); otherwise read and drop the body so the
         * client gets to read the 413 instead of a reset. */
        const char *cl = MHD_lookup_connection_value(mhd, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            unsigned long long n = strtoull(cl, NULL, 10);
            if (n > s->cfg.max_body) {
                c->body_too_big = true;
                const char *ex = MHD_lookup_connection_value(mhd, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
                if ((ex && !strcasecmp(ex, "100-continue")) || n > 8 * (unsigned long long)s->cfg.max_body) {
                    c->started = true;  /* answered: later calls only drop data */
                    return queue_error(mhd, 413, "invalid_request_error", "request body too large");
                }
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!c->body_too_big) {
            if (c->body.len + *upload_data_size > s->cfg.max_body) {
                c->body_too_big = true;
                lm_buf_free(&c->body);
            } else if (lm_buf_append(&c->body, upload_data, *upload_data_size) < 0) {
                return MHD_NO;
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (c->started) return MHD_YES;  /* already answered */
    c->started = true;
    if (c->body_too_big) return queue_error(mhd, 413, "invalid_request_error", "request body too large");
    return dispatch(c);
}

/* libmicrohttpd finished (or abandoned) a request. */
static void completed_cb(void *cls, struct MHD_Connection *mhd, void **req_cls, enum MHD_RequestTerminationCode toe)
{
    struct lm_http_server *s = cls;
    struct lm_http_conn *c = *req_cls;
    if (!c) return;
    *req_cls = NULL;
    atomic_store(&c->gone, true);  /* any producer still writing learns the client is gone */
    pthread_mutex_lock(&c->mu);
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_mutex_lock(&s->mu);
    if (c->prev) c->prev->next = c->next;
    else s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    pthread_cond_broadcast(&s->cv);  /* lm_http_stop may be waiting for requests to drain */
    pthread_mutex_unlock(&s->mu);
    conn_unref(c);
}

/* Routes libmicrohttpd's own error messages to our log. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) msg[--n] = 0;
    LM_LOG_DEBUG("http: %s", msg);
}

int lm_http_start(const struct lm_http_config *cfg, struct lm_http_server **out, struct lm_error *err)
{
    *out = NULL;
    if (!cfg || !cfg->handler) return lm_error_set(err, LM_EINVAL, "http: no handler");
    struct lm_http_server *s = calloc(1, sizeof *s);
    if (!s) return lm_error_set(err, LM_ENOMEM, "http: out of memory");
    s->cfg = *cfg;
    if (!s->cfg.max_body) s->cfg.max_body = 8u << 20;
    if (!s->cfg.max_connections) s->cfg.max_connections = 256;
    if (!s->cfg.timeout_s) s->cfg.timeout_s = 600;
    if (!s->cfg.grace_ms) s->cfg.grace_ms = 5000;
    s->host = strdup(cfg->host && *cfg->host ? cfg->host : "127.0.0.1");
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->cfg.host = s->host;

    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *ai = NULL;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", cfg->port);
    int gai = s->host ? getaddrinfo(s->host, portstr, &hints, &ai) : EAI_MEMORY;
    if (gai != 0 || !ai) {
        lm_error_set(err, LM_EINVAL, "http: cannot resolve listen address %s: %s", s->host ? s->host : "?",
                     gai_strerror(gai));
        lm_http_stop(s);
        return LM_EINVAL;
    }
    /* poll(), not select(): select() cannot watch descriptors >= 1024, which caps the number
     * of open WebSockets far below the descriptor limit */
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_UPGRADE |
                     MHD_USE_ERROR_LOG | MHD_USE_ITC | MHD_USE_POLL;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    s->d = MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, access_cb, s,
                            MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                            MHD_OPTION_CONNECTION_LIMIT, s->cfg.max_connections,
                            MHD_OPTION_CONNECTION_TIMEOUT, s->cfg.timeout_s,
                            MHD_OPTION_NOTIFY_COMPLETED, completed_cb, s,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                            MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!s->d) {
        int e = errno;
        lm_error_set(err, LM_EIO, "http: cannot listen on %s:%d: %s", s->host, cfg->port,
                     e ? strerror(e) : "libmicrohttpd failed to start");
        lm_http_stop(s);
        return LM_EIO;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : cfg->port;
    *out = s;
    return 0;
}

int lm_http_port(const struct lm_http_server *s)
{
    return s ? s->port : -1;
}

void lm_http_quiesce(struct lm_http_server *s)
{
    if (!s || !s->d) return;
    MHD_socket fd = MHD_quiesce_daemon(s->d);
    /* shutdown first: the polling thread may still hold the socket for a moment, and only
     * shutdown makes the kernel refuse new connections at once */
    if (fd != MHD_INVALID_SOCKET) {
        shutdown(fd, SHUT_RDWR);
        close(fd);
    }
}

/* True while a request other than an upgraded connection is still in libmicrohttpd's hands
 * (s->mu held). */
static bool requests_pending(struct lm_http_server *s)
{
    for (struct lm_http_conn *c = s->conns; c; c = c->next) {
        pthread_mutex_lock(&c->mu);
        bool upgraded = c->decision == DECIDE_UPGRADE;
        pthread_mutex_unlock(&c->mu);
        if (!upgraded) return true;
    }
    return false;
}

void lm_http_stop(struct lm_http_server *s)
{
    if (!s) return;
    if (s->d) {
        /* First a grace period in which running handlers finish and their streams drain to
         * the clients (so a server that ends its answers on shutdown sends them whole); then
         * every blocked stream reader and upgraded socket is woken so the connection threads
         * can end, and the remaining handler threads are awaited. */
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += s->cfg.grace_ms / 1000;
        until.tv_nsec += (long)(s->cfg.grace_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (s->n_handlers > 0 || requests_pending(s)) {
            struct timespec now, step;
            clock_gettime(CLOCK_REALTIME, &now);
            if (now.tv_sec > until.tv_sec || (now.tv_sec == until.tv_sec && now.tv_nsec >= until.tv_nsec)) break;
            step = now;
            step.tv_nsec += 20 * 1000000L;
            if (step.tv_nsec >= 1000000000L) {
                step.tv_sec++;
                step.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&s->cv, &s->mu, &step);
        }
        for (struct lm_http_conn *c = s->conns; c; c = c->next) {
            atomic_store(&c->gone, true);
            pthread_mutex_lock(&c->mu);
            pthread_cond_broadcast(&c->cv);
            pthread_mutex_unlock(&c->mu);
            if (c->upgraded_fd >= 0) shutdown(c->upgraded_fd, SHUT_RDWR);
        }
        while (s->n_handlers > 0) pthread_cond_wait(&s->cv, &s->mu);
        pthread_mutex_unlock(&s->mu);
        MHD_stop_daemon(s->d);
    }
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->host);
    free(s);
}
