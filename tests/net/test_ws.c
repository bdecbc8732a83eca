/* test_ws.c — WebSocket connections over a socketpair: masked and fragmented frames, ping,
 * close, limits, invalid UTF-8, binary, sends from another thread, the accept key. */
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lm/ws.h"
#include "lm_test.h"

/* Echo: every text message comes back prefixed with "echo:". */
static void on_echo(struct lm_ws *ws, const char *data, size_t len, void *user)
{
    (void)user;
    char buf[256];
    int n = snprintf(buf, sizeof buf, "echo:%.*s", (int)len, data);
    lm_ws_send_text(ws, buf, (size_t)n);
}

struct server {
    int fd;
    struct lm_ws *ws;
    int rc;
    pthread_t th;
    const char *extra;
    size_t extra_len;
};

static void *server_main(void *arg)
{
    struct server *s = arg;
    s->rc = lm_ws_run(s->ws, s->fd, s->extra, s->extra_len);
    return NULL;
}

/* Starts a server on one end of a socketpair; returns the client end. */
static int start(struct server *s, size_t max_message, const char *extra, size_t extra_len)
{
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    s->fd = sv[0];
    s->extra = extra;
    s->extra_len = extra_len;
    s->ws = lm_ws_new(&(struct lm_ws_config){.max_message = max_message, .on_message = on_echo});
    ASSERT(s->ws);
    pthread_create(&s->th, NULL, server_main, s);
    return sv[1];
}

static void finish(struct server *s, int cfd)
{
    close(cfd);
    pthread_join(s->th, NULL);
    lm_ws_free(s->ws);
    close(s->fd);
}

/* Writes one client frame (masked with a fixed key). */
static void send_frame(int fd, int fin, int opcode, const char *payload, size_t len)
{
    unsigned char hdr[14];
    size_t h = 0;
    hdr[h++] = (unsigned char)((fin ? 0x80 : 0) | opcode);
    if (len < 126) hdr[h++] = (unsigned char)(0x80 | len);
    else {
        hdr[h++] = 0x80 | 126;
        hdr[h++] = (unsigned char)(len >> 8);
        hdr[h++] = (unsigned char)len;
    }
    const unsigned char key[4] = {0x11, 0x22, 0x33, 0x44};
    memcpy(hdr + h, key, 4);
    h += 4;
    ASSERT_EQ(write(fd, hdr, h), (long long)h);
    unsigned char *p = malloc(len + 1);
    for (size_t i = 0; i < len; i++) p[i] = (unsigned char)payload[i] ^ key[i % 4];
    if (len) ASSERT_EQ(write(fd, p, len), (long long)len);
    free(p);
}

/* Reads one server frame (unmasked); returns its opcode, payload in buf (NUL-terminated). */
static int read_frame(int fd, char *buf, size_t cap, size_t *len_out)
{
    unsigned char h[2];
    size_t got = 0;
    while (got < 2) {
        ssize_t r = read(fd, h + got, 2 - got);
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    ASSERT_EQ(h[1] & 0x80, 0);
    size_t len = h[1] & 0x7f;
    if (len == 126) {
        unsigned char e[2];
        ASSERT_EQ(read(fd, e, 2), 2);
        len = (size_t)e[0] << 8 | e[1];
    }
    ASSERT(len < cap);
    got = 0;
    while (got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        ASSERT(r > 0);
        got += (size_t)r;
    }
    buf[len] = 0;
    if (len_out) *len_out = len;
    return h[0] & 0x0f;
}

static void test_accept_key(void)
{
    char out[29];
    lm_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out);
    ASSERT_STR_EQ(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void test_echo_fragments_ping_close(void)
{
    struct server s;
    /* the first frame arrives as bytes "read past the request" by the HTTP layer */
    static const char extra[] = {(char)0x81, (char)0x82, 0, 0, 0, 0, 'h', 'i'};
    int c = start(&s, 0, extra, sizeof extra);
    char buf[512];
    size_t n;
    ASSERT_EQ(read_frame(c, buf, sizeof buf, NULL), 1);
    ASSERT_STR_EQ(buf, "echo:hi");

    send_frame(c, 0, 1, "hel", 3);       /* fragmented text with a ping in between */
    send_frame(c, 1, 9, "pp", 2);
    send_frame(c, 1, 0, "lo 你好", strlen("lo 你好"));
    ASSERT_EQ(read_frame(c, buf, sizeof buf, NULL), 10); /* pong first */
    ASSERT_STR_EQ(buf, "pp");
    ASSERT_EQ(read_frame(c, buf, sizeof buf, NULL), 1);
    ASSERT_STR_EQ(buf, "echo:hello 你好");

    send_frame(c, 1, 8, "\x03\xe8" "bye", 5);
    ASSERT_EQ(read_frame(c, buf, sizeof buf, &n), 8);
    ASSERT(n >= 2 && (unsigned char)buf[0] == 0x03 && (unsigned char)buf[1] == 0xe8);
    pthread_join(s.th, NULL);
    ASSERT_EQ(s.rc, 0);
    ASSERT_EQ(lm_ws_send_text(s.ws, "x", 1), LM_EIO);
    lm_ws_free(s.ws);
    close(s.fd);
    close(c);
}

/* Expects a close frame with the given status code. */
static void expect_close(int c, int code)
{
    char buf[512];
    size_t n;
    int op;
    while ((op = read_frame(c, buf, sizeof buf, &n)) == 1) {}
    ASSERT_EQ(op, 8);
    ASSERT(n >= 2);
    ASSERT_EQ((unsigned char)buf[0] << 8 | (unsigned char)buf[1], code);
}

static void test_limits_and_bad_input(void)
{
    struct server s;
    int c = start(&s, 100, NULL, 0);
    char big[200];
    memset(big, 'a', sizeof big);
    send_frame(c, 1, 1, big, sizeof big);
    expect_close(c, 1009);
    finish(&s, c);

    c = start(&s, 0, NULL, 0);
    send_frame(c, 1, 1, "\xff\xfe", 2);
    expect_close(c, 1007);
    finish(&s, c);

    c = start(&s, 0, NULL, 0);
    send_frame(c, 1, 2, "bin", 3);
    expect_close(c, 1003);
    finish(&s, c);

    /* an unmasked client frame is a protocol error */
    c = start(&s, 0, NULL, 0);
    ASSERT_EQ(write(c, "\x81\x02hi", 4), 4);
    expect_close(c, 1002);
    finish(&s, c);

    /* the peer vanishing ends the loop with an error, not a hang */
    c = start(&s, 0, NULL, 0);
    close(c);
    pthread_join(s.th, NULL);
    ASSERT_EQ(s.rc, LM_EIO);
    lm_ws_free(s.ws);
    close(s.fd);
}

static void test_server_close_and_threads(void)
{
    struct server s;
    int c = start(&s, 0, NULL, 0);
    for (int i = 0; i < 50; i++) ASSERT_OK(lm_ws_send_text(s.ws, "tick", 4));
    lm_ws_close(s.ws, 1001, "going away");
    ASSERT(lm_ws_closed(s.ws));
    char buf[512];
    for (int i = 0; i < 50; i++) {
        ASSERT_EQ(read_frame(c, buf, sizeof buf, NULL), 1);
        ASSERT_STR_EQ(buf, "tick");
    }
    expect_close(c, 1001);
    send_frame(c, 1, 8, "\x03\xe9", 2);
    pthread_join(s.th, NULL);
    ASSERT_EQ(s.rc, 0);
    lm_ws_free(s.ws);
    close(s.fd);
    close(c);
}

static void test_utf8(void)
{
    ASSERT(lm_utf8_valid("abc 你好 😀", strlen("abc 你好 😀")));
    ASSERT(!lm_utf8_valid("\xc0\xaf", 2));         /* overlong */
    ASSERT(!lm_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    ASSERT(!lm_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    ASSERT(!lm_utf8_valid("\xe4\xbd", 2));         /* truncated */
}

int main(void)
{
    RUN_TEST(test_accept_key);
    RUN_TEST(test_utf8);
    RUN_TEST(test_echo_fragments_ping_close);
    RUN_TEST(test_limits_and_bad_input);
    RUN_TEST(test_server_close_and_threads);
    return 0;
}
