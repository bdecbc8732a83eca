/* tok_chat_goldens.c — writes llama.cpp's chat-template outputs as JSON (tests/parity/
 * tok_chat_golden.json) by calling llama_chat_apply_template in the peer's libllama (node-llama-cpp
 * 3.21.1's prebuilt llama.cpp), loaded with dlopen. Built and run by tok_chat_goldens.sh; not part
 * of the test build. Every built-in family (llama_chat_builtin_templates) is rendered for a set of
 * conversations with and without the generation prompt. */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct msg {
    const char *role;
    const char *content;
};

typedef int32_t (*apply_fn)(const char *tmpl, const struct msg *chat, size_t n, bool add_ass, char *buf, int32_t len);
typedef int32_t (*builtin_fn)(const char **out, size_t len);

static const struct msg conv0[] = {
    {"system", "You are a helpful assistant"}, {"user", "Hello"}, {"assistant", "Hi there"},
    {"user", "Who are you"}, {"assistant", "   I am an assistant   "}, {"user", "Another question"},
};
static const struct msg conv1[] = {{"user", "Hello"}};
static const struct msg conv2[] = {{"system", "  Be brief.\n"}, {"user", "\tWhat is 2+2? "}};
static const struct msg conv3[] = {
    {"user", "Hi"}, {"assistant", "Hello! How can I help?"}, {"user", "Tell me a joke."},
};
static const struct msg conv4[] = {
    {"system", "S1"}, {"system", "S2"}, {"user", "caf\xc3\xa9 \xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80"},
    {"assistant", ""}, {"user", "<tag> & \"quotes\""},
};
static const struct {
    const struct msg *m;
    size_t n;
} convs[] = {{conv0, 6}, {conv1, 1}, {conv2, 2}, {conv3, 3}, {conv4, 5}};

static void json_str(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') printf("\\%c", *p);
        else if (*p == '\n') printf("\\n");
        else if (*p == '\t') printf("\\t");
        else if (*p == '\r') printf("\\r");
        else if (*p < 0x20) printf("\\u%04x", *p);
        else putchar(*p);
    }
    putchar('"');
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PATH/libllama.so\n", argv[0]);
        return 2;
    }
    void *h = dlopen(argv[1], RTLD_NOW);
    if (!h) {
        fprintf(stderr, "%s\n", dlerror());
        return 1;
    }
    apply_fn apply = (apply_fn)dlsym(h, "llama_chat_apply_template");
    builtin_fn builtin = (builtin_fn)dlsym(h, "llama_chat_builtin_templates");
    if (!apply || !builtin) {
        fprintf(stderr, "missing symbols\n");
        return 1;
    }
    const char *names[256];
    int32_t nn = builtin(names, 256);
    if (nn < 0 || nn > 256) return 1;
    static char buf[1 << 16];
    printf("{\n \"peer\": \"node-llama-cpp 3.21.1 (llama_chat_apply_template)\",\n \"convs\": [");
    for (size_t c = 0; c < sizeof convs / sizeof *convs; c++) {
        printf("%s\n  [", c ? "," : "");
        for (size_t i = 0; i < convs[c].n; i++) {
            printf("%s{\"role\": ", i ? ", " : "");
            json_str(convs[c].m[i].role);
            printf(", \"content\": ");
            json_str(convs[c].m[i].content);
            printf("}");
        }
        printf("]");
    }
    printf("\n ],\n \"cases\": [");
    int first = 1;
    for (int32_t f = 0; f < nn; f++) {
        for (size_t c = 0; c < sizeof convs / sizeof *convs; c++) {
            for (int add = 0; add < 2; add++) {
                int32_t n = apply(names[f], convs[c].m, convs[c].n, add, buf, (int32_t)sizeof buf - 1);
                if (n < 0 || n >= (int32_t)sizeof buf) continue;
                buf[n] = 0;
                printf("%s\n  {\"family\": ", first ? "" : ",");
                first = 0;
                json_str(names[f]);
                printf(", \"conv\": %zu, \"add_ass\": %s, \"out\": ", c, add ? "true" : "false");
                json_str(buf);
                printf("}");
            }
        }
    }
    printf("\n ]\n}\n");
    return 0;
}
