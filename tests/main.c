/*
** main.c -- the test runner.  Usage: run [FILTER...]
** Runs every registered test (or those whose name or file contains a FILTER),
** prints failures with file:line and both values, and ends with
** "N passed, N failed, N skipped".  Exit status 1 if anything failed.
*/
#include "test.h"
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include "parapet.h"

typedef struct { const char *name, *file; pt_fn fn; } pt_case;
static pt_case *cases;
static int n_cases, cap_cases;
static int cur_failed, cur_skipped;
static const char *cur_skip_why;

void pt_register(const char *name, const char *file, pt_fn fn) {
    if (n_cases == cap_cases) {
        cap_cases = cap_cases ? cap_cases * 2 : 256;
        cases = realloc(cases, sizeof *cases * cap_cases);
        if (!cases) abort();
    }
    cases[n_cases++] = (pt_case){name, file, fn};
}

void pt_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "  FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    cur_failed = 1;
}

void pt_skip(const char *why) { cur_skipped = 1; cur_skip_why = why; }
int pt_failed(void) { return cur_failed; }

const char *pt_shared_dir(void) {
    static const char *cands[] = {"../shared", "../../shared", NULL};
    const char *env = getenv("PARAPET_SHARED");
    struct stat st;
    if (env && !stat(env, &st)) return env;
    for (int i = 0; cands[i]; i++)
        if (!stat(cands[i], &st) && S_ISDIR(st.st_mode)) return cands[i];
    return NULL;
}

static int cmp_case(const void *a, const void *b) {
    const pt_case *x = a, *y = b;
    int c = strcmp(x->file, y->file);
    return c ? c : strcmp(x->name, y->name);
}

int main(int argc, char **argv) {
    int passed = 0, failed = 0, skipped = 0;
    qsort(cases, n_cases, sizeof *cases, cmp_case);
    for (int i = 0; i < n_cases; i++) {
        pt_case *c = &cases[i];
        if (argc > 1) {
            int match = 0;
            for (int a = 1; a < argc; a++)
                if (strstr(c->name, argv[a]) || strstr(c->file, argv[a])) match = 1;
            if (!match) continue;
        }
        cur_failed = cur_skipped = 0;
        cur_skip_why = NULL;
        c->fn();
        if (cur_failed) { failed++; fprintf(stderr, "FAILED %s (%s)\n", c->name, c->file); }
        else if (cur_skipped) { skipped++; printf("skip   %s: %s\n", c->name, cur_skip_why); }
        else passed++;
        fflush(stdout);
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}
