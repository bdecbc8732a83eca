/* tok_bpe.c — byte-level BPE (tokenizer.ggml.model = "gpt2") with llama.cpp's pre-tokenizers.
 *
 * Pre-tokenisation splits the text into words with the regex list chosen by tokenizer.ggml.pre.
 * Like llama.cpp, the GPT-2 and Llama-3 regexes run as hand-written splitters over code points,
 * and the other regexes run on a "collapsed" copy of the text where every code point above
 * U+007F is one byte standing for its category (letter 0xD2, number 0xD1, ...), with \p{..} in the
 * pattern rewritten to match those bytes; we compile that with PCRE2 in byte mode, which gives
 * the same matches as llama.cpp's std::regex. Each word is mapped through the GPT-2 byte table
 * and merged by rank (lowest first, ties leftmost).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tok_merge.h"
#include "engine/tokenizer_internal.h"

enum { SPLIT_REGEX = 0, SPLIT_GPT2 = 1, SPLIT_LLAMA3 = 2, SPLIT_WIDE = 3 };

static const char k_re_qwen2[] =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char k_re_gpt4o[] =
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char k_re_tekken[] =
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/* DeepSeek / BLOOM regexes with literal non-ASCII ranges (the bytes of llama.cpp's literals). */
static const char k_re_ds_latin[] =
    "\\s?[A-Za-z\xc2\xb5\xc3\x80-\xc3\x96\xc3\x98-\xc3\xb6\xc3\xb8-\xc6\xba\xc6\xbc-\xc6\xbf\xc7\x84-\xca\x93\xca\x95-\xca\xaf"
    "\xcd\xb0-\xcd\xb3\xcd\xb6\xcd\xb7\xcd\xbb-\xcd\xbd\xcd\xbf\xce\x86\xce\x88-\xce\x8a\xce\x8c\xce\x8e-\xce\xa1\xce\xa3-\xcf\xb5"
    "\xcf\xb7-\xd2\x81\xd2\x8a-\xd4\xaf\xd4\xb1-\xd5\x96\xe1\x82\xa0-\xe1\x83\x85\xe1\x8e\xa0-\xe1\x8f\xb5\xe1\x8f\xb8-\xe1\x8f\xbd"
    "\xe1\xb2\x90-\xe1\xb2\xba\xe1\xb2\xbd-\xe1\xb2\xbf\xe1\xb4\x80-\xe1\xb4\xab\xe1\xb5\xab-\xe1\xb5\xb7\xe1\xb5\xb9-\xe1\xb6\x9a"
    "\xe1\xb8\x80-\xe1\xbc\x95\xe1\xbc\x98-\xe1\xbc\x9d\xe1\xbc\xa0-\xe1\xbd\x85\xe1\xbd\x88-\xe1\xbd\x8d\xe1\xbd\x90-\xe1\xbd\x97"
    "\xe1\xbd\x99\xe1\xbd\x9b\xe1\xbd\x9d\xe1\xbd\x9f-\xe1\xbd\xbd\xe1\xbe\x80-\xe1\xbe\xb4\xe1\xbe\xb6-\xe1\xbe\xbc\xe1\xbe\xbe"
    "\xe1\xbf\x82-\xe1\xbf\x84\xe1\xbf\x86-\xe1\xbf\x8c\xe1\xbf\x90-\xe1\xbf\x93\xe1\xbf\x96-\xe1\xbf\x9b\xe1\xbf\xa0-\xe1\xbf\xac"
    "\xe1\xbf\xb2-\xe1\xbf\xb4\xe1\xbf\xb6-\xe1\xbf\xbc\xe2\x84\x82\xe2\x84\x87\xe2\x84\x8a-\xe2\x84\x93\xe2\x84\x95\xe2\x84\x99-"
    "\xe2\x84\x9d\xe2\x84\xa4\xe2\x84\xa6\xe2\x84\xa8\xe2\x84\xaa-\xe2\x84\xad\xe2\x84\xaf-\xe2\x84\xb4\xe2\x84\xb9\xe2\x84\xbc-"
    "\xe2\x84\xbf\xe2\x85\x85-\xe2\x85\x89\xe2\x85\x8e\xe2\x86\x83\xe2\x86\x84\xe2\xb0\x80-\xe2\xb1\xbb\xe2\xb1\xbe-\xe2\xb3\xa4"
    "\xe2\xb3\xab-\xe2\xb3\xae\xe2\xb3\xb2\xe2\xb3\xb3\xea\x99\x80-\xea\x99\xad\xea\x9a\x80-\xea\x9a\x9b\xea\x9c\xa2-\xea\x9d\xaf"
    "\xea\x9d\xb1-\xea\x9e\x87\xea\x9e\x8b-\xea\x9e\x8e\xea\xad\xb0-\xea\xae\xbf\xef\xac\x80-\xef\xac\x86\xef\xac\x93-\xef\xac\x97"
    "\xef\xbc\xa1-\xef\xbc\xba\xef\xbd\x81-\xef\xbd\x9a\xf0\x90\x90\x80-\xf0\x90\x91\x8f\xf0\x90\x92\xb0-\xf0\x90\x93\x93"
    "\xf0\x90\x93\x98-\xf0\x90\x93\xbb\xf0\x90\xb2\x80-\xf0\x90\xb2\xb2\xf0\x90\xb3\x80-\xf0\x90\xb3\xb2\xf0\x91\xa2\xa0-"
    "\xf0\x91\xa3\x9f\xf0\x9e\xa4\x80-\xf0\x9e\xa5\x83]+";
static const char k_re_ds_punct[] =
    "\\s?[!-/:-~\xef\xbc\x81-\xef\xbc\x8f\xef\xbc\x9a-\xef\xbd\x9e\xe2\x80\x98-\xe2\x80\x9f\xe3\x80\x80-\xe3\x80\x82]+";
static const char k_re_ds_cjk[] = "[\xe4\xb8\x80-\xe9\xbe\xa5\xe0\xa0\x80-\xe4\xb8\x80\xea\xb0\x80-\xed\x9f\xbf]+";
static const char k_re_ds3_cjk[] = "[\xe4\xb8\x80-\xe9\xbe\xa5\xe3\x81\x80-\xe3\x82\x9f\xe3\x82\xa0-\xe3\x83\xbf]+";
static const char k_re_ds3_main[] =
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|"
    "\\s*[\r\n]+|\\s+(?!\\S)|\\s+";
static const char k_re_bloom[] =
    " ?[^(\\s|.,!?\xe2\x80\xa6\xe3\x80\x82\xef\xbc\x8c\xe3\x80\x81\xe0\xa5\xa4\xdb\x94\xd8\x8c)]+";

/* Newer pre-tokenizers (the bytes of llama.cpp's literals). */
static const char k_re_qwen35[] =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s"
    "\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char k_re_tiny_aya[] =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?:'[sS]|'[tT]|'[rR]["
    "eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{L"
    "m}\\p{Lo}\\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+["
    "\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char k_re_youtu[] =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?:'[sS]|'[tT]|'[rR]["
    "eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{L"
    "m}\\p{Lo}\\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\"
    "n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char k_re_youtu_cjk[] =
    "[\xea\xb0\x80-\xed\x9e\xa3\xe3\x84\xb1-\xe3\x86\x8e]+|[\xef\xbc\x81\xe2\x80\xa6\xe2\x80\x9c\xe2\x80\x9d\xe2"
    "\x80\x98\xe2\x80\x99\xe2\x80\x94\xef\xbc\x9a\xef\xbc\x9b\xef\xbc\x8c\xe3\x80\x81-\xe3\x80\xbf\xef\xb8\xb0-\xef"
    "\xb9\x8f]+|[\xe3\x84\x85-\xe3\x84\xaf]+|[\xe4\xb8\x80-\xe9\xbe\xa5\xe3\x81\x80-\xe3\x82\x9f\xe3\x82\xa0-\xe3"
    "\x83\xbf]+";
static const char k_re_bailing[] =
    "'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
    "|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";
static const char k_re_seed_coder[] =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L"
    "}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char k_re_minicpm5[] =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+| ?[^\\s\\p{L}"
    "\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char k_re_jais2[] =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p"
    "{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s{512}(?!\\S)|\\s{256}(?!\\S)|\\s{128}(?!\\S)|\\s{64}(?!\\S)|\\s{32}(?!\\"
    "S)|\\s{16}(?!\\S)|\\s{8}(?!\\S)|\\s{4}(?!\\S)|\\s{1,2}(?!\\S)|\\s{1}";
static const char k_re_exaone_moe[] =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?(?:\\p{L}\\p{M}*(?: \\p{L}\\p{"
    "M}*)*)+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]?|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";
static const char k_re_granite_emb[] =
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))*((?=[\\p{L}\\p{M}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV]"
    "[eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))+((?=[\\p{L}\\p{M}])([^A-Z]))*("
    "?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r"
    "\\n]+|\\s+(?!\\S)|\\s+";
static const char k_re_aya_digits[] =
    "\\d{1,3}(?=(?:\\d{3})*\\b)";

/* The regex list of each pre-tokenizer (NULL-terminated); "@gpt2"/"@llama3" are the custom
 * splitters. */
static const char *const *pre_regexes(enum lm__pre pre)
{
    static const char *const def[] = {"[\\p{P}\\$\\+<=>\\^~\\|]+", "@gpt2", "\\p{N}+", "[0-9][0-9][0-9]", NULL};
    static const char *const llama3[] = {"@llama3", NULL};
    static const char *const gpt2[] = {"@gpt2", NULL};
    static const char *const qwen2[] = {k_re_qwen2, NULL};
    static const char *const smollm[] = {"\\p{N}", "@gpt2", NULL};
    static const char *const falcon[] = {"[\\p{P}\\$\\+<=>\\^~\\|`]+", "@gpt2", "[0-9][0-9][0-9]", NULL};
    static const char *const gpt4o[] = {k_re_gpt4o, NULL};
    static const char *const tekken[] = {k_re_tekken, NULL};
    static const char *const ds_llm[] = {"[\r\n]", k_re_ds_latin, k_re_ds_punct, "\\s+$", k_re_ds_cjk, "\\p{N}+", NULL};
    static const char *const ds_coder[] = {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", k_re_ds_cjk, "\\p{N}", NULL};
    static const char *const ds3[] = {"\\p{N}{1,3}", k_re_ds3_cjk, k_re_ds3_main, NULL};
    static const char *const bloom[] = {k_re_bloom, NULL};
    static const char *const viking[] = {k_re_bloom, "\\p{N}", NULL};
    static const char *const qwen35[] = {k_re_qwen35, NULL};
    static const char *const tiny_aya[] = {k_re_aya_digits, k_re_tiny_aya, NULL};
    static const char *const bailing[] = {k_re_bailing, NULL};
    static const char *const seed_coder[] = {k_re_seed_coder, NULL};
    static const char *const minicpm5[] = {"\\p{N}{1,3}", k_re_minicpm5, NULL};
    static const char *const jais2[] = {k_re_jais2, NULL};
    static const char *const exaone_moe[] = {k_re_exaone_moe, NULL};
    static const char *const chameleon[] = {"<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", "([\\t\\n]|    |  )",
                                            "\\p{N}", "[\\p{P}!-/:-@\\[-`{-~]", "@gpt2", NULL};
    static const char *const youtu[] = {k_re_youtu_cjk, k_re_youtu, NULL};
    static const char *const laguna[] = {"[^\\n]+|[\\n]+", k_re_qwen2, NULL};
    static const char *const granite_emb[] = {k_re_granite_emb, NULL};
    switch (pre) {
    case LM__PRE_QWEN35: return qwen35;
    case LM__PRE_TINY_AYA: return tiny_aya;
    case LM__PRE_BAILINGMOE: return bailing;
    case LM__PRE_SEED_CODER: return seed_coder;
    case LM__PRE_MINICPM5: return minicpm5;
    case LM__PRE_JAIS2: return jais2;
    case LM__PRE_EXAONE_MOE: return exaone_moe;
    case LM__PRE_CHAMELEON: return chameleon;
    case LM__PRE_YOUTU: return youtu;
    case LM__PRE_LAGUNA: return laguna;
    case LM__PRE_GRANITE_EMB: return granite_emb;
    case LM__PRE_DEEPSEEK_LLM: return ds_llm;
    case LM__PRE_DEEPSEEK_CODER: return ds_coder;
    case LM__PRE_DEEPSEEK3: return ds3;
    case LM__PRE_BLOOM: return bloom;
    case LM__PRE_VIKING: return viking;
    case LM__PRE_LLAMA3: case LM__PRE_CHATGLM4: return llama3;
    case LM__PRE_GPT2: return gpt2;
    case LM__PRE_QWEN2: return qwen2;
    case LM__PRE_SMOLLM: return smollm;
    case LM__PRE_FALCON: return falcon;
    case LM__PRE_GPT4O: return gpt4o;
    case LM__PRE_TEKKEN: return tekken;
    default: return def;
    }
}

/* Category byte of the collapsed text for a code point above U+007F. */
static unsigned char collapse_cpt(uint32_t cp, unsigned f)
{
    if (f & LM__CF_WHITESPACE) return 0x0B;
    if (f & LM__CF_NUMBER) return 0xD1;
    if (f & LM__CF_LETTER) return 0xD2;
    if (f & LM__CF_PUNCT) return 0xD3;
    if (f & LM__CF_ACCENT) return 0xD4;
    if (f & LM__CF_SYMBOL) return 0xD5;
    (void)cp;
    return 0xD0;
}

/* Rewrites \p{N} \p{L} \p{P} \p{M} \p{S} (and \p{Lu}...) into classes over the collapsed bytes,
 * the way llama.cpp does. Returns a malloc'd pattern. */
static char *collapse_regex(const char *re, size_t *out_len)
{
    size_t n = strlen(re);
    char *o = malloc(n * 8 + 16);
    if (!o) return NULL;
    size_t k = 0;
    bool inside = false;
    for (size_t i = 0; i < n; i++) {
        if (re[i] == '[' && (i == 0 || re[i - 1] != '\\')) {
            o[k++] = '[';
            inside = true;
            continue;
        }
        if (inside && re[i] == ']' && re[i - 1] != '\\') {
            o[k++] = ']';
            inside = false;
            continue;
        }
        if (re[i] == '\\' && i + 3 < n && re[i + 1] == 'p' && re[i + 2] == '{') {
            const char *close = strchr(re + i + 3, '}');
            if (close && (size_t)(close - re) <= i + 10) {
                size_t pl = (size_t)(close - re) - i + 1;
                const char *cls = NULL;
                unsigned char code = 0;
                if (pl == 5 && re[i + 3] == 'N') code = 0xD1, cls = "\x30-\x39";
                else if (pl == 5 && re[i + 3] == 'L') code = 0xD2, cls = "\x41-\x5A\x61-\x7A";
                else if (pl == 6 && re[i + 3] == 'L' && strchr("ultmo", re[i + 4])) code = 0xD2, cls = "\x41-\x5A\x61-\x7A";
                else if (pl == 5 && re[i + 3] == 'P')
                    code = 0xD3, cls = "\x21-\x23\x25-\x2A\x2C-\x2F\x3A-\x3B\x3F-\x40\\[-\\]_\\{\\}";
                else if (pl == 5 && re[i + 3] == 'M') code = 0xD4, cls = "";
                else if (pl == 5 && re[i + 3] == 'S') code = 0xD5, cls = "\\$\\+\x3C-\x3E^`\\|";
                if (cls) {
                    if (!inside) o[k++] = '[';
                    o[k++] = (char)code;
                    size_t cl = strlen(cls);
                    memcpy(o + k, cls, cl);
                    k += cl;
                    if (!inside) o[k++] = ']';
                    i += pl - 1;
                    continue;
                }
            }
        }
        o[k++] = re[i];
    }
    o[k] = 0;
    *out_len = k;
    return o;
}

int lm__bpe_init_pre(struct lm_tokenizer *t, struct lm_error *err)
{
    const char *const *list = pre_regexes(t->pre);
    t->n_regex = 0;
    for (int i = 0; list[i] && i < LM__TOK_MAX_REGEX; i++) {
        int k = t->n_regex++;
        t->regex[k] = NULL;
        if (!strcmp(list[i], "@gpt2")) {
            t->regex_custom[k] = SPLIT_GPT2;
            continue;
        }
        if (!strcmp(list[i], "@llama3")) {
            t->regex_custom[k] = SPLIT_LLAMA3;
            continue;
        }
        /* like llama.cpp: a regex using a Unicode category runs on the collapsed text, any other
         * on the code points (where \s only knows ASCII white space, as std::wregex) */
        bool collapsed = strstr(list[i], "\\p{") != NULL;
        t->regex_custom[k] = collapsed ? SPLIT_REGEX : SPLIT_WIDE;
        size_t pl = strlen(list[i]);
        char *pat = collapsed ? collapse_regex(list[i], &pl) : strdup(list[i]);
        if (!pat) return lm_error_set(err, LM_ENOMEM, "tokenizer: out of memory");
        int ec;
        PCRE2_SIZE eo;
        uint32_t opts = PCRE2_DOLLAR_ENDONLY | (collapsed ? 0 : PCRE2_UTF);
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, pl, opts, &ec, &eo, NULL);
        free(pat);
        if (!re) {
            PCRE2_UCHAR msg[128];
            pcre2_get_error_message(ec, msg, sizeof msg);
            return lm_error_set(err, LM_EINVAL, "tokenizer: pre-tokenizer regex %d: %s", i, (char *)msg);
        }
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
        t->regex[k] = re;
    }
    return 0;
}

void lm__bpe_free_pre(struct lm_tokenizer *t)
{
    for (int i = 0; i < t->n_regex; i++) pcre2_code_free(t->regex[i]);
    t->n_regex = 0;
}

/* ---- word splitting ---------------------------------------------------------------------- */

struct offs {
    size_t *v;
    size_t n, cap;
};

static int offs_push(struct offs *o, size_t len)
{
    if (len == 0) return 0;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        size_t *v = realloc(o->v, cap * sizeof *v);
        if (!v) return LM_ENOMEM;
        o->v = v;
        o->cap = cap;
    }
    o->v[o->n++] = len;
    return 0;
}

/* The code points and flags of the fragment; positions outside [ini, end) read as absent. */
struct cview {
    const uint32_t *cp;
    const unsigned *fl;
    size_t ini, end;
};
#define OUT_OF_RANGE 0xFFFFFFFFu
static uint32_t cv_cpt(const struct cview *c, size_t p) { return p >= c->ini && p < c->end ? c->cp[p] : OUT_OF_RANGE; }
static unsigned cv_fl(const struct cview *c, size_t p) { return p >= c->ini && p < c->end ? c->fl[p] : 0; }

/* Splitter state: adds the token ending at `end`. */
struct spl {
    struct offs *o;
    size_t prev_end;
    int rc;
};
static size_t spl_add(struct spl *s, size_t end)
{
    size_t len = end - s->prev_end;
    if (offs_push(s->o, len) < 0) s->rc = LM_ENOMEM;
    s->prev_end = end;
    return len;
}

#define IS_WS(f) ((f) & LM__CF_WHITESPACE)
#define IS_L(f) ((f) & LM__CF_LETTER)
#define IS_N(f) ((f) & LM__CF_NUMBER)

/* The last alternatives of both splitters, at a run of nws white-space code points from pos:
 * \s+(?!\S) (all but the last one when more text follows), else \s+, else one code point.
 * Returns the position after the token it adds. */
static size_t split_spaces(const struct cview *c, struct spl *s, size_t pos, size_t nws)
{
    if (nws > 1 && cv_cpt(c, pos + nws) != OUT_OF_RANGE) pos += nws - 1;
    else if (nws > 0) pos += nws;
    else pos++;
    spl_add(s, pos);
    return pos;
}

/* GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
static void split_gpt2(const struct cview *c, struct spl *s)
{
    for (size_t pos = c->ini; pos < c->end;) {
        uint32_t cpt = cv_cpt(c, pos);
        unsigned flags = cv_fl(c, pos);
        if (cpt == '\'' && pos + 1 < c->end) {
            uint32_t nx = cv_cpt(c, pos + 1);
            if (nx == 's' || nx == 't' || nx == 'm' || nx == 'd') {
                pos += spl_add(s, pos + 2);
                continue;
            }
            if (pos + 2 < c->end) {
                uint32_t nn = cv_cpt(c, pos + 2);
                if ((nx == 'r' && nn == 'e') || (nx == 'v' && nn == 'e') || (nx == 'l' && nn == 'l')) {
                    pos += spl_add(s, pos + 3);
                    continue;
                }
            }
        }
        unsigned f2 = cpt == ' ' ? cv_fl(c, pos + 1) : flags;
        if (IS_L(f2)) {
            pos += cpt == ' ';
            while (IS_L(f2)) f2 = cv_fl(c, ++pos);
            spl_add(s, pos);
            continue;
        }
        if (IS_N(f2)) {
            pos += cpt == ' ';
            while (IS_N(f2)) f2 = cv_fl(c, ++pos);
            spl_add(s, pos);
            continue;
        }
        if (!(IS_WS(f2) | IS_L(f2) | IS_N(f2)) && f2) {
            pos += cpt == ' ';
            while (!(IS_WS(f2) | IS_L(f2) | IS_N(f2)) && f2) f2 = cv_fl(c, ++pos);
            spl_add(s, pos);
            continue;
        }
        size_t nws = 0;
        while (IS_WS(cv_fl(c, pos + nws))) nws++;
        pos = split_spaces(c, s, pos, nws);
    }
}

/* Llama 3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
static void split_llama3(const struct cview *c, struct spl *s)
{
    for (size_t pos = c->ini; pos < c->end;) {
        uint32_t cpt = cv_cpt(c, pos);
        unsigned flags = cv_fl(c, pos);
        if (cpt == '\'' && pos + 1 < c->end) {
            uint32_t nx = lm__cpt_tolower(cv_cpt(c, pos + 1));
            if (nx == 's' || nx == 't' || nx == 'm' || nx == 'd') {
                pos += spl_add(s, pos + 2);
                continue;
            }
            if (pos + 2 < c->end) {
                uint32_t nn = lm__cpt_tolower(cv_cpt(c, pos + 2));
                if ((nx == 'r' && nn == 'e') || (nx == 'v' && nn == 'e') || (nx == 'l' && nn == 'l')) {
                    pos += spl_add(s, pos + 3);
                    continue;
                }
            }
        }
        if (!(cpt == '\r' || cpt == '\n' || IS_N(flags))) {
            if (IS_L(flags) || IS_L(cv_fl(c, pos + 1))) {
                pos++;
                while (IS_L(cv_fl(c, pos))) pos++;
                spl_add(s, pos);
                continue;
            }
        }
        if (IS_N(flags)) {
            size_t ini = pos;
            while (IS_N(cv_fl(c, pos))) {
                if (++pos - ini >= 3) {
                    spl_add(s, pos);
                    ini = pos;
                }
            }
            spl_add(s, pos);
            continue;
        }
        unsigned f2 = cpt == ' ' ? cv_fl(c, pos + 1) : flags;
        if (!(IS_WS(f2) | IS_L(f2) | IS_N(f2)) && flags) {
            pos += cpt == ' ';
            while (!(IS_WS(f2) | IS_L(f2) | IS_N(f2)) && f2) f2 = cv_fl(c, ++pos);
            uint32_t c2 = cv_cpt(c, pos);
            while (c2 == '\r' || c2 == '\n') c2 = cv_cpt(c, ++pos);
            spl_add(s, pos);
            continue;
        }
        size_t nws = 0, last_rn = 0;
        while (IS_WS(cv_fl(c, pos + nws))) {
            uint32_t c2 = cv_cpt(c, pos + nws);
            if (c2 == '\r' || c2 == '\n') last_rn = pos + nws + 1;
            nws++;
        }
        if (last_rn > 0) {
            pos = last_rn;
            spl_add(s, pos);
            continue;
        }
        pos = split_spaces(c, s, pos, nws);
    }
}

/* Code point index of byte offset b (a code point boundary) within cpos[lo..hi]. */
static size_t cpt_at(const size_t *cpos, size_t lo, size_t hi, size_t b)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cpos[mid] < b) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Regex split of each current segment: matches and the gaps between them become words. subj
 * is the collapsed text (one byte per code point, cpos NULL) or the UTF-8 text with cpos[i] the
 * byte offset of code point i. Offsets in and out count code points. */
static int split_regex(const pcre2_code *re, const unsigned char *subj, const size_t *cpos, const struct offs *in,
                       struct offs *out)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    if (!md) return LM_ENOMEM;
    size_t start = 0;
    int rc = 0;
    for (size_t i = 0; i < in->n && rc == 0; i++) {
        size_t seg = in->v[i], last = 0;
        size_t b0 = cpos ? cpos[start] : start, blen = cpos ? cpos[start + seg] - b0 : seg, bpos = 0;
        while (bpos <= blen) {
            /* the code point text is valid UTF-8 by construction (surrogates were replaced);
             * without NO_UTF_CHECK PCRE2 would re-validate the whole segment on every call */
            int m = pcre2_match(re, subj + b0, blen, bpos, cpos ? PCRE2_NO_UTF_CHECK : 0, md, NULL);
            if (m < 0) break;
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            size_t bs = ov[0], be = ov[1];
            if (be == bs) {  /* empty match: step over one code point */
                size_t c = cpos ? cpt_at(cpos, start, start + seg, b0 + bs) : start + bs;
                if (c >= start + seg) break;
                bpos = cpos ? cpos[c + 1] - b0 : bs + 1;
                continue;
            }
            size_t ms = cpos ? cpt_at(cpos, start, start + seg, b0 + bs) - start : bs;
            size_t me = cpos ? cpt_at(cpos, start, start + seg, b0 + be) - start : be;
            if (ms > last && (rc = offs_push(out, ms - last)) < 0) break;
            if ((rc = offs_push(out, me - ms)) < 0) break;
            last = me;
            bpos = be;
        }
        if (rc == 0 && last < seg) rc = offs_push(out, seg - last);
        start += seg;
    }
    pcre2_match_data_free(md);
    return rc;
}

/* ---- merging ----------------------------------------------------------------------------- */

/* Merge key: the pair's merge rank; lower ranks merge first. */
static bool bpe_key(const void *ctx, const char *w, const struct lm__sym *l, const struct lm__sym *r, double *key)
{
    int32_t rank = lm__bpe_rank(ctx, w + l->off, l->n, w + r->off, r->n);
    if (rank < 0) return false;
    *key = rank;
    return true;
}

/* BPE over one byte-encoded word. */
static int merge_word(const struct lm_tokenizer *t, const char *w, size_t len, struct lm__merge *k, struct lm__ids *out)
{
    if (len == 0) return 0;
    int rc;
    if (t->ignore_merges) {
        int32_t id = lm__tok_find(t, w, len);
        if (id >= 0) return lm__ids_push(out, id);
    }
    if ((rc = lm__merge_run(k, w, len, bpe_key, t)) < 0) return rc;
    for (int i = 0; i != -1; i = k->syms[i].next) {
        const struct lm__sym *s = &k->syms[i];
        if (s->n == 0) continue;
        int32_t id = lm__tok_find(t, w + s->off, s->n);
        if (id >= 0) {
            if ((rc = lm__ids_push(out, id)) < 0) return rc;
            continue;
        }
        /* llama.cpp then looks each single byte up as a token and drops the misses */
        for (size_t j = 0; j < s->n; j++) {
            int32_t b = lm__tok_find(t, w + s->off + j, 1);
            if (b >= 0 && (rc = lm__ids_push(out, b)) < 0) return rc;
        }
    }
    return 0;
}

int lm__bpe_tokenize(const struct lm_tokenizer *t, const char *text, size_t len, struct lm__ids *out)
{
    if (len == 0) return 0;
    size_t n;
    uint32_t *cp = lm__utf8_decode_all(text, len, &n);
    unsigned *fl = malloc(n * sizeof *fl);
    unsigned char *col = NULL, *wide = NULL;
    size_t *cpos = NULL;
    struct offs a = {0}, b = {0};
    struct lm__merge k = {0};
    char *word = NULL;
    int rc = 0;
    if (!cp || !fl) { rc = LM_ENOMEM; goto done; }
    bool need_col = false, need_wide = false;
    for (int i = 0; i < t->n_regex; i++) {
        need_col |= t->regex_custom[i] == SPLIT_REGEX;
        need_wide |= t->regex_custom[i] == SPLIT_WIDE;
    }
    if (need_col && !(col = malloc(n ? n : 1))) { rc = LM_ENOMEM; goto done; }
    if (need_wide && (!(wide = malloc(n * 4 + 1)) || !(cpos = malloc((n + 1) * sizeof *cpos)))) { rc = LM_ENOMEM; goto done; }
    size_t wb = 0;
    for (size_t i = 0; i < n; i++) {
        fl[i] = lm__cpt_flags(cp[i]);
        if (col) col[i] = cp[i] < 128 ? (unsigned char)cp[i] : collapse_cpt(cp[i], fl[i]);
        if (wide) {
            /* non-ASCII white space reads as \v (llama.cpp's std::wregex workaround); code
             * points that are not valid UTF-8 scalars read as U+FFFD */
            uint32_t c = cp[i] > 127 && (fl[i] & LM__CF_WHITESPACE) ? 0x0B : cp[i];
            if ((c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF) c = 0xFFFD;
            cpos[i] = wb;
            wb += lm__utf8_put(c, (char *)wide + wb);
        }
    }
    if (cpos) cpos[n] = wb;
    if ((rc = offs_push(&a, n)) < 0) goto done;
    for (int r = 0; r < t->n_regex; r++) {
        b.n = 0;
        if (t->regex_custom[r] == SPLIT_REGEX) {
            rc = split_regex(t->regex[r], col, NULL, &a, &b);
        } else if (t->regex_custom[r] == SPLIT_WIDE) {
            rc = split_regex(t->regex[r], wide, cpos, &a, &b);
        } else {
            struct spl s = {&b, 0, 0};
            size_t start = 0;
            for (size_t i = 0; i < a.n; i++) {
                struct cview c = {cp, fl, start, start + a.v[i]};
                s.prev_end = start;
                if (t->regex_custom[r] == SPLIT_GPT2) split_gpt2(&c, &s);
                else split_llama3(&c, &s);
                start += a.v[i];
            }
            rc = s.rc;
        }
        if (rc < 0) goto done;
        struct offs tmp = a;
        a = b;
        b = tmp;
    }
    /* each word: code points -> UTF-8 -> GPT-2 byte stand-ins (at most 2 bytes per byte) */
    word = malloc(len * 8 + 8);
    if (!word) { rc = LM_ENOMEM; goto done; }
    size_t start = 0;
    for (size_t i = 0; i < a.n; i++) {
        size_t wl = 0;
        for (size_t j = start; j < start + a.v[i]; j++) {
            char u[4];
            size_t ul = lm__utf8_put(cp[j], u);
            for (size_t q = 0; q < ul; q++) wl += lm__utf8_put(lm__bytelevel_cpt((unsigned char)u[q]), word + wl);
        }
        start += a.v[i];
        if ((rc = merge_word(t, word, wl, &k, out)) < 0) goto done;
    }
done:
    free(word);
    lm__merge_free(&k);
    free(a.v);
    free(b.v);
    free(col);
    free(wide);
    free(cpos);
    free(fl);
    free(cp);
    return rc;
}
