/*
** cmd_check.c -- `parapet check`: verdicts for texts given as arguments, lines of a
** file, JSONL records, or all of standard input.
**
** Output is JSON Lines (one result object per input, in input order) when stdout is
** not a terminal or --json is given, else a table meant for people.  A bad input
** (invalid UTF-8, too large, malformed JSON) never aborts the run unless --on-error
** fatal: it is reported on stderr with its line number and, in JSON mode, as an
** {"line": N, "error": ...} object in its place so output lines stay aligned.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "parapet.h"
#include "cli.h"
#include "common.h"

static const char *HELP =
    "usage: parapet check [OPTIONS] [TEXT...]\n"
    "\n"
    "Checks texts against the policy and prints, for each, whether it is flagged, the\n"
    "action, per-category scores and the evidence (spans in the original text).\n"
    "\n"
    "input (default: all of standard input is one text):\n"
    "  TEXT...              each argument is one text\n"
    "  --file FILE          one text per line of FILE (\"-\": standard input)\n"
    "  --jsonl              records {\"text\": ..., \"id\": ..., \"policy\": {...}} one per line,\n"
    "                       from --file or standard input; id is echoed, policy overrides\n"
    "output:\n"
    "  --json               JSON Lines (the default when stdout is not a terminal)\n"
    "  --table              a table for people (the default on a terminal)\n"
    "  --pretty             indented JSON\n"
    "  --no-text            leave matched text out of JSON evidence\n"
    "  --quiet              print no verdicts; the exit status tells\n"
    "policy and detectors:\n" ENGINE_OPTIONS_HELP
    "bad input:\n"
    "  --on-error MODE      skip (default): report the bad line and go on; fatal: stop there\n"
    "\n"
    "exit status: 0 all allowed, 1 at least one flagged, 2 usage or input error, 3 internal error\n";

typedef struct run {
    parapet_engine *eng;
    int json, pretty, no_text, quiet, fatal, color;
    int any_flagged, any_error;
    size_t n_checked, n_flagged;
} run;

static void print_table(run *r, const char *label, const char *text, size_t len,
                        const parapet_result *res) {
    const char *red = r->color ? "\033[31;1m" : "", *green = r->color ? "\033[32m" : "";
    const char *dim = r->color ? "\033[2m" : "", *off = r->color ? "\033[0m" : "";
    int fl = parapet_result_flagged(res);
    printf("%s%-7s%s %-7s ", fl ? red : green, fl ? "FLAGGED" : "ok", off,
           parapet_action_name(parapet_result_action(res)));
    if (label) printf("%s ", label);
    /* the text, shortened and on one line */
    putchar('"');
    size_t shown = 0;
    for (size_t i = 0; i < len && shown < 72; i++, shown++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n' || c == '\t' || c == '\r') putchar(' ');
        else if (c < 0x20 || c == 0x7f) putchar('?');
        else putchar(c);
    }
    /* finish a UTF-8 sequence cut by the limit */
    while (shown < len && ((unsigned char)text[shown] & 0xC0) == 0x80) putchar(text[shown++]);
    printf("%s\"  %s(%.0f us)%s\n", shown < len ? "..." : "", dim, parapet_result_latency_us(res), off);
    for (size_t i = 0; i < parapet_result_category_count(res); i++) {
        parapet_category_score cs;
        parapet_result_category(res, i, &cs);
        if (cs.score < 0.05) continue;
        printf("    %-24s %.2f %s %.2f  %s\n", cs.name, cs.score, cs.flagged ? ">=" : "< ",
               cs.threshold, cs.flagged ? parapet_action_name(cs.action) : "-");
    }
    for (size_t i = 0; i < parapet_result_evidence_count(res) && i < 12; i++) {
        parapet_evidence ev;
        parapet_result_evidence(res, i, &ev);
        if (ev.start == ev.end) { /* document-level evidence (the classifier) */
            if (ev.score >= 0.25)
                printf("    %s(whole text) %s %s p=%.2f%s\n", dim, ev.category, ev.detector, ev.score, off);
            continue;
        }
        printf("    %s[%zu,%zu) \"%.*s\" %s %s:%s", dim, ev.start, ev.end,
               (int)(ev.end - ev.start > 40 ? 40 : ev.end - ev.start), text + ev.start, ev.category,
               ev.detector, ev.rule);
        int first = 1;
        for (unsigned t = 0; t < PARAPET_XF_COUNT; t++)
            if (ev.transforms & (1u << t)) {
                printf("%s%s", first ? " (" : ",", parapet_transform_name(t));
                first = 0;
            }
        printf("%s%s\n", first ? "" : ")", off);
    }
    if (parapet_result_evidence_count(res) > 12)
        printf("    %s... %zu more%s\n", dim, parapet_result_evidence_count(res) - 12, off);
    for (size_t i = 0; i < parapet_result_signal_count(res); i++)
        printf("%s    signal: %s%s\n", dim, parapet_result_signal(res, i), off);
}

/* Reports a bad input; returns -1 if the run must stop. */
static int bad_input(run *r, size_t line, const char *what) {
    r->any_error = 1;
    if (line) fprintf(stderr, "parapet: line %zu: %s\n", line, what);
    else fprintf(stderr, "parapet: %s\n", what);
    if (r->json && !r->quiet) {
        printf("{\"line\":%zu,\"error\":\"", line);
        for (const char *c = what; *c; c++) {
            if (*c == '"' || *c == '\\') putchar('\\');
            putchar((unsigned char)*c < 0x20 ? ' ' : *c);
        }
        printf("\"}\n");
    }
    return r->fatal ? -1 : 0;
}

/* Checks one text; returns -1 if the run must stop. */
static int check_one(run *r, size_t line, const char *text, size_t len, const char *id_json,
                     const char *policy_json) {
    parapet_check_opts co = {0};
    parapet_policy *overlay = NULL;
    if (policy_json) {
        char *detail = NULL;
        parapet_status st = parapet_policy_parse(policy_json, strlen(policy_json), "policy",
                                                 parapet_engine_policy(r->eng), &overlay, &detail);
        if (st) {
            char msg[600];
            snprintf(msg, sizeof msg, "%s", detail ? detail : parapet_strerror(st));
            parapet_free(detail);
            return bad_input(r, line, msg);
        }
        co.policy = overlay;
    }
    parapet_result *res;
    parapet_status st = parapet_check(r->eng, text, len, &co, &res);
    parapet_policy_free(overlay);
    if (st) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s%s", parapet_strerror(st),
                 st == PARAPET_ERR_UTF8 ? " (use --replace-invalid to check it anyway)" : "");
        if (st == PARAPET_ERR_NOMEM || st == PARAPET_ERR_INTERNAL) {
            cli_error("%s", msg);
            return -2;
        }
        return bad_input(r, line, msg);
    }
    r->n_checked++;
    if (parapet_result_flagged(res)) { r->any_flagged = 1; r->n_flagged++; }
    if (!r->quiet) {
        if (r->json) {
            char *js;
            size_t n;
            unsigned fl = (r->pretty ? PARAPET_JSON_PRETTY : 0) | (r->no_text ? PARAPET_JSON_NO_TEXT : 0);
            if (parapet_result_json(res, fl, &js, &n)) { parapet_result_free(res); cli_error("out of memory"); return -2; }
            if (id_json) printf("{\"id\":%s,%s\n", id_json, js + 1);
            else printf("%s\n", js);
            parapet_free(js);
        } else {
            char label[64] = "";
            if (line) snprintf(label, sizeof label, "#%zu", line);
            print_table(r, label[0] ? label : NULL, text, len, res);
        }
    }
    parapet_result_free(res);
    return 0;
}

static int check_lines(run *r, FILE *f, int jsonl, size_t max) {
    char *buf = NULL;
    size_t cap = 0, line = 0;
    ssize_t n;
    int rc = 0;
    while ((n = getline(&buf, &cap, f)) >= 0) {
        line++;
        size_t len = (size_t)n;
        if (len && buf[len - 1] == '\n') len--;
        if (len && buf[len - 1] == '\r') len--;
        if (len > max) {
            if ((rc = bad_input(r, line, "line larger than the size limit (--max-bytes)"))) break;
            continue;
        }
        if (jsonl) {
            if (len == 0) continue; /* blank lines between records are harmless */
            parapet_record rec;
            char *detail = NULL;
            parapet_status st = parapet_record_parse(buf, len, &rec, &detail);
            if (st) {
                char msg[600];
                snprintf(msg, sizeof msg, "%s%s%s", parapet_strerror(st), detail ? ": " : "", detail ? detail : "");
                parapet_free(detail);
                if ((rc = bad_input(r, line, msg))) break;
                continue;
            }
            rc = check_one(r, line, rec.text, rec.text_len, rec.id_json, rec.policy_json);
            parapet_record_clear(&rec);
        } else {
            rc = check_one(r, line, buf, len, NULL, NULL);
        }
        if (rc) break;
    }
    free(buf);
    if (!rc && ferror(f)) { cli_error("read error: %s", strerror(errno)); rc = -2; }
    return rc;
}

int cmd_check(int argc, char **argv) {
    engine_args ea;
    engine_args_init(&ea);
    run r = {0};
    const char *file = NULL;
    int jsonl = 0, force_json = 0, force_table = 0;
    int first_text = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        int k = engine_arg(&ea, argc, argv, &i);
        if (k < 0) return CLI_USAGE;
        if (k) continue;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) { fputs(HELP, stdout); return CLI_OK; }
        else if (!strcmp(o, "--file")) {
            if (i + 1 >= argc) { cli_error("--file needs a value"); return CLI_USAGE; }
            file = argv[++i];
        } else if (!strcmp(o, "--jsonl")) jsonl = 1;
        else if (!strcmp(o, "--json")) force_json = 1;
        else if (!strcmp(o, "--table")) force_table = 1;
        else if (!strcmp(o, "--pretty")) { r.pretty = 1; force_json = 1; }
        else if (!strcmp(o, "--no-text")) r.no_text = 1;
        else if (!strcmp(o, "--quiet") || !strcmp(o, "-q")) r.quiet = 1;
        else if (!strcmp(o, "--on-error")) {
            if (i + 1 >= argc) { cli_error("--on-error needs skip or fatal"); return CLI_USAGE; }
            const char *m = argv[++i];
            if (!strcmp(m, "fatal")) r.fatal = 1;
            else if (strcmp(m, "skip")) { cli_error("--on-error: expected skip or fatal, got \"%s\"", m); return CLI_USAGE; }
        } else if (!strcmp(o, "--")) { first_text = i + 1; break; }
        else if (o[0] == '-' && o[1]) { cli_error("check: unknown option \"%s\" (see parapet check --help)", o); return CLI_USAGE; }
        else { first_text = i; break; }
    }
    if (first_text && (file || jsonl)) {
        cli_error("check: give texts as arguments or with --file/--jsonl, not both");
        return CLI_USAGE;
    }
    r.json = force_json || (!force_table && !isatty(STDOUT_FILENO));
    r.color = !r.json && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
    r.eng = engine_open(&ea);
    if (!r.eng) return CLI_USAGE;
    size_t max = ea.opt.max_input_bytes;
    int rc = 0;
    if (first_text) {
        for (int i = first_text; i < argc && !rc; i++)
            rc = check_one(&r, 0, argv[i], strlen(argv[i]), NULL, NULL);
    } else if (file || jsonl) {
        FILE *f = stdin;
        if (file && strcmp(file, "-")) {
            f = fopen(file, "rb");
            if (!f) { cli_error("%s: %s", file, strerror(errno)); parapet_close(r.eng); return CLI_USAGE; }
        }
        rc = check_lines(&r, f, jsonl, max);
        if (f != stdin) fclose(f);
    } else {
        char *text;
        size_t len;
        if (read_all(stdin, max, &text, &len)) {
            int big = errno == EFBIG;
            cli_error("standard input: %s", big ? "larger than the size limit (--max-bytes)" : strerror(errno));
            parapet_close(r.eng);
            return big ? CLI_USAGE : CLI_ERROR;
        }
        rc = check_one(&r, 0, text, len, NULL, NULL);
        free(text);
    }
    parapet_close(r.eng);
    if (rc == -2) return CLI_ERROR;
    if (r.any_error && (r.fatal || r.n_checked == 0)) return CLI_USAGE;
    return r.any_flagged ? CLI_FLAGGED : CLI_OK;
}
