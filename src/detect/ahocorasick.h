/*
** ahocorasick.h -- a multi-pattern byte matcher (Aho-Corasick), built once, scanned
** from any number of threads.
**
** The lexicon detector compiles every term, phrase and masked variant of every
** language into one automaton and runs it over the fold view of each text.  The
** workload is many short texts (a chat message, a tweet: ~150 bytes) against a few
** thousand patterns, so the design favours a tight per-byte loop over build time or
** memory:
**
**   - bytes are first mapped to equivalence classes (bytes that occur in no pattern
**     all share class 0), so rows are ~100 entries wide instead of 256, and a
**     transition stores the target row's offset (no multiply per byte);
**   - the shallow states (breadth-first order, the root first) get dense DFA rows with
**     the failure transitions already resolved: one load per byte while the scan stays
**     near the root, which is where it spends almost all its time;
**   - deeper states keep compact sorted child lists and fall back along failure links,
**     which always lead to a shallower state and so eventually to a dense row;
**   - every state id carries a flag bit saying "some pattern ends here or along my
**     output links", so the common case costs one test and no extra load;
**   - an automaton of up to 32,768 states and 128 classes (the shipped lexicons
**     have ~18,000 and ~120) is scanned from 16-bit tables with a row for every
**     state: no sparse states, no branch per byte, half the cache footprint per row,
**     the classes of lowercase prose in the first 64-byte line of each row, and a
**     step that is one shift and one load on the chain from state to state;
**   - nothing is allocated during a scan, and the automaton is never written after
**     pp_ac_build returns.
**
** Pattern ids are the caller's; several patterns may share the same bytes (each is
** reported).  Matches come in no particular order: the scan runs four segments of the
** text as four interleaved streams (see pp_ac_scan in ahocorasick.c).
*/
#ifndef PP_AHOCORASICK_H
#define PP_AHOCORASICK_H

#include "../core/core.h"

typedef struct pp_ac pp_ac;

typedef struct pp_ac_pattern {
    const void *bytes;   /* (len) pattern bytes; borrowed during pp_ac_build only */
    size_t len;          /* >= 1 */
    uint32_t id;         /* reported on a match */
} pp_ac_pattern;

typedef struct pp_ac_match {
    uint32_t start, end; /* byte span in the scanned text, end exclusive */
    uint32_t id;
} pp_ac_match;

/* Builds an automaton from n patterns.  On success *out owns everything it needs (the
** patterns may be freed); free it with pp_ac_free.  Errors: PARAPET_ERR_ARG
** for an empty pattern or more than 2^31 states, PARAPET_ERR_NOMEM. */
pp_status pp_ac_build(const pp_ac_pattern *pats, size_t n, pp_ac **out);
void pp_ac_free(pp_ac *ac); /* NULL is fine */

/* Calls cb(ctx, start, end, id) for every occurrence of every pattern in text[0..n)
** (n < 4 GiB), each once, in no particular order.  A non-zero return from cb stops the scan and
** is returned; otherwise returns 0.  Read-only on ac: safe from many threads. */
typedef int (*pp_ac_cb)(void *ctx, uint32_t start, uint32_t end, uint32_t id);
int pp_ac_scan(const pp_ac *ac, const void *text, size_t n, pp_ac_cb cb, void *ctx);

/* Convenience: writes up to cap matches to out and returns the total number found
** (which may exceed cap; the excess is counted but not stored). */
size_t pp_ac_scan_all(const pp_ac *ac, const void *text, size_t n, pp_ac_match *out,
                      size_t cap);

/* Sizes, for diagnostics and tests. */
size_t pp_ac_states(const pp_ac *ac);       /* number of states, root included */
size_t pp_ac_dense_states(const pp_ac *ac); /* states with a dense row */
size_t pp_ac_classes(const pp_ac *ac);      /* byte equivalence classes */
size_t pp_ac_memory(const pp_ac *ac);       /* bytes held */
int pp_ac_narrow(const pp_ac *ac);          /* scanning 16-bit tables (up to 32,768 states) */

/* Test hook: caps the dense table at max_entries (0 = default) for automata built
** afterwards in this process, so tests exercise the sparse path.  Not thread-safe;
** call only from tests. */
void pp_ac_set_dense_budget(size_t max_entries);
/* Test hook: with allow = 0, automata built afterwards keep only the 32-bit tables
** (as those of more than 32,768 states do), so tests cover that scan too. */
void pp_ac_set_narrow(int allow);

#endif
