/* Queue attributes as SQS validates them: names, ranges, the FIFO-only ones, the redrive policy
 * and server-side encryption, in AWS's words. See lb_queue_attrs_check in lb_queue.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_json.h"
#include "lb_queue_internal.h"

typedef enum { K_INT, K_BOOL, K_TEXT, K_ENUM, K_JSON, K_REDRIVE } kind_t;

static const struct {
    const char *name;
    kind_t kind;
    long long lo, hi;
    const char *def; /* the value GetQueueAttributes shows when not set (NULL: absent) */
    int fifo_only;
    const char *choices; /* K_ENUM: "a|b" */
} attrs[] = {
    {"ContentBasedDeduplication", K_BOOL, 0, 0, NULL, 1, NULL},
    {"DeduplicationScope", K_ENUM, 0, 0, NULL, 1, "messageGroup|queue"},
    {"DelaySeconds", K_INT, 0, 900, "0", 0, NULL},
    {"FifoQueue", K_BOOL, 0, 0, NULL, 1, NULL},
    {"FifoThroughputLimit", K_ENUM, 0, 0, NULL, 1, "perQueue|perMessageGroupId"},
    {"KmsDataKeyReusePeriodSeconds", K_INT, 60, 86400, NULL, 0, NULL},
    {"KmsMasterKeyId", K_TEXT, 0, 0, NULL, 0, NULL},
    {"MaximumMessageSize", K_INT, 1024, LB_SQS_MAX_MESSAGE_SIZE, "1048576", 0, NULL},
    {"MessageRetentionPeriod", K_INT, 60, 1209600, "345600", 0, NULL},
    {"Policy", K_JSON, 0, 0, NULL, 0, NULL},
    {"ReceiveMessageWaitTimeSeconds", K_INT, 0, 20, "0", 0, NULL},
    {"RedriveAllowPolicy", K_JSON, 0, 0, NULL, 0, NULL},
    {"RedrivePolicy", K_REDRIVE, 0, 0, NULL, 0, NULL},
    {"SqsManagedSseEnabled", K_BOOL, 0, 0, "true", 0, NULL},
    {"VisibilityTimeout", K_INT, 0, LB_SQS_MAX_VISIBILITY_S, "30", 0, NULL},
};
#define N_ATTRS (sizeof attrs / sizeof *attrs)

/* The defaults a FIFO queue shows besides the common ones. */
static const char *fifo_default(const char *name)
{
    if (strcmp(name, "ContentBasedDeduplication") == 0) return "false";
    if (strcmp(name, "DeduplicationScope") == 0) return "queue";
    if (strcmp(name, "FifoThroughputLimit") == 0) return "perQueue";
    if (strcmp(name, "FifoQueue") == 0) return "true";
    return NULL;
}

static int find_attr(const char *name)
{
    for (size_t i = 0; i < N_ATTRS; i++)
        if (strcmp(attrs[i].name, name) == 0) return (int)i;
    return -1;
}

static int parse_int(const char *s, long long *out)
{
    if (!*s || strlen(s) > 18) return -1;
    const char *p = s;
    if (*p == '-') p++;
    if (!*p) return -1;
    for (; *p; p++)
        if (!isdigit((unsigned char)*p)) return -1;
    *out = atoll(s);
    return 0;
}

static int is_json(const char *s)
{
    lb_json_doc_t *doc = NULL;
    int ok = lb_json_parse(s, strlen(s), LB_JSON_REQUEST_MAX_DEPTH, &doc, NULL) == 0;
    lb_json_doc_free(&doc);
    return ok;
}

static int is_bool(const char *s)
{
    return strcmp(s, "true") == 0 || strcmp(s, "false") == 0;
}

static int in_choices(const char *s, const char *choices)
{
    size_t n = strlen(s);
    for (const char *p = choices; *p;) {
        size_t k = strcspn(p, "|");
        if (k == n && strncmp(p, s, n) == 0) return 1;
        p += k + (p[k] == '|');
    }
    return 0;
}

/* A RedrivePolicy value: "" (none) or {"deadLetterTargetArn": ARN, "maxReceiveCount": 1..1000},
 * the count a number or a string. 0, or -1 with AWS's reason in msg. */
static int check_redrive(const char *value, int fifo, char *msg, size_t msglen)
{
    if (!*value) return 0;
    lb_json_doc_t *doc = NULL;
    int rc = -1;
    if (lb_json_parse(value, strlen(value), LB_JSON_REQUEST_MAX_DEPTH, &doc, NULL) ||
        lb_json_doc_root(doc)->type != LB_JSON_OBJECT) {
        snprintf(msg, msglen,
                 "Value %s for parameter RedrivePolicy is invalid. Reason: Redrive policy is not "
                 "a valid JSON map.",
                 value);
        goto out;
    }
    const lb_json_t *root = lb_json_doc_root(doc);
    const char *arn = lb_json_get_str(root, "deadLetterTargetArn");
    const lb_json_t *count = lb_json_get(root, "maxReceiveCount");
    long long n = -1;
    if (count && count->type == LB_JSON_NUMBER) n = (long long)count->num;
    if (count && count->type == LB_JSON_STRING && parse_int(count->str, &n)) n = -1;
    if (!arn || !count) {
        snprintf(msg, msglen,
                 "Value %s for parameter RedrivePolicy is invalid. Reason: Redrive policy does "
                 "not contain mandatory attribute: %s.",
                 value, !arn ? "deadLetterTargetArn" : "maxReceiveCount");
        goto out;
    }
    if (strncmp(arn, "arn:", 4) != 0 || strstr(arn, ":sqs:") == NULL || strlen(arn) > 250) {
        snprintf(msg, msglen,
                 "Value %s for parameter RedrivePolicy is invalid. Reason: Invalid value for "
                 "deadLetterTargetArn.",
                 value);
        goto out;
    }
    if (n < 1 || n > 1000) {
        snprintf(msg, msglen,
                 "Value %s for parameter RedrivePolicy is invalid. Reason: Invalid value for "
                 "maxReceiveCount: %s, valid values are from 1 to 1000 both inclusive.",
                 value, count->str ? count->str : "null");
        goto out;
    }
    size_t len = strlen(arn);
    int dlq_fifo = len > 5 && strcmp(arn + len - 5, ".fifo") == 0;
    if (dlq_fifo != fifo) {
        snprintf(msg, msglen,
                 "Value %s for parameter RedrivePolicy is invalid. Reason: Dead-letter queue "
                 "must be same type of queue as the source.",
                 value);
        goto out;
    }
    rc = 0;
out:
    lb_json_doc_free(&doc);
    return rc;
}

/* One attribute of a request: checked against its kind. */
static lb_qattr_err_t check_one(int i, const char *name, const char *value, int fifo, int creating,
                                char *msg, size_t msglen)
{
    if (attrs[i].fifo_only && !fifo) {
        if (strcmp(name, "DeduplicationScope") == 0 || strcmp(name, "FifoThroughputLimit") == 0)
            snprintf(msg, msglen, "You can specify the %s only when FifoQueue is set to true.",
                     name);
        else
            snprintf(msg, msglen, "Unknown Attribute %s.", name);
        return LB_QATTR_INVALID_NAME;
    }
    if (strcmp(name, "FifoQueue") == 0 && !creating) {
        snprintf(msg, msglen,
                 "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not "
                 "supported.");
        return LB_QATTR_INVALID_VALUE;
    }
    long long v;
    int ok = 1;
    switch (attrs[i].kind) {
    case K_INT:
        ok = parse_int(value, &v) == 0 && v >= attrs[i].lo && v <= attrs[i].hi;
        break;
    case K_BOOL:
        ok = is_bool(value);
        break;
    case K_ENUM:
        ok = in_choices(value, attrs[i].choices);
        break;
    case K_JSON:
        ok = !*value || is_json(value);
        break;
    case K_REDRIVE:
        if (check_redrive(value, fifo, msg, msglen)) return LB_QATTR_INVALID_PARAM;
        break;
    case K_TEXT:
        break;
    }
    if (!ok) {
        snprintf(msg, msglen, "Invalid value for the parameter %s.", name);
        return LB_QATTR_INVALID_VALUE;
    }
    return LB_QATTR_OK;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp((*(const lb_json_t *const *)a)->key, (*(const lb_json_t *const *)b)->key);
}

/* The attributes as one canonical JSON object: keys sorted, an empty RedrivePolicy or Policy
 * dropped (setting "" removes it). */
static char *canonical(const lb_json_t *obj)
{
    size_t n = obj->n_children, k = 0;
    const lb_json_t **v = lb_xcalloc(n ? n : 1, sizeof *v);
    lb_json_each(c, obj) v[k++] = c;
    qsort(v, n, sizeof *v, key_cmp);
    lb_buf_t b = {0};
    lb_buf_puts(&b, "{");
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && strcmp(v[i]->key, v[i + 1]->key) == 0) continue; /* the last wins */
        if (v[i]->len == 0 && find_attr(v[i]->key) >= 0 &&
            (attrs[find_attr(v[i]->key)].kind == K_REDRIVE ||
             attrs[find_attr(v[i]->key)].kind == K_JSON))
            continue;
        if (!first) lb_buf_puts(&b, ",");
        first = 0;
        lb_buf_json_string(&b, v[i]->key, strlen(v[i]->key));
        lb_buf_puts(&b, ":");
        lb_buf_json_string(&b, v[i]->str, v[i]->len);
    }
    lb_buf_puts(&b, "}");
    free(v);
    return lb_buf_steal(&b, NULL);
}

lb_qattr_err_t lb_queue_attrs_check(const lb_json_t *req, const char *name,
                                    const lb_queue_t *current, char **merged, char *msg,
                                    size_t msglen)
{
    *merged = NULL;
    int creating = current == NULL;
    int fifo;
    if (creating) {
        const char *f = req ? lb_json_get_str(req, "FifoQueue") : NULL;
        size_t len = strlen(name);
        int fifo_name = len > 5 && strcmp(name + len - 5, ".fifo") == 0;
        fifo = f && strcmp(f, "true") == 0;
        if (f && !fifo_name) {
            snprintf(msg, msglen, "Unknown Attribute FifoQueue.");
            return LB_QATTR_INVALID_NAME;
        }
        if (f && !is_bool(f)) {
            snprintf(msg, msglen, "Invalid value for the parameter FifoQueue.");
            return LB_QATTR_INVALID_VALUE;
        }
    } else {
        fifo = current->conf.fifo;
    }
    lb_json_each(a, req)
    {
        if (a->type != LB_JSON_STRING) {
            snprintf(msg, msglen, "Invalid value for the parameter %s.", a->key);
            return LB_QATTR_INVALID_VALUE;
        }
        int i = find_attr(a->key);
        if (i < 0) {
            snprintf(msg, msglen, "Unknown Attribute %s.", a->key);
            return LB_QATTR_INVALID_NAME;
        }
        lb_qattr_err_t e = check_one(i, a->key, a->str, fifo, creating, msg, msglen);
        if (e != LB_QATTR_OK) return e;
    }
    /* Start from the current attributes, then apply the request's. */
    lb_json_doc_t *doc = NULL;
    const char *base = current ? current->attrs_json : "{}";
    if (lb_json_parse(base, strlen(base), LB_JSON_REQUEST_MAX_DEPTH, &doc, NULL)) {
        doc = lb_json_doc_new();
        lb_json_doc_set_root(doc, lb_json_new(doc, LB_JSON_OBJECT));
    }
    lb_json_t *root = lb_json_doc_root(doc);
    lb_json_each(a, req)
    {
        lb_json_remove(root, a->key);
        lb_json_add(doc, root, a->key, lb_json_new_string(doc, a->str, a->len));
    }
    /* One kind of server-side encryption at a time: turning one on turns the other off. */
    const char *kms = req ? lb_json_get_str(req, "KmsMasterKeyId") : NULL;
    const char *sse = req ? lb_json_get_str(req, "SqsManagedSseEnabled") : NULL;
    int sse_on = sse && strcmp(sse, "true") == 0;
    if (kms && *kms && sse_on) {
        lb_json_doc_free(&doc);
        snprintf(msg, msglen,
                 "You can use one type of server-side encryption (SSE) at one time. You can "
                 "either enable KMS SSE or SQS SSE.");
        return LB_QATTR_INVALID_NAME;
    }
    if (kms && *kms) {
        lb_json_remove(root, "SqsManagedSseEnabled");
        lb_json_add(doc, root, "SqsManagedSseEnabled", lb_json_new_str(doc, "false"));
    } else if (sse_on) {
        lb_json_remove(root, "KmsMasterKeyId");
        lb_json_remove(root, "KmsDataKeyReusePeriodSeconds");
    }
    *merged = canonical(root);
    lb_json_doc_free(&doc);
    return LB_QATTR_OK;
}

void lb_queue_attr_effective(const char *attrs_json, const char *name, char *out, size_t outlen)
{
    out[0] = '\0';
    lb_json_doc_t *doc = NULL;
    int fifo = 0;
    if (lb_json_parse(attrs_json, strlen(attrs_json), LB_JSON_REQUEST_MAX_DEPTH, &doc, NULL) == 0) {
        const lb_json_t *root = lb_json_doc_root(doc);
        const char *v = lb_json_get_str(root, name);
        const char *f = lb_json_get_str(root, "FifoQueue");
        fifo = f && strcmp(f, "true") == 0;
        if (v) {
            snprintf(out, outlen, "%s", v);
            lb_json_doc_free(&doc);
            return;
        }
    }
    lb_json_doc_free(&doc);
    int i = find_attr(name);
    const char *def = i >= 0 ? attrs[i].def : NULL;
    if (fifo && fifo_default(name)) def = fifo_default(name);
    if (def) snprintf(out, outlen, "%s", def);
}

static long long int_of(const lb_json_t *root, const char *name, long long def)
{
    const char *v = lb_json_get_str(root, name);
    long long n;
    return v && parse_int(v, &n) == 0 ? n : def;
}

void lb_queue_conf_parse(const char *attrs_json, lb_queue_conf_t *c)
{
    memset(c, 0, sizeof *c);
    c->max_size = LB_SQS_MAX_MESSAGE_SIZE;
    c->retention_s = 345600;
    c->visibility_s = 30;
    lb_json_doc_t *doc = NULL;
    if (lb_json_parse(attrs_json, strlen(attrs_json), LB_JSON_REQUEST_MAX_DEPTH, &doc, NULL))
        return;
    const lb_json_t *root = lb_json_doc_root(doc);
    const char *v;
    c->fifo = (v = lb_json_get_str(root, "FifoQueue")) && strcmp(v, "true") == 0;
    c->content_dedup =
        (v = lb_json_get_str(root, "ContentBasedDeduplication")) && strcmp(v, "true") == 0;
    c->dedup_per_group =
        (v = lb_json_get_str(root, "DeduplicationScope")) && strcmp(v, "messageGroup") == 0;
    c->delay_s = int_of(root, "DelaySeconds", 0);
    c->max_size = int_of(root, "MaximumMessageSize", LB_SQS_MAX_MESSAGE_SIZE);
    c->retention_s = int_of(root, "MessageRetentionPeriod", 345600);
    c->wait_s = int_of(root, "ReceiveMessageWaitTimeSeconds", 0);
    c->visibility_s = int_of(root, "VisibilityTimeout", 30);
    if ((v = lb_json_get_str(root, "RedrivePolicy")) && *v) {
        lb_json_doc_t *rp = NULL;
        if (lb_json_parse(v, strlen(v), LB_JSON_REQUEST_MAX_DEPTH, &rp, NULL) == 0) {
            const lb_json_t *r = lb_json_doc_root(rp);
            const char *arn = lb_json_get_str(r, "deadLetterTargetArn");
            const lb_json_t *count = lb_json_get(r, "maxReceiveCount");
            long long n = 0;
            if (count && count->type == LB_JSON_NUMBER) n = (long long)count->num;
            if (count && count->type == LB_JSON_STRING && parse_int(count->str, &n)) n = 0;
            if (arn && n > 0) {
                snprintf(c->dlq_arn, sizeof c->dlq_arn, "%s", arn);
                c->max_receive_count = (int)n;
            }
        }
        lb_json_doc_free(&rp);
    }
    lb_json_doc_free(&doc);
}

int lb_queue_name_valid(const char *name, int fifo)
{
    size_t len = strlen(name), base = len;
    if (fifo) {
        if (len < 6 || strcmp(name + len - 5, ".fifo") != 0) return 0;
        base = len - 5;
    }
    if (len < 1 || len > 80 || base < 1) return 0;
    for (size_t i = 0; i < base; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '_') return 0;
    return 1;
}
