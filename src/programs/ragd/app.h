/* app.h — what every ragd command shares: settings, the embedder, the store, the LLM client
 * configuration, counters for /metrics, and the pieces of the server (chat, knowledge API). */
#ifndef RAGD_APP_H
#define RAGD_APP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "lm/http.h"
#include "lm/llm_client.h"
#include "lm/rag.h"
#include "lm/store.h"

struct ragd_metrics {
    atomic_long http_requests, http_errors;
    atomic_long ws_connections, ws_connections_total, ws_messages;
    atomic_long answers, answer_errors, answers_stopped;
    atomic_long first_delta_us_sum, first_delta_count;
    atomic_long retrieval_us_sum, retrieval_count;
    atomic_long documents_added, chunks_added;
    atomic_long ingests_running;
};

struct ragd_chat; /* one chat WebSocket (ws_chat.c) */

struct ragd_app {
    struct ragd_config cfg;
    struct lm_rag_embedder emb;
    struct lm_llm_config llm;       /* points into cfg */
    struct lm_llm_config emb_llm;   /* the embeddings server, when EMBEDDING_BASE_URL is set */
    struct lm_store *store;
    atomic_int n_ctx;               /* the LLM's context per request; 0 = not known yet */
    atomic_int tokenize;            /* the LLM server's /tokenize: 0 unknown, 1 works, -1 absent */
    struct ragd_metrics m;
    atomic_int draining;            /* SIGTERM: new requests get 503, new questions an error */
    atomic_int drain_ending;        /* the drain's bound ran out: answers end with done now */
    pthread_mutex_t chats_mu;       /* guards chats */
    struct ragd_chat *chats;        /* open chat WebSockets */
    atomic_long chat_ids;           /* serial numbers of chats, for the log */
    char exe[4096];                 /* this program, for the PDF extraction child */
};

/* Loads settings (exit-2 problems: returns 2 after printing one line), then the embedder and
 * the store. Returns 0, 1 (runtime failure, message printed) or 2. */
int ragd_app_open(struct ragd_app *app, bool print_settings);
void ragd_app_close(struct ragd_app *app);

/* The LLM's context size: LLM_CONTEXT_SIZE, else asked once from the server (0 when it
 * cannot be reached; asked again next time). */
int ragd_app_n_ctx(struct ragd_app *app);
/* Tokens of text for the LLM: its /tokenize when available, else an upper bound. */
int ragd_app_count_tokens(struct ragd_app *app, const char *text);

/* Text of an uploaded or command-line document by its file name's extension (.txt, .md,
 * .html/.htm, .pdf — PDF in a child process with limits). *out is new (caller frees).
 * LM_ENOTSUP for other types. */
int ragd_doc_text(struct ragd_app *app, const char *filename, const char *data, size_t len, char **out,
                  struct lm_error *err);
/* The hidden `ragd extract-pdf FILE` child: writes the text to stdout. */
int ragd_cmd_extract_pdf(int argc, char **argv);

/* Ingests one document with the configured chunking and limits. */
int ragd_ingest(struct ragd_app *app, const char *source, const char *text, struct lm_rag_ingest_result *res,
                void (*progress)(void *, size_t, size_t), void *user, struct lm_error *err);

/* HTTP routes (serve.c dispatches). */
void ragd_api_add_document(struct ragd_app *app, struct lm_http_req *req);
void ragd_api_upload(struct ragd_app *app, struct lm_http_req *req);
void ragd_api_documents(struct ragd_app *app, struct lm_http_req *req);
void ragd_api_delete(struct ragd_app *app, struct lm_http_req *req, const char *id);
void ragd_api_search(struct ragd_app *app, struct lm_http_req *req);
void ragd_api_health(struct ragd_app *app, struct lm_http_req *req);
/* WebSocket /api/v1/ws/chat: checks origin, auth and limits, then upgrades. */
void ragd_chat_upgrade(struct ragd_app *app, struct lm_http_req *req);
/* Graceful shutdown of the chats (serve.c drives it after setting app->draining):
 * ragd_chat_busy counts chats answering or holding queued questions; ragd_chat_end_all ends
 * every answer in flight with done (sets drain_ending first); ragd_chat_close_all closes every
 * chat WebSocket with 1001 (going away). */
int ragd_chat_busy(struct ragd_app *app);
void ragd_chat_end_all(struct ragd_app *app);
void ragd_chat_close_all(struct ragd_app *app);
/* True when the request carries RAGD_API_KEY (or no key is configured). */
bool ragd_authorized(struct ragd_app *app, struct lm_http_req *req);

#endif
