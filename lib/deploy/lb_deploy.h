/* lb_deploy: what deploying a template means, without doing it. For each resource (in the
 * template's dependency order) it resolves the properties, names the physical resource, computes
 * the attributes Ref and Fn::GetAtt give and a hash of the resolved properties, and lists the API
 * calls that create, update or delete it. The client (daemon/deploy/) compares hashes with the
 * daemon's stack record, runs the calls and writes the record back.
 *
 * Calls go to the daemon: the EventBridge API (AWS JSON 1.1), the built-in SQS API (AWS JSON 1.0,
 * X-Amz-Target AmazonSQS.*), and the local function endpoint /_localbridge/functions/NAME.
 *
 * Generated names follow CloudFormation's shape, STACK-LOGICALID-SUFFIX, but the suffix is a hash
 * of the stack and logical id instead of random letters, so a redeploy finds the same names.
 *
 * Ownership: every string and tree in an lb_dres_t or lb_dcalls_t belongs to it; clear them with
 * lb_dres_clear and lb_dcalls_free. */
#ifndef LB_DEPLOY_H
#define LB_DEPLOY_H

#include <stddef.h>

#include "lb_json.h"
#include "lb_template.h"

typedef enum {
    LB_DCALL_EVENTS,       /* POST / X-Amz-Target AWSEvents.<op> */
    LB_DCALL_SQS,          /* POST / X-Amz-Target AmazonSQS.<op> */
    LB_DCALL_PUT,          /* PUT <op, a path> with body */
    LB_DCALL_DELETE,       /* DELETE <op, a path> */
    LB_DCALL_MERGE_POLICY, /* op: a bus name; body: one statement with its Sid. The client reads
                              the bus's policy, replaces or adds that statement, and puts it back
                              with PutPermission Policy, so several EventBusPolicy resources can
                              share a bus. */
} lb_dcall_kind_t;

typedef struct {
    lb_dcall_kind_t kind;
    char *op;
    char *body;          /* JSON text, NULL for DELETE */
    int missing_ok;      /* deleting: ResourceNotFound / 404 counts as done */
    const char *capture; /* a member of the answer whose string becomes attribute capture_attr */
    const char *capture_attr;
} lb_dcall_t;

typedef struct {
    lb_dcall_t *v;
    size_t n, cap;
} lb_dcalls_t;

typedef struct {
    const char *stack_name, *region, *account_id;
    const char *endpoint;      /* the daemon's URL: queue URLs are ENDPOINT/ACCOUNT/NAME */
    const char *template_dir;  /* CodeUri and Code paths are relative to it */
    const char *lambda_runner; /* the Python runner functions are started with */
} lb_deploy_ctx_t;

/* An attribute value not known before the resource exists (a connection's ARN): shown in plans,
 * and a dependent whose properties hold it is always updated. */
#define LB_DEPLOY_UNKNOWN "(known after deploy)"

typedef struct {
    const char *logical_id, *type; /* the template's */
    int line;
    int skipped;       /* a type LocalBridge does not deploy (IAM, alarms, buckets...) */
    const char *why;   /* for a skipped one */
    char *physical_id; /* the resource's name; for a rule on another bus "BUS|NAME" */
    char hash[65];     /* SHA-256 of type and resolved properties, hex */
    lb_json_doc_t *doc;
    lb_json_t *props; /* resolved Properties (an object, maybe empty) */
    lb_json_t *attrs; /* attribute name -> string, "Ref" included */
} lb_dres_t;

/* 1 if LocalBridge creates resources of this type. */
int lb_deploy_supported(const char *type);

/* Resolves resource i of t (lb_template_resource order). old_attrs: the stack record's attributes
 * of this logical id (or NULL), reused when the physical id is unchanged for attributes only an
 * answer tells. Publishes Ref and the attributes to t for the resources that follow. 0, or
 * -EINVAL with *err naming the resource and its line. */
int lb_deploy_resolve(lb_template_t *t, size_t i, const lb_deploy_ctx_t *ctx,
                      const lb_json_t *old_attrs, lb_dres_t *out, char **err);
/* After a call captured an attribute: records it in r and publishes it to t. */
void lb_deploy_set_attr(lb_template_t *t, lb_dres_t *r, const char *attr, const char *value);
void lb_dres_clear(lb_dres_t *r);

/* 1 when the change from the recorded resource (type, physical id, properties) needs a new
 * resource rather than an update: another type or name, another bus, another archive source. */
int lb_deploy_needs_replace(const lb_dres_t *r, const char *old_type, const char *old_physical,
                            const lb_json_t *old_props);

/* The calls that make r exist as resolved: old_props NULL to create, else the recorded
 * properties to update from (targets, tags and SAM events that went away are removed).
 * old_attrs: the recorded attributes (queue URL, ARNs). 0 or -EINVAL with *err. */
int lb_deploy_upsert_calls(const lb_deploy_ctx_t *ctx, const lb_dres_t *r,
                           const lb_json_t *old_props, const lb_json_t *old_attrs, lb_dcalls_t *out,
                           char **err);
/* The calls that delete a recorded resource, from its record alone: a rule's targets before the
 * rule, a function's event rules before the function. */
void lb_deploy_delete_calls(const lb_deploy_ctx_t *ctx, const char *type, const char *physical_id,
                            const lb_json_t *props, const lb_json_t *attrs, lb_dcalls_t *out);

void lb_dcalls_free(lb_dcalls_t *calls);

#endif
