/* tests for src/pipeline/policy.c: parsing, validation errors with line numbers,
** overlays, canonical dump and hash. */
#include "test.h"
#include "parapet.h"
#include "core/core.h"
#include <stdlib.h>

static parapet_status parse(const char *doc, parapet_policy **p, char **detail) {
    return parapet_policy_parse(doc, strlen(doc), "t.yaml", NULL, p, detail);
}

/* Expects doc to fail and the detail to contain `want`. */
static int fails_with(const char *doc, const char *want) {
    parapet_policy *p = NULL;
    char *d = NULL;
    parapet_status st = parse(doc, &p, &d);
    int ok = st == PARAPET_ERR_POLICY && p == NULL && d && strstr(d, want);
    if (!ok) fprintf(stderr, "    doc: %s\n    status %d, detail: %s (wanted \"%s\")\n", doc, st, d ? d : "(null)", want);
    parapet_free(d);
    parapet_policy_free(p);
    return ok;
}

TEST(default_policy_has_openai_categories_in_order) {
    parapet_policy *p;
    CHECK_OK(parapet_policy_default(&p));
    CHECK_EQ(parapet_policy_category_count(p), 18);
    parapet_category_info ci;
    CHECK_OK(parapet_policy_category(p, 0, &ci));
    CHECK_STR(ci.name, "harassment");
    CHECK_OK(parapet_policy_category(p, 12, &ci));
    CHECK_STR(ci.name, "violence/graphic");
    CHECK_OK(parapet_policy_category(p, 14, &ci));
    CHECK_STR(ci.name, "pii");
    CHECK_EQ(ci.action, PARAPET_ACTION_REDACT);
    CHECK_OK(parapet_policy_category(p, 10, &ci));
    CHECK_STR(ci.name, "sexual/minors");
    CHECK_NEAR(ci.threshold, 0.3, 1e-9);
    CHECK_EQ(strlen(parapet_policy_hash(p)), 64);
    parapet_policy_free(p);
}

TEST(custom_category_with_terms) {
    parapet_policy *p;
    char *d = NULL;
    CHECK_OK(parse("name: shop\ncategories:\n  competitors:\n    description: rival shops\n"
                   "    terms: [acme widget, \"globex\"]\n    weight: 0.7\n    action: review\n", &p, &d));
    CHECK_EQ(parapet_policy_category_count(p), 1);
    parapet_category_info ci;
    CHECK_OK(parapet_policy_category(p, 0, &ci));
    CHECK_STR(ci.name, "competitors");
    CHECK(ci.custom);
    CHECK_EQ(ci.n_terms, 2);
    CHECK_EQ(ci.action, PARAPET_ACTION_REVIEW);
    CHECK_STR(parapet_policy_name(p), "shop");
    parapet_policy_free(p);
}

TEST(json_policy_accepted) {
    parapet_policy *p;
    CHECK_OK(parse("{\"name\": \"j\", \"categories\": {\"hate\": {\"threshold\": 0.2, \"action\": \"block\"}}}", &p, NULL));
    parapet_category_info ci;
    CHECK_OK(parapet_policy_category(p, 0, &ci));
    CHECK_STR(ci.name, "hate");
    CHECK(!ci.custom);
    CHECK_NEAR(ci.threshold, 0.2, 1e-9);
    parapet_policy_free(p);
}

TEST(errors_name_line_and_column) {
    CHECK(fails_with("categories:\n  hate:\n    threshold: 1.5\n", "t.yaml:3:16: threshold must be a number in [0,1]"));
    CHECK(fails_with("categories:\n  hate:\n    action: nuke\n", "t.yaml:3:13: action must be one of"));
    CHECK(fails_with("categories:\n  hate:\n    treshold: 0.5\n", "t.yaml:3:5: hate: unknown key \"treshold\""));
    CHECK(fails_with("categories:\n  Bad Name: {}\n", "t.yaml:2:3: invalid category name"));
    CHECK(fails_with("name: x\nname: y\ncategories: {hate: {}}\n", "t.yaml:2:1: policy: duplicate key \"name\""));
    CHECK(fails_with("categories: [1, 2\n", "t.yaml:"));
    CHECK(fails_with("version: 2\ncategories: {hate: {}}\n", "unsupported policy version"));
    CHECK(fails_with("", "empty policy"));
    CHECK(fails_with("- a\n- b\n", "a policy must be a mapping"));
    CHECK(fails_with("name: x\n", "policy defines no categories"));
    CHECK(fails_with("categories:\n  c:\n    terms: [ok, {a: 1}]\n", "term 2 must be a string"));
    CHECK(fails_with("extends: other\ncategories: {}\n", "extends: only \"default\""));
}

/* Regression (found by fuzz_policy): with "extends: default" a later validation
** error returned PARAPET_OK and an empty policy. */
TEST(extends_default_then_invalid_key_is_an_error) {
    CHECK(fails_with("extends: default\ncategories:\n  c: {tirms: [a, b]}\n", "t.yaml:3:7: c: unknown key \"tirms\""));
}

TEST(aliases_refused_no_billion_laughs) {
    CHECK(fails_with("a: &x [1,2]\nb: *x\n", "anchors and aliases are not supported"));
}

TEST(deep_nesting_refused) {
    char doc[400] = "categories: ";
    for (int i = 0; i < 60; i++) strcat(doc, "[");
    CHECK(fails_with(doc, "nesting deeper"));
}

TEST(invalid_utf8_policy_refused) {
    CHECK(fails_with("name: \xff\xfe\ncategories: {hate: {}}\n", "not valid UTF-8"));
}

TEST(extends_default_then_override) {
    parapet_policy *p;
    CHECK_OK(parse("extends: default\nname: kids\ncategories:\n  profanity: {threshold: 0.2, action: block}\n"
                   "  bullying: {terms: [nobody likes you]}\n", &p, NULL));
    CHECK_EQ(parapet_policy_category_count(p), 19);
    parapet_category_info ci;
    CHECK_OK(parapet_policy_category(p, 13, &ci));
    CHECK_STR(ci.name, "profanity");
    CHECK_NEAR(ci.threshold, 0.2, 1e-9);
    CHECK_EQ(ci.action, PARAPET_ACTION_BLOCK);
    CHECK_OK(parapet_policy_category(p, 18, &ci));
    CHECK_STR(ci.name, "bullying");
    CHECK(ci.custom);
    parapet_policy_free(p);
}

TEST(overlay_changes_only_named_fields) {
    parapet_policy *base, *ov;
    CHECK_OK(parapet_policy_default(&base));
    const char *doc = "{\"categories\": {\"hate\": {\"enabled\": false}}}";
    CHECK_OK(parapet_policy_parse(doc, strlen(doc), "request", base, &ov, NULL));
    CHECK_EQ(parapet_policy_category_count(ov), 18);
    parapet_category_info ci;
    CHECK_OK(parapet_policy_category(ov, 2, &ci));
    CHECK_STR(ci.name, "hate");
    CHECK(!ci.enabled);
    CHECK_EQ(ci.action, PARAPET_ACTION_BLOCK); /* inherited */
    CHECK(strcmp(parapet_policy_hash(ov), parapet_policy_hash(base)) != 0);
    parapet_policy_free(ov);
    parapet_policy_free(base);
}

TEST(dump_round_trips_with_same_hash) {
    parapet_policy *p, *q;
    CHECK_OK(parse("name: r\ncategories:\n  x: {terms: [\"a \\\"q\\\"\", b], weight: 0.5, action: block}\n  hate: {}\n", &p, NULL));
    char *s;
    size_t n;
    CHECK_OK(parapet_policy_dump(p, &s, &n));
    CHECK_OK(parapet_policy_parse(s, n, "dump", NULL, &q, NULL));
    CHECK_STR(parapet_policy_hash(p), parapet_policy_hash(q));
    parapet_free(s);
    parapet_policy_free(p);
    parapet_policy_free(q);
}

TEST(hash_ignores_formatting) {
    parapet_policy *p, *q;
    CHECK_OK(parse("categories:\n  hate:\n    threshold: 0.5\n", &p, NULL));
    CHECK_OK(parse("# comment\ncategories: {hate: {threshold: 0.50}}\n", &q, NULL));
    CHECK_STR(parapet_policy_hash(p), parapet_policy_hash(q));
    parapet_policy_free(p);
    parapet_policy_free(q);
}

TEST(policy_parse_survives_allocation_failures) {
    const char *doc = "extends: default\ncategories:\n  c: {terms: [a, b, c]}\n";
    for (long n = 0; n < 5000; n++) {
        parapet_policy *p = NULL;
        char *d = NULL;
        pp_alloc_fail_after(n);
        parapet_status st = parse(doc, &p, &d);
        pp_alloc_fail_after(-1);
        parapet_free(d);
        if (st == PARAPET_OK) { parapet_policy_free(p); return; }
        CHECK_MSG(p == NULL, "failed parse returned a policy at n=%ld", n);
    }
    CHECK_MSG(0, "never succeeded within 5000 allocations");
}
