/* sched.c — the continuous-batching scheduler.
 *
 * One lm_ctx with n_seq = n_slots; slot i owns sequence i of the KV cache. A single loop
 * thread owns the context. Each step it admits queued tasks into free slots, drops slots
 * whose client went away, builds ONE batch from the next prompt tokens of admitted slots
 * (at most n_batch prompt tokens per step, so a long prompt cannot stall running streams
 * for long) and one token per generating slot, decodes, then samples each slot whose last
 * token produced logits and hands the new text to its task.
 *
 * Every slot samples from its own sequence's logits with its own sampler, and the engine
 * computes each sequence independently, so a greedy answer does not depend on what else
 * shares the batch.
 *
 * Prompt cache: a finished slot keeps its sequence in the KV cache, with the token ids
 * (slot.cache). A new task goes to the free slot whose cached tokens share the longest
 * prefix with its prompt, and only the rest of the prompt is decoded (a chat that sends its
 * whole history every turn pays only for the new turn).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lm/log.h"
#include "lm/model.h"
#include "lm/tokenizer.h"
#include "server.h"

enum slot_state { SLOT_IDLE = 0, SLOT_PROMPT, SLOT_GEN };

struct slot {
    int id;
    enum slot_state state;
    struct llmd_task *task;
    int n_fed;                /* prompt tokens decoded */
    int n_past;               /* tokens in this slot's cache */
    int32_t next;             /* sampled token to decode next (SLOT_GEN) */
    int out_row;              /* batch row with this slot's logits this step, -1 none */
    int n_gen;
    int n_cached;             /* prompt tokens reused from the previous task's cache */
    int32_t *cache;           /* n_ctx ids: what this slot's KV sequence holds ... */
    int n_cache;              /* ... this many of them */
    unsigned long long last_used;
    struct lm_sampler *smp;
    struct llmd_textout out;
    struct llmd_json json;
    long long t_start, t_first;
};

struct llmd_sched {
    struct llmd_server *srv;
    struct lm_ctx *ctx;
    const struct lm_tokenizer *tok;
    int n_slots, n_ctx, n_batch, queue_max, n_vocab;
    struct slot *slots;

    pthread_mutex_t mu;       /* guards the queue, stopping, busy */
    pthread_cond_t cv;
    struct llmd_task **queue; /* ring of queue_cap entries */
    int q_head, q_len, q_cap;
    bool stopping;
    int busy;
    pthread_t th;
    bool th_started;

    /* loop-thread only */
    int32_t *b_tok, *b_pos, *b_seq;
    int8_t *b_logits;
    float *scratch;           /* n_vocab */
    float *biased;            /* n_vocab: logits after logit_bias / ignore_eos */
    int32_t char_tok[256];    /* a token whose text is exactly that one byte, or -1 */
    int32_t *eog;             /* the end-of-generation ids (for ignore_eos) */
    int n_eog;
    struct lm_buf piece, delta;
    unsigned long long uses;  /* slot admissions, for least-recently-used */
};

long long llmd_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct llmd_task *llmd_task_new(void)
{
    struct llmd_task *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    atomic_init(&t->cancel, false);
    atomic_init(&t->stream, NULL);
    t->slot = -1;
    return t;
}

void llmd_task_free(struct llmd_task *t)
{
    if (!t) return;
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    free(t->prompt);
    lm_buf_free(&t->delta);
    free(t);
}

/* Hands text to the task's reader. */
static void task_push(struct llmd_task *t, const struct lm_buf *text)
{
    if (!text->len) return;
    pthread_mutex_lock(&t->mu);
    lm_buf_append(&t->delta, text->data, text->len);
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

/* Marks a task finished; the scheduler never touches it again afterwards. */
static void task_finish(struct llmd_task *t, enum llmd_finish f, const char *msg, int n_gen, double prompt_ms,
                        double gen_ms)
{
    pthread_mutex_lock(&t->mu);
    t->finish = f;
    if (msg) snprintf(t->errmsg, sizeof t->errmsg, "%s", msg);
    t->n_gen = n_gen;
    t->prompt_ms = prompt_ms;
    t->gen_ms = gen_ms;
    t->done = true;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

/* Ends a slot's task and frees the slot (its cache sequence is cleared at once). */
static void slot_finish(struct llmd_sched *s, struct slot *sl, enum llmd_finish f, const char *msg)
{
    struct llmd_task *t = sl->task;
    long long now = llmd_now_us();
    if (f != LLMD_FINISH_CANCELLED) {
        lm_buf_clear(&s->delta);
        llmd_textout_take(&sl->out, true, &s->delta);
        task_push(t, &s->delta);
    }
    double prompt_ms = sl->t_first ? (double)(sl->t_first - sl->t_start) / 1000.0
                                   : (double)(now - sl->t_start) / 1000.0;
    double gen_ms = sl->t_first ? (double)(now - sl->t_first) / 1000.0 : 0;
    struct llmd_metrics *m = &s->srv->metrics;
    atomic_fetch_add(&m->prompt_tokens, (unsigned long long)(sl->n_fed - sl->n_cached));
    atomic_fetch_add(&m->gen_tokens, (unsigned long long)sl->n_gen);
    atomic_fetch_add(&m->prompt_us, (unsigned long long)(prompt_ms * 1000));
    atomic_fetch_add(&m->gen_us, (unsigned long long)(gen_ms * 1000));
    int n_gen = sl->n_gen, n_cached = sl->n_cached;

    /* the sequence stays in the KV cache for the next task's prefix */
    lm_sampler_free(sl->smp);
    llmd_textout_free(&sl->out);
    sl->smp = NULL;
    sl->task = NULL;
    sl->state = SLOT_IDLE;
    sl->n_fed = sl->n_past = sl->n_gen = 0;
    sl->t_first = 0;
    pthread_mutex_lock(&s->mu);
    s->busy--;
    pthread_mutex_unlock(&s->mu);
    t->n_cached = n_cached;
    task_finish(t, f, msg, n_gen, prompt_ms, gen_ms);
}

/* Length of the common prefix of a slot's cached tokens and a prompt. */
static int common_prefix(const struct slot *sl, const struct llmd_task *t)
{
    int n = 0;
    while (n < sl->n_cache && n < t->n_prompt && sl->cache[n] == t->prompt[n]) n++;
    return n;
}

/* The free slot for t: longest cached prefix, then least recently used. NULL if none free. */
static struct slot *pick_slot(struct llmd_sched *s, const struct llmd_task *t)
{
    struct slot *best = NULL;
    int best_p = -1;
    for (int i = 0; i < s->n_slots; i++) {
        struct slot *sl = &s->slots[i];
        if (sl->state != SLOT_IDLE) continue;
        int p = common_prefix(sl, t);
        if (p > best_p || (p == best_p && sl->last_used < best->last_used)) {
            best = sl;
            best_p = p;
        }
    }
    return best;
}

/* Puts a queued task into a free slot. */
static void slot_start(struct llmd_sched *s, struct slot *sl, struct llmd_task *t)
{
    struct lm_error err = {0};
    sl->task = t;
    sl->state = SLOT_PROMPT;
    sl->n_fed = sl->n_past = sl->n_gen = 0;
    sl->out_row = -1;
    sl->t_start = llmd_now_us();
    sl->t_first = 0;
    memset(&sl->out, 0, sizeof sl->out);
    sl->out.stop = t->stop;
    sl->out.n_stop = t->n_stop;
    llmd_json_init(&sl->json);
    t->slot = sl->id;
    sl->last_used = ++s->uses;
    /* reuse the cached prefix, but decode at least the last prompt token for its logits */
    int p = common_prefix(sl, t);
    if (p > t->n_prompt - 1) p = t->n_prompt - 1;
    /* Sliding-window models may keep their local layers in rings of window + n_batch
     * positions: cutting a sequence back further than n_batch from its end loses part of
     * the window. Such a prefix is not reused; the slot starts afresh. */
    if (sl->n_cache - p > s->n_batch) p = 0;
    lm_ctx_seq_truncate(s->ctx, sl->id, p);
    sl->n_cache = p;
    sl->n_fed = sl->n_past = sl->n_cached = p;
    if (lm_sampler_init(&t->sp, s->n_vocab, &sl->smp, &err) < 0) {
        sl->smp = NULL;
        slot_finish(s, sl, LLMD_FINISH_ERROR, err.msg);
        return;
    }
    for (int i = 0; i < t->n_prompt; i++) lm_sampler_accept(sl->smp, t->prompt[i]);
    if (t->n_predict == 0) slot_finish(s, sl, LLMD_FINISH_LENGTH, NULL);
}

/* Tokens the slot may still generate before its limit (n_predict or the context). */
static int slot_budget(const struct llmd_sched *s, const struct slot *sl)
{
    int b = s->n_ctx - sl->n_past;
    if (sl->task->n_predict >= 0 && sl->task->n_predict - sl->n_gen < b) b = sl->task->n_predict - sl->n_gen;
    return b;
}

/* Would token id keep the output a JSON-object prefix that can still be closed, one byte
 * per token, within the budget left after it? */
static bool json_ok(struct llmd_sched *s, const struct slot *sl, int32_t id, int budget)
{
    if (lm_tokenizer_is_eog(s->tok, id)) return false;
    lm_buf_clear(&s->piece);
    if (lm_token_to_piece(s->tok, id, false, &s->piece) < 0 || !s->piece.len) return false;
    struct llmd_json j = sl->json;
    if (!llmd_json_feed(&j, s->piece.data, s->piece.len)) return false;
    char close[LLMD_JSON_MAX_DEPTH * 8];
    return (int)llmd_json_closing(&j, close, sizeof close) <= budget - 1;
}

/* Picks the next token: the sampler's choice, or for json_object the best choice that keeps
 * the output a JSON prefix, closing the object when the budget runs out. */
static int32_t slot_pick(struct llmd_sched *s, struct slot *sl, const float *logits)
{
    const struct llmd_task *t = sl->task;
    if (t->ignore_eos || t->n_bias) {
        /* logit_bias (-100 bans, as OpenAI's) and ignore_eos on a copy of the logits */
        memcpy(s->biased, logits, (size_t)s->n_vocab * sizeof *s->biased);
        for (size_t i = 0; i < t->n_bias; i++)
            s->biased[t->bias_ids[i]] = t->bias[i] <= -100 ? -INFINITY : s->biased[t->bias_ids[i]] + t->bias[i];
        if (t->ignore_eos)
            for (int i = 0; i < s->n_eog; i++) s->biased[s->eog[i]] = -INFINITY;
        logits = s->biased;
    }
    if (!t->json_mode) return lm_sampler_sample(sl->smp, logits);
    char close[LLMD_JSON_MAX_DEPTH * 8];
    size_t need = llmd_json_closing(&sl->json, close, sizeof close);
    int budget = slot_budget(s, sl);
    if (need && (int)need >= budget && s->char_tok[(unsigned char)close[0]] >= 0)
        return s->char_tok[(unsigned char)close[0]];
    memcpy(s->scratch, logits, (size_t)s->n_vocab * sizeof *s->scratch);
    for (int tries = 0; tries < 32; tries++) {
        int32_t id = lm_sampler_sample(sl->smp, s->scratch);
        if (id < 0 || id >= s->n_vocab) break;
        if (json_ok(s, sl, id, budget)) return id;
        s->scratch[id] = -INFINITY;
    }
    /* the sampler's candidates are all invalid: best valid token by logit */
    int32_t best = -1;
    for (int32_t id = 0; id < s->n_vocab; id++) {
        if (best >= 0 && !(logits[id] > logits[best])) continue;
        if (json_ok(s, sl, id, budget)) best = id;
    }
    if (best >= 0) return best;
    return need ? s->char_tok[(unsigned char)close[0]] : lm_tokenizer_eos(s->tok);
}

/* Samples and emits one token for a slot whose logits are ready. */
static void slot_sample(struct llmd_sched *s, struct slot *sl, const float *logits)
{
    struct llmd_task *t = sl->task;
    int32_t id = slot_pick(s, sl, logits);
    if (!sl->t_first) sl->t_first = llmd_now_us();
    if (id < 0 || lm_tokenizer_is_eog(s->tok, id)) {
        slot_finish(s, sl, LLMD_FINISH_STOP, NULL);
        return;
    }
    lm_sampler_accept(sl->smp, id);
    sl->n_gen++;
    lm_buf_clear(&s->piece);
    lm_token_to_piece(s->tok, id, false, &s->piece);
    bool stop = llmd_textout_add(&sl->out, s->piece.data ? s->piece.data : "", s->piece.len);
    if (t->json_mode && s->piece.len) {
        if (!llmd_json_feed(&sl->json, s->piece.data, s->piece.len)) llmd_json_init(&sl->json);
        if (llmd_json_done(&sl->json)) stop = true;
    }
    if (stop) {
        slot_finish(s, sl, LLMD_FINISH_STOP, NULL);
        return;
    }
    if ((t->n_predict >= 0 && sl->n_gen >= t->n_predict) || sl->n_past >= s->n_ctx) {
        slot_finish(s, sl, LLMD_FINISH_LENGTH, NULL);
        return;
    }
    lm_buf_clear(&s->delta);
    llmd_textout_take(&sl->out, false, &s->delta);
    task_push(t, &s->delta);
    sl->next = id;
    sl->state = SLOT_GEN;
}

/* One step: admit, drop cancelled, batch, decode, sample. False when the loop should end. */
static bool step(struct llmd_sched *s)
{
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (s->stopping) {
            pthread_mutex_unlock(&s->mu);
            return false;
        }
        while (s->q_len) {
            struct llmd_task *t = s->queue[s->q_head];
            struct slot *sl = pick_slot(s, t);
            if (!sl) break;
            s->q_head = (s->q_head + 1) % s->q_cap;
            s->q_len--;
            s->busy++;
            pthread_mutex_unlock(&s->mu);
            slot_start(s, sl, t);
            pthread_mutex_lock(&s->mu);
        }
        if (s->busy) break;
        pthread_cond_wait(&s->cv, &s->mu);
    }
    pthread_mutex_unlock(&s->mu);

    for (int i = 0; i < s->n_slots; i++) {
        struct slot *sl = &s->slots[i];
        if (sl->state == SLOT_IDLE) continue;
        struct lm_http_stream *st = atomic_load(&sl->task->stream);
        if (atomic_load(&sl->task->cancel) || (st && lm_http_stream_gone(st)))
            slot_finish(s, sl, LLMD_FINISH_CANCELLED, NULL);
    }

    int n = 0, prompt_budget = s->n_batch;
    for (int i = 0; i < s->n_slots; i++) {
        struct slot *sl = &s->slots[i];
        sl->out_row = -1;
        if (sl->state == SLOT_GEN) {
            s->b_tok[n] = sl->next;
            s->b_pos[n] = sl->n_past;
            s->b_seq[n] = sl->id;
            s->b_logits[n] = 1;
            sl->out_row = n++;
        }
    }
    for (int i = 0; i < s->n_slots && prompt_budget > 0; i++) {
        struct slot *sl = &s->slots[i];
        if (sl->state != SLOT_PROMPT) continue;
        int k = sl->task->n_prompt - sl->n_fed;
        if (k > prompt_budget) k = prompt_budget;
        for (int j = 0; j < k; j++) {
            s->b_tok[n] = sl->task->prompt[sl->n_fed + j];
            s->b_pos[n] = sl->n_fed + j;
            s->b_seq[n] = sl->id;
            s->b_logits[n] = 0;
            n++;
        }
        prompt_budget -= k;
        if (sl->n_fed + k == sl->task->n_prompt) {
            s->b_logits[n - 1] = 1;
            sl->out_row = n - 1;
        }
        sl->n_fed += k;   /* undone below if the decode fails */
        sl->n_past += k;
    }
    if (n == 0) return true;

    struct lm_batch b = {.n = n, .tokens = s->b_tok, .pos = s->b_pos, .seq = s->b_seq, .logits = s->b_logits};
    struct lm_error err = {0};
    long long t0 = llmd_now_us();
    int rc = lm_ctx_decode(s->ctx, &b, &err);
    atomic_fetch_add(&s->srv->metrics.decode_calls, 1);
    if (lm_log_get_level() <= LM_LOG_DEBUG)
        LM_LOG_DEBUG("llmd: step: %d tokens (%d prompt) in %.1f ms", n, s->n_batch - prompt_budget,
                     (double)(llmd_now_us() - t0) / 1000.0);
    if (rc < 0) {
        LM_LOG_ERROR("llmd: decode failed: %s", err.msg);
        for (int i = 0; i < s->n_slots; i++) {
            struct slot *sl = &s->slots[i];
            bool in_batch = false;
            for (int j = 0; j < n && !in_batch; j++) in_batch = s->b_seq[j] == sl->id;
            if (in_batch) slot_finish(s, sl, LLMD_FINISH_ERROR, err.msg);
        }
        return true;
    }
    for (int i = 0; i < s->n_slots; i++) {
        struct slot *sl = &s->slots[i];
        if (sl->state == SLOT_GEN) {
            sl->cache[sl->n_cache++] = sl->next;
            sl->n_past++;
        } else if (sl->state == SLOT_PROMPT) {
            memcpy(sl->cache + sl->n_cache, sl->task->prompt + sl->n_cache,
                   (size_t)(sl->n_past - sl->n_cache) * sizeof *sl->cache);
            sl->n_cache = sl->n_past;
        }
    }
    for (int i = 0; i < s->n_slots; i++) {
        struct slot *sl = &s->slots[i];
        if (sl->state == SLOT_IDLE || sl->out_row < 0) continue;
        const float *logits = lm_ctx_logits(s->ctx, sl->out_row);
        if (!logits) {
            slot_finish(s, sl, LLMD_FINISH_ERROR, "no logits for the slot's last token");
            continue;
        }
        slot_sample(s, sl, logits);
    }
    return true;
}

static void *loop_main(void *arg)
{
    struct llmd_sched *s = arg;
    while (step(s)) {}
    /* stopping: running answers end normally ("stop"), queued ones with an error */
    for (int i = 0; i < s->n_slots; i++)
        if (s->slots[i].state != SLOT_IDLE) slot_finish(s, &s->slots[i], LLMD_FINISH_STOP, NULL);
    pthread_mutex_lock(&s->mu);
    while (s->q_len) {
        struct llmd_task *t = s->queue[s->q_head];
        s->q_head = (s->q_head + 1) % s->q_cap;
        s->q_len--;
        task_finish(t, LLMD_FINISH_ERROR, "server is shutting down", 0, 0, 0);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void sched_free(struct llmd_sched *s)
{
    if (!s) return;
    lm_ctx_free(s->ctx);
    for (int i = 0; s->slots && i < s->n_slots; i++) free(s->slots[i].cache);
    free(s->slots);
    free(s->queue);
    free(s->b_tok);
    free(s->b_pos);
    free(s->b_seq);
    free(s->b_logits);
    free(s->scratch);
    free(s->biased);
    free(s->eog);
    lm_buf_free(&s->piece);
    lm_buf_free(&s->delta);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

int llmd_sched_start(struct llmd_server *srv, const struct llmd_sched_params *p, struct llmd_sched **out,
                     struct lm_error *err)
{
    *out = NULL;
    struct llmd_sched *s = calloc(1, sizeof *s);
    if (!s) return lm_error_set(err, LM_ENOMEM, "out of memory");
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->srv = srv;
    s->tok = lm_model_tokenizer(srv->model);
    s->n_slots = p->n_slots > 0 ? p->n_slots : 1;
    s->n_batch = p->n_batch > 0 ? p->n_batch : 512;
    s->queue_max = p->queue_max >= 0 ? p->queue_max : 16;
    int rc = lm_ctx_init(srv->model,
                         &(struct lm_ctx_params){.n_ctx = p->n_ctx, .n_seq = s->n_slots, .n_batch = s->n_batch,
                                                 .n_threads = p->n_threads},
                         &s->ctx, err);
    if (rc < 0) {
        sched_free(s);
        return rc;
    }
    s->n_ctx = lm_ctx_n_ctx(s->ctx);
    s->n_vocab = lm_model_info(srv->model)->n_vocab;
    s->q_cap = s->queue_max + s->n_slots;
    size_t nb = (size_t)(s->n_batch + s->n_slots);
    s->slots = calloc((size_t)s->n_slots, sizeof *s->slots);
    s->queue = calloc((size_t)s->q_cap, sizeof *s->queue);
    s->b_tok = calloc(nb, sizeof *s->b_tok);
    s->b_pos = calloc(nb, sizeof *s->b_pos);
    s->b_seq = calloc(nb, sizeof *s->b_seq);
    s->b_logits = calloc(nb, sizeof *s->b_logits);
    s->scratch = calloc((size_t)s->n_vocab, sizeof *s->scratch);
    s->biased = calloc((size_t)s->n_vocab, sizeof *s->biased);
    if (!s->slots || !s->queue || !s->b_tok || !s->b_pos || !s->b_seq || !s->b_logits || !s->scratch ||
        !s->biased) {
        sched_free(s);
        return lm_error_set(err, LM_ENOMEM, "out of memory for %d slots", p->n_slots);
    }
    for (int i = 0; i < s->n_slots; i++) {
        s->slots[i].id = i;
        s->slots[i].cache = calloc((size_t)s->n_ctx, sizeof *s->slots[i].cache);
        if (!s->slots[i].cache) {
            sched_free(s);
            return lm_error_set(err, LM_ENOMEM, "out of memory for %d slots of %d tokens", s->n_slots, s->n_ctx);
        }
    }
    /* single-byte tokens, to close a JSON object byte by byte when the budget runs out */
    for (int i = 0; i < 256; i++) s->char_tok[i] = -1;
    for (int32_t id = 0; id < s->n_vocab; id++) {
        lm_buf_clear(&s->piece);
        if (lm_tokenizer_is_eog(s->tok, id)) {
            int32_t *ne = realloc(s->eog, (size_t)(s->n_eog + 1) * sizeof *ne);
            if (ne) {
                s->eog = ne;
                s->eog[s->n_eog++] = id;
            }
            continue;
        }
        if (lm_token_to_piece(s->tok, id, false, &s->piece) < 0) continue;
        if (s->piece.len == 1 && s->char_tok[(unsigned char)s->piece.data[0]] < 0)
            s->char_tok[(unsigned char)s->piece.data[0]] = id;
    }
    if (pthread_create(&s->th, NULL, loop_main, s) != 0) {
        sched_free(s);
        return lm_error_set(err, LM_ENOMEM, "cannot start the scheduler thread");
    }
    s->th_started = true;
    *out = s;
    return 0;
}

int llmd_sched_submit(struct llmd_sched *s, struct llmd_task *t)
{
    pthread_mutex_lock(&s->mu);
    int rc = 0;
    if (s->stopping) rc = LM_ECANCELED;
    else if (s->q_len + s->busy >= s->n_slots + s->queue_max || s->q_len >= s->q_cap) rc = LM_EBUSY;
    else {
        s->queue[(s->q_head + s->q_len) % s->q_cap] = t;
        s->q_len++;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void llmd_sched_stats(struct llmd_sched *s, struct llmd_sched_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    out->n_slots = s->n_slots;
    out->busy = s->busy;
    out->queued = s->q_len;
    out->n_ctx = s->n_ctx;
    pthread_mutex_unlock(&s->mu);
}

void llmd_sched_stop(struct llmd_sched *s)
{
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    bool join = !s->stopping && s->th_started;
    s->stopping = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (join) pthread_join(s->th, NULL);
}

void llmd_sched_free(struct llmd_sched *s)
{
    llmd_sched_stop(s);
    sched_free(s);
}
