#include "lb_ops_endpoint.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_docs.h"
#include "lb_ops_doc.h"
#include "lb_validate.h"

/* EventBridge's "Endpoints" quota per account and region. */
#define MAX_ENDPOINTS 100

#define NAME_PATTERN "[\\.\\-_A-Za-z0-9]+"
#define HEALTH_CHECK_PATTERN "^arn:aws([a-z]|\\-)*:route53:::healthcheck/[\\-a-z0-9]+$"
#define ROUTE_PATTERN "^[\\-a-z0-9]+$"
#define BUS_ARN_PATTERN "^arn:aws[a-z-]*:events:[a-z]+-[a-z-]+-\\d+:\\d{12}:event-bus/[\\w.-]+$"
#define ROLE_ARN_PATTERN "^arn:aws[a-z-]*:iam::\\d{12}:role\\/[\\w+=,.@/-]+$"
#define ENDPOINT_ID_PATTERN "^[A-Za-z0-9\\-]+[\\.][A-Za-z0-9\\-]+$"

/* ---- patterns ---- */

static int all_of(const char *s, size_t len, const char *set, int alnum)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((alnum && isalnum(c)) || (c && strchr(set, c)))) return 0;
    }
    return 1;
}

/* "arn:aws" then [a-z-]* then rest (which starts with ':'), returning rest. */
static const char *after_partition(const char *s)
{
    if (strncmp(s, "arn:aws", 7) != 0) return NULL;
    s += 7;
    while (*s == '-' || (*s >= 'a' && *s <= 'z'))
        s++;
    return s;
}

static int name_ok(const char *s, size_t len)
{
    return all_of(s, len, ".-_", 1);
}

static int health_check_ok(const char *s, size_t len)
{
    const char *p = after_partition(s);
    static const char tail[] = ":route53:::healthcheck/";
    if (!p || strncmp(p, tail, sizeof tail - 1) != 0) return 0;
    p += sizeof tail - 1;
    size_t n = len - (size_t)(p - s);
    return n > 0 && all_of(p, n, "-abcdefghijklmnopqrstuvwxyz0123456789", 0);
}

static int route_ok(const char *s, size_t len)
{
    return len > 0 && all_of(s, len, "-abcdefghijklmnopqrstuvwxyz0123456789", 0);
}

/* [a-z]+-[a-z-]+-\d+, as the bus ARN pattern spells a region. */
static int region_ok(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && p[i] >= 'a' && p[i] <= 'z')
        i++;
    if (i == 0 || i >= n || p[i] != '-') return 0;
    size_t mid = ++i, last = n;
    for (size_t k = mid; k < n; k++)
        if (p[k] == '-') last = k;
    return last < n && last > mid &&
           all_of(p + mid, last - mid, "-abcdefghijklmnopqrstuvwxyz", 0) && last + 1 < n &&
           all_of(p + last + 1, n - last - 1, "0123456789", 0);
}

/* A bus ARN: its region and name (a pointer into arn) when it matches BUS_ARN_PATTERN. */
static int bus_arn_parts(const char *arn, size_t len, char region[32], const char **name)
{
    const char *p = after_partition(arn);
    if (!p || strncmp(p, ":events:", 8) != 0) return 0;
    p += 8;
    const char *colon = strchr(p, ':');
    if (!colon || colon - p >= 32 || !region_ok(p, (size_t)(colon - p))) return 0;
    const char *acct = colon + 1;
    if (strlen(acct) < 23 || !all_of(acct, 12, "0123456789", 0) ||
        strncmp(acct + 12, ":event-bus/", 11) != 0)
        return 0;
    const char *n = acct + 23;
    size_t nlen = len - (size_t)(n - arn);
    if (nlen == 0 || !all_of(n, nlen, "_.-", 1)) return 0;
    memcpy(region, p, (size_t)(colon - p));
    region[colon - p] = '\0';
    *name = n;
    return 1;
}

static int bus_arn_ok(const char *s, size_t len)
{
    char region[32];
    const char *name;
    return bus_arn_parts(s, len, region, &name);
}

static int role_arn_ok(const char *s, size_t len)
{
    const char *p = after_partition(s);
    if (!p || strncmp(p, ":iam::", 6) != 0 || strlen(p + 6) < 18) return 0;
    p += 6;
    if (!all_of(p, 12, "0123456789", 0) || strncmp(p + 12, ":role/", 6) != 0) return 0;
    p += 18;
    size_t n = len - (size_t)(p - s);
    return n > 0 && all_of(p, n, "_+=,.@/-", 1);
}

static int endpoint_id_ok(const char *s, size_t len)
{
    const char *dot = memchr(s, '.', len);
    return dot && dot != s && dot != s + len - 1 && all_of(s, (size_t)(dot - s), "-", 1) &&
           all_of(dot + 1, len - (size_t)(dot - s) - 1, "-", 1);
}

/* ---- request reading ---- */

/* A string member checked for presence (when required), length and pattern. */
static int check_str(const lb_json_t *obj, const char *key, const char *member, int required,
                     size_t min, size_t max, int (*ok)(const char *, size_t), const char *pattern,
                     lb_call_t *call, lb_verrs_t *v, const char **out)
{
    size_t len;
    if (lb_get_string_n(obj, key, out, &len, call)) return -1;
    if (!*out) {
        if (required) lb_verr_add(v, NULL, member, "Member must not be null");
        return 0;
    }
    size_t chars = lb_utf8_length(*out);
    char constraint[200];
    if (chars < min || chars > max) {
        snprintf(constraint, sizeof constraint, "Member must have length %s than or equal to %zu",
                 chars < min ? "greater" : "less", chars < min ? min : max);
        lb_verr_add_n(v, *out, len, member, constraint);
    } else if (lb_json_has_nul(*out, len) || (ok && !ok(*out, len))) {
        snprintf(constraint, sizeof constraint,
                 "Member must satisfy regular expression pattern: %s", pattern);
        lb_verr_add_n(v, *out, len, member, constraint);
    }
    return 0;
}

/* An object member; missing and required: "must not be null". */
static int check_obj(const lb_json_t *obj, const char *key, const char *member, int required,
                     lb_call_t *call, lb_verrs_t *v, const lb_json_t **out)
{
    if (lb_get_object(obj, key, out, call)) return -1;
    if (!*out && required) lb_verr_add(v, NULL, member, "Member must not be null");
    return 0;
}

/* The configuration members of Create and Update (required on Create). */
typedef struct {
    const char *description, *role_arn, *replication, *health_check, *route;
    const lb_json_t *routing, *replication_config, *buses;
    const char *bus_arns[2];
} endpoint_cfg_t;

static int read_routing(const lb_json_t *req, int create, lb_call_t *call, lb_verrs_t *v,
                        endpoint_cfg_t *c)
{
    const lb_json_t *failover = NULL, *primary = NULL, *secondary = NULL;
    if (check_obj(req, "RoutingConfig", "routingConfig", create, call, v, &c->routing)) return -1;
    if (!c->routing) return 0;
    if (check_obj(c->routing, "FailoverConfig", "routingConfig.failoverConfig", 1, call, v,
                  &failover) ||
        (failover && (check_obj(failover, "Primary", "routingConfig.failoverConfig.primary", 1,
                                call, v, &primary) ||
                      check_obj(failover, "Secondary", "routingConfig.failoverConfig.secondary", 1,
                                call, v, &secondary))))
        return -1;
    if (primary &&
        check_str(primary, "HealthCheck", "routingConfig.failoverConfig.primary.healthCheck", 1, 1,
                  1600, health_check_ok, HEALTH_CHECK_PATTERN, call, v, &c->health_check))
        return -1;
    if (secondary && check_str(secondary, "Route", "routingConfig.failoverConfig.secondary.route",
                               1, 9, 20, route_ok, ROUTE_PATTERN, call, v, &c->route))
        return -1;
    return 0;
}

static int read_buses(const lb_json_t *req, int create, lb_call_t *call, lb_verrs_t *v,
                      endpoint_cfg_t *c)
{
    if (lb_get_array(req, "EventBuses", &c->buses, call)) return -1;
    if (!c->buses) {
        if (create) lb_verr_add(v, NULL, "eventBuses", "Member must not be null");
        return 0;
    }
    if (c->buses->n_children != 2) {
        char *text = lb_json_print(c->buses, NULL);
        lb_verr_add(v, text, "eventBuses",
                    c->buses->n_children < 2 ? "Member must have length greater than or equal to 2"
                                             : "Member must have length less than or equal to 2");
        free(text);
        return 0;
    }
    for (size_t i = 0; i < 2; i++) {
        const lb_json_t *b = lb_json_at(c->buses, i);
        char member[64];
        snprintf(member, sizeof member, "eventBuses.%zu.member.eventBusArn", i + 1);
        if (!lb_json_is(b, LB_JSON_OBJECT)) {
            lb_call_error(call, LB_AWS_SERIALIZATION, "EventBuses must be a list of structures.");
            return -1;
        }
        if (check_str(b, "EventBusArn", member, 1, 1, 512, bus_arn_ok, BUS_ARN_PATTERN, call, v,
                      &c->bus_arns[i]))
            return -1;
    }
    return 0;
}

static int read_cfg(const lb_json_t *req, int create, lb_call_t *call, lb_verrs_t *v,
                    endpoint_cfg_t *c)
{
    memset(c, 0, sizeof *c);
    if (check_str(req, "Description", "description", 0, 0, 512, NULL, ".*", call, v,
                  &c->description) ||
        check_str(req, "RoleArn", "roleArn", 0, 1, 256, role_arn_ok, ROLE_ARN_PATTERN, call, v,
                  &c->role_arn) ||
        read_routing(req, create, call, v, c) || read_buses(req, create, call, v, c) ||
        check_obj(req, "ReplicationConfig", "replicationConfig", 0, call, v,
                  &c->replication_config) ||
        (c->replication_config &&
         lb_get_string(c->replication_config, "State", &c->replication, call)))
        return -1;
    if (c->replication && strcmp(c->replication, "ENABLED") != 0 &&
        strcmp(c->replication, "DISABLED") != 0)
        lb_verr_add(v, c->replication, "replicationConfig.state",
                    "Member must satisfy enum value set: [ENABLED, DISABLED]");
    return 0;
}

/* ---- documents ---- */

static void endpoint_arn(const lb_call_t *call, const char *region, const char *name, char *out,
                         size_t outlen)
{
    snprintf(out, outlen, "arn:aws:events:%s:%s:endpoint/%s", region, call->account_id, name);
}

static const char *doc_str(const lb_json_t *doc, const char *key)
{
    return lb_json_get_str(doc, key);
}

/* The rules AWS states beside the model: the buses share a name, one is in the home region (the
 * primary) and the other in the secondary Route; replication needs a role. -1 with the error. */
static int check_semantics(const lb_json_t *doc, const char *home, lb_call_t *call)
{
    const lb_json_t *buses = lb_json_get(doc, "EventBuses");
    const char *route = doc_str(
        lb_json_get(lb_json_get(lb_json_get(doc, "RoutingConfig"), "FailoverConfig"), "Secondary"),
        "Route");
    char regions[2][32];
    const char *names[2];
    for (size_t i = 0; i < 2; i++) {
        const char *arn = doc_str(lb_json_at(buses, i), "EventBusArn");
        if (!arn || !bus_arn_parts(arn, strlen(arn), regions[i], &names[i])) return -1;
    }
    if (strcmp(names[0], names[1]) != 0) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "The event buses of an endpoint must have the same name in each Region.");
        return -1;
    }
    if (route && strcmp(route, home) == 0) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "The secondary Region (Route) must not be the endpoint's own Region, %s.",
                      home);
        return -1;
    }
    int home_bus = strcmp(regions[0], home) == 0 || strcmp(regions[1], home) == 0;
    int route_bus = route && (strcmp(regions[0], route) == 0 || strcmp(regions[1], route) == 0);
    if (!home_bus || !route_bus) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "EventBuses must hold one event bus in the endpoint's Region (%s) and one "
                      "in the secondary Region (%s).",
                      home, route ? route : "");
        return -1;
    }
    const char *replication = doc_str(lb_json_get(doc, "ReplicationConfig"), "State");
    if ((!replication || strcmp(replication, "ENABLED") == 0) && !doc_str(doc, "RoleArn")) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "RoleArn is required when event replication is ENABLED (the default); set "
                      "ReplicationConfig State to DISABLED to go without one.");
        return -1;
    }
    return 0;
}

/* Sets (replaces) member key of root to a copy of value, when value is given. */
static void set_member(lb_json_doc_t *doc, lb_json_t *root, const char *key, const lb_json_t *value)
{
    if (!value) return;
    lb_json_remove(root, key);
    lb_json_add(doc, root, key, lb_json_copy(doc, value));
}

static void set_str(lb_json_doc_t *doc, lb_json_t *root, const char *key, const char *value)
{
    if (!value) return;
    lb_json_remove(root, key);
    lb_json_add_str(doc, root, key, value);
}

/* Applies the given configuration members to root (an endpoint document being built). */
static void apply_cfg(lb_json_doc_t *doc, lb_json_t *root, const endpoint_cfg_t *c)
{
    set_str(doc, root, "Description", c->description);
    set_member(doc, root, "RoutingConfig", c->routing);
    if (c->replication) {
        lb_json_t *rc = lb_json_new(doc, LB_JSON_OBJECT);
        lb_json_add_str(doc, rc, "State", c->replication);
        lb_json_remove(root, "ReplicationConfig");
        lb_json_add(doc, root, "ReplicationConfig", rc);
    }
    set_member(doc, root, "EventBuses", c->buses);
    set_str(doc, root, "RoleArn", c->role_arn);
}

/* A new EndpointId like AWS's ("abcde.veo"), unique among this daemon's endpoints. */
static void new_endpoint_id(lb_engine_t *engine, char out[16])
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (;;) {
        char uuid[37];
        lb_uuid_v4(uuid);
        /* Two hex digits of the UUID per character: hex alone would give only a-f. */
        for (int i = 0; i < 9; i++)
            out[i] = alphabet[((unsigned)(unsigned char)uuid[i] * 31u +
                               (unsigned)(unsigned char)uuid[i + 19]) %
                              36u];
        out[5] = '.';
        out[9] = '\0';
        int taken = 0;
        lb_docs_t *docs = lb_engine_docs(engine);
        const lb_json_t *d;
        for (size_t i = 0; (d = lb_docs_at(docs, LB_DOC_ENDPOINT, i, NULL)) != NULL; i++)
            taken |= doc_str(d, "EndpointId") && strcmp(doc_str(d, "EndpointId"), out) == 0;
        if (!taken) return;
    }
}

/* Appends the members of an endpoint AWS returns, in its order; state overrides State. */
static void put_endpoint(lb_buf_t *b, const lb_json_t *doc, const char *state, int full)
{
    static const char *const objects[] = {"RoutingConfig", "ReplicationConfig", "EventBuses"};
    lb_buf_puts(b, "{\"Name\":");
    lb_buf_json_string(b, doc_str(doc, "Name"), strlen(doc_str(doc, "Name")));
    if (full && doc_str(doc, "Description"))
        lb_json_put_str(b, "Description", doc_str(doc, "Description"));
    lb_json_put_str(b, "Arn", doc_str(doc, "Arn"));
    for (size_t i = 0; i < 3; i++) {
        const lb_json_t *v = lb_json_get(doc, objects[i]);
        if (!v) continue;
        lb_buf_printf(b, ",\"%s\":", objects[i]);
        lb_json_write(b, v);
    }
    if (doc_str(doc, "RoleArn")) lb_json_put_str(b, "RoleArn", doc_str(doc, "RoleArn"));
    if (full || strcmp(state, "CREATING") != 0) {
        lb_json_put_str(b, "EndpointId", doc_str(doc, "EndpointId"));
        lb_json_put_str(b, "EndpointUrl", doc_str(doc, "EndpointUrl"));
    }
    lb_json_put_str(b, "State", state);
    if (full) {
        lb_json_put_time(b, "CreationTime", lb_json_get_int(doc, "CreationTime", 0));
        lb_json_put_time(b, "LastModifiedTime", lb_json_get_int(doc, "LastModifiedTime", 0));
    }
    lb_buf_puts(b, "}");
}

/* Validates the finished document, then defers its write answering with `state`. */
static void write_endpoint(lb_engine_t *engine, lb_call_t *call, lb_json_doc_t *doc,
                           lb_doc_write_t how, const char *state)
{
    const lb_json_t *root = lb_json_doc_root(doc);
    if (check_semantics(root, call->region, call)) {
        lb_json_doc_free(&doc);
        return;
    }
    lb_buf_t answer = {0};
    put_endpoint(&answer, root, state, 0);
    char what[128];
    snprintf(what, sizeof what, "Endpoint %s", doc_str(root, "Name"));
    lb_doc_defer_write(engine, call, LB_DOC_ENDPOINT, how, call->region, doc_str(root, "Name"), doc,
                       answer.data, what);
    lb_buf_free(&answer);
}

/* ---- operations ---- */

static int read_name(const lb_json_t *req, const char *key, const char *member, int required,
                     lb_call_t *call, lb_verrs_t *v, const char **name)
{
    return check_str(req, key, member, required, 1, 64, name_ok, NAME_PATTERN, call, v, name);
}

void lb_op_create_endpoint(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *name;
    endpoint_cfg_t cfg;
    lb_verrs_t v = {0};
    if (read_name(req, "Name", "name", 1, call, &v, &name) || read_cfg(req, 1, call, &v, &cfg)) {
        lb_buf_free(&v.text);
        return;
    }
    if (lb_verr_emit(&v, call)) return;
    lb_docs_t *docs = lb_engine_docs(engine);
    if (lb_docs_find(docs, LB_DOC_ENDPOINT, call->region, name)) {
        lb_call_error(call, LB_AWS_RESOURCE_EXISTS, "Endpoint %s already exists.", name);
        return;
    }
    size_t here = 0;
    const char *region;
    for (size_t i = lb_docs_lower_bound(docs, LB_DOC_ENDPOINT, call->region, "");
         lb_docs_at(docs, LB_DOC_ENDPOINT, i, &region) && strcmp(region, call->region) == 0; i++)
        here++;
    if (here >= MAX_ENDPOINTS) {
        lb_call_error(call, LB_AWS_LIMIT_EXCEEDED,
                      "The requested resource exceeds the maximum number allowed: %d endpoints "
                      "per Region.",
                      MAX_ENDPOINTS);
        return;
    }
    char arn[256], id[16], url[96];
    endpoint_arn(call, call->region, name, arn, sizeof arn);
    new_endpoint_id(engine, id);
    snprintf(url, sizeof url, "https://%s.endpoint.events.amazonaws.com", id);
    lb_json_doc_t *doc = lb_json_doc_new();
    lb_json_t *root = lb_json_new(doc, LB_JSON_OBJECT);
    lb_json_doc_set_root(doc, root);
    lb_json_add_str(doc, root, "Name", name);
    lb_json_add_str(doc, root, "Arn", arn);
    apply_cfg(doc, root, &cfg);
    if (!lb_json_get(root, "ReplicationConfig")) {
        lb_json_t *rc =
            lb_json_add(doc, root, "ReplicationConfig", lb_json_new(doc, LB_JSON_OBJECT));
        lb_json_add_str(doc, rc, "State", "ENABLED");
    }
    lb_json_add_str(doc, root, "EndpointId", id);
    lb_json_add_str(doc, root, "EndpointUrl", url);
    /* Nothing to provision here: the endpoint is ACTIVE once stored; Create answers CREATING. */
    lb_json_add_str(doc, root, "State", "ACTIVE");
    lb_json_add(doc, root, "CreationTime", lb_json_new_int(doc, call->now_ms));
    lb_json_add(doc, root, "LastModifiedTime", lb_json_new_int(doc, call->now_ms));
    write_endpoint(engine, call, doc, LB_DOC_WRITE_INSERT, "CREATING");
}

/* HomeRegion (default: the call's) checked as AWS's model has it. */
static int read_home(const lb_json_t *req, lb_call_t *call, lb_verrs_t *v, const char **home)
{
    if (check_str(req, "HomeRegion", "homeRegion", 0, 9, 20, route_ok, ROUTE_PATTERN, call, v,
                  home))
        return -1;
    if (!*home) *home = call->region;
    return 0;
}

/* The endpoint a request names, or NULL with the error set. */
static const lb_json_t *named_endpoint(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call,
                                       int with_home)
{
    const char *name, *home = call->region;
    lb_verrs_t v = {0};
    if (read_name(req, "Name", "name", 1, call, &v, &name) ||
        (with_home && read_home(req, call, &v, &home))) {
        lb_buf_free(&v.text);
        return NULL;
    }
    if (lb_verr_emit(&v, call)) return NULL;
    const lb_json_t *doc = lb_docs_find(lb_engine_docs(engine), LB_DOC_ENDPOINT, home, name);
    if (!doc) lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND, "Endpoint %s does not exist.", name);
    return doc;
}

void lb_op_describe_endpoint(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const lb_json_t *doc = named_endpoint(engine, req, call, 1);
    if (!doc) return;
    call->body.len = 0;
    put_endpoint(&call->body, doc, doc_str(doc, "State"), 1);
}

void lb_op_list_endpoints(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *prefix, *home, *token;
    int64_t limit = 100;
    int has_limit;
    lb_verrs_t v = {0};
    if (read_name(req, "NamePrefix", "namePrefix", 0, call, &v, &prefix) ||
        read_home(req, call, &v, &home) || lb_get_string(req, "NextToken", &token, call) ||
        lb_get_int(req, "MaxResults", &limit, &has_limit, call)) {
        lb_buf_free(&v.text);
        return;
    }
    if (has_limit && (limit < 1 || limit > 100)) {
        char text[32];
        snprintf(text, sizeof text, "%lld", (long long)limit);
        lb_verr_add(&v, text, "maxResults",
                    limit < 1 ? "Member must have value greater than or equal to 1"
                              : "Member must have value less than or equal to 100");
    }
    if (lb_verr_emit(&v, call)) return;
    char start[128];
    if (lb_read_next_token(token, call, start, sizeof start)) return;
    lb_docs_t *docs = lb_engine_docs(engine);
    const char *from = start[0] ? start : (prefix ? prefix : "");
    size_t i = lb_docs_lower_bound(docs, LB_DOC_ENDPOINT, home, from);
    lb_buf_t *b = &call->body;
    b->len = 0;
    lb_buf_puts(b, "{\"Endpoints\":[");
    const lb_json_t *doc;
    const char *region;
    for (int64_t n = 0; (doc = lb_docs_at(docs, LB_DOC_ENDPOINT, i, &region)) != NULL; i++, n++) {
        const char *name = doc_str(doc, "Name");
        if (strcmp(region, home) != 0 || (prefix && strncmp(name, prefix, strlen(prefix)) != 0))
            break;
        if (n == limit) {
            lb_json_close_page(b, name);
            return;
        }
        if (n) lb_buf_puts(b, ",");
        put_endpoint(b, doc, doc_str(doc, "State"), 1);
    }
    lb_buf_puts(b, "]}");
}

void lb_op_update_endpoint(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *name;
    endpoint_cfg_t cfg;
    lb_verrs_t v = {0};
    if (read_name(req, "Name", "name", 1, call, &v, &name) || read_cfg(req, 0, call, &v, &cfg)) {
        lb_buf_free(&v.text);
        return;
    }
    if (lb_verr_emit(&v, call)) return;
    const lb_json_t *old =
        lb_docs_find(lb_engine_docs(engine), LB_DOC_ENDPOINT, call->region, name);
    if (!old) {
        lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND, "Endpoint %s does not exist.", name);
        return;
    }
    lb_json_doc_t *doc = lb_json_doc_new();
    lb_json_t *root = lb_json_copy(doc, old);
    lb_json_doc_set_root(doc, root);
    apply_cfg(doc, root, &cfg);
    lb_json_remove(root, "LastModifiedTime");
    lb_json_add(doc, root, "LastModifiedTime", lb_json_new_int(doc, call->now_ms));
    write_endpoint(engine, call, doc, LB_DOC_WRITE_PUT, "UPDATING");
}

void lb_op_delete_endpoint(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const lb_json_t *doc = named_endpoint(engine, req, call, 0);
    if (!doc) return;
    char what[128];
    snprintf(what, sizeof what, "Endpoint %s", doc_str(doc, "Name"));
    lb_doc_defer_write(engine, call, LB_DOC_ENDPOINT, LB_DOC_WRITE_DELETE, call->region,
                       doc_str(doc, "Name"), NULL, "{}", what);
}

/* ---- health and routing ---- */

void lb_admin_set_endpoint_health(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *name, *home = call->region;
    int healthy, has;
    lb_verrs_t v = {0};
    if (read_name(req, "Name", "name", 1, call, &v, &name) || read_home(req, call, &v, &home) ||
        lb_get_bool(req, "Healthy", &healthy, &has, call)) {
        lb_buf_free(&v.text);
        return;
    }
    if (!has) lb_verr_add(&v, NULL, "healthy", "Member must not be null");
    if (lb_verr_emit(&v, call)) return;
    if (lb_docs_set_mark(lb_engine_docs(engine), LB_DOC_ENDPOINT, home, name, !healthy)) {
        lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND, "Endpoint %s does not exist.", name);
        return;
    }
    lb_buf_t *b = &call->body;
    b->len = 0;
    lb_buf_puts(b, "{\"Name\":");
    lb_buf_json_string(b, name, strlen(name));
    lb_json_put_str(b, "HomeRegion", home);
    lb_buf_printf(b, ",\"Healthy\":%s}", healthy ? "true" : "false");
}

int lb_endpoint_route(lb_engine_t *engine, lb_call_t *call, const char *endpoint_id,
                      lb_endpoint_route_t *route)
{
    size_t len = strlen(endpoint_id);
    if (len < 1 || len > 50 || !endpoint_id_ok(endpoint_id, len)) {
        lb_verrs_t v = {0};
        lb_verr_add(&v, endpoint_id, "endpointId",
                    len > 50
                        ? "Member must have length less than or equal to 50"
                        : "Member must satisfy regular expression pattern: " ENDPOINT_ID_PATTERN);
        lb_verr_emit(&v, call);
        return -1;
    }
    lb_docs_t *docs = lb_engine_docs(engine);
    const lb_json_t *doc;
    const char *home = NULL;
    size_t i = 0;
    for (; (doc = lb_docs_at(docs, LB_DOC_ENDPOINT, i, &home)) != NULL; i++)
        if (doc_str(doc, "EndpointId") && strcmp(doc_str(doc, "EndpointId"), endpoint_id) == 0)
            break;
    if (!doc) {
        lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND, "Endpoint with id %s does not exist.",
                      endpoint_id);
        return -1;
    }
    const char *secondary = doc_str(
        lb_json_get(lb_json_get(lb_json_get(doc, "RoutingConfig"), "FailoverConfig"), "Secondary"),
        "Route");
    const char *arn = doc_str(lb_json_at(lb_json_get(doc, "EventBuses"), 0), "EventBusArn");
    char region[32];
    const char *bus;
    if (!secondary || !arn || !bus_arn_parts(arn, strlen(arn), region, &bus)) {
        lb_call_error(call, LB_AWS_INTERNAL, "Endpoint %s is not configured.", endpoint_id);
        return -1;
    }
    int healthy = !lb_docs_mark(docs, LB_DOC_ENDPOINT, home, doc_str(doc, "Name"));
    const char *replication = doc_str(lb_json_get(doc, "ReplicationConfig"), "State");
    snprintf(route->region, sizeof route->region, "%s", healthy ? home : secondary);
    snprintf(route->bus, sizeof route->bus, "%s", bus);
    snprintf(route->replica_region, sizeof route->replica_region, "%s",
             healthy && (!replication || strcmp(replication, "ENABLED") == 0) ? secondary : "");
    return 0;
}
