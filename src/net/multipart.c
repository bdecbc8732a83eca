/* multipart.c — multipart/form-data parsing (see lm/multipart.h). */
#include "lm/multipart.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Finds needle in hay (binary-safe), or NULL. */
static const char *find(const char *hay, size_t hay_len, const char *needle, size_t n)
{
    if (n == 0 || hay_len < n) return NULL;
    return memmem(hay, hay_len, needle, n);
}

/* Reads a parameter value (token or quoted string) at *p into out; advances *p. */
static struct lm_str param_value(const char **p, const char *end)
{
    const char *s = *p;
    struct lm_str v = {s, 0};
    if (s < end && *s == '"') {
        s++;
        v.ptr = s;
        /* backslash escapes are kept as sent: browsers percent-encode quotes in names */
        while (s < end && *s != '"') {
            if (*s == '\\' && s + 1 < end) s++;
            s++;
        }
        v.len = (size_t)(s - v.ptr);
        if (s < end) s++;
    } else {
        while (s < end && *s != ';' && *s != ' ' && *s != '\t') s++;
        v.len = (size_t)(s - v.ptr);
    }
    *p = s;
    return v;
}

/* Finds parameter name= in a header value (case-insensitive name); ptr NULL when absent. */
static struct lm_str header_param(const char *v, const char *end, const char *name)
{
    size_t nl = strlen(name);
    const char *p = v;
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        if (!semi) break;
        p = semi + 1;
        while (p < end && (*p == ' ' || *p == '\t')) p++;
        if ((size_t)(end - p) > nl && !strncasecmp(p, name, nl) && p[nl] == '=') {
            p += nl + 1;
            return param_value(&p, end);
        }
    }
    return (struct lm_str){NULL, 0};
}

/* Extracts the boundary of a multipart/form-data content type. */
int lm_multipart_boundary(const char *content_type, char out[71], struct lm_error *err)
{
    static const char mt[] = "multipart/form-data";
    if (!content_type || strncasecmp(content_type, mt, sizeof mt - 1) ||
        (content_type[sizeof mt - 1] && content_type[sizeof mt - 1] != ';' && content_type[sizeof mt - 1] != ' '))
        return lm_error_set(err, LM_EINVAL, "expected Content-Type multipart/form-data");
    const char *end = content_type + strlen(content_type);
    struct lm_str b = header_param(content_type, end, "boundary");
    if (!b.ptr || b.len < 1 || b.len > 70)
        return lm_error_set(err, LM_EINVAL, "multipart/form-data without a valid boundary");
    memcpy(out, b.ptr, b.len);
    out[b.len] = 0;
    return 0;
}

/* Parses the headers of one part (between its boundary line and the blank line). */
static int parse_part_headers(const char *h, const char *end, struct lm_multipart_part *part)
{
    while (h < end) {
        const char *eol = find(h, (size_t)(end - h), "\r\n", 2);
        const char *le = eol ? eol : end;
        const char *colon = memchr(h, ':', (size_t)(le - h));
        if (colon) {
            size_t nl = (size_t)(colon - h);
            const char *v = colon + 1;
            while (v < le && (*v == ' ' || *v == '\t')) v++;
            if (nl == 19 && !strncasecmp(h, "Content-Disposition", 19)) {
                struct lm_str name = header_param(v, le, "name");
                if (name.ptr) part->name = name;
                part->filename = header_param(v, le, "filename");
            } else if (nl == 12 && !strncasecmp(h, "Content-Type", 12)) {
                const char *t = le;
                while (t > v && isspace((unsigned char)t[-1])) t--;
                part->content_type = (struct lm_str){v, (size_t)(t - v)};
            }
        }
        h = eol ? eol + 2 : end;
    }
    return 0;
}

/* Splits the body into parts. */
int lm_multipart_parse(const char *body, size_t len, const char *boundary, struct lm_multipart_part *parts,
                       size_t max_parts, size_t *n_parts, struct lm_error *err)
{
    char delim[76]; /* "\r\n--" + boundary */
    size_t bl = strlen(boundary);
    if (bl < 1 || bl > 70) return lm_error_set(err, LM_EINVAL, "multipart: bad boundary");
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, boundary, bl);
    size_t dl = bl + 4;
    *n_parts = 0;

    /* the first boundary may open the body (no CRLF before it) or follow a preamble */
    const char *p;
    const char *end = body + len;
    if (len >= dl - 2 && !memcmp(body, delim + 2, dl - 2)) p = body + dl - 2;
    else {
        p = find(body, len, delim, dl);
        if (!p) return lm_error_set(err, LM_EFORMAT, "multipart: boundary not found in the body");
        p += dl;
    }
    for (;;) {
        /* after a boundary: "--" ends the body, else optional whitespace and CRLF */
        if (end - p >= 2 && p[0] == '-' && p[1] == '-') return 0;
        while (p < end && (*p == ' ' || *p == '\t')) p++;
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
            return lm_error_set(err, LM_EFORMAT, "multipart: malformed boundary line");
        p += 2;
        const char *hend = find(p, (size_t)(end - p), "\r\n\r\n", 4);
        const char *data;
        if (p + 2 <= end && p[0] == '\r' && p[1] == '\n') { /* a part without headers */
            hend = p;
            data = p + 2;
        } else {
            if (!hend) return lm_error_set(err, LM_EFORMAT, "multipart: part headers do not end");
            data = hend + 4;
        }
        const char *next = find(data, (size_t)(end - data), delim, dl);
        if (!next) return lm_error_set(err, LM_EFORMAT, "multipart: the body ends inside a part (no closing boundary)");
        if (*n_parts == max_parts) return lm_error_set(err, LM_ETOOBIG, "multipart: more than %zu parts", max_parts);
        struct lm_multipart_part *part = &parts[(*n_parts)++];
        memset(part, 0, sizeof *part);
        part->name = (struct lm_str){"", 0};
        parse_part_headers(p, hend, part);
        part->data = (struct lm_str){data, (size_t)(next - data)};
        p = next + dl;
    }
}
