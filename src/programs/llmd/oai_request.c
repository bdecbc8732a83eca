/* oai_request.c — OpenAI request bodies to struct llmd_request.
 *
 * Every field is type-checked; a wrong type or value is a 400 whose message names the
 * field. Unknown fields are ignored (clients send many: user, tools, logprobs ...).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "server.h"

#define MAX_STOP 16
#define MAX_STOP_LEN 1024   /* bytes; the hold-back search is quadratic in it */
#define MAX_MESSAGES 4096

void llmd_request_free(struct llmd_request *r)
{
    if (!r) return;
    free(r->model);
    for (size_t i = 0; i < r->n_stop; i++) free(r->stop[i]);
    free(r->stop);
    for (size_t i = 0; i < r->n_msgs; i++) {
        free((char *)r->msgs[i].role);
        free((char *)r->msgs[i].content);
    }
    free(r->msgs);
    free(r->prompt);
    free(r->prompt_ids);
    free(r->bias_ids);
    free(r->bias);
    memset(r, 0, sizeof *r);
}

/* Reads an optional number field into *out; LM_EINVAL when present but not a number or out
 * of [lo, hi]. */
static int get_num(const cJSON *root, const char *name, double lo, double hi, double *out, bool *present,
                   struct lm_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    if (present) *present = false;
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return lm_error_set(err, LM_EINVAL, "'%s' must be a number", name);
    if (v->valuedouble < lo || v->valuedouble > hi)
        return lm_error_set(err, LM_EINVAL, "'%s' must be between %g and %g", name, lo, hi);
    *out = v->valuedouble;
    if (present) *present = true;
    return 0;
}

static int get_bool(const cJSON *root, const char *name, bool *out, struct lm_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsBool(v)) return lm_error_set(err, LM_EINVAL, "'%s' must be a boolean", name);
    *out = cJSON_IsTrue(v);
    return 0;
}

/* Text of a message's content: a string, null, or an array of {"type":"text","text":...}. */
static int content_text(const cJSON *c, size_t idx, char **out, struct lm_error *err)
{
    *out = NULL;
    if (!c || cJSON_IsNull(c)) {
        *out = strdup("");
    } else if (cJSON_IsString(c)) {
        *out = strdup(c->valuestring);
    } else if (cJSON_IsArray(c)) {
        struct lm_buf b = {0};
        const cJSON *part;
        cJSON_ArrayForEach(part, c) {
            const cJSON *type = cJSON_GetObjectItemCaseSensitive(part, "type");
            const cJSON *text = cJSON_GetObjectItemCaseSensitive(part, "text");
            if (!cJSON_IsString(type) || strcmp(type->valuestring, "text") || !cJSON_IsString(text)) {
                lm_buf_free(&b);
                return lm_error_set(err, LM_EINVAL,
                                    "messages[%zu].content: only parts of type \"text\" are supported", idx);
            }
            lm_buf_append_str(&b, text->valuestring);
        }
        *out = b.data ? lm_buf_take(&b) : strdup("");
    } else {
        return lm_error_set(err, LM_EINVAL, "messages[%zu].content must be a string or an array of text parts", idx);
    }
    return *out ? 0 : lm_error_set(err, LM_ENOMEM, "out of memory");
}

static int parse_messages(const cJSON *root, struct llmd_request *r, struct lm_error *err)
{
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(root, "messages");
    if (!cJSON_IsArray(msgs)) return lm_error_set(err, LM_EINVAL, "'messages' must be an array");
    int n = cJSON_GetArraySize(msgs);
    if (n <= 0) return lm_error_set(err, LM_EINVAL, "'messages' must not be empty");
    if (n > MAX_MESSAGES) return lm_error_set(err, LM_EINVAL, "'messages' has more than %d entries", MAX_MESSAGES);
    r->msgs = calloc((size_t)n, sizeof *r->msgs);
    if (!r->msgs) return lm_error_set(err, LM_ENOMEM, "out of memory");
    const cJSON *m;
    size_t i = 0;
    cJSON_ArrayForEach(m, msgs) {
        if (!cJSON_IsObject(m)) return lm_error_set(err, LM_EINVAL, "messages[%zu] must be an object", i);
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        if (!cJSON_IsString(role) || !role->valuestring[0])
            return lm_error_set(err, LM_EINVAL, "messages[%zu].role must be a string", i);
        const char *rs = role->valuestring;
        if (strcmp(rs, "system") && strcmp(rs, "user") && strcmp(rs, "assistant") && strcmp(rs, "developer") &&
            strcmp(rs, "tool"))
            return lm_error_set(err, LM_EINVAL, "messages[%zu].role '%.32s' is not one of system, user, assistant",
                                i, rs);
        char *content;
        int rc = content_text(cJSON_GetObjectItemCaseSensitive(m, "content"), i, &content, err);
        if (rc < 0) return rc;
        /* "developer" is the newer name of "system" */
        r->msgs[i].role = strdup(!strcmp(rs, "developer") ? "system" : rs);
        r->msgs[i].content = content;
        r->n_msgs = ++i;
        if (!r->msgs[i - 1].role) return lm_error_set(err, LM_ENOMEM, "out of memory");
    }
    return 0;
}

static int parse_prompt(const cJSON *root, struct llmd_request *r, struct lm_error *err)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "prompt");
    if (cJSON_IsString(p)) {
        r->prompt = strdup(p->valuestring);
        return r->prompt ? 0 : lm_error_set(err, LM_ENOMEM, "out of memory");
    }
    if (cJSON_IsArray(p)) {
        int n = cJSON_GetArraySize(p);
        if (n == 1 && cJSON_IsString(cJSON_GetArrayItem(p, 0))) {
            r->prompt = strdup(cJSON_GetArrayItem(p, 0)->valuestring);
            return r->prompt ? 0 : lm_error_set(err, LM_ENOMEM, "out of memory");
        }
        if (n > 0 && n <= (1 << 20)) {
            r->prompt_ids = malloc((size_t)n * sizeof *r->prompt_ids);
            if (!r->prompt_ids) return lm_error_set(err, LM_ENOMEM, "out of memory");
            const cJSON *t;
            cJSON_ArrayForEach(t, p) {
                if (!cJSON_IsNumber(t) || t->valuedouble < 0 || t->valuedouble > INT32_MAX ||
                    t->valuedouble != floor(t->valuedouble))
                    return lm_error_set(err, LM_EINVAL, "'prompt' must be a string or an array of token ids");
                r->prompt_ids[r->n_prompt_ids++] = (int32_t)t->valuedouble;
            }
            return 0;
        }
    }
    return lm_error_set(err, LM_EINVAL, "'prompt' must be a string or an array of token ids");
}

/* logit_bias: {"token id": bias in [-100, 100], ...} (at most 1024 entries). */
static int parse_bias(const cJSON *root, struct llmd_request *r, struct lm_error *err)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(root, "logit_bias");
    if (!b || cJSON_IsNull(b)) return 0;
    int n = cJSON_IsObject(b) ? cJSON_GetArraySize(b) : -1;
    if (n < 0 || n > 1024)
        return lm_error_set(err, LM_EINVAL, "'logit_bias' must be an object of at most 1024 token ids");
    if (n == 0) return 0;
    r->bias_ids = malloc((size_t)n * sizeof *r->bias_ids);
    r->bias = malloc((size_t)n * sizeof *r->bias);
    if (!r->bias_ids || !r->bias) return lm_error_set(err, LM_ENOMEM, "out of memory");
    const cJSON *e;
    cJSON_ArrayForEach(e, b) {
        char *end;
        long id = strtol(e->string, &end, 10);
        if (!*e->string || *end || id < 0 || id > INT32_MAX)
            return lm_error_set(err, LM_EINVAL, "'logit_bias' keys must be token ids");
        if (!cJSON_IsNumber(e) || !(e->valuedouble >= -100 && e->valuedouble <= 100))
            return lm_error_set(err, LM_EINVAL, "'logit_bias' values must be numbers between -100 and 100");
        r->bias_ids[r->n_bias] = (int32_t)id;
        r->bias[r->n_bias++] = (float)e->valuedouble;
    }
    return 0;
}

static int parse_stop(const cJSON *root, struct llmd_request *r, struct lm_error *err)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "stop");
    if (!s || cJSON_IsNull(s)) return 0;
    if (cJSON_IsString(s)) {
        if (!s->valuestring[0]) return 0;
        if (strlen(s->valuestring) > MAX_STOP_LEN)
            return lm_error_set(err, LM_EINVAL, "'stop' strings are limited to %d bytes", MAX_STOP_LEN);
        r->stop = calloc(1, sizeof *r->stop);
        if (!r->stop || !(r->stop[0] = strdup(s->valuestring))) return lm_error_set(err, LM_ENOMEM, "out of memory");
        r->n_stop = 1;
        return 0;
    }
    if (!cJSON_IsArray(s)) return lm_error_set(err, LM_EINVAL, "'stop' must be a string or an array of strings");
    int n = cJSON_GetArraySize(s);
    if (n > MAX_STOP) return lm_error_set(err, LM_EINVAL, "'stop' has more than %d entries", MAX_STOP);
    r->stop = calloc((size_t)(n ? n : 1), sizeof *r->stop);
    if (!r->stop) return lm_error_set(err, LM_ENOMEM, "out of memory");
    const cJSON *e;
    cJSON_ArrayForEach(e, s) {
        if (!cJSON_IsString(e)) return lm_error_set(err, LM_EINVAL, "'stop' must be a string or an array of strings");
        if (!e->valuestring[0]) continue;
        if (strlen(e->valuestring) > MAX_STOP_LEN)
            return lm_error_set(err, LM_EINVAL, "'stop' strings are limited to %d bytes", MAX_STOP_LEN);
        if (!(r->stop[r->n_stop] = strdup(e->valuestring))) return lm_error_set(err, LM_ENOMEM, "out of memory");
        r->n_stop++;
    }
    return 0;
}

int llmd_request_parse(const char *body, size_t len, enum llmd_kind kind, int default_n_predict,
                       uint64_t default_seed, struct llmd_request *out, struct lm_error *err)
{
    memset(out, 0, sizeof *out);
    struct llmd_request r = {.kind = kind, .n_predict = default_n_predict};
    lm_sampler_defaults(&r.sp);
    r.sp.seed = default_seed;
    cJSON *root = cJSON_ParseWithLength(body, len);
    if (!root) return lm_error_set(err, LM_EFORMAT, "request body is not valid JSON");
    int rc = 0;
    if (!cJSON_IsObject(root)) {
        rc = lm_error_set(err, LM_EFORMAT, "request body must be a JSON object");
        goto done;
    }
    rc = kind == LLMD_CHAT ? parse_messages(root, &r, err) : parse_prompt(root, &r, err);
    if (rc < 0) goto done;

    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (cJSON_IsString(model)) r.model = strdup(model->valuestring);

    if ((rc = get_bool(root, "stream", &r.stream, err)) < 0) goto done;
    if ((rc = get_bool(root, "ignore_eos", &r.ignore_eos, err)) < 0) goto done;
    const cJSON *so = cJSON_GetObjectItemCaseSensitive(root, "stream_options");
    if (so && !cJSON_IsNull(so)) {
        if (!cJSON_IsObject(so)) {
            rc = lm_error_set(err, LM_EINVAL, "'stream_options' must be an object");
            goto done;
        }
        if ((rc = get_bool(so, "include_usage", &r.include_usage, err)) < 0) goto done;
    }

    double v;
    bool has;
    if ((rc = get_num(root, "temperature", 0, 100, &v, &has, err)) < 0) goto done;
    if (has) r.sp.temperature = (float)v;
    if ((rc = get_num(root, "top_p", 0, 1, &v, &has, err)) < 0) goto done;
    if (has) r.sp.top_p = (float)v;
    if ((rc = get_num(root, "top_k", -1, 1e9, &v, &has, err)) < 0) goto done;
    if (has) r.sp.top_k = (int)v;
    if ((rc = get_num(root, "min_p", 0, 1, &v, &has, err)) < 0) goto done;
    if (has) r.sp.min_p = (float)v;
    if ((rc = get_num(root, "presence_penalty", -2, 2, &v, &has, err)) < 0) goto done;
    if (has) r.sp.presence_penalty = (float)v;
    if ((rc = get_num(root, "frequency_penalty", -2, 2, &v, &has, err)) < 0) goto done;
    if (has) r.sp.frequency_penalty = (float)v;
    if ((rc = get_num(root, "repeat_penalty", 0, 100, &v, &has, err)) < 0) goto done;
    if (has) r.sp.repeat_penalty = (float)v;
    if ((rc = get_num(root, "repeat_last_n", 0, 1 << 20, &v, &has, err)) < 0) goto done;
    if (has) r.sp.penalty_last_n = (int)v;
    if ((rc = get_num(root, "seed", -1, 18446744073709551615.0, &v, &has, err)) < 0) goto done;
    if (has && v >= 0) r.sp.seed = (uint64_t)v;
    const char *ntok[] = {"n_predict", "max_tokens", "max_completion_tokens"};
    for (size_t i = 0; i < 3; i++) {
        if ((rc = get_num(root, ntok[i], -1, 1 << 30, &v, &has, err)) < 0) goto done;
        if (has) r.n_predict = (int)v;
    }
    if ((rc = get_num(root, "n", 1, 1, &v, &has, err)) < 0) {
        rc = lm_error_set(err, LM_EINVAL, "only 'n': 1 is supported");
        goto done;
    }
    if ((rc = parse_stop(root, &r, err)) < 0) goto done;
    if ((rc = parse_bias(root, &r, err)) < 0) goto done;

    const cJSON *rf = cJSON_GetObjectItemCaseSensitive(root, "response_format");
    if (rf && !cJSON_IsNull(rf)) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(rf, "type");
        if (!cJSON_IsObject(rf) || !cJSON_IsString(type)) {
            rc = lm_error_set(err, LM_EINVAL, "'response_format' must be an object with a 'type'");
            goto done;
        }
        if (!strcmp(type->valuestring, "json_object") || !strcmp(type->valuestring, "json_schema")) {
            r.json_mode = true;
        } else if (strcmp(type->valuestring, "text")) {
            rc = lm_error_set(err, LM_EINVAL, "'response_format.type' must be text, json_object or json_schema");
            goto done;
        }
    }
done:
    cJSON_Delete(root);
    if (rc < 0) {
        llmd_request_free(&r);
        return rc;
    }
    *out = r;
    return 0;
}
