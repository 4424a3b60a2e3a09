/* fuzz_jsonl.c -- libFuzzer target: the JSONL record reader, and the whole check of
** any record it accepts (text, id echo, per-request policy overlay), in replace mode
** so arbitrary bytes reach the normalizer and every detector. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "parapet.h"

static parapet_engine *eng;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!eng) {
        parapet_options o;
        parapet_options_init(&o);
        o.utf8_mode = PARAPET_UTF8_REPLACE;
        if (parapet_open(&o, &eng, NULL)) abort();
    }
    parapet_record rec;
    char *d = NULL;
    if (parapet_record_parse((const char *)data, size, &rec, &d) != PARAPET_OK) {
        parapet_free(d);
        return 0;
    }
    parapet_check_opts co = {0};
    parapet_policy *ov = NULL;
    if (rec.policy_json &&
        parapet_policy_parse(rec.policy_json, strlen(rec.policy_json), "req",
                             parapet_engine_policy(eng), &ov, NULL) == PARAPET_OK)
        co.policy = ov;
    parapet_result *r;
    if (parapet_check(eng, rec.text, rec.text_len, &co, &r) == PARAPET_OK) {
        for (size_t i = 0; i < parapet_result_evidence_count(r); i++) {
            parapet_evidence ev;
            parapet_result_evidence(r, i, &ev);
            if (ev.start > ev.end || ev.end > rec.text_len || ev.cp_start > ev.cp_end) abort();
        }
        char *js;
        size_t n;
        if (parapet_result_json(r, 0, &js, &n) == PARAPET_OK) parapet_free(js);
        parapet_result_free(r);
    }
    char *red;
    size_t rn;
    if (parapet_redact(eng, rec.text, rec.text_len, &co, &red, &rn, NULL) == PARAPET_OK) parapet_free(red);
    parapet_policy_free(ov);
    parapet_record_clear(&rec);
    return 0;
}
