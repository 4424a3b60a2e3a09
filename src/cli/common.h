/* common.h -- shared option handling of the CLI subcommands (see common.c). */
#ifndef PP_CLI_COMMON_H
#define PP_CLI_COMMON_H
#include <stdio.h>
#include "parapet.h"

#define MAX_LEXICONS 64
typedef struct engine_args {
    parapet_options opt;
    const char *lex[MAX_LEXICONS];
    size_t n_lex;
} engine_args;

void engine_args_init(engine_args *a);
/* Consumes argv[*i] (and its value) if it is an engine option: returns 1 if taken,
** 0 if not an engine option, -1 on a usage error (already reported). */
int engine_arg(engine_args *a, int argc, char **argv, int *i);
/* Opens the engine, reporting errors on stderr; NULL on failure. */
parapet_engine *engine_open(engine_args *a);
/* Reads all of f (at most max bytes, else errno = EFBIG) into a malloc'd buffer. */
int read_all(FILE *f, size_t max, char **out, size_t *len);

#define ENGINE_OPTIONS_HELP \
    "  --policy FILE        policy (YAML or JSON) instead of the embedded default\n" \
    "  --model FILE         classifier model (parapet train) instead of the embedded one\n" \
    "  --lexicon CAT=FILE   add a one-term-per-line word list to category CAT (repeatable)\n" \
    "  --replace-invalid    replace invalid UTF-8 by U+FFFD (signal invalid_utf8) instead of failing\n" \
    "  --max-bytes N        refuse texts longer than N bytes (default 64 MiB)\n" \
    "  --guard FILE         guard model (GGUF, e.g. Llama Guard 3) as the last tier; the\n" \
    "                       policy's guard section says when it runs (default: cascade)\n" \
    "  --guard-threads N    threads for the guard model (default 1)\n" \
    "  --guard-batch N      guard requests scored together in one forward pass (default 8)\n"
#endif
