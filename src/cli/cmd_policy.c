/*
** cmd_policy.c -- `parapet policy check FILE` and `parapet policy show [FILE]`.
*/
#include <stdio.h>
#include <string.h>
#include "parapet.h"
#include "cli.h"

static const char *HELP =
    "usage: parapet policy check FILE...   validate policy files (errors name line:column)\n"
    "       parapet policy show [FILE]     print the canonical form (default: the embedded policy)\n"
    "\n"
    "exit status: 0 valid, 2 invalid or unreadable, 3 internal error\n";

int cmd_policy(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(HELP, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (!strcmp(argv[1], "check")) {
        if (argc < 3) { cli_error("policy check: give at least one FILE"); return CLI_USAGE; }
        int bad = 0;
        for (int i = 2; i < argc; i++) {
            parapet_policy *p;
            char *detail = NULL;
            parapet_status st = parapet_policy_load(argv[i], &p, &detail);
            if (st) {
                fprintf(stderr, "%s\n", detail ? detail : parapet_strerror(st));
                parapet_free(detail);
                bad = 1;
                continue;
            }
            size_t n = parapet_policy_category_count(p), custom = 0;
            for (size_t c = 0; c < n; c++) {
                parapet_category_info ci;
                parapet_policy_category(p, c, &ci);
                custom += ci.custom;
            }
            printf("%s: ok: policy \"%s\", %zu categories (%zu custom), sha256 %.16s\n", argv[i],
                   parapet_policy_name(p), n, custom, parapet_policy_hash(p));
            for (size_t c = 0; c < n; c++) {
                parapet_category_info ci;
                parapet_policy_category(p, c, &ci);
                printf("  %-24s threshold %.2f  %-6s %s%s\n", ci.name, ci.threshold,
                       parapet_action_name(ci.action), ci.enabled ? "" : "(disabled) ",
                       ci.custom ? "(custom)" : "");
            }
            parapet_policy_free(p);
        }
        return bad ? CLI_USAGE : CLI_OK;
    }
    if (!strcmp(argv[1], "show")) {
        parapet_policy *p;
        char *detail = NULL;
        parapet_status st = argc > 2 ? parapet_policy_load(argv[2], &p, &detail) : parapet_policy_default(&p);
        if (st) {
            fprintf(stderr, "%s\n", detail ? detail : parapet_strerror(st));
            parapet_free(detail);
            return CLI_USAGE;
        }
        char *s;
        size_t n;
        if (parapet_policy_dump(p, &s, &n)) { parapet_policy_free(p); return CLI_ERROR; }
        fwrite(s, 1, n, stdout);
        parapet_free(s);
        parapet_policy_free(p);
        return CLI_OK;
    }
    cli_error("policy: unknown subcommand \"%s\" (check or show)", argv[1]);
    return CLI_USAGE;
}
