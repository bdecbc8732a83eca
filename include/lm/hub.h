/* hub.h — downloading model files from the Hugging Face Hub (or a mirror), `ragd pull`.
 *
 * URL: {endpoint}/{repo}/resolve/{revision}/{file}. Redirects are followed; the Bearer token
 * is sent only to the endpoint's own host (dropped when a redirect leaves it, as
 * huggingface_hub does). The body goes to MODELS_DIR/{file}.part, resumed with Range after a
 * dropped connection or an interrupted run, checked against the SHA-256 the Hub announces in
 * X-Linked-Etag (or an ETag that is a 64-hex SHA-256), then renamed into place atomically.
 * A file already at MODELS_DIR/{file} is taken as complete (nothing is downloaded).
 * 401/403/404 fail with a one-line hint (token, gated repo, spelling of repo/file/revision).
 */
#ifndef LM_HUB_H
#define LM_HUB_H

#include <stdbool.h>

#include "lm/err.h"

struct lm_hub_params {
    const char *endpoint;     /* "https://huggingface.co" (no trailing slash needed) */
    const char *repo;         /* "owner/name" */
    const char *file;         /* path inside the repo, e.g. "gemma-3-4b-it-q4_0.gguf" */
    const char *revision;     /* branch, tag or commit; NULL = "main" */
    const char *token;        /* HF_TOKEN; NULL or "" = anonymous */
    const char *models_dir;   /* destination folder (created when missing) */
    bool progress;            /* progress bar on stderr (only drawn when stderr is a TTY) */
    int max_retries;          /* resumptions after a dropped connection; 0 = 5 */
};

/* Fills p from the environment: HF_ENDPOINT (https://huggingface.co), HF_REPO_ID,
 * HF_FILENAME, HF_REVISION (main), HF_TOKEN, MODELS_DIR (models). Strings are borrowed from
 * the environment. progress = true. */
void lm_hub_params_from_env(struct lm_hub_params *p);

/* Downloads (or finds complete) the file. *path (may be NULL) receives the local path, new
 * string, caller frees. Errors: LM_EINVAL bad names or 401/403, LM_ENOENT 404, LM_EFORMAT
 * checksum/size mismatch (the partial file is removed), LM_EIO network/disk. */
int lm_hub_download(const struct lm_hub_params *p, char **path, struct lm_error *err);

/* Checks a repo-relative file name: not empty, not absolute, no "." / ".." / empty segment,
 * no backslash or control characters. */
int lm_hub_check_filename(const char *name, struct lm_error *err);
/* Checks "owner/name": exactly one slash, [A-Za-z0-9._-], no "..". */
int lm_hub_check_repo(const char *repo, struct lm_error *err);

/* Resolves EMBEDDING_MODEL to a local GGUF path (*path: new string, caller frees):
 *   - a path ending in .gguf: used as is (LM_ENOENT when the file is missing);
 *   - a Hub id "owner/name": a GGUF in models_dir named after it (name.gguf, name-*.gguf,
 *     name.*.gguf, case-insensitive; F16 preferred, then Q8_0, F32, then the first by name),
 *     also inside models_dir/name/. When none is there and hub is not NULL, hub->repo/file
 *     (or, when those are NULL, the built-in GGUF conversion known for a few popular ids) are
 *     downloaded into models_dir first. LM_ENOENT with a one-line hint when nothing fits. */
int lm_hub_resolve_model(const char *spec, const char *models_dir, const struct lm_hub_params *hub, char **path,
                         struct lm_error *err);

#endif
