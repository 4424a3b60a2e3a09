/*
** main.c -- the parapet command-line tool: dispatch to one function per subcommand.
** Every subcommand uses only the public header (include/parapet.h).
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "parapet.h"
#include "cli.h"

void cli_error(const char *fmt, ...) {
    va_list ap;
    fputs("parapet: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"check", cmd_check, "check texts against a policy and print verdicts with evidence"},
    {"redact", cmd_redact, "replace PII and secrets in a text by typed placeholders"},
    {"policy", cmd_policy, "validate or show a policy file"},
    {"train", cmd_train, "train the classifier model on labeled JSONL"},
    {"eval", cmd_eval, "evaluate the pipeline or a classifier on labeled JSONL"},
    {"model", cmd_model, "inspect or synthesize GGUF guard models"},
    {"serve", cmd_serve, "run the HTTP moderation server (OpenAI-compatible /v1/moderations)"},
};

static void usage(FILE *f) {
    fprintf(f,
            "parapet %s -- content moderation: normalization, lexicons, PII/secrets/injection rules\n\n"
            "usage: parapet COMMAND [OPTIONS] ...\n\ncommands:\n",
            parapet_version());
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(f,
            "\n`parapet COMMAND --help` describes each command.\n"
            "exit status: 0 allowed/success, 1 flagged, 2 usage or input error, 3 internal error\n");
}

int main(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return CLI_USAGE; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("parapet %s\n", parapet_version());
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    cli_error("unknown command \"%s\" (try parapet --help)", argv[1]);
    return CLI_USAGE;
}
