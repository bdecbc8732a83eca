/* hub.c — Hugging Face Hub downloads with libcurl (contract in include/lm/hub.h).
 *
 * Redirects are followed by hand, not by CURLOPT_FOLLOWLOCATION, so that the rule "the token
 * goes only to the endpoint's host" is ours and visible, and so the X-Linked-Etag of the Hub's
 * own 302 (the file's SHA-256; the CDN's ETag is something else) is read from the right hop.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lm/buf.h"
#include "lm/hub.h"
#include "lm/log.h"
#include "lm/sha256.h"

#define HUB_MAX_HOPS 10

/* State of one download across requests and retries. */
struct dl {
    CURL *curl;
    FILE *f;                   /* the .part file */
    struct lm_sha256 sha;      /* hash of the part's first `have` bytes */
    long long have;            /* bytes in the part file (and hashed) */
    long long start;           /* `have` when the current request started */
    long status;               /* status of the response being received */
    bool body_started;         /* the current request wrote body bytes */
    bool io_error;
    char linked_etag[96], etag[96], linked_size[32], content_range[96], hf_error[128];
    /* progress */
    bool progress;
    const char *name;
    double last_draw;
    long long total_hint;
};

/* Strips quotes and a weak-validator prefix; returns true when what is left is 64 hex digits. */
static bool etag_sha256(const char *in, char out[65])
{
    const char *p = in;
    if (!strncmp(p, "W/", 2)) p += 2;
    if (*p == '"') p++;
    size_t n = 0;
    while (p[n] && p[n] != '"') n++;
    if (n != 64) return false;
    for (size_t i = 0; i < 64; i++) {
        if (!isxdigit((unsigned char)p[i])) return false;
        out[i] = (char)tolower((unsigned char)p[i]);
    }
    out[64] = 0;
    return true;
}

/* Copies a header's value (trimmed) into dst when the line is "name: value". */
static bool take_header(const char *line, size_t len, const char *name, char *dst, size_t cap)
{
    size_t nl = strlen(name);
    if (len <= nl || strncasecmp(line, name, nl) || line[nl] != ':') return false;
    const char *v = line + nl + 1;
    size_t vl = len - nl - 1;
    while (vl && (*v == ' ' || *v == '\t')) v++, vl--;
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' ')) vl--;
    if (vl >= cap) vl = cap - 1;
    memcpy(dst, v, vl);
    dst[vl] = 0;
    return true;
}

/* libcurl header callback: status line and the headers we use. */
static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
    struct dl *d = ud;
    size_t len = size * nitems;
    if (len > 5 && !strncmp(buf, "HTTP/", 5)) {
        const char *sp = memchr(buf, ' ', len);
        d->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        d->etag[0] = d->content_range[0] = 0; /* per response; X-Linked-* survive the hops */
        return len;
    }
    if (take_header(buf, len, "X-Linked-Etag", d->linked_etag, sizeof d->linked_etag)) return len;
    if (take_header(buf, len, "ETag", d->etag, sizeof d->etag)) return len;
    if (take_header(buf, len, "X-Linked-Size", d->linked_size, sizeof d->linked_size)) return len;
    if (take_header(buf, len, "Content-Range", d->content_range, sizeof d->content_range)) return len;
    if (take_header(buf, len, "X-Error-Code", d->hf_error, sizeof d->hf_error)) return len;
    return len;
}

/* Re-reads the part file from the start into a fresh hash (after a restart or a size change). */
static int rehash_part(struct dl *d)
{
    lm_sha256_init(&d->sha);
    d->have = 0;
    if (fseeko(d->f, 0, SEEK_SET) < 0) return -1;
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, d->f)) > 0) {
        lm_sha256_update(&d->sha, buf, n);
        d->have += (long long)n;
    }
    if (ferror(d->f)) return -1;
    return fseeko(d->f, 0, SEEK_END);
}

/* libcurl write callback: appends body bytes of a 200/206 to the part file. */
static size_t on_body(char *buf, size_t size, size_t nmemb, void *ud)
{
    struct dl *d = ud;
    size_t len = size * nmemb;
    if (d->status != 200 && d->status != 206) return len; /* redirect/error bodies are dropped */
    if (!d->body_started) {
        d->body_started = true;
        long long from = -1;
        bool resumes = d->status == 206 && sscanf(d->content_range, "bytes %lld-", &from) == 1 && from == d->have;
        if (!resumes) {
            /* 200 (range ignored): start over; a 206 for another offset: start over, and abort
             * this transfer (its bytes belong elsewhere) so the retry asks from byte 0 */
            if (ftruncate(fileno(d->f), 0) < 0 || fseeko(d->f, 0, SEEK_SET) < 0) {
                d->io_error = true;
                return 0;
            }
            lm_sha256_init(&d->sha);
            d->have = d->start = 0;
            if (d->status == 206) return 0;
        }
    }
    if (fwrite(buf, 1, len, d->f) != len) {
        d->io_error = true;
        return 0;
    }
    lm_sha256_update(&d->sha, buf, len);
    d->have += (long long)len;
    return len;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* libcurl progress callback: one redrawn line, at most 10 times a second. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ult, curl_off_t ulnow)
{
    struct dl *d = ud;
    (void)ult, (void)ulnow;
    if (!d->progress || (d->status != 200 && d->status != 206)) return 0;
    double t = now_s();
    if (t - d->last_draw < 0.1) return 0;
    d->last_draw = t;
    long long total = dltotal > 0 ? d->start + (long long)dltotal : d->total_hint;
    long long done = d->start + (long long)dlnow;
    double speed = 0;
    curl_off_t sp = 0;
    if (curl_easy_getinfo(d->curl, CURLINFO_SPEED_DOWNLOAD_T, &sp) == CURLE_OK) speed = (double)sp;
    if (total > 0) {
        int pct = (int)(done * 100 / total);
        int bars = pct / 4;
        fprintf(stderr, "\r%s [%.*s%*s] %3d%% %.1f/%.1f MB %.1f MB/s ", d->name, bars,
                "#########################", 25 - bars, "", pct, done / 1e6, total / 1e6, speed / 1e6);
    } else {
        fprintf(stderr, "\r%s %.1f MB %.1f MB/s ", d->name, done / 1e6, speed / 1e6);
    }
    return 0;
}

/* Scheme, host and port of a URL as one comparable string ("https://host:443"). */
static int url_origin(const char *url, char *out, size_t cap)
{
    CURLU *u = curl_url();
    if (!u) return -1;
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = -1;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
        snprintf(out, cap, "%s://%s:%s", scheme, host, port);
        for (char *p = out; *p; p++) *p = (char)tolower((unsigned char)*p);
        rc = 0;
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

/* Checks a repo-relative file name (see hub.h). */
int lm_hub_check_filename(const char *name, struct lm_error *err)
{
    if (!name || !*name) return lm_error_set(err, LM_EINVAL, "pull: HF_FILENAME is empty");
    if (name[0] == '/') return lm_error_set(err, LM_EINVAL, "pull: file name %s must not be absolute", name);
    const char *seg = name;
    for (const char *p = name;; p++) {
        if (*p == '/' || *p == 0) {
            size_t n = (size_t)(p - seg);
            if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
                return lm_error_set(err, LM_EINVAL, "pull: file name %.200s has an empty, \".\" or \"..\" part", name);
            if (*p == 0) break;
            seg = p + 1;
        } else if (*p == '\\' || (unsigned char)*p < 0x20 || *p == 0x7f) {
            return lm_error_set(err, LM_EINVAL, "pull: file name %.200s has a backslash or control character", name);
        }
    }
    return 0;
}

/* Checks "owner/name". */
int lm_hub_check_repo(const char *repo, struct lm_error *err)
{
    if (!repo || !*repo) return lm_error_set(err, LM_EINVAL, "pull: HF_REPO_ID is empty (owner/name)");
    int slashes = 0;
    for (const char *p = repo; *p; p++) {
        if (*p == '/') slashes++;
        else if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
            return lm_error_set(err, LM_EINVAL, "pull: HF_REPO_ID %.200s has a character other than A-Z a-z 0-9 . _ -",
                                repo);
    }
    if (slashes != 1 || repo[0] == '/' || repo[strlen(repo) - 1] == '/' || strstr(repo, "..") ||
        strstr(repo, "/.") || repo[0] == '.')
        return lm_error_set(err, LM_EINVAL, "pull: HF_REPO_ID %.200s must look like owner/name", repo);
    return 0;
}

/* Fills params from the environment (see hub.h). */
void lm_hub_params_from_env(struct lm_hub_params *p)
{
    memset(p, 0, sizeof *p);
    const char *v;
    p->endpoint = (v = getenv("HF_ENDPOINT")) && *v ? v : "https://huggingface.co";
    p->repo = getenv("HF_REPO_ID");
    p->file = getenv("HF_FILENAME");
    p->revision = (v = getenv("HF_REVISION")) && *v ? v : "main";
    p->token = getenv("HF_TOKEN");
    p->models_dir = (v = getenv("MODELS_DIR")) && *v ? v : "models";
    p->progress = true;
}

/* mkdir -p of the folder part of path. */
static int make_parent_dirs(const char *path, struct lm_error *err)
{
    char *tmp = strdup(path);
    if (!tmp) return lm_error_set(err, LM_ENOMEM, "pull: out of memory");
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST) {
            int rc = lm_error_set(err, LM_EIO, "pull: cannot create folder %s: %s", tmp, strerror(errno));
            free(tmp);
            return rc;
        }
        *p = '/';
    }
    free(tmp);
    return 0;
}

/* {endpoint}/{repo}/resolve/{revision}/{file}, revision and each file segment percent-encoded. */
static char *build_url(CURL *c, const struct lm_hub_params *p, const char *rev)
{
    struct lm_buf b = {0};
    size_t el = strlen(p->endpoint);
    while (el && p->endpoint[el - 1] == '/') el--;
    int rc = lm_buf_append(&b, p->endpoint, el);
    rc |= lm_buf_printf(&b, "/%s/resolve/", p->repo);
    char *er = curl_easy_escape(c, rev, 0);
    rc |= er ? lm_buf_append_str(&b, er) : LM_ENOMEM;
    curl_free(er);
    const char *seg = p->file;
    while (!rc && seg) {
        const char *slash = strchr(seg, '/');
        size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
        char *es = curl_easy_escape(c, seg, (int)n);
        rc |= lm_buf_append_char(&b, '/');
        rc |= es ? lm_buf_append_str(&b, es) : LM_ENOMEM;
        curl_free(es);
        seg = slash ? slash + 1 : NULL;
    }
    if (rc) {
        lm_buf_free(&b);
        return NULL;
    }
    return lm_buf_take(&b);
}

/* The one-line advice for 401/403/404 (seed FAQ §13). */
static int http_error(const struct lm_hub_params *p, const char *rev, long status, const char *hf_code,
                      struct lm_error *err)
{
    const char *code = hf_code && *hf_code ? hf_code : "";
    bool token = p->token && *p->token;
    if (status == 401 || status == 403)
        return lm_error_set(err, LM_EINVAL,
                            "pull: HTTP %ld%s%s for %s/%s: %s; check that HF_REPO_ID/HF_FILENAME are spelled "
                            "exactly as on the Hub",
                            status, *code ? " " : "", code, p->repo, p->file,
                            token ? "HF_TOKEN has no access to this repository (gated: accept its license on the "
                                    "model page with the token's account; or use a token with read permission)"
                                  : "the repository is gated or private: set HF_TOKEN to a Hugging Face token with "
                                    "read access (and accept the model's license on its page)");
    return lm_error_set(err, LM_ENOENT,
                        "pull: HTTP 404%s%s: %s not found in %s at revision %s; check HF_REPO_ID, HF_FILENAME and "
                        "HF_REVISION spelling (case matters)%s",
                        *code ? " " : "", code, p->file, p->repo, rev,
                        token ? "" : "; a private repository also answers 404 without HF_TOKEN");
}

/* Runs one request chain (following redirects); returns 0 when a 200/206 body completed,
 * 1 when it should be retried (dropped connection), or a negative error. */
static int fetch(struct dl *d, const struct lm_hub_params *p, const char *rev, const char *url0,
                 struct lm_error *err)
{
    char origin0[512], origin[512];
    if (url_origin(url0, origin0, sizeof origin0) < 0)
        return lm_error_set(err, LM_EINVAL, "pull: bad HF_ENDPOINT URL %.200s", p->endpoint);
    char *url = strdup(url0);
    if (!url) return lm_error_set(err, LM_ENOMEM, "pull: out of memory");
    bool auth = p->token && *p->token;
    int result = 0;
    for (int hop = 0;; hop++) {
        if (hop >= HUB_MAX_HOPS) {
            result = lm_error_set(err, LM_EIO, "pull: too many redirects");
            break;
        }
        struct curl_slist *hdr = NULL;
        char line[1024];
        if (auth) {
            snprintf(line, sizeof line, "Authorization: Bearer %s", p->token);
            hdr = curl_slist_append(hdr, line);
        }
        CURL *c = d->curl;
        curl_easy_reset(c);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "ragd-pull/1.0");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, d);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, d);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, d->progress ? 0L : 1L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, d);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
        /* a stalled transfer (under 1 KB/s for a minute) is dropped and resumed */
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        char range[64];
        if (d->have > 0) {
            snprintf(range, sizeof range, "%lld-", d->have);
            curl_easy_setopt(c, CURLOPT_RANGE, range);
        }
        d->status = 0;
        d->body_started = false;
        d->start = d->have;
        CURLcode cc = curl_easy_perform(c);
        curl_slist_free_all(hdr);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (d->io_error) {
            result = lm_error_set(err, LM_EIO, "pull: cannot write %s.part: %s", p->file, strerror(errno));
            break;
        }
        if (cc != CURLE_OK) {
            LM_LOG_WARN("pull: %s (%s), will resume", curl_easy_strerror(cc), url);
            if (err) lm_error_set(err, LM_EIO, "pull: %s: %s", url, curl_easy_strerror(cc));
            result = 1;
            break;
        }
        if (status >= 300 && status < 400) {
            char *next = NULL;
            if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &next) != CURLE_OK || !next) {
                result = lm_error_set(err, LM_EIO, "pull: HTTP %ld without a Location", status);
                break;
            }
            char *copy = strdup(next);
            free(url);
            url = copy;
            if (!url) return lm_error_set(err, LM_ENOMEM, "pull: out of memory");
            /* the token is for the Hub only: never hand it to the file host */
            if (url_origin(url, origin, sizeof origin) < 0 || strcmp(origin, origin0) != 0) auth = false;
            continue;
        }
        if (status == 200 || status == 206) {
            result = 0;
            break;
        }
        if (status == 416 && d->have > 0) { /* the part already holds everything (or junk): decide outside */
            result = 2;
            break;
        }
        if (status == 401 || status == 403 || status == 404) {
            result = http_error(p, rev, status, d->hf_error, err);
            break;
        }
        if (status >= 500) {
            if (err) lm_error_set(err, LM_EIO, "pull: HTTP %ld from %s", status, url);
            result = 1;
            break;
        }
        result = lm_error_set(err, LM_EIO, "pull: HTTP %ld from %s", status, url);
        break;
    }
    free(url);
    return result;
}

/* Expected size from the last response, or -1 when unknown. */
static long long expected_size(struct dl *d)
{
    const char *slash = strchr(d->content_range, '/');
    if (slash && slash[1] != '*') return atoll(slash + 1);
    if (d->linked_size[0]) return atoll(d->linked_size);
    curl_off_t cl = -1;
    if (curl_easy_getinfo(d->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK && cl >= 0)
        return d->start + (long long)cl;
    return -1;
}

/* Downloads the file (see hub.h). */
int lm_hub_download(const struct lm_hub_params *p, char **path_out, struct lm_error *err)
{
    if (path_out) *path_out = NULL;
    if (!p || !p->endpoint || !p->models_dir) return lm_error_set(err, LM_EINVAL, "pull: missing parameters");
    int rc = lm_hub_check_repo(p->repo, err);
    if (!rc) rc = lm_hub_check_filename(p->file, err);
    if (rc) return rc;
    const char *rev = p->revision && *p->revision ? p->revision : "main";
    if (strstr(rev, "..")) return lm_error_set(err, LM_EINVAL, "pull: HF_REVISION %.100s must not contain ..", rev);

    struct lm_buf dest = {0}, part = {0};
    if (lm_buf_printf(&dest, "%s/%s", p->models_dir, p->file) < 0 || lm_buf_printf(&part, "%s.part", dest.data) < 0) {
        lm_buf_free(&dest);
        lm_buf_free(&part);
        return lm_error_set(err, LM_ENOMEM, "pull: out of memory");
    }
    struct stat st;
    if (stat(dest.data, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        LM_LOG_INFO("pull: %s is already complete", dest.data);
        if (path_out) *path_out = lm_buf_take(&dest);
        lm_buf_free(&dest);
        lm_buf_free(&part);
        return 0;
    }
    rc = make_parent_dirs(dest.data, err);
    struct dl d = {.progress = p->progress && isatty(2), .name = p->file};
    char *url = NULL;
    bool curl_inited = false;
    if (!rc) {
        curl_inited = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
        d.curl = curl_easy_init();
        url = d.curl ? build_url(d.curl, p, rev) : NULL;
        if (!url) rc = lm_error_set(err, LM_ENOMEM, "pull: out of memory");
    }
    if (!rc) {
        d.f = fopen(part.data, "ab+");
        if (!d.f) rc = lm_error_set(err, LM_EIO, "pull: cannot open %s: %s", part.data, strerror(errno));
        else if (rehash_part(&d) < 0) rc = lm_error_set(err, LM_EIO, "pull: cannot read %s", part.data);
        else if (d.have > 0) LM_LOG_INFO("pull: resuming %s at %lld bytes", part.data, d.have);
    }
    int retries = p->max_retries > 0 ? p->max_retries : 5;
    bool restarted = false;
    for (int attempt = 0; !rc; attempt++) {
        int r = fetch(&d, p, rev, url, err);
        if (r < 0) {
            rc = r;
            break;
        }
        long long want = expected_size(&d);
        if (r == 2) { /* 416: complete already, or a part that does not belong to this file */
            if (d.linked_size[0] && atoll(d.linked_size) == d.have) break;
            if (restarted) {
                rc = lm_error_set(err, LM_EIO, "pull: the server refuses the range request");
                break;
            }
            restarted = true;
            if (ftruncate(fileno(d.f), 0) < 0 || rehash_part(&d) < 0) {
                rc = lm_error_set(err, LM_EIO, "pull: cannot truncate %s", part.data);
                break;
            }
            continue;
        }
        if (r == 0 && (want < 0 || d.have == want)) break;
        if (r == 0) LM_LOG_WARN("pull: got %lld of %lld bytes, resuming", d.have, want);
        if (attempt >= retries) {
            if (r == 0) lm_error_set(err, LM_EIO, "pull: download incomplete after %d attempts", attempt + 1);
            rc = LM_EIO;
            break;
        }
        struct timespec ts = {0, 200000000L * (attempt < 4 ? attempt + 1 : 5)};
        nanosleep(&ts, NULL);
    }
    if (d.progress) fputc('\n', stderr);
    if (!rc && fflush(d.f) == 0 && fsync(fileno(d.f)) < 0)
        rc = lm_error_set(err, LM_EIO, "pull: cannot sync %s: %s", part.data, strerror(errno));
    if (!rc) {
        char want[65], got[65];
        uint8_t dig[32];
        lm_sha256_final(&d.sha, dig);
        lm_sha256_hex(dig, got);
        bool have_want = etag_sha256(d.linked_etag, want) || etag_sha256(d.etag, want);
        if (have_want && strcmp(want, got) != 0) {
            unlink(part.data);
            rc = lm_error_set(err, LM_EFORMAT, "pull: %s: SHA-256 %s does not match the Hub's %s (partial file removed)",
                              p->file, got, want);
        } else if (!have_want) {
            LM_LOG_WARN("pull: the server sent no SHA-256 for %s; size checked only", p->file);
        }
    }
    if (d.f) fclose(d.f);
    /* an empty part (the request failed before any byte) is not worth keeping for a resume */
    if (rc && d.f && d.have == 0) unlink(part.data);
    if (!rc && rename(part.data, dest.data) < 0)
        rc = lm_error_set(err, LM_EIO, "pull: cannot rename %s: %s", part.data, strerror(errno));
    if (d.curl) curl_easy_cleanup(d.curl);
    if (curl_inited) curl_global_cleanup();
    free(url);
    if (!rc && path_out) *path_out = lm_buf_take(&dest);
    lm_buf_free(&dest);
    lm_buf_free(&part);
    return rc;
}
