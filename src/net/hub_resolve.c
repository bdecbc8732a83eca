/* hub_resolve.c — EMBEDDING_MODEL (a .gguf path or a Hub id) to a local GGUF file. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "lm/buf.h"
#include "lm/hub.h"

/* GGUF conversions of popular sentence-transformers ids, used when MODELS_DIR has none and a
 * download is allowed. Override with explicit repo/file in the hub parameters. */
static const struct {
    const char *id, *repo, *file;
} KNOWN[] = {
    {"sentence-transformers/all-MiniLM-L6-v2", "second-state/All-MiniLM-L6-v2-Embedding-GGUF",
     "all-MiniLM-L6-v2-Q8_0.gguf"},
};

static bool ends_with_ci(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Lower is better: F16 first (exact enough, half the size), then Q8_0, F32, anything else. */
static int quant_rank(const char *name)
{
    char low[512];
    size_t n = strlen(name);
    if (n >= sizeof low) n = sizeof low - 1;
    for (size_t i = 0; i < n; i++) low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    low[n] = 0;
    if (strstr(low, "f16")) return 0;
    if (strstr(low, "q8_0")) return 1;
    if (strstr(low, "f32")) return 2;
    return 3;
}

/* Best GGUF in dir whose name is base.gguf or starts with base followed by - _ or . (or any
 * GGUF when base is NULL). Returns a new path or NULL. */
static char *scan_dir(const char *dir, const char *base)
{
    DIR *dh = opendir(dir);
    if (!dh) return NULL;
    char *best = NULL;
    int best_rank = 99;
    size_t bl = base ? strlen(base) : 0;
    struct dirent *e;
    while ((e = readdir(dh))) {
        const char *n = e->d_name;
        if (!ends_with_ci(n, ".gguf") || ends_with_ci(n, ".part")) continue;
        if (base && !(strncasecmp(n, base, bl) == 0 && (n[bl] == '-' || n[bl] == '_' || n[bl] == '.')))
            continue;
        int r = quant_rank(n);
        if (best && (r > best_rank || (r == best_rank && strcmp(n, best) > 0))) continue;
        char *copy = strdup(n);
        if (!copy) break;
        free(best);
        best = copy;
        best_rank = r;
    }
    closedir(dh);
    if (!best) return NULL;
    struct lm_buf b = {0};
    if (lm_buf_printf(&b, "%s/%s", dir, best) < 0) {
        free(best);
        return NULL;
    }
    free(best);
    if (!is_file(b.data)) {
        lm_buf_free(&b);
        return NULL;
    }
    return lm_buf_take(&b);
}

/* Looks for the model of Hub id `name` (the part after the slash) in models_dir. */
static char *find_local(const char *models_dir, const char *name)
{
    char *p = scan_dir(models_dir, name);
    if (p) return p;
    struct lm_buf sub = {0};
    if (lm_buf_printf(&sub, "%s/%s", models_dir, name) < 0) return NULL;
    p = scan_dir(sub.data, NULL);
    lm_buf_free(&sub);
    return p;
}

/* Resolves EMBEDDING_MODEL (see hub.h). */
int lm_hub_resolve_model(const char *spec, const char *models_dir, const struct lm_hub_params *hub, char **path,
                         struct lm_error *err)
{
    if (!path) return lm_error_set(err, LM_EINVAL, "model: path is NULL");
    *path = NULL;
    if (!spec || !*spec) return lm_error_set(err, LM_EINVAL, "model: EMBEDDING_MODEL is empty");
    if (!models_dir || !*models_dir) models_dir = "models";
    if (ends_with_ci(spec, ".gguf")) {
        if (!is_file(spec))
            return lm_error_set(err, LM_ENOENT, "model: %.200s not found (EMBEDDING_MODEL names a .gguf file)", spec);
        *path = strdup(spec);
        return *path ? 0 : lm_error_set(err, LM_ENOMEM, "model: out of memory");
    }
    if (lm_hub_check_repo(spec, NULL) < 0)
        return lm_error_set(err, LM_EINVAL, "model: EMBEDDING_MODEL %.200s is neither a .gguf path nor a Hub id owner/name",
                            spec);
    const char *name = strchr(spec, '/') + 1;
    *path = find_local(models_dir, name);
    if (*path) return 0;
    const char *repo = hub ? hub->repo : NULL, *file = hub ? hub->file : NULL;
    if (hub && (!repo || !file))
        for (size_t i = 0; i < sizeof KNOWN / sizeof KNOWN[0]; i++)
            if (!strcasecmp(KNOWN[i].id, spec)) repo = KNOWN[i].repo, file = KNOWN[i].file;
    if (!hub || !repo || !file)
        return lm_error_set(err, LM_ENOENT,
                            "model: no GGUF for %.100s in %.100s (looked for %.60s*.gguf); download one (ragd pull "
                            "--hf-repo OWNER/NAME-GGUF --hf-file FILE.gguf) or set EMBEDDING_MODEL to a .gguf path",
                            spec, models_dir, name);
    struct lm_hub_params p = *hub;
    p.repo = repo;
    p.file = file;
    p.models_dir = models_dir;
    return lm_hub_download(&p, path, err);
}
