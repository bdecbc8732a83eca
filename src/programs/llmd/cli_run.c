/* cli_run.c — `llmd run -m MODEL -p PROMPT [-n N] [sampling] [--print-ids]`: generates a
 * continuation of PROMPT (greedy unless --temp > 0) and streams its text to stdout, or with
 * --print-ids the generated token ids on one line. Stops after N tokens, at an end-of-generation
 * token, or when the context is full. A timing line goes to stderr at the end. Exit codes: 0
 * ok, 1 runtime failure (bad model, prompt too long), 2 usage error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "lm/buf.h"
#include "lm/chat.h"
#include "lm/model.h"
#include "lm/sampler.h"
#include "lm/tokenizer.h"

static int usage(const char *why)
{
    if (why) fprintf(stderr, "llmd run: %s\n", why);
    fprintf(stderr,
            "usage: llmd run -m MODEL -p PROMPT [-n N] [--temp T] [--seed S] [--top-k K] [--top-p P]\n"
            "                [--min-p P] [--repeat-penalty X] [--print-ids] [--special] [--chat]\n"
            "                [--chat-template NAME] [-t THREADS] [-c CTX] [--flash-attn]\n");
    return 2;
}

struct run_opts {
    const char *model, *prompt, *chat_template;
    int n_predict, n_threads, n_ctx;
    bool print_ids, special, chat, flash_attn;
    struct lm_sampler_params sp;
};

/* Parses a number option; false on junk. */
static bool num(const char *v, double lo, double hi, double *out)
{
    char *end;
    double x = strtod(v, &end);
    if (!*v || *end || !(x >= lo && x <= hi)) return false;
    *out = x;
    return true;
}

static int parse(int argc, char **argv, struct run_opts *o)
{
    lm_sampler_defaults(&o->sp);
    o->sp.temperature = 0;  /* greedy unless asked */
    o->n_predict = 64;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double x;
        if (!strcmp(a, "--print-ids")) { o->print_ids = true; continue; }
        if (!strcmp(a, "--special")) { o->special = true; continue; }
        if (!strcmp(a, "--chat")) { o->chat = true; continue; }
        if (!strcmp(a, "-fa") || !strcmp(a, "--flash-attn")) { o->flash_attn = true; continue; }
        if (!v) return usage("missing value or unknown option");
        i++;
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) o->model = v;
        else if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) o->prompt = v;
        else if (!strcmp(a, "--chat-template")) { o->chat_template = v; o->chat = true; }
        else if ((!strcmp(a, "-n") || !strcmp(a, "--n-predict")) && num(v, 0, 1 << 24, &x)) o->n_predict = (int)x;
        else if ((!strcmp(a, "-t") || !strcmp(a, "--threads")) && num(v, 1, 1024, &x)) o->n_threads = (int)x;
        else if ((!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) && num(v, 1, 1 << 24, &x)) o->n_ctx = (int)x;
        else if (!strcmp(a, "--temp") && num(v, 0, 100, &x)) o->sp.temperature = (float)x;
        else if (!strcmp(a, "--seed") && num(v, 0, 1.8e19, &x)) o->sp.seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--top-k") && num(v, 0, 1e9, &x)) o->sp.top_k = (int)x;
        else if (!strcmp(a, "--top-p") && num(v, 1e-6, 1, &x)) o->sp.top_p = (float)x;
        else if (!strcmp(a, "--min-p") && num(v, 0, 1, &x)) o->sp.min_p = (float)x;
        else if (!strcmp(a, "--repeat-penalty") && num(v, 1e-3, 100, &x)) o->sp.repeat_penalty = (float)x;
        else return usage(NULL);
    }
    if (!o->model || !o->prompt) return usage("-m and -p are required");
    return 0;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Length of the prefix of b that ends on a complete UTF-8 sequence. */
static size_t complete_utf8(const unsigned char *b, size_t n)
{
    size_t i = n, k = 0;
    while (i > 0 && k < 4 && (b[i - 1] & 0xC0) == 0x80) { i--; k++; }
    if (i == 0) return n;
    unsigned char c = b[i - 1];
    size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return (k + 1 >= need || need == 1) ? n : i - 1;
}

/* Wraps the prompt in the model's chat template (one user message). */
static int chat_wrap(const struct run_opts *o, const struct lm_model *m, struct lm_buf *out)
{
    const char *family = o->chat_template;
    if (family && !lm_chat_family_known(family)) {
        fprintf(stderr, "llmd run: unknown chat template %s\n", family);
        return -1;
    }
    if (!family) {
        bool recognised = true;
        family = lm_chat_detect(lm_model_chat_template(m), &recognised);
        if (!recognised) fprintf(stderr, "llmd run: warning: chat template not recognised, using %s\n", family);
    }
    struct lm_chat_msg msg = {"user", o->prompt};
    struct lm_error err = {0};
    if (lm_chat_apply(family, &msg, 1, true, NULL, out, &err) < 0) {
        fprintf(stderr, "llmd run: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/* Prompt decode, then the generation loop. Returns the exit code. */
static int generate(const struct run_opts *o, struct lm_model *m, const int32_t *prompt, size_t n_prompt)
{
    const struct lm_tokenizer *tok = lm_model_tokenizer(m);
    const struct lm_model_info *info = lm_model_info(m);
    struct lm_error err = {0};
    int n_ctx = o->n_ctx ? o->n_ctx : (int)n_prompt + o->n_predict;
    if (n_ctx < 1) n_ctx = 1;
    if ((int)n_prompt > n_ctx) {
        fprintf(stderr, "llmd run: prompt of %zu tokens does not fit the context of %d\n", n_prompt, n_ctx);
        return 1;
    }
    struct lm_ctx *c = NULL;
    struct lm_sampler *s = NULL;
    if (lm_ctx_init(m, &(struct lm_ctx_params){.n_ctx = n_ctx, .n_threads = o->n_threads, .flash_attn = o->flash_attn}, &c, &err) < 0 ||
        lm_sampler_init(&o->sp, info->n_vocab, &s, &err) < 0) {
        fprintf(stderr, "llmd run: %s\n", err.msg);
        lm_ctx_free(c);
        return 1;
    }
    for (size_t i = 0; i < n_prompt; i++) lm_sampler_accept(s, prompt[i]);
    int code = 0, n_gen = 0;
    struct lm_buf text = {0}, ids = {0};
    struct lm_batch b = {.n = (int)n_prompt, .tokens = prompt};
    int32_t cur;
    int pos = 0;
    double prompt_ms = 0, gen_ms = 0;
    int n_gen_decoded = 0;  /* generated tokens fed back through the model */
    while (n_gen < o->n_predict) {
        double t0 = now_ms();
        int drc = lm_ctx_decode(c, &b, &err);
        double dt = now_ms() - t0;
        if (pos == 0) {
            prompt_ms = dt;
        } else {
            gen_ms += dt;
            n_gen_decoded++;
        }
        if (drc < 0) {
            fprintf(stderr, "llmd run: %s\n", err.msg);
            code = 1;
            break;
        }
        pos += b.n;
        cur = lm_sampler_sample(s, lm_ctx_logits(c, b.n - 1));
        lm_sampler_accept(s, cur);
        if (lm_tokenizer_is_eog(tok, cur)) break;
        n_gen++;
        if (o->print_ids) {
            lm_buf_printf(&ids, "%s%d", ids.len ? " " : "", cur);
        } else {
            lm_token_to_piece(tok, cur, o->special, &text);
            size_t ok = complete_utf8((const unsigned char *)text.data, text.len);
            if (ok) {
                fwrite(text.data, 1, ok, stdout);
                fflush(stdout);
                memmove(text.data, text.data + ok, text.len - ok);
                text.len -= ok;
            }
        }
        if (pos >= n_ctx) break;  /* context full */
        b = (struct lm_batch){.n = 1, .tokens = &cur};
    }
    if (o->print_ids) printf("%s\n", ids.data ? ids.data : "");
    else if (text.len) fwrite(text.data, 1, text.len, stdout);
    if (!o->print_ids && code == 0) printf("\n");
    fflush(stdout);
    fprintf(stderr, "timings: prompt %zu tokens, %.2f tok/s; generation %d tokens, %.2f tok/s\n", n_prompt,
            prompt_ms > 0 ? (double)n_prompt * 1000.0 / prompt_ms : 0.0, n_gen_decoded,
            gen_ms > 0 ? (double)n_gen_decoded * 1000.0 / gen_ms : 0.0);
    lm_buf_free(&text);
    lm_buf_free(&ids);
    lm_sampler_free(s);
    lm_ctx_free(c);
    return code;
}

int llmd_cmd_run(int argc, char **argv)
{
    struct run_opts o = {0};
    int rc = parse(argc, argv, &o);
    if (rc) return rc;
    struct lm_model *m;
    struct lm_error err = {0};
    if (lm_model_load(o.model, NULL, &m, &err) < 0) {
        fprintf(stderr, "llmd run: %s\n", err.msg);
        return 1;
    }
    if (lm_model_info(m)->is_embedding) {
        fprintf(stderr, "llmd run: %s is an embedding model (use llmd embed)\n", o.model);
        lm_model_free(m);
        return 1;
    }
    struct lm_buf prompt = {0};
    int code = 1;
    int32_t *ids = NULL;
    size_t n = 0;
    if (o.chat ? chat_wrap(&o, m, &prompt) < 0 : lm_buf_append_str(&prompt, o.prompt) < 0) goto done;
    /* a chat-wrapped prompt carries the template's special tokens as text: parse them */
    if (lm_tokenize(lm_model_tokenizer(m), prompt.data ? prompt.data : "", prompt.len, true, o.special || o.chat, &ids,
                    &n, &err) < 0) {
        fprintf(stderr, "llmd run: %s\n", err.msg);
        goto done;
    }
    if (n == 0) {
        fprintf(stderr, "llmd run: the prompt is empty (no tokens)\n");
        goto done;
    }
    code = generate(&o, m, ids, n);
done:
    free(ids);
    lm_buf_free(&prompt);
    lm_model_free(m);
    return code;
}
