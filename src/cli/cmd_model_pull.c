/*
** cmd_model_pull.c -- `parapet model pull`: download a guard model by name or URL,
** resumable and verified (parapet_download in the public header does the work).
**
**   parapet model pull NAME [--dir DIR]          a model from the registry
**   parapet model pull --url URL --sha256 HEX --out PATH
**   parapet model pull --list                    the registry
**
** Where the URL comes from, first match wins: --url; $PARAPET_MODEL_MIRROR + "/" +
** the registry's file name (an organisation's own verified copies); the registry's
** URL.  Without a checksum (--sha256 or the registry's) the download is refused
** unless --no-verify is given, in which case the digest is printed so it can be
** pinned.  cmd_model (cmd_model.c) dispatches "pull" here.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "parapet.h"
#include "cli.h"

static void usage(FILE *f) {
    fputs("usage: parapet model pull NAME [--dir DIR] [--sha256 HEX] [--no-verify]\n"
          "       parapet model pull --url URL (--sha256 HEX | --no-verify) [--out PATH]\n"
          "       parapet model pull --list\n"
          "Downloads a guard model to DIR (default .) as FILE.part, resuming an earlier\n"
          "attempt, checks its SHA-256, then renames it into place.  See\n"
          "docs/guard-models.md for which models to get.\n"
          "  --url URL       download from URL instead of the registry\n"
          "  --sha256 HEX    expected SHA-256 (64 hex digits)\n"
          "  --size BYTES    expected size\n"
          "  --no-verify     keep the file without a known checksum (prints its digest)\n"
          "  --out PATH      where to write (default DIR/<registry file name>)\n"
          "  --quiet         no progress\n"
          "Environment: PARAPET_MODEL_MIRROR=URL serves registry files as URL/<file>.\n", f);
}

static int show_progress(void *user, uint64_t done, uint64_t total) {
    uint64_t *last = user;
    if (done - *last < (1u << 20) && done != total) return 0;
    *last = done;
    if (total)
        fprintf(stderr, "\r%llu / %llu MB (%3.0f%%)", (unsigned long long)(done >> 20),
                (unsigned long long)(total >> 20), 100.0 * (double)done / (double)total);
    else
        fprintf(stderr, "\r%llu MB", (unsigned long long)(done >> 20));
    return 0;
}

static int list(void) {
    size_t n;
    const parapet_guard_model *m = parapet_guard_models(&n);
    printf("%-26s %-17s %-8s %s\n", "name", "family", "sha256", "upstream");
    for (size_t i = 0; i < n; i++)
        printf("%-26s %-17s %-8s %s\n", m[i].name, m[i].family, m[i].sha256 ? "known" : "unknown",
               m[i].upstream);
    printf("\nNo GGUF download URL or checksum is verified yet: see docs/guard-models.md.\n");
    return CLI_OK;
}

int cmd_model_pull(int argc, char **argv) {
    const char *name = NULL, *url = NULL, *sha = NULL, *dir = ".", *out = NULL;
    unsigned long long size = 0;
    int no_verify = 0, quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return CLI_OK; }
        else if (!strcmp(a, "--list")) return list();
        else if (!strcmp(a, "--url") && more) url = argv[++i];
        else if (!strcmp(a, "--sha256") && more) sha = argv[++i];
        else if (!strcmp(a, "--dir") && more) dir = argv[++i];
        else if (!strcmp(a, "--out") && more) out = argv[++i];
        else if (!strcmp(a, "--size") && more) size = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--no-verify")) no_verify = 1;
        else if (!strcmp(a, "--quiet")) quiet = 1;
        else if (a[0] != '-' && !name) name = a;
        else { cli_error("model pull: unexpected argument '%s'", a); usage(stderr); return CLI_USAGE; }
    }
    const parapet_guard_model *m = NULL;
    if (name && !(m = parapet_guard_model_find(name))) {
        cli_error("model pull: no model named '%s' (parapet model pull --list)", name);
        return CLI_USAGE;
    }
    if (!m && !url) { usage(stderr); return CLI_USAGE; }
    char *mirror_url = NULL, *path = NULL;
    const char *mirror = getenv("PARAPET_MODEL_MIRROR");
    if (!url && m && mirror && *mirror) {
        size_t n = strlen(mirror) + strlen(m->file) + 2;
        mirror_url = malloc(n);
        if (!mirror_url) return CLI_ERROR;
        snprintf(mirror_url, n, "%s%s%s", mirror, mirror[strlen(mirror) - 1] == '/' ? "" : "/", m->file);
        url = mirror_url;
    }
    if (!url && m) url = m->url;
    if (!url) {
        cli_error("model pull: no verified download URL is known for %s yet.\n"
                  "  Get a GGUF of %s (docs/guard-models.md says how) and run\n"
                  "  parapet model pull %s --url URL --sha256 HEX", m->name, m->upstream, m->name);
        return CLI_USAGE;
    }
    if (!sha && m) sha = m->sha256;
    if (!size && m) size = m->size;
    if (!sha && !no_verify) {
        cli_error("model pull: no SHA-256 to check %s against; pass --sha256 HEX, or\n"
                  "  --no-verify to keep the file unchecked (its digest is printed)", url);
        free(mirror_url);
        return CLI_USAGE;
    }
    if (!out) {
        const char *file = m ? m->file : strrchr(url, '/') ? strrchr(url, '/') + 1 : url;
        if (!*file) file = "model.gguf";
        size_t n = strlen(dir) + strlen(file) + 2;
        path = malloc(n);
        if (!path) { free(mirror_url); return CLI_ERROR; }
        snprintf(path, n, "%s/%s", dir, file);
        out = path;
    }
    if (!quiet) fprintf(stderr, "downloading %s\n  -> %s\n", url, out);
    uint64_t last = 0;
    char digest[65], *detail = NULL;
    parapet_status st = parapet_download(url, out, sha, size,
                                         quiet || !isatty(2) ? NULL : show_progress, &last,
                                         digest, &detail);
    if (!quiet && isatty(2)) fputc('\n', stderr);
    int rc = CLI_OK;
    if (st != PARAPET_OK) {
        cli_error("model pull: %s", detail ? detail : parapet_strerror(st));
        rc = st == PARAPET_ERR_ARG ? CLI_USAGE : CLI_ERROR;
    } else {
        printf("%s  %s%s\n", digest, out, sha ? "  (verified)" : "  (NOT verified)");
    }
    parapet_free(detail);
    free(path);
    free(mirror_url);
    return rc;
}
