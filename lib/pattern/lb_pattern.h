/* EventBridge event patterns: compile a pattern, parse an event once, test one pattern against
 * it (with an explanation when it fails), and match an event against many patterns at once.
 *
 * Semantics follow Amazon EventBridge (and its reference engine, aws/event-ruler): field paths
 * join nested keys with '.', a leaf array lists alternatives, an event array matches when any
 * element does, a field absent from the event never matches except through exists:false, and
 * two fields matched inside the same array of objects must be matched by the same element.
 *
 * Ownership: every object is owned by whoever created it and released with its *_free, which
 * takes T ** and clears it. Strings returned through char ** are malloc'd; the caller frees
 * them. Nothing here keeps global state; distinct objects may be used from distinct threads, and
 * a matcher may be read (lb_matcher_match) concurrently as long as nobody modifies it. */
#ifndef LB_PATTERN_H
#define LB_PATTERN_H

#include <stddef.h>
#include <stdint.h>

typedef struct lb_pattern lb_pattern_t; /* one compiled pattern */
typedef struct lb_event lb_event_t;     /* an event parsed and flattened once for matching */
typedef struct lb_matcher lb_matcher_t; /* many patterns indexed together */

/* The API layer rejects longer EventPattern values (AWS: "Member must have length less than or
 * equal to 4096"); the compiler itself accepts any length. */
#define LB_PATTERN_MAX_LEN 4096
/* $or combinations one pattern may expand to before it is "too complex". */
#define LB_PATTERN_MAX_BRANCHES 1024

/* Compiles pattern JSON text. On an invalid pattern returns -EINVAL and sets *errmsg (if errmsg
 * is not NULL) to a malloc'd AWS message, e.g. "Event pattern is not valid. Reason: Empty arrays
 * are not allowed". */
int lb_pattern_compile(const char *json, size_t len, lb_pattern_t **out, char **errmsg);
void lb_pattern_free(lb_pattern_t **p);

/* Parses an event (JSON object text) once; -EINVAL if it is not a JSON object. The lib does not
 * check the envelope (id, source, ...): the API layer does. */
int lb_event_parse(const char *json, size_t len, lb_event_t **out);
/* The same from a tree parsed already (lb_json.h): the event reads the tree's strings, so root's
 * document must outlive it. -EINVAL if root is not an object. */
struct lb_json;
int lb_event_from_json(const struct lb_json *root, lb_event_t **out);
void lb_event_free(lb_event_t **e);

/* 1 match, 0 no match. */
int lb_pattern_matches(const lb_pattern_t *p, const lb_event_t *e);

/* Why did it not match: returns 0 and *why = NULL on a match; else 0 and *why = malloc'd text
 * naming the first pattern field (in path order) that failed and what the event held there, e.g.
 * "field detail.state: pattern wants [\"running\"], event has \"stopped\"" (or "field absent").
 * With $or, each alternative's reason is given, separated by "; or ". -ENOMEM on failure. */
int lb_pattern_explain(const lb_pattern_t *p, const lb_event_t *e, char **why);

int lb_matcher_new(lb_matcher_t **out);
void lb_matcher_free(lb_matcher_t **m);
/* Adds or replaces the pattern for rule_id. The matcher compiles its own copy, so the caller may
 * free p at once. */
int lb_matcher_add(lb_matcher_t *m, uint64_t rule_id, const lb_pattern_t *p);
/* -ENOENT if rule_id is absent. */
int lb_matcher_remove(lb_matcher_t *m, uint64_t rule_id);
/* Number of rules in the matcher. */
size_t lb_matcher_count(const lb_matcher_t *m);
/* All rule ids whose pattern matches, each once, ascending; *ids is malloc'd (NULL when *n is
 * 0) and the caller frees it. Returns 0 or -ENOMEM. */
int lb_matcher_match(const lb_matcher_t *m, const lb_event_t *e, uint64_t **ids, size_t *n);

#endif
