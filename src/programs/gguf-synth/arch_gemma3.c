/* arch_gemma3.c — the gemma3 preset: Gemma 3's text decoder as llama.cpp's converter writes it
 * (Q/K norms, post-attention and post-FFN norms, GeGLU, key/value head sizes), any size.
 *
 * Choices that make a small random model a useful parity check: the sliding window is
 * n_ctx / 32 (at least 4, at most 1024) so local layers really slide in short tests; global
 * layers use linear RoPE scaling 8 as Gemma 3 4B does; the final norm is scaled up so greedy
 * picks are decisive. With the default pattern (every 6th layer global) use >= 12 layers for
 * two global layers. The vocabulary gets tokenizer.ggml.add_space_prefix = false, as Gemma's
 * converter writes it (use --vocab-from with a SentencePiece vocabulary). Without --tied an
 * output.weight is written; Gemma itself is tied. */
#include <stdio.h>

#include "synth.h"

/* Metadata, token_embd, the blocks, output_norm (and output.weight unless tied). */
static int write_gemma3(struct synth *s)
{
    const struct synth_opts *o = &s->o;
    struct lm_gguf_writer *w = s->w;
    const int hd = o->head_dim ? o->head_dim : o->n_embd / o->n_head;
    if (!o->head_dim && o->n_embd % o->n_head) return synth_fail(s, "n_embd %d not divisible by n_head %d", o->n_embd, o->n_head);
    if (o->n_head % o->n_head_kv) return synth_fail(s, "n_head %d not divisible by n_head_kv %d", o->n_head, o->n_head_kv);
    int swa = o->n_ctx / 32;
    if (swa < 4) swa = 4;
    if (swa > 1024) swa = 1024;
    int rc = 0;
    rc |= lm_gguf_set_u32(w, synth_key(s, "context_length"), (uint32_t)o->n_ctx);
    rc |= lm_gguf_set_u32(w, synth_key(s, "embedding_length"), (uint32_t)o->n_embd);
    rc |= lm_gguf_set_u32(w, synth_key(s, "block_count"), (uint32_t)o->n_layer);
    rc |= lm_gguf_set_u32(w, synth_key(s, "feed_forward_length"), (uint32_t)o->n_ff);
    rc |= lm_gguf_set_u32(w, synth_key(s, "attention.head_count"), (uint32_t)o->n_head);
    rc |= lm_gguf_set_u32(w, synth_key(s, "attention.head_count_kv"), (uint32_t)o->n_head_kv);
    rc |= lm_gguf_set_u32(w, synth_key(s, "attention.key_length"), (uint32_t)hd);
    rc |= lm_gguf_set_u32(w, synth_key(s, "attention.value_length"), (uint32_t)hd);
    rc |= lm_gguf_set_f32(w, synth_key(s, "attention.layer_norm_rms_epsilon"), 1e-6f);
    rc |= lm_gguf_set_u32(w, synth_key(s, "attention.sliding_window"), (uint32_t)swa);
    rc |= lm_gguf_set_f32(w, synth_key(s, "rope.freq_base"), o->rope_base > 0 ? o->rope_base : 1000000.0f);
    rc |= lm_gguf_set_str(w, synth_key(s, "rope.scaling.type"), "linear");
    rc |= lm_gguf_set_f32(w, synth_key(s, "rope.scaling.factor"), 8.0f);
    rc |= lm_gguf_set_bool(w, "tokenizer.ggml.add_space_prefix", false);
    if (rc) return synth_fail(s, "out of memory");
    const int64_t E = o->n_embd, nq = (int64_t)o->n_head * hd, nkv = (int64_t)o->n_head_kv * hd;
    char name[128];
    if (synth_mat(s, "token_embd.weight", E, o->n_vocab) < 0) return -1;
    for (int i = 0; i < o->n_layer; i++) {
#define T(fmt) (snprintf(name, sizeof name, fmt, i), name)
        if (synth_vec(s, T("blk.%d.attn_norm.weight"), E, 1.0f, 0.1f) < 0 ||
            synth_mat(s, T("blk.%d.attn_q.weight"), E, nq) < 0 ||
            synth_mat(s, T("blk.%d.attn_k.weight"), E, nkv) < 0 ||
            synth_mat(s, T("blk.%d.attn_v.weight"), E, nkv) < 0 ||
            synth_mat(s, T("blk.%d.attn_output.weight"), nq, E) < 0 ||
            synth_vec(s, T("blk.%d.attn_q_norm.weight"), hd, 1.0f, 0.1f) < 0 ||
            synth_vec(s, T("blk.%d.attn_k_norm.weight"), hd, 1.0f, 0.1f) < 0 ||
            synth_vec(s, T("blk.%d.post_attention_norm.weight"), E, 1.0f, 0.1f) < 0 ||
            synth_vec(s, T("blk.%d.ffn_norm.weight"), E, 1.0f, 0.1f) < 0 ||
            synth_mat(s, T("blk.%d.ffn_gate.weight"), E, o->n_ff) < 0 ||
            synth_mat(s, T("blk.%d.ffn_up.weight"), E, o->n_ff) < 0 ||
            synth_mat(s, T("blk.%d.ffn_down.weight"), o->n_ff, E) < 0 ||
            synth_vec(s, T("blk.%d.post_ffw_norm.weight"), E, 1.0f, 0.1f) < 0)
            return -1;
#undef T
    }
    /* logits = norm(x) . embedding: a large final norm spreads them so ties are rare */
    if (synth_vec(s, "output_norm.weight", E, 8.0f, 2.0f) < 0) return -1;
    if (!o->tied && synth_mat(s, "output.weight", E, o->n_vocab) < 0) return -1;
    return 0;
}

const struct synth_arch synth_arch_gemma3 = {.name = "gemma3", .write = write_gemma3};
