/* config.c — ragd's settings from the environment and .env (see config.h). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "lm/hub.h"

/* Sets variables from a .env file without overriding the environment (as pydantic does). */
static void load_dotenv(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        char *s = line;
        while (isspace((unsigned char)*s)) s++;
        if (!*s || *s == '#') continue;
        if (!strncmp(s, "export ", 7)) s += 7;
        char *eq = strchr(s, '=');
        if (!eq) continue;
        char *k_end = eq;
        while (k_end > s && isspace((unsigned char)k_end[-1])) k_end--;
        *k_end = 0;
        char *v = eq + 1;
        while (*v == ' ' || *v == '\t') v++;
        size_t vl = strlen(v);
        while (vl && (v[vl - 1] == '\n' || v[vl - 1] == '\r')) v[--vl] = 0;
        if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
            v[vl - 1] = 0;
            v++;
        } else {
            char *hash = strstr(v, " #"); /* inline comment after an unquoted value */
            if (hash) *hash = 0;
            vl = strlen(v);
            while (vl && isspace((unsigned char)v[vl - 1])) v[--vl] = 0;
        }
        if (*s) setenv(s, v, 0);
    }
    fclose(f);
}

/* Copies env var name (or def) into out; -1 when too long. */
static int get_str(const char *name, const char *def, char *out, size_t cap, char *msg, size_t mcap)
{
    const char *v = getenv(name);
    if (!v) v = def;
    if (strlen(v) >= cap) {
        snprintf(msg, mcap, "ragd: %s: value longer than %zu bytes", name, cap - 1);
        return -1;
    }
    snprintf(out, cap, "%s", v);
    return 0;
}

/* Reads an integer env var within [lo, hi]. */
static int get_long(const char *name, long def, long lo, long hi, long *out, char *msg, size_t mcap)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    while (*end == ' ') end++;
    if (errno || end == v || *end || x < lo || x > hi) {
        snprintf(msg, mcap, "ragd: %s: expected an integer from %ld to %ld, got '%.60s'", name, lo, hi, v);
        return -1;
    }
    *out = x;
    return 0;
}

/* Reads a byte size (digits with an optional K/M/G suffix). */
static int get_size(const char *name, size_t def, size_t lo, size_t hi, size_t *out, char *msg, size_t mcap)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    unsigned long long mul = 1;
    if (*end == 'k' || *end == 'K') mul = 1024, end++;
    else if (*end == 'm' || *end == 'M') mul = 1024 * 1024, end++;
    else if (*end == 'g' || *end == 'G') mul = 1024ull * 1024 * 1024, end++;
    if (*end == 'i' || *end == 'B' || *end == 'b') end++;
    if (*end == 'B') end++;
    if (errno || end == v || *end || v[0] == '-' || x > hi / mul || x * mul < lo) {
        snprintf(msg, mcap, "ragd: %s: expected a size from %zu to %zu bytes (suffix K, M, G allowed), got '%.60s'",
                 name, lo, hi, v);
        return -1;
    }
    *out = (size_t)(x * mul);
    return 0;
}

/* True when s starts with prefix. */
static int starts(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

/* Loads the configuration (see header). */
int ragd_config_load(struct ragd_config *c, char *msg, size_t cap)
{
    memset(c, 0, sizeof *c);
    load_dotenv(".env");
    const char *hf = getenv("HF_FILENAME");
    const char *def_model = hf && *hf ? hf : "gemma-3-4b-it-q4_0.gguf";
    long v;
    if (get_str("LLM_BASE_URL", "http://127.0.0.1:8080/v1", c->llm_base_url, sizeof c->llm_base_url, msg, cap) ||
        get_str("LLM_API_KEY", "sk-local", c->llm_api_key, sizeof c->llm_api_key, msg, cap) ||
        get_str("LLM_MODEL", def_model, c->llm_model, sizeof c->llm_model, msg, cap) ||
        get_str("EMBEDDING_MODEL", "sentence-transformers/all-MiniLM-L6-v2", c->embedding_model,
                sizeof c->embedding_model, msg, cap) ||
        get_str("EMBEDDING_BASE_URL", "", c->embedding_base_url, sizeof c->embedding_base_url, msg, cap) ||
        get_str("DATABASE_URL", "sqlite:data/ragd.db", c->database_url, sizeof c->database_url, msg, cap) ||
        get_str("HOST", "0.0.0.0", c->host, sizeof c->host, msg, cap) ||
        get_str("MODELS_DIR", "models", c->models_dir, sizeof c->models_dir, msg, cap) ||
        get_str("RAGD_API_KEY", "", c->api_key, sizeof c->api_key, msg, cap) ||
        get_str("RAGD_ALLOWED_ORIGINS", "", c->allowed_origins, sizeof c->allowed_origins, msg, cap))
        return -1;
    if (get_long("PORT", 8000, 0, 65535, &v, msg, cap)) return -1;
    c->port = (int)v;
    if (get_long("RAG_TOP_K", 3, 0, 100, &v, msg, cap)) return -1;
    c->rag_top_k = (int)v;
    if (get_long("CHUNK_SIZE", 300, 20, 100000, &v, msg, cap)) return -1;
    c->chunk_size = (int)v;
    if (get_long("CHUNK_OVERLAP", 50, 0, 100000, &v, msg, cap)) return -1;
    c->chunk_overlap = (int)v;
    if (c->chunk_overlap >= c->chunk_size) {
        snprintf(msg, cap, "ragd: CHUNK_OVERLAP (%d) must be smaller than CHUNK_SIZE (%d)", c->chunk_overlap,
                 c->chunk_size);
        return -1;
    }
    if (get_size("RAGD_MAX_BODY", 32u << 20, 1024, (size_t)1 << 32, &c->max_body, msg, cap) ||
        get_size("RAGD_MAX_WS_MESSAGE", 256u << 10, 64, (size_t)64 << 20, &c->max_ws_message, msg, cap) ||
        get_size("RAGD_MAX_DOC_BYTES", 16u << 20, 1024, (size_t)1 << 32, &c->max_doc_bytes, msg, cap))
        return -1;
    if (get_long("RAGD_MAX_CHUNKS", 50000, 1, 10000000, &v, msg, cap)) return -1;
    c->max_chunks = (size_t)v;
    if (get_long("RAGD_MAX_WS_CONNECTIONS", 256, 1, 100000, &v, msg, cap)) return -1;
    c->max_ws_connections = (int)v;
    if (get_long("RAGD_MAX_INGESTS", 2, 1, 64, &v, msg, cap)) return -1;
    c->max_ingests = (int)v;
    if (get_long("RAGD_WS_RATE", 30, 1, 100000, &v, msg, cap)) return -1;
    c->ws_rate = (int)v;
    if (get_long("RAGD_DRAIN_TIMEOUT_S", 20, 0, 86400, &v, msg, cap)) return -1;
    c->drain_timeout_s = (int)v;
    if (get_long("LLM_CONTEXT_SIZE", 0, 0, 10000000, &v, msg, cap)) return -1;
    c->llm_context_size = (int)v;
    if (get_long("LLM_CONNECT_TIMEOUT_MS", 5000, 1, 600000, &v, msg, cap)) return -1;
    c->llm_connect_timeout_ms = v;
    if (get_long("LLM_IDLE_TIMEOUT_S", 120, 1, 86400, &v, msg, cap)) return -1;
    c->llm_idle_timeout_s = v;
    if (get_long("RAGD_THREADS", 0, 0, 1024, &v, msg, cap)) return -1;
    c->threads = (int)v;
    if (get_long("RAGD_PDF_TIMEOUT_S", 30, 1, 3600, &v, msg, cap)) return -1;
    c->pdf_timeout_s = (int)v;

    if (!starts(c->llm_base_url, "http://") && !starts(c->llm_base_url, "https://")) {
        snprintf(msg, cap, "ragd: LLM_BASE_URL: expected an http:// or https:// URL, got '%.80s'", c->llm_base_url);
        return -1;
    }
    if (c->embedding_base_url[0] && !starts(c->embedding_base_url, "http://") &&
        !starts(c->embedding_base_url, "https://")) {
        snprintf(msg, cap, "ragd: EMBEDDING_BASE_URL: expected an http:// or https:// URL, got '%.80s'",
                 c->embedding_base_url);
        return -1;
    }
    if (!starts(c->database_url, "sqlite:") && !starts(c->database_url, "postgres://") &&
        !starts(c->database_url, "postgresql://")) {
        snprintf(msg, cap, "ragd: DATABASE_URL: expected sqlite:PATH or postgres://..., got '%.80s'", c->database_url);
        return -1;
    }
    if (!c->embedding_model[0]) {
        snprintf(msg, cap, "ragd: EMBEDDING_MODEL is empty");
        return -1;
    }
    return 0;
}

/* "abcd…" with all but 4 characters masked. */
static void mask(const char *s, char *out, size_t cap)
{
    size_t n = strlen(s);
    if (!n) snprintf(out, cap, "(none)");
    else if (n <= 6) snprintf(out, cap, "***");
    else snprintf(out, cap, "%.3s***", s);
}

/* A URL with any user:password@ masked. */
static void mask_url(const char *u, char *out, size_t cap)
{
    const char *at = strchr(u, '@');
    const char *sch = strstr(u, "://");
    if (at && sch && at > sch) snprintf(out, cap, "%.*s***%s", (int)(sch + 3 - u), u, at);
    else snprintf(out, cap, "%s", u);
}

/* Start-up line (see header). */
void ragd_config_print(const struct ragd_config *c, FILE *f)
{
    char k1[16], k2[16], db[1100];
    mask(c->llm_api_key, k1, sizeof k1);
    mask(c->api_key, k2, sizeof k2);
    mask_url(c->database_url, db, sizeof db);
    fprintf(f,
            "ragd: listen %s:%d llm %s (model %s, key %s, context %s) embedding %s%s%s store %s top_k %d chunk %d/%d "
            "limits body %zu ws_message %zu doc %zu chunks %zu ws_connections %d api_key %s origins %s\n",
            c->host, c->port, c->llm_base_url, c->llm_model, k1, c->llm_context_size ? "configured" : "from server",
            c->embedding_model, c->embedding_base_url[0] ? " via " : "", c->embedding_base_url, db, c->rag_top_k,
            c->chunk_size, c->chunk_overlap, c->max_body, c->max_ws_message, c->max_doc_bytes, c->max_chunks,
            c->max_ws_connections, k2, c->allowed_origins[0] ? c->allowed_origins : "same-origin");
    fflush(f);
}

/* Resolves the embedding model to a GGUF path (see header): the same rules as `ragd pull
 * --embedding`, without downloading (serving never waits on the network). */
int ragd_config_embedding_path(const struct ragd_config *c, char *out, size_t cap, char *msg, size_t mcap)
{
    char *path = NULL;
    struct lm_error err = {0};
    if (lm_hub_resolve_model(c->embedding_model, c->models_dir, NULL, &path, &err) < 0) {
        snprintf(msg, mcap, "ragd: EMBEDDING_MODEL %s: %s", c->embedding_model, err.msg);
        return -1;
    }
    snprintf(out, cap, "%s", path);
    free(path);
    return 0;
}

/* The variables and defaults (for --help). */
void ragd_config_help(FILE *f)
{
    fputs("Environment (or .env in the working folder):\n"
          "  LLM_BASE_URL        OpenAI-compatible server (http://127.0.0.1:8080/v1)\n"
          "  LLM_API_KEY         its Bearer key (sk-local)\n"
          "  LLM_MODEL           model name sent ($HF_FILENAME, else gemma-3-4b-it-q4_0.gguf)\n"
          "  LLM_CONTEXT_SIZE    the model's context in tokens (0: ask the server)\n"
          "  LLM_CONNECT_TIMEOUT_MS, LLM_IDLE_TIMEOUT_S   (5000, 120)\n"
          "  EMBEDDING_MODEL     .gguf path or Hub id found in MODELS_DIR (sentence-transformers/all-MiniLM-L6-v2)\n"
          "  EMBEDDING_BASE_URL  use a server's /v1/embeddings instead of in-process (unset)\n"
          "  RAG_TOP_K           chunks put in the prompt (3)\n"
          "  DATABASE_URL        sqlite:PATH or postgres://... (sqlite:data/ragd.db)\n"
          "  HOST, PORT          listen address (0.0.0.0, 8000)\n"
          "  MODELS_DIR          models folder (models)\n"
          "  CHUNK_SIZE, CHUNK_OVERLAP   characters (300, 50)\n"
          "  RAGD_API_KEY        key for the knowledge write routes and the WebSocket (unset: open)\n"
          "  RAGD_ALLOWED_ORIGINS  WebSocket Origin allow-list, comma-separated, * for any (same origin)\n"
          "  RAGD_MAX_BODY (32M), RAGD_MAX_WS_MESSAGE (256K), RAGD_MAX_DOC_BYTES (16M), RAGD_MAX_CHUNKS (50000),\n"
          "  RAGD_MAX_WS_CONNECTIONS (256), RAGD_MAX_INGESTS (2), RAGD_WS_RATE (30 messages / 10 s),\n"
          "  RAGD_DRAIN_TIMEOUT_S (20: on SIGTERM, answers in flight get this long, then end with done),\n"
          "  RAGD_THREADS (0 = all cores), RAGD_PDF_TIMEOUT_S (30)\n",
          f);
}
