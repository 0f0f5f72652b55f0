/* Event bus policy enforcement. See lb_policy.h. */
#include "lb_policy.h"

#include <string.h>
#include <strings.h>

#include "lb_json.h"

/* '*' matches any run of characters, '?' exactly one (IAM's wildcards). */
static int glob(const char *pat, const char *s, int nocase)
{
    for (; *pat; pat++, s++) {
        if (*pat == '*') {
            while (pat[1] == '*')
                pat++;
            if (!pat[1]) return 1;
            for (; *s; s++)
                if (glob(pat + 1, s, nocase)) return 1;
            return 0;
        }
        if (!*s) return 0;
        if (*pat != '?' && (nocase ? strncasecmp(pat, s, 1) : *pat != *s)) return 0;
    }
    return *s == '\0';
}

/* 1 if test(value) holds for the string v or any string of the array v. */
static int any_string(const lb_json_t *v, int (*test)(const char *, const void *), const void *arg)
{
    if (lb_json_is(v, LB_JSON_STRING)) return test(v->str, arg);
    lb_json_each(e, lb_json_is(v, LB_JSON_ARRAY) ? v : NULL) if (e->type == LB_JSON_STRING &&
                                                                 test(e->str, arg)) return 1;
    return 0;
}

static int principal_names(const char *p, const void *arg)
{
    const char *account = arg;
    if (strcmp(p, "*") == 0 || strcmp(p, account) == 0) return 1;
    /* arn:aws:iam::ACCOUNT:root (any partition) */
    const char *iam = strstr(p, ":iam::");
    return iam && strncmp(p, "arn:", 4) == 0 && strncmp(iam + 6, account, strlen(account)) == 0 &&
           strcmp(iam + 6 + strlen(account), ":root") == 0;
}

static int principal_ok(const lb_json_t *principal, const char *account)
{
    if (lb_json_is(principal, LB_JSON_STRING)) return strcmp(principal->str, "*") == 0;
    return any_string(lb_json_get(principal, "AWS"), principal_names, account);
}

static int action_covers(const char *a, const void *arg)
{
    (void)arg;
    return glob(a, "events:PutEvents", 1);
}

static int resource_covers(const char *r, const void *bus_arn)
{
    return glob(r, bus_arn, 0);
}

typedef struct {
    const char *value;
    int like;
} cond_arg_t;

static int cond_matches(const char *expected, const void *arg)
{
    const cond_arg_t *c = arg;
    return c->value && (c->like ? glob(expected, c->value, 0) : strcmp(expected, c->value) == 0);
}

/* Every condition must hold; one this evaluator does not know does not hold. */
static int conditions_hold(const lb_json_t *cond, const char *account, const char *org_id)
{
    if (!cond) return 1;
    if (cond->type != LB_JSON_OBJECT) return 0;
    lb_json_each(op, cond)
    {
        int like = strcmp(op->key, "StringLike") == 0;
        if (!like && strcmp(op->key, "StringEquals") != 0) return 0;
        lb_json_each(kv, op)
        {
            cond_arg_t c = {.like = like};
            if (strcasecmp(kv->key, "aws:PrincipalOrgID") == 0)
                c.value = org_id;
            else if (strcasecmp(kv->key, "aws:PrincipalAccount") == 0)
                c.value = account;
            else
                return 0;
            if (!any_string(kv, cond_matches, &c)) return 0;
        }
    }
    return 1;
}

static int applies(const lb_json_t *st, const char *bus_arn, const char *account,
                   const char *org_id)
{
    return principal_ok(lb_json_get(st, "Principal"), account) &&
           any_string(lb_json_get(st, "Action"), action_covers, NULL) &&
           any_string(lb_json_get(st, "Resource"), resource_covers, bus_arn) &&
           conditions_hold(lb_json_get(st, "Condition"), account, org_id);
}

int lb_policy_allows_put_events(const char *policy, const char *bus_arn, const char *owner_account,
                                const char *account, const char *org_id)
{
    if (account && owner_account && strcmp(account, owner_account) == 0) return 1;
    if (!policy || !account) return 0;
    lb_json_doc_t *doc = NULL;
    if (lb_json_parse(policy, strlen(policy), LB_JSON_REQUEST_MAX_DEPTH, &doc, NULL)) return 0;
    const lb_json_t *statements = lb_json_get(lb_json_doc_root(doc), "Statement");
    int allowed = 0, denied = 0;
    /* One statement object, or a list of them. */
    const lb_json_t *first = lb_json_is(statements, LB_JSON_ARRAY) ? statements->child : statements;
    for (const lb_json_t *st = first; st && !denied; st = first == statements ? NULL : st->next) {
        if (!lb_json_is(st, LB_JSON_OBJECT) || !applies(st, bus_arn, account, org_id)) continue;
        const char *effect = lb_json_get_str(st, "Effect");
        if (effect && strcmp(effect, "Deny") == 0) denied = 1;
        if (effect && strcmp(effect, "Allow") == 0) allowed = 1;
    }
    lb_json_doc_free(&doc);
    return allowed && !denied;
}
