/*
** status.c -- status messages, version, and the small name tables of the public
** header.  The status table itself lives in parapet.h (PARAPET_STATUS_LIST) so the
** enum and its messages cannot drift apart.
*/
#include "core.h"

const char *parapet_strerror(parapet_status st) {
    switch (st) {
#define X(name, value, msg) case name: return msg;
        PARAPET_STATUS_LIST(X)
#undef X
    }
    return "unknown status";
}

const char *parapet_version(void) { return PARAPET_VERSION_STRING; }
unsigned parapet_version_num(void) { return PARAPET_VERSION_NUM; }

const char *parapet_action_name(parapet_action a) {
    switch (a) {
    case PARAPET_ACTION_ALLOW: return "allow";
    case PARAPET_ACTION_FLAG: return "flag";
    case PARAPET_ACTION_REDACT: return "redact";
    case PARAPET_ACTION_REVIEW: return "review";
    case PARAPET_ACTION_BLOCK: return "block";
    }
    return "allow";
}

const char *parapet_transform_name(unsigned i) {
    static const char *names[PARAPET_XF_COUNT] = {
        "case", "confusable", "leet", "separator", "repeat",
        "invisible", "accent", "mask", "decoded"};
    return i < PARAPET_XF_COUNT ? names[i] : "unknown";
}
