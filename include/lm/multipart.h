/* multipart.h — a sans-I/O parser for multipart/form-data bodies (RFC 7578), for uploads.
 *
 * The whole body is in memory (the HTTP layer bounds it); parts are slices into it, valid as
 * long as the body is. Header values are unfolded only as far as forms need: the
 * Content-Disposition parameters name and filename, and Content-Type.
 *
 *     char boundary[71];
 *     lm_multipart_boundary(lm_http_header(req, "Content-Type"), boundary, &err);
 *     struct lm_multipart_part parts[16]; size_t n;
 *     lm_multipart_parse(req->body, req->body_len, boundary, parts, 16, &n, &err);
 */
#ifndef LM_MULTIPART_H
#define LM_MULTIPART_H

#include <stddef.h>

#include "lm/buf.h"
#include "lm/err.h"

struct lm_multipart_part {
    struct lm_str name;          /* form field name ("" when absent) */
    struct lm_str filename;      /* file name as sent (not sanitised), ptr NULL when absent */
    struct lm_str content_type;  /* part's Content-Type, ptr NULL when absent */
    struct lm_str data;          /* the part's bytes */
};

/* Extracts the boundary parameter of a multipart/form-data Content-Type into out (1..70
 * chars). LM_EINVAL when the type is not multipart/form-data or has no valid boundary. */
int lm_multipart_boundary(const char *content_type, char out[71], struct lm_error *err);

/* Splits body into at most max_parts parts (more: LM_ETOOBIG). LM_EFORMAT when the body is
 * not a complete multipart body for this boundary. */
int lm_multipart_parse(const char *body, size_t len, const char *boundary, struct lm_multipart_part *parts,
                       size_t max_parts, size_t *n_parts, struct lm_error *err);

#endif
