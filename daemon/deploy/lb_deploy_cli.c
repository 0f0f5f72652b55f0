/* `localbridge deploy`: see lb_deploy_cli.h. Reads the template, asks the daemon who it is
 * (account, region) and what the stack holds, walks the resources in dependency order deciding
 * create / update / replace / unchanged by the hash of their resolved properties, runs the calls
 * (not with --plan), deletes what the template no longer has, and writes the record back. */
#include "lb_deploy_cli.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lb_awsconfig.h"
#include "lb_deploy.h"
#include "lb_deploy_http.h"
#include "lb_template.h"

#define MAX_TEMPLATE_BYTES (1u << 20) /* CloudFormation's limit for a template from S3 */

typedef struct {
    const char *file, *stack, *endpoint, *region, *runner;
    const char **overrides;
    size_t n_overrides;
    char **owned; /* rewritten overrides */
    size_t n_owned;
    int plan, json;
} options_t;

typedef struct {
    options_t o;
    lb_template_t *t;
    lb_dclient_t *client;
    lb_deploy_ctx_t ctx;
    lb_json_doc_t *old_doc; /* the stack record as the daemon had it */
    const lb_json_t *old;   /* its Resources list */
    lb_json_doc_t *out_doc; /* the record being written */
    lb_json_t *record;      /* its Resources list */
    lb_json_t *changes;     /* for --json */
    lb_json_t *outputs;     /* the template's Outputs, resolved */
    int counts[6];          /* create, update, replace, delete, unchanged, skipped */
    int quiet;              /* the dry walk before a deploy reports nothing */
    /* Replaced resources whose old one has another name: deleted at the end, as
     * CloudFormation's clean-up does, once nothing refers to them any more. */
    const char **replaced;
    size_t n_replaced;
    char *failure;
} deploy_t;

enum { N_CREATE, N_UPDATE, N_REPLACE, N_DELETE, N_SAME, N_SKIP };
static const char *const action_names[] = {"create", "update",    "replace",
                                           "delete", "unchanged", "skipped"};
static const char *const action_marks[] = {"+", "~", "-/+", "-", "=", " "};

static const char help_text[] =
    "Usage: localbridge deploy TEMPLATE [--stack-name NAME] [--parameter-overrides K=V ...]\n"
    "                          [--plan] [--endpoint-url URL] [--region REGION]\n"
    "                          [--lambda-runner PATH] [--json]\n"
    "\n"
    "Deploys a CloudFormation or SAM template (YAML or JSON) to a running LocalBridge daemon.\n"
    "Deploying again converges: unchanged resources are left alone, changed ones updated,\n"
    "removed ones deleted. --plan prints the changes (+ create, ~ update, -/+ replace,\n"
    "- delete, = unchanged) and changes nothing.\n"
    "\n"
    "  --stack-name NAME        default: the template's file name without extension (the\n"
    "                           directory's name for template.yaml)\n"
    "  --parameter-overrides    Key=Value words, up to the next option\n"
    "  --endpoint-url URL       default: $LOCALBRIDGE_ENDPOINT_URL, $AWS_ENDPOINT_URL, or\n"
    "                           http://127.0.0.1:4010\n"
    "  --region REGION          default: $AWS_REGION, $AWS_DEFAULT_REGION, or the daemon's\n"
    "  --lambda-runner PATH     the Python runner for functions (default: the one installed\n"
    "                           beside localbridge, else localbridge-lambda-python on PATH)\n"
    "  --json                   one JSON document with every change instead of text\n"
    "\n"
    "Exit status: 0 done, 1 a call failed (resource, line and AWS error printed),\n"
    "2 a usage or template error.\n";

static int usage(const char *why)
{
    if (why) fprintf(stderr, "localbridge deploy: %s\n", why);
    /* The synopsis: the help's first paragraph. */
    fprintf(stderr, "%.*s", (int)(strstr(help_text, "\n\n") - help_text + 1), help_text);
    return 2;
}

/* The default stack name: the template's file name without extension, or for a SAM project's
 * template.yaml its directory's name (examples/alchemiser/template.yaml -> alchemiser), made a
 * valid stack name (a letter first, then letters, digits and '-'). */
static void default_stack(const char *file, char *out, size_t outlen)
{
    char *copy = lb_strdup(file), *copy2 = lb_strdup(file);
    const char *base = basename(copy);
    size_t n = strcspn(base, ".");
    if (n == 8 && strncmp(base, "template", 8) == 0) {
        char *abs = realpath(file, NULL);
        const char *dir = basename(dirname(abs ? abs : copy2));
        if (dir[0] && strcmp(dir, "/") != 0 && strcmp(dir, ".") != 0) {
            free(copy);
            copy = lb_strdup(dir);
            base = copy;
            n = strlen(base);
        }
        free(abs);
    }
    int letter = (base[0] >= 'a' && base[0] <= 'z') || (base[0] >= 'A' && base[0] <= 'Z');
    snprintf(out, outlen, "%s%.*s", letter ? "" : "stack-", (int)n, base);
    for (char *p = out; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
            *p = '-';
    free(copy);
    free(copy2);
}

/* "ParameterKey=K,ParameterValue=V" (the AWS CLI's shape) as "K=V"; other words as they are.
 * The rewritten text is kept in o->owned and freed with it. */
static const char *sam_override(options_t *o, const char *word)
{
    const char *k = "ParameterKey=", *v = ",ParameterValue=";
    const char *sep = strstr(word, v);
    if (strncmp(word, k, strlen(k)) != 0 || !sep) return word;
    lb_buf_t b = {0};
    lb_buf_printf(&b, "%.*s=%s", (int)(sep - word - strlen(k)), word + strlen(k), sep + strlen(v));
    char *text = lb_buf_steal(&b, NULL);
    o->owned = lb_xrealloc(o->owned, (o->n_owned + 1) * sizeof *o->owned);
    o->owned[o->n_owned++] = text;
    return text;
}

/* 0, -1 on a usage error, 1 for --help. */
static int parse_args(int argc, char **argv, options_t *o)
{
    o->overrides = lb_xcalloc((size_t)argc + 1, sizeof *o->overrides);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return 1;
        else if (strcmp(a, "--plan") == 0)
            o->plan = 1;
        else if (strcmp(a, "--json") == 0)
            o->json = 1;
        else if (strcmp(a, "--stack-name") == 0 && has_value)
            o->stack = argv[++i];
        else if (strcmp(a, "--endpoint-url") == 0 && has_value)
            o->endpoint = argv[++i];
        else if (strcmp(a, "--region") == 0 && has_value)
            o->region = argv[++i];
        else if (strcmp(a, "--lambda-runner") == 0 && has_value)
            o->runner = argv[++i];
        else if (strcmp(a, "--parameter-overrides") == 0) {
            /* Like `sam deploy`: every following word up to the next option, Key=Value or
             * ParameterKey=Key,ParameterValue=Value. */
            while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
                o->overrides[o->n_overrides++] = sam_override(o, argv[++i]);
        } else if (a[0] == '-' && a[1])
            return -1;
        else if (!o->file)
            o->file = a;
        else
            return -1;
    }
    return o->file ? 0 : -1;
}

static char *read_file(const char *path, size_t *len, char **err)
{
    FILE *f = fopen(path, "rb");
    lb_buf_t b = {0};
    if (!f) {
        lb_buf_printf(&b, "%s: %s", path, strerror(errno));
        *err = lb_buf_steal(&b, NULL);
        return NULL;
    }
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len <= MAX_TEMPLATE_BYTES)
        lb_buf_append(&b, chunk, n);
    fclose(f);
    if (b.len > MAX_TEMPLATE_BYTES) {
        lb_buf_free(&b);
        lb_buf_printf(&b, "%s: a template is at most 1 MB", path);
        *err = lb_buf_steal(&b, NULL);
        return NULL;
    }
    lb_buf_puts(&b, "");
    return lb_buf_steal(&b, len);
}

/* Who the daemon is: its account and region, from the default bus's ARN. */
static int whoami(deploy_t *d, char *region, size_t rlen, char *account, size_t alen)
{
    int status;
    lb_json_doc_t *resp = NULL;
    char *err = NULL;
    if (lb_dclient_request(d->client, "POST", "/", "AWSEvents.DescribeEventBus",
                           "application/x-amz-json-1.1", "{}", &status, &resp, &err)) {
        d->failure = err;
        return -1;
    }
    const char *arn = lb_json_get_str(resp ? lb_json_doc_root(resp) : NULL, "Arn");
    char r[64] = "", a[64] = "";
    if (status != 200 || !arn || sscanf(arn, "arn:%*[^:]:events:%63[^:]:%63[^:]:", r, a) != 2) {
        lb_buf_t b = {0};
        const lb_json_t *root = resp ? lb_json_doc_root(resp) : NULL;
        const char *type = lb_json_get_str(root, "__type"), *msg = lb_json_get_str(root, "message");
        if (type)
            lb_buf_printf(&b, "%s refused DescribeEventBus: %s: %s", d->o.endpoint, type,
                          msg ? msg : "");
        else
            lb_buf_printf(&b, "%s does not answer like LocalBridge (DescribeEventBus: status %d)",
                          d->o.endpoint, status);
        d->failure = lb_buf_steal(&b, NULL);
        lb_json_doc_free(&resp);
        return -1;
    }
    snprintf(region, rlen, "%s", r);
    snprintf(account, alen, "%s", a);
    lb_json_doc_free(&resp);
    return 0;
}

static int load_record(deploy_t *d)
{
    char path[300];
    int status;
    char *err = NULL;
    snprintf(path, sizeof path, "/_localbridge/stacks/%s", d->o.stack);
    if (lb_dclient_request(d->client, "GET", path, NULL, NULL, NULL, &status, &d->old_doc, &err)) {
        d->failure = err;
        return -1;
    }
    if (status == 200 && d->old_doc) {
        d->old = lb_json_get(lb_json_doc_root(d->old_doc), "Resources");
        return 0;
    }
    const lb_json_t *root = d->old_doc ? lb_json_doc_root(d->old_doc) : NULL;
    const char *type = lb_json_get_str(root, "__type");
    if (type && strcmp(type, "ResourceNotFoundException") == 0) return 0;
    lb_buf_t b = {0};
    lb_buf_printf(&b, "reading the stack record: %s",
                  lb_json_get_str(root, "message") ? lb_json_get_str(root, "message")
                                                   : "unexpected answer");
    d->failure = lb_buf_steal(&b, NULL);
    return -1;
}

static int save_record(deploy_t *d)
{
    char path[300];
    int status;
    char *err = NULL;
    lb_json_doc_t *resp = NULL;
    snprintf(path, sizeof path, "/_localbridge/stacks/%s", d->o.stack);
    lb_json_t *body = lb_json_new(d->out_doc, LB_JSON_OBJECT);
    lb_json_add(d->out_doc, body, "Resources", d->record);
    char *text = lb_json_print(body, NULL);
    int rc = lb_dclient_request(d->client, "PUT", path, NULL, NULL, text, &status, &resp, &err);
    free(text);
    if (rc == 0 && status != 200) {
        lb_buf_t b = {0};
        lb_buf_printf(&b, "writing the stack record: status %d", status);
        err = lb_buf_steal(&b, NULL);
        rc = -1;
    }
    lb_json_doc_free(&resp);
    if (rc && !d->failure)
        d->failure = err;
    else
        free(err);
    return rc;
}

static const lb_json_t *old_entry(deploy_t *d, const char *logical_id)
{
    lb_json_each(e, d->old)
    {
        const char *id = lb_json_get_str(e, "LogicalId");
        if (id && strcmp(id, logical_id) == 0) return e;
    }
    return NULL;
}

static void report(deploy_t *d, int action, const char *id, const char *type, const char *phys,
                   int line, const char *note)
{
    d->counts[action]++;
    if (d->quiet) return;
    if (d->o.json) {
        lb_json_t *c =
            lb_json_add(d->out_doc, d->changes, NULL, lb_json_new(d->out_doc, LB_JSON_OBJECT));
        lb_json_add_str(d->out_doc, c, "Action", action_names[action]);
        lb_json_add_str(d->out_doc, c, "LogicalId", id);
        lb_json_add_str(d->out_doc, c, "Type", type);
        lb_json_add_str(d->out_doc, c, "PhysicalId", phys);
        if (line) lb_json_add(d->out_doc, c, "Line", lb_json_new_int(d->out_doc, line));
        lb_json_add_str(d->out_doc, c, "Note", note);
        return;
    }
    printf("%-3s %s (%s)", action_marks[action], id, type);
    if (phys) printf(" %s", phys);
    if (note) printf("  [%s]", note);
    printf("\n");
}

static void record_entry(deploy_t *d, const lb_dres_t *r, const char *hash)
{
    lb_json_doc_t *doc = d->out_doc;
    lb_json_t *e = lb_json_add(doc, d->record, NULL, lb_json_new(doc, LB_JSON_OBJECT));
    lb_json_add_str(doc, e, "LogicalId", r->logical_id);
    lb_json_add_str(doc, e, "Type", r->type);
    lb_json_add_str(doc, e, "PhysicalId", r->physical_id);
    lb_json_add_str(doc, e, "Hash", hash);
    lb_json_t *attrs = lb_json_add(doc, e, "Attributes", lb_json_new(doc, LB_JSON_OBJECT));
    lb_json_each(a, r->attrs) if (a->type == LB_JSON_STRING)
        lb_json_add(doc, attrs, a->key, lb_json_copy(doc, a));
    lb_json_add(doc, e, "Properties", lb_json_copy(doc, r->props));
}

/* Runs calls; returns the number that succeeded before a failure, or -1 when all did. */
static int run_calls(deploy_t *d, lb_dres_t *r, const lb_dcalls_t *calls, char **err)
{
    for (size_t i = 0; i < calls->n; i++) {
        char *captured = NULL;
        if (lb_dclient_run(d->client, &calls->v[i], &captured, err)) return (int)i;
        if (captured && r) lb_deploy_set_attr(d->t, r, calls->v[i].capture_attr, captured);
        free(captured);
    }
    return -1;
}

static void fail_resource(deploy_t *d, const char *id, const char *type, int line, const char *what,
                          const char *err)
{
    lb_buf_t b = {0};
    lb_buf_printf(&b, "%s:%d: Resource %s (%s): %s%s%s", d->o.file, line, id, type,
                  what ? what : "", what ? " failed: " : "", err);
    free(d->failure);
    d->failure = lb_buf_steal(&b, NULL);
}

/* Copies the recorded entries whose logical id the new record lacks: after a failure, what was
 * not reached stays as it was, to be retried by the next deploy. */
static void keep_unreached(deploy_t *d)
{
    lb_json_each(e, d->old)
    {
        const char *id = lb_json_get_str(e, "LogicalId");
        int have = 0;
        lb_json_each(n, d->record) have |= id && strcmp(lb_json_get_str(n, "LogicalId"), id) == 0;
        if (id && !have) lb_json_add(d->out_doc, d->record, NULL, lb_json_copy(d->out_doc, e));
    }
}

static int decide(const lb_dres_t *r, const lb_json_t *old)
{
    if (!old) return N_CREATE;
    if (lb_deploy_needs_replace(r, lb_json_get_str(old, "Type"), lb_json_get_str(old, "PhysicalId"),
                                lb_json_get(old, "Properties")))
        return N_REPLACE;
    return strcmp(r->hash, lb_json_get_str(old, "Hash")) == 0 ? N_SAME : N_UPDATE;
}

/* One resource: 0 done, 1 a call failed, 2 a template error. */
static int apply_resource(deploy_t *d, size_t i)
{
    lb_tpl_resource_t res;
    lb_template_resource(d->t, i, &res);
    const lb_json_t *old = old_entry(d, res.logical_id);
    const lb_json_t *old_attrs = lb_json_get(old, "Attributes");
    const lb_json_t *old_props = lb_json_get(old, "Properties");
    lb_dres_t r;
    char *err = NULL;
    if (lb_deploy_resolve(d->t, i, &d->ctx, old_attrs, &r, &err)) {
        free(d->failure);
        d->failure = err;
        lb_dres_clear(&r);
        return 2;
    }
    if (r.skipped) {
        report(d, N_SKIP, r.logical_id, r.type, NULL, r.line, r.why);
        lb_dres_clear(&r);
        return 0;
    }
    int action = decide(&r, old);
    report(d, action, r.logical_id, r.type, r.physical_id, r.line, NULL);
    if (action == N_SAME) {
        record_entry(d, &r, r.hash);
        lb_dres_clear(&r);
        return 0;
    }
    lb_dcalls_t calls = {0};
    if (action == N_REPLACE && strcmp(lb_json_get_str(old, "PhysicalId"), r.physical_id) == 0 &&
        strcmp(lb_json_get_str(old, "Type"), r.type) == 0)
        /* The same name: the old one must go before the new one can be made. */
        lb_deploy_delete_calls(&d->ctx, r.type, r.physical_id, old_props, old_attrs, &calls);
    else if (action == N_REPLACE)
        d->replaced[d->n_replaced++] = lb_json_get_str(old, "LogicalId");
    int rc = 0;
    if (lb_deploy_upsert_calls(&d->ctx, &r, action == N_UPDATE ? old_props : NULL, old_attrs,
                               &calls, &err)) {
        fail_resource(d, r.logical_id, r.type, r.line, NULL, err);
        free(err);
        rc = 2;
    } else if (!d->o.plan) {
        int done = run_calls(d, &r, &calls, &err);
        if (done >= 0) {
            fail_resource(d, r.logical_id, r.type, r.line, calls.v[done].op, err);
            free(err);
            /* Something was made: the next deploy updates it rather than creating it again. */
            if (done > 0 && action != N_UPDATE) record_entry(d, &r, "incomplete");
            rc = 1;
        } else {
            record_entry(d, &r, r.hash);
        }
    }
    lb_dcalls_free(&calls);
    lb_dres_clear(&r);
    return rc;
}

/* Recorded resources the template no longer has (or whose Condition is now false), newest
 * first. 0 or 1 (a call failed). */
static int delete_removed(deploy_t *d)
{
    size_t n = d->old ? d->old->n_children : 0;
    for (size_t k = n; k-- > 0;) {
        const lb_json_t *e = lb_json_at(d->old, k);
        const char *id = lb_json_get_str(e, "LogicalId");
        int present = 0;
        for (size_t i = 0; i < lb_template_resource_count(d->t); i++) {
            lb_tpl_resource_t res;
            lb_template_resource(d->t, i, &res);
            present |= strcmp(res.logical_id, id) == 0;
        }
        for (size_t r = 0; r < d->n_replaced; r++)
            present &= strcmp(d->replaced[r], id) != 0;
        if (present) continue;
        const char *type = lb_json_get_str(e, "Type"), *phys = lb_json_get_str(e, "PhysicalId");
        int cleanup = 0;
        for (size_t r = 0; r < d->n_replaced; r++)
            cleanup |= strcmp(d->replaced[r], id) == 0;
        if (!cleanup) report(d, N_DELETE, id, type, phys, 0, NULL);
        if (d->o.plan) continue;
        lb_dcalls_t calls = {0};
        char *err = NULL;
        lb_deploy_delete_calls(&d->ctx, type, phys, lb_json_get(e, "Properties"),
                               lb_json_get(e, "Attributes"), &calls);
        int done = run_calls(d, NULL, &calls, &err);
        if (done >= 0) {
            lb_buf_t b = {0};
            lb_buf_printf(&b, "%s: Resource %s (%s): deleting: %s failed: %s", d->o.file, id, type,
                          calls.v[done].op, err);
            free(d->failure);
            d->failure = lb_buf_steal(&b, NULL);
            free(err);
            lb_dcalls_free(&calls);
            return 1;
        }
        lb_dcalls_free(&calls);
    }
    return 0;
}

/* The template's Outputs, resolved now that every resource is known: printed like `sam deploy`
 * prints them, and in the JSON document. 0, or 2 with d->failure. */
static int outputs(deploy_t *d)
{
    const lb_json_t *outs = lb_template_section(d->t, "Outputs");
    d->outputs = lb_json_new(d->out_doc, LB_JSON_OBJECT);
    lb_json_each(o, outs)
    {
        const char *cond = lb_json_get_str(o, "Condition");
        int truth = 1;
        char *err = NULL;
        lb_json_t *v = NULL;
        if ((cond && lb_template_condition(d->t, cond, &truth, &err)) ||
            (truth &&
             lb_template_resolve(d->t, lb_json_get(o, "Value"), NULL, d->out_doc, &v, &err))) {
            free(d->failure);
            d->failure = err;
            return 2;
        }
        if (truth && v) lb_json_add(d->out_doc, d->outputs, o->key, v);
    }
    return 0;
}

static void summary(deploy_t *d, int rc)
{
    const int *c = d->counts;
    if (d->o.json) {
        lb_json_doc_t *doc = d->out_doc;
        lb_json_t *o = lb_json_new(doc, LB_JSON_OBJECT);
        lb_json_add_str(doc, o, "StackName", d->o.stack);
        lb_json_add(doc, o, "Plan", lb_json_new_bool(doc, d->o.plan));
        lb_json_add(doc, o, "Changes", d->changes);
        for (int i = 0; i < 6; i++)
            lb_json_add(doc, o, action_names[i], lb_json_new_int(doc, c[i]));
        if (d->outputs && d->outputs->n_children) lb_json_add(doc, o, "Outputs", d->outputs);
        if (rc) lb_json_add_str(doc, o, "Error", d->failure);
        char *text = lb_json_print(o, NULL);
        printf("%s\n", text);
        free(text);
    } else if (rc == 0) {
        if (d->outputs && d->outputs->n_children) printf("Outputs:\n");
        lb_json_each(v, d->outputs)
        {
            char *text = v->type == LB_JSON_STRING ? NULL : lb_json_print(v, NULL);
            printf("  %s = %s\n", v->key, text ? text : v->str);
            free(text);
        }
        printf("%s stack %s: %d to create, %d to update, %d to replace, %d to delete, "
               "%d unchanged, %d skipped.\n",
               d->o.plan ? "Plan for" : "Deployed", d->o.stack, c[N_CREATE], c[N_UPDATE],
               c[N_REPLACE], c[N_DELETE], c[N_SAME], c[N_SKIP]);
    }
    if (rc && d->failure) fprintf(stderr, "localbridge deploy: %s\n", d->failure);
}

static int walk(deploy_t *d);

static char *slurp(const char *path, size_t *len)
{
    char *err = NULL;
    char *text = path ? read_file(path, len, &err) : NULL;
    free(err);
    return text;
}

/* The caller's AWS credentials as the AWS CLI finds them: the environment, then the static keys
 * of the profile (AWS_PROFILE, else "default") in the shared credentials and config files.
 * None found: requests go unsigned. */
static void find_credentials(lb_aws_creds_t *out)
{
    const char *key = getenv("AWS_ACCESS_KEY_ID"), *secret = getenv("AWS_SECRET_ACCESS_KEY");
    if (key && *key && secret && *secret) {
        out->access_key_id = lb_strdup(key);
        out->secret_access_key = lb_strdup(secret);
        const char *token = getenv("AWS_SESSION_TOKEN");
        out->session_token = token && *token ? lb_strdup(token) : NULL;
        return;
    }
    const char *home = getenv("HOME");
    char cpath[4096] = "", fpath[4096] = "";
    const char *c = getenv("AWS_SHARED_CREDENTIALS_FILE"), *f = getenv("AWS_CONFIG_FILE");
    if (c)
        snprintf(cpath, sizeof cpath, "%s", c);
    else if (home)
        snprintf(cpath, sizeof cpath, "%s/.aws/credentials", home);
    if (f)
        snprintf(fpath, sizeof fpath, "%s", f);
    else if (home)
        snprintf(fpath, sizeof fpath, "%s/.aws/config", home);
    size_t clen = 0, flen = 0;
    char *ctext = slurp(cpath[0] ? cpath : NULL, &clen);
    char *ftext = slurp(fpath[0] ? fpath : NULL, &flen);
    const char *profile = getenv("AWS_PROFILE");
    lb_aws_profile_t p = {0};
    if ((ctext || ftext) &&
        lb_aws_profile_read(ctext, clen, ftext, flen, profile && *profile ? profile : "default",
                            &p) == 0 &&
        p.keys.access_key_id)
        lb_aws_creds_copy(out, &p.keys);
    lb_aws_profile_clear(&p);
    if (ctext) OPENSSL_cleanse(ctext, clen);
    free(ctext);
    free(ftext);
}

static int deploy(deploy_t *d, const char *text, size_t len)
{
    char *err = NULL, region[64], account[64];
    if (lb_template_parse(d->o.file, text, len, &d->t, &err)) {
        d->failure = err;
        return 2;
    }
    lb_aws_creds_t creds = {0};
    find_credentials(&creds);
    lb_dclient_auth_t auth = {.access_key_id = creds.access_key_id,
                              .secret_access_key = creds.secret_access_key,
                              .session_token = creds.session_token,
                              .admin_token = getenv("LOCALBRIDGE_ADMIN_TOKEN"),
                              .region = d->o.region};
    int bad_url = lb_dclient_new(d->o.endpoint, &auth, &d->client);
    lb_aws_creds_clear(&creds);
    if (bad_url) {
        lb_buf_t b = {0};
        lb_buf_printf(&b, "--endpoint-url %s is not an http(s)://HOST[:PORT] URL", d->o.endpoint);
        d->failure = lb_buf_steal(&b, NULL);
        return 2;
    }
    if (whoami(d, region, sizeof region, account, sizeof account)) return 1;
    d->ctx.stack_name = d->o.stack;
    d->ctx.region = region;
    d->ctx.account_id = account;
    d->ctx.endpoint = d->o.endpoint;
    d->ctx.lambda_runner = d->o.runner;
    lb_tpl_context_t tctx = {.stack_name = d->o.stack, .region = region, .account_id = account};
    if (lb_template_prepare(d->t, &tctx, d->o.overrides, d->o.n_overrides, &err)) {
        d->failure = err;
        return 2;
    }
    if (load_record(d)) return 1;
    d->replaced = lb_xcalloc(lb_template_resource_count(d->t) + 1, sizeof *d->replaced);
    if (!d->o.plan) {
        /* A dry walk first: a template error anywhere stops the deploy before its first call. */
        d->o.plan = d->quiet = 1;
        int rc = walk(d);
        if (rc == 0) rc = outputs(d);
        d->o.plan = d->quiet = 0;
        memset(d->counts, 0, sizeof d->counts);
        d->n_replaced = 0;
        d->record = lb_json_new(d->out_doc, LB_JSON_ARRAY);
        if (rc) return rc;
    }
    int rc = walk(d);
    if (rc == 0) rc = outputs(d);
    if (d->o.plan) return rc;
    keep_unreached(d);
    if (save_record(d) && rc == 0) rc = 1;
    return rc;
}

static int walk(deploy_t *d)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < lb_template_resource_count(d->t); i++)
        rc = apply_resource(d, i);
    for (size_t i = 0; rc == 0 && i < lb_template_excluded_count(d->t); i++) {
        lb_tpl_resource_t res;
        lb_template_excluded(d->t, i, &res);
        if (!old_entry(d, res.logical_id))
            report(d, N_SKIP, res.logical_id, res.type, NULL, res.line, "Condition is false");
    }
    if (rc == 0) rc = delete_removed(d);
    return rc;
}

/* The Python runner installed beside the binary, else the one on PATH. */
static char *default_runner(const char *self)
{
    char *copy = lb_strdup(self ? self : "");
    char path[4096];
    snprintf(path, sizeof path, "%s/localbridge-lambda-python", dirname(copy));
    free(copy);
    return lb_strdup(
        self && strchr(self, '/') && access(path, X_OK) == 0 ? path : "localbridge-lambda-python");
}

int lb_deploy_cli_main(int argc, char **argv, const char *self)
{
    deploy_t d = {0};
    int parsed = parse_args(argc, argv, &d.o);
    if (parsed) {
        free(d.o.overrides);
        for (size_t i = 0; i < d.o.n_owned; i++)
            free(d.o.owned[i]);
        free(d.o.owned);
        if (parsed > 0) {
            printf("%s", help_text);
            return 0;
        }
        return usage(argc ? "expected one TEMPLATE and known options" : "a TEMPLATE is required");
    }
    char stack[130], dir[4096];
    if (!d.o.stack) {
        default_stack(d.o.file, stack, sizeof stack);
        d.o.stack = stack;
    }
    if (!d.o.endpoint) d.o.endpoint = getenv("LOCALBRIDGE_ENDPOINT_URL");
    if (!d.o.endpoint) d.o.endpoint = getenv("AWS_ENDPOINT_URL");
    if (!d.o.endpoint) d.o.endpoint = "http://127.0.0.1:4010";
    if (!d.o.region) d.o.region = getenv("AWS_REGION");
    if (!d.o.region) d.o.region = getenv("AWS_DEFAULT_REGION");
    char *runner = d.o.runner ? NULL : default_runner(self);
    if (runner) d.o.runner = runner;
    char *err = NULL;
    size_t len = 0;
    char *text = read_file(d.o.file, &len, &err);
    int rc = 2;
    if (text) {
        char *abs = realpath(d.o.file, NULL);
        snprintf(dir, sizeof dir, "%s", abs ? dirname(abs) : ".");
        free(abs);
        d.ctx.template_dir = dir;
        d.out_doc = lb_json_doc_new();
        d.record = lb_json_new(d.out_doc, LB_JSON_ARRAY);
        d.changes = lb_json_new(d.out_doc, LB_JSON_ARRAY);
        rc = deploy(&d, text, len);
        summary(&d, rc);
    } else {
        fprintf(stderr, "localbridge deploy: %s\n", err);
    }
    free(err);
    free(text);
    free(runner);
    free(d.failure);
    free(d.replaced);
    free(d.o.overrides);
    for (size_t i = 0; i < d.o.n_owned; i++)
        free(d.o.owned[i]);
    free(d.o.owned);
    lb_template_free(&d.t);
    lb_dclient_free(&d.client);
    lb_json_doc_free(&d.old_doc);
    lb_json_doc_free(&d.out_doc);
    return rc;
}
