/* cmd_migrate.c — `ragd migrate up|down|status` and `ragd reindex`.
 *
 * The embedding dimension the schema needs comes from --dim, else EMBEDDING_DIM, else the
 * embedding model's GGUF (its <arch>.embedding_length), so `ragd migrate up` needs no flags in
 * the usual set-up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "config.h"
#include "lm/gguf.h"
#include "lm/store.h"

/* The embedding dimension from --dim / EMBEDDING_DIM / the model file; -1 with a message. */
static int find_dim(const struct ragd_config *c, const char *flag, char *msg, size_t cap)
{
    const char *v = flag ? flag : getenv("EMBEDDING_DIM");
    if (v && *v) {
        char *end;
        long d = strtol(v, &end, 10);
        if (*end || d <= 0 || d > 16000) {
            snprintf(msg, cap, "ragd: embedding dimension \"%s\" is not a number in 1..16000", v);
            return -1;
        }
        return (int)d;
    }
    char path[4096];
    if (ragd_config_embedding_path(c, path, sizeof path, msg, cap) < 0) {
        size_t n = strlen(msg);
        snprintf(msg + n, cap - n, " (or give --dim N)");
        return -1;
    }
    struct lm_gguf *g = NULL;
    struct lm_error err = {0};
    if (lm_gguf_open(path, &g, &err) < 0) {
        snprintf(msg, cap, "ragd: %s", err.msg);
        return -1;
    }
    struct lm_str arch = {0};
    uint32_t dim = 0;
    char key[128];
    int rc = -1;
    if (lm_gguf_get_str(g, "general.architecture", &arch) == 0 && arch.len < 64) {
        snprintf(key, sizeof key, "%.*s.embedding_length", (int)arch.len, arch.ptr);
        if (lm_gguf_get_u32(g, key, &dim) == 0 && dim > 0) rc = (int)dim;
    }
    if (rc < 0) snprintf(msg, cap, "ragd: %.300s: no embedding length in the model (give --dim N)", path);
    lm_gguf_close(g);
    return rc;
}

/* Loads the configuration and the embedding dimension (not looked up, 0, for an SQLite store
 * unless sqlite_too). 0, or -1 after printing why to stderr. */
static int load_config(struct ragd_config *c, const char *dim_flag, bool sqlite_too, int *dim)
{
    char msg[512];
    *dim = 0;
    if (ragd_config_load(c, msg, sizeof msg) < 0) {
        fprintf(stderr, "%s\n", msg);
        return -1;
    }
    if (!sqlite_too && !strncmp(c->database_url, "sqlite:", 7)) return 0;
    *dim = find_dim(c, dim_flag, msg, sizeof msg);
    if (*dim < 0) {
        fprintf(stderr, "%s\n", msg);
        return -1;
    }
    return 0;
}

static void migrate_usage(FILE *f)
{
    fputs("usage: ragd migrate up|down|status [--dim N]\n"
          "  up      apply every pending migration, each in its own transaction\n"
          "  down    revert the last applied migration\n"
          "  status  list applied and pending migrations\n"
          "Uses DATABASE_URL (postgres://...; SQLite stores need no migrations). The vector\n"
          "dimension comes from --dim, EMBEDDING_DIM, or the EMBEDDING_MODEL file.\n"
          "ragd serve applies pending migrations at start-up unless RAG_AUTO_MIGRATE=0.\n",
          f);
}

int ragd_cmd_migrate(int argc, char **argv)
{
    const char *action = NULL, *dim_flag = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            migrate_usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--dim") && i + 1 < argc) {
            dim_flag = argv[++i];
        } else if (!action && argv[i][0] != '-') {
            action = argv[i];
        } else {
            fprintf(stderr, "ragd migrate: unexpected argument '%s'\n", argv[i]);
            migrate_usage(stderr);
            return 2;
        }
    }
    if (!action || (strcmp(action, "up") && strcmp(action, "down") && strcmp(action, "status"))) {
        migrate_usage(stderr);
        return 2;
    }
    struct ragd_config c;
    int dim;
    if (load_config(&c, dim_flag, false, &dim)) return 2;
    char *report = NULL;
    struct lm_error err = {0};
    if (lm_store_migrate(c.database_url, action, dim, &report, &err) < 0) {
        fprintf(stderr, "ragd migrate %s: %s\n", action, err.msg);
        return 1;
    }
    fputs(report ? report : "", stdout);
    free(report);
    return 0;
}

int ragd_cmd_reindex(int argc, char **argv)
{
    const char *dim_flag = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs("usage: ragd reindex [--dim N]\n"
                  "Rebuilds the approximate vector index of the store (PostgreSQL ivfflat: its lists are\n"
                  "fixed when it is built, so an index built on few rows recalls badly). ragd also does\n"
                  "it by itself once the table has grown tenfold the lists and doubled since.\n",
                  stdout);
            return 0;
        } else if (!strcmp(argv[i], "--dim") && i + 1 < argc) {
            dim_flag = argv[++i];
        } else {
            fprintf(stderr, "ragd reindex: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    struct ragd_config c;
    int dim;
    if (load_config(&c, dim_flag, true, &dim)) return 2;
    struct lm_store_open_params p = {.url = c.database_url, .dim = dim, .migrate = false};
    struct lm_store *s = NULL;
    struct lm_error err = {0};
    if (lm_store_open(&p, &s, &err) < 0) {
        fprintf(stderr, "ragd reindex: %s\n", err.msg);
        return 1;
    }
    bool rebuilt = false;
    int rc = lm_store_reindex(s, true, &rebuilt, &err);
    if (rc < 0) fprintf(stderr, "ragd reindex: %s\n", err.msg);
    else printf("%s\n", rebuilt ? "vector index rebuilt" : "this store has no index to rebuild");
    lm_store_close(s);
    return rc < 0 ? 1 : 0;
}
