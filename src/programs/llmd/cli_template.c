/* cli_template.c — `llmd template -m MODEL -f MESSAGES.json [--chat-template NAME] [--no-generation-prompt]`:
 * prints the prompt text the model's chat template (tokenizer.chat_template, recognised as one of
 * llama.cpp's built-in families) makes of an OpenAI-style messages array, exactly as llama.cpp's
 * llama_chat_apply_template would. MESSAGES.json is an array of {"role", "content"} or an object
 * with "messages"; content may be a string or an array of {"type": "text", "text"} parts. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lm/buf.h"
#include "lm/chat.h"
#include "lm/gguf.h"

static int usage(void)
{
    fprintf(stderr, "usage: llmd template -m MODEL -f MESSAGES.json [--chat-template NAME] [--no-generation-prompt]\n");
    return 2;
}

static int slurp(const char *path, struct lm_buf *b)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char tmp[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        if (lm_buf_append(b, tmp, n) < 0) rc = -1;
    if (ferror(f)) rc = -1;
    fclose(f);
    return rc;
}

/* Joins the text of a content value (string, or array of text parts) into out. */
static int content_text(const cJSON *c, struct lm_buf *out)
{
    if (cJSON_IsString(c)) return lm_buf_append_str(out, c->valuestring);
    if (cJSON_IsNull(c) || !c) return 0;
    if (!cJSON_IsArray(c)) return -1;
    const cJSON *part;
    cJSON_ArrayForEach(part, c) {
        const cJSON *text = cJSON_GetObjectItem(part, "text");
        if (cJSON_IsString(part)) {
            if (lm_buf_append_str(out, part->valuestring) < 0) return -1;
        } else if (cJSON_IsString(text)) {
            if (lm_buf_append_str(out, text->valuestring) < 0) return -1;
        }
    }
    return 0;
}

int llmd_cmd_template(int argc, char **argv)
{
    const char *model = NULL, *file = NULL, *forced = NULL;
    bool add_gen = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((!strcmp(a, "-m") || !strcmp(a, "--model")) && i + 1 < argc) model = argv[++i];
        else if ((!strcmp(a, "-f") || !strcmp(a, "--file")) && i + 1 < argc) file = argv[++i];
        else if (!strcmp(a, "--chat-template") && i + 1 < argc) forced = argv[++i];
        else if (!strcmp(a, "--no-generation-prompt")) add_gen = false;
        else return usage();
    }
    if (!model || !file) return usage();
    if (forced && !lm_chat_family_known(forced)) {
        fprintf(stderr, "llmd template: unknown chat template '%s'\n", forced);
        return 2;
    }

    int code = 1;
    struct lm_buf js = {0}, out = {0};
    struct lm_buf *texts = NULL;
    struct lm_chat_msg *msgs = NULL;
    cJSON *root = NULL;
    struct lm_gguf *g = NULL;
    struct lm_error err = {0};
    size_t n = 0;

    if (slurp(file, &js) < 0) {
        fprintf(stderr, "llmd template: cannot read %s\n", file);
        goto done;
    }
    root = cJSON_ParseWithLength(js.data ? js.data : "", js.len);
    const cJSON *arr = root && cJSON_IsObject(root) ? cJSON_GetObjectItem(root, "messages") : root;
    if (!cJSON_IsArray(arr)) {
        fprintf(stderr, "llmd template: %s: expected a JSON array of messages\n", file);
        goto done;
    }
    n = (size_t)cJSON_GetArraySize(arr);
    msgs = calloc(n ? n : 1, sizeof *msgs);
    texts = calloc(n ? n : 1, sizeof *texts);
    if (!msgs || !texts) goto done;
    size_t i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, arr) {
        const cJSON *role = cJSON_GetObjectItem(m, "role");
        if (!cJSON_IsString(role) || content_text(cJSON_GetObjectItem(m, "content"), &texts[i]) < 0) {
            fprintf(stderr, "llmd template: %s: message %zu needs a string role and text content\n", file, i);
            goto done;
        }
        msgs[i].role = role->valuestring;
        msgs[i].content = texts[i].data ? texts[i].data : "";
        i++;
    }

    if (lm_gguf_open(model, &g, &err) < 0) {
        fprintf(stderr, "llmd template: %s: %s\n", model, err.msg);
        goto done;
    }
    const char *family = forced;
    if (!family) {
        struct lm_str tmpl = {0};
        char *tc = NULL;
        if (lm_gguf_get_str(g, "tokenizer.chat_template", &tmpl) == 0) tc = lm_str_dup(tmpl);
        bool recognised = true;
        family = lm_chat_detect(tc, &recognised);
        if (!recognised) fprintf(stderr, "llmd template: warning: chat template not recognised, using %s\n", family);
        free(tc);
    }
    if (lm_chat_apply(family, msgs, n, add_gen, NULL, &out, &err) < 0) {
        fprintf(stderr, "llmd template: %s\n", err.msg);
        goto done;
    }
    fwrite(out.data ? out.data : "", 1, out.len, stdout);
    code = fflush(stdout) == 0 ? 0 : 1;
done:
    if (texts)
        for (size_t k = 0; k < n; k++) lm_buf_free(&texts[k]);
    free(texts);
    free(msgs);
    cJSON_Delete(root);
    lm_gguf_close(g);
    lm_buf_free(&js);
    lm_buf_free(&out);
    return code;
}
