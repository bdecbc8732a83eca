/* web_bundle.c — placeholder until the first `make web` writes the real bundle. */
#include <string.h>

#include "web_bundle.h"

static const unsigned char index_html[] =
    "<!doctype html><meta charset=utf-8><title>ragd</title><p>The chat page is not built yet.";

static const struct ragd_web_asset assets[] = {
    {"/index.html", "text/html; charset=utf-8", index_html, sizeof index_html - 1, NULL, 0, "\"placeholder\""},
};

const struct ragd_web_asset *ragd_web_find(const char *path)
{
    for (size_t i = 0; i < sizeof assets / sizeof assets[0]; i++)
        if (!strcmp(assets[i].path, path)) return &assets[i];
    return NULL;
}
