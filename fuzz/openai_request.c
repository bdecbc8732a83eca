/* Fuzz target: llmd's OpenAI request parser (chat and completion bodies) and the streamed-text
 * rules it feeds (stop strings over arbitrary pieces, UTF-8 clean-up, JSON-prefix validator).
 * The first byte picks the request kind; the rest is the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "programs/llmd/json_prefix.c"
#include "programs/llmd/oai_request.c"
#include "programs/llmd/textout.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    enum llmd_kind kind = (data[0] & 1) ? LLMD_COMPLETION : LLMD_CHAT;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    struct llmd_request r;
    struct lm_error err = {0};
    if (llmd_request_parse(body, len, kind, -1, 42, &r, &err) == 0) {
        /* invariants of a parsed request */
        if (kind == LLMD_CHAT && (!r.n_msgs || !r.msgs)) abort();
        if (kind == LLMD_COMPLETION && !r.prompt && !r.prompt_ids) abort();
        for (size_t i = 0; i < r.n_msgs; i++)
            if (!r.msgs[i].role || !r.msgs[i].content) abort();
        /* stream the body through the stop-string rules with the request's stops */
        struct llmd_textout t = {.stop = r.stop, .n_stop = r.n_stop};
        struct lm_buf out = {0};
        for (size_t i = 0; i < len && !t.stopped; i += 3) {
            size_t n = len - i < 3 ? len - i : 3;
            if (!llmd_textout_add(&t, body + i, n)) llmd_textout_take(&t, false, &out);
        }
        llmd_textout_take(&t, true, &out);
        llmd_textout_free(&t);
        lm_buf_free(&out);
        llmd_request_free(&r);
    } else if (!err.msg[0]) {
        abort();  /* every failure names its reason */
    }
    /* the JSON-prefix validator over the raw body, and its closing text */
    struct llmd_json j;
    llmd_json_init(&j);
    size_t ok = 0;
    while (ok < len && llmd_json_feed(&j, body + ok, 1)) ok++;
    struct llmd_json k;
    llmd_json_init(&k);
    if (ok && llmd_json_feed(&k, body, ok)) {
        char close[LLMD_JSON_MAX_DEPTH * 8];
        size_t n = llmd_json_closing(&k, close, sizeof close);
        if (!llmd_json_feed(&k, close, n) || !llmd_json_done(&k)) abort();
    }
    return 0;
}
