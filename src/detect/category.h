/*
** category.h -- parapet's built-in category ids and names.
**
** Detectors report scores against these ids.  A policy may add custom categories;
** they get ids from PP_CAT_BUILTIN_COUNT up to PP_MAX_CATS-1, assigned when the
** policy is compiled.  The names of the first 13 are OpenAI's moderation categories,
** so results are drop-in for /v1/moderations.
*/
#ifndef PP_CATEGORY_H
#define PP_CATEGORY_H

#define PP_CATEGORY_LIST(X)                               \
    X(HARASSMENT, "harassment")                           \
    X(HARASSMENT_THREATENING, "harassment/threatening")   \
    X(HATE, "hate")                                       \
    X(HATE_THREATENING, "hate/threatening")               \
    X(ILLICIT, "illicit")                                 \
    X(ILLICIT_VIOLENT, "illicit/violent")                 \
    X(SELF_HARM, "self-harm")                             \
    X(SELF_HARM_INTENT, "self-harm/intent")               \
    X(SELF_HARM_INSTRUCTIONS, "self-harm/instructions")   \
    X(SEXUAL, "sexual")                                   \
    X(SEXUAL_MINORS, "sexual/minors")                     \
    X(VIOLENCE, "violence")                               \
    X(VIOLENCE_GRAPHIC, "violence/graphic")               \
    X(PROFANITY, "profanity")                             \
    X(PII, "pii")                                         \
    X(SECRETS, "secrets")                                 \
    X(PROMPT_INJECTION, "prompt_injection")               \
    X(SPAM, "spam")

enum {
#define PP_X_CAT(id, name) PP_CAT_##id,
    PP_CATEGORY_LIST(PP_X_CAT)
#undef PP_X_CAT
    PP_CAT_BUILTIN_COUNT
};

#define PP_MAX_CATS 64
#define PP_OPENAI_CAT_COUNT 13 /* the first 13 are OpenAI's */

/* Name of a built-in category, NULL if id is not built in. */
const char *pp_category_name(int id);
/* Id of a built-in category by name, -1 if none. */
int pp_category_id(const char *name);

#endif
