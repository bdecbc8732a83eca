/* fuzz/html_text.c — the HTML text extraction of uploads (libxml2's HTML parser plus our tree
 * walk) and the UTF-8 clean-up, on arbitrary bytes: the output is always valid UTF-8. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lm/rag.h"
#include "lm/ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20)) return 0;
    char *text = NULL;
    if (lm_rag_html_text((const char *)data, size, &text, NULL) == 0) {
        char *clean = lm_rag_clean_utf8(text, strlen(text));
        if (!clean || !lm_utf8_valid(clean, strlen(clean))) __builtin_trap();
        free(clean);
    }
    free(text);
    char *c = lm_rag_clean_utf8((const char *)data, size);
    if (!c || !lm_utf8_valid(c, strlen(c))) __builtin_trap();
    free(c);
    return 0;
}
