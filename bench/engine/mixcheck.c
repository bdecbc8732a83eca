/* mixcheck.c — quantizes a GGUF file with llama.cpp's own quantizer (llama_model_quantize from
 * the peer's prebuilt library), so bench/engine/mixcheck.sh can compare the tensor types it
 * picks with gguf-synth's mixes. Built against the peer's llama.h by mixcheck.sh.
 * Usage: mixcheck IN.gguf OUT.gguf FTYPE   (FTYPE: llama_ftype number, 15 = Q4_K_M) */
#include <stdio.h>
#include <stdlib.h>

#include "llama.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: mixcheck IN.gguf OUT.gguf FTYPE\n");
        return 2;
    }
    llama_backend_init();
    struct llama_model_quantize_params p = llama_model_quantize_default_params();
    p.ftype = (enum llama_ftype)atoi(argv[3]);
    p.nthread = 1;
    uint32_t rc = llama_model_quantize(argv[1], argv[2], &p);
    llama_backend_free();
    if (rc) fprintf(stderr, "mixcheck: llama_model_quantize failed (%u)\n", rc);
    return rc ? 1 : 0;
}
