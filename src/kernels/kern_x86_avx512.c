/* kern_x86_avx512.c — AVX-512 (F/BW/VL/DQ, optionally VNNI) kernels (x86-64). */
#include <immintrin.h>

#include "kernels/kern_internal.h"

/* Installs the AVX-512 kernels into k (on top of the AVX2 ones). */
void lm__kern_fill_avx512(struct lm__kern *k, int vnni)
{
    k->name = vnni ? "avx512vnni" : "avx512";
}
