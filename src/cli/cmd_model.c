/*
** cmd_model.c -- `parapet model ...`: inspect and synthesize GGUF guard models.
**
**   parapet model info [--json] MODEL.gguf
**   parapet model synth --shape S --quant Q --tokenizer tokenizer.json [--seed N] OUT.gguf
**   parapet model tokenize MODEL.gguf|tokenizer.json TEXT   token ids and pieces
**   parapet model logits MODEL.gguf (--prompt-file F | --ids 1,2,3 | TEXT) [--top K]
**                        [--threads N] [--json] ...   next-token log-probabilities
**
** Front end only: everything goes through the public header (parapet_model_*).
** Exit codes as in cli.h: 0 success, 2 usage or input error, 3 internal error.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>
#include "cli.h"
#include "parapet.h"

static const char usage[] =
    "usage: parapet model info [--json] MODEL.gguf\n"
    "       parapet model synth --shape SHAPE --quant f16|q8_0|q4_k_m\n"
    "                           --tokenizer tokenizer.json [--seed N] OUT.gguf\n"
    "       parapet model tokenize MODEL.gguf|tokenizer.json [--no-bos] [--no-special] [--json] TEXT\n"
    "       parapet model logits MODEL.gguf (--prompt-file F | --ids 1,2,3 | TEXT) [--top K]\n"
    "                           [--threads N] [--ctx N] [--batch N] [--kv-f32] [--no-bos]\n"
    "                           [--rows 1,2,3] [--repeat R] [--json]\n"
    "\n"
    "info   validates a GGUF file and prints its architecture, shapes, tensor types,\n"
    "       tokenizer and chat template (--json: one JSON object).\n"
    "synth  writes a GGUF with random weights, a real model's shape and the vocabulary\n"
    "       of a Hugging Face tokenizer.json, for benchmarks and engine tests.  SHAPE:\n"
    "       llama: tiny 1b lg3-1b 8b; gemma2: tiny-gemma2 shieldgemma-2b;\n"
    "       qwen3: tiny-qwen3 qwen3guard-0.6b; granite: tiny-granite granite-guardian-2b.\n"
    "logits runs the model over a prompt (tokenized with the model's own tokenizer, BOS\n"
    "       added, special tokens parsed; or given as ids) and prints the top-K next\n"
    "       tokens with their log-probabilities, the log-probabilities of --rows, and the\n"
    "       load and prefill times (--repeat R: the median of R prefills).\n";

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

/* ----------------------------------------------------------------- logits ---- */

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Parses "1,2 3" into a fresh array (caller frees with free()); -1 on a bad id. */
static int parse_ids(const char *s, int32_t **out, size_t *n) {
    size_t cap = 16, k = 0;
    int32_t *ids = malloc(cap * sizeof *ids);
    if (!ids) return -1;
    while (*s) {
        while (*s == ',' || *s == ' ' || *s == '\n' || *s == '\t' || *s == '\r') s++;
        if (!*s) break;
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 0 || v > INT32_MAX) { free(ids); return -1; }
        if (k == cap) {
            int32_t *p = realloc(ids, (cap *= 2) * sizeof *ids);
            if (!p) { free(ids); return -1; }
            ids = p;
        }
        ids[k++] = (int32_t)v;
        s = end;
    }
    *out = ids;
    *n = k;
    return 0;
}

/* Prints a token as text (decoded: "Ġmillion" shows as " million"), escaped for a
** terminal, or as a JSON string. */
static void print_piece(const parapet_tokenizer *tok, int32_t id, int json) {
    char *text = NULL;
    const char *piece = "";
    size_t plen = 0;
    if (tok && !parapet_tokenizer_decode(tok, &id, 1, 0, &text, &plen)) piece = text;
    else plen = 0;
    if (json) putchar('"');
    for (size_t k = 0; k < plen; k++) {
        unsigned char c = (unsigned char)piece[k];
        if (json && (c == '"' || c == '\\')) printf("\\%c", c);
        else if (json && c < 0x20) printf("\\u%04x", c);
        else if (c == '\n') fputs("\\n", stdout);
        else if (c < 0x20) printf("\\x%02x", c);
        else putchar(c);
    }
    if (json) putchar('"');
    parapet_free(text);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Reads a whole file into a malloc'ed NUL-terminated buffer, or NULL. */
static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0, k;
    char *buf = malloc(cap + 1);
    while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            char *p = realloc(buf, (cap *= 2) + 1);
            if (!p) { free(buf); buf = NULL; }
            buf = p;
        }
    }
    fclose(f);
    if (buf) buf[n] = 0;
    *len = n;
    return buf;
}

/* parapet model logits MODEL.gguf (--prompt-file F | --ids L | TEXT) [options] */
static int model_logits(int argc, char **argv) {
    const char *path = NULL, *text = NULL, *prompt_file = NULL, *ids_arg = NULL, *rows_arg = NULL;
    long top = 10, threads = 1, ctx = 0, batch = 0, repeat = 1;
    int json = 0, bos = 1, kv_f32 = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        long *num = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { fputs(usage, stdout); return CLI_OK; }
        else if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "--no-bos")) bos = 0;
        else if (!strcmp(a, "--kv-f32")) kv_f32 = 1;
        else if (!strcmp(a, "--prompt-file") && has_val) prompt_file = argv[++i];
        else if (!strcmp(a, "--ids") && has_val) ids_arg = argv[++i];
        else if (!strcmp(a, "--rows") && has_val) rows_arg = argv[++i];
        else if (!strcmp(a, "--top") && has_val) num = &top;
        else if (!strcmp(a, "--threads") && has_val) num = &threads;
        else if (!strcmp(a, "--ctx") && has_val) num = &ctx;
        else if (!strcmp(a, "--batch") && has_val) num = &batch;
        else if (!strcmp(a, "--repeat") && has_val) num = &repeat;
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "parapet model logits: unknown option or missing value: %s\n", a);
            return CLI_USAGE;
        } else if (!path) path = a;
        else if (!text) text = a;
        else { fprintf(stderr, "parapet model logits: too many arguments\n"); return CLI_USAGE; }
        if (num) {
            char *end;
            *num = strtol(argv[++i], &end, 10);
            if (!*argv[i] || *end || *num < 0 || *num > (1L << 24)) {
                fprintf(stderr, "parapet model logits: bad value for %s\n", a);
                return CLI_USAGE;
            }
        }
    }
    if (!path || (!!text + !!prompt_file + !!ids_arg) != 1) {
        fprintf(stderr, "parapet model logits: MODEL.gguf and exactly one of --prompt-file, "
                "--ids or TEXT are required\n%s", usage);
        return CLI_USAGE;
    }
    if (repeat < 1) repeat = 1;
    if (threads < 1) threads = 1;

    int rc = CLI_USAGE;
    char *detail = NULL, *file_text = NULL;
    int32_t *ids = NULL, *rows = NULL, *best = NULL;
    size_t n = 0, n_rows = 0, text_len = text ? strlen(text) : 0;
    int ids_from_lib = 0;
    parapet_tokenizer *tok = NULL;
    parapet_llm *llm = NULL;
    double *times = NULL, *sorted = NULL;
    float *row_logits = NULL;
    parapet_status st;

    /* the model's own tokenizer: for the prompt text and for printing pieces */
    st = parapet_tokenizer_open_gguf(path, &tok, &detail);
    if (st && !ids_arg) { rc = report("logits", st, detail); detail = NULL; goto out; }
    parapet_free(detail);
    detail = NULL;
    if (prompt_file) {
        if (!(file_text = slurp(prompt_file, &text_len))) {
            fprintf(stderr, "parapet model logits: cannot read %s\n", prompt_file);
            goto out;
        }
        text = file_text;
    }
    if (text) {
        st = parapet_tokenizer_encode(tok, text, text_len,
                                      (bos ? PARAPET_TOK_ADD_BOS : 0) | PARAPET_TOK_PARSE_SPECIAL,
                                      &ids, &n);
        ids_from_lib = 1;
    } else {
        st = parse_ids(ids_arg, &ids, &n) ? PARAPET_ERR_ARG : PARAPET_OK;
    }
    if (st || n == 0) {
        fprintf(stderr, "parapet model logits: %s\n", st ? "bad prompt or --ids" : "empty prompt");
        goto out;
    }
    if (rows_arg && (parse_ids(rows_arg, &rows, &n_rows) || !n_rows)) {
        fprintf(stderr, "parapet model logits: bad --rows\n");
        goto out;
    }

    parapet_llm_options opt;
    parapet_llm_options_init(&opt);
    opt.n_threads = (int)threads;
    opt.n_ctx = ctx ? (uint32_t)ctx : (uint32_t)(n < 256 ? 256 : n);
    opt.n_batch = (uint32_t)batch;
    opt.kv_f32 = kv_f32;
    double t0 = now_ms();
    st = parapet_llm_open(path, &opt, &llm, &detail);
    double load_ms = now_ms() - t0;
    if (st) { rc = report("logits", st, detail); detail = NULL; goto out; }

    rc = CLI_ERROR;
    if (!(times = malloc((size_t)repeat * sizeof *times)) ||
        !(sorted = malloc((size_t)repeat * sizeof *sorted)))
        goto out;
    for (long r = 0; r < repeat; r++) {
        t0 = now_ms();
        st = parapet_llm_eval(llm, ids, n, 0, PARAPET_LLM_LOGITS);
        times[r] = now_ms() - t0;
        if (st) {
            fprintf(stderr, "parapet model logits: %s (a token id outside the vocabulary, or "
                    "a prompt longer than --ctx?)\n", parapet_strerror(st));
            rc = CLI_USAGE;
            goto out;
        }
    }
    memcpy(sorted, times, (size_t)repeat * sizeof *sorted);
    qsort(sorted, (size_t)repeat, sizeof *sorted, cmp_double);
    const double med = sorted[repeat / 2];

    const float *logits;
    size_t n_vocab;
    if (parapet_llm_logits(llm, &logits, &n_vocab)) goto out;
    double mx = -INFINITY, sum = 0.0;
    for (size_t v = 0; v < n_vocab; v++) mx = logits[v] > mx ? logits[v] : mx;
    for (size_t v = 0; v < n_vocab; v++) sum += exp(logits[v] - mx);
    const double lse = mx + log(sum);

    /* top-K by insertion into a short sorted list */
    if ((size_t)top > n_vocab) top = (long)n_vocab;
    if (!(best = malloc((size_t)(top ? top : 1) * sizeof *best))) goto out;
    long nb = 0;
    for (size_t v = 0; v < n_vocab && top; v++) {
        if (nb == top && logits[v] <= logits[best[nb - 1]]) continue;
        long at = nb < top ? nb++ : nb - 1;
        while (at > 0 && logits[best[at - 1]] < logits[v]) { best[at] = best[at - 1]; at--; }
        best[at] = (int32_t)v;
    }
    if (n_rows) {
        if (!(row_logits = malloc(n_rows * sizeof *row_logits))) goto out;
        if ((st = parapet_llm_logits_rows(llm, rows, n_rows, row_logits))) {
            fprintf(stderr, "parapet model logits: --rows: %s\n", parapet_strerror(st));
            rc = CLI_USAGE;
            goto out;
        }
    }
    uint64_t wbytes, cbytes;
    parapet_llm_memory(llm, &wbytes, &cbytes);
    if (json) {
        printf("{\"model\":\"");
        for (const char *p = path; *p; p++)
            if (*p == '"' || *p == '\\') printf("\\%c", *p);
            else if ((unsigned char)*p >= 0x20) putchar(*p);
        printf("\",\"n_tokens\":%zu,\"threads\":%ld,\"load_ms\":%.1f,\"prefill_ms\":[", n, threads,
               load_ms);
        for (long r = 0; r < repeat; r++) printf("%s%.2f", r ? "," : "", times[r]);
        printf("],\"prefill_median_ms\":%.2f,\"prefill_tok_s\":%.1f,\"weight_bytes\":%llu,"
               "\"context_bytes\":%llu,\"top\":[", med, n / med * 1e3,
               (unsigned long long)wbytes, (unsigned long long)cbytes);
        for (long k = 0; k < nb; k++) {
            printf("%s{\"id\":%d,\"logprob\":%.6f,\"logit\":%.6f,\"piece\":", k ? "," : "",
                   best[k], logits[best[k]] - lse, logits[best[k]]);
            print_piece(tok, best[k], 1);
            putchar('}');
        }
        printf("]");
        if (n_rows) {
            printf(",\"rows\":[");
            for (size_t k = 0; k < n_rows; k++)
                printf("%s{\"id\":%d,\"logprob\":%.6f,\"logit\":%.6f}", k ? "," : "", rows[k],
                       row_logits[k] - lse, row_logits[k]);
            printf("]");
        }
        printf("}\n");
    } else {
        printf("%s: %zu tokens, %ld thread%s; load %.1f ms; prefill %.1f ms (%.1f tok/s",
               path, n, threads, threads == 1 ? "" : "s", load_ms, med, n / med * 1e3);
        if (repeat > 1) printf(", median of %ld", repeat);
        printf(")\nweights %.1f MiB mapped, context %.1f MiB\n", wbytes / 1048576.0,
               cbytes / 1048576.0);
        printf("top-%ld next tokens (id, logprob, piece):\n", nb);
        for (long k = 0; k < nb; k++) {
            printf("  %8d  %10.5f  ", best[k], logits[best[k]] - lse);
            print_piece(tok, best[k], 0);
            putchar('\n');
        }
        for (size_t k = 0; k < n_rows; k++) {
            printf("  row %8d  logit %10.5f  logprob %10.5f  ", rows[k], row_logits[k],
                   row_logits[k] - lse);
            print_piece(tok, rows[k], 0);
            putchar('\n');
        }
    }
    rc = CLI_OK;
out:
    parapet_free(detail);
    if (ids_from_lib) parapet_free(ids);
    else free(ids);
    free(rows);
    free(best);
    free(row_logits);
    free(times);
    free(sorted);
    free(file_text);
    parapet_llm_close(llm);
    parapet_tokenizer_free(tok);
    return rc;
}

int cmd_model(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (!strcmp(argv[1], "info")) return model_info(argc - 1, argv + 1);
    if (!strcmp(argv[1], "synth")) return model_synth(argc - 1, argv + 1);
    if (!strcmp(argv[1], "tokenize")) return model_tokenize(argc - 1, argv + 1);
    if (!strcmp(argv[1], "pull")) return cmd_model_pull(argc - 1, argv + 1);
    if (!strcmp(argv[1], "logits")) return model_logits(argc - 1, argv + 1);
    fprintf(stderr, "parapet model: unknown subcommand '%s'\n%s", argv[1], usage);
    return CLI_USAGE;
}
