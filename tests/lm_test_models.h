/* lm_test_models.h — helpers the model parity tests share (include after lm_test.h):
 * reading a golden file, writing a model with gguf-synth from the arguments a golden records,
 * and the greedy pick. Header-only (static inline), like lm_test.h. */
#ifndef LM_TEST_MODELS_H
#define LM_TEST_MODELS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The whole file as a NUL-terminated string (caller frees), or NULL. */
static inline char *lm_test_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) { free(s); s = NULL; }
    if (s) s[n] = 0;
    fclose(f);
    return s;
}

/* tests/parity/<file> under LM_ROOT, parsed (caller frees with cJSON_Delete). A file that is
 * absent fails the test when required, else gives NULL; a file that does not parse fails it. */
static inline cJSON *lm_test_golden(const char *file, bool required)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/parity/%s", lm_test_env("LM_ROOT", "."), file);
    char *text = lm_test_read_file(path);
    if (!text) {
        if (required) LM_FAIL_("cannot read %s", path);
        return NULL;
    }
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j) LM_FAIL_("%s: not valid JSON", path);
    return j;
}

/* Runs gguf-synth with a golden's recorded arguments (a JSON array of strings; "@FIXTURES/name"
 * names a shared fixture) into out; fails the test if it does not exit 0. */
static inline void lm_test_synth_json(const cJSON *args, const char *out)
{
    static char bin[4096], fix[8][4096];
    snprintf(bin, sizeof bin, "%s/gguf-synth", lm_test_env("LM_RELBIN", lm_test_env("LM_BIN", "build/rel/bin")));
    char *argv[64];
    int n = 0, nf = 0;
    argv[n++] = bin;
    const cJSON *a;
    cJSON_ArrayForEach(a, args) {
        if (n >= 60) break;
        if (!strncmp(a->valuestring, "@FIXTURES/", 10) && nf < 8) {
            snprintf(fix[nf], sizeof fix[nf], "%s", lm_test_fixture(a->valuestring + 10));
            argv[n++] = fix[nf++];
        } else {
            argv[n++] = a->valuestring;
        }
    }
    argv[n++] = "-o";
    argv[n++] = (char *)out;
    argv[n] = NULL;
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        execv(bin, argv);
        _exit(127);
    }
    int st;
    ASSERT(waitpid(pid, &st, 0) == pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) LM_FAIL_("%s failed (status %d)", bin, st);
}

/* Greedy pick: the first index of the largest logit. */
static inline int lm_test_argmax(const float *l, int n)
{
    int b = 0;
    for (int i = 1; i < n; i++)
        if (l[i] > l[b]) b = i;
    return b;
}

#endif
