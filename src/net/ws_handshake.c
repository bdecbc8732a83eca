/* ws_handshake.c — the RFC 6455 opening handshake: request checks and Sec-WebSocket-Accept
 * (SHA-1 and base64 written out here: 60 lines, no crypto library needed for a non-secret hash). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lm/http.h"
#include "lm/ws.h"

struct sha1 {
    uint32_t h[5];
    uint64_t len;
    uint8_t block[64];
    size_t fill;
};

/* Rotates x left by n bits. */
static uint32_t rol(uint32_t x, int n)
{
    return (x << n) | (x >> (32 - n));
}

/* Processes one 64-byte block. */
static void sha1_block(struct sha1 *s, const uint8_t *p)
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) f = (b & c) | (~b & d), k = 0x5A827999;
        else if (i < 40) f = b ^ c ^ d, k = 0x6ED9EBA1;
        else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
        else f = b ^ c ^ d, k = 0xCA62C1D6;
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d, d = c, c = rol(b, 30), b = a, a = t;
    }
    s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d, s->h[4] += e;
}

/* Adds bytes to the hash. */
static void sha1_update(struct sha1 *s, const void *data, size_t len)
{
    const uint8_t *p = data;
    s->len += len;
    while (len--) {
        s->block[s->fill++] = *p++;
        if (s->fill == 64) sha1_block(s, s->block), s->fill = 0;
    }
}

/* Pads and writes the 20-byte digest. */
static void sha1_final(struct sha1 *s, uint8_t out[20])
{
    uint64_t bits = s->len * 8;
    uint8_t pad = 0x80;
    sha1_update(s, &pad, 1);
    pad = 0;
    while (s->fill != 56) sha1_update(s, &pad, 1);
    for (int i = 7; i >= 0; i--) {
        uint8_t b = (uint8_t)(bits >> (8 * i));
        sha1_update(s, &b, 1);
    }
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 4; j++) out[4 * i + j] = (uint8_t)(s->h[i] >> (24 - 8 * j));
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Computes Sec-WebSocket-Accept for a client key. */
void lm_ws_accept_key(const char *client_key, char out[29])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    struct sha1 s = {.h = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0}};
    uint8_t d[21] = {0};
    sha1_update(&s, client_key, strlen(client_key));
    sha1_update(&s, guid, sizeof guid - 1);
    sha1_final(&s, d);
    /* 20 bytes = 6 full groups of 3 + 2 bytes → 28 chars with one '=' */
    int o = 0;
    for (int i = 0; i < 21; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
        out[o++] = B64[v >> 18 & 63];
        out[o++] = B64[v >> 12 & 63];
        out[o++] = B64[v >> 6 & 63];
        out[o++] = B64[v & 63];
    }
    out[27] = '=';
    out[28] = 0;
}

/* True when the comma-separated header value list holds token (case-insensitive). */
static bool header_has_token(const char *v, const char *token)
{
    size_t tl = strlen(token);
    while (v && *v) {
        while (*v == ' ' || *v == '\t' || *v == ',') v++;
        const char *e = v;
        while (*e && *e != ',') e++;
        const char *t = e;
        while (t > v && (t[-1] == ' ' || t[-1] == '\t')) t--;
        if ((size_t)(t - v) == tl && !strncasecmp(v, token, tl)) return true;
        v = e;
    }
    return false;
}

/* True when key is 24 base64 characters ending in "==" (16 bytes). */
static bool key_ok(const char *key)
{
    if (!key || strlen(key) != 24 || strcmp(key + 22, "==")) return false;
    for (int i = 0; i < 22; i++)
        if (!strchr(B64, key[i]) || !key[i]) return false;
    return true;
}

/* Checks the upgrade request and adds the 101 headers. */
int lm_ws_handshake(struct lm_http_req *req, struct lm_error *err)
{
    if (strcmp(req->method, "GET"))
        return lm_error_set(err, LM_EINVAL, "websocket: the handshake must be a GET");
    if (!header_has_token(lm_http_header(req, "Upgrade"), "websocket"))
        return lm_error_set(err, LM_EINVAL, "websocket: expected header Upgrade: websocket");
    if (!header_has_token(lm_http_header(req, "Connection"), "upgrade"))
        return lm_error_set(err, LM_EINVAL, "websocket: expected header Connection: Upgrade");
    const char *ver = lm_http_header(req, "Sec-WebSocket-Version");
    if (!ver || strcmp(ver, "13"))
        return lm_error_set(err, LM_EINVAL, "websocket: unsupported Sec-WebSocket-Version (13 expected)");
    const char *key = lm_http_header(req, "Sec-WebSocket-Key");
    if (!key_ok(key)) return lm_error_set(err, LM_EINVAL, "websocket: bad Sec-WebSocket-Key");
    char accept[29];
    lm_ws_accept_key(key, accept);
    lm_http_add_header(req, "Upgrade", "websocket");
    lm_http_add_header(req, "Connection", "Upgrade");
    lm_http_add_header(req, "Sec-WebSocket-Accept", accept);
    return 0;
}
