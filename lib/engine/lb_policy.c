/* Event bus resource policies. See lb_policy.h. */
#include "lb_policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_json.h"
#include "lb_util.h"

#define POLICY_VERSION "2012-10-17"

/* ---- reading a stored policy ---- */

/* Parses policy text into *doc with *root its object; NULL or "" gives no document and *root
 * NULL. -EINVAL if the text is not a JSON object. */
static int parse_policy(const char *policy, lb_json_doc_t **doc, const lb_json_t **root)
{
    *doc = NULL;
    *root = NULL;
    if (!policy || !*policy) return 0;
    if (lb_json_parse(policy, strlen(policy), LB_JSON_REQUEST_MAX_DEPTH, doc, NULL)) return -EINVAL;
    *root = lb_json_doc_root(*doc);
    if ((*root)->type != LB_JSON_OBJECT) {
        lb_json_doc_free(doc);
        *root = NULL;
        return -EINVAL;
    }
    return 0;
}

/* The i-th statement of a policy: of its Statement list, or its single Statement object. O(i),
 * which is fine for documents of at most LB_POLICY_MAX_CHARS. */
static const lb_json_t *statement_at(const lb_json_t *root, size_t i)
{
    const lb_json_t *s = lb_json_get(root, "Statement");
    if (lb_json_is(s, LB_JSON_OBJECT)) return i == 0 ? s : NULL;
    return lb_json_is(s, LB_JSON_ARRAY) ? lb_json_at(s, i) : NULL;
}

static int sid_is(const lb_json_t *stmt, const char *sid)
{
    const char *s = lb_json_get_str(stmt, "Sid");
    return s && strcmp(s, sid) == 0;
}

/* A new document {"Version": .., "Statement": []} keeping the old one's Version; *list is the
 * empty Statement list to fill. */
static lb_json_doc_t *new_policy(const lb_json_t *old_root, lb_json_t **list)
{
    lb_json_doc_t *doc = lb_json_doc_new();
    lb_json_t *root = lb_json_new(doc, LB_JSON_OBJECT);
    const char *version = lb_json_get_str(old_root, "Version");
    lb_json_add_str(doc, root, "Version", version ? version : POLICY_VERSION);
    const char *id = lb_json_get_str(old_root, "Id");
    if (id) lb_json_add_str(doc, root, "Id", id);
    *list = lb_json_add(doc, root, "Statement", lb_json_new(doc, LB_JSON_ARRAY));
    lb_json_doc_set_root(doc, root);
    return doc;
}

/* The statement PutPermission builds, in AWS's member order. */
static lb_json_t *build_statement(lb_json_doc_t *doc, const lb_policy_statement_t *st)
{
    lb_json_t *s = lb_json_new(doc, LB_JSON_OBJECT);
    lb_json_add_str(doc, s, "Sid", st->sid);
    lb_json_add_str(doc, s, "Effect", "Allow");
    if (strcmp(st->principal, "*") == 0) {
        lb_json_add_str(doc, s, "Principal", "*");
    } else {
        char arn[64];
        snprintf(arn, sizeof arn, "arn:aws:iam::%s:root", st->principal);
        lb_json_t *p = lb_json_add(doc, s, "Principal", lb_json_new(doc, LB_JSON_OBJECT));
        lb_json_add_str(doc, p, "AWS", arn);
    }
    lb_json_add_str(doc, s, "Action", st->action);
    lb_json_add_str(doc, s, "Resource", st->resource);
    if (st->condition) {
        lb_json_t *c = lb_json_add(doc, s, "Condition", lb_json_new(doc, LB_JSON_OBJECT));
        lb_json_t *op = lb_json_add(doc, c, st->condition->type, lb_json_new(doc, LB_JSON_OBJECT));
        lb_json_add_str(doc, op, st->condition->key, st->condition->value);
    }
    return s;
}

int lb_policy_put_statement(const char *policy, const lb_policy_statement_t *st, char **out)
{
    lb_json_doc_t *old;
    const lb_json_t *root;
    *out = NULL;
    if (parse_policy(policy, &old, &root)) return -EINVAL;
    lb_json_t *list;
    lb_json_doc_t *doc = new_policy(root, &list);
    int replaced = 0;
    const lb_json_t *s;
    for (size_t i = 0; root && (s = statement_at(root, i)) != NULL; i++) {
        if (!sid_is(s, st->sid))
            lb_json_add(doc, list, NULL, lb_json_copy(doc, s));
        else if (!replaced)
            lb_json_add(doc, list, NULL, build_statement(doc, st));
        replaced |= sid_is(s, st->sid);
    }
    if (!replaced) lb_json_add(doc, list, NULL, build_statement(doc, st));
    *out = lb_json_print(lb_json_doc_root(doc), NULL);
    lb_json_doc_free(&doc);
    lb_json_doc_free(&old);
    return 0;
}

int lb_policy_has_statement(const char *policy, const char *sid)
{
    lb_json_doc_t *doc;
    const lb_json_t *root;
    int found = 0;
    if (parse_policy(policy, &doc, &root) || !root) return 0;
    const lb_json_t *s;
    for (size_t i = 0; (s = statement_at(root, i)) != NULL; i++)
        found |= sid_is(s, sid);
    lb_json_doc_free(&doc);
    return found;
}

int lb_policy_remove_statement(const char *policy, const char *sid, char **out)
{
    lb_json_doc_t *old;
    const lb_json_t *root;
    *out = NULL;
    if (parse_policy(policy, &old, &root) || !root) return LB_ENOTFOUND;
    lb_json_t *list;
    lb_json_doc_t *doc = new_policy(root, &list);
    int found = 0;
    const lb_json_t *s;
    for (size_t i = 0; (s = statement_at(root, i)) != NULL; i++) {
        if (sid_is(s, sid))
            found = 1;
        else
            lb_json_add(doc, list, NULL, lb_json_copy(doc, s));
    }
    /* A policy without statements is no policy: DescribeEventBus then shows none, as after
     * RemoveAllPermissions. */
    if (found && list->n_children) *out = lb_json_print(lb_json_doc_root(doc), NULL);
    lb_json_doc_free(&doc);
    lb_json_doc_free(&old);
    return found ? 0 : LB_ENOTFOUND;
}

/* ---- checking a whole document ---- */

/* "Policy statement N <what>" as the reason a document was refused. */
static int fail(char **why, int n, const char *what)
{
    lb_buf_t b = {0};
    lb_buf_printf(&b, "Policy statement %d %s", n, what);
    *why = lb_buf_steal(&b, NULL);
    return -EINVAL;
}

static int check_statement(const lb_json_t *s, int n, char **why)
{
    if (s->type != LB_JSON_OBJECT) return fail(why, n, "is not an object.");
    const lb_json_t *sid = lb_json_get(s, "Sid");
    if (sid && sid->type != LB_JSON_STRING) return fail(why, n, "has a Sid that is not a string.");
    const char *effect = lb_json_get_str(s, "Effect");
    if (!effect || (strcmp(effect, "Allow") != 0 && strcmp(effect, "Deny") != 0))
        return fail(why, n, "needs an Effect of Allow or Deny.");
    if (!lb_json_get(s, "Principal")) return fail(why, n, "has no Principal.");
    if (!lb_json_get(s, "Action")) return fail(why, n, "has no Action.");
    if (!lb_json_get(s, "Resource")) return fail(why, n, "has no Resource.");
    return 0;
}

int lb_policy_check_document(const char *text, size_t len, char **out, char **why)
{
    lb_json_doc_t *doc = NULL;
    *out = NULL;
    *why = NULL;
    if (lb_json_parse(text, len, LB_JSON_REQUEST_MAX_DEPTH, &doc, NULL) ||
        lb_json_doc_root(doc)->type != LB_JSON_OBJECT) {
        lb_json_doc_free(&doc);
        *why = lb_strdup("This policy contains invalid Json");
        return -EINVAL;
    }
    const lb_json_t *root = lb_json_doc_root(doc);
    const lb_json_t *stmts = lb_json_get(root, "Statement");
    int rc = 0;
    if (!lb_json_is(stmts, LB_JSON_OBJECT) &&
        !(lb_json_is(stmts, LB_JSON_ARRAY) && stmts->n_children > 0)) {
        *why = lb_strdup("The policy must have a Statement: one statement or a list of them.");
        rc = -EINVAL;
    }
    const lb_json_t *s;
    for (size_t i = 0; rc == 0 && (s = statement_at(root, i)) != NULL; i++) {
        rc = check_statement(s, (int)i + 1, why);
        const char *sid = rc == 0 ? lb_json_get_str(s, "Sid") : NULL;
        const lb_json_t *earlier;
        for (size_t j = 0; sid && rc == 0 && j < i && (earlier = statement_at(root, j)); j++)
            if (sid_is(earlier, sid)) {
                lb_buf_t b = {0};
                lb_buf_printf(&b, "Statement ids must be unique: %s appears more than once.", sid);
                *why = lb_buf_steal(&b, NULL);
                rc = -EINVAL;
            }
    }
    if (rc == 0) *out = lb_json_print(root, NULL);
    lb_json_doc_free(&doc);
    return rc;
}

size_t lb_policy_chars(const char *policy)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)policy; p && *p; p++)
        if ((*p & 0xc0) != 0x80) n++;
    return n;
}

/* ---- enforcement ---- */

/* Glob match with '*' (any run) and '?' (any one character), as IAM compares ARNs. */
static int glob_match(const char *pat, const char *s)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*pat == '*') {
            star = pat++;
            resume = s;
        } else if (*pat == '?' || *pat == *s) {
            pat++;
            s++;
        } else if (star) {
            pat = star + 1;
            s = ++resume;
        } else {
            return 0;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

/* 1 if value (a string or a list of strings) has an element for which test holds. */
static int any_string(const lb_json_t *value, int (*test)(const char *, const void *),
                      const void *ctx)
{
    if (lb_json_is(value, LB_JSON_STRING)) return test(value->str, ctx);
    lb_json_each(v, lb_json_is(value, LB_JSON_ARRAY) ? value : NULL)
    {
        if (v->type == LB_JSON_STRING && test(v->str, ctx)) return 1;
    }
    return 0;
}

static int principal_is(const char *p, const void *account)
{
    char root[64];
    snprintf(root, sizeof root, "arn:aws:iam::%s:root", (const char *)account);
    if (strcmp(p, "*") == 0 || strcmp(p, account) == 0 || strcmp(p, root) == 0) return 1;
    /* Any other partition's root ARN of the same account. */
    const char *tail = strstr(p, ":iam::");
    return tail && strncmp(p, "arn:aws", 7) == 0 && strcmp(tail + 6, root + 13) == 0;
}

static int action_covers(const char *a, const void *unused)
{
    (void)unused;
    return strcmp(a, "*") == 0 || strcmp(a, "events:*") == 0 ||
           strcmp(a, "events:PutEvents") == 0 || glob_match(a, "events:PutEvents");
}

static int resource_covers(const char *r, const void *bus_arn)
{
    return glob_match(r, bus_arn);
}

static int principal_matches(const lb_json_t *p, const char *account)
{
    if (lb_json_is(p, LB_JSON_STRING)) return strcmp(p->str, "*") == 0;
    return any_string(lb_json_get(p, "AWS"), principal_is, account);
}

typedef struct {
    const char *actual;
    int like;
} cond_ctx_t;

static int cond_value_holds(const char *expected, const void *ctx)
{
    const cond_ctx_t *c = ctx;
    if (!c->actual) return 0;
    return c->like ? glob_match(expected, c->actual) : strcmp(expected, c->actual) == 0;
}

/* 1 if every condition of the statement holds; a condition this hook cannot evaluate gives
 * `unknown` (0 for an Allow, so it grants nothing; 1 for a Deny, so it still denies). */
static int conditions_hold(const lb_json_t *cond, const char *account, const char *org_id,
                           int unknown)
{
    lb_json_each(op, lb_json_is(cond, LB_JSON_OBJECT) ? cond : NULL)
    {
        int like = strcmp(op->key, "StringLike") == 0;
        if (!like && strcmp(op->key, "StringEquals") != 0) return unknown;
        lb_json_each(k, lb_json_is(op, LB_JSON_OBJECT) ? op : NULL)
        {
            cond_ctx_t c = {.like = like};
            if (strcmp(k->key, "aws:PrincipalOrgID") == 0)
                c.actual = org_id;
            else if (strcmp(k->key, "aws:PrincipalAccount") == 0)
                c.actual = account;
            else
                return unknown;
            if (!any_string(k, cond_value_holds, &c)) return 0;
        }
    }
    return 1;
}

int lb_policy_allows_put_events(const char *policy, const char *bus_arn, const char *owner_account,
                                const char *account, const char *org_id)
{
    if (!account) return 0;
    if (owner_account && strcmp(owner_account, account) == 0) return 1;
    lb_json_doc_t *doc;
    const lb_json_t *root;
    if (parse_policy(policy, &doc, &root) || !root) return 0;
    int allowed = 0, denied = 0;
    const lb_json_t *s;
    for (size_t i = 0; (s = statement_at(root, i)) != NULL; i++) {
        const char *effect = lb_json_get_str(s, "Effect");
        int deny = effect && strcmp(effect, "Deny") == 0;
        if ((deny || (effect && strcmp(effect, "Allow") == 0)) &&
            principal_matches(lb_json_get(s, "Principal"), account) &&
            any_string(lb_json_get(s, "Action"), action_covers, NULL) &&
            any_string(lb_json_get(s, "Resource"), resource_covers, bus_arn) &&
            conditions_hold(lb_json_get(s, "Condition"), account, org_id, deny)) {
            if (deny)
                denied = 1;
            else
                allowed = 1;
        }
    }
    lb_json_doc_free(&doc);
    return allowed && !denied;
}
