/* chat.c — chat template families: recognising tokenizer.chat_template text and rendering
 * messages exactly as llama.cpp's built-in (non-Jinja) templates do (llm_chat_detect_template /
 * llm_chat_apply_template). The recognition is by marker substrings, in llama.cpp's order. */
#include <ctype.h>
#include <string.h>

#include "lm/chat.h"

enum fam {
    F_UNKNOWN = 0,
    F_CHATML, F_LLAMA2, F_LLAMA2_SYS, F_LLAMA2_SYS_BOS, F_LLAMA2_SYS_STRIP,
    F_MISTRAL_V1, F_MISTRAL_V3, F_MISTRAL_V3_TEKKEN, F_MISTRAL_V7, F_MISTRAL_V7_TEKKEN,
    F_PHI3, F_PHI4, F_FALCON3, F_ZEPHYR, F_MONARCH, F_GEMMA, F_ORION, F_OPENCHAT,
    F_VICUNA, F_VICUNA_ORCA, F_DEEPSEEK, F_DEEPSEEK2, F_DEEPSEEK3, F_COMMAND_R, F_LLAMA3,
    F_CHATGLM3, F_CHATGLM4, F_GLMEDGE, F_MINICPM, F_EXAONE3, F_EXAONE4, F_RWKV_WORLD,
    F_GRANITE, F_GIGACHAT, F_MEGREZ, F_YANDEX, F_BAILING, F_LLAMA4, F_SMOLVLM, F_DOTS1,
    F_HUNYUAN_MOE, F_GRANITE4, F_GRANITE41, F_BAILING_THINK, F_BAILING2, F_EXAONE_MOE, F_GPT_OSS, F_SEED_OSS,
    F_KIMI_K2, F_GROK2, F_SOLAR_OPEN, F_PANGU, F_DEEPSEEK_OCR, F_HUNYUAN_DENSE, F_HUNYUAN_VL,
};

static const struct {
    const char *name;
    enum fam f;
} k_names[] = {
    {"chatml", F_CHATML}, {"llama2", F_LLAMA2}, {"llama2-sys", F_LLAMA2_SYS},
    {"llama2-sys-bos", F_LLAMA2_SYS_BOS}, {"llama2-sys-strip", F_LLAMA2_SYS_STRIP},
    {"mistral-v1", F_MISTRAL_V1}, {"mistral-v3", F_MISTRAL_V3}, {"mistral-v3-tekken", F_MISTRAL_V3_TEKKEN},
    {"mistral-v7", F_MISTRAL_V7}, {"mistral-v7-tekken", F_MISTRAL_V7_TEKKEN}, {"phi3", F_PHI3},
    {"phi4", F_PHI4}, {"falcon3", F_FALCON3}, {"zephyr", F_ZEPHYR}, {"monarch", F_MONARCH},
    {"gemma", F_GEMMA}, {"orion", F_ORION}, {"openchat", F_OPENCHAT}, {"vicuna", F_VICUNA},
    {"vicuna-orca", F_VICUNA_ORCA}, {"deepseek", F_DEEPSEEK}, {"deepseek2", F_DEEPSEEK2},
    {"deepseek3", F_DEEPSEEK3}, {"command-r", F_COMMAND_R}, {"llama3", F_LLAMA3},
    {"chatglm3", F_CHATGLM3}, {"chatglm4", F_CHATGLM4}, {"glmedge", F_GLMEDGE}, {"minicpm", F_MINICPM},
    {"exaone3", F_EXAONE3}, {"exaone4", F_EXAONE4}, {"rwkv-world", F_RWKV_WORLD}, {"granite", F_GRANITE},
    {"gigachat", F_GIGACHAT}, {"megrez", F_MEGREZ}, {"yandex", F_YANDEX}, {"bailing", F_BAILING},
    {"llama4", F_LLAMA4}, {"smolvlm", F_SMOLVLM}, {"dots1", F_DOTS1}, {"hunyuan-moe", F_HUNYUAN_MOE},
    {"granite-4.0", F_GRANITE4}, {"granite-4.1", F_GRANITE41}, {"bailing-think", F_BAILING_THINK},
    {"bailing2", F_BAILING2}, {"exaone-moe", F_EXAONE_MOE}, {"gpt-oss", F_GPT_OSS}, {"seed_oss", F_SEED_OSS},
    {"kimi-k2", F_KIMI_K2}, {"grok-2", F_GROK2}, {"solar-open", F_SOLAR_OPEN}, {"pangu-embedded", F_PANGU},
    {"deepseek-ocr", F_DEEPSEEK_OCR}, {"hunyuan-dense", F_HUNYUAN_DENSE}, {"hunyuan-vl", F_HUNYUAN_VL},
};

static enum fam fam_from_name(const char *name)
{
    if (!name) return F_UNKNOWN;
    for (size_t i = 0; i < sizeof k_names / sizeof *k_names; i++)
        if (!strcmp(k_names[i].name, name)) return k_names[i].f;
    return F_UNKNOWN;
}

static const char *fam_name(enum fam f)
{
    for (size_t i = 0; i < sizeof k_names / sizeof *k_names; i++)
        if (k_names[i].f == f) return k_names[i].name;
    return "chatml";
}

bool lm_chat_family_known(const char *name)
{
    return fam_from_name(name) != F_UNKNOWN;
}

/* llama.cpp's llm_chat_detect_template, marker by marker. */
static enum fam detect(const char *t)
{
    enum fam named = fam_from_name(t);
    if (named != F_UNKNOWN) return named;
#define HAS(s) (strstr(t, (s)) != NULL)
    if (HAS("<|im_start|>")) {
        return HAS("<|im_sep|>") ? F_PHI4 : HAS("<end_of_utterance>") ? F_SMOLVLM : F_CHATML;
    } else if (!strncmp(t, "mistral", 7) || HAS("[INST]")) {
        if (HAS("[SYSTEM_PROMPT]")) return F_MISTRAL_V7;
        if (HAS("' [INST] ' + system_message") || HAS("[AVAILABLE_TOOLS]")) {
            if (HAS(" [INST]")) return F_MISTRAL_V1;
            if (HAS("\"[INST]\"")) return F_MISTRAL_V3_TEKKEN;
            return F_MISTRAL_V3;
        }
        if (HAS("content.strip()")) return F_LLAMA2_SYS_STRIP;
        if (HAS("bos_token + '[INST]")) return F_LLAMA2_SYS_BOS;
        if (HAS("<<SYS>>")) return F_LLAMA2_SYS;
        return F_LLAMA2;
    } else if (HAS("<|assistant|>") && HAS("<|end|>")) {
        return F_PHI3;
    } else if (HAS("[gMASK]<sop>")) {
        return F_CHATGLM4;
    } else if (HAS("<|assistant|>") && HAS("<|user|>")) {
        if (HAS("<|tool_declare|>")) return F_EXAONE_MOE;
        return HAS("</s>") ? F_FALCON3 : F_GLMEDGE;
    } else if (HAS("<|{{ item['role'] }}|>") && HAS("<|begin_of_image|>")) {
        return F_GLMEDGE;
    } else if (HAS("<|user|>") && HAS("<|endoftext|>")) {
        return F_ZEPHYR;
    } else if (HAS("bos_token + message['role']")) {
        return F_MONARCH;
    } else if (HAS("<start_of_turn>")) {
        return F_GEMMA;
    } else if (HAS("'\\n\\nAssistant: ' + eos_token")) {
        return F_ORION;
    } else if (HAS("GPT4 Correct ")) {
        return F_OPENCHAT;
    } else if (HAS("USER: ") && HAS("ASSISTANT: ")) {
        return HAS("SYSTEM: ") ? F_VICUNA_ORCA : F_VICUNA;
    } else if (HAS("### Instruction:") && HAS("<|EOT|>")) {
        return F_DEEPSEEK;
    } else if (HAS("<|START_OF_TURN_TOKEN|>") && HAS("<|USER_TOKEN|>")) {
        return F_COMMAND_R;
    } else if (HAS("<|start_header_id|>") && HAS("<|end_header_id|>")) {
        return F_LLAMA3;
    } else if (HAS("[gMASK]sop")) {
        return F_CHATGLM3;
    } else if (HAS("<\xe7\x94\xa8\xe6\x88\xb7>")) {   /* <用户> */
        return F_MINICPM;
    } else if (HAS("'Assistant: ' + message['content'] + eos_token")) {
        return F_DEEPSEEK2;
    } else if (HAS("<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>") && HAS("<\xef\xbd\x9c" "User\xef\xbd\x9c>") &&
               HAS("<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>")) {
        return F_DEEPSEEK3;
    } else if (HAS("[|system|]") && HAS("[|assistant|]") && HAS("[|endofturn|]")) {
        return HAS("[|tool|]") ? F_EXAONE4 : F_EXAONE3;
    } else if (HAS("rwkv-world") || HAS("{{- 'User: ' + message['content']|trim + '\\n\\n' -}}")) {
        return F_RWKV_WORLD;
    } else if (HAS("<|start_of_role|>")) {
        return F_GRANITE;
    } else if (HAS("message['role'] + additional_special_tokens[0] + message['content'] + additional_special_tokens[1]")) {
        return F_GIGACHAT;
    } else if (HAS("<|role_start|>")) {
        return F_MEGREZ;
    } else if (HAS(" \xd0\x90\xd1\x81\xd1\x81\xd0\xb8\xd1\x81\xd1\x82\xd0\xb5\xd0\xbd\xd1\x82:")) {  /* " Ассистент:" */
        return F_YANDEX;
    } else if (HAS("<role>ASSISTANT</role>") && HAS("'HUMAN'")) {
        return F_BAILING;
    } else if (HAS("<|header_start|>") && HAS("<|header_end|>")) {
        return F_LLAMA4;
    } else if (HAS("<|endofuserprompt|>")) {
        return F_DOTS1;
    } else if (HAS("<|startoftext|>") && HAS("<|extra_4|>") && HAS("<|extra_0|>")) {
        return F_HUNYUAN_MOE;
    } else if (HAS("<|im_assistant|>assistant<|im_middle|>")) {
        return F_KIMI_K2;
    } else if (HAS("<|channel|>") && HAS("<|start|>")) {
        return F_GPT_OSS;
    } else if (HAS("<seed:bos>")) {
        return F_SEED_OSS;
    } else if (HAS("[unused9]\xe7\xb3\xbb\xe7\xbb\x9f\xef\xbc\x9a[unused10]")) {   /* [unused9]系统：[unused10] */
        return F_PANGU;
    } else if (HAS("<|begin|>") && HAS("<|end|>") && HAS("<|content|>")) {
        return F_SOLAR_OPEN;
    }
#undef HAS
    return F_UNKNOWN;
}

const char *lm_chat_detect(const char *template_text, bool *recognised)
{
    if (recognised) *recognised = true;
    if (!template_text || !*template_text) return "chatml";
    enum fam f = detect(template_text);
    if (f == F_UNKNOWN) {
        if (recognised) *recognised = false;
        return "chatml";
    }
    return fam_name(f);
}

/* ---- rendering --------------------------------------------------------------------------- */

struct out {
    struct lm_buf *b;
    int rc;
};

static void put(struct out *o, const char *s)
{
    if (o->rc == 0 && s && lm_buf_append_str(o->b, s) < 0) o->rc = LM_ENOMEM;
}

static void putn(struct out *o, const char *s, size_t n)
{
    if (o->rc == 0 && lm_buf_append(o->b, s, n) < 0) o->rc = LM_ENOMEM;
}

/* Appends s without leading/trailing ASCII whitespace (llama.cpp's trim). */
static void put_trim(struct out *o, const char *s)
{
    if (!s) return;
    size_t a = 0, e = strlen(s);
    while (a < e && isspace((unsigned char)s[a])) a++;
    while (e > a && isspace((unsigned char)s[e - 1])) e--;
    putn(o, s + a, e - a);
}

static bool is(const char *role, const char *name)
{
    return role && !strcmp(role, name);
}

static const char *content_of(const struct lm_chat_msg *m)
{
    return m->content ? m->content : "";
}

static const char *role_of(const struct lm_chat_msg *m)
{
    return m->role ? m->role : "";
}

/* Renders the llama2 / mistral families. */
static void render_inst(struct out *o, enum fam f, const struct lm_chat_msg *msgs, size_t n)
{
    if (f == F_MISTRAL_V7 || f == F_MISTRAL_V7_TEKKEN) {
        const char *sp = f == F_MISTRAL_V7 ? " " : "";
        for (size_t i = 0; i < n; i++) {
            const char *r = role_of(&msgs[i]), *c = content_of(&msgs[i]);
            if (is(r, "system")) { put(o, "[SYSTEM_PROMPT]"); put(o, sp); put(o, c); put(o, "[/SYSTEM_PROMPT]"); }
            else if (is(r, "user")) { put(o, "[INST]"); put(o, sp); put(o, c); put(o, "[/INST]"); }
            else { put(o, sp); put(o, c); put(o, "</s>"); }
        }
        return;
    }
    if (f == F_MISTRAL_V1 || f == F_MISTRAL_V3 || f == F_MISTRAL_V3_TEKKEN) {
        const char *lead = f == F_MISTRAL_V1 ? " " : "";
        const char *trail = f == F_MISTRAL_V3_TEKKEN ? "" : " ";
        bool inside = false;
        for (size_t i = 0; i < n; i++) {
            const char *r = role_of(&msgs[i]), *c = content_of(&msgs[i]);
            if (!inside) { put(o, lead); put(o, "[INST]"); put(o, trail); inside = true; }
            if (is(r, "system")) { put(o, c); put(o, "\n\n"); }
            else if (is(r, "user")) { put(o, c); put(o, lead); put(o, "[/INST]"); }
            else {
                put(o, trail);
                if (f == F_MISTRAL_V3) put_trim(o, c);
                else put(o, c);
                put(o, "</s>");
                inside = false;
            }
        }
        return;
    }
    bool sys = f != F_LLAMA2, bos_inside = f == F_LLAMA2_SYS_BOS, strip = f == F_LLAMA2_SYS_STRIP;
    bool inside = true;
    put(o, "[INST] ");
    for (size_t i = 0; i < n; i++) {
        const char *r = role_of(&msgs[i]), *c = content_of(&msgs[i]);
        if (!inside) { inside = true; put(o, bos_inside ? "<s>[INST] " : "[INST] "); }
#define PUTC() do { if (strip) put_trim(o, c); else put(o, c); } while (0)
        if (is(r, "system")) {
            if (sys) { put(o, "<<SYS>>\n"); PUTC(); put(o, "\n<</SYS>>\n\n"); }
            else { PUTC(); put(o, "\n"); }
        } else if (is(r, "user")) {
            PUTC(); put(o, " [/INST]");
        } else {
            PUTC(); put(o, "</s>");
            inside = false;
        }
#undef PUTC
    }
}

int lm_chat_apply(const char *family, const struct lm_chat_msg *msgs, size_t n, bool add_ass, const char *bos_text,
                  struct lm_buf *b, struct lm_error *err)
{
    enum fam f = fam_from_name(family);
    if (f == F_UNKNOWN) return lm_error_set(err, LM_EINVAL, "chat template: unknown family '%s'", family ? family : "(null)");
    struct out o = {b, 0};
    put(&o, bos_text);
    switch (f) {
    case F_CHATML:
        for (size_t i = 0; i < n; i++) {
            put(&o, "<|im_start|>"); put(&o, role_of(&msgs[i])); put(&o, "\n"); put(&o, content_of(&msgs[i])); put(&o, "<|im_end|>\n");
        }
        if (add_ass) put(&o, "<|im_start|>assistant\n");
        break;
    case F_LLAMA2: case F_LLAMA2_SYS: case F_LLAMA2_SYS_BOS: case F_LLAMA2_SYS_STRIP:
    case F_MISTRAL_V1: case F_MISTRAL_V3: case F_MISTRAL_V3_TEKKEN: case F_MISTRAL_V7: case F_MISTRAL_V7_TEKKEN:
        render_inst(&o, f, msgs, n);
        break;
    case F_PHI3:
        for (size_t i = 0; i < n; i++) {
            put(&o, "<|"); put(&o, role_of(&msgs[i])); put(&o, "|>\n"); put(&o, content_of(&msgs[i])); put(&o, "<|end|>\n");
        }
        if (add_ass) put(&o, "<|assistant|>\n");
        break;
    case F_PHI4:
        for (size_t i = 0; i < n; i++) {
            put(&o, "<|im_start|>"); put(&o, role_of(&msgs[i])); put(&o, "<|im_sep|>"); put(&o, content_of(&msgs[i])); put(&o, "<|im_end|>");
        }
        if (add_ass) put(&o, "<|im_start|>assistant<|im_sep|>");
        break;
    case F_FALCON3:
        for (size_t i = 0; i < n; i++) {
            put(&o, "<|"); put(&o, role_of(&msgs[i])); put(&o, "|>\n"); put(&o, content_of(&msgs[i])); put(&o, "\n");
        }
        if (add_ass) put(&o, "<|assistant|>\n");
        break;
    case F_ZEPHYR:
        for (size_t i = 0; i < n; i++) {
            put(&o, "<|"); put(&o, role_of(&msgs[i])); put(&o, "|>\n"); put(&o, content_of(&msgs[i])); put(&o, "<|endoftext|>\n");
        }
        if (add_ass) put(&o, "<|assistant|>\n");
        break;
    case F_MONARCH:
        for (size_t i = 0; i < n; i++) {
            if (i) put(&o, "<s>");
            put(&o, role_of(&msgs[i])); put(&o, "\n"); put(&o, content_of(&msgs[i])); put(&o, "</s>\n");
        }
        if (add_ass) put(&o, "<s>assistant\n");
        break;
    case F_GEMMA: {
        /* no system role: the (trimmed) system text opens the next user turn */
        struct lm_buf sys = {0};
        struct out so = {&sys, 0};
        for (size_t i = 0; i < n; i++) {
            const char *r = role_of(&msgs[i]);
            if (is(r, "system")) {
                put_trim(&so, content_of(&msgs[i]));
                continue;
            }
            bool model = is(r, "assistant");
            put(&o, "<start_of_turn>"); put(&o, model ? "model" : r); put(&o, "\n");
            if (sys.len && !model) {
                putn(&o, sys.data, sys.len);
                put(&o, "\n\n");
                lm_buf_clear(&sys);
            }
            put_trim(&o, content_of(&msgs[i])); put(&o, "<end_of_turn>\n");
        }
        if (add_ass) put(&o, "<start_of_turn>model\n");
        if (so.rc) o.rc = so.rc;
        lm_buf_free(&sys);
        break;
    }
    case F_ORION: {
        struct lm_buf sys = {0};
        struct out so = {&sys, 0};
        for (size_t i = 0; i < n; i++) {
            const char *r = role_of(&msgs[i]), *c = content_of(&msgs[i]);
            if (is(r, "system")) {
                put(&so, c);
            } else if (is(r, "user")) {
                put(&o, "Human: ");
                if (sys.len) { putn(&o, sys.data, sys.len); put(&o, "\n\n"); lm_buf_clear(&sys); }
                put(&o, c); put(&o, "\n\nAssistant: </s>");
            } else {
                put(&o, c); put(&o, "</s>");
            }
        }
        if (so.rc) o.rc = so.rc;
        lm_buf_free(&sys);
        break;
    }
    case F_OPENCHAT:
        for (size_t i = 0; i < n; i++) {
            const char *r = role_of(&msgs[i]), *c = content_of(&msgs[i]);
            if (is(r, "system")) { put(&o, c); put(&o, "<|end_of_turn|>"); continue; }
            put(&o, "GPT4 Correct ");
            if (*r) {
                char first = (char)toupper((unsigned char)r[0]);
                putn(&o, &first, 1);
                put(&o, r + 1);
            }
            put(&o, ": "); put(&o, c); put(&o, "<|end_of_turn|>");
        }
        if (add_ass) put(&o, "GPT4 Correct Assistant:");
        break;
    case F_VICUNA: case F_VICUNA_ORCA:
        for (size_t i = 0; i < n; i++) {
            const char *r = role_of(&msgs[i]), *c = content_of(&msgs[i]);
            if (is(r, "system")) {
                if (f == F_VICUNA_ORCA) { put(&o, "SYSTEM: "); put(&o, c); put(&o, "\n"); }
                else { put(&o, c); put(&o, "\n\n"); }
            } else if (is(r, "user")) { put(&o, "USER: "); put(&o, c); put(&o, "\n"); }
            else if (is(r, "assistant")) { put(&o, "ASSISTANT: "); put(&o, c); put(&o, "</s>\n"); }
        }
        if (add_ass) put(&o, "ASSISTANT:");
        break;
    case F_DEEPSEEK:
        for (size_t i = 0; i < n; i++) {
            const char *r = role_of(&msgs[i]), *c = content_of(&msgs[i]);
            if (is(r, "system")) put(&o, c);
            else if (is(r, "user")) { put(&o, "### Instruction:\n"); put(&o, c); put(&o, "\n"); }
            else if (is(r, "assistant")) { put(&o, "### Response:\n"); put(&o, c); put(&o, "\n<|EOT|>\n"); }
        }
        if (add_ass) put(&o, "### Response:\n");
        break;
    case F_COMMAND_R:
        for (size_t i = 0; i < n; i++) {
            const char *r = role_of(&msgs[i]), *tok = is(r, "system") ? "<|SYSTEM_TOKEN|>" : is(r, "user") ? "<|USER_TOKEN|>"
                                                     : is(r, "assistant") ? "<|CHATBOT_TOKEN|>" : NULL;
            if (!tok) continue;
            put(&o, "<|START_OF_TURN_TOKEN|>"); put(&o, tok); put_trim(&o, content_of(&msgs[i])); put(&o, "<|END_OF_TURN_TOKEN|>");
        }
        if (add_ass) put(&o, "<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>");
        break;
    case F_LLAMA3:
        for (size_t i = 0; i < n; i++) {
            put(&o, "<|start_header_id|>"); put(&o, role_of(&msgs[i])); put(&o, "<|end_header_id|>\n\n");
            put_trim(&o, content_of(&msgs[i])); put(&o, "<|eot_id|>");
        }
        if (add_ass) put(&o, "<|start_header_id|>assistant<|end_header_id|>\n\n");
        break;
    case F_LLAMA4:
        for (size_t i = 0; i < n; i++) {
            put(&o, "<|header_start|>"); put(&o, role_of(&msgs[i])); put(&o, "<|header_end|>\n\n");
            put_trim(&o, content_of(&msgs[i])); put(&o, "<|eot|>");
        }
        if (add_ass) put(&o, "<|header_start|>assistant<|header_end|>\n\n");
        break;
    case F_CHATGLM3: case F_CHATGLM4: case F_GLMEDGE:
        if (f == F_CHATGLM3) put(&o, "[gMASK]sop");
        if (f == F_CHATGLM4) put(&o, "[gMASK]<sop>");
        for (size_t i = 0; i < n; i++) {
            put(&o, "<|"); put(&o, role_of(&msgs[i])); put(&o, f == F_CHATGLM3 ? "|>\n " : "|>\n"); put(&o, content_of(&msgs[i]));
        }
        if (add_ass) put(&o, f == F_CHATGLM4 ? "<|assistant|>\n" : "<|assistant|>");
        break;
    case F_MINICPM:
        for (size_t i = 0; i < n; i++) {
            if (is(role_of(&msgs[i]), "user")) {
                put(&o, "<\xe7\x94\xa8\xe6\x88\xb7>"); put_trim(&o, content_of(&msgs[i])); put(&o, "<AI>");
            } else {
                put_trim(&o, content_of(&msgs[i]));
            }
        }
        break;
    case F_DEEPSEEK2: case F_DEEPSEEK3: {
        static const char eos[] = "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>";
        for (size_t i = 0; i < n; i++) {
            const char *r = role_of(&msgs[i]), *c = content_of(&msgs[i]);
            if (is(r, "system")) { put(&o, c); put(&o, "\n\n"); }
            else if (is(r, "user")) {
                if (f == F_DEEPSEEK2) { put(&o, "User: "); put(&o, c); put(&o, "\n\n"); }
                else { put(&o, "<\xef\xbd\x9c" "User\xef\xbd\x9c>"); put(&o, c); }
            } else if (is(r, "assistant")) {
                put(&o, f == F_DEEPSEEK2 ? "Assistant: " : "<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>"); put(&o, c); put(&o, eos);
            }
        }
        if (add_ass) put(&o, f == F_DEEPSEEK2 ? "Assistant:" : "<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>");
        break;
    }
    case F_EXAONE3: case F_EXAONE4:
        for (size_t i = 0; i < n; i++) {
            const char *r = role_of(&msgs[i]), *c = content_of(&msgs[i]);
            if (is(r, "system")) { put(&o, "[|system|]"); put_trim(&o, c); put(&o, "[|endofturn|]\n"); }
            else if (is(r, "user")) { put(&o, "[|user|]"); put_trim(&o, c); put(&o, "\n"); }
            else if (is(r, "assistant")) { put(&o, "[|assistant|]"); put_trim(&o, c); put(&o, "[|endofturn|]\n"); }
            else if (f == F_EXAONE4 && is(r, "tool")) { put(&o, "[|tool|]"); put_trim(&o, c); put(&o, "[|endofturn|]\n"); }
        }
        if (add_ass) put(&o, "[|assistant|]");
        break;
    case F_RWKV_WORLD:
        for (size_t i = 0; i < n; i++) {
            const char *r = role_of(&msgs[i]), *c = content_of(&msgs[i]);
            if (is(r, "system")) { put(&o, "System: "); put_trim(&o, c); put(&o, "\n\n"); }
            else if (is(r, "user")) {
                put(&o, "User: "); put_trim(&o, c); put(&o, "\n\n");
                if (i == n - 1) put(&o, "Assistant:");
            } else if (is(r, "assistant")) { put(&o, "Assistant: "); put_trim(&o, c); put(&o, "\n\n"); }
        }
        break;
    case F_GRANITE: case F_GRANITE4: case F_GRANITE41:
        for (size_t i = 0; i < n; i++) {
            const char *r = role_of(&msgs[i]);
            put(&o, "<|start_of_role|>"); put(&o, r); put(&o, "<|end_of_role|>");
            if (is(r, "assistant_tool_call")) put(&o, "<|tool_call|>");
            put(&o, content_of(&msgs[i])); put(&o, "<|end_of_text|>\n");
        }
        if (add_ass) put(&o, "<|start_of_role|>assistant<|end_of_role|>");
        break;
    case F_GIGACHAT: {
        bool has_sys = n > 0 && is(role_of(&msgs[0]), "system");
        put(&o, "<s>");
        if (has_sys) { put(&o, content_of(&msgs[0])); put(&o, "<|message_sep|>"); }
        for (size_t i = has_sys ? 1 : 0; i < n; i++) {
            const char *r = role_of(&msgs[i]), *c = content_of(&msgs[i]);
            if (is(r, "user")) {
                put(&o, "user<|role_sep|>"); put(&o, c);
                put(&o, "<|message_sep|>available functions<|role_sep|>[]<|message_sep|>");
            } else if (is(r, "assistant")) {
                put(&o, "assistant<|role_sep|>"); put(&o, c); put(&o, "<|message_sep|>");
            }
        }
        if (add_ass) put(&o, "assistant<|role_sep|>");
        break;
    }
    case F_MEGREZ:
        for (size_t i = 0; i < n; i++) {
            put(&o, "<|role_start|>"); put(&o, role_of(&msgs[i])); put(&o, "<|role_end|>"); put(&o, content_of(&msgs[i])); put(&o, "<|turn_end|>");
        }
        if (add_ass) put(&o, "<|role_start|>assistant<|role_end|>");
        break;
    case F_YANDEX: {
        static const char user[] = " \xd0\x9f\xd0\xbe\xd0\xbb\xd1\x8c\xd0\xb7\xd0\xbe\xd0\xb2\xd0\xb0\xd1\x82\xd0\xb5\xd0\xbb\xd1\x8c: ";
        static const char ass[] = " \xd0\x90\xd1\x81\xd1\x81\xd0\xb8\xd1\x81\xd1\x82\xd0\xb5\xd0\xbd\xd1\x82:";
        for (size_t i = 0; i < n; i++) {
            const char *r = role_of(&msgs[i]), *c = content_of(&msgs[i]);
            if (is(r, "user")) { put(&o, user); put(&o, c); put(&o, "\n\n"); }
            else if (is(r, "assistant")) { put(&o, ass); put(&o, " "); put(&o, c); put(&o, "\n\n"); }
        }
        if (add_ass) { put(&o, ass); put(&o, "[SEP]"); }
        break;
    }
    case F_BAILING: case F_BAILING_THINK: case F_BAILING2:
        /* bailing2 opens with a default system turn when the chat has none */
        if (f == F_BAILING2 && !(n > 0 && is(role_of(&msgs[0]), "system")))
            put(&o, "<role>SYSTEM</role>detailed thinking off<|role_end|>");
        for (size_t i = 0; i < n; i++) {
            const char *r = role_of(&msgs[i]);
            put(&o, "<role>");
            if (is(r, "user")) {
                put(&o, "HUMAN");
            } else {
                for (const char *p = r; *p; p++) {
                    char u = (char)toupper((unsigned char)*p);
                    putn(&o, &u, 1);
                }
            }
            put(&o, "</role>"); put(&o, content_of(&msgs[i]));
            if (f == F_BAILING2) put(&o, "<|role_end|>");
        }
        if (add_ass) put(&o, f == F_BAILING_THINK ? "<role>ASSISTANT</role><think>" : "<role>ASSISTANT</role>");
        break;
    case F_EXAONE_MOE:
        for (size_t i = 0; i < n; i++) {
            put(&o, "<|"); put(&o, role_of(&msgs[i])); put(&o, "|>\n"); put_trim(&o, content_of(&msgs[i])); put(&o, "<|endofturn|>\n");
        }
        if (add_ass) put(&o, "<|assistant|>\n");
        break;
    case F_GPT_OSS:
        for (size_t i = 0; i < n; i++) {
            const char *r = role_of(&msgs[i]);
            put(&o, "<|start|>"); put(&o, r); put(&o, "<|message|>"); put(&o, content_of(&msgs[i]));
            put(&o, is(r, "assistant") ? "<|return|>" : "<|end|>");
        }
        if (add_ass) put(&o, "<|start|>assistant");
        break;
    case F_SEED_OSS:
        for (size_t i = 0; i < n; i++) {
            const char *r = role_of(&msgs[i]);
            put(&o, "<seed:bos>"); put(&o, r); put(&o, "\n");
            if (is(r, "assistant")) put_trim(&o, content_of(&msgs[i]));
            else put(&o, content_of(&msgs[i]));
            put(&o, "<seed:eos>");
        }
        if (add_ass) put(&o, "<seed:bos>assistant\n");
        break;
    case F_KIMI_K2:
        for (size_t i = 0; i < n; i++) {
            const char *r = role_of(&msgs[i]);
            put(&o, "<|im_"); put(&o, r); put(&o, "|>"); put(&o, r); put(&o, "<|im_middle|>");
            put(&o, content_of(&msgs[i])); put(&o, "<|im_end|>");
        }
        if (add_ass) put(&o, "<|im_assistant|>assistant<|im_middle|>");
        break;
    case F_GROK2:
        for (size_t i = 0; i < n; i++) {
            const char *r = role_of(&msgs[i]), *c = content_of(&msgs[i]);
            if (is(r, "system")) { put(&o, "System: "); put_trim(&o, c); }
            else if (is(r, "user")) { put(&o, "Human: "); put_trim(&o, c); }
            else if (is(r, "assistant")) { put(&o, "Assistant: "); put(&o, c); }
            else continue;
            put(&o, "<|separator|>\n\n");
        }
        if (add_ass) put(&o, "Assistant:");
        break;
    case F_SOLAR_OPEN:
        for (size_t i = 0; i < n; i++) {
            put(&o, "<|begin|>"); put(&o, role_of(&msgs[i])); put(&o, "<|content|>"); put(&o, content_of(&msgs[i])); put(&o, "<|end|>");
        }
        if (add_ass) put(&o, "<|begin|>assistant");
        break;
    case F_PANGU: {
        /* 系统： 用户： 助手： (full-width colon) */
        static const char sys[] = "\xe7\xb3\xbb\xe7\xbb\x9f\xef\xbc\x9a", usr[] = "\xe7\x94\xa8\xe6\x88\xb7\xef\xbc\x9a",
                          ast[] = "\xe5\x8a\xa9\xe6\x89\x8b\xef\xbc\x9a";
        if (!(n > 0 && is(role_of(&msgs[0]), "system"))) { put(&o, "[unused9]"); put(&o, sys); put(&o, "[unused10]"); }
        for (size_t i = 0; i < n; i++) {
            const char *r = role_of(&msgs[i]);
            put(&o, "[unused9]"); put(&o, is(r, "system") ? sys : is(r, "user") ? usr : ast);
            put(&o, content_of(&msgs[i])); put(&o, "[unused10]");
        }
        if (add_ass) { put(&o, "[unused9]"); put(&o, ast); }
        break;
    }
    case F_SMOLVLM:
        put(&o, "<|im_start|>");
        for (size_t i = 0; i < n; i++) {
            const char *r = role_of(&msgs[i]), *c = content_of(&msgs[i]);
            if (is(r, "system")) { put(&o, c); put(&o, "\n\n"); }
            else if (is(r, "user")) { put(&o, "User: "); put(&o, c); put(&o, "<end_of_utterance>\n"); }
            else { put(&o, "Assistant: "); put(&o, c); put(&o, "<end_of_utterance>\n"); }
        }
        if (add_ass) put(&o, "Assistant:");
        break;
    case F_DOTS1:
        for (size_t i = 0; i < n; i++) {
            const char *r = role_of(&msgs[i]), *c = content_of(&msgs[i]);
            if (is(r, "system")) { put(&o, "<|system|>"); put(&o, c); put(&o, "<|endofsystem|>"); }
            else if (is(r, "user")) { put(&o, "<|userprompt|>"); put(&o, c); put(&o, "<|endofuserprompt|>"); }
            else { put(&o, "<|response|>"); put(&o, c); put(&o, "<|endofresponse|>"); }
        }
        if (add_ass) put(&o, "<|response|>");
        break;
    case F_HUNYUAN_MOE:
        for (size_t i = 0; i < n; i++) {
            const char *r = role_of(&msgs[i]), *c = content_of(&msgs[i]);
            if (is(r, "system")) { put(&o, "<|startoftext|>"); put(&o, c); put(&o, "<|extra_4|>"); }
            else if (is(r, "assistant")) { put(&o, c); put(&o, "<|eos|>"); }
            else { put(&o, "<|startoftext|>"); put(&o, c); put(&o, "<|extra_0|>"); }
        }
        break;
    case F_DEEPSEEK_OCR:
        for (size_t i = 0; i < n; i++) put(&o, content_of(&msgs[i]));
        break;
    case F_HUNYUAN_DENSE: case F_HUNYUAN_VL: {
        /* <｜hy_User｜> <｜hy_Assistant｜> <｜hy_place▁holder▁no▁2/3｜> <｜hy_begin▁of▁sentence｜>;
         * only a system message in first place is kept */
        static const char user[] = "<\xef\xbd\x9chy_User\xef\xbd\x9c>";
        static const char ast[] = "<\xef\xbd\x9chy_" "Assistant\xef\xbd\x9c>";
        static const char no2[] = "<\xef\xbd\x9chy_place\xe2\x96\x81holder\xe2\x96\x81no\xe2\x96\x81" "2\xef\xbd\x9c>";
        static const char no3[] = "<\xef\xbd\x9chy_place\xe2\x96\x81holder\xe2\x96\x81no\xe2\x96\x81" "3\xef\xbd\x9c>";
        static const char bos[] = "<\xef\xbd\x9chy_begin\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>";
        bool vl = f == F_HUNYUAN_VL;
        if (vl) put(&o, bos);
        for (size_t i = 0; i < n; i++) {
            const char *r = role_of(&msgs[i]), *c = content_of(&msgs[i]);
            if (is(r, "system")) {
                if (i == 0) { put(&o, c); put(&o, no3); }
            } else if (is(r, "user")) {
                if (vl) { put(&o, c); put(&o, user); }
                else { put(&o, user); put(&o, c); put(&o, ast); }
            } else if (is(r, "assistant")) {
                if (vl) { put(&o, c); put(&o, ast); }
                else { put(&o, ast); put(&o, c); put(&o, no2); }
            }
        }
        break;
    }
    case F_UNKNOWN:
        break;
    }
    if (o.rc < 0) return lm_error_set(err, o.rc, "chat template: out of memory");
    return 0;
}
