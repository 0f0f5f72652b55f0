/* PutEvents entries and answers for forwarding. See lb_putevents.h. */
#include "lb_putevents.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void put_key(lb_buf_t *b, const char *key)
{
    lb_buf_append(b, ",\"", 2);
    lb_buf_puts(b, key);
    lb_buf_append(b, "\":", 2);
}

int lb_putevents_entry(const char *envelope, size_t len, const char *bus_arn,
                       const char *trace_header, lb_buf_t *out, size_t *size)
{
    lb_json_doc_t *doc = NULL;
    if (lb_json_parse(envelope, len, LB_JSON_EVENT_MAX_DEPTH + 1, &doc, NULL)) return -EINVAL;
    const lb_json_t *root = lb_json_doc_root(doc);
    const lb_json_t *source = lb_json_get(root, "source");
    const lb_json_t *detail_type = lb_json_get(root, "detail-type");
    const lb_json_t *detail = lb_json_get(root, "detail");
    const lb_json_t *resources = lb_json_get(root, "resources");
    const char *when = lb_json_get_str(root, "time");
    int ok = root->type == LB_JSON_OBJECT && lb_json_is(source, LB_JSON_STRING) && source->len &&
             lb_json_is(detail_type, LB_JSON_STRING) && detail_type->len &&
             lb_json_is(detail, LB_JSON_OBJECT) && (!resources || resources->type == LB_JSON_ARRAY);
    lb_json_each(r, resources) ok = ok && r->type == LB_JSON_STRING;
    int64_t time_ms = 0;
    int has_time = when && lb_parse_time_iso(when, &time_ms) == 0;
    if (!ok) {
        lb_json_doc_free(&doc);
        return -EINVAL;
    }
    /* The Detail as accepted: the envelope's own bytes for it, not a re-serialization. */
    const char *detail_text = envelope + detail->src_off;
    size_t n = (has_time ? 14 : 0) + source->len + detail_type->len + detail->src_len;
    lb_buf_puts(out, "{\"Source\":");
    lb_buf_json_string(out, source->str, source->len);
    put_key(out, "DetailType");
    lb_buf_json_string(out, detail_type->str, detail_type->len);
    put_key(out, "Detail");
    lb_buf_json_string(out, detail_text, detail->src_len);
    if (resources && resources->n_children) {
        put_key(out, "Resources");
        lb_buf_append(out, "[", 1);
        lb_json_each(r, resources)
        {
            if (r != resources->child) lb_buf_append(out, ",", 1);
            lb_buf_json_string(out, r->str, r->len);
            n += r->len;
        }
        lb_buf_append(out, "]", 1);
    }
    if (has_time) {
        /* AWS JSON 1.1 timestamps are epoch seconds; the envelope's time has whole seconds. */
        put_key(out, "Time");
        lb_buf_printf(out, "%lld", (long long)(time_ms / 1000));
    }
    put_key(out, "EventBusName");
    lb_buf_json_string(out, bus_arn, strlen(bus_arn));
    if (trace_header && *trace_header) {
        put_key(out, "TraceHeader");
        lb_buf_json_string(out, trace_header, strlen(trace_header));
    }
    lb_buf_append(out, "}", 1);
    *size = n;
    lb_json_doc_free(&doc);
    return 0;
}

int lb_putevents_results(const char *json, size_t len, size_t n, lb_putevents_result_t *out,
                         lb_json_doc_t **doc)
{
    *doc = NULL;
    if (lb_json_parse(json, len, 16, doc, NULL)) return -EINVAL;
    const lb_json_t *entries = lb_json_get(lb_json_doc_root(*doc), "Entries");
    if (!lb_json_is(entries, LB_JSON_ARRAY) || entries->n_children != n) {
        lb_json_doc_free(doc);
        return -EINVAL;
    }
    size_t i = 0;
    lb_json_each(e, entries)
    {
        out[i].event_id = lb_json_get_str(e, "EventId");
        out[i].error_code = lb_json_get_str(e, "ErrorCode");
        out[i].error_message = lb_json_get_str(e, "ErrorMessage");
        if (out[i].event_id && !*out[i].event_id) out[i].event_id = NULL;
        if (!out[i].event_id && !out[i].error_code) out[i].error_code = "InternalFailure";
        i++;
    }
    return 0;
}

void lb_putevents_error(const char *json, size_t len, char *type, size_t type_n, char *message,
                        size_t message_n)
{
    type[0] = message[0] = '\0';
    lb_json_doc_t *doc = NULL;
    if (lb_json_parse(json, len, 16, &doc, NULL)) return;
    const lb_json_t *root = lb_json_doc_root(doc);
    const char *t = lb_json_get_str(root, "__type");
    const char *m = lb_json_get_str(root, "message");
    if (!m) m = lb_json_get_str(root, "Message");
    if (t) {
        const char *hash = strrchr(t, '#');
        snprintf(type, type_n, "%s", hash ? hash + 1 : t);
    }
    if (m) snprintf(message, message_n, "%s", m);
    lb_json_doc_free(&doc);
}

static int one_of(const char *code, const char *const *list, size_t n)
{
    for (size_t i = 0; code && i < n; i++)
        if (strcmp(code, list[i]) == 0) return 1;
    return 0;
}

int lb_putevents_retryable(const char *code)
{
    static const char *const retry[] = {"ThrottlingException", "InternalException",
                                        "InternalFailure", "ServiceUnavailable",
                                        "ServiceUnavailableException"};
    return one_of(code, retry, sizeof retry / sizeof *retry);
}

int lb_putevents_auth_error(const char *code)
{
    static const char *const auth[] = {"ExpiredTokenException",
                                       "UnrecognizedClientException",
                                       "InvalidSignatureException",
                                       "IncompleteSignatureException",
                                       "MissingAuthenticationTokenException",
                                       "InvalidClientTokenId",
                                       "SignatureDoesNotMatch"};
    return one_of(code, auth, sizeof auth / sizeof *auth);
}
