/* extract_pdf.c — text of PDF uploads through poppler-glib. Parsing hostile PDFs is risky, so
 * ragd calls this in a child process with CPU-time and memory limits, never in the server. */
#include <glib.h>
#include <poppler.h>
#include <stdlib.h>
#include <string.h>

#include "lm/buf.h"
#include "lm/rag.h"

/* Text of every page, pages separated by blank lines (see header). */
int lm_rag_pdf_text(const char *pdf, size_t len, char **out, struct lm_error *err)
{
    *out = NULL;
    GError *gerr = NULL;
    GBytes *bytes = g_bytes_new(pdf, len);
    PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, &gerr);
    g_bytes_unref(bytes);
    if (!doc) {
        int rc = lm_error_set(err, LM_EFORMAT, "pdf: %s", gerr && gerr->message ? gerr->message : "cannot open");
        if (gerr) g_error_free(gerr);
        return rc;
    }
    struct lm_buf b = {0};
    int pages = poppler_document_get_n_pages(doc);
    for (int i = 0; i < pages; i++) {
        PopplerPage *page = poppler_document_get_page(doc, i);
        if (!page) continue;
        char *t = poppler_page_get_text(page);
        if (t && *t) {
            if (b.len) lm_buf_append_str(&b, "\n\n");
            lm_buf_append_str(&b, t);
        }
        g_free(t);
        g_object_unref(page);
    }
    g_object_unref(doc);
    char *clean = lm_rag_clean_utf8(b.data ? b.data : "", b.len);
    lm_buf_free(&b);
    if (!clean) return lm_error_set(err, LM_ENOMEM, "pdf: out of memory");
    *out = clean;
    return 0;
}
