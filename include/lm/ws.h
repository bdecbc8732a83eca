/* ws.h — WebSocket (RFC 6455) server connections over wslay, on a socket handed over by the
 * HTTP layer's upgrade (lm/http.h).
 *
 * The handshake: lm_ws_handshake checks the request (GET, Upgrade: websocket, Connection:
 * upgrade, Sec-WebSocket-Version: 13, a 16-byte Sec-WebSocket-Key) and adds the 101 headers;
 * then the caller passes a function to lm_http_upgrade that creates a connection with
 * lm_ws_new and runs it with lm_ws_run until the peer closes.
 *
 * Threads: lm_ws_run does all socket I/O on the calling thread (the upgraded connection's).
 * Complete text messages (fragments joined, masks removed, UTF-8 checked) go to on_message
 * on that thread, which must not block for long; pings are answered, close is echoed.
 * lm_ws_send_text and lm_ws_close may be called from any thread at any time, also during
 * on_message; they queue and wake the I/O loop.
 *
 *     static void on_msg(struct lm_ws *ws, const char *m, size_t n, void *u) { lm_ws_send_text(ws, m, n); }
 *     struct lm_ws *ws = lm_ws_new(&(struct lm_ws_config){.on_message = on_msg});
 *     lm_ws_run(ws, fd, extra, extra_len);    // returns when the connection is over
 *     lm_ws_free(ws);                         // after every other thread stopped using it
 */
#ifndef LM_WS_H
#define LM_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lm/err.h"

struct lm_ws;
struct lm_http_req;

struct lm_ws_config {
    size_t max_message;        /* bytes of one (reassembled) message; larger: close 1009. 0 = 1 MiB */
    size_t max_queued;         /* bytes waiting to be sent before sends fail (slow reader). 0 = 16 MiB */
    int ping_interval_s;       /* ping an idle peer this often; 0 = 30, <0 = never */
    void (*on_message)(struct lm_ws *ws, const char *data, size_t len, void *user);
    void *user;
};

/* Validates the upgrade request and adds the response headers of the 101. On failure returns
 * LM_EINVAL with a message (answer 400 with it). */
int lm_ws_handshake(struct lm_http_req *req, struct lm_error *err);
/* Sec-WebSocket-Accept for a client key: base64(SHA-1(key + RFC 6455 GUID)), 28 chars + NUL. */
void lm_ws_accept_key(const char *client_key, char out[29]);

/* New connection state (not yet running). Free with lm_ws_free. NULL when out of memory. */
struct lm_ws *lm_ws_new(const struct lm_ws_config *cfg);
/* Serves the connection on fd until it ends (close handshake, error, or lm_ws_close).
 * extra: bytes the HTTP layer read past the request. Returns 0 after a clean close, else
 * LM_EIO. Does not close fd. */
int lm_ws_run(struct lm_ws *ws, int fd, const char *extra, size_t extra_len);
/* Queues a text message (copied). LM_EIO once the connection is closing or closed,
 * LM_EBUSY when max_queued bytes are already waiting. Thread-safe. */
int lm_ws_send_text(struct lm_ws *ws, const char *data, size_t len);
/* Starts the close handshake with code and reason (e.g. 1000, "bye"). Thread-safe. */
void lm_ws_close(struct lm_ws *ws, uint16_t code, const char *reason);
/* True once the connection is closing or closed. */
bool lm_ws_closed(struct lm_ws *ws);
void lm_ws_free(struct lm_ws *ws);

/* True when s[0..len) is valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
bool lm_utf8_valid(const char *s, size_t len);

#endif
