/* tests for the guard section of a policy (src/pipeline/policy.c): when the guard
** detector runs -- always, never, or in the cascade's uncertain band. */
#include "test.h"
#include "parapet.h"
#include "pipeline/policy.h"

static parapet_status parse(const char *doc, const parapet_policy *base, parapet_policy **p,
                            char **detail) {
    return parapet_policy_parse(doc, strlen(doc), "t.yaml", base, p, detail);
}

TEST(policy_guard_defaults_to_cascade_band) {
    parapet_policy *p;
    CHECK_OK(parapet_policy_default(&p));
    CHECK_EQ(p->guard_mode, PP_GUARD_RUN_CASCADE);
    CHECK_NEAR(p->guard_low, 0.15, 1e-12);
    CHECK_NEAR(p->guard_high, 0.85, 1e-12);
    char *dump;
    CHECK_OK(parapet_policy_dump(p, &dump, NULL));
    CHECK(!strstr(dump, "guard:\n"));        /* defaults are not written */
    CHECK(strstr(dump, "  guard: true\n"));  /* the detector switch is */
    parapet_free(dump);
    parapet_policy_free(p);
}

TEST(policy_guard_section_parses_dumps_and_round_trips) {
    static const char doc[] = "version: 1\nname: g\nextends: default\nguard: {mode: always, low: 0.2, high: 0.7}\n";
    parapet_policy *p, *q;
    char *detail = NULL;
    CHECK_OK(parse(doc, NULL, &p, &detail));
    CHECK_EQ(p->guard_mode, PP_GUARD_RUN_ALWAYS);
    CHECK_NEAR(p->guard_low, 0.2, 1e-12);
    CHECK_NEAR(p->guard_high, 0.7, 1e-12);
    char *dump;
    CHECK_OK(parapet_policy_dump(p, &dump, NULL));
    CHECK(strstr(dump, "guard:\n  mode: always\n  low: 0.2"));
    CHECK_OK(parse(dump, NULL, &q, &detail));   /* the dump reads back the same */
    CHECK_STR(parapet_policy_hash(p), parapet_policy_hash(q));
    CHECK_EQ(q->guard_mode, PP_GUARD_RUN_ALWAYS);
    parapet_free(dump);
    /* the section changes the hash */
    parapet_policy *plain;
    CHECK_OK(parse("version: 1\nname: g\nextends: default\n", NULL, &plain, NULL));
    CHECK(strcmp(parapet_policy_hash(plain), parapet_policy_hash(p)) != 0);
    parapet_policy_free(plain);
    parapet_policy_free(q);
    parapet_policy_free(p);
}

TEST(policy_guard_overlay_keeps_unset_keys) {
    parapet_policy *base, *ov;
    CHECK_OK(parse("version: 1\nextends: default\nguard: {mode: never, low: 0.3}\n", NULL, &base, NULL));
    CHECK_OK(parse("guard: {mode: cascade}\n", base, &ov, NULL));
    CHECK_EQ(ov->guard_mode, PP_GUARD_RUN_CASCADE);
    CHECK_NEAR(ov->guard_low, 0.3, 1e-12);     /* inherited */
    CHECK_NEAR(ov->guard_high, 0.85, 1e-12);
    CHECK_EQ(base->guard_mode, PP_GUARD_RUN_NEVER);
    parapet_policy_free(ov);
    parapet_policy_free(base);
}

TEST(policy_guard_errors_name_the_line) {
    static const char *const bad[][2] = {
        {"version: 1\nguard: {mode: sometimes}\n", "guard mode must be always, never or cascade"},
        {"version: 1\nguard: {low: 1.5}\n", "[0,1]"},
        {"version: 1\nguard: {low: 0.9, high: 0.2}\n", "low must not exceed"},
        {"version: 1\nguard: {model: x}\n", "guard"},
        {"version: 1\nguard: always\n", "guard must be a mapping"},
        {"version: 1\ndetectors: {guard: maybe}\n", "true or false"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        parapet_policy *p = NULL;
        char *d = NULL;
        parapet_status st = parse(bad[i][0], NULL, &p, &d);
        CHECK_MSG(st == PARAPET_ERR_POLICY && !p && d && strstr(d, bad[i][1]) && strstr(d, "t.yaml:2"),
                  "doc %zu: status %d, detail %s", i, st, d ? d : "(null)");
        parapet_free(d);
    }
}

TEST(policy_guard_calibration_parses_dumps_and_inherits) {
    static const char doc[] = "version: 1\nname: c\nextends: default\n"
                              "categories:\n  fraud:\n    description: scams\n"
                              "guard:\n  calibration:\n    violence: {a: 1.5, b: -0.25}\n    fraud: {a: 0.5, b: 2}\n";
    parapet_policy *p, *q, *ov;
    char *detail = NULL;
    CHECK_OK(parse(doc, NULL, &p, &detail));
    int v = p->cats[pp_policy_find(p, "violence")].id, f = p->cats[pp_policy_find(p, "fraud")].id;
    CHECK(p->guard_cal_on[v] && p->guard_cal_on[f]);
    CHECK_NEAR(p->guard_cal_a[v], 1.5, 1e-6);
    CHECK_NEAR(p->guard_cal_b[v], -0.25, 1e-6);
    CHECK_NEAR(p->guard_cal_b[f], 2, 1e-6);
    CHECK(!p->guard_cal_on[p->cats[pp_policy_find(p, "hate")].id]);
    char *dump;
    CHECK_OK(parapet_policy_dump(p, &dump, NULL));
    CHECK(strstr(dump, "  calibration:\n    \"violence\": {a: 1.5, b: -0.25}\n"));
    CHECK_OK(parse(dump, NULL, &q, &detail));   /* reads back the same */
    CHECK_STR(parapet_policy_hash(p), parapet_policy_hash(q));
    parapet_free(dump);
    CHECK_OK(parse("guard: {mode: always}\n", p, &ov, NULL));   /* an overlay keeps them */
    CHECK(ov->guard_cal_on[v]);
    CHECK_NEAR(ov->guard_cal_a[v], 1.5, 1e-6);
    parapet_policy *plain;
    CHECK_OK(parse("version: 1\nname: c\nextends: default\ncategories:\n  fraud:\n    description: scams\n",
                   NULL, &plain, NULL));
    CHECK(strcmp(parapet_policy_hash(plain), parapet_policy_hash(p)) != 0);
    parapet_policy_free(plain);
    parapet_policy_free(ov);
    parapet_policy_free(q);
    parapet_policy_free(p);
}

TEST(policy_guard_calibration_errors_name_the_line) {
    static const char *const bad[][2] = {
        {"extends: default\nguard:\n  calibration:\n    nosuch: {a: 1, b: 0}\n", "t.yaml:4:5: guard calibration: unknown category"},
        {"extends: default\nguard:\n  calibration:\n    hate: {a: 0, b: 0}\n", "a must be a number in (0, 100]"},
        {"extends: default\nguard:\n  calibration:\n    hate: {a: 1, b: 500}\n", "b must be a number in [-100, 100]"},
        {"extends: default\nguard:\n  calibration:\n    hate: {a: 1}\n", "b must be"},
        {"extends: default\nguard:\n  calibration:\n    hate: {a: 1, b: 0, c: 2}\n", "unknown key"},
        {"extends: default\nguard:\n  calibration: [1, 2]\n", "calibration must be a mapping"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        parapet_policy *p = NULL;
        char *detail = NULL;
        CHECK_EQ(parse(bad[i][0], NULL, &p, &detail), PARAPET_ERR_POLICY);
        CHECK_MSG(detail && strstr(detail, bad[i][1]), "case %zu: %s", i, detail ? detail : "(none)");
        parapet_free(detail);
    }
}
