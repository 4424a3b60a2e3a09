/*
** lexicon.h -- the lexicon detector's own API, beyond its vtable (pp_lexicon_detector
** in detector.h).
**
** The vtable compiles the lexicons embedded in the library (data/lexicon/ (one .txt per language)) plus
** the extra term lists of the detector config.  The functions here let the engine
** read a user's one-term-per-line word list into such an extra list, and let tests
** and tools compile a lexicon from their own sources.  The file format is described
** in docs/lexicon.md.
*/
#ifndef PP_LEXICON_H
#define PP_LEXICON_H

#include "detector.h"

/* Parses the common one-term-per-line word list format: UTF-8, one term per line,
** '#' starts a comment line, blank lines skipped, surrounding whitespace and CR
** trimmed, a UTF-8 BOM at the start skipped; on a line with a TAB only the text
** before the first TAB is the term (so parapet's own lexicon files read as lists).
** On success *terms is a heap array of *n heap strings: free with
** pp_lexicon_free_wordlist.  Errors: PARAPET_ERR_LEXICON with *detail (pp_free)
** "source:line: ..." for invalid UTF-8 or a NUL byte; PARAPET_ERR_NOMEM. */
pp_status pp_lexicon_read_wordlist(const char *text, size_t len, const char *source,
                                   char ***terms, size_t *n, char **detail);
void pp_lexicon_free_wordlist(char **terms, size_t n); /* NULL is fine */

typedef struct pp_lexicon pp_lexicon;

/* One lexicon file's text (term<TAB>category<TAB>weight[<TAB>flags] lines). */
typedef struct pp_lexicon_source {
    const char *name;    /* for error messages, e.g. "data/lexicon/en.txt" */
    const char *text;    /* borrowed during the call only */
    size_t len;
} pp_lexicon_source;

/* Compiles lexicon sources and extra term lists into one matcher.  Nothing passed in
** is referenced afterwards.  Errors: PARAPET_ERR_LEXICON with *detail (pp_free, may be
** NULL on NOMEM) naming file:line or source:term; PARAPET_ERR_NOMEM. */
pp_status pp_lexicon_compile(const pp_lexicon_source *src, size_t n_src,
                             const pp_term_list *extra, size_t n_extra,
                             pp_lexicon **out, char **detail);
/* Scans s->text's fold view, reporting hits with pp_scan_add.  Read-only on lx.
** Returns PARAPET_OK or PARAPET_ERR_NOMEM. */
pp_status pp_lexicon_scan(const pp_lexicon *lx, pp_scan *s);
void pp_lexicon_free(pp_lexicon *lx); /* NULL is fine */

/* Compiled patterns (terms plus masked variants, after de-duplication) and automaton
** states; for diagnostics. */
size_t pp_lexicon_patterns(const pp_lexicon *lx);
size_t pp_lexicon_states(const pp_lexicon *lx);

#endif
