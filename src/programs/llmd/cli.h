/* cli.h — llmd's commands. `llmd -m MODEL [flags]` serves (llama-server compatible);
 * `llmd run|tokenize|embed|template|pull ...` are the engine's command-line tools.
 * Each returns the process exit code: 0 ok, 1 runtime failure (bad model...), 2 usage error. */
#ifndef LLMD_CLI_H
#define LLMD_CLI_H

int llmd_cmd_serve(int argc, char **argv);     /* serve.c */
int llmd_cmd_run(int argc, char **argv);       /* cli_run.c */
int llmd_cmd_tokenize(int argc, char **argv);  /* cli_tokenize.c */
int llmd_cmd_embed(int argc, char **argv);     /* cli_embed.c */
int llmd_cmd_template(int argc, char **argv);  /* cli_template.c */

#endif
