/* routes.c — llmd's request routing, auth, and the routes that are not generation:
 * /health, /v1/models, /props, /v1/embeddings, /tokenize, /detokenize, /apply-template,
 * /metrics. Paths are accepted with and without the /v1 prefix, as llama-server does.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lm/embed.h"
#include "lm/model.h"
#include "lm/tokenizer.h"
#include "server.h"

#ifndef LLMD_VERSION
#define LLMD_VERSION "0.1.0"
#endif

static void respond_cjson(struct lm_http_req *req, int status, cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (s) lm_http_respond_json(req, status, s);
    else lm_http_respond_error(req, 500, "server_error", "out of memory");
    free(s);
}

/* Parses the body as a JSON object; answers 400 and returns NULL when it is not one. */
static cJSON *body_object(struct lm_http_req *req)
{
    cJSON *o = cJSON_ParseWithLength(req->body, req->body_len);
    if (!o || !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        lm_http_respond_error(req, 400, "invalid_request_error", "request body must be a JSON object");
        return NULL;
    }
    return o;
}

/* Constant-time comparison of the Bearer token with the key. */
static bool auth_ok(const struct llmd_server *srv, struct lm_http_req *req)
{
    const char *key = srv->opts.api_key;
    if (!key || !*key) return true;
    const char *h = lm_http_header(req, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7)) return false;
    h += 7;
    while (*h == ' ') h++;
    size_t a = strlen(h), b = strlen(key);
    unsigned char diff = (unsigned char)(a != b);
    for (size_t i = 0; i < a && i < b; i++) diff |= (unsigned char)(h[i] ^ key[i]);
    return diff == 0;
}

static void route_health(struct llmd_server *srv, struct lm_http_req *req)
{
    if (atomic_load(&srv->ready)) lm_http_respond_json(req, 200, "{\"status\":\"ok\"}");
    else lm_http_respond_json(req, 503, "{\"status\":\"loading\"}");
}

/* The one model as an OpenAI model object, with llama.cpp's meta. */
static cJSON *model_json(struct llmd_server *srv)
{
    const struct lm_model_info *mi = lm_model_info(srv->model);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "id", srv->model_id);
    cJSON_AddStringToObject(m, "object", "model");
    cJSON_AddNumberToObject(m, "created", (double)srv->started_at);
    cJSON_AddStringToObject(m, "owned_by", "llmd");
    cJSON *meta = cJSON_AddObjectToObject(m, "meta");
    cJSON_AddStringToObject(meta, "arch", mi->arch);
    cJSON_AddNumberToObject(meta, "n_vocab", mi->n_vocab);
    cJSON_AddNumberToObject(meta, "n_ctx_train", mi->n_ctx_train);
    cJSON_AddNumberToObject(meta, "n_ctx", srv->n_ctx);
    cJSON_AddNumberToObject(meta, "n_embd", mi->n_embd);
    cJSON_AddNumberToObject(meta, "n_params", (double)mi->n_params);
    cJSON_AddNumberToObject(meta, "size", (double)mi->file_size);
    cJSON_AddStringToObject(meta, "ftype", mi->ftype ? mi->ftype : "");
    return m;
}

static void route_models(struct llmd_server *srv, struct lm_http_req *req)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(o, "data");
    cJSON_AddItemToArray(data, model_json(srv));
    respond_cjson(req, 200, o);
}

/* GET /v1/models/{id} (the SDK's models.retrieve). */
static void route_model_one(struct llmd_server *srv, struct lm_http_req *req, const char *id)
{
    if (strcmp(id, srv->model_id)) {
        lm_http_respond_error(req, 404, "not_found_error", "The model '%s' does not exist", id);
        return;
    }
    respond_cjson(req, 200, model_json(srv));
}

static void route_props(struct llmd_server *srv, struct lm_http_req *req)
{
    struct lm_sampler_params sp;
    lm_sampler_defaults(&sp);
    struct llmd_sched_stats st;
    llmd_sched_stats(srv->sched, &st);
    const char *tmpl = lm_model_chat_template(srv->model);
    cJSON *o = cJSON_CreateObject();
    cJSON *dg = cJSON_AddObjectToObject(o, "default_generation_settings");
    cJSON_AddNumberToObject(dg, "n_ctx", srv->n_ctx);
    cJSON *p = cJSON_AddObjectToObject(dg, "params");
    cJSON_AddNumberToObject(p, "n_predict", srv->opts.n_predict);
    cJSON_AddNumberToObject(p, "temperature", sp.temperature);
    cJSON_AddNumberToObject(p, "top_k", sp.top_k);
    cJSON_AddNumberToObject(p, "top_p", sp.top_p);
    cJSON_AddNumberToObject(p, "min_p", sp.min_p);
    cJSON_AddNumberToObject(p, "repeat_penalty", sp.repeat_penalty);
    cJSON_AddNumberToObject(p, "repeat_last_n", sp.penalty_last_n);
    cJSON_AddNumberToObject(p, "presence_penalty", sp.presence_penalty);
    cJSON_AddNumberToObject(p, "frequency_penalty", sp.frequency_penalty);
    cJSON_AddNumberToObject(o, "total_slots", srv->sched ? st.n_slots : 0);
    cJSON_AddNumberToObject(o, "n_ctx", srv->n_ctx);
    cJSON_AddStringToObject(o, "model_alias", srv->model_id);
    cJSON_AddStringToObject(o, "model_path", srv->opts.model);
    cJSON_AddStringToObject(o, "chat_template", tmpl ? tmpl : "");
    cJSON_AddStringToObject(o, "chat_template_family", srv->chat_family ? srv->chat_family : "");
    cJSON_AddStringToObject(o, "build_info", "llmd " LLMD_VERSION " (" __DATE__ ")");
    cJSON *mod = cJSON_AddObjectToObject(o, "modalities");
    cJSON_AddFalseToObject(mod, "vision");
    cJSON_AddBoolToObject(o, "embeddings", srv->embedder != NULL);
    respond_cjson(req, 200, o);
}

/* Standard base64 of n bytes. */
static void base64(const unsigned char *p, size_t n, struct lm_buf *out)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n) v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n) v |= p[i + 2];
        char q[4] = {al[v >> 18 & 63], al[v >> 12 & 63], i + 1 < n ? al[v >> 6 & 63] : '=', i + 2 < n ? al[v & 63] : '='};
        lm_buf_append(out, q, 4);
    }
}

static void route_embeddings(struct llmd_server *srv, struct lm_http_req *req)
{
    if (!srv->embedder) {
        const struct lm_model_info *mi = lm_model_info(srv->model);
        if (mi->is_embedding)
            lm_http_respond_error(req, 501, "not_supported_error",
                                  "embeddings are off: start llmd with --embeddings to serve /v1/embeddings");
        else
            lm_http_respond_error(req, 501, "not_supported_error",
                                  "model %s (%s) is not an embedding model: serve an encoder (bert) model with "
                                  "--embeddings for /v1/embeddings", srv->model_id, mi->arch);
        return;
    }
    cJSON *o = body_object(req);
    if (!o) return;
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(o, "input");
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(o, "encoding_format");
    bool b64 = cJSON_IsString(fmt) && !strcmp(fmt->valuestring, "base64");
    if (fmt && !cJSON_IsNull(fmt) && !b64 && !(cJSON_IsString(fmt) && !strcmp(fmt->valuestring, "float"))) {
        cJSON_Delete(o);
        lm_http_respond_error(req, 400, "invalid_request_error", "'encoding_format' must be float or base64");
        return;
    }
    size_t n = 0;
    const char **texts = NULL;
    if (cJSON_IsString(in)) {
        n = 1;
        texts = malloc(sizeof *texts);
        if (texts) texts[0] = in->valuestring;
    } else if (cJSON_IsArray(in) && cJSON_GetArraySize(in) > 0 && cJSON_GetArraySize(in) <= 2048) {
        n = (size_t)cJSON_GetArraySize(in);
        texts = calloc(n, sizeof *texts);
        const cJSON *e;
        size_t i = 0;
        cJSON_ArrayForEach(e, in) {
            if (!cJSON_IsString(e)) {
                free(texts);
                cJSON_Delete(o);
                lm_http_respond_error(req, 400, "invalid_request_error", "'input' must be a string or an array of strings");
                return;
            }
            if (texts) texts[i++] = e->valuestring;
        }
    } else {
        cJSON_Delete(o);
        lm_http_respond_error(req, 400, "invalid_request_error",
                              "'input' must be a string or a non-empty array of at most 2048 strings");
        return;
    }
    int dim = lm_embedder_dim(srv->embedder);
    float *vec = texts ? malloc(n * (size_t)dim * sizeof *vec) : NULL;
    if (!vec) {
        free(texts);
        cJSON_Delete(o);
        lm_http_respond_error(req, 500, "server_error", "out of memory");
        return;
    }
    struct lm_error err = {0};
    struct lm_embed_stats stats = {0};
    pthread_mutex_lock(&srv->embed_mu);
    int rc = lm_embed(srv->embedder, texts, n, vec, &stats, &err);
    pthread_mutex_unlock(&srv->embed_mu);
    if (rc < 0) {
        lm_http_respond_error(req, rc == LM_EINVAL || rc == LM_EFORMAT ? 400 : 500, "invalid_request_error",
                              "embedding failed: %s", err.msg);
    } else {
        atomic_fetch_add(&srv->metrics.prompt_tokens, (unsigned long long)stats.n_tokens);
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "object", "list");
        cJSON *data = cJSON_AddArrayToObject(r, "data");
        struct lm_buf b = {0};
        for (size_t i = 0; i < n; i++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "object", "embedding");
            cJSON_AddNumberToObject(e, "index", (double)i);
            if (b64) {
                lm_buf_clear(&b);
                base64((const unsigned char *)(vec + i * (size_t)dim), (size_t)dim * sizeof(float), &b);
                cJSON_AddStringToObject(e, "embedding", b.data ? b.data : "");
            } else {
                cJSON *arr = cJSON_AddArrayToObject(e, "embedding");
                for (int k = 0; k < dim; k++) cJSON_AddItemToArray(arr, cJSON_CreateNumber(vec[i * (size_t)dim + (size_t)k]));
            }
            cJSON_AddItemToArray(data, e);
        }
        lm_buf_free(&b);
        cJSON_AddStringToObject(r, "model", srv->model_id);
        cJSON *u = cJSON_AddObjectToObject(r, "usage");
        cJSON_AddNumberToObject(u, "prompt_tokens", (double)stats.n_tokens);
        cJSON_AddNumberToObject(u, "total_tokens", (double)stats.n_tokens);
        respond_cjson(req, 200, r);
    }
    free(vec);
    free(texts);
    cJSON_Delete(o);
}

/* A token's bytes as JSON: a string when valid UTF-8, else an array of byte values. */
static cJSON *piece_json(const char *p, size_t n)
{
    struct lm_buf clean = {0};
    llmd_utf8_sanitize(p, n, &clean);
    cJSON *r;
    if (clean.len == n && !memcmp(clean.data, p, n)) {
        r = cJSON_CreateString(clean.data);
    } else {
        r = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++) cJSON_AddItemToArray(r, cJSON_CreateNumber((unsigned char)p[i]));
    }
    lm_buf_free(&clean);
    return r;
}

static void route_tokenize(struct llmd_server *srv, struct lm_http_req *req)
{
    cJSON *o = body_object(req);
    if (!o) return;
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(o, "content");
    if (!cJSON_IsString(content)) {
        cJSON_Delete(o);
        lm_http_respond_error(req, 400, "invalid_request_error", "'content' must be a string");
        return;
    }
    bool add_special = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "add_special"));
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(o, "parse_special");
    bool parse_special = ps ? cJSON_IsTrue(ps) : true;
    bool with_pieces = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "with_pieces"));
    int32_t *ids = NULL;
    size_t n = 0;
    struct lm_error err = {0};
    if (lm_tokenize(srv->tok, content->valuestring, strlen(content->valuestring), add_special, parse_special, &ids, &n,
                    &err) < 0) {
        cJSON_Delete(o);
        lm_http_respond_error(req, 400, "invalid_request_error", "tokenize: %s", err.msg);
        return;
    }
    cJSON *r = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(r, "tokens");
    struct lm_buf piece = {0};
    for (size_t i = 0; i < n; i++) {
        if (!with_pieces) {
            cJSON_AddItemToArray(arr, cJSON_CreateNumber(ids[i]));
            continue;
        }
        lm_buf_clear(&piece);
        lm_token_to_piece(srv->tok, ids[i], true, &piece);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "id", ids[i]);
        cJSON_AddItemToObject(e, "piece", piece_json(piece.data ? piece.data : "", piece.len));
        cJSON_AddItemToArray(arr, e);
    }
    lm_buf_free(&piece);
    free(ids);
    cJSON_Delete(o);
    respond_cjson(req, 200, r);
}

static void route_detokenize(struct llmd_server *srv, struct lm_http_req *req)
{
    cJSON *o = body_object(req);
    if (!o) return;
    const cJSON *toks = cJSON_GetObjectItemCaseSensitive(o, "tokens");
    int n_vocab = lm_tokenizer_n_vocab(srv->tok);
    if (!cJSON_IsArray(toks)) {
        cJSON_Delete(o);
        lm_http_respond_error(req, 400, "invalid_request_error", "'tokens' must be an array of token ids");
        return;
    }
    size_t n = (size_t)cJSON_GetArraySize(toks), i = 0;
    int32_t *ids = malloc((n ? n : 1) * sizeof *ids);
    const cJSON *e;
    cJSON_ArrayForEach(e, toks) {
        if (!ids || !cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble >= n_vocab ||
            e->valuedouble != floor(e->valuedouble)) {
            free(ids);
            cJSON_Delete(o);
            lm_http_respond_error(req, 400, "invalid_request_error", "'tokens' must hold token ids below %d", n_vocab);
            return;
        }
        ids[i++] = (int32_t)e->valuedouble;
    }
    struct lm_buf text = {0}, clean = {0};
    int rc = lm_detokenize(srv->tok, ids, n, false, &text);
    free(ids);
    cJSON_Delete(o);
    if (rc < 0) {
        lm_buf_free(&text);
        lm_http_respond_error(req, 400, "invalid_request_error", "cannot detokenize these ids");
        return;
    }
    llmd_utf8_sanitize(text.data ? text.data : "", text.len, &clean);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "content", clean.data ? clean.data : "");
    lm_buf_free(&text);
    lm_buf_free(&clean);
    respond_cjson(req, 200, r);
}

static void route_apply_template(struct llmd_server *srv, struct lm_http_req *req)
{
    struct llmd_request r;
    struct lm_error err = {0};
    if (llmd_request_parse(req->body, req->body_len, LLMD_CHAT, -1, 0, &r, &err) < 0) {
        lm_http_respond_error(req, 400, "invalid_request_error", "%s", err.msg);
        return;
    }
    struct lm_buf text = {0};
    if (lm_chat_apply(srv->chat_family, r.msgs, r.n_msgs, true, NULL, &text, &err) < 0) {
        lm_http_respond_error(req, 400, "invalid_request_error", "chat template: %s", err.msg);
    } else {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "prompt", text.data ? text.data : "");
        respond_cjson(req, 200, o);
    }
    lm_buf_free(&text);
    llmd_request_free(&r);
}

static void metric(struct lm_buf *b, const char *name, const char *type, const char *help, double v)
{
    lm_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %.10g\n", name, help, name, type, name, v);
}

static void route_metrics(struct llmd_server *srv, struct lm_http_req *req)
{
    struct llmd_metrics *m = &srv->metrics;
    struct llmd_sched_stats st;
    llmd_sched_stats(srv->sched, &st);
    double p_tok = (double)atomic_load(&m->prompt_tokens), g_tok = (double)atomic_load(&m->gen_tokens);
    double p_s = (double)atomic_load(&m->prompt_us) / 1e6, g_s = (double)atomic_load(&m->gen_us) / 1e6;
    struct lm_buf b = {0};
    metric(&b, "llmd_requests_total", "counter", "HTTP requests received.", (double)atomic_load(&m->requests));
    metric(&b, "llmd_completions_total", "counter", "Completions finished.", (double)atomic_load(&m->requests_ok));
    metric(&b, "llmd_completions_failed_total", "counter", "Completions that failed.",
           (double)atomic_load(&m->requests_err));
    metric(&b, "llmd_prompt_tokens_total", "counter", "Prompt tokens processed.", p_tok);
    metric(&b, "llmd_generated_tokens_total", "counter", "Tokens generated.", g_tok);
    metric(&b, "llmd_prompt_seconds_total", "counter", "Slot time spent on prompts.", p_s);
    metric(&b, "llmd_generation_seconds_total", "counter", "Slot time spent generating.", g_s);
    metric(&b, "llmd_prompt_tokens_per_second", "gauge", "Average prompt throughput per slot.", p_s > 0 ? p_tok / p_s : 0);
    metric(&b, "llmd_generated_tokens_per_second", "gauge", "Average generation throughput per slot.",
           g_s > 0 ? g_tok / g_s : 0);
    metric(&b, "llmd_slots_total", "gauge", "Slots (sequences decoded together).", st.n_slots);
    metric(&b, "llmd_slots_busy", "gauge", "Slots serving a request.", st.busy);
    metric(&b, "llmd_queue_length", "gauge", "Requests waiting for a slot.", st.queued);
    metric(&b, "llmd_decode_calls_total", "counter", "Batched forward passes.", (double)atomic_load(&m->decode_calls));
    /* llama-server's names, for dashboards made for it */
    metric(&b, "llamacpp:prompt_tokens_total", "counter", "Number of prompt tokens processed.", p_tok);
    metric(&b, "llamacpp:tokens_predicted_total", "counter", "Number of generation tokens processed.", g_tok);
    metric(&b, "llamacpp:prompt_tokens_seconds", "gauge", "Average prompt throughput in tokens/s.",
           p_s > 0 ? p_tok / p_s : 0);
    metric(&b, "llamacpp:predicted_tokens_seconds", "gauge", "Average generation throughput in tokens/s.",
           g_s > 0 ? g_tok / g_s : 0);
    metric(&b, "llamacpp:requests_processing", "gauge", "Number of requests processing.", st.busy);
    metric(&b, "llamacpp:requests_deferred", "gauge", "Number of requests deferred.", st.queued);
    lm_http_respond(req, 200, "text/plain; version=0.0.4", b.data ? b.data : "", b.len);
    lm_buf_free(&b);
}

/* Strips the /v1 prefix; *versioned tells whether it was there. */
static const char *route_name(const char *path, bool *versioned)
{
    *versioned = !strncmp(path, "/v1/", 4);
    return *versioned ? path + 3 : path;
}

void llmd_handle(struct lm_http_req *req, void *user)
{
    struct llmd_server *srv = user;
    atomic_fetch_add(&srv->metrics.requests, 1);
    bool v1;
    const char *p = route_name(req->path, &v1);
    bool get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    bool post = !strcmp(req->method, "POST");

    lm_http_add_header(req, "Access-Control-Allow-Origin", "*");
    if (!strcmp(req->method, "OPTIONS")) {
        lm_http_add_header(req, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        lm_http_add_header(req, "Access-Control-Allow-Headers", "Authorization, Content-Type");
        lm_http_respond(req, 204, NULL, "", 0);
        return;
    }
    if (!strcmp(p, "/health")) {
        if (get) route_health(srv, req);
        else lm_http_respond_error(req, 405, "invalid_request_error", "%s needs GET", req->path);
        return;
    }
    static const char *const openai[] = {"/models", "/chat/completions", "/completions", "/embeddings"};
    bool protected = v1 || !strncmp(p, "/models/", 8);
    for (size_t i = 0; i < sizeof openai / sizeof *openai; i++) protected |= !strcmp(p, openai[i]);
    if (protected && !auth_ok(srv, req)) {
        lm_http_respond_error(req, 401, "authentication_error", "Invalid API Key");
        return;
    }
    if (!atomic_load(&srv->ready)) {
        lm_http_add_header(req, "Retry-After", "1");
        lm_http_respond_error(req, 503, "unavailable_error", "Loading model");
        return;
    }
    struct { const char *path; bool post; void (*fn)(struct llmd_server *, struct lm_http_req *); } const routes[] = {
        {"/models", false, route_models},       {"/props", false, route_props},
        {"/metrics", false, route_metrics},     {"/embeddings", true, route_embeddings},
        {"/embedding", true, route_embeddings}, {"/tokenize", true, route_tokenize},
        {"/detokenize", true, route_detokenize}, {"/apply-template", true, route_apply_template},
    };
    if (!strncmp(p, "/models/", 8) && get) {
        route_model_one(srv, req, p + 8);
        return;
    }
    if (!strcmp(p, "/chat/completions") || !strcmp(p, "/completions")) {
        if (!post) {
            lm_http_respond_error(req, 405, "invalid_request_error", "%s needs POST", req->path);
            return;
        }
        llmd_handle_completion(srv, req, p[1] == 'c' && p[2] == 'h' ? LLMD_CHAT : LLMD_COMPLETION);
        return;
    }
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        if (strcmp(p, routes[i].path)) continue;
        if (routes[i].post ? !post : !get) {
            lm_http_respond_error(req, 405, "invalid_request_error", "%s needs %s", req->path,
                                  routes[i].post ? "POST" : "GET");
            return;
        }
        routes[i].fn(srv, req);
        return;
    }
    lm_http_respond_error(req, 404, "not_found_error", "no route %s %s", req->method, req->path);
}
