/* Tests for net/http.c: routes, headers, query args, errors, 413, streaming (from another
 * thread and from the handler itself), a second answer ignored, disconnect detection, upgrade,
 * stop with open streams. The client side is plain sockets so that every byte on the wire is
 * checked. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lm/buf.h"
#include "lm/http.h"
#include "lm_test.h"

static atomic_int client_got_first;   /* the client saw the first streamed piece */
static atomic_int producer_saw_gone;  /* the producer learned of the disconnect */
static atomic_int producer_done;
static atomic_int req_gone_seen;     /* a non-streamed handler saw its client leave */
static atomic_int late_stream_seen;  /* 1: stream_begin after a response gave NULL; 2: it did not */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits (bounded) until *flag becomes nonzero. */
static int wait_flag(atomic_int *flag, int ms)
{
    for (int i = 0; i < ms / 5; i++) {
        if (atomic_load(flag)) return 1;
        sleep_ms(5);
    }
    return atomic_load(flag);
}

/* A producer on a thread of its own: two pieces, the second after the client saw the first. */
static void *producer_two(void *arg)
{
    struct lm_http_stream *st = arg;
    lm_http_stream_write(st, "data: one\n\n", 11);
    wait_flag(&client_got_first, 5000);
    lm_http_stream_write(st, "data: two\n\n", 11);
    lm_http_stream_end(st);
    return NULL;
}

/* A producer that writes until the client is gone. */
static void *producer_forever(void *arg)
{
    struct lm_http_stream *st = arg;
    for (int i = 0; i < 1000; i++) {
        if (lm_http_stream_gone(st) || lm_http_stream_write(st, "data: x\n\n", 9) < 0) {
            atomic_store(&producer_saw_gone, 1);
            break;
        }
        sleep_ms(10);
    }
    lm_http_stream_end(st);
    atomic_store(&producer_done, 1);
    return NULL;
}

/* Upgraded protocol used by the test: echo upper-cased bytes until EOF. */
static void upgrade_echo(int fd, const char *extra, size_t extra_len, void *arg)
{
    char buf[256];
    size_t n = extra_len < sizeof buf ? extra_len : sizeof buf;
    memcpy(buf, extra, n);
    for (;;) {
        if (n) {
            for (size_t i = 0; i < n; i++) buf[i] = (char)toupper((unsigned char)buf[i]);
            if (send(fd, buf, n, MSG_NOSIGNAL) < 0) return;
        }
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0) return;
        n = (size_t)r;
    }
}

static void handle(struct lm_http_req *req, void *user)
{
    (void)user;
    if (!strcmp(req->path, "/health")) {
        lm_http_respond_json(req, 200, "{\"status\":\"ok\"}");
    } else if (!strcmp(req->path, "/echo")) {
        const char *h = lm_http_header(req, "x-test");
        const char *a = lm_http_query(req, "a");
        const char *b = lm_http_query(req, "b");
        char out[512];
        snprintf(out, sizeof out, "%s|%s|h=%s|a=%s|b=%s|n=%zu|%s", req->method, req->path, h ? h : "-",
                 a ? a : "-", b ? b : "-", req->body_len, req->body);
        lm_http_add_header(req, "X-Reply", "yes");
        lm_http_respond(req, 200, "text/plain", out, strlen(out));
    } else if (!strcmp(req->path, "/a b")) {
        lm_http_respond(req, 200, "text/plain", "decoded", 7);
    } else if (!strcmp(req->path, "/stream")) {
        struct lm_http_stream *st = lm_http_stream_begin(req, 200, "text/event-stream");
        pthread_t th;
        pthread_create(&th, NULL, producer_two, st);
        pthread_detach(th);
    } else if (!strcmp(req->path, "/stream-sync")) {
        /* written by the handler itself, while the connection sends it */
        struct lm_http_stream *st = lm_http_stream_begin(req, 200, "text/event-stream");
        lm_http_stream_write(st, "data: one\n\n", 11);
        wait_flag(&client_got_first, 5000);
        lm_http_stream_write(st, "data: two\n\n", 11);
        lm_http_stream_end(st);
    } else if (!strcmp(req->path, "/forever")) {
        struct lm_http_stream *st = lm_http_stream_begin(req, 200, "text/event-stream");
        pthread_t th;
        pthread_create(&th, NULL, producer_forever, st);
        pthread_detach(th);
    } else if (!strcmp(req->path, "/sse")) {
        struct lm_http_stream *st = lm_http_stream_begin(req, 200, "text/event-stream");
        lm_http_sse_data(st, "{\"a\":1}");
        lm_http_sse_event(st, "note", "two\nlines");
        lm_http_sse_data(st, "[DONE]");
        lm_http_stream_end(st);
    } else if (!strcmp(req->path, "/upgrade")) {
        lm_http_add_header(req, "Upgrade", "shout");
        lm_http_upgrade(req, upgrade_echo, NULL);
    } else if (!strcmp(req->path, "/slow")) {
        /* a long non-streamed answer: notices the client leaving before it responds */
        for (int i = 0; i < 300 && !lm_http_req_gone(req); i++) sleep_ms(10);
        atomic_store(&req_gone_seen, lm_http_req_gone(req) ? 1 : 2);
        lm_http_respond_json(req, 200, "{}");
    } else if (!strcmp(req->path, "/twice")) {
        /* only the first answer counts: a second response, or a stream after it, is ignored */
        lm_http_respond(req, 201, "text/plain", "first", 5);
        lm_http_respond(req, 500, "application/json", "{}", 2);
        atomic_store(&late_stream_seen, lm_http_stream_begin(req, 502, "text/event-stream") ? 2 : 1);
    } else if (!strcmp(req->path, "/stream-then-respond")) {
        struct lm_http_stream *st = lm_http_stream_begin(req, 200, "text/event-stream");
        lm_http_respond(req, 500, "text/plain", "late", 4);
        lm_http_stream_write(st, "data: x\n\n", 9);
        lm_http_stream_end(st);
    } else if (!strcmp(req->path, "/nothing")) {
        /* no response at all: the layer answers 500 */
    } else {
        lm_http_respond_error(req, 404, "not_found_error", "no route %s", req->path);
    }
}

static int port;

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    ASSERT_EQ(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0) return;  /* the server may close early (413) */
        c += w;
        n -= (size_t)w;
    }
}

/* Sends raw request text and reads the whole answer (the request says Connection: close). */
static void roundtrip(const char *raw, const void *body, size_t body_len, struct lm_buf *out)
{
    int fd = dial();
    send_all(fd, raw, strlen(raw));
    if (body_len) send_all(fd, body, body_len);
    char buf[4096];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) lm_buf_append(out, buf, (size_t)n);
    close(fd);
    if (!out->data) lm_buf_append_str(out, "");
}

/* A plain GET of path on a fresh connection; the whole answer replaces *out. */
static void get(const char *path, struct lm_buf *out)
{
    char raw[512];
    snprintf(raw, sizeof raw, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    lm_buf_clear(out);
    roundtrip(raw, NULL, 0, out);
}

/* Reads until needle appears (bounded by the socket timeout). */
static void read_until(int fd, struct lm_buf *acc, const char *needle)
{
    char buf[1024];
    while (!acc->data || !strstr(acc->data, needle)) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) LM_FAIL_("connection ended before \"%s\"; got: %s", needle, acc->data ? acc->data : "");
        lm_buf_append(acc, buf, (size_t)n);
    }
}

static void test_routes(void)
{
    struct lm_buf r = {0};
    get("/health", &r);
    ASSERT(!strncmp(r.data, "HTTP/1.1 200", 12));
    ASSERT(strstr(r.data, "Content-Type: application/json"));
    ASSERT(strstr(r.data, "\r\n\r\n{\"status\":\"ok\"}"));
    lm_buf_clear(&r);

    roundtrip("GET /echo?a=1&b=x%20y HTTP/1.1\r\nHost: x\r\nX-Test: hi\r\nConnection: close\r\n\r\n", NULL, 0, &r);
    ASSERT(strstr(r.data, "GET|/echo|h=hi|a=1|b=x y|n=0|"));
    ASSERT(strstr(r.data, "X-Reply: yes"));

    get("/a%20b", &r);
    ASSERT(strstr(r.data, "\r\n\r\ndecoded"));
    lm_buf_clear(&r);

    roundtrip("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\n", "hello", 5, &r);
    ASSERT(strstr(r.data, "POST|/echo|h=-|a=-|b=-|n=5|hello"));

    get("/nope", &r);
    ASSERT(!strncmp(r.data, "HTTP/1.1 404", 12));
    ASSERT(strstr(r.data, "{\"error\":{\"message\":\"no route /nope\",\"type\":\"not_found_error\",\"code\":404}}"));

    get("/nothing", &r);
    ASSERT(!strncmp(r.data, "HTTP/1.1 500", 12));
    lm_buf_free(&r);
}

/* A handler that answers twice: the first answer (status, type, body or stream) stands. */
static void test_second_answer(void)
{
    struct lm_buf r = {0};
    get("/twice", &r);
    ASSERT(!strncmp(r.data, "HTTP/1.1 201", 12));
    ASSERT(strstr(r.data, "Content-Type: text/plain"));
    ASSERT(strstr(r.data, "\r\n\r\nfirst"));
    ASSERT(!strstr(r.data, "{}"));
    ASSERT(wait_flag(&late_stream_seen, 5000));
    ASSERT_EQ(atomic_load(&late_stream_seen), 1);

    get("/stream-then-respond", &r);
    ASSERT(!strncmp(r.data, "HTTP/1.1 200", 12));
    ASSERT(strstr(r.data, "Content-Type: text/event-stream"));
    ASSERT(strstr(r.data, "data: x"));
    ASSERT(!strstr(r.data, "late"));
    lm_buf_free(&r);
}

static void test_keepalive(void)
{
    /* two requests on one connection */
    int fd = dial();
    const char *q = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
    struct lm_buf acc = {0};
    send_all(fd, q, strlen(q));
    read_until(fd, &acc, "{\"status\":\"ok\"}");
    lm_buf_clear(&acc);
    send_all(fd, q, strlen(q));
    read_until(fd, &acc, "{\"status\":\"ok\"}");
    close(fd);
    lm_buf_free(&acc);
}

static void test_too_big(void)
{
    size_t n = 4096;  /* server limit is 1024 */
    char *big = malloc(n);
    memset(big, 'x', n);
    struct lm_buf r = {0};
    char head[256];
    snprintf(head, sizeof head, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", n);
    roundtrip(head, big, n, &r);
    ASSERT(!strncmp(r.data, "HTTP/1.1 413", 12));
    ASSERT(strstr(r.data, "\"code\":413"));
    lm_buf_clear(&r);

    /* with Expect: 100-continue the answer comes before any body */
    snprintf(head, sizeof head,
             "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n", n);
    roundtrip(head, NULL, 0, &r);
    ASSERT(!strncmp(r.data, "HTTP/1.1 413", 12));
    lm_buf_clear(&r);

    /* chunked upload over the limit */
    struct lm_buf body = {0};
    for (int i = 0; i < 4; i++) {
        lm_buf_printf(&body, "400\r\n");
        lm_buf_append(&body, big, 1024);
        lm_buf_append_str(&body, "\r\n");
    }
    lm_buf_append_str(&body, "0\r\n\r\n");
    roundtrip("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n", body.data,
              body.len, &r);
    ASSERT(!strncmp(r.data, "HTTP/1.1 413", 12));
    lm_buf_clear(&r);

    /* exactly at the limit is fine */
    snprintf(head, sizeof head, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\nConnection: close\r\n\r\n");
    roundtrip(head, big, 1024, &r);
    ASSERT(!strncmp(r.data, "HTTP/1.1 200", 12));
    ASSERT(strstr(r.data, "|n=1024|xxxx"));
    lm_buf_free(&r);
    lm_buf_free(&body);
    free(big);
}

static void check_stream(const char *path)
{
    atomic_store(&client_got_first, 0);
    int fd = dial();
    char q[128];
    snprintf(q, sizeof q, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    send_all(fd, q, strlen(q));
    struct lm_buf acc = {0};
    /* the first piece must arrive while the producer is still waiting for us */
    read_until(fd, &acc, "data: one\n\n");
    ASSERT(!strncmp(acc.data, "HTTP/1.1 200", 12));
    ASSERT(strstr(acc.data, "Transfer-Encoding: chunked"));
    ASSERT(strstr(acc.data, "Content-Type: text/event-stream"));
    ASSERT(!strstr(acc.data, "data: two"));
    atomic_store(&client_got_first, 1);
    read_until(fd, &acc, "data: two\n\n");
    read_until(fd, &acc, "\r\n0\r\n\r\n");  /* last chunk */
    close(fd);
    lm_buf_free(&acc);
}

static void test_stream_other_thread(void) { check_stream("/stream"); }
static void test_stream_from_handler(void) { check_stream("/stream-sync"); }

static void test_sse(void)
{
    struct lm_buf r = {0};
    roundtrip("GET /sse HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", NULL, 0, &r);
    ASSERT(strstr(r.data, "data: {\"a\":1}\n\n"));
    ASSERT(strstr(r.data, "event: note\ndata: two\ndata: lines\n\n"));
    ASSERT(strstr(r.data, "data: [DONE]\n\n"));
    lm_buf_free(&r);
}

static void test_disconnect(void)
{
    atomic_store(&producer_saw_gone, 0);
    atomic_store(&producer_done, 0);
    int fd = dial();
    const char *q = "GET /forever HTTP/1.1\r\nHost: x\r\n\r\n";
    send_all(fd, q, strlen(q));
    struct lm_buf acc = {0};
    read_until(fd, &acc, "data: x\n\n");
    close(fd);
    ASSERT(wait_flag(&producer_saw_gone, 3000));
    ASSERT(wait_flag(&producer_done, 3000));
    lm_buf_free(&acc);
}

static void test_req_gone(void)
{
    atomic_store(&req_gone_seen, 0);
    int fd = dial();
    const char *q = "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
    send_all(fd, q, strlen(q));
    sleep_ms(50);
    close(fd);
    ASSERT(wait_flag(&req_gone_seen, 5000));
    ASSERT_EQ(atomic_load(&req_gone_seen), 1);
}

/* Malformed requests get an error (or a closed connection), and the server stays up. */
static void test_garbage(void)
{
    const char *bad[] = {
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",   /* TLS hello */
        "GET\r\n\r\n",
        "GET / HTTP/9.9\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        "GET /echo HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n",
        "GET /%zz%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct lm_buf r = {0};
        roundtrip(bad[i], NULL, 0, &r);
        if (r.len) ASSERT(!strncmp(r.data, "HTTP/1.", 7));
        lm_buf_free(&r);
    }
    /* a header block far over the limit */
    struct lm_buf big = {0};
    lm_buf_append_str(&big, "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ");
    for (int i = 0; i < 200000; i++) lm_buf_append_char(&big, 'a');
    lm_buf_append_str(&big, "\r\nConnection: close\r\n\r\n");
    struct lm_buf r = {0};
    roundtrip(big.data, NULL, 0, &r);
    if (r.len) ASSERT(!strncmp(r.data, "HTTP/1.1 4", 10));
    lm_buf_free(&r);
    lm_buf_free(&big);
    roundtrip("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", NULL, 0, &r);
    ASSERT(!strncmp(r.data, "HTTP/1.1 200", 12));
    lm_buf_free(&r);
}

static void test_upgrade(void)
{
    int fd = dial();
    const char *q = "GET /upgrade HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\n";
    send_all(fd, q, strlen(q));
    struct lm_buf acc = {0};
    read_until(fd, &acc, "\r\n\r\n");
    ASSERT(!strncmp(acc.data, "HTTP/1.1 101", 12));
    ASSERT(strstr(acc.data, "Upgrade: shout"));
    lm_buf_clear(&acc);
    send_all(fd, "hello", 5);
    read_until(fd, &acc, "HELLO");
    send_all(fd, " again", 6);
    read_until(fd, &acc, " AGAIN");
    close(fd);
    lm_buf_free(&acc);
}

static void test_bind_error(void)
{
    struct lm_http_server *s2 = NULL;
    struct lm_error err = {0};
    int rc = lm_http_start(&(struct lm_http_config){.host = "127.0.0.1", .port = port, .handler = handle}, &s2, &err);
    ASSERT(rc < 0);
    ASSERT(s2 == NULL);
    ASSERT(strstr(err.msg, "127.0.0.1"));
}

int main(void)
{
    struct lm_http_server *s = NULL;
    struct lm_error err = {0};
    if (lm_http_start(&(struct lm_http_config){.host = "127.0.0.1", .port = 0, .max_body = 1024,
                                             .grace_ms = 300, .handler = handle},
                      &s, &err) < 0)
        LM_FAIL_("start: %s", err.msg);
    port = lm_http_port(s);
    ASSERT(port > 0);
    RUN_TEST(test_routes);
    RUN_TEST(test_second_answer);
    RUN_TEST(test_keepalive);
    RUN_TEST(test_too_big);
    RUN_TEST(test_stream_other_thread);
    RUN_TEST(test_stream_from_handler);
    RUN_TEST(test_sse);
    RUN_TEST(test_disconnect);
    RUN_TEST(test_req_gone);
    RUN_TEST(test_garbage);
    RUN_TEST(test_upgrade);
    RUN_TEST(test_bind_error);

    /* stop with a stream still open: the producer is told, stop returns. Before that,
     * quiesce: an open keep-alive connection still works, new connections are refused. */
    atomic_store(&producer_done, 0);
    int ka = dial();
    {
        const char *h = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
        struct lm_buf hb = {0};
        send_all(ka, h, strlen(h));
        read_until(ka, &hb, "{\"status\":\"ok\"}");  /* accepted and served once */
        lm_buf_free(&hb);
    }
    lm_http_quiesce(s);
    {
        int nf = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        ASSERT(connect(nf, (struct sockaddr *)&a, sizeof a) != 0);
        close(nf);
    }
    int fd = ka;
    const char *q = "GET /forever HTTP/1.1\r\nHost: x\r\n\r\n";
    send_all(fd, q, strlen(q));
    struct lm_buf acc = {0};
    read_until(fd, &acc, "data: x\n\n");
    lm_http_stop(s);
    ASSERT(wait_flag(&producer_done, 3000));
    close(fd);
    lm_buf_free(&acc);
    sleep_ms(50);  /* let the detached producer thread exit before the leak check */
    fprintf(stderr, "ok\n");
    return 0;
}
