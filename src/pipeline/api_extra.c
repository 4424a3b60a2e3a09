/*
** api_extra.c -- small public accessors for front ends (`parapet serve`) that need to
** know a policy's guard-tier settings without the internal headers.
**
** Reads the compiled policy (policy.h) only; no allocation.  The guard section's mode
** and band are what the guard detector reads from the engine's policy at open; a
** policy whose detectors switch the guard off reports "never".
*/
#include "pipeline/policy.h"
#include "parapet.h"

/* Fills whichever of mode/low/high are non-NULL from p's guard section.  Borrows p. */
parapet_status parapet_policy_guard_mode(const parapet_policy *p, int *mode, double *low,
                                         double *high) {
    if (!p) return PARAPET_ERR_ARG;
    int m = p->guard_mode == PP_GUARD_RUN_ALWAYS  ? PARAPET_GUARD_ALWAYS
            : p->guard_mode == PP_GUARD_RUN_NEVER ? PARAPET_GUARD_NEVER
                                                  : PARAPET_GUARD_CASCADE;
    if (!p->detector_on[PP_DET_GUARD]) m = PARAPET_GUARD_NEVER;
    if (mode) *mode = m;
    if (low) *low = p->guard_low;
    if (high) *high = p->guard_high;
    return PARAPET_OK;
}
