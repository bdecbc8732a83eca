/* synth.h — gguf-synth's architecture interface. An architecture preset is one file
 * arch_<name>.c defining `const struct synth_arch synth_arch_<name>` (listed in main.c's
 * table), whose write function sets the <arch>.* metadata and adds every tensor with the
 * helpers below. main.c handles options, the vocabulary and writing the file. */
#ifndef GGUF_SYNTH_H
#define GGUF_SYNTH_H

#include <stdbool.h>
#include <stdint.h>

#include "lm/gguf_write.h"
#include "lm/quant.h"

/* A llama.cpp k-quant file type: base type plus a few tensors with more bits. */
enum synth_mix {
    SYNTH_MIX_NONE,          /* every 2-D weight in opts.type */
    SYNTH_MIX_Q4_K_M,        /* LLAMA_FTYPE_MOSTLY_Q4_K_M: Q4_K, Q6_K where it matters */
    SYNTH_MIX_Q5_K_M,        /* LLAMA_FTYPE_MOSTLY_Q5_K_M: Q5_K, Q6_K where it matters */
};

struct synth_opts {
    const char *arch;
    int n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx, n_vocab;
    int head_dim;            /* 0 = n_embd / n_head */
    enum lm_type type;       /* 2-D weights (with a mix: the mix's base type) */
    enum synth_mix mix;      /* per-tensor types as llama.cpp's quantizer chooses them */
    uint64_t seed;
    float std;               /* weight standard deviation */
    float rope_base;         /* 0 = the preset's default */
    bool tied;               /* no output.weight */
};

struct synth {
    struct lm_gguf_writer *w;
    struct synth_opts o;
    bool tied_embd;          /* no output.weight will be written (token_embd doubles as it) */
    uint64_t rng;
    char err[256];
};

struct synth_arch {
    const char *name;
    /* Never writes output.weight (an encoder): a mix then treats token_embd as the output. */
    bool no_output;
    /* Adds metadata and tensors; returns 0 or -1 with s->err set. */
    int (*write)(struct synth *s);
};

/* Standard normal sample from the seeded generator. */
float synth_normal(struct synth *s);
/* Adds a 2-D weight [ncols, nrows] of the chosen type, or of the type the mix picks for this
 * tensor name (a row that is not a multiple of the type's block size is an error), values
 * ~ N(0, std). */
int synth_mat(struct synth *s, const char *name, int64_t ncols, int64_t nrows);
/* The type of 2-D weight `name` with rows of ncols: opts.type, or the mix's choice. */
enum lm_type synth_mat_type(const struct synth *s, const char *name, int64_t ncols);
/* Same, with an explicit type and standard deviation. */
int synth_mat_t(struct synth *s, const char *name, enum lm_type type, int64_t ncols, int64_t nrows, float std);
/* Adds an F32 vector of n values ~ mean + N(0, std). */
int synth_vec(struct synth *s, const char *name, int64_t n, float mean, float std);
/* Formats "<arch>.<suffix>" into a static buffer (for metadata keys). */
const char *synth_key(const struct synth *s, const char *suffix);
/* Sets s->err and returns -1. */
int synth_fail(struct synth *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
