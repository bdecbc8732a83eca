/* Chat templates: family recognition from template text and the exact prompt text, checked
 * against the expected outputs of llama.cpp's tests/test-chat-template.cpp (its built-in,
 * non-Jinja renderer) for the same six-message conversation. */
#include <cjson/cJSON.h>

#include "lm/chat.h"
#include "lm_test.h"

static const struct lm_chat_msg conv[] = {
    {"system", "You are a helpful assistant"},
    {"user", "Hello"},
    {"assistant", "Hi there"},
    {"user", "Who are you"},
    {"assistant", "   I am an assistant   "},
    {"user", "Another question"},
};
#define NCONV (sizeof conv / sizeof *conv)

struct tcase {
    const char *tmpl;      /* template text (real or with the family's markers) */
    const char *family;    /* expected detection */
    const char *expected;  /* llama.cpp's output with add_generation_prompt */
};

static const struct tcase cases[] = {
    {"{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
     "chatml",
     "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n<|im_start|>assistant\n"},
    {"{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% endif %}{% endfor %}",
     "llama2",
     "[INST] You are a helpful assistant\nHello [/INST]Hi there</s>[INST] Who are you [/INST]   I am an assistant   </s>[INST] Another question [/INST]"},
    {"{{- bos_token + '[INST] ' + messages[idx]['content'] + ' [/INST]' -}}{{- '[INST] <<SYS>>\\n' + messages[idx]['content'] + '\\n<</SYS>>\\n\\n' -}}",
     "llama2-sys-bos",
     "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s><s>[INST] Who are you [/INST]   I am an assistant   </s><s>[INST] Another question [/INST]"},
    {"{{ '[INST] ' + content.strip() + ' [/INST]' }}{{ '<<SYS>>\\n' + content.strip() + '\\n<</SYS>>\\n\\n' }}",
     "llama2-sys-strip",
     "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s>[INST] Who are you [/INST]I am an assistant</s>[INST] Another question [/INST]"},
    {"{% for message in messages %}{{bos_token + message['role'] + '\\n' + message['content'] + eos_token + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ bos_token + 'assistant\\n' }}{% endif %}",
     "monarch",
     "system\nYou are a helpful assistant</s>\n<s>user\nHello</s>\n<s>assistant\nHi there</s>\n<s>user\nWho are you</s>\n<s>assistant\n   I am an assistant   </s>\n<s>user\nAnother question</s>\n<s>assistant\n"},
    {"{% for message in messages %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}",
     "gemma",
     "<start_of_turn>user\nYou are a helpful assistant\n\nHello<end_of_turn>\n<start_of_turn>model\nHi there<end_of_turn>\n<start_of_turn>user\nWho are you<end_of_turn>\n<start_of_turn>model\nI am an assistant<end_of_turn>\n<start_of_turn>user\nAnother question<end_of_turn>\n<start_of_turn>model\n"},
    {"{% if message['role'] == 'user' %}{{ 'Human: ' + message['content'] + '\\n\\nAssistant: ' + eos_token }}{% endif %}",
     "orion",
     "Human: You are a helpful assistant\n\nHello\n\nAssistant: </s>Hi there</s>Human: Who are you\n\nAssistant: </s>   I am an assistant   </s>Human: Another question\n\nAssistant: </s>"},
    {"{{ bos_token }}{% for message in messages %}{{ 'GPT4 Correct ' + message['role'].title() + ': ' + message['content'] + '<|end_of_turn|>'}}{% endfor %}{% if add_generation_prompt %}{{ 'GPT4 Correct Assistant:' }}{% endif %}",
     "openchat",
     "You are a helpful assistant<|end_of_turn|>GPT4 Correct User: Hello<|end_of_turn|>GPT4 Correct Assistant: Hi there<|end_of_turn|>GPT4 Correct User: Who are you<|end_of_turn|>GPT4 Correct Assistant:    I am an assistant   <|end_of_turn|>GPT4 Correct User: Another question<|end_of_turn|>GPT4 Correct Assistant:"},
    {"{{'### Instruction:\\n' + message['content'] + '\\n'}}{{'### Response:\\n' + message['content'] + '\\n<|EOT|>\\n'}}",
     "deepseek",
     "You are a helpful assistant### Instruction:\nHello\n### Response:\nHi there\n<|EOT|>\n### Instruction:\nWho are you\n### Response:\n   I am an assistant   \n<|EOT|>\n### Instruction:\nAnother question\n### Response:\n"},
    {"{{- '' + message['content'] + '\\n\\n' -}}{{-'USER: ' + message['content'] + '\\n'-}}{{-'ASSISTANT: ' + message['content'] + '</s>\\n' -}}",
     "vicuna",
     "You are a helpful assistant\n\nUSER: Hello\nASSISTANT: Hi there</s>\nUSER: Who are you\nASSISTANT:    I am an assistant   </s>\nUSER: Another question\nASSISTANT:"},
    {"{{-'SYSTEM: ' + message['content'] + '\\n' -}}{{-'USER: ' + message['content'] + '\\n'-}}{{-'ASSISTANT: ' + message['content'] + '</s>\\n' -}}",
     "vicuna-orca",
     "SYSTEM: You are a helpful assistant\nUSER: Hello\nASSISTANT: Hi there</s>\nUSER: Who are you\nASSISTANT:    I am an assistant   </s>\nUSER: Another question\nASSISTANT:"},
    {"{{ '<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>' + system_message + '<|END_OF_TURN_TOKEN|>' }}{{ '<|START_OF_TURN_TOKEN|><|USER_TOKEN|>' + content.strip() + '<|END_OF_TURN_TOKEN|>' }}",
     "command-r",
     "<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>You are a helpful assistant<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>Hello<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>Hi there<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>Who are you<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>I am an assistant<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>Another question<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>"},
    {"{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}",
     "llama3",
     "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
    {"{{ bos_token }}{% for message in messages %}{{'<|' + message['role'] + '|>' + '\n' + message['content'] + '<|end|>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}",
     "phi3",
     "<|system|>\nYou are a helpful assistant<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n<|user|>\nWho are you<|end|>\n<|assistant|>\n   I am an assistant   <|end|>\n<|user|>\nAnother question<|end|>\n<|assistant|>\n"},
    {"{% for message in messages %}{% if loop.first %}[gMASK]sop<|{{ message['role'] }}|>\n {{ message['content'] }}{% else %}<|{{ message['role'] }}|>\n {{ message['content'] }}{% endif %}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}",
     "chatglm3",
     "[gMASK]sop<|system|>\n You are a helpful assistant<|user|>\n Hello<|assistant|>\n Hi there<|user|>\n Who are you<|assistant|>\n    I am an assistant   <|user|>\n Another question<|assistant|>"},
    {"[gMASK]<sop>{% for item in messages %}{% if item['content'] %}<|{{ item['role'] }}|>{{ item['metadata'] }}\n{{ item['content'] }}{% endif %}{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}",
     "chatglm4",
     "[gMASK]<sop><|system|>\nYou are a helpful assistant<|user|>\nHello<|assistant|>\nHi there<|user|>\nWho are you<|assistant|>\n   I am an assistant   <|user|>\nAnother question<|assistant|>\n"},
    {"{% for item in messages %}{% if item['role'] == 'system' %}<|system|>\n{{ item['content'] }}{% elif item['role'] == 'user' %}<|user|>\n{{ item['content'] }}{% elif item['role'] == 'assistant' %}<|assistant|>\n{{ item['content'] }}{% endif %}{% endfor %}<|assistant|>",
     "glmedge",
     "<|system|>\nYou are a helpful assistant<|user|>\nHello<|assistant|>\nHi there<|user|>\nWho are you<|assistant|>\n   I am an assistant   <|user|>\nAnother question<|assistant|>"},
    {"{% for message in messages %}{% if message['role'] == 'user' %}{{'<\xe7\x94\xa8\xe6\x88\xb7>' + message['content'].strip() + '<AI>'}}{% else %}{{message['content'].strip()}}{% endif %}{% endfor %}",
     "minicpm",
     "You are a helpful assistant<\xe7\x94\xa8\xe6\x88\xb7>Hello<AI>Hi there<\xe7\x94\xa8\xe6\x88\xb7>Who are you<AI>I am an assistant<\xe7\x94\xa8\xe6\x88\xb7>Another question<AI>"},
    {"{% if message['role'] == 'user' %}{{ 'User: ' + message['content'] + '\n\n' }}{% elif message['role'] == 'assistant' %}{{ 'Assistant: ' + message['content'] + eos_token }}{% endif %}",
     "deepseek2",
     "You are a helpful assistant\n\nUser: Hello\n\nAssistant: Hi there<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>User: Who are you\n\nAssistant:    I am an assistant   <\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>User: Another question\n\nAssistant:"},
    {"{{- '<|start_of_role|>user<|end_of_role|>' + message['content'] + '<|end_of_text|>\n' }}",
     "granite",
     "<|start_of_role|>system<|end_of_role|>You are a helpful assistant<|end_of_text|>\n<|start_of_role|>user<|end_of_role|>Hello<|end_of_text|>\n<|start_of_role|>assistant<|end_of_role|>Hi there<|end_of_text|>\n<|start_of_role|>user<|end_of_role|>Who are you<|end_of_text|>\n<|start_of_role|>assistant<|end_of_role|>   I am an assistant   <|end_of_text|>\n<|start_of_role|>user<|end_of_role|>Another question<|end_of_text|>\n<|start_of_role|>assistant<|end_of_role|>"},
    {"{{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}{{- ' [INST] ' + message['content'] + ' [/INST]' }}",
     "mistral-v1",
     " [INST] You are a helpful assistant\n\nHello [/INST] Hi there</s> [INST] Who are you [/INST]    I am an assistant   </s> [INST] Another question [/INST]"},
    {"{{- \"[AVAILABLE_TOOLS] [\" }}{{- \"[INST] \" + message[\"content\"] + \"[/INST]\" }}",
     "mistral-v3",
     "[INST] You are a helpful assistant\n\nHello[/INST] Hi there</s>[INST] Who are you[/INST] I am an assistant</s>[INST] Another question[/INST]"},
    {"{{- \"[AVAILABLE_TOOLS][\" }}{{- \"[INST]\" + message[\"content\"] + \"[/INST]\" }}",
     "mistral-v3-tekken",
     "[INST]You are a helpful assistant\n\nHello[/INST]Hi there</s>[INST]Who are you[/INST]   I am an assistant   </s>[INST]Another question[/INST]"},
    {"{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + '[/INST]' }}{% elif message['role'] == 'system' %}{{ '[SYSTEM_PROMPT] ' + message['content'] + '[/SYSTEM_PROMPT]' }}{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] + eos_token }}{% endif %}{% endfor %}",
     "mistral-v7",
     "[SYSTEM_PROMPT] You are a helpful assistant[/SYSTEM_PROMPT][INST] Hello[/INST] Hi there</s>[INST] Who are you[/INST]    I am an assistant   </s>[INST] Another question[/INST]"},
    {"{{ message['role'] + additional_special_tokens[0] + message['content'] + additional_special_tokens[1] -}}",
     "gigachat",
     "<s>You are a helpful assistant<|message_sep|>user<|role_sep|>Hello<|message_sep|>available functions<|role_sep|>[]<|message_sep|>assistant<|role_sep|>Hi there<|message_sep|>user<|role_sep|>Who are you<|message_sep|>available functions<|role_sep|>[]<|message_sep|>assistant<|role_sep|>   I am an assistant   <|message_sep|>user<|role_sep|>Another question<|message_sep|>available functions<|role_sep|>[]<|message_sep|>assistant<|role_sep|>"},
    {"{{ '<|role_start|>' + message['role'] + '<|role_end|>' + message['content'] + '<|turn_end|>' }}",
     "megrez",
     "<|role_start|>system<|role_end|>You are a helpful assistant<|turn_end|><|role_start|>user<|role_end|>Hello<|turn_end|><|role_start|>assistant<|role_end|>Hi there<|turn_end|><|role_start|>user<|role_end|>Who are you<|turn_end|><|role_start|>assistant<|role_end|>   I am an assistant   <|turn_end|><|role_start|>user<|role_end|>Another question<|turn_end|><|role_start|>assistant<|role_end|>"},
    {"{% for message in messages %}{% if (message['role'] == 'system') %}{{'<|im_start|>system<|im_sep|>' + message['content'] + '<|im_end|>'}}{% endif %}{% endfor %}",
     "phi4",
     "<|im_start|>system<|im_sep|>You are a helpful assistant<|im_end|><|im_start|>user<|im_sep|>Hello<|im_end|><|im_start|>assistant<|im_sep|>Hi there<|im_end|><|im_start|>user<|im_sep|>Who are you<|im_end|><|im_start|>assistant<|im_sep|>   I am an assistant   <|im_end|><|im_start|>user<|im_sep|>Another question<|im_end|><|im_start|>assistant<|im_sep|>"},
    {"{% if role == 'user' %}{% set role = 'HUMAN' %}{% endif %}{{ '<role>' + role + '</role>' + message['content'] }}{{ '<role>ASSISTANT</role>' }}",
     "bailing",
     "<role>SYSTEM</role>You are a helpful assistant<role>HUMAN</role>Hello<role>ASSISTANT</role>Hi there<role>HUMAN</role>Who are you<role>ASSISTANT</role>   I am an assistant   <role>HUMAN</role>Another question<role>ASSISTANT</role>"},
};

static void test_families(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        bool rec = false;
        const char *fam = lm_chat_detect(cases[i].tmpl, &rec);
        if (!rec || strcmp(fam, cases[i].family) != 0)
            LM_FAIL_("case %zu: detected %s (recognised %d), want %s", i, fam, rec, cases[i].family);
        struct lm_buf out = {0};
        struct lm_error err = {0};
        ASSERT_OK(lm_chat_apply(fam, conv, NCONV, true, NULL, &out, &err));
        if (strcmp(out.data ? out.data : "", cases[i].expected) != 0)
            LM_FAIL_("family %s:\n got:  \"%s\"\n want: \"%s\"", fam, out.data, cases[i].expected);
        /* the family name itself selects the family too (--chat-template NAME) */
        ASSERT_STR_EQ(lm_chat_detect(cases[i].family, &rec), cases[i].family);
        ASSERT(lm_chat_family_known(cases[i].family));
        lm_buf_free(&out);
    }
}

/* Gemma folds the system prompt into the first user turn only; chatml without the generation
 * prompt; llama3 on a fixture-like template (trimmed contents). */
static void test_details(void)
{
    struct lm_buf out = {0};
    struct lm_error err = {0};
    const struct lm_chat_msg g[] = {{"system", "  Be brief.  "}, {"user", " Hi "}, {"assistant", "Hello!"}, {"user", "Bye"}};
    ASSERT_OK(lm_chat_apply("gemma", g, 4, false, NULL, &out, &err));
    ASSERT_STR_EQ(out.data, "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n"
                            "<start_of_turn>user\nBye<end_of_turn>\n");
    lm_buf_clear(&out);
    ASSERT_OK(lm_chat_apply("chatml", g + 1, 1, false, NULL, &out, &err));
    ASSERT_STR_EQ(out.data, "<|im_start|>user\n Hi <|im_end|>\n");
    lm_buf_clear(&out);
    ASSERT_OK(lm_chat_apply("llama3", g + 1, 1, true, "<|begin_of_text|>", &out, &err));
    ASSERT_STR_EQ(out.data, "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                            "<|start_header_id|>assistant<|end_header_id|>\n\n");
    lm_buf_clear(&out);
    /* no messages at all */
    ASSERT_OK(lm_chat_apply("chatml", NULL, 0, true, NULL, &out, &err));
    ASSERT_STR_EQ(out.data, "<|im_start|>assistant\n");
    lm_buf_free(&out);
}

/* Marker-only templates: the family llama.cpp (the peer's llama_chat_apply_template) picked for
 * each, NULL where it recognised none. */
static void test_markers(void)
{
    static const struct {
        const char *tmpl, *family;
    } m[] = {
        {"<|channel|><|start|>", "gpt-oss"},
        {"<|channel|>", NULL},
        {"<seed:bos>assistant", "seed_oss"},
        {"[unused9]\xe7\xb3\xbb\xe7\xbb\x9f\xef\xbc\x9a[unused10]", "pangu-embedded"},
        {"<|begin|><|end|><|content|>", "solar-open"},
        {"<|begin|><|end|><|content|><|assistant|>", "phi3"},
        {"<|im_assistant|>assistant<|im_middle|>", "kimi-k2"},
        {"<|tool_declare|><|assistant|><|user|></s>", "exaone-moe"},
        {"<|startoftext|><|extra_4|><|extra_0|>", "hunyuan-moe"},
        {"<|startoftext|><|extra_4|>", NULL},
        {"<|im_start|><end_of_utterance>", "smolvlm"},
        {"<|im_start|><|im_sep|>", "phi4"},
        {"<|channel|><|start|><|im_start|>", "chatml"},
        {"<|header_start|><|header_end|>", "llama4"},
        {"<|system|><|user|><|assistant|><|endofturn|>", "glmedge"},
        {"[|system|][|assistant|][|endofturn|]", "exaone3"},
        {"<role>ASSISTANT</role>'HUMAN'", "bailing"},
        {"<role>ASSISTANT</role>\"HUMAN\"", NULL},
    };
    for (size_t i = 0; i < sizeof m / sizeof *m; i++) {
        bool rec = false;
        const char *fam = lm_chat_detect(m[i].tmpl, &rec);
        if (m[i].family ? (!rec || strcmp(fam, m[i].family)) : rec)
            LM_FAIL_("\"%s\": detected %s (recognised %d), want %s", m[i].tmpl, fam, rec, m[i].family ? m[i].family : "none");
    }
}

static void test_unknown(void)
{
    bool rec = true;
    ASSERT_STR_EQ(lm_chat_detect("{{ messages }} something else", &rec), "chatml");
    ASSERT(!rec);
    rec = false;
    ASSERT_STR_EQ(lm_chat_detect(NULL, &rec), "chatml");
    ASSERT(rec);
    ASSERT(!lm_chat_family_known("nope"));
    struct lm_buf out = {0};
    struct lm_error err = {0};
    ASSERT_EQ(lm_chat_apply("nope", conv, NCONV, true, NULL, &out, &err), LM_EINVAL);
    ASSERT(strstr(err.msg, "nope") != NULL);
    lm_buf_free(&out);
}

/* Every family of tests/parity/tok_chat_golden.json (llama.cpp's own renderer, see
 * tok_chat_goldens.sh) that we know must give the same text; families we lack are listed. */
static void test_goldens(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/parity/tok_chat_golden.json", lm_test_env("LM_ROOT", "."));
    FILE *f = fopen(path, "rb");
    ASSERT(f != NULL);
    static char js[1 << 20];
    size_t n = fread(js, 1, sizeof js - 1, f);
    fclose(f);
    js[n] = 0;
    cJSON *root = cJSON_Parse(js);
    ASSERT(root != NULL);
    const cJSON *convs = cJSON_GetObjectItem(root, "convs"), *c;
    int checked = 0, bad = 0;
    char missing[2048] = "";
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "cases")) {
        const char *fam = cJSON_GetObjectItem(c, "family")->valuestring;
        if (!lm_chat_family_known(fam)) {
            if (!strstr(missing, fam) && strlen(missing) + strlen(fam) + 2 < sizeof missing) {
                strcat(missing, " ");
                strcat(missing, fam);
            }
            continue;
        }
        const cJSON *cv = cJSON_GetArrayItem(convs, (int)cJSON_GetObjectItem(c, "conv")->valuedouble), *m;
        struct lm_chat_msg msgs[16];
        size_t nm = 0;
        cJSON_ArrayForEach(m, cv) {
            msgs[nm].role = cJSON_GetObjectItem(m, "role")->valuestring;
            msgs[nm].content = cJSON_GetObjectItem(m, "content")->valuestring;
            nm++;
        }
        struct lm_buf out = {0};
        struct lm_error err = {0};
        ASSERT_OK(lm_chat_apply(fam, msgs, nm, cJSON_IsTrue(cJSON_GetObjectItem(c, "add_ass")), NULL, &out, &err));
        const char *want = cJSON_GetObjectItem(c, "out")->valuestring;
        checked++;
        if (strcmp(out.data ? out.data : "", want) != 0) {
            fprintf(stderr, "%s conv %d add_ass %d:\n got:  \"%s\"\n want: \"%s\"\n", fam,
                    (int)cJSON_GetObjectItem(c, "conv")->valuedouble, cJSON_IsTrue(cJSON_GetObjectItem(c, "add_ass")),
                    out.data ? out.data : "", want);
            bad++;
        }
        lm_buf_free(&out);
    }
    fprintf(stderr, "chat goldens: %d renders compared, %d mismatches; families not supported:%s\n", checked, bad, missing);
    cJSON_Delete(root);
    ASSERT_EQ(bad, 0);
}

int main(void)
{
    RUN_TEST(test_goldens);
    RUN_TEST(test_families);
    RUN_TEST(test_details);
    RUN_TEST(test_markers);
    RUN_TEST(test_unknown);
    return 0;
}
