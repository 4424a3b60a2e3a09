/* tests for the parapet CLI (src/cli): exit codes, JSONL handling, error messages.
** Runs the binary named by $PARAPET_BIN (set by `make test`). */
#include "test.h"
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

/* Runs `cmd` through the shell with PARAPET_BIN substituted for "P"; captures stdout
** into out (NUL-terminated, truncated to cap) and returns the exit status. */
static int sh(const char *cmd, char *out, size_t cap) {
    const char *bin = getenv("PARAPET_BIN");
    if (!bin) bin = "build/parapet";
    char full[4096];
    snprintf(full, sizeof full, "P=%s; %s", bin, cmd);
    FILE *f = popen(full, "r");
    if (!f) return -1;
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = 0;
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char out[1 << 16];

TEST(cli_help_everywhere) {
    CHECK_EQ(sh("$P --help", out, sizeof out), 0);
    CHECK(strstr(out, "check"));
    CHECK_EQ(sh("$P check --help", out, sizeof out), 0);
    CHECK(strstr(out, "exit status"));
    CHECK_EQ(sh("$P redact --help", out, sizeof out), 0);
    CHECK_EQ(sh("$P policy --help", out, sizeof out), 0);
    CHECK_EQ(sh("$P nosuch 2>/dev/null", out, sizeof out), 2);
}

TEST(cli_check_exit_codes) {
    CHECK_EQ(sh("$P check --json 'have a nice day'", out, sizeof out), 0);
    CHECK(strstr(out, "\"flagged\":false"));
    CHECK_EQ(sh("$P check --json 'you are a fucking idiot'", out, sizeof out), 1);
    CHECK(strstr(out, "\"flagged\":true"));
    CHECK_EQ(sh("$P check --bogus 2>/dev/null", out, sizeof out), 2);
}

TEST(cli_jsonl_echoes_id_and_reports_bad_lines) {
    int rc = sh("printf '%s\\n' '{\"id\":7,\"text\":\"my card is 4111 1111 1111 1111\"}' 'not json' "
                "'{\"text\":\"hello\"}' | $P check --jsonl 2>/dev/null", out, sizeof out);
    CHECK_EQ(rc, 1);
    CHECK(!strncmp(out, "{\"id\":7,\"flagged\":true", 22));
    CHECK(strstr(out, "{\"line\":2,\"error\":"));
    /* three input lines, three output lines */
    int lines = 0;
    for (char *c = out; *c; c++) lines += *c == '\n';
    CHECK_EQ(lines, 3);
    rc = sh("printf '%s\\n' 'not json' '{\"text\":\"hi\"}' | $P check --jsonl --on-error fatal 2>&1 >/dev/null", out, sizeof out);
    CHECK_EQ(rc, 2);
    CHECK(strstr(out, "line 1:"));
}

TEST(cli_invalid_utf8_and_size_limit) {
    CHECK_EQ(sh("printf 'a\\377b' | $P check --json 2>&1", out, sizeof out), 2);
    CHECK(strstr(out, "invalid UTF-8"));
    CHECK_EQ(sh("printf 'a\\377b' | $P check --json --replace-invalid", out, sizeof out), 0);
    CHECK(strstr(out, "invalid_utf8"));
    CHECK_EQ(sh("head -c 5000 /dev/zero | tr '\\0' a | $P check --max-bytes 1000 2>&1", out, sizeof out), 2);
    CHECK(strstr(out, "size limit"));
}

TEST(cli_redact_stdin) {
    CHECK_EQ(sh("printf 'mail jane@example.com or call +1 415 555 2671\\n' | $P redact", out, sizeof out), 0);
    CHECK_STR(out, "mail [EMAIL] or call [PHONE]\n");
}

TEST(cli_policy_check_reports_line) {
    CHECK_EQ(sh("printf 'categories:\\n  hate:\\n    threshold: 7\\n' > /tmp/pp_bad_policy.yaml; "
                "$P policy check /tmp/pp_bad_policy.yaml 2>&1", out, sizeof out), 2);
    CHECK(strstr(out, "/tmp/pp_bad_policy.yaml:3:16: threshold must be a number in [0,1]"));
    CHECK_EQ(sh("$P policy show > /tmp/pp_show.yaml && $P policy check /tmp/pp_show.yaml", out, sizeof out), 0);
    CHECK(strstr(out, "18 categories"));
}

TEST(cli_check_with_model_file_and_corrupt_model) {
    CHECK_EQ(sh("$P check --json --model models/default.ppm 'you are an idiot'", out, sizeof out), 1);
    CHECK(strstr(out, "\"flagged\":true"));
    CHECK_EQ(sh("printf 'PPM-garbage' > /tmp/pp_bad.ppm; $P check --model /tmp/pp_bad.ppm hello 2>&1", out, sizeof out), 2);
    CHECK(strstr(out, "classifier model"));
}
