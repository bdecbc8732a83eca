/* extract_html.c — visible text of HTML uploads through libxml2's error-tolerant HTML parser,
 * and UTF-8 clean-up for any uploaded text. */
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lm/buf.h"
#include "lm/rag.h"

#define MAX_DEPTH 256  /* deeper nesting is flattened (libxml2 caps it too) */

/* True for elements whose content is never shown. */
static bool hidden(const char *name)
{
    static const char *const h[] = {"script", "style", "head", "noscript", "template", "svg", "iframe", "object", NULL};
    for (int i = 0; h[i]; i++)
        if (!strcasecmp(name, h[i])) return true;
    return false;
}

/* True for elements that break lines. */
static bool block(const char *name)
{
    static const char *const b[] = {"p", "div", "br", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4",
                                    "h5", "h6", "section", "article", "header", "footer", "pre", "blockquote",
                                    "dt", "dd", "hr", "main", "nav", "aside", "figure", "figcaption", "title", NULL};
    for (int i = 0; b[i]; i++)
        if (!strcasecmp(name, b[i])) return true;
    return false;
}

/* Appends text with runs of spaces/tabs collapsed; newlines kept, at most one blank line. */
static void append_text(struct lm_buf *b, const char *t)
{
    for (; *t; t++) {
        char c = *t;
        if (c == '\r') continue;
        if (c == '\t' || c == '\f' || c == '\v') c = ' ';
        char prev = b->len ? b->data[b->len - 1] : '\n';
        if (c == ' ' && (prev == ' ' || prev == '\n')) continue;
        if (c == '\n') {
            while (b->len && b->data[b->len - 1] == ' ') b->data[--b->len] = 0;
            if (b->len >= 2 && b->data[b->len - 1] == '\n' && b->data[b->len - 2] == '\n') continue;
            if (!b->len) continue;
        }
        lm_buf_append_char(b, c);
    }
}

/* Walks the tree depth-first, iteratively (hostile nesting cannot overflow the stack). */
static void walk(xmlNode *root, struct lm_buf *b)
{
    xmlNode *n = root;
    int depth = 0;
    while (n) {
        bool descend = false;
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            if (n->content) append_text(b, (const char *)n->content);
        } else if (n->type == XML_ELEMENT_NODE && n->name) {
            const char *name = (const char *)n->name;
            if (!hidden(name)) {
                if (block(name)) append_text(b, "\n");
                descend = n->children && depth < MAX_DEPTH;
            }
        }
        if (descend) {
            n = n->children;
            depth++;
            continue;
        }
        while (n && !n->next) {
            n = n->parent;
            depth--;
            if (!n || depth < 0) return;
            if (n->type == XML_ELEMENT_NODE && n->name && block((const char *)n->name)) append_text(b, "\n");
        }
        if (n) n = n->next;
    }
}

/* Visible text of an HTML document (see header). */
int lm_rag_html_text(const char *html, size_t len, char **out, struct lm_error *err)
{
    *out = NULL;
    if (len > (size_t)INT32_MAX) return lm_error_set(err, LM_ETOOBIG, "html: document too large");
    /* no network, no entity expansion beyond the built-ins, no error spam on stderr */
    htmlDocPtr doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
                                    HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
                                        HTML_PARSE_RECOVER | HTML_PARSE_COMPACT);
    if (!doc) return lm_error_set(err, LM_EFORMAT, "html: cannot parse the document");
    struct lm_buf b = {0};
    xmlNode *root = xmlDocGetRootElement(doc);
    if (root) walk(root, &b);
    xmlFreeDoc(doc);
    while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == ' ')) b.data[--b.len] = 0;
    *out = b.data ? lm_buf_take(&b) : strdup("");
    if (!*out) return lm_error_set(err, LM_ENOMEM, "html: out of memory");
    return 0;
}

/* Replaces invalid UTF-8 with U+FFFD and drops NULs (see header). */
char *lm_rag_clean_utf8(const char *s, size_t len)
{
    struct lm_buf b = {0};
    const unsigned char *p = (const unsigned char *)s, *e = p + len;
    if (lm_buf_reserve(&b, len + 1) < 0) return NULL;
    while (p < e) {
        unsigned c = *p;
        if (c == 0) {
            p++;
            continue;
        }
        if (c < 0x80) {
            lm_buf_append_char(&b, (char)c);
            p++;
            continue;
        }
        int n = (c >= 0xC2 && c <= 0xDF) ? 1 : (c >= 0xE0 && c <= 0xEF) ? 2 : (c >= 0xF0 && c <= 0xF4) ? 3 : -1;
        bool ok = n > 0 && e - p > n;
        unsigned cp = ok ? (c & (0x3Fu >> n)) : 0;
        for (int i = 1; ok && i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80) ok = false;
            cp = cp << 6 | (p[i] & 0x3F);
        }
        if (ok && ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
                   (cp >= 0xD800 && cp <= 0xDFFF)))
            ok = false;
        if (ok) {
            lm_buf_append(&b, p, (size_t)n + 1);
            p += n + 1;
        } else {
            lm_buf_append_str(&b, "\xEF\xBF\xBD");
            p++;
        }
    }
    if (b.len == 0) { /* reserved but nothing appended: not terminated yet */
        lm_buf_free(&b);
        return strdup("");
    }
    return lm_buf_take(&b);
}
