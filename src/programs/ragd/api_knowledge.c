/* api_knowledge.c — the knowledge API: add-document (the seed's route and message), upload
 * (multipart), documents list and delete, search, health. Errors are JSON
 * {"error":{"message","type","code"}} with a 4xx/5xx status. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "lm/multipart.h"
#include "lm/ws.h"

/* Constant-time string equality (API keys). */
static bool secret_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = (unsigned char)(la != lb);
    for (size_t i = 0; i < la; i++) d |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
    return d == 0;
}

/* True when the request carries the key (see app.h). */
bool ragd_authorized(struct ragd_app *app, struct lm_http_req *req)
{
    if (!app->cfg.api_key[0]) return true;
    const char *h = lm_http_header(req, "Authorization");
    if (h && !strncasecmp(h, "Bearer ", 7) && secret_eq(h + 7, app->cfg.api_key)) return true;
    h = lm_http_header(req, "X-API-Key");
    return h && secret_eq(h, app->cfg.api_key);
}

/* Sends a cJSON object (deleted here). */
static void respond_obj(struct lm_http_req *req, int status, cJSON *o)
{
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    if (s) lm_http_respond_json(req, status, s);
    else lm_http_respond_error(req, 500, "server_error", "out of memory");
    free(s);
    cJSON_Delete(o);
}

/* Maps an ingestion/store error to a status and answers with it. */
static void respond_failure(struct lm_http_req *req, const struct lm_error *err)
{
    int st = 500;
    const char *type = "server_error";
    switch (err->code) {
    case LM_EINVAL: case LM_EFORMAT: st = 400, type = "invalid_request_error"; break;
    case LM_ETOOBIG: st = 413, type = "invalid_request_error"; break;
    case LM_ENOTSUP: st = 415, type = "invalid_request_error"; break;
    case LM_ENOENT: st = 404, type = "not_found_error"; break;
    case LM_EBUSY: st = 503, type = "overloaded_error"; break;
    case LM_ETIMEDOUT: st = 422, type = "invalid_request_error"; break;
    default: break;
    }
    lm_http_respond_error(req, st, type, "%s", err->msg[0] ? err->msg : lm_strerror(err->code));
}

/* Runs one ingestion under the concurrency limit and answers 201 (or 200 for a duplicate). */
static void ingest_and_respond(struct ragd_app *app, struct lm_http_req *req, const char *source, const char *text)
{
    if (atomic_fetch_add(&app->m.ingests_running, 1) >= app->cfg.max_ingests) {
        atomic_fetch_sub(&app->m.ingests_running, 1);
        lm_http_respond_error(req, 503, "overloaded_error", "too many ingestions in progress (RAGD_MAX_INGESTS=%d)",
                              app->cfg.max_ingests);
        return;
    }
    struct lm_rag_ingest_result res;
    struct lm_error err = {0};
    int rc = ragd_ingest(app, source, text, &res, NULL, NULL, &err);
    atomic_fetch_sub(&app->m.ingests_running, 1);
    if (rc < 0) {
        respond_failure(req, &err);
        return;
    }
    char msg[128];
    snprintf(msg, sizeof msg, "文档已添加并切分为 %zu 块", res.n_chunks);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "message", msg);
    cJSON_AddNumberToObject(o, "document_id", (double)res.document_id);
    cJSON_AddNumberToObject(o, "chunks", (double)res.n_chunks);
    cJSON_AddStringToObject(o, "source", source);
    if (res.duplicate) cJSON_AddBoolToObject(o, "duplicate", 1);
    respond_obj(req, res.duplicate ? 200 : 201, o);
}

/* Parses the JSON body as an object, or answers 400 and returns NULL. */
static cJSON *json_body(struct lm_http_req *req)
{
    cJSON *j = cJSON_ParseWithLength(req->body, req->body_len);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        lm_http_respond_error(req, 400, "invalid_request_error", "the body must be a JSON object");
        return NULL;
    }
    return j;
}

/* A required non-empty string member, or answers 400. */
static const char *need_string(struct lm_http_req *req, const cJSON *o, const char *name, size_t max)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsString(v) || !v->valuestring[0]) {
        lm_http_respond_error(req, 400, "invalid_request_error", "field '%s' must be a non-empty string", name);
        return NULL;
    }
    size_t n = strlen(v->valuestring);
    if (n > max) {
        lm_http_respond_error(req, 413, "invalid_request_error", "field '%s' is longer than %zu bytes", name, max);
        return NULL;
    }
    if (!lm_utf8_valid(v->valuestring, n)) {
        lm_http_respond_error(req, 400, "invalid_request_error", "field '%s' is not valid UTF-8", name);
        return NULL;
    }
    return v->valuestring;
}

/* POST /api/v1/knowledge/add-document {"source","content"}. */
void ragd_api_add_document(struct ragd_app *app, struct lm_http_req *req)
{
    if (!ragd_authorized(app, req)) {
        lm_http_respond_error(req, 401, "authentication_error", "missing or wrong API key (RAGD_API_KEY)");
        return;
    }
    cJSON *j = json_body(req);
    if (!j) return;
    const char *source = need_string(req, j, "source", 1024);
    const char *content = source ? need_string(req, j, "content", app->cfg.max_doc_bytes) : NULL;
    if (content) ingest_and_respond(app, req, source, content);
    cJSON_Delete(j);
}

/* POST /api/v1/knowledge/upload: multipart with a "file" part (and optional "source"). */
void ragd_api_upload(struct ragd_app *app, struct lm_http_req *req)
{
    if (!ragd_authorized(app, req)) {
        lm_http_respond_error(req, 401, "authentication_error", "missing or wrong API key (RAGD_API_KEY)");
        return;
    }
    char boundary[71];
    struct lm_error err = {0};
    if (lm_multipart_boundary(lm_http_header(req, "Content-Type"), boundary, &err) < 0) {
        lm_http_respond_error(req, 400, "invalid_request_error", "%s", err.msg);
        return;
    }
    struct lm_multipart_part parts[16];
    size_t n = 0;
    if (lm_multipart_parse(req->body, req->body_len, boundary, parts, 16, &n, &err) < 0) {
        lm_http_respond_error(req, 400, "invalid_request_error", "%s", err.msg);
        return;
    }
    const struct lm_multipart_part *file = NULL, *src = NULL;
    for (size_t i = 0; i < n; i++) {
        if (parts[i].filename.ptr && (!file || lm_str_eq_c(parts[i].name, "file"))) file = &parts[i];
        else if (lm_str_eq_c(parts[i].name, "source")) src = &parts[i];
    }
    if (!file) {
        lm_http_respond_error(req, 400, "invalid_request_error", "no file part (form field 'file' with a filename)");
        return;
    }
    /* the source shown in answers: the form's "source", else the file's base name */
    struct lm_str fname = file->filename;
    for (size_t i = fname.len; i > 0; i--)
        if (fname.ptr[i - 1] == '/' || fname.ptr[i - 1] == '\\') {
            fname.len -= i;
            fname.ptr += i;
            break;
        }
    char *filename = lm_str_dup(fname.len > 1024 ? (struct lm_str){fname.ptr, 1024} : fname);
    char *source = src && src->data.len ? lm_str_dup(src->data.len > 1024 ? (struct lm_str){src->data.ptr, 1024} : src->data)
                                        : NULL;
    char *text = NULL;
    if (!filename || !filename[0] || !lm_utf8_valid(filename, strlen(filename))) {
        lm_http_respond_error(req, 400, "invalid_request_error", "the file name is empty or not UTF-8");
    } else if (source && !lm_utf8_valid(source, strlen(source))) {
        lm_http_respond_error(req, 400, "invalid_request_error", "field 'source' is not valid UTF-8");
    } else if (ragd_doc_text(app, filename, file->data.ptr, file->data.len, &text, &err) < 0) {
        respond_failure(req, &err);
    } else {
        ingest_and_respond(app, req, source ? source : filename, text);
    }
    free(text);
    free(source);
    free(filename);
}

/* GET /api/v1/knowledge/documents. */
void ragd_api_documents(struct ragd_app *app, struct lm_http_req *req)
{
    struct lm_doc_info *docs = NULL;
    size_t n = 0;
    struct lm_error err = {0};
    if (lm_store_list_documents(app->store, &docs, &n, &err) < 0) {
        lm_http_respond_error(req, 503, "store_error", "knowledge store unavailable: %s", err.msg);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "documents");
    for (size_t i = 0; i < n; i++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddNumberToObject(d, "id", (double)docs[i].id);
        cJSON_AddStringToObject(d, "source", docs[i].source ? docs[i].source : "");
        cJSON_AddNumberToObject(d, "chunks", (double)docs[i].n_chunks);
        cJSON_AddNumberToObject(d, "created_at", (double)docs[i].created_at);
        cJSON_AddItemToArray(arr, d);
    }
    cJSON_AddNumberToObject(o, "total", (double)n);
    lm_store_free_docs(docs, n);
    respond_obj(req, 200, o);
}

/* DELETE /api/v1/knowledge/documents/{id}. */
void ragd_api_delete(struct ragd_app *app, struct lm_http_req *req, const char *id)
{
    if (!ragd_authorized(app, req)) {
        lm_http_respond_error(req, 401, "authentication_error", "missing or wrong API key (RAGD_API_KEY)");
        return;
    }
    char *end;
    long long v = strtoll(id, &end, 10);
    if (!*id || *end || v <= 0) {
        lm_http_respond_error(req, 400, "invalid_request_error", "document id must be a positive integer");
        return;
    }
    struct lm_error err = {0};
    if (lm_store_delete_document(app->store, v, &err) < 0) {
        if (err.code == LM_ENOENT) lm_http_respond_error(req, 404, "not_found_error", "no document %lld", v);
        else lm_http_respond_error(req, 503, "store_error", "knowledge store unavailable: %s", err.msg);
        return;
    }
    char body[64];
    snprintf(body, sizeof body, "{\"deleted\":%lld}", v);
    lm_http_respond_json(req, 200, body);
}

/* Hits as a JSON array of {chunk_id, document_id, source, text, score}. */
static cJSON *hits_json(const struct lm_hit *h, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "chunk_id", (double)h[i].chunk_id);
        cJSON_AddNumberToObject(o, "document_id", (double)h[i].document_id);
        cJSON_AddStringToObject(o, "source", h[i].source ? h[i].source : "");
        cJSON_AddStringToObject(o, "text", h[i].content ? h[i].content : "");
        cJSON_AddNumberToObject(o, "score", h[i].score);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

/* POST /api/v1/knowledge/search {"query","top_k"}. */
void ragd_api_search(struct ragd_app *app, struct lm_http_req *req)
{
    cJSON *j = json_body(req);
    if (!j) return;
    const char *q = need_string(req, j, "query", 65536);
    if (!q) {
        cJSON_Delete(j);
        return;
    }
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(j, "top_k");
    int top_k = app->cfg.rag_top_k ? app->cfg.rag_top_k : 3;
    if (k && (!cJSON_IsNumber(k) || k->valuedouble < 1 || k->valuedouble > 100)) {
        lm_http_respond_error(req, 400, "invalid_request_error", "top_k must be a number from 1 to 100");
        cJSON_Delete(j);
        return;
    }
    if (k) top_k = (int)k->valuedouble;
    struct lm_hit *hits = NULL;
    size_t n = 0;
    struct lm_error err = {0};
    if (lm_rag_retrieve(app->store, &app->emb, q, top_k, &hits, &n, &err) < 0) {
        lm_http_respond_error(req, 503, "store_error", "search failed: %s", err.msg);
        cJSON_Delete(j);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "query", q);
    cJSON_AddItemToObject(o, "results", hits_json(hits, n));
    lm_store_free_hits(hits, n);
    cJSON_Delete(j);
    respond_obj(req, 200, o);
}

/* GET /api/v1/health: store, LLM and embedder. 200 while ragd itself works (an LLM that is
 * down makes it "degraded", not unhealthy), 503 when the store or embedder fails. */
void ragd_api_health(struct ragd_app *app, struct lm_http_req *req)
{
    cJSON *o = cJSON_CreateObject();
    struct lm_error err = {0};
    bool store_ok = lm_store_ping(app->store, &err) == 0;
    cJSON *st = cJSON_AddObjectToObject(o, "store");
    cJSON_AddBoolToObject(st, "ok", store_ok);
    cJSON_AddStringToObject(st, "kind", lm_store_kind(app->store));
    struct lm_store_counts counts;
    if (store_ok && lm_store_counts(app->store, &counts, &err) == 0) {
        cJSON_AddNumberToObject(st, "documents", (double)counts.documents);
        cJSON_AddNumberToObject(st, "chunks", (double)counts.chunks);
    } else if (!store_ok) {
        cJSON_AddStringToObject(st, "error", err.msg);
    }

    struct lm_llm_model_info info;
    struct lm_error lerr = {0};
    struct lm_llm_config quick = app->llm;
    quick.timeout_s = 5;
    bool llm_ok = lm_llm_models(&quick, &info, &lerr) == 0;
    cJSON *l = cJSON_AddObjectToObject(o, "llm");
    cJSON_AddBoolToObject(l, "ok", llm_ok);
    cJSON_AddStringToObject(l, "base_url", app->cfg.llm_base_url);
    if (llm_ok) {
        cJSON_AddStringToObject(l, "model", info.id);
        if (info.n_ctx) cJSON_AddNumberToObject(l, "n_ctx", info.n_ctx);
    } else {
        cJSON_AddStringToObject(l, "error", lerr.msg);
    }

    bool emb_ok = true;
    float *v = malloc(sizeof(float) * (size_t)app->emb.dim);
    const char *probe = "health";
    struct lm_error eerr = {0};
    if (!v || app->emb.embed(app->emb.self, &probe, 1, v, &eerr) < 0) emb_ok = false;
    free(v);
    cJSON *e = cJSON_AddObjectToObject(o, "embedder");
    cJSON_AddBoolToObject(e, "ok", emb_ok);
    cJSON_AddStringToObject(e, "model", app->emb.name ? app->emb.name : "");
    cJSON_AddNumberToObject(e, "dim", app->emb.dim);
    if (!emb_ok) cJSON_AddStringToObject(e, "error", eerr.msg);

    cJSON_AddStringToObject(o, "status", !store_ok || !emb_ok ? "error" : llm_ok ? "ok" : "degraded");
    respond_obj(req, store_ok && emb_ok ? 200 : 503, o);
}
