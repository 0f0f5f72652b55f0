/* lb_transform: what a rule target receives for an event — EventBridge's Target.Input,
 * Target.InputPath and Target.InputTransformer.
 *
 * A target's input configuration is compiled once, when PutTargets accepts it (that is where
 * AWS reports configuration errors), and rendered once per matched event.
 *
 * Ownership: lb_input_compile allocates the lb_input_t (free with lb_input_free) and, on
 * -EINVAL, a message (free with free()). lb_input_render allocates the body (free with free()).
 * The module keeps no state between calls and does no I/O.
 *
 * Rendering rules, and where each comes from (AWS = recorded answers of the real service in
 * /work/shared/conformance; DOC = the EventBridge user guide, "Amazon EventBridge input
 * transformation"):
 *  - No mode: the event envelope itself.
 *  - Input: the constant JSON text, verbatim.
 *  - InputPath: the JSON text of the value the path names; a string is delivered as a JSON
 *    string with its quotes (AWS: "$.detail.payload.sf_id" delivers "\"baz\"").
 *  - InputTransformer, template starting with '{' (a JSON template, DOC): a placeholder outside
 *    a JSON string becomes the value's JSON text; inside a JSON string it becomes the value's
 *    text, escaped for a JSON string. A path that names nothing yields the empty string, so
 *    outside quotes it renders as "" (AWS:
 * test_put_events_with_input_transformer_input_template_json).
 *  - Any other template (a string template): the template text with each placeholder replaced by
 *    the value's text (AWS: "\"Event of <detail-type> ...\"" keeps its surrounding quotes).
 *  - The text of a value: strings unquoted, numbers/booleans/null as in JSON, objects and arrays
 *    as JSON with every quote removed, e.g. {acc_id:0a787ecb-4015,sf_id:baz} and [HIGH]
 *    (AWS: test_input_transformer_nested_keys_replacement; DOC: "removes any internal quotes").
 *  - Inside a JSON string literal of either kind of template, the text is escaped (", \, control
 *    characters) so that the body stays valid JSON.
 */
#ifndef LB_TRANSFORM_H
#define LB_TRANSFORM_H

#include <stddef.h>

#include "lb_json.h"

/* AWS limits: InputPathsMap holds at most 100 entries; Input and InputTemplate are at most
 * 8192 characters. */
#define LB_INPUT_MAX_PATHS 100
#define LB_INPUT_MAX_TEXT 8192
/* What one target may receive: AWS's event size limit, 256 KB. A body that would be larger is not
 * delivered; the delivery fails with an error saying so. */
#define LB_INPUT_MAX_BODY (256 * 1024)

typedef struct lb_input lb_input_t; /* a target's compiled input configuration (opaque) */

/* Exactly one mode (or none = whole event): input (Target.Input, a JSON text), input_path
 * (Target.InputPath), or transformer (paths_map_json = InputTransformer.InputPathsMap as a JSON
 * object text or NULL, input_template = InputTransformer.InputTemplate). Invalid configuration:
 * -EINVAL and *errmsg = malloc'd message worded as AWS words it for PutTargets (a
 * ValidationException message). -ENOMEM on allocation failure (then *errmsg is NULL).
 * AWS names the target in these messages; this variant has no Id to give, so PutTargets should
 * call lb_input_compile_for_target instead. errmsg may be NULL. */
int lb_input_compile(const char *input, const char *input_path, const char *paths_map_json,
                     const char *input_template, lb_input_t **out, char **errmsg);

/* As lb_input_compile, with the target's Id for the messages that AWS words with it, e.g.
 * "Only one of Input, InputPath, or InputTransformer must be provided for target t1." */
int lb_input_compile_for_target(const char *target_id, const char *input, const char *input_path,
                                const char *paths_map_json, const char *input_template,
                                lb_input_t **out, char **errmsg);

void lb_input_free(lb_input_t **in);

typedef struct {
    const char *rule_arn;       /* <aws.events.rule-arn> */
    const char *rule_name;      /* <aws.events.rule-name> */
    const char *ingestion_time; /* <aws.events.event.ingestion-time>, ISO-8601 */
} lb_input_ctx_t;

/* 1 when the target receives the event envelope unchanged (no Input, InputPath or
 * InputTransformer): the caller can hand over the envelope text it has instead of rendering. */
int lb_input_is_whole_event(const lb_input_t *in);

/* Render the body the target receives for an event: event is the envelope as an lb_json tree
 * (may be NULL for the whole-event and Input modes), event_text the envelope as delivered. *out is
 * malloc'd, NUL-terminated, length in *outlen. Returns 0; -EINVAL when the mode needs a tree and
 * event is not a JSON object; -ENOENT when an InputPath names nothing in this event, in which case
 * nothing is to be delivered to the target (LocalStack's reading; the recorded AWS data does not
 * cover it); -E2BIG when the body would be longer than max_len bytes (rendering stops there);
 * -ENOMEM. ctx may be NULL or have NULL members: the predefined placeholders then render as empty
 * strings (ingestion time falls back to the event's "time"). */
int lb_input_render_tree(const lb_input_t *in, const lb_json_t *event, const char *event_text,
                         size_t event_len, const lb_input_ctx_t *ctx, size_t max_len, char **out,
                         size_t *outlen);

/* The same from the envelope's text alone (parsed here; capped at LB_INPUT_MAX_BODY): for tests
 * and tools. The daemon renders from the tree it parsed once at ingestion. */
int lb_input_render(const lb_input_t *in, const char *event_json, size_t event_len,
                    const lb_input_ctx_t *ctx, char **out, size_t *outlen);

#endif
