/* fuzz_policy.c -- libFuzzer target: the policy parser (YAML/JSON) on arbitrary
** bytes, both as a whole policy and as an overlay on the default.  Any crash, leak or
** sanitizer report is a bug; a parse error is the expected answer to garbage. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "parapet.h"

static parapet_policy *base;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!base && parapet_policy_default(&base)) abort();
    parapet_policy *p = NULL;
    char *d = NULL;
    if (parapet_policy_parse((const char *)data, size, "fuzz", NULL, &p, &d) == PARAPET_OK) {
        if (!p || d) abort();
        char *s;
        size_t n;
        if (parapet_policy_dump(p, &s, &n) == PARAPET_OK) {
            parapet_policy *q = NULL;
            /* the canonical dump must parse back to the same policy */
            if (parapet_policy_parse(s, n, "dump", NULL, &q, NULL) != PARAPET_OK) abort();
            if (strcmp(parapet_policy_hash(p), parapet_policy_hash(q))) abort();
            parapet_policy_free(q);
            parapet_free(s);
        }
        parapet_policy_free(p);
    } else {
        if (p) abort();
    }
    parapet_free(d);
    d = NULL;
    p = NULL;
    if (parapet_policy_parse((const char *)data, size, "overlay", base, &p, &d) == PARAPET_OK)
        parapet_policy_free(p);
    parapet_free(d);
    return 0;
}
