/* doc.c — document text by file type. PDFs are parsed in a child process (`ragd extract-pdf`)
 * with CPU-time and memory limits and a wall-clock timeout, so a hostile PDF can at worst kill
 * that child, never the server. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "lm/buf.h"

extern char **environ;

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* Extension of a file name, lower-case compare helper. */
static bool has_ext(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    return n > e && !strcasecmp(name + n - e, ext);
}

/* Milliseconds on the monotonic clock. */
static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs `ragd extract-pdf FILE` on the bytes and collects its output within the limits. */
static int pdf_in_child(struct ragd_app *app, const char *data, size_t len, char **out, struct lm_error *err)
{
    const char *tmpdir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/ragd-pdf-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) return lm_error_set(err, LM_EIO, "pdf: cannot create a temporary file: %s", strerror(errno));
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w <= 0) {
            close(fd);
            unlink(path);
            return lm_error_set(err, LM_EIO, "pdf: cannot write a temporary file: %s", strerror(errno));
        }
        off += (size_t)w;
    }
    close(fd);

    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        unlink(path);
        return lm_error_set(err, LM_EIO, "pdf: pipe: %s", strerror(errno));
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    char limit[32];
    snprintf(limit, sizeof limit, "%d", app->cfg.pdf_timeout_s);
    char *argv[] = {app->exe, "extract-pdf", path, limit, NULL};
    pid_t pid;
    int src = posix_spawn(&pid, app->exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (src != 0) {
        close(pipefd[0]);
        unlink(path);
        return lm_error_set(err, LM_EIO, "pdf: cannot start the extractor: %s", strerror(src));
    }
    struct lm_buf b = {0};
    long long deadline = now_ms() + (long long)app->cfg.pdf_timeout_s * 1000;
    int rc = 0;
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            rc = lm_error_set(err, LM_ETIMEDOUT, "pdf: text extraction took longer than %d s", app->cfg.pdf_timeout_s);
            break;
        }
        struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
        int pr = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
        if (pr < 0 && errno != EINTR) {
            rc = lm_error_set(err, LM_EIO, "pdf: poll: %s", strerror(errno));
            break;
        }
        if (pr <= 0) continue;
        char buf[65536];
        ssize_t r = read(pipefd[0], buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        if (b.len + (size_t)r > app->cfg.max_doc_bytes) {
            rc = lm_error_set(err, LM_ETOOBIG, "pdf: text larger than %zu bytes (RAGD_MAX_DOC_BYTES)",
                              app->cfg.max_doc_bytes);
            break;
        }
        if (lm_buf_append(&b, buf, (size_t)r) < 0) {
            rc = lm_error_set(err, LM_ENOMEM, "pdf: out of memory");
            break;
        }
    }
    close(pipefd[0]);
    if (rc < 0) kill(pid, SIGKILL);
    /* the child may still be busy after closing its output: the deadline holds for it too */
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR)) break;
        if (w == 0 && now_ms() > deadline) {
            kill(pid, SIGKILL);
            if (rc == 0)
                rc = lm_error_set(err, LM_ETIMEDOUT, "pdf: text extraction took longer than %d s", app->cfg.pdf_timeout_s);
            deadline = now_ms() + 5000; /* SIGKILL cannot be ignored: reap it */
        }
        if (w == 0) usleep(10 * 1000);
    }
    unlink(path);
    if (rc == 0 && WIFSIGNALED(status))
        rc = lm_error_set(err, LM_EFORMAT, "pdf: the extractor died (signal %d): the file is damaged or too costly",
                          WTERMSIG(status));
    else if (rc == 0 && WEXITSTATUS(status) != 0)
        rc = lm_error_set(err, LM_EFORMAT, "pdf: not a readable PDF");
    if (rc < 0) {
        lm_buf_free(&b);
        return rc;
    }
    *out = b.data ? lm_buf_take(&b) : strdup("");
    return *out ? 0 : LM_ENOMEM;
}

/* Text of a document by its file name (see app.h). */
int ragd_doc_text(struct ragd_app *app, const char *filename, const char *data, size_t len, char **out,
                  struct lm_error *err)
{
    *out = NULL;
    int rc;
    if (has_ext(filename, ".pdf")) {
        rc = pdf_in_child(app, data, len, out, err);
    } else if (has_ext(filename, ".html") || has_ext(filename, ".htm")) {
        rc = lm_rag_html_text(data, len, out, err);
    } else if (has_ext(filename, ".txt") || has_ext(filename, ".md") || has_ext(filename, ".markdown") ||
               has_ext(filename, ".text")) {
        *out = lm_rag_clean_utf8(data, len);
        rc = *out ? 0 : lm_error_set(err, LM_ENOMEM, "out of memory");
    } else {
        return lm_error_set(err, LM_ENOTSUP, "unsupported file type of '%.100s' (accepted: .txt .md .html .pdf)",
                            filename);
    }
    if (rc == 0 && strlen(*out) > app->cfg.max_doc_bytes) {
        free(*out);
        *out = NULL;
        rc = lm_error_set(err, LM_ETOOBIG, "the document's text is larger than %zu bytes (RAGD_MAX_DOC_BYTES)",
                          app->cfg.max_doc_bytes);
    }
    return rc;
}

/* `ragd extract-pdf FILE [CPU_SECONDS]`: the child side. */
int ragd_cmd_extract_pdf(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: ragd extract-pdf FILE [CPU_SECONDS] (internal)\n");
        return 2;
    }
    int cpu = argc > 2 ? atoi(argv[2]) : 30;
    struct rlimit rl = {.rlim_cur = (rlim_t)(cpu > 0 ? cpu : 30), .rlim_max = (rlim_t)(cpu > 0 ? cpu : 30) + 1};
    setrlimit(RLIMIT_CPU, &rl);
#ifndef UNDER_ASAN
    /* AddressSanitizer reserves terabytes of address space, so the memory cap is only set in
     * normal builds */
    struct rlimit as = {.rlim_cur = (rlim_t)1 << 31, .rlim_max = (rlim_t)1 << 31};
    setrlimit(RLIMIT_AS, &as);
#endif
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        fprintf(stderr, "ragd extract-pdf: cannot open %s\n", argv[1]);
        return 1;
    }
    struct lm_buf b = {0};
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        if (lm_buf_append(&b, buf, n) < 0) {
            fclose(f);
            lm_buf_free(&b);
            return 1;
        }
    fclose(f);
    char *text = NULL;
    struct lm_error err = {0};
    int rc = lm_rag_pdf_text(b.data ? b.data : "", b.len, &text, &err);
    lm_buf_free(&b);
    if (rc < 0) {
        fprintf(stderr, "ragd extract-pdf: %s\n", err.msg);
        return 1;
    }
    fwrite(text, 1, strlen(text), stdout);
    free(text);
    return 0;
}
