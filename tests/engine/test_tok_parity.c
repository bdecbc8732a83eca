/* Tokenizer parity with llama.cpp: every text of tests/parity/tok_golden_*.json (written by
 * tests/parity/tok_goldens.mjs through node-llama-cpp 3.21.1) must give the same ids, with and
 * without special-token parsing, and the same detokenised text. Five vocabularies: Llama 2 SPM,
 * Llama 3 BPE, BERT WordPiece (the fixtures), Llama 3 with the qwen2 pre-tokenizer, and Llama 2
 * SPM with add_space_prefix = false (a fixture with the same metadata changes the goldens used). */
#include <cjson/cJSON.h>
#include <dirent.h>

#include "engine/tokenizer_internal.h"
#include "lm/gguf.h"
#include "lm/tokenizer.h"
#include "lm_test.h"

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)sz + 1);
    if (p && fread(p, 1, (size_t)sz, f) != (size_t)sz) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p) p[sz] = 0;
    if (n) *n = (size_t)sz;
    return p;
}

static bool ids_equal(const int32_t *ids, size_t n, const cJSON *arr)
{
    if ((size_t)cJSON_GetArraySize(arr) != n) return false;
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        if (ids[i++] != (int32_t)e->valuedouble) return false;
    }
    return true;
}

static void print_ids(const char *label, const int32_t *ids, size_t n)
{
    fprintf(stderr, "    %s:", label);
    for (size_t i = 0; i < n && i < 40; i++) fprintf(stderr, " %d", ids[i]);
    fprintf(stderr, "\n");
}

static int32_t *json_ids(const cJSON *arr, size_t *n)
{
    *n = (size_t)cJSON_GetArraySize(arr);
    int32_t *v = malloc((*n + 1) * sizeof *v);
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) v[i++] = (int32_t)e->valuedouble;
    return v;
}

static int g_texts, g_checks;
static struct lm_tokenizer *g_base;  /* the Llama 3 vocabulary shared by the pre_* goldens */

/* The tokenizer spec of each fixture, read once (variants change fields of a copy). */
static struct {
    char name[128];
    struct lm_gguf *g;
    struct lm_tokenizer_spec spec;
} g_fix[4];

static const struct lm_tokenizer_spec *fixture_spec(const char *file)
{
    int i = 0;
    for (; i < 4 && g_fix[i].g; i++)
        if (!strcmp(g_fix[i].name, file)) return &g_fix[i].spec;
    ASSERT(i < 4);
    struct lm_error err = {0};
    if (lm_gguf_open(lm_test_fixture(file), &g_fix[i].g, &err) < 0) {
        printf("SKIP: fixture %s: %s\n", file, err.msg);
        exit(77);
    }
    snprintf(g_fix[i].name, sizeof g_fix[i].name, "%s", file);
    ASSERT_OK(lm_tokenizer_spec_from_gguf(g_fix[i].g, &g_fix[i].spec, &err));
    return &g_fix[i].spec;
}

/* Runs one golden file; returns the number of mismatches. */
static int run_vocab(const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/parity/tok_golden_%s.json", lm_test_env("LM_ROOT", "."), name);
    char *js = slurp(path, NULL);
    ASSERT(js != NULL);
    cJSON *root = cJSON_Parse(js);
    ASSERT(root != NULL);
    const char *file = cJSON_GetObjectItem(root, "file")->valuestring;
    struct lm_error err = {0};
    struct lm_tokenizer_spec spec = *fixture_spec(file);
    const cJSON *variant = cJSON_GetObjectItem(root, "variant");
    const cJSON *kv;
    cJSON_ArrayForEach(kv, variant) {
        if (!strcmp(kv->string, "tokenizer.ggml.pre")) {
            spec.pre = cJSON_IsString(kv) ? kv->valuestring : NULL;
        } else if (!strcmp(kv->string, "tokenizer.ggml.add_bos_token")) {
            spec.add_bos = cJSON_IsTrue(kv);
        } else if (!strcmp(kv->string, "tokenizer.ggml.add_space_prefix")) {
            spec.add_space_prefix = cJSON_IsTrue(kv);
        } else {
            LM_FAIL_("unknown variant key %s", kv->string);
        }
    }
    struct lm_tokenizer *t = NULL;
    bool shared = !strncmp(name, "pre_", 4);
    if (shared) {
        /* pre_*: one loaded vocabulary switched to each pre-tokenizer (loading the Llama 3
         * vocabulary thirty times would dominate the test's time) */
        static char base_file[128];
        if (!g_base) {
            struct lm_tokenizer_spec b = *fixture_spec(file);
            if (lm_tokenizer_from_spec(&b, &g_base, &err) < 0) LM_FAIL_("%s: %s", file, err.msg);
            snprintf(base_file, sizeof base_file, "%s", file);
        }
        ASSERT_STR_EQ(file, base_file);
        t = g_base;
        int add_bos = -1;
        const char *pre = NULL;
        cJSON_ArrayForEach(kv, variant) {
            if (!strcmp(kv->string, "tokenizer.ggml.pre")) pre = cJSON_IsString(kv) ? kv->valuestring : NULL;
            else if (!strcmp(kv->string, "tokenizer.ggml.add_bos_token")) add_bos = cJSON_IsTrue(kv);
        }
        if (lm__tokenizer_set_pre(t, pre, add_bos, &err) < 0) LM_FAIL_("%s: %s", name, err.msg);
    } else if (lm_tokenizer_from_spec(&spec, &t, &err) < 0) {
        LM_FAIL_("%s: %s", name, err.msg);
    }

    ASSERT_EQ(lm_tokenizer_bos(t), cJSON_GetObjectItem(root, "bos")->valuedouble);
    ASSERT_EQ(lm_tokenizer_eos(t), cJSON_GetObjectItem(root, "eos")->valuedouble);
    ASSERT_EQ(lm_tokenizer_eot(t), cJSON_GetObjectItem(root, "eot")->valuedouble);
    ASSERT_EQ(lm_tokenizer_sep(t), cJSON_GetObjectItem(root, "sep")->valuedouble);
    ASSERT_EQ(lm_tokenizer_adds_bos(t), cJSON_IsTrue(cJSON_GetObjectItem(root, "add_bos")));
    ASSERT_EQ(lm_tokenizer_adds_eos(t), cJSON_IsTrue(cJSON_GetObjectItem(root, "add_eos")));
    cJSON_ArrayForEach(kv, cJSON_GetObjectItem(root, "eog")) {
        ASSERT_EQ(lm_tokenizer_is_eog(t, atoi(kv->string)), cJSON_IsTrue(kv));
    }

    int bad = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "cases")) {
        const char *text = cJSON_GetObjectItem(c, "text")->valuestring;
        g_texts++;
        for (int sp = 0; sp < 2; sp++) {
            const cJSON *want = cJSON_GetObjectItem(c, sp ? "ids_special" : "ids");
            const char *want_text = cJSON_GetObjectItem(c, sp ? "detok_special" : "detok")->valuestring;
            int32_t *ids = NULL;
            size_t n = 0;
            ASSERT_OK(lm_tokenize(t, text, strlen(text), false, sp, &ids, &n, &err));
            g_checks++;
            if (!ids_equal(ids, n, want)) {
                size_t wn;
                int32_t *w = json_ids(want, &wn);
                fprintf(stderr, "%s: tokenize mismatch (special=%d) for \"%s\"\n", name, sp, text);
                print_ids("ours  ", ids, n);
                print_ids("llama ", w, wn);
                free(w);
                bad++;
            }
            /* detokenise llama.cpp's ids so a tokenize mismatch does not hide a detok one */
            size_t wn;
            int32_t *w = json_ids(want, &wn);
            struct lm_buf out = {0};
            ASSERT_OK(lm_detokenize(t, w, wn, sp, &out));
            g_checks++;
            if (strcmp(out.data ? out.data : "", want_text) != 0) {
                fprintf(stderr, "%s: detokenize mismatch (special=%d) for \"%s\"\n    ours:  \"%s\"\n    llama: \"%s\"\n",
                        name, sp, text, out.data ? out.data : "", want_text);
                bad++;
            }
            /* add_special wraps the same ids in what the model adds */
            if (!sp) {
                int32_t *ids2 = NULL;
                size_t n2 = 0;
                ASSERT_OK(lm_tokenize(t, text, strlen(text), true, false, &ids2, &n2, &err));
                size_t k = 0;
                bool is_bert = !strcmp(lm_tokenizer_kind(t), "bert");
                if (is_bert || lm_tokenizer_adds_bos(t)) ASSERT_EQ(ids2[k++], lm_tokenizer_bos(t));
                for (size_t i = 0; i < wn && k < n2; i++) ASSERT_EQ(ids2[k++], w[i]);
                if (is_bert) ASSERT_EQ(ids2[k++], lm_tokenizer_sep(t));
                if (lm_tokenizer_adds_eos(t)) ASSERT_EQ(ids2[k++], lm_tokenizer_eos(t));
                ASSERT_EQ(k, n2);
                free(ids2);
            }
            lm_buf_free(&out);
            free(w);
            free(ids);
        }
    }
    fprintf(stderr, "%s: %d texts, %d mismatches\n", name, cJSON_GetArraySize(cJSON_GetObjectItem(root, "cases")), bad);
    if (!shared) lm_tokenizer_free(t);
    cJSON_Delete(root);
    free(js);
    return bad;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    /* every tests/parity/tok_golden_<name>.json */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/parity", lm_test_env("LM_ROOT", "."));
    DIR *d = opendir(dir);
    ASSERT(d != NULL);
    char *names[64];
    int nn = 0;
    struct dirent *e;
    while ((e = readdir(d)) && nn < 64) {
        size_t l = strlen(e->d_name);
        if (strncmp(e->d_name, "tok_golden_", 11) || l < 16 || strcmp(e->d_name + l - 5, ".json")) continue;
        names[nn++] = strndup(e->d_name + 11, l - 16);
    }
    closedir(d);
    ASSERT(nn >= 5);
    qsort(names, (size_t)nn, sizeof *names, cmp_str);
    int bad = 0;
    for (int i = 0; i < nn; i++) {
        bad += run_vocab(names[i]);
        free(names[i]);
    }
    lm_tokenizer_free(g_base);
    for (int i = 0; i < 4 && g_fix[i].g; i++) {
        lm_tokenizer_spec_free(&g_fix[i].spec);
        lm_gguf_close(g_fix[i].g);
    }
    fprintf(stderr, "total: %d vocabularies, %d texts, %d checks, %d mismatches\n", nn, g_texts, g_checks, bad);
    ASSERT_EQ(bad, 0);
    return 0;
}
