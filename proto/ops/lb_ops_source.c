#include "lb_ops_source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_docs.h"
#include "lb_ops_doc.h"
#include "lb_validate.h"

#define PREFIX_PATTERN "aws\\.partner/[\\.\\-_A-Za-z0-9]+/[/\\.\\-_A-Za-z0-9]*"
#define ACCOUNT_PATTERN "\\d{12}"

/* ---- names ---- */

/* Segments of [.-_A-Za-z0-9]+ separated by '/', after "aws.partner/": how many, or -1 if one is
 * empty or holds another character. An empty last segment is allowed when trailing_ok. */
static int segments(const char *s, size_t len, int trailing_ok)
{
    int n = 0;
    size_t i = 0;
    while (i < len) {
        size_t start = i;
        while (i < len && s[i] != '/')
            i++;
        if (i == start && !(trailing_ok && i == len)) return -1;
        if (!lb_chars_only(s + start, i - start, ".-_")) return -1;
        n++;
        if (i < len) {
            i++;
            if (i == len && !trailing_ok) return -1;
        }
    }
    return n;
}

int lb_source_name_ok(const char *s, size_t len)
{
    if (len < 12 || strncmp(s, "aws.partner/", 12) != 0) return 0;
    return segments(s + 12, len - 12, 0) >= 2;
}

/* aws\.partner/[\.\-_A-Za-z0-9]+/[/\.\-_A-Za-z0-9]*: the partner's name, a slash, anything. */
static int prefix_ok(const char *s, size_t len)
{
    if (len < 12 || strncmp(s, "aws.partner/", 12) != 0) return 0;
    const char *p = s + 12, *end = s + len;
    const char *slash = memchr(p, '/', (size_t)(end - p));
    if (!slash || slash == p || !lb_chars_only(p, (size_t)(slash - p), ".-_")) return 0;
    return lb_chars_only(slash + 1, (size_t)(end - slash - 1), "/.-_");
}

static int account_ok(const char *s, size_t len)
{
    return len == 12 && lb_chars_only(s, len, "") && strspn(s, "0123456789") == 12;
}

static void source_arn(const lb_call_t *call, const char *name, char *out, size_t outlen)
{
    /* Event sources belong to no account: the ARN has an empty account field. */
    snprintf(out, outlen, "arn:aws:events:%s::event-source/%s", call->region, name);
}

/* The partner's name: the segment after "aws.partner/". */
static void created_by(const char *name, char *out, size_t outlen)
{
    const char *p = name + 12, *slash = strchr(p, '/');
    snprintf(out, outlen, "%.*s", slash ? (int)(slash - p) : (int)strlen(p), p);
}

/* Name (required, a source name) checked at `member`. -1 with the error set. */
static int read_name(const lb_json_t *req, const char *key, const char *member, lb_call_t *call,
                     lb_verrs_t *v, const char **name)
{
    size_t len;
    if (lb_get_string_n(req, key, name, &len, call)) return -1;
    if (!*name) {
        lb_verr_add(v, NULL, member, "Member must not be null");
    } else if (lb_utf8_length(*name) > 256) {
        lb_verr_add_n(v, *name, len, member, "Member must have length less than or equal to 256");
    } else if (!lb_source_name_ok(*name, len)) {
        lb_verr_add_n(v, *name, len, member,
                      "Member must satisfy regular expression pattern: " LB_SOURCE_NAME_PATTERN);
    }
    return 0;
}

static int read_account(const lb_json_t *req, lb_call_t *call, lb_verrs_t *v, const char **acct)
{
    size_t len;
    if (lb_get_string_n(req, "Account", acct, &len, call)) return -1;
    if (!*acct)
        lb_verr_add(v, NULL, "account", "Member must not be null");
    else if (!account_ok(*acct, len))
        lb_verr_add_n(v, *acct, len, "account",
                      len != 12
                          ? (len < 12 ? "Member must have length greater than or equal to 12"
                                      : "Member must have length less than or equal to 12")
                          : "Member must satisfy regular expression pattern: " ACCOUNT_PATTERN);
    return 0;
}

/* ---- state ---- */

static int flag(const lb_json_t *doc, const char *key)
{
    return lb_json_is(lb_json_get(doc, key), LB_JSON_TRUE);
}

static const char *state_of(lb_engine_t *engine, const char *region, const lb_json_t *doc)
{
    if (flag(doc, "Deleted")) return "DELETED";
    const char *name = lb_json_get_str(doc, "Name");
    if (lb_engine_bus_find(engine, region, name) && !flag(doc, "Deactivated")) return "ACTIVE";
    return "PENDING";
}

static const lb_json_t *find_source(lb_engine_t *engine, const lb_call_t *call, const char *name)
{
    return lb_docs_find(lb_engine_docs(engine), LB_DOC_EVENT_SOURCE, call->region, name);
}

static int offered_here(const lb_json_t *doc, const lb_call_t *call)
{
    const char *acct = lb_json_get_str(doc, "Account");
    return acct && strcmp(acct, call->account_id) == 0;
}

const lb_json_t *lb_source_for_customer(lb_engine_t *engine, const lb_call_t *call,
                                        const char *name)
{
    const lb_json_t *doc = find_source(engine, call, name);
    return doc && offered_here(doc, call) && !flag(doc, "Deleted") ? doc : NULL;
}

int lb_source_route(lb_engine_t *engine, const lb_call_t *call, const char *name)
{
    const lb_json_t *doc = find_source(engine, call, name);
    if (!doc || flag(doc, "Deleted")) return LB_SOURCE_UNKNOWN;
    return strcmp(state_of(engine, call->region, doc), "ACTIVE") == 0 ? LB_SOURCE_DELIVER
                                                                      : LB_SOURCE_DROP;
}

int lb_source_gone_with_bus(lb_engine_t *engine, const lb_call_t *call, const char *name)
{
    const lb_json_t *doc = find_source(engine, call, name);
    return doc && flag(doc, "Deleted");
}

/* A copy of doc with one boolean member set (or removed when 0). */
static lb_json_doc_t *with_flag(const lb_json_t *doc, const char *key, int value)
{
    lb_json_doc_t *copy = lb_json_doc_new();
    lb_json_t *root = lb_json_copy(copy, doc);
    lb_json_remove(root, key);
    if (value) lb_json_add(copy, root, key, lb_json_new_bool(copy, 1));
    lb_json_doc_set_root(copy, root);
    return copy;
}

static void what(char *out, size_t outlen, const char *name)
{
    snprintf(out, outlen, "Event source %s", name);
}

/* ---- the partner's side ---- */

void lb_op_create_partner_event_source(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *name, *account;
    lb_verrs_t v = {0};
    if (read_name(req, "Name", "name", call, &v, &name) || read_account(req, call, &v, &account)) {
        lb_buf_free(&v.text);
        return;
    }
    if (lb_verr_emit(&v, call)) return;
    char w[400], arn[512];
    what(w, sizeof w, name);
    const lb_json_t *old = find_source(engine, call, name);
    /* A source its partner deleted while a bus still matched it may be created again. */
    if (old && !flag(old, "Deleted")) {
        lb_call_error(call, LB_AWS_RESOURCE_EXISTS, "%s already exists.", w);
        return;
    }
    lb_json_doc_t *doc = lb_json_doc_new();
    lb_json_t *root = lb_json_new(doc, LB_JSON_OBJECT);
    lb_json_add_str(doc, root, "Name", name);
    lb_json_add_str(doc, root, "Account", account);
    lb_json_add(doc, root, "CreationTime", lb_json_new_int(doc, call->now_ms));
    lb_json_doc_set_root(doc, root);
    source_arn(call, name, arn, sizeof arn);
    lb_buf_t answer = {0};
    lb_buf_puts(&answer, "{\"EventSourceArn\":");
    lb_buf_json_string(&answer, arn, strlen(arn));
    lb_buf_puts(&answer, "}");
    lb_doc_defer_write(engine, call, LB_DOC_EVENT_SOURCE,
                       old ? LB_DOC_WRITE_PUT : LB_DOC_WRITE_INSERT, call->region, name, doc,
                       answer.data, w);
    lb_buf_free(&answer);
}

void lb_op_delete_partner_event_source(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *name, *account;
    lb_verrs_t v = {0};
    if (read_name(req, "Name", "name", call, &v, &name) || read_account(req, call, &v, &account)) {
        lb_buf_free(&v.text);
        return;
    }
    if (lb_verr_emit(&v, call)) return;
    char w[400];
    what(w, sizeof w, name);
    const lb_json_t *doc = find_source(engine, call, name);
    const char *offered = lb_json_get_str(doc, "Account");
    if (!doc || flag(doc, "Deleted") || !offered || strcmp(offered, account) != 0) {
        lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND, "%s does not exist.", w);
        return;
    }
    /* With a partner bus matched to it, the customer sees it DELETED until that bus goes. */
    if (lb_engine_bus_find(engine, call->region, name))
        lb_doc_defer_write(engine, call, LB_DOC_EVENT_SOURCE, LB_DOC_WRITE_PUT, call->region, name,
                           with_flag(doc, "Deleted", 1), "{}", w);
    else
        lb_doc_defer_write(engine, call, LB_DOC_EVENT_SOURCE, LB_DOC_WRITE_DELETE, call->region,
                           name, NULL, "{}", w);
}

/* The source a partner operation names, or NULL with ResourceNotFoundException. */
static const lb_json_t *partner_source(lb_engine_t *engine, const lb_json_t *req, const char *key,
                                       const char *member, lb_call_t *call)
{
    const char *name;
    lb_verrs_t v = {0};
    if (read_name(req, key, member, call, &v, &name)) {
        lb_buf_free(&v.text);
        return NULL;
    }
    if (lb_verr_emit(&v, call)) return NULL;
    const lb_json_t *doc = find_source(engine, call, name);
    if (!doc || flag(doc, "Deleted")) {
        lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND, "Event source %s does not exist.", name);
        return NULL;
    }
    return doc;
}

void lb_op_describe_partner_event_source(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const lb_json_t *doc = partner_source(engine, req, "Name", "name", call);
    if (!doc) return;
    const char *name = lb_json_get_str(doc, "Name");
    char arn[512];
    source_arn(call, name, arn, sizeof arn);
    lb_buf_t *b = &call->body;
    b->len = 0;
    lb_buf_puts(b, "{\"Arn\":");
    lb_buf_json_string(b, arn, strlen(arn));
    lb_json_put_str(b, "Name", name);
    lb_buf_puts(b, "}");
}

void lb_op_list_partner_event_source_accounts(lb_engine_t *engine, const lb_json_t *req,
                                              lb_call_t *call)
{
    const char *token;
    int64_t limit;
    if (lb_get_string(req, "NextToken", &token, call) || lb_read_limit(req, call, &limit)) return;
    const lb_json_t *doc = partner_source(engine, req, "EventSourceName", "eventSourceName", call);
    if (!doc) return;
    char start[64];
    if (lb_read_next_token(token, call, start, sizeof start)) return;
    /* A source is offered to one account: one row, or none past it. */
    const char *account = lb_json_get_str(doc, "Account");
    lb_buf_t *b = &call->body;
    b->len = 0;
    lb_buf_puts(b, "{\"PartnerEventSourceAccounts\":[");
    if (account && strcmp(account, start) >= 0) {
        lb_buf_puts(b, "{\"Account\":");
        lb_buf_json_string(b, account, strlen(account));
        lb_json_put_time(b, "CreationTime", lb_json_get_int(doc, "CreationTime", 0));
        /* The account's view: what that customer sees (only this daemon's account has buses). */
        const char *state = strcmp(account, call->account_id) == 0
                                ? state_of(engine, call->region, doc)
                                : "PENDING";
        lb_json_put_str(b, "State", state);
        lb_buf_puts(b, "}");
    }
    lb_buf_puts(b, "]}");
}

/* Writes one source for a listing: the partner's view (Arn, Name) or the customer's. */
static void put_source(lb_engine_t *engine, lb_call_t *call, lb_buf_t *b, const lb_json_t *doc,
                       int customer)
{
    const char *name = lb_json_get_str(doc, "Name");
    char arn[512], partner[300];
    source_arn(call, name, arn, sizeof arn);
    lb_buf_puts(b, "{\"Arn\":");
    lb_buf_json_string(b, arn, strlen(arn));
    if (customer) {
        created_by(name, partner, sizeof partner);
        lb_json_put_str(b, "CreatedBy", partner);
        lb_json_put_time(b, "CreationTime", lb_json_get_int(doc, "CreationTime", 0));
    }
    lb_json_put_str(b, "Name", name);
    if (customer) lb_json_put_str(b, "State", state_of(engine, call->region, doc));
    lb_buf_puts(b, "}");
}

/* One page of sources whose name starts with prefix (NULL: all); the customer's listing shows
 * only the sources offered to this account. */
static void list_sources(lb_engine_t *engine, lb_call_t *call, const char *key, const char *prefix,
                         const char *token, int64_t limit, int customer)
{
    char start[1024];
    if (lb_read_next_token(token, call, start, sizeof start)) return;
    const char *from = start[0] ? start : (prefix ? prefix : "");
    lb_docs_t *docs = lb_engine_docs(engine);
    size_t i = lb_docs_lower_bound(docs, LB_DOC_EVENT_SOURCE, call->region, from);
    lb_buf_t *b = &call->body;
    b->len = 0;
    lb_buf_printf(b, "{\"%s\":[", key);
    int64_t n = 0;
    const lb_json_t *doc;
    const char *region;
    for (; (doc = lb_docs_at(docs, LB_DOC_EVENT_SOURCE, i, &region)) != NULL; i++) {
        const char *name = lb_json_get_str(doc, "Name");
        if (strcmp(region, call->region) != 0) break;
        if (prefix && strncmp(name, prefix, strlen(prefix)) != 0) break;
        if (customer ? !offered_here(doc, call) : flag(doc, "Deleted")) continue;
        if (n == limit) {
            lb_json_close_page(b, name);
            return;
        }
        if (n++) lb_buf_puts(b, ",");
        put_source(engine, call, b, doc, customer);
    }
    lb_buf_puts(b, "]}");
}

void lb_op_list_partner_event_sources(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *prefix, *token;
    size_t len;
    int64_t limit;
    lb_verrs_t v = {0};
    if (lb_get_string_n(req, "NamePrefix", &prefix, &len, call) ||
        lb_get_string(req, "NextToken", &token, call) || lb_read_limit(req, call, &limit))
        return;
    if (!prefix)
        lb_verr_add(&v, NULL, "namePrefix", "Member must not be null");
    else if (!prefix_ok(prefix, len) || lb_utf8_length(prefix) > 256)
        lb_verr_add_n(&v, prefix, len, "namePrefix",
                      "Member must satisfy regular expression pattern: " PREFIX_PATTERN);
    if (lb_verr_emit(&v, call)) return;
    list_sources(engine, call, "PartnerEventSources", prefix, token, limit, 0);
}

/* ---- the customer's side ---- */

void lb_op_list_event_sources(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *prefix, *token;
    size_t len;
    int64_t limit;
    lb_verrs_t v = {0};
    if (lb_get_string_n(req, "NamePrefix", &prefix, &len, call) ||
        lb_get_string(req, "NextToken", &token, call) || lb_read_limit(req, call, &limit))
        return;
    if (prefix && (len < 1 || lb_utf8_length(prefix) > 256 || !lb_chars_only(prefix, len, "/.-_")))
        lb_verr_add_n(&v, prefix, len, "namePrefix",
                      "Member must satisfy regular expression pattern: [/\\.\\-_A-Za-z0-9]+");
    if (lb_verr_emit(&v, call)) return;
    list_sources(engine, call, "EventSources", prefix, token, limit, 1);
}

/* The source a customer operation names (offered to this account, deleted or not), or NULL with
 * ResourceNotFoundException. */
static const lb_json_t *customer_source(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *name;
    lb_verrs_t v = {0};
    if (read_name(req, "Name", "name", call, &v, &name)) {
        lb_buf_free(&v.text);
        return NULL;
    }
    if (lb_verr_emit(&v, call)) return NULL;
    const lb_json_t *doc = find_source(engine, call, name);
    if (!doc || !offered_here(doc, call)) {
        lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND, "Event source %s does not exist.", name);
        return NULL;
    }
    return doc;
}

void lb_op_describe_event_source(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const lb_json_t *doc = customer_source(engine, req, call);
    if (!doc) return;
    call->body.len = 0;
    put_source(engine, call, &call->body, doc, 1);
}

/* Activate (active 1) or deactivate a source: it needs its partner bus, and a source its partner
 * deleted can be neither. */
static void set_active(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call, int active)
{
    const lb_json_t *doc = customer_source(engine, req, call);
    if (!doc) return;
    const char *name = lb_json_get_str(doc, "Name");
    if (!lb_engine_bus_find(engine, call->region, name)) {
        lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND,
                      "Event source %s or event bus %s does not exist.", name, name);
        return;
    }
    if (flag(doc, "Deleted")) {
        lb_call_error(call, LB_AWS_INVALID_STATE,
                      "Event source %s was deleted by its partner and cannot be %s.", name,
                      active ? "activated" : "deactivated");
        return;
    }
    char w[400];
    what(w, sizeof w, name);
    lb_doc_defer_write(engine, call, LB_DOC_EVENT_SOURCE, LB_DOC_WRITE_PUT, call->region, name,
                       with_flag(doc, "Deactivated", !active), "{}", w);
}

void lb_op_activate_event_source(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    set_active(engine, req, call, 1);
}

void lb_op_deactivate_event_source(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    set_active(engine, req, call, 0);
}
