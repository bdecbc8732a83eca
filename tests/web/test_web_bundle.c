/* Tests for the generated web bundle (src/programs/ragd/web_bundle.c): index.html and the assets
 * it references are present with the right types, gzip copies are deterministic (`gzip -9n`: no
 * name, zero mtime) and decompress to the raw bytes, ETags are strong and distinct. */
#include "programs/ragd/web_bundle.c"

#include <stdio.h>
#include <string.h>

#include "lm_test.h"

/* Decompresses an asset's gzip copy with the system gzip and compares it with the raw bytes. */
static void check_gzip_roundtrip(const struct ragd_web_asset *a)
{
    if (!a->gz) return;
    ASSERT(a->gz_len > 18);
    ASSERT_EQ(a->gz[0], 0x1f);
    ASSERT_EQ(a->gz[1], 0x8b);
    ASSERT_EQ(a->gz[2], 8);      /* deflate */
    ASSERT_EQ(a->gz[3] & 0x08, 0); /* no file name stored (gzip -n) */
    ASSERT_EQ(a->gz[4] | a->gz[5] | a->gz[6] | a->gz[7], 0); /* mtime 0 */
    ASSERT(a->gz_len < a->len);

    const char *path = lm_test_tmp("asset.gz");
    FILE *f = fopen(path, "wb");
    ASSERT(f);
    ASSERT_EQ(fwrite(a->gz, 1, a->gz_len, f), a->gz_len);
    ASSERT_EQ(fclose(f), 0);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "gzip -dc '%s'", path);
    FILE *p = popen(cmd, "r");
    ASSERT(p);
    size_t off = 0;
    unsigned char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, p)) > 0) {
        ASSERT(off + n <= a->len);
        ASSERT(memcmp(a->data + off, chunk, n) == 0);
        off += n;
    }
    ASSERT_EQ(pclose(p), 0);
    ASSERT_EQ(off, a->len);
}

static void check_etag(const struct ragd_web_asset *a)
{
    size_t n = strlen(a->etag);
    ASSERT(n >= 10);
    ASSERT(a->etag[0] == '"' && a->etag[n - 1] == '"');
    ASSERT(strncmp(a->etag, "W/", 2) != 0);
}

/* Finds each `src="/..."` / `href="/..."` in index.html and checks the asset and its type. */
static int check_references(const char *html, const char *attr, const char *ext, const char *type)
{
    int found = 0;
    char pat[32];
    snprintf(pat, sizeof pat, "%s=\"/", attr);
    for (const char *p = strstr(html, pat); p; p = strstr(p + 1, pat)) {
        const char *s = p + strlen(pat) - 1, *e = strchr(s, '"');
        ASSERT(e);
        char path[256];
        ASSERT((size_t)(e - s) < sizeof path);
        memcpy(path, s, (size_t)(e - s));
        path[e - s] = 0;
        size_t pl = strlen(path), el = strlen(ext);
        if (pl < el || strcmp(path + pl - el, ext)) continue;
        const struct ragd_web_asset *a = ragd_web_find(path);
        if (!a) LM_FAIL_("index.html references %s, which is not in the bundle", path);
        ASSERT_STR_EQ(a->content_type, type);
        ASSERT(a->len > 0);
        check_etag(a);
        check_gzip_roundtrip(a);
        found++;
    }
    return found;
}

static void test_index_and_assets(void)
{
    const struct ragd_web_asset *idx = ragd_web_find("/index.html");
    ASSERT(idx);
    ASSERT_STR_EQ(idx->content_type, "text/html; charset=utf-8");
    ASSERT_EQ(idx->data[idx->len], 0); /* generator leaves a NUL after the bytes */
    const char *html = (const char *)idx->data;
    ASSERT(strstr(html, "<div id=\"root\"></div>"));
    check_etag(idx);
    check_gzip_roundtrip(idx);
    ASSERT(check_references(html, "src", ".js", "text/javascript; charset=utf-8") >= 1);
    ASSERT(check_references(html, "href", ".css", "text/css; charset=utf-8") >= 1);
}

static void test_lookup_misses(void)
{
    ASSERT(ragd_web_find("/") == NULL);
    ASSERT(ragd_web_find("") == NULL);
    ASSERT(ragd_web_find(NULL) == NULL);
    ASSERT(ragd_web_find("/index.htm") == NULL);
    ASSERT(ragd_web_find("/api/v1/knowledge/documents") == NULL);
    ASSERT(ragd_web_find("index.html") == NULL);
}

static void test_sorted_unique(void)
{
    size_t n = sizeof assets / sizeof assets[0];
    for (size_t i = 0; i < n; i++) {
        ASSERT(assets[i].path[0] == '/');
        ASSERT(ragd_web_find(assets[i].path) == &assets[i]);
        if (i) ASSERT(strcmp(assets[i - 1].path, assets[i].path) < 0);
        for (size_t j = 0; j < i; j++) ASSERT(strcmp(assets[i].etag, assets[j].etag) != 0);
    }
}

int main(void)
{
    RUN_TEST(test_index_and_assets);
    RUN_TEST(test_lookup_misses);
    RUN_TEST(test_sorted_unique);
    return 0;
}
