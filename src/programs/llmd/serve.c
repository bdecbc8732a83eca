/* serve.c — `llmd -m MODEL [flags]`: the OpenAI-compatible server (flags as llama-server's).
 *
 * Start-up order: flags, then HTTP (so /health answers 503 "loading" at once), then the model,
 * then the scheduler (or the embedder for an encoder model); then /health turns 200. SIGTERM
 * and SIGINT stop accepting connections, end every running answer cleanly (a last chunk and
 * [DONE] for streams), wait for the request threads and exit 0.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "lm/embed.h"
#include "lm/log.h"
#include "lm/model.h"
#include "lm/tokenizer.h"
#include "server.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: llmd -m MODEL [options]       OpenAI-compatible server (llama-server's flags)\n"
            "       llmd run|tokenize|embed|template ...   engine tools (see llmd CMD --help)\n"
            "\n"
            "  -m, --model PATH        GGUF model to serve (required)\n"
            "      --host ADDR         listen address (default 127.0.0.1)\n"
            "      --port N            listen port (default 8080)\n"
            "  -c, --ctx-size N        context size PER SLOT in tokens (default: the model's, at most 8192);\n"
            "                          unlike llama-server it is not divided among the --parallel slots\n"
            "  -np, --parallel N       slots: requests decoded together in one batch (default 1)\n"
            "      --queue N           requests that may wait for a slot; beyond that 503 (default 16)\n"
            "  -b, --batch-size N      prompt tokens decoded per step (default 512)\n"
            "  -t, --threads N         compute threads (default: all cores)\n"
            "  -n, --n-predict N       default maximum tokens to generate, -1 = until the context is full\n"
            "      --api-key KEY       require 'Authorization: Bearer KEY' on /v1/* (default: env LLM_API_KEY)\n"
            "  -a, --alias NAME        model id in the API (default: the file name)\n"
            "      --chat-template NAME  chat format: chatml, llama2, llama3, gemma, mistral ...\n"
            "                          (default: detected from the model's tokenizer.chat_template)\n"
            "      --embeddings        serve /v1/embeddings (needs an embedding model such as bert)\n"
            "      --max-body BYTES    largest request body, K/M suffixes allowed (default 8M); larger: 413\n"
            "  -v, --verbose           debug log (one line per decode step)\n"
            "  -h, --help              this help\n");
}

/* Parses an integer flag value in [lo, hi]; false (with a message) otherwise. */
static bool parse_int(const char *flag, const char *v, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || !*v || *end || errno || x < lo || x > hi) {
        fprintf(stderr, "llmd: %s needs an integer between %ld and %ld, got '%s'\n", flag, lo, hi, v ? v : "");
        return false;
    }
    *out = (int)x;
    return true;
}

static bool parse_size(const char *flag, const char *v, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long x = v && *v != '-' ? strtoull(v, &end, 10) : 0;
    if (!v || !*v || *v == '-' || errno || end == v) goto bad;
    if (*end == 'k' || *end == 'K') x <<= 10, end++;
    else if (*end == 'm' || *end == 'M') x <<= 20, end++;
    else if (*end == 'g' || *end == 'G') x <<= 30, end++;
    if (*end || x == 0 || x > (1ull << 34)) goto bad;
    *out = (size_t)x;
    return true;
bad:
    fprintf(stderr, "llmd: %s needs a size in bytes (K/M/G suffixes allowed), got '%s'\n", flag, v ? v : "");
    return false;
}

/* a is the flag s1 or its other spelling s2 (may be NULL). */
static bool is(const char *a, const char *s1, const char *s2)
{
    return !strcmp(a, s1) || (s2 && !strcmp(a, s2));
}

/* Parses argv into o; returns 0, 2 for a usage error, or -1 after --help. */
static int parse_flags(int argc, char **argv, struct llmd_opts *o)
{
    *o = (struct llmd_opts){.host = "127.0.0.1", .port = 8080, .n_parallel = 1, .n_predict = -1, .queue = 16,
                            .n_batch = 512, .max_body = 8u << 20};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;
        if (is(a, "-h", "--help")) {
            usage(stdout);
            return -1;
        } else if (is(a, "-v", "--verbose")) {
            lm_log_set_level(LM_LOG_DEBUG);
            takes = false;
        } else if (is(a, "--embeddings", "--embedding")) {
            o->embeddings = true;
            takes = false;
        } else if (!v) {
            if (is(a, "-m", "--model") || is(a, "--host", NULL) || is(a, "--port", NULL) || is(a, "-c", "--ctx-size") ||
                is(a, "-np", "--parallel") || is(a, "--api-key", NULL) || is(a, "-t", "--threads") || is(a, "-a", "--alias") ||
                is(a, "--chat-template", NULL) || is(a, "-n", "--n-predict") || is(a, "--max-body", NULL) ||
                is(a, "--queue", NULL) || is(a, "-b", "--batch-size"))
                fprintf(stderr, "llmd: %s needs a value\n", a);
            else
                fprintf(stderr, "llmd: unknown option '%s' (see llmd --help)\n", a);
            return 2;
        } else if (is(a, "-m", "--model")) {
            o->model = v;
        } else if (is(a, "--host", NULL)) {
            o->host = v;
        } else if (is(a, "--port", NULL)) {
            if (!parse_int(a, v, 0, 65535, &o->port)) return 2;
        } else if (is(a, "-c", "--ctx-size")) {
            if (!parse_int(a, v, 0, 1 << 20, &o->n_ctx)) return 2;
        } else if (is(a, "-np", "--parallel")) {
            if (!parse_int(a, v, 1, 256, &o->n_parallel)) return 2;
        } else if (is(a, "--queue", NULL)) {
            if (!parse_int(a, v, 0, 100000, &o->queue)) return 2;
        } else if (is(a, "-b", "--batch-size")) {
            if (!parse_int(a, v, 1, 1 << 16, &o->n_batch)) return 2;
        } else if (is(a, "-t", "--threads")) {
            if (!parse_int(a, v, 0, 1024, &o->n_threads)) return 2;
        } else if (is(a, "-n", "--n-predict")) {
            if (!parse_int(a, v, -1, INT_MAX, &o->n_predict)) return 2;
        } else if (is(a, "--api-key", NULL)) {
            o->api_key = v;
        } else if (is(a, "-a", "--alias")) {
            o->alias = v;
        } else if (is(a, "--chat-template", NULL)) {
            if (!lm_chat_family_known(v)) {
                fprintf(stderr, "llmd: --chat-template: unknown template '%s' (chatml, llama2, llama3, gemma, mistral)\n",
                        v);
                return 2;
            }
            o->chat_template = v;
        } else if (is(a, "--max-body", NULL)) {
            if (!parse_size(a, v, &o->max_body)) return 2;
        } else {
            fprintf(stderr, "llmd: unknown option '%s' (see llmd --help)\n", a);
            return 2;
        }
        if (takes) i++;
    }
    if (!o->model) {
        fprintf(stderr, "llmd: -m/--model PATH is required (see llmd --help)\n");
        return 2;
    }
    if (!o->api_key) {
        const char *k = getenv("LLM_API_KEY");
        if (k && *k) o->api_key = k;
    }
    return 0;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Loads the model and what serves it; returns 0 or an exit code. */
static int load(struct llmd_server *srv)
{
    struct lm_error err = {0};
    const struct llmd_opts *o = &srv->opts;
    if (lm_model_load(o->model, &(struct lm_model_params){.n_threads = o->n_threads}, &srv->model, &err) < 0) {
        fprintf(stderr, "llmd: cannot load model %s: %s\n", o->model, err.msg);
        return 1;
    }
    const struct lm_model_info *mi = lm_model_info(srv->model);
    srv->tok = lm_model_tokenizer(srv->model);
    if (!srv->tok) {
        fprintf(stderr, "llmd: model %s has no usable tokenizer\n", o->model);
        return 1;
    }
    if (o->chat_template) {
        srv->chat_family = o->chat_template;
    } else {
        bool known = true;
        srv->chat_family = lm_chat_detect(lm_model_chat_template(srv->model), &known);
        if (!known) LM_LOG_WARN("llmd: the model's chat template is not recognised; using %s", srv->chat_family);
    }
    if (mi->is_embedding) {
        srv->n_ctx = mi->n_ctx_train;
        if (o->embeddings) {
            if (lm_embedder_init(srv->model, &(struct lm_embed_params){.n_threads = o->n_threads}, &srv->embedder,
                                 &err) < 0) {
                fprintf(stderr, "llmd: cannot set up embeddings for %s: %s\n", o->model, err.msg);
                return 1;
            }
        }
    } else {
        struct llmd_sched_params sp = {.n_slots = o->n_parallel, .n_ctx = o->n_ctx, .n_batch = o->n_batch,
                                       .n_threads = o->n_threads, .queue_max = o->queue};
        if (llmd_sched_start(srv, &sp, &srv->sched, &err) < 0) {
            fprintf(stderr, "llmd: cannot create the context for %s: %s\n", o->model, err.msg);
            return 1;
        }
        struct llmd_sched_stats st;
        llmd_sched_stats(srv->sched, &st);
        srv->n_ctx = st.n_ctx;
        if (o->embeddings)
            LM_LOG_WARN("llmd: --embeddings: %s is not an embedding model; /v1/embeddings will answer 501",
                        mi->arch);
    }
    LM_LOG_INFO("llmd: model %s (%s, %d layers, %.1fM params), %d slot(s) of %d tokens", srv->model_id, mi->arch,
                mi->n_layer, (double)mi->n_params / 1e6, srv->sched ? o->n_parallel : 0, srv->n_ctx);
    return 0;
}

int llmd_cmd_serve(int argc, char **argv)
{
    static struct llmd_server srv;  /* static: request threads may look at it until the very end */
    int rc = parse_flags(argc, argv, &srv.opts);
    if (rc) return rc < 0 ? 0 : rc;
    srv.model_id = srv.opts.alias ? srv.opts.alias : base_name(srv.opts.model);
    srv.started_at = (long long)time(NULL);
    pthread_mutex_init(&srv.embed_mu, NULL);

    /* every thread created from here inherits the blocked signals; main waits for them */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct lm_error err = {0};
    struct lm_http_server *http = NULL;
    /* room for every slot and queued request plus the short ones (health, metrics) */
    unsigned max_conn = (unsigned)(srv.opts.n_parallel + srv.opts.queue + 64);
    if (max_conn < 256) max_conn = 256;
    if (lm_http_start(&(struct lm_http_config){.host = srv.opts.host, .port = srv.opts.port,
                                               .max_body = srv.opts.max_body, .max_connections = max_conn,
                                               .handler = llmd_handle, .user = &srv},
                      &http, &err) < 0) {
        fprintf(stderr, "llmd: %s\n", err.msg);
        return 1;
    }
    LM_LOG_INFO("llmd: listening on http://%s:%d", srv.opts.host, lm_http_port(http));

    rc = load(&srv);
    if (rc == 0) {
        atomic_store(&srv.ready, true);
        LM_LOG_INFO("llmd: ready");
        int sig = 0;
        sigwait(&sigs, &sig);
        LM_LOG_INFO("llmd: signal %d, shutting down", sig);
    }
    atomic_store(&srv.stopping, true);
    lm_http_quiesce(http);
    llmd_sched_stop(srv.sched);   /* ends running answers; their handlers finish the streams */
    lm_http_stop(http);           /* waits for the request threads */
    llmd_sched_free(srv.sched);
    if (srv.embedder) lm_embedder_free(srv.embedder);
    if (srv.model) lm_model_free(srv.model);
    pthread_mutex_destroy(&srv.embed_mu);
    return rc;
}
