/* config.h — ragd's settings: environment variables (SPEC §3 names), a .env file in the
 * working folder filling in what the environment does not set, defaults, limits. */
#ifndef RAGD_CONFIG_H
#define RAGD_CONFIG_H

#include <stddef.h>
#include <stdio.h>

struct ragd_config {
    char llm_base_url[1024];
    char llm_api_key[512];
    char llm_model[512];
    char embedding_model[1024];    /* a .gguf path, or a Hub id resolved in models_dir */
    char embedding_base_url[1024]; /* "" = in-process */
    char database_url[1024];
    char host[256];
    char models_dir[1024];
    char api_key[512];             /* RAGD_API_KEY: "" = no auth */
    char allowed_origins[1024];    /* RAGD_ALLOWED_ORIGINS: "" = same origin only, "*" = any */
    int port;
    int rag_top_k;
    int chunk_size, chunk_overlap;
    size_t max_body;               /* RAGD_MAX_BODY bytes of an HTTP request */
    size_t max_ws_message;         /* RAGD_MAX_WS_MESSAGE bytes of one WebSocket message */
    size_t max_doc_bytes;          /* RAGD_MAX_DOC_BYTES bytes of a document's text */
    size_t max_chunks;             /* RAGD_MAX_CHUNKS per document */
    int max_ws_connections;        /* RAGD_MAX_WS_CONNECTIONS */
    int max_ingests;               /* RAGD_MAX_INGESTS concurrent ingestions */
    int ws_rate;                   /* RAGD_WS_RATE messages per 10 s per connection */
    int drain_timeout_s;           /* RAGD_DRAIN_TIMEOUT_S: answers in flight get this long on SIGTERM */
    int llm_context_size;          /* LLM_CONTEXT_SIZE: 0 = ask the server */
    long llm_connect_timeout_ms;   /* LLM_CONNECT_TIMEOUT_MS */
    long llm_idle_timeout_s;       /* LLM_IDLE_TIMEOUT_S */
    int threads;                   /* RAGD_THREADS for the embedder: 0 = all cores */
    int pdf_timeout_s;             /* RAGD_PDF_TIMEOUT_S */
};

/* Reads .env (when present) and the environment into c. On a bad value writes one line into
 * msg and returns -1 (exit 2). */
int ragd_config_load(struct ragd_config *c, char *msg, size_t cap);
/* One start-up line with the effective settings, secrets masked. */
void ragd_config_print(const struct ragd_config *c, FILE *f);
/* Path of the embedding GGUF: EMBEDDING_MODEL itself when it names a file, else a *.gguf in
 * models_dir whose name contains the Hub id's last part. -1 with a message saying what to set. */
int ragd_config_embedding_path(const struct ragd_config *c, char *out, size_t cap, char *msg, size_t msg_cap);
/* Prints the variables and their defaults (for --help). */
void ragd_config_help(FILE *f);

#endif
