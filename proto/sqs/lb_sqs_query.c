/* The query protocol: form fields ("Attribute.1.Name=...") into the request tree the JSON 1.0
 * protocol would have sent, and answers and errors as SQS's XML. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_sqs_internal.h"
#include "lb_util.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes (and '+' as space) len bytes into b. */
static void decode(lb_buf_t *b, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+') {
            lb_buf_append(b, " ", 1);
        } else if (s[i] == '%' && i + 2 < len + 0 && hexval(s[i + 1]) >= 0 &&
                   hexval(s[i + 2]) >= 0) {
            char ch = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            lb_buf_append(b, &ch, 1);
            i += 2;
        } else {
            lb_buf_append(b, &s[i], 1);
        }
    }
    if (!b->data) lb_buf_append(b, "", 0);
}

static lb_json_t *child(lb_json_doc_t *doc, lb_json_t *obj, const char *key, size_t klen)
{
    char k[128];
    snprintf(k, sizeof k, "%.*s", (int)klen, key);
    lb_json_t *c = (lb_json_t *)lb_json_get(obj, k);
    if (!c || c->type != LB_JSON_OBJECT) {
        lb_json_remove(obj, k);
        c = lb_json_add(doc, obj, k, lb_json_new(doc, LB_JSON_OBJECT));
    }
    return c;
}

static int all_digits(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return 0;
    return 1;
}

static int by_index(const void *a, const void *b)
{
    long x = atol((*(const lb_json_t *const *)a)->key),
         y = atol((*(const lb_json_t *const *)b)->key);
    return (x > y) - (x < y);
}

/* What a list or map field of the form is called in the JSON 1.0 shape. */
static const struct {
    const char *form, *json;
    int map; /* 0 list, 1 map of Name->Value, 2 map of Key->Value, 3 map of Name->Value object */
} renames[] = {
    {"Attribute", "Attributes", 1},
    {"Tag", "Tags", 2},
    {"TagKey", "TagKeys", 0},
    {"AttributeName", "AttributeNames", 0},
    {"MessageAttributeName", "MessageAttributeNames", 0},
    {"MessageSystemAttributeName", "MessageSystemAttributeNames", 0},
    {"MessageAttribute", "MessageAttributes", 3},
    {"MessageSystemAttribute", "MessageSystemAttributes", 3},
    {"SendMessageBatchRequestEntry", "Entries", 0},
    {"DeleteMessageBatchRequestEntry", "Entries", 0},
    {"ChangeMessageVisibilityBatchRequestEntry", "Entries", 0},
};

/* Objects whose keys are all indexes become lists (in index order) or maps, renamed. */
static lb_json_t *shape(lb_json_doc_t *doc, const lb_json_t *n, const char *op)
{
    if (n->type != LB_JSON_OBJECT) return lb_json_copy(doc, n);
    lb_json_t *out = lb_json_new(doc, LB_JSON_OBJECT);
    lb_json_each(c, n)
    {
        const char *key = c->key;
        int map = -1;
        for (size_t i = 0; i < sizeof renames / sizeof *renames; i++)
            if (strcmp(renames[i].form, key) == 0) {
                key = renames[i].json;
                map = renames[i].map;
            }
        /* CreateQueue's tags are "tags" in JSON 1.0. */
        if (map == 2 && op && strcmp(op, "CreateQueue") == 0) key = "tags";
        int indexed = c->type == LB_JSON_OBJECT && c->n_children > 0;
        lb_json_each(g, c) if (!all_digits(g->key)) indexed = 0;
        if (!indexed || map < 0) {
            lb_json_add(doc, out, key, shape(doc, c, op));
            continue;
        }
        size_t k = 0;
        const lb_json_t **v = lb_xcalloc(c->n_children, sizeof *v);
        lb_json_each(g, c) v[k++] = g;
        qsort(v, k, sizeof *v, by_index);
        lb_json_t *coll = lb_json_new(doc, map ? LB_JSON_OBJECT : LB_JSON_ARRAY);
        for (size_t i = 0; i < k; i++) {
            if (map == 0) {
                lb_json_add(doc, coll, NULL, shape(doc, v[i], op));
                continue;
            }
            const char *name = lb_json_get_str(v[i], map == 2 ? "Key" : "Name");
            const lb_json_t *val = lb_json_get(v[i], "Value");
            if (!name) continue;
            lb_json_remove(coll, name);
            lb_json_add(doc, coll, name,
                        val ? shape(doc, val, op) : lb_json_new_string(doc, "", 0));
        }
        free(v);
        lb_json_add(doc, out, key, coll);
    }
    return out;
}

lb_json_doc_t *sqs_form_parse(const char *form, size_t len, const char *op)
{
    lb_json_doc_t *raw = lb_json_doc_new();
    lb_json_t *root = lb_json_new(raw, LB_JSON_OBJECT);
    lb_json_doc_set_root(raw, root);
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && form[end] != '&')
            end++;
        const char *eq = memchr(form + i, '=', end - i);
        lb_buf_t k = {0}, v = {0};
        decode(&k, form + i, (size_t)((eq ? eq : form + end) - (form + i)));
        if (eq) decode(&v, eq + 1, (size_t)(form + end - eq - 1));
        if (k.len) {
            /* Walk "A.1.B" creating objects; the last segment holds the value. */
            lb_json_t *at = root;
            char *seg = k.data;
            char *dot;
            while ((dot = strchr(seg, '.')) != NULL) {
                at = child(raw, at, seg, (size_t)(dot - seg));
                seg = dot + 1;
            }
            lb_json_remove(at, seg);
            lb_json_add(raw, at, seg,
                        lb_json_new_string(raw, v.data ? v.data : "", v.data ? v.len : 0));
        }
        lb_buf_free(&k);
        lb_buf_free(&v);
        i = end + 1;
    }
    lb_json_doc_t *doc = lb_json_doc_new();
    lb_json_doc_set_root(doc, shape(doc, root, op));
    lb_json_doc_free(&raw);
    return doc;
}

/* ---- XML ---- */

static void xml_text(lb_buf_t *b, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        switch (s[i]) {
        case '&':
            lb_buf_puts(b, "&amp;");
            break;
        case '<':
            lb_buf_puts(b, "&lt;");
            break;
        case '>':
            lb_buf_puts(b, "&gt;");
            break;
        case '"':
            lb_buf_puts(b, "&quot;");
            break;
        case '\'':
            lb_buf_puts(b, "&apos;");
            break;
        case '\r':
            lb_buf_puts(b, "&#xD;");
            break;
        default:
            lb_buf_append(b, &s[i], 1);
        }
    }
}

static void open_tag(lb_buf_t *b, const char *n)
{
    lb_buf_printf(b, "<%s>", n);
}

static void close_tag(lb_buf_t *b, const char *n)
{
    lb_buf_printf(b, "</%s>", n);
}

/* The element name of a list member, by the list's name and the operation. */
static const char *member_name(const char *list, const char *op)
{
    if (strcmp(list, "QueueUrls") == 0) return "QueueUrl";
    if (strcmp(list, "Messages") == 0) return "Message";
    if (strcmp(list, "Failed") == 0) return "BatchResultErrorEntry";
    if (strcmp(list, "Successful") == 0) {
        if (strcmp(op, "SendMessageBatch") == 0) return "SendMessageBatchResultEntry";
        if (strcmp(op, "DeleteMessageBatch") == 0) return "DeleteMessageBatchResultEntry";
        return "ChangeMessageVisibilityBatchResultEntry";
    }
    return "member";
}

static void xml_value(lb_buf_t *b, const char *name, const lb_json_t *v, const char *op);

static void xml_scalar(lb_buf_t *b, const lb_json_t *v)
{
    if (v->type == LB_JSON_STRING) {
        xml_text(b, v->str, v->len);
    } else if (v->type == LB_JSON_TRUE || v->type == LB_JSON_FALSE) {
        lb_buf_puts(b, v->type == LB_JSON_TRUE ? "true" : "false");
    } else {
        lb_json_write(b, v);
    }
}

/* Maps are flattened entries: Attribute (Name, Value), Tag (Key, Value), MessageAttribute (Name,
 * Value with its members). */
static void xml_map(lb_buf_t *b, const char *name, const lb_json_t *map, const char *op)
{
    const char *entry = strcmp(name, "Tags") == 0                ? "Tag"
                        : strcmp(name, "MessageAttributes") == 0 ? "MessageAttribute"
                                                                 : "Attribute";
    const char *keyname = strcmp(entry, "Tag") == 0 ? "Key" : "Name";
    lb_json_each(e, map)
    {
        open_tag(b, entry);
        open_tag(b, keyname);
        xml_text(b, e->key, strlen(e->key));
        close_tag(b, keyname);
        xml_value(b, "Value", e, op);
        close_tag(b, entry);
    }
}

static void xml_value(lb_buf_t *b, const char *name, const lb_json_t *v, const char *op)
{
    if (v->type == LB_JSON_ARRAY) {
        const char *m = member_name(name, op);
        lb_json_each(e, v) xml_value(b, m, e, op);
        return;
    }
    if (v->type == LB_JSON_OBJECT &&
        (strcmp(name, "Attributes") == 0 || strcmp(name, "Tags") == 0 ||
         strcmp(name, "MessageAttributes") == 0)) {
        xml_map(b, name, v, op);
        return;
    }
    open_tag(b, name);
    if (v->type == LB_JSON_OBJECT) {
        lb_json_each(e, v) xml_value(b, e->key, e, op);
    } else {
        xml_scalar(b, v);
    }
    close_tag(b, name);
}

void sqs_xml_answer(lb_buf_t *out, const char *op, const lb_json_t *res, const char *request_id)
{
    lb_buf_printf(out,
                  "<?xml version=\"1.0\"?><%sResponse "
                  "xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\">",
                  op);
    if (res && res->n_children) {
        lb_buf_printf(out, "<%sResult>", op);
        lb_json_each(e, res) xml_value(out, e->key, e, op);
        lb_buf_printf(out, "</%sResult>", op);
    } else if (strcmp(op, "ReceiveMessage") == 0 || strcmp(op, "ListQueues") == 0 ||
               strcmp(op, "GetQueueAttributes") == 0 || strcmp(op, "ListQueueTags") == 0) {
        lb_buf_printf(out, "<%sResult/>", op);
    }
    lb_buf_printf(out,
                  "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>",
                  request_id, op);
}

void sqs_xml_error(lb_buf_t *out, const char *code, int sender, const char *msg,
                   const char *request_id)
{
    lb_buf_printf(out,
                  "<?xml version=\"1.0\"?><ErrorResponse "
                  "xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\"><Error><Type>%s</Type>"
                  "<Code>%s</Code><Message>",
                  sender ? "Sender" : "Receiver", code);
    xml_text(out, msg, strlen(msg));
    lb_buf_printf(out, "</Message><Detail/></Error><RequestId>%s</RequestId></ErrorResponse>",
                  request_id);
}

void lb_sqs_query_error_from_json(lb_call_t *call)
{
    lb_json_doc_t *doc = NULL;
    const char *type = NULL, *message = NULL;
    if (call->body.data && lb_json_parse(call->body.data, call->body.len, LB_JSON_REQUEST_MAX_DEPTH,
                                         &doc, NULL) == 0) {
        type = lb_json_get_str(lb_json_doc_root(doc), "__type");
        message = lb_json_get_str(lb_json_doc_root(doc), "message");
    }
    lb_buf_t xml = {0};
    sqs_xml_error(&xml, type ? type : "InternalFailure", call->status < 500, message ? message : "",
                  call->request_id);
    lb_json_doc_free(&doc);
    lb_buf_free(&call->body);
    call->body = xml;
    call->content_type = "text/xml";
}
