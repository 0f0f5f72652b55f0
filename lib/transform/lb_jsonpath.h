/* lb_jsonpath: the subset of JSONPath that EventBridge accepts in Target.InputPath and in
 * InputTransformer.InputPathsMap values.
 *
 * AWS documents the supported syntax as dot notation ("$.detail"), dashes, underscores,
 * alphanumeric characters, array indices ("$.detail.items[0]"), wildcards ("*") and forward
 * slashes. A path is compiled once (at PutTargets time) and evaluated against each event.
 *
 * Ownership: lb_jsonpath_compile allocates the path; the caller frees it with lb_jsonpath_free.
 * lb_jsonpath_eval reads an lb_json tree without copying what a definite path names.
 */
#ifndef LB_JSONPATH_H
#define LB_JSONPATH_H

#include <stddef.h>

#include "lb_json.h"

/* AWS limits InputPath and each InputPathsMap value to 256 characters. */
#define LB_JSONPATH_MAX_LEN 256

typedef struct lb_jsonpath lb_jsonpath_t;

/* Compile `text` (NUL-terminated). Returns 0, -EINVAL when the text is not a path this subset
 * accepts (then *why, if non-NULL, points at a static description of the problem), or -ENOMEM. */
int lb_jsonpath_compile(const char *text, lb_jsonpath_t **out, const char **why);

void lb_jsonpath_free(lb_jsonpath_t **path);

/* Nonzero when the path contains a wildcard, so that its result is an array of all matches
 * rather than a single value. */
int lb_jsonpath_is_indefinite(const lb_jsonpath_t *path);

/* Evaluate against `root`. A definite path yields the one value it names, borrowed from root's
 * tree; an indefinite path yields an array of copies of every match (possibly empty), made in
 * scratch. Returns 0 with *out set, or -ENOENT when a definite path names nothing. */
int lb_jsonpath_eval(const lb_jsonpath_t *path, const lb_json_t *root, lb_json_doc_t *scratch,
                     const lb_json_t **out);

#endif
