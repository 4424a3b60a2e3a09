/*
** cli.h -- the parapet command-line tool's internal interface: one function per
** subcommand, all using only the public header (include/parapet.h).
**
** Each cmd_* gets argv starting at the subcommand's own name and returns the process
** exit code (see docs/cli.md): 0 allowed / success, 1 flagged, 2 usage or input
** error, 3 internal error.
*/
#ifndef PP_CLI_H
#define PP_CLI_H

enum { CLI_OK = 0, CLI_FLAGGED = 1, CLI_USAGE = 2, CLI_ERROR = 3 };

int cmd_check(int argc, char **argv);
int cmd_redact(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_model(int argc, char **argv);   /* src/cli/cmd_model.c: parapet model ... */
/* src/cli/cmd_model_pull.c: parapet model pull ...; argv[0] is "pull".  Called from
** cmd_model's dispatch. */
int cmd_model_pull(int argc, char **argv);
int cmd_train(int argc, char **argv);   /* src/cli/cmd_train.c: parapet train ... */
int cmd_eval(int argc, char **argv);    /* src/cli/cmd_eval.c: parapet eval ... */
int cmd_serve(int argc, char **argv);   /* src/cli/cmd_serve.c: parapet serve ... */

/* Prints "parapet: " + message to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
