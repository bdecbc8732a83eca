/* cmds.h — ragd's commands: `ragd [serve]`, `ragd migrate up|down|status`, `ragd pull`,
 * `ragd ingest FILE...`, `ragd ask "question"`, `ragd reindex`. Each returns the exit code
 * (0 ok, 1 failure, 2 usage or configuration error). */
#ifndef RAGD_CMDS_H
#define RAGD_CMDS_H

int ragd_cmd_pull(int argc, char **argv);     /* cmd_pull.c */
int ragd_cmd_migrate(int argc, char **argv);  /* cmd_migrate.c */

#endif
