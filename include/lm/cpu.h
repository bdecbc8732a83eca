/* cpu.h — CPU features, detected once (cpuid + xgetbv on x86-64, getauxval on ARM64). */
#ifndef LM_CPU_H
#define LM_CPU_H

#include <stdbool.h>

struct lm_cpu_features {
    bool avx2, fma, f16c, bmi2;           /* x86-64, with OS support for YMM state */
    bool avx512f, avx512bw, avx512vl, avx512dq, avx512vnni, avx512bf16;  /* with OS support for ZMM */
    bool neon, dotprod, fp16;             /* ARM64 */
};

/* Detected features (filled on first call; thread-safe; read-only afterwards).
 * The environment variable LM_CPU_DISABLE (comma list, e.g. "avx512,avx2") turns features off
 * for testing the fallbacks: "avx512" (all AVX-512), "avx512vnni", "avx512bf16", "avx2" (also
 * turns off AVX-512), "neon" (also dotprod), "dotprod", "fp16", "all". */
const struct lm_cpu_features *lm_cpu_features(void);
/* Number of online cores. */
int lm_cpu_count(void);
/* "avx512vnni", "avx512", "avx2", "neon+dotprod", "neon", "scalar": the best kernel set in use
 * (what the features allow; the kernels module picks the same). */
const char *lm_cpu_kernel_name(void);

#endif
