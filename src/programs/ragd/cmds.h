/* cmds.h — ragd's commands: `ragd [serve]`, `ragd migrate up|down|status`, `ragd pull`,
 * `ragd ingest FILE...`, `ragd ask "question"`, and the internal `ragd extract-pdf`. Each
 * returns the exit code (0 ok, 1 failure, 2 usage or configuration error). */
#ifndef RAGD_CMDS_H
#define RAGD_CMDS_H

int ragd_cmd_pull(int argc, char **argv);        /* cmd_pull.c */
int ragd_cmd_migrate(int argc, char **argv);     /* cmd_migrate.c */
int ragd_cmd_reindex(int argc, char **argv);     /* cmd_migrate.c */
int ragd_cmd_serve(int argc, char **argv);       /* serve.c */
int ragd_cmd_ask(int argc, char **argv);         /* cmd_ask.c */
int ragd_cmd_ingest(int argc, char **argv);      /* cmd_ingest.c */
int ragd_cmd_extract_pdf(int argc, char **argv); /* doc.c */

#endif
