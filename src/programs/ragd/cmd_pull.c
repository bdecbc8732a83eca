/* cmd_pull.c — `ragd pull`: download a model file from the Hugging Face Hub (the seed's
 * llm_init service), or with --embedding make sure EMBEDDING_MODEL is present. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "lm/hub.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ragd pull [--hf-repo OWNER/NAME] [--hf-file FILE] [--revision REV] [--models-dir DIR]\n"
            "       ragd pull --embedding\n"
            "\n"
            "Downloads {HF_ENDPOINT}/{repo}/resolve/{revision}/{file} into MODELS_DIR/{file}: resumable\n"
            "(.part file), SHA-256 checked against the Hub, renamed into place when complete; a file\n"
            "already present is left alone. --embedding resolves EMBEDDING_MODEL instead (a Hub id is\n"
            "looked up in MODELS_DIR and downloaded as GGUF when missing).\n"
            "\n"
            "environment: HF_REPO_ID, HF_FILENAME, HF_REVISION (main), HF_TOKEN, HF_ENDPOINT\n"
            "             (https://huggingface.co, or a mirror), MODELS_DIR (models), EMBEDDING_MODEL\n"
            "exit: 0 done, 1 download failed, 2 usage or configuration error\n");
}

int ragd_cmd_pull(int argc, char **argv)
{
    struct lm_hub_params p;
    lm_hub_params_from_env(&p);
    bool embedding = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--embedding")) {
            embedding = true;
        } else if (v && !strcmp(a, "--hf-repo")) {
            p.repo = v, i++;
        } else if (v && !strcmp(a, "--hf-file")) {
            p.file = v, i++;
        } else if (v && !strcmp(a, "--revision")) {
            p.revision = v, i++;
        } else if (v && !strcmp(a, "--models-dir")) {
            p.models_dir = v, i++;
        } else {
            fprintf(stderr, "ragd pull: unknown or incomplete option %s (see ragd pull --help)\n", a);
            return 2;
        }
    }
    struct lm_error err = {0};
    char *path = NULL;
    int rc;
    if (embedding) {
        const char *spec = getenv("EMBEDDING_MODEL");
        if (!spec || !*spec) spec = "sentence-transformers/all-MiniLM-L6-v2";
        /* HF_REPO_ID/HF_FILENAME name the chat model; only explicit flags pick the embedding GGUF */
        struct lm_hub_params hp = p;
        bool explicit_file = false;
        for (int i = 1; i < argc; i++)
            if (!strcmp(argv[i], "--hf-repo") || !strcmp(argv[i], "--hf-file")) explicit_file = true;
        if (!explicit_file) hp.repo = hp.file = NULL;
        rc = lm_hub_resolve_model(spec, p.models_dir, &hp, &path, &err);
    } else {
        if (!p.repo || !*p.repo || !p.file || !*p.file) {
            fprintf(stderr, "ragd pull: set HF_REPO_ID and HF_FILENAME (or --hf-repo and --hf-file)\n");
            return 2;
        }
        rc = lm_hub_download(&p, &path, &err);
    }
    if (rc < 0) {
        fprintf(stderr, "ragd %s\n", err.msg[0] ? err.msg : "pull: failed");
        return rc == LM_EINVAL && !strstr(err.msg, "HTTP") ? 2 : 1;
    }
    printf("Downloaded: %s\n", path);
    free(path);
    return 0;
}
