/*
** cmd_redact.c -- `parapet redact`: standard input (or the arguments) with every PII
** and secret span replaced by a typed placeholder such as [EMAIL] or [CARD].
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "parapet.h"
#include "cli.h"
#include "common.h"

static const char *HELP =
    "usage: parapet redact [OPTIONS] [TEXT...]\n"
    "\n"
    "Writes the text with PII and secrets (and anything in a category whose policy\n"
    "action is \"redact\") replaced by typed placeholders: [EMAIL], [PHONE], [CARD],\n"
    "[IBAN], [SSN], [IP_ADDRESS], [AWS_KEY], [PRIVATE_KEY], [JWT], [SECRET], ...\n"
    "Reads all of standard input when no TEXT is given.\n"
    "\n"
    "options:\n" ENGINE_OPTIONS_HELP
    "  --count              print the number of redacted spans on stderr\n"
    "\n"
    "exit status: 0 success, 2 usage or input error, 3 internal error\n";

static int redact_one(parapet_engine *e, const char *text, size_t len, size_t *total) {
    char *out;
    size_t n, k;
    parapet_status st = parapet_redact(e, text, len, NULL, &out, &n, &k);
    if (st) {
        cli_error("%s%s", parapet_strerror(st),
                  st == PARAPET_ERR_UTF8 ? " (use --replace-invalid to redact it anyway)" : "");
        return st == PARAPET_ERR_NOMEM ? CLI_ERROR : CLI_USAGE;
    }
    fwrite(out, 1, n, stdout);
    parapet_free(out);
    *total += k;
    return 0;
}

int cmd_redact(int argc, char **argv) {
    engine_args ea;
    engine_args_init(&ea);
    int count = 0, first = 0;
    for (int i = 1; i < argc; i++) {
        int k = engine_arg(&ea, argc, argv, &i);
        if (k < 0) return CLI_USAGE;
        if (k) continue;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { fputs(HELP, stdout); return CLI_OK; }
        if (!strcmp(argv[i], "--count")) { count = 1; continue; }
        if (!strcmp(argv[i], "--")) { first = i + 1; break; }
        if (argv[i][0] == '-' && argv[i][1]) { cli_error("redact: unknown option \"%s\"", argv[i]); return CLI_USAGE; }
        first = i;
        break;
    }
    parapet_engine *e = engine_open(&ea);
    if (!e) return CLI_USAGE;
    size_t total = 0;
    int rc = 0;
    if (first) {
        for (int i = first; i < argc && !rc && first < argc; i++) {
            rc = redact_one(e, argv[i], strlen(argv[i]), &total);
            putchar('\n');
        }
    } else {
        char *text;
        size_t len;
        if (read_all(stdin, ea.opt.max_input_bytes, &text, &len)) {
            cli_error("standard input: %s", errno == EFBIG ? "larger than the size limit (--max-bytes)" : strerror(errno));
            parapet_close(e);
            return CLI_USAGE;
        }
        rc = redact_one(e, text, len, &total);
        free(text);
    }
    if (count) fprintf(stderr, "%zu span(s) redacted\n", total);
    parapet_close(e);
    return rc;
}
