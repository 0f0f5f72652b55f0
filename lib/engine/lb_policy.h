/* Event bus resource policies: the document PutPermission builds and RemovePermission edits, the
 * checks a whole Policy document passes, and the question enforcement will ask ("may account X
 * put events on bus Y?"). Pure functions on policy text: no store, no engine, no clock.
 *
 * A policy is kept as the compact JSON text DescribeEventBus returns:
 *   {"Version":"2012-10-17","Statement":[{"Sid":..,"Effect":"Allow","Principal":..,
 *    "Action":"events:PutEvents","Resource":<bus ARN>[,"Condition":{Type:{Key:Value}}]}, ...]}
 * Statements keep the order they were added in; a StatementId already present is replaced where
 * it stands, so statement ids stay unique.
 *
 * Ownership: every char ** out-parameter receives a malloc'd string the caller frees (or NULL
 * where documented). */
#ifndef LB_POLICY_H
#define LB_POLICY_H

#include <stddef.h>

/* EventBridge's "Event bus policy size" quota, in characters. */
#define LB_POLICY_MAX_CHARS 10240

/* PutPermission's Condition: {Type, Key, Value}. */
typedef struct {
    const char *type, *key, *value;
} lb_policy_condition_t;

/* One statement as PutPermission builds it from its parameters. */
typedef struct {
    const char *sid;
    const char *principal; /* a 12-digit account or "*" */
    const char *action;
    const char *resource;                   /* the bus ARN */
    const lb_policy_condition_t *condition; /* NULL: none */
} lb_policy_statement_t;

/* Adds st to policy (NULL or "": none yet), replacing a statement with the same Sid. *out is the
 * new policy text. -EINVAL if policy is not a policy document. */
int lb_policy_put_statement(const char *policy, const lb_policy_statement_t *st, char **out);

/* Removes the statement whose Sid is sid. LB_ENOTFOUND if there is no such statement (or no
 * policy); *out is NULL when no statement is left. */
int lb_policy_remove_statement(const char *policy, const char *sid, char **out);

/* 1 if policy has a statement with this Sid. */
int lb_policy_has_statement(const char *policy, const char *sid);

/* Checks a whole Policy document given to PutPermission: JSON, an object with a Statement (one
 * object or a non-empty list of them), each with an Effect of Allow or Deny, a Principal, an
 * Action and a Resource, and unique Sids. On success *out is the document as compact JSON. On
 * failure -EINVAL and *why says what is wrong (malloc'd). */
int lb_policy_check_document(const char *text, size_t len, char **out, char **why);

/* Characters (UTF-8 code points) of a policy, as the size quota counts them. */
size_t lb_policy_chars(const char *policy);

/* The enforcement hook: 1 if `account` (a member of organization org_id, NULL when unknown) may
 * put events on the bus bus_arn owned by owner_account under policy (NULL: none), else 0. The
 * owner may always. Otherwise an Allow statement must name the account (its id, its
 * arn:...:iam::ID:root, or "*"), an action covering events:PutEvents (exact, "events:*" or "*")
 * and a resource covering the bus ("*" wildcards allowed), and every condition it has must hold
 * (aws:PrincipalOrgID and aws:PrincipalAccount with StringEquals/StringLike); a Deny statement
 * that applies the same way wins over any Allow. */
int lb_policy_allows_put_events(const char *policy, const char *bus_arn, const char *owner_account,
                                const char *account, const char *org_id);

#endif
