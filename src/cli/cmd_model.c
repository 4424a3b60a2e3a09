/*
** cmd_model.c -- `parapet model ...`: inspect and synthesize GGUF guard models.
**
**   parapet model info [--json] MODEL.gguf
**   parapet model synth --shape S --quant Q --tokenizer tokenizer.json [--seed N] OUT.gguf
**   parapet model tokenize MODEL.gguf|tokenizer.json TEXT   token ids and pieces
**   parapet model logits                 (not yet: arrives with the forward pass)
**
** Front end only: everything goes through the public header (parapet_model_*).
** Exit codes as in cli.h: 0 success, 2 usage or input error, 3 internal error.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "parapet.h"

static const char usage[] =
    "usage: parapet model info [--json] MODEL.gguf\n"
    "       parapet model synth --shape tiny|1b|lg3-1b|8b --quant f16|q8_0|q4_k_m\n"
    "                           --tokenizer tokenizer.json [--seed N] OUT.gguf\n"
    "       parapet model tokenize MODEL.gguf|tokenizer.json [--no-bos] [--no-special] [--json] TEXT\n"
    "       parapet model logits   (not yet implemented: arrives with the forward pass)\n"
    "\n"
    "info   validates a GGUF file and prints its architecture, shapes, tensor types,\n"
    "       tokenizer and chat template (--json: one JSON object).\n"
    "synth  writes a GGUF with random weights, a real model's shape and the vocabulary\n"
    "       of a Hugging Face tokenizer.json, for benchmarks and engine tests.\n";

/* Exit code for a library status: input problems are 2, the rest 3. */
static int exit_for(parapet_status st) {
    switch (st) {
    case PARAPET_ERR_NOMEM:
    case PARAPET_ERR_INTERNAL:
        return CLI_ERROR;
    default:
        return CLI_USAGE;
    }
}

static int report(const char *what, parapet_status st, char *detail) {
    fprintf(stderr, "parapet model %s: %s\n", what, detail ? detail : parapet_strerror(st));
    parapet_free(detail);
    return exit_for(st);
}

static int model_info(int argc, char **argv) {
    int json = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { fputs(usage, stdout); return CLI_OK; }
        else if (argv[i][0] == '-' && argv[i][1]) { fprintf(stderr, "parapet model info: unknown option %s\n%s", argv[i], usage); return CLI_USAGE; }
        else if (path) { fprintf(stderr, "parapet model info: one file at a time\n"); return CLI_USAGE; }
        else path = argv[i];
    }
    if (!path) { fputs(usage, stderr); return CLI_USAGE; }
    parapet_model *m;
    char *detail = NULL;
    parapet_status st = parapet_model_open(path, &m, &detail);
    if (st) return report("info", st, detail);
    char *out;
    size_t len;
    st = json ? parapet_model_info_json(m, &out, &len) : parapet_model_info_text(m, &out, &len);
    parapet_model_close(m);
    if (st) return report("info", st, NULL);
    fwrite(out, 1, len, stdout);
    if (json) fputc('\n', stdout);
    parapet_free(out);
    return CLI_OK;
}

static int model_synth(int argc, char **argv) {
    const char *shape = NULL, *quant = NULL, *tok = NULL, *out = NULL;
    unsigned long long seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { fputs(usage, stdout); return CLI_OK; }
        else if (!strcmp(a, "--shape") && has_val) shape = argv[++i];
        else if (!strcmp(a, "--quant") && has_val) quant = argv[++i];
        else if (!strcmp(a, "--tokenizer") && has_val) tok = argv[++i];
        else if (!strcmp(a, "--seed") && has_val) {
            char *end;
            seed = strtoull(argv[++i], &end, 10);
            if (!*argv[i] || *end) { fprintf(stderr, "parapet model synth: bad --seed\n"); return CLI_USAGE; }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "parapet model synth: unknown option or missing value: %s\n%s", a, usage);
            return CLI_USAGE;
        } else if (out) { fprintf(stderr, "parapet model synth: one output file\n"); return CLI_USAGE; }
        else out = a;
    }
    if (!shape || !quant || !tok || !out) {
        fprintf(stderr, "parapet model synth: --shape, --quant, --tokenizer and OUT.gguf are required\n%s", usage);
        return CLI_USAGE;
    }
    char *detail = NULL;
    parapet_status st = parapet_model_synth(shape, quant, tok, (uint64_t)seed, out, &detail);
    if (st) return report("synth", st, detail);
    fprintf(stderr, "wrote %s\n", out);
    return CLI_OK;
}

/* parapet model tokenize MODEL.gguf|tokenizer.json [--no-bos] [--no-special] [--json] TEXT */
static int model_tokenize(int argc, char **argv) {
    const char *path = NULL, *text = NULL;
    int bos = 1, special = 1, json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--no-bos")) bos = 0;
        else if (!strcmp(a, "--no-special")) special = 0;
        else if (!strcmp(a, "--json")) json = 1;
        else if (a[0] == '-' && a[1]) { fprintf(stderr, "parapet model tokenize: unknown option '%s'\n", a); return CLI_USAGE; }
        else if (!path) path = a;
        else if (!text) text = a;
        else { fprintf(stderr, "parapet model tokenize: too many arguments\n"); return CLI_USAGE; }
    }
    if (!path || !text) {
        fprintf(stderr, "usage: parapet model tokenize MODEL.gguf|tokenizer.json [--no-bos] [--no-special] [--json] TEXT\n");
        return CLI_USAGE;
    }
    size_t pl = strlen(path);
    int is_json = pl > 5 && !strcmp(path + pl - 5, ".json");
    parapet_tokenizer *tok;
    char *detail = NULL;
    parapet_status st = is_json ? parapet_tokenizer_open_json(path, &tok, &detail)
                                : parapet_tokenizer_open_gguf(path, &tok, &detail);
    if (st) {
        fprintf(stderr, "parapet: %s\n", detail ? detail : parapet_strerror(st));
        parapet_free(detail);
        return CLI_USAGE;
    }
    int32_t *ids;
    size_t n;
    unsigned fl = (bos ? PARAPET_TOK_ADD_BOS : 0) | (special ? PARAPET_TOK_PARSE_SPECIAL : 0);
    st = parapet_tokenizer_encode(tok, text, strlen(text), fl, &ids, &n);
    if (st) {
        fprintf(stderr, "parapet: %s\n", parapet_strerror(st));
        parapet_tokenizer_free(tok);
        return CLI_USAGE;
    }
    if (json) printf("{\"tokenizer\":\"%s\",\"ids\":[", parapet_tokenizer_name(tok));
    else printf("%s: %zu tokens\n", parapet_tokenizer_name(tok), n);
    for (size_t i = 0; i < n; i++) {
        const char *piece;
        size_t plen;
        if (json) { printf("%s%d", i ? "," : "", ids[i]); continue; }
        if (parapet_tokenizer_token_piece(tok, ids[i], &piece, &plen)) { piece = "?"; plen = 1; }
        printf("%8d  ", ids[i]);
        for (size_t k = 0; k < plen; k++) {
            unsigned char c = (unsigned char)piece[k];
            if (c == '\n') fputs("\\n", stdout);
            else if (c < 0x20) printf("\\x%02x", c);
            else putchar(c);
        }
        putchar('\n');
    }
    if (json) printf("]}\n");
    parapet_free(ids);
    parapet_tokenizer_free(tok);
    return CLI_OK;
}

int cmd_model(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (!strcmp(argv[1], "info")) return model_info(argc - 1, argv + 1);
    if (!strcmp(argv[1], "synth")) return model_synth(argc - 1, argv + 1);
    if (!strcmp(argv[1], "tokenize")) return model_tokenize(argc - 1, argv + 1);
    if (!strcmp(argv[1], "logits")) {
        fprintf(stderr, "parapet model %s: not yet implemented (it arrives with the guard-model "
                "forward pass)\n", argv[1]);
        return CLI_USAGE;
    }
    fprintf(stderr, "parapet model: unknown subcommand '%s'\n%s", argv[1], usage);
    return CLI_USAGE;
}
