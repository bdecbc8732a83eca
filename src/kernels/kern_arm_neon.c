/* kern_arm_neon.c — NEON kernels (ARM64), dotprod variants when the CPU has SDOT. */
#include <arm_neon.h>

#include "kernels/kern_internal.h"

/* Installs the NEON kernels into k. */
void lm__kern_fill_neon(struct lm__kern *k, int dotprod)
{
    k->name = dotprod ? "neon+dotprod" : "neon";
}
