/* arch_llama.c — llama and qwen2 presets: tensor names and metadata as llama.cpp's converter
 * writes them (qwen2 adds Q/K/V biases; its RoPE is NeoX, chosen by the loader from the
 * architecture name). */
#include <stdio.h>
#include <string.h>

#include "synth.h"

/* Both presets: hparams, then token_embd, the blocks, output_norm and output. */
static int write_llama_like(struct synth *s, bool qwen2)
{
    const struct synth_opts *o = &s->o;
    struct lm_gguf_writer *w = s->w;
    const int hd = o->head_dim ? o->head_dim : o->n_embd / o->n_head;
    if (!o->head_dim && o->n_embd % o->n_head) return synth_fail(s, "n_embd %d not divisible by n_head %d", o->n_embd, o->n_head);
    if (o->n_head % o->n_head_kv) return synth_fail(s, "n_head %d not divisible by n_head_kv %d", o->n_head, o->n_head_kv);
    int rc = 0;
    rc |= lm_gguf_set_u32(w, synth_key(s, "context_length"), (uint32_t)o->n_ctx);
    rc |= lm_gguf_set_u32(w, synth_key(s, "embedding_length"), (uint32_t)o->n_embd);
    rc |= lm_gguf_set_u32(w, synth_key(s, "block_count"), (uint32_t)o->n_layer);
    rc |= lm_gguf_set_u32(w, synth_key(s, "feed_forward_length"), (uint32_t)o->n_ff);
    rc |= lm_gguf_set_u32(w, synth_key(s, "attention.head_count"), (uint32_t)o->n_head);
    rc |= lm_gguf_set_u32(w, synth_key(s, "attention.head_count_kv"), (uint32_t)o->n_head_kv);
    if (o->head_dim) {
        rc |= lm_gguf_set_u32(w, synth_key(s, "attention.key_length"), (uint32_t)hd);
        rc |= lm_gguf_set_u32(w, synth_key(s, "attention.value_length"), (uint32_t)hd);
    }
    rc |= lm_gguf_set_f32(w, synth_key(s, "rope.freq_base"), o->rope_base > 0 ? o->rope_base : qwen2 ? 1000000.0f : 10000.0f);
    rc |= lm_gguf_set_f32(w, synth_key(s, "attention.layer_norm_rms_epsilon"), qwen2 ? 1e-6f : 1e-5f);
    if (!qwen2) {
        rc |= lm_gguf_set_u32(w, synth_key(s, "rope.dimension_count"), (uint32_t)hd);
        rc |= lm_gguf_set_u32(w, synth_key(s, "vocab_size"), (uint32_t)o->n_vocab);
    }
    if (rc) return synth_fail(s, "out of memory");
    const int64_t nq = (int64_t)o->n_head * hd, nkv = (int64_t)o->n_head_kv * hd;
    char name[128];
    if (synth_mat(s, "token_embd.weight", o->n_embd, o->n_vocab) < 0) return -1;
    for (int i = 0; i < o->n_layer; i++) {
#define T(fmt) (snprintf(name, sizeof name, fmt, i), name)
        if (synth_vec(s, T("blk.%d.attn_norm.weight"), o->n_embd, 1.0f, 0.1f) < 0 ||
            synth_mat(s, T("blk.%d.attn_q.weight"), o->n_embd, nq) < 0 ||
            synth_mat(s, T("blk.%d.attn_k.weight"), o->n_embd, nkv) < 0 ||
            synth_mat(s, T("blk.%d.attn_v.weight"), o->n_embd, nkv) < 0)
            return -1;
        if (qwen2 && (synth_vec(s, T("blk.%d.attn_q.bias"), nq, 0.0f, 0.1f) < 0 ||
                      synth_vec(s, T("blk.%d.attn_k.bias"), nkv, 0.0f, 0.1f) < 0 ||
                      synth_vec(s, T("blk.%d.attn_v.bias"), nkv, 0.0f, 0.1f) < 0))
            return -1;
        if (synth_mat(s, T("blk.%d.attn_output.weight"), nq, o->n_embd) < 0 ||
            synth_vec(s, T("blk.%d.ffn_norm.weight"), o->n_embd, 1.0f, 0.1f) < 0 ||
            synth_mat(s, T("blk.%d.ffn_gate.weight"), o->n_embd, o->n_ff) < 0 ||
            synth_mat(s, T("blk.%d.ffn_up.weight"), o->n_embd, o->n_ff) < 0 ||
            synth_mat(s, T("blk.%d.ffn_down.weight"), o->n_ff, o->n_embd) < 0)
            return -1;
#undef T
    }
    if (synth_vec(s, "output_norm.weight", o->n_embd, 1.0f, 0.1f) < 0) return -1;
    if (!o->tied && synth_mat(s, "output.weight", o->n_embd, o->n_vocab) < 0) return -1;
    return 0;
}

static int write_llama(struct synth *s) { return write_llama_like(s, false); }
static int write_qwen2(struct synth *s) { return write_llama_like(s, true); }

const struct synth_arch synth_arch_llama = {.name = "llama", .write = write_llama};
const struct synth_arch synth_arch_qwen2 = {.name = "qwen2", .write = write_qwen2};
