/* ws.c — WebSocket connections over wslay (see lm/ws.h).
 *
 * wslay is not thread-safe, so only the I/O thread (lm_ws_run) touches the wslay context.
 * Other threads append to our own outgoing queue under a mutex and signal an eventfd; the I/O
 * loop moves queued messages into wslay before each poll. */
#include "lm/ws.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "lm/log.h"

struct out_msg {
    struct out_msg *next;
    uint8_t opcode;
    size_t len;
    char data[];
};

struct lm_ws {
    struct lm_ws_config cfg;
    int fd;
    int wake;                    /* eventfd: other threads add 1 to wake the poll (one fd, not a pipe's two) */
    wslay_event_context_ptr ctx;
    const char *extra;           /* bytes read past the HTTP request, consumed first */
    size_t extra_len;
    pthread_mutex_t mu;          /* guards everything below */
    struct out_msg *head, *tail; /* messages queued by lm_ws_send_text / lm_ws_close */
    size_t queued;
    bool closing;                /* close queued or received: no more sends */
    bool done;                   /* lm_ws_run returned */
    struct out_msg *close_msg;   /* our close frame, held until queued messages are out */
    time_t last_rx;
};

/* True when s[0..len) is valid UTF-8. */
bool lm_utf8_valid(const char *s, size_t len)
{
    if (len == 0) return true; /* s may be NULL for an empty message */
    const unsigned char *p = (const unsigned char *)s, *e = p + len;
    while (p < e) {
        unsigned c = *p++;
        if (c < 0x80) continue;
        int n;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) n = 1, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF) n = 2, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4) n = 3, cp = c & 0x07;
        else return false;
        if (e - p < n) return false;
        for (int i = 0; i < n; i++) {
            if ((p[i] & 0xC0) != 0x80) return false;
            cp = cp << 6 | (p[i] & 0x3F);
        }
        p += n;
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
    }
    return true;
}

/* wslay recv callback: pending extra bytes first, then the socket (non-blocking). */
static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
    struct lm_ws *ws = user;
    (void)flags;
    if (ws->extra_len) {
        size_t n = ws->extra_len < len ? ws->extra_len : len;
        memcpy(buf, ws->extra, n);
        ws->extra += n;
        ws->extra_len -= n;
        return (ssize_t)n;
    }
    ssize_t r;
    do r = recv(ws->fd, buf, len, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        wslay_event_set_error(ctx, (errno == EAGAIN || errno == EWOULDBLOCK) ? WSLAY_ERR_WOULDBLOCK
                                                                             : WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    if (r == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    ws->last_rx = time(NULL);
    return r;
}

/* wslay send callback. */
static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user)
{
    struct lm_ws *ws = user;
    (void)flags;
    ssize_t r;
    do r = send(ws->fd, data, len, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        wslay_event_set_error(ctx, (errno == EAGAIN || errno == EWOULDBLOCK) ? WSLAY_ERR_WOULDBLOCK
                                                                             : WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return r;
}

/* wslay: a complete message arrived (control frames too). */
static void on_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
    struct lm_ws *ws = user;
    if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
        pthread_mutex_lock(&ws->mu);
        ws->closing = true;
        pthread_mutex_unlock(&ws->mu);
        return;
    }
    if (wslay_is_ctrl_frame(arg->opcode)) return; /* ping answered by wslay; pong ignored */
    if (arg->opcode == WSLAY_BINARY_FRAME) {
        lm_ws_close(ws, WSLAY_CODE_UNSUPPORTED_DATA, "binary messages are not supported");
        return;
    }
    if (!lm_utf8_valid((const char *)arg->msg, arg->msg_length)) {
        lm_ws_close(ws, WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA, "invalid UTF-8");
        return;
    }
    (void)ctx;
    if (ws->cfg.on_message) ws->cfg.on_message(ws, (const char *)arg->msg, arg->msg_length, ws->cfg.user);
}

/* New connection state (see header). */
struct lm_ws *lm_ws_new(const struct lm_ws_config *cfg)
{
    struct lm_ws *ws = calloc(1, sizeof *ws);
    if (!ws) return NULL;
    ws->cfg = *cfg;
    if (!ws->cfg.max_message) ws->cfg.max_message = (size_t)1 << 20;
    if (!ws->cfg.max_queued) ws->cfg.max_queued = (size_t)16 << 20;
    if (!ws->cfg.ping_interval_s) ws->cfg.ping_interval_s = 30;
    ws->fd = -1;
    ws->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (ws->wake < 0) {
        free(ws);
        return NULL;
    }
    pthread_mutex_init(&ws->mu, NULL);
    return ws;
}

/* Frees the connection state. */
void lm_ws_free(struct lm_ws *ws)
{
    if (!ws) return;
    struct out_msg *m = ws->head;
    while (m) {
        struct out_msg *n = m->next;
        free(m);
        m = n;
    }
    free(ws->close_msg);
    close(ws->wake);
    pthread_mutex_destroy(&ws->mu);
    free(ws);
}

/* Wakes the I/O loop. */
static void wake(struct lm_ws *ws)
{
    uint64_t one = 1;
    ssize_t r = write(ws->wake, &one, sizeof one);
    (void)r; /* a saturated counter already means "wake up" */
}

/* Appends a message to the outgoing queue; mu must be held. */
static int enqueue_locked(struct lm_ws *ws, uint8_t opcode, const void *data, size_t len)
{
    struct out_msg *m = malloc(sizeof *m + len);
    if (!m) return LM_ENOMEM;
    m->next = NULL;
    m->opcode = opcode;
    m->len = len;
    if (len) memcpy(m->data, data, len);
    if (ws->tail) ws->tail->next = m;
    else ws->head = m;
    ws->tail = m;
    ws->queued += len;
    return 0;
}

/* Queues a text message (see header). */
int lm_ws_send_text(struct lm_ws *ws, const char *data, size_t len)
{
    pthread_mutex_lock(&ws->mu);
    int rc;
    if (ws->closing || ws->done) rc = LM_EIO;
    else if (ws->queued + len > ws->cfg.max_queued) rc = LM_EBUSY;
    else rc = enqueue_locked(ws, WSLAY_TEXT_FRAME, data, len);
    pthread_mutex_unlock(&ws->mu);
    if (rc == 0) wake(ws);
    return rc;
}

/* Queues a close frame (see header). */
void lm_ws_close(struct lm_ws *ws, uint16_t code, const char *reason)
{
    uint8_t buf[125];
    size_t rl = reason ? strlen(reason) : 0;
    if (rl > sizeof buf - 2) rl = sizeof buf - 2;
    buf[0] = (uint8_t)(code >> 8);
    buf[1] = (uint8_t)code;
    if (rl) memcpy(buf + 2, reason, rl);
    pthread_mutex_lock(&ws->mu);
    if (!ws->closing && !ws->done) {
        ws->closing = true;
        enqueue_locked(ws, WSLAY_CONNECTION_CLOSE, buf, rl + 2);
    }
    pthread_mutex_unlock(&ws->mu);
    wake(ws);
}

/* True once closing or closed. */
bool lm_ws_closed(struct lm_ws *ws)
{
    pthread_mutex_lock(&ws->mu);
    bool c = ws->closing || ws->done;
    pthread_mutex_unlock(&ws->mu);
    return c;
}

/* Moves the outgoing queue into wslay (I/O thread only). */
static int flush_queue(struct lm_ws *ws)
{
    pthread_mutex_lock(&ws->mu);
    struct out_msg *m = ws->head;
    ws->head = ws->tail = NULL;
    ws->queued = 0;
    pthread_mutex_unlock(&ws->mu);
    int rc = 0;
    while (m) {
        struct out_msg *n = m->next;
        if (rc == 0) {
            if (m->opcode == WSLAY_CONNECTION_CLOSE) {
                /* wslay sends control frames before queued data: hold the close back so the
                 * messages queued before it still reach the peer first */
                if (!ws->close_msg) {
                    ws->close_msg = m;
                    m = n;
                    continue;
                }
            } else {
                struct wslay_event_msg msg = {m->opcode, (const uint8_t *)m->data, m->len};
                /* after a close was queued wslay refuses more messages: not an error */
                int r = wslay_event_queue_msg(ws->ctx, &msg);
                if (r != 0 && r != WSLAY_ERR_NO_MORE_MSG) rc = -1;
            }
        }
        free(m);
        m = n;
    }
    if (rc == 0 && ws->close_msg && wslay_event_get_queued_msg_count(ws->ctx) == 0) {
        struct out_msg *c = ws->close_msg;
        uint16_t code = (uint16_t)((uint8_t)c->data[0] << 8 | (uint8_t)c->data[1]);
        if (wslay_event_queue_close(ws->ctx, code, (const uint8_t *)c->data + 2, c->len - 2) != 0 &&
            !wslay_event_get_close_received(ws->ctx))
            rc = -1;
        ws->close_msg = NULL;
        free(c);
    }
    return rc;
}

/* Serves the connection until it ends (see header). */
int lm_ws_run(struct lm_ws *ws, int fd, const char *extra, size_t extra_len)
{
    struct wslay_event_callbacks cbs = {.recv_callback = recv_cb, .send_callback = send_cb,
                                        .on_msg_recv_callback = on_msg_cb};
    ws->fd = fd;
    ws->extra = extra;
    ws->extra_len = extra_len;
    ws->last_rx = time(NULL);
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    if (wslay_event_context_server_init(&ws->ctx, &cbs, ws) != 0) return LM_ENOMEM;
    wslay_event_config_set_max_recv_msg_length(ws->ctx, ws->cfg.max_message);

    int rc = 0;
    time_t last_ping = time(NULL);
    for (;;) {
        if (flush_queue(ws) < 0) {
            rc = LM_EIO;
            break;
        }
        /* bytes left over from the HTTP request are read before waiting on the socket */
        if (ws->extra_len && wslay_event_recv(ws->ctx) != 0) {
            rc = LM_EIO;
            break;
        }
        bool want_r = wslay_event_want_read(ws->ctx), want_w = wslay_event_want_write(ws->ctx);
        if (!want_r && !want_w) break; /* close handshake finished */
        struct pollfd p[2] = {{.fd = fd, .events = (short)((want_r ? POLLIN : 0) | (want_w ? POLLOUT : 0))},
                              {.fd = ws->wake, .events = POLLIN}};
        int n = poll(p, 2, 1000);
        if (n < 0 && errno != EINTR) {
            rc = LM_EIO;
            break;
        }
        if (p[1].revents & POLLIN) {
            uint64_t v;
            if (read(ws->wake, &v, sizeof v) < 0) {} /* resets the counter */
        }
        if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && want_r && wslay_event_recv(ws->ctx) != 0) {
            rc = LM_EIO;
            break;
        }
        if ((p[0].revents & (POLLOUT | POLLERR)) && wslay_event_want_write(ws->ctx) &&
            wslay_event_send(ws->ctx) != 0) {
            rc = LM_EIO;
            break;
        }
        if ((p[0].revents & (POLLHUP | POLLERR)) && !want_r) {
            rc = LM_EIO;
            break;
        }
        time_t now = time(NULL);
        if (ws->cfg.ping_interval_s > 0 && now - ws->last_rx >= ws->cfg.ping_interval_s &&
            now - last_ping >= ws->cfg.ping_interval_s) {
            struct wslay_event_msg ping = {WSLAY_PING, (const uint8_t *)"", 0};
            wslay_event_queue_msg(ws->ctx, &ping);
            last_ping = now;
        }
    }
    /* try to get a queued close frame out before giving up the socket */
    if (rc == 0 && wslay_event_want_write(ws->ctx)) wslay_event_send(ws->ctx);
    /* Lingering close: a client still sending (say, the rest of an oversized message) would
     * get a TCP reset when we close with unread bytes, and a reset makes it discard our close
     * frame and its code. Stop writing, then read and drop what arrives until it closes too
     * (bounded to half a second). */
    if (shutdown(fd, SHUT_WR) == 0) {
        char sink[4096];
        for (int waited = 0; waited < 500; waited += 50) {
            struct pollfd pr = {.fd = fd, .events = POLLIN};
            if (poll(&pr, 1, 50) <= 0) continue;
            ssize_t got = read(fd, sink, sizeof sink);
            if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) break;
        }
    }
    pthread_mutex_lock(&ws->mu);
    ws->done = true;
    ws->closing = true;
    pthread_mutex_unlock(&ws->mu);
    wslay_event_context_free(ws->ctx);
    ws->ctx = NULL;
    if (fl >= 0) fcntl(fd, F_SETFL, fl);
    return rc;
}
