/* test_llm_client.c — the OpenAI client against a scripted HTTP server on 127.0.0.1: streamed
 * deltas, usage and finish reason, server errors, a dropped stream, cancel, idle timeout,
 * the context size from /v1/models or /props, embeddings, /tokenize. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lm/buf.h"
#include "lm/llm_client.h"
#include "lm_test.h"

/* What the server answers, by request path; set before each case. */
static const char *g_reply;          /* full raw HTTP response for any request */
static const char *g_props_reply;    /* raw response for /props (NULL: 404) */
static int g_hang_ms;                /* after the reply, keep the socket open this long */
static char g_last_request[65536];
static int g_listen;

static void *server_main(void *arg)
{
    (void)arg;
    for (;;) {
        int c = accept(g_listen, NULL, NULL);
        if (c < 0) return NULL;
        char buf[65536];
        size_t n = 0;
        /* read headers, then Content-Length bytes of body */
        for (;;) {
            ssize_t r = read(c, buf + n, sizeof buf - 1 - n);
            if (r <= 0) break;
            n += (size_t)r;
            buf[n] = 0;
            char *end = strstr(buf, "\r\n\r\n");
            if (end) {
                char *cl = strcasestr(buf, "Content-Length:");
                size_t want = cl ? (size_t)atol(cl + 15) : 0;
                if (n >= (size_t)(end + 4 - buf) + want) break;
            }
        }
        memcpy(g_last_request, buf, n + 1);
        const char *reply = g_reply;
        if (!strncmp(buf, "GET /props", 10))
            reply = g_props_reply ? g_props_reply : "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        if (write(c, reply, strlen(reply)) < 0) {}
        if (g_hang_ms) usleep((useconds_t)g_hang_ms * 1000);
        close(c);
    }
}

static struct lm_llm_config cfg(int port, char *url, size_t cap)
{
    snprintf(url, cap, "http://127.0.0.1:%d/v1/", port);
    return (struct lm_llm_config){.base_url = url, .api_key = "sk-x", .model = "m", .idle_timeout_s = 2};
}

/* A 200 JSON response with the right Content-Length (static storage, one per slot). */
static const char *json_reply(int slot, const char *body)
{
    static char buf[4][4096];
    snprintf(buf[slot], sizeof buf[slot], "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    return buf[slot];
}

static int collect(void *user, const char *t, size_t n)
{
    lm_buf_append(user, t, n);
    return 0;
}

static const struct lm_llm_message MSGS[] = {{"system", "You are a helpful assistant."}, {"user", "Hi \"there\""}};

static void test_stream(int port)
{
    char url[128];
    struct lm_llm_config c = cfg(port, url, sizeof url);
    g_hang_ms = 0;
    g_reply = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
              "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\r\n\r\n"
              ": ping\n\n"
              "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n"
              "data: {\"choices\":[{\"delta\":{\"content\":\"lo 你\"},\"finish_reason\":null}]}\n\n"
              "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
              "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3}}\n\n"
              "data: [DONE]\n\n";
    struct lm_buf out = {0};
    struct lm_llm_result res;
    struct lm_error err = {0};
    ASSERT_OK(lm_llm_chat_stream(&c, &(struct lm_llm_chat_params){MSGS, 2, 0.2, 0}, collect, &out, NULL, &res, &err));
    ASSERT_STR_EQ(out.data, "Hello 你");
    ASSERT_STR_EQ(res.finish_reason, "stop");
    ASSERT_EQ(res.prompt_tokens, 7);
    ASSERT_EQ(res.completion_tokens, 3);
    ASSERT(strstr(g_last_request, "POST /v1/chat/completions"));
    ASSERT(strstr(g_last_request, "Authorization: Bearer sk-x"));
    ASSERT(strstr(g_last_request, "\"stream\":true"));
    ASSERT(strstr(g_last_request, "\"temperature\":0.2"));
    ASSERT(strstr(g_last_request, "Hi \\\"there\\\""));
    lm_buf_free(&out);
}

static void test_errors(int port)
{
    char url[128];
    struct lm_llm_config c = cfg(port, url, sizeof url);
    struct lm_buf out = {0};
    struct lm_error err = {0};
    g_hang_ms = 0;
    g_reply = "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 82\r\n\r\n"
              "{\"error\":{\"message\":\"context overflow: 9000 > 4096\",\"type\":\"invalid_request_error\"}}";
    ASSERT_EQ(lm_llm_chat_stream(&c, &(struct lm_llm_chat_params){MSGS, 2, 0.2, 0}, collect, &out, NULL, NULL, &err),
              LM_EINVAL);
    ASSERT(strstr(err.msg, "400") && strstr(err.msg, "context overflow"));

    /* the stream stops without [DONE] or a finish reason: the connection dropped */
    g_reply = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
              "data: {\"choices\":[{\"delta\":{\"content\":\"part\"}}]}\n\n";
    ASSERT_EQ(lm_llm_chat_stream(&c, &(struct lm_llm_chat_params){MSGS, 2, 0.2, 0}, collect, &out, NULL, NULL, &err),
              LM_EIO);
    ASSERT(strstr(err.msg, "ended early"));

    /* a chunk that is not JSON */
    g_reply = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\ndata: {oops\n\n";
    ASSERT_EQ(lm_llm_chat_stream(&c, &(struct lm_llm_chat_params){MSGS, 2, 0.2, 0}, collect, &out, NULL, NULL, &err),
              LM_EFORMAT);

    /* nothing listening */
    struct lm_llm_config dead = {.base_url = "http://127.0.0.1:1/v1", .connect_timeout_ms = 1000};
    ASSERT_EQ(lm_llm_chat_stream(&dead, &(struct lm_llm_chat_params){MSGS, 2, 0.2, 0}, collect, &out, NULL, NULL, &err),
              LM_EIO);
    ASSERT(strstr(err.msg, "127.0.0.1:1"));
    lm_buf_free(&out);
}

static atomic_int g_cancel;

static void *cancel_later(void *arg)
{
    (void)arg;
    usleep(200 * 1000);
    atomic_store(&g_cancel, 1);
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_cancel_and_idle(int port)
{
    char url[128];
    struct lm_llm_config c = cfg(port, url, sizeof url);
    struct lm_buf out = {0};
    struct lm_error err = {0};
    /* one delta, then silence: cancel from another thread ends the call within about a second */
    g_reply = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
              "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n";
    g_hang_ms = 3000;
    atomic_store(&g_cancel, 0);
    pthread_t th;
    pthread_create(&th, NULL, cancel_later, NULL);
    double t0 = now_s();
    ASSERT_EQ(lm_llm_chat_stream(&c, &(struct lm_llm_chat_params){MSGS, 2, 0.2, 0}, collect, &out, &g_cancel, NULL,
                                 &err),
              LM_ECANCELED);
    ASSERT(now_s() - t0 < 1.8);
    pthread_join(th, NULL);
    ASSERT_STR_EQ(out.data, "x");

    /* the same silence without cancel: the idle timeout (1 s) ends it */
    usleep(3100 * 1000); /* the one-connection server is still holding the cancelled stream */
    c.idle_timeout_s = 1;
    t0 = now_s();
    ASSERT_EQ(lm_llm_chat_stream(&c, &(struct lm_llm_chat_params){MSGS, 2, 0.2, 0}, collect, &out, NULL, NULL, &err),
              LM_ETIMEDOUT);
    ASSERT(now_s() - t0 < 2.9);
    ASSERT(strstr(err.msg, "127.0.0.1"));
    g_hang_ms = 0;
    usleep(3100 * 1000); /* let the server thread finish its hang */
    lm_buf_free(&out);
}

static void test_models_embed_tokenize(int port)
{
    char url[128];
    struct lm_llm_config c = cfg(port, url, sizeof url);
    struct lm_llm_model_info info;
    g_hang_ms = 0;
    g_reply = json_reply(0, "{\"data\":[{\"id\":\"tiny.gguf\",\"meta\":{\"n_ctx\":2048,\"n_ctx_train\":8}}]}");
    ASSERT_OK(lm_llm_models(&c, &info, NULL));
    ASSERT_STR_EQ(info.id, "tiny.gguf");
    ASSERT_EQ(info.n_ctx, 2048);

    /* llama.cpp keeps the slot context in /props */
    g_reply = json_reply(1, "{\"data\":[{\"id\":\"a\",\"meta\":{\"n_ctx_train\":99}}]}");
    g_props_reply = json_reply(2, "{\"default_generation_settings\":{\"n_ctx\":1024}}");
    ASSERT_OK(lm_llm_models(&c, &info, NULL));
    ASSERT_EQ(info.n_ctx, 1024);
    g_props_reply = NULL;
    ASSERT_OK(lm_llm_models(&c, &info, NULL));
    ASSERT_EQ(info.n_ctx, 99);

    g_reply = json_reply(0, "{\"data\":[{\"index\":1,\"embedding\":[0,1]},{\"index\":0,\"embedding\":[0.5,-0.5]}],\"model\":\"m\"}");
    const char *texts[] = {"a", "b"};
    float v[8192];
    int dim = 0;
    ASSERT_OK(lm_llm_embed(&c, texts, 2, v, &dim, NULL));
    ASSERT_EQ(dim, 2);
    ASSERT_NEAR(v[0], 0.5, 1e-6);
    ASSERT_NEAR(v[3], 1.0, 1e-6);
    dim = 3;
    ASSERT_EQ(lm_llm_embed(&c, texts, 2, v, &dim, NULL), LM_EFORMAT);

    g_reply = json_reply(1, "{\"tokens\":[1,2,3,4]}");
    ASSERT_EQ(lm_llm_count_tokens(&c, "abcd", NULL), 4);
    ASSERT(strstr(g_last_request, "POST /tokenize"));
}

/* The same stream and cancel through a shared transfer pool, several calls at once. */
struct pool_call {
    struct lm_llm_config cfg;
    struct lm_buf out;
    int rc;
};

static void *pool_call_main(void *arg)
{
    struct pool_call *pc = arg;
    pc->rc = lm_llm_chat_stream(&pc->cfg, &(struct lm_llm_chat_params){MSGS, 2, 0.2, 0}, collect, &pc->out, NULL,
                                NULL, NULL);
    return NULL;
}

static void test_pool(int port)
{
    char url[128];
    struct lm_llm_pool *pool;
    ASSERT_OK(lm_llm_pool_new(&pool, NULL));
    struct lm_llm_config c = cfg(port, url, sizeof url);
    c.pool = pool;
    g_hang_ms = 0;
    g_reply = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
              "data: {\"choices\":[{\"delta\":{\"content\":\"po\"}}]}\n\n"
              "data: {\"choices\":[{\"delta\":{\"content\":\"ol\"},\"finish_reason\":\"stop\"}]}\n\n"
              "data: [DONE]\n\n";
    struct pool_call calls[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        calls[i] = (struct pool_call){.cfg = c};
        pthread_create(&th[i], NULL, pool_call_main, &calls[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ASSERT_EQ(calls[i].rc, 0);
        ASSERT_STR_EQ(calls[i].out.data, "pool");
        lm_buf_free(&calls[i].out);
    }
    /* cancel while the server is silent: within ~50 ms on the pool */
    g_reply = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
              "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n";
    g_hang_ms = 2000;
    atomic_store(&g_cancel, 0);
    pthread_t t;
    pthread_create(&t, NULL, cancel_later, NULL);
    struct lm_buf out = {0};
    double t0 = now_s();
    ASSERT_EQ(lm_llm_chat_stream(&c, &(struct lm_llm_chat_params){MSGS, 2, 0.2, 0}, collect, &out, &g_cancel, NULL,
                                 NULL),
              LM_ECANCELED);
    ASSERT(now_s() - t0 < 0.6);
    pthread_join(t, NULL);
    lm_buf_free(&out);
    g_hang_ms = 0;
    usleep(2100 * 1000);
    lm_llm_pool_free(pool);
}

int main(void)
{
    g_listen = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ASSERT_EQ(bind(g_listen, (struct sockaddr *)&a, sizeof a), 0);
    ASSERT_EQ(listen(g_listen, 16), 0);
    socklen_t al = sizeof a;
    getsockname(g_listen, (struct sockaddr *)&a, &al);
    int port = ntohs(a.sin_port);
    pthread_t th;
    pthread_create(&th, NULL, server_main, NULL);
    pthread_detach(th);
    fprintf(stderr, "-- test_stream\n");
    test_stream(port);
    fprintf(stderr, "-- test_errors\n");
    test_errors(port);
    fprintf(stderr, "-- test_cancel_and_idle\n");
    test_cancel_and_idle(port);
    fprintf(stderr, "-- test_pool\n");
    test_pool(port);
    fprintf(stderr, "-- test_models_embed_tokenize\n");
    test_models_embed_tokenize(port);
    return 0;
}
