/* http.h — the HTTP server layer shared by llmd and ragd (over libmicrohttpd).
 *
 * One handler function sees every complete request (body already read, bounded by
 * max_body; larger bodies get 413 before the handler runs). Each connection has its own
 * thread, so a handler may block (e.g. while it waits for a queue slot), but long answers
 * should be streamed: lm_http_stream_begin returns a stream that any thread may write to
 * until it calls lm_http_stream_end; the connection's thread sends what was written as it
 * arrives (chunked transfer encoding), so Server-Sent Events reach the client at once.
 *
 *     static void handle(struct lm_http_req *req, void *user) {
 *         if (!strcmp(req->path, "/health"))
 *             lm_http_respond_json(req, 200, "{\"status\":\"ok\"}");
 *         else
 *             lm_http_respond_error(req, 404, "not_found_error", "no route %s", req->path);
 *     }
 *     lm_http_start(&(struct lm_http_config){.host = "127.0.0.1", .port = 8080,
 *                   .handler = handle}, &srv, &err);
 *
 * Exactly one response per request: respond, stream_begin, or upgrade. A handler that returns
 * without any gets a 500.
 *
 * Threads: each request's handler runs on a thread of its own (not the connection's), so a
 * handler may also write its stream itself, synchronously: what it writes goes out while it
 * keeps producing. A client that disconnects is noticed within about 50 ms while a stream is
 * open (lm_http_stream_gone turns true, lm_http_stream_write returns LM_EIO).
 * lm_http_stop first gives running handlers and open streams a grace period (grace_ms) to
 * finish and reach the client, then marks every open stream gone and waits for the handlers.
 */
#ifndef LM_HTTP_H
#define LM_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lm/err.h"

struct lm_http_server;
struct lm_http_stream;
struct lm_http_conn;  /* private per-request state */

struct lm_http_req {
    const char *method;        /* "GET", "POST", ... */
    const char *path;          /* URL path without the query, percent-decoded */
    const char *body;          /* request body (NUL-terminated copy), "" when none */
    size_t body_len;
    const char *peer;          /* client address as text, for logs */
    struct lm_http_conn *_conn;
};

typedef void (*lm_http_handler)(struct lm_http_req *req, void *user);

struct lm_http_config {
    const char *host;          /* listen address, default "127.0.0.1" */
    int port;                  /* 0 = pick a free port (see lm_http_port) */
    size_t max_body;           /* bytes; 0 = 8 MiB */
    unsigned max_connections;  /* 0 = 256 */
    unsigned timeout_s;        /* idle connection timeout; 0 = 600 */
    unsigned grace_ms;         /* lm_http_stop's grace period; 0 = 5000 */
    lm_http_handler handler;
    void *user;
};

/* Starts listening and serving in background threads. *out is the new server; stop it with
 * lm_http_stop. Fails with a message naming the address when the port cannot be bound. */
int lm_http_start(const struct lm_http_config *cfg, struct lm_http_server **out, struct lm_error *err);
/* The bound port (useful with port 0). */
int lm_http_port(const struct lm_http_server *s);
/* Stops accepting new connections (for graceful shutdown); open streams continue. */
void lm_http_quiesce(struct lm_http_server *s);
/* Closes every connection, joins the threads and frees s. */
void lm_http_stop(struct lm_http_server *s);

/* Request header by name (case-insensitive), or NULL. Borrowed until the response is sent. */
const char *lm_http_header(const struct lm_http_req *req, const char *name);
/* Query-string argument by name (decoded), or NULL. Borrowed likewise. */
const char *lm_http_query(const struct lm_http_req *req, const char *name);

/* True when the client has closed its connection while the handler is still working on a
 * request that has no response yet (for long non-streamed answers; streams have
 * lm_http_stream_gone). Looks at the socket without reading from it. */
bool lm_http_req_gone(struct lm_http_req *req);

/* The response decided so far, for access logs: its status (101 for an upgrade, 0 while
 * none), and in *bytes (may be NULL) the body length of a complete response (0 for streams). */
int lm_http_resp_status(struct lm_http_req *req, size_t *bytes);

/* Adds a response header for the coming response (before respond/stream_begin). */
void lm_http_add_header(struct lm_http_req *req, const char *name, const char *value);

/* Sends a complete response (body copied). */
void lm_http_respond(struct lm_http_req *req, int status, const char *content_type, const void *body,
                     size_t len);
void lm_http_respond_json(struct lm_http_req *req, int status, const char *json);
/* OpenAI-shaped error body {"error":{"message":...,"type":...,"code":status}}. */
void lm_http_respond_error(struct lm_http_req *req, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Starts a streamed response (chunked). The stream belongs to the caller until
 * lm_http_stream_end, which must be called exactly once, from any thread. Returns NULL only
 * when a response was already given; the stream functions accept NULL (write fails, gone). */
struct lm_http_stream *lm_http_stream_begin(struct lm_http_req *req, int status, const char *content_type);
/* Queues bytes for the client. Returns 0, or LM_EIO once the client has gone away (then the
 * producer should stop and call lm_http_stream_end). Never blocks on the network. */
int lm_http_stream_write(struct lm_http_stream *st, const void *data, size_t len);
/* True once the client disconnected (checked without writing). */
bool lm_http_stream_gone(struct lm_http_stream *st);
/* Finishes the response and releases the stream. */
void lm_http_stream_end(struct lm_http_stream *st);

/* Server-Sent Events (sse_write.c): writes one event "data: <data>\n\n" (a multi-line data gets
 * one "data:" line per line) in a single stream write. Returns what lm_http_stream_write does. */
int lm_http_sse_data(struct lm_http_stream *st, const char *data);
/* The same with an event name: "event: <event>\n" before the data lines. */
int lm_http_sse_event(struct lm_http_stream *st, const char *event, const char *data);

/* WebSocket and other protocol upgrades: lm_http_upgrade answers 101 with the given headers
 * already added (Upgrade, Connection, Sec-WebSocket-Accept ...) and then calls fn on the
 * connection's own thread with the raw socket, and any bytes already read past the request.
 * fn owns the socket until it returns; it must not close fd itself. The socket is in blocking
 * mode; lm_http_stop shuts it down (reads return 0) so that fn returns. */
typedef void (*lm_http_upgrade_fn)(int fd, const char *extra, size_t extra_len, void *arg);
void lm_http_upgrade(struct lm_http_req *req, lm_http_upgrade_fn fn, void *arg);

#endif
