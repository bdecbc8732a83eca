/* arch_bert.c — the bert preset: an encoder in llama.cpp's BERT layout (all-MiniLM-L6-v2's,
 * any size). position_embd and token_types are F32 as the converter writes them; 1-D tensors
 * are F32. Use --vocab-from with a WordPiece vocabulary (the bert fixture) for a tokenizer
 * that adds [CLS]/[SEP]. */
#include <stdio.h>

#include "synth.h"

/* Metadata (with the tokenizer.ggml.token_type_count llama.cpp requires), then embeddings,
 * the blocks and their norms. */
static int write_bert(struct synth *s)
{
    const struct synth_opts *o = &s->o;
    struct lm_gguf_writer *w = s->w;
    const int64_t E = o->n_embd, F = o->n_ff;
    if (o->n_embd % o->n_head) return synth_fail(s, "n_embd %d not divisible by n_head %d", o->n_embd, o->n_head);
    int rc = 0;
    rc |= lm_gguf_set_u32(w, synth_key(s, "context_length"), (uint32_t)o->n_ctx);
    rc |= lm_gguf_set_u32(w, synth_key(s, "embedding_length"), (uint32_t)o->n_embd);
    rc |= lm_gguf_set_u32(w, synth_key(s, "feed_forward_length"), (uint32_t)o->n_ff);
    rc |= lm_gguf_set_u32(w, synth_key(s, "block_count"), (uint32_t)o->n_layer);
    rc |= lm_gguf_set_u32(w, synth_key(s, "attention.head_count"), (uint32_t)o->n_head);
    rc |= lm_gguf_set_f32(w, synth_key(s, "attention.layer_norm_epsilon"), 1e-12f);
    rc |= lm_gguf_set_bool(w, synth_key(s, "attention.causal"), false);
    rc |= lm_gguf_set_u32(w, synth_key(s, "pooling_type"), 1);   /* mean */
    rc |= lm_gguf_set_u32(w, "tokenizer.ggml.token_type_count", 2);
    if (rc) return synth_fail(s, "out of memory");
    if (synth_mat(s, "token_embd.weight", E, o->n_vocab) < 0 ||
        synth_mat_t(s, "token_types.weight", LM_TYPE_F32, E, 2, o->std) < 0 ||
        synth_mat_t(s, "position_embd.weight", LM_TYPE_F32, E, o->n_ctx, o->std) < 0 ||
        synth_vec(s, "token_embd_norm.weight", E, 1.0f, 0.1f) < 0 ||
        synth_vec(s, "token_embd_norm.bias", E, 0.0f, 0.1f) < 0)
        return -1;
    char name[128];
    for (int i = 0; i < o->n_layer; i++) {
#define T(fmt) (snprintf(name, sizeof name, fmt, i), name)
        if (synth_mat(s, T("blk.%d.attn_q.weight"), E, E) < 0 ||
            synth_vec(s, T("blk.%d.attn_q.bias"), E, 0.0f, 0.1f) < 0 ||
            synth_mat(s, T("blk.%d.attn_k.weight"), E, E) < 0 ||
            synth_vec(s, T("blk.%d.attn_k.bias"), E, 0.0f, 0.1f) < 0 ||
            synth_mat(s, T("blk.%d.attn_v.weight"), E, E) < 0 ||
            synth_vec(s, T("blk.%d.attn_v.bias"), E, 0.0f, 0.1f) < 0 ||
            synth_mat(s, T("blk.%d.attn_output.weight"), E, E) < 0 ||
            synth_vec(s, T("blk.%d.attn_output.bias"), E, 0.0f, 0.1f) < 0 ||
            synth_vec(s, T("blk.%d.attn_output_norm.weight"), E, 1.0f, 0.1f) < 0 ||
            synth_vec(s, T("blk.%d.attn_output_norm.bias"), E, 0.0f, 0.1f) < 0 ||
            synth_mat(s, T("blk.%d.ffn_up.weight"), E, F) < 0 ||
            synth_vec(s, T("blk.%d.ffn_up.bias"), F, 0.0f, 0.1f) < 0 ||
            synth_mat(s, T("blk.%d.ffn_down.weight"), F, E) < 0 ||
            synth_vec(s, T("blk.%d.ffn_down.bias"), E, 0.0f, 0.1f) < 0 ||
            synth_vec(s, T("blk.%d.layer_output_norm.weight"), E, 1.0f, 0.1f) < 0 ||
            synth_vec(s, T("blk.%d.layer_output_norm.bias"), E, 0.0f, 0.1f) < 0)
            return -1;
#undef T
    }
    return 0;
}

const struct synth_arch synth_arch_bert = {.name = "bert", .no_output = true, .write = write_bert};
