#include "lb_validate.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

void lb_verr_add_n(lb_verrs_t *v, const char *value, size_t len, const char *member,
                   const char *constraint)
{
    if (v->count++) lb_buf_puts(&v->text, "; ");
    if (value) {
        lb_buf_puts(&v->text, "Value '");
        lb_buf_append(&v->text, value, len);
        lb_buf_printf(&v->text, "' at '%s' failed to satisfy constraint: %s", member, constraint);
    } else {
        lb_buf_printf(&v->text, "Value null at '%s' failed to satisfy constraint: %s", member,
                      constraint);
    }
}

void lb_verr_add(lb_verrs_t *v, const char *value, const char *member, const char *constraint)
{
    lb_verr_add_n(v, value, value ? strlen(value) : 0, member, constraint);
}

/* Appends a member name as AWS writes it in a path: its first letter in lower case. */
static void put_member_name(lb_buf_t *path, const char *key, size_t len)
{
    if (path->len) lb_buf_puts(path, ".");
    if (len && key[0] >= 'A' && key[0] <= 'Z') {
        char first = (char)(key[0] - 'A' + 'a');
        lb_buf_append(path, &first, 1);
        key++, len--;
    }
    lb_buf_append(path, key, len);
}

static void nul_walk(lb_verrs_t *v, const lb_json_t *node, lb_buf_t *path, const char *skip)
{
    if (node->type == LB_JSON_STRING && lb_json_has_nul(node->str, node->len))
        lb_verr_add_n(v, node->str, node->len, path->data ? path->data : "", LB_VERR_NO_NUL);
    size_t index = 0;
    lb_json_each(c, node)
    {
        size_t mark = path->len;
        index++;
        if (node->type == LB_JSON_OBJECT) {
            if (skip && c->key_len == strlen(skip) && memcmp(c->key, skip, c->key_len) == 0)
                continue;
            /* A name holding U+0000 is reported as the value at its object; a path through it
             * could not be written. */
            if (lb_json_has_nul(c->key, c->key_len)) {
                lb_verr_add_n(v, c->key, c->key_len, path->data ? path->data : "", LB_VERR_NO_NUL);
                continue;
            }
            put_member_name(path, c->key, c->key_len);
        } else {
            lb_buf_printf(path, "%s%zu.member", path->len ? "." : "", index);
        }
        nul_walk(v, c, path, NULL);
        path->len = mark;
        path->data[mark] = '\0';
    }
}

void lb_verr_nul(lb_verrs_t *v, const lb_json_t *node, const char *member, const char *skip)
{
    if (!node) return;
    lb_buf_t path = {0};
    lb_buf_puts(&path, member);
    nul_walk(v, node, &path, skip);
    lb_buf_free(&path);
}

int lb_verr_emit(lb_verrs_t *v, lb_call_t *call)
{
    int failed = v->count > 0;
    if (failed) {
        lb_buf_t msg = {0};
        lb_buf_printf(&msg, "%d validation error%s detected: ", v->count, v->count == 1 ? "" : "s");
        lb_buf_append(&msg, v->text.data, v->text.len);
        lb_call_error_msg(call, LB_AWS_VALIDATION, msg.data, msg.len);
        lb_buf_free(&msg);
    }
    lb_buf_free(&v->text);
    v->count = 0;
    return failed;
}

static const lb_json_t *field(const lb_json_t *obj, const char *key)
{
    const lb_json_t *f = lb_json_get(obj, key);
    return f && f->type != LB_JSON_NULL ? f : NULL;
}

static int wrong_type(lb_call_t *call, const char *key, const char *want)
{
    lb_call_error(call, LB_AWS_SERIALIZATION, "Field '%s' must be %s.", key, want);
    return -1;
}

int lb_get_string_n(const lb_json_t *obj, const char *key, const char **out, size_t *len,
                    lb_call_t *call)
{
    const lb_json_t *f = field(obj, key);
    *out = NULL;
    *len = 0;
    if (!f) return 0;
    if (f->type != LB_JSON_STRING) return wrong_type(call, key, "a string");
    *out = f->str;
    *len = f->len;
    return 0;
}

int lb_get_string(const lb_json_t *obj, const char *key, const char **out, lb_call_t *call)
{
    size_t len;
    if (lb_get_string_n(obj, key, out, &len, call)) return -1;
    if (!*out || !lb_json_has_nul(*out, len)) return 0;
    /* Read as a C string it would end at the U+0000 and silently mean something shorter. */
    lb_verrs_t v = {0};
    lb_buf_t member = {0};
    put_member_name(&member, key, strlen(key));
    lb_verr_add_n(&v, *out, len, member.data, LB_VERR_NO_NUL);
    lb_buf_free(&member);
    lb_verr_emit(&v, call);
    *out = NULL;
    return -1;
}

int lb_get_int(const lb_json_t *obj, const char *key, int64_t *out, int *present, lb_call_t *call)
{
    const lb_json_t *f = field(obj, key);
    if (present) *present = 0;
    if (!f) return 0;
    if (f->type != LB_JSON_NUMBER || f->num != floor(f->num) || fabs(f->num) > 9.2e18)
        return wrong_type(call, key, "an integer");
    *out = (int64_t)f->num;
    if (present) *present = 1;
    return 0;
}

int lb_get_bool(const lb_json_t *obj, const char *key, int *out, int *present, lb_call_t *call)
{
    const lb_json_t *f = field(obj, key);
    if (present) *present = 0;
    if (!f) return 0;
    if (f->type != LB_JSON_TRUE && f->type != LB_JSON_FALSE)
        return wrong_type(call, key, "a boolean");
    *out = f->type == LB_JSON_TRUE;
    if (present) *present = 1;
    return 0;
}

int lb_get_array(const lb_json_t *obj, const char *key, const lb_json_t **out, lb_call_t *call)
{
    const lb_json_t *f = field(obj, key);
    *out = NULL;
    if (!f) return 0;
    if (f->type != LB_JSON_ARRAY) return wrong_type(call, key, "a list");
    *out = f;
    return 0;
}

int lb_get_object(const lb_json_t *obj, const char *key, const lb_json_t **out, lb_call_t *call)
{
    const lb_json_t *f = field(obj, key);
    *out = NULL;
    if (!f) return 0;
    if (f->type != LB_JSON_OBJECT) return wrong_type(call, key, "a structure");
    *out = f;
    return 0;
}

int lb_chars_only(const char *s, size_t len, const char *extra)
{
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && (s[i] == '\0' || !strchr(extra, s[i]))) return 0;
    return 1;
}

size_t lb_utf8_length(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80) n++;
    return n;
}

/* arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus/ */
static const char *bus_arn_name(const char *s)
{
    if (strncmp(s, "arn:aws", 7) != 0) return NULL;
    const char *p = strchr(s + 7, ':');
    if (!p || strncmp(p, ":events:", 8) != 0) return NULL;
    p += 8;
    const char *region_end = strchr(p, ':');
    if (!region_end || region_end == p) return NULL;
    const char *acct = region_end + 1;
    for (int i = 0; i < 12; i++)
        if (!isdigit((unsigned char)acct[i])) return NULL;
    if (strncmp(acct + 12, ":event-bus/", 11) != 0) return NULL;
    return acct + 23;
}

int lb_check_bus_name_or_arn(const char *s, size_t bytes, const char *member, lb_verrs_t *v,
                             const char **name)
{
    size_t len = lb_utf8_length(s);
    const char *bare = bus_arn_name(s);
    size_t bare_bytes = bare ? bytes - (size_t)(bare - s) : 0;
    int ok = 1;
    if (len < 1 && bytes < 1) {
        lb_verr_add_n(v, s, bytes, member, "Member must have length greater than or equal to 1");
        ok = 0;
    } else if (len > 1600) {
        lb_verr_add_n(v, s, bytes, member, "Member must have length less than or equal to 1600");
        ok = 0;
    }
    if (ok && !(bare ? bare_bytes && lb_chars_only(bare, bare_bytes, "/.-_")
                     : lb_chars_only(s, bytes, "/.-_"))) {
        lb_verr_add_n(
            v, s, bytes, member,
            "Member must satisfy regular expression pattern: " LB_BUS_NAME_OR_ARN_PATTERN);
        ok = 0;
    }
    if (!ok) return -1;
    *name = bare ? bare : s;
    return 0;
}

int lb_read_tags(const lb_json_t *req, const char *key, char **json, lb_call_t *call)
{
    const lb_json_t *tags;
    *json = NULL;
    if (lb_get_array(req, key, &tags, call)) return -1;
    if (!tags) return 0;
    lb_verrs_t v = {0};
    lb_json_doc_t *doc = lb_json_doc_new();
    lb_json_t *out = lb_json_new(doc, LB_JSON_ARRAY);
    int i = 0;
    lb_json_each(t, tags)
    {
        char member[64];
        i++;
        const char *k = NULL, *val = NULL;
        if (t->type != LB_JSON_OBJECT) {
            lb_json_doc_free(&doc);
            lb_buf_free(&v.text);
            return wrong_type(call, key, "a list of Tag structures");
        }
        size_t k_len, val_len;
        if (lb_get_string_n(t, "Key", &k, &k_len, call) ||
            lb_get_string_n(t, "Value", &val, &val_len, call)) {
            lb_json_doc_free(&doc);
            lb_buf_free(&v.text);
            return -1;
        }
        snprintf(member, sizeof member, "tags.%d.member.key", i);
        if (!k)
            lb_verr_add(&v, NULL, member, "Member must not be null");
        else if (lb_json_has_nul(k, k_len))
            lb_verr_add_n(&v, k, k_len, member, LB_VERR_NO_NUL);
        else if (lb_utf8_length(k) < 1 || lb_utf8_length(k) > 128)
            lb_verr_add(&v, k, member,
                        "Member must have length less than or equal to 128 and greater than 0");
        snprintf(member, sizeof member, "tags.%d.member.value", i);
        if (!val)
            lb_verr_add(&v, NULL, member, "Member must not be null");
        else if (lb_json_has_nul(val, val_len))
            lb_verr_add_n(&v, val, val_len, member, LB_VERR_NO_NUL);
        else if (lb_utf8_length(val) > 256)
            lb_verr_add(&v, val, member, "Member must have length less than or equal to 256");
        if (k && val) {
            lb_json_t *o = lb_json_add(doc, out, NULL, lb_json_new(doc, LB_JSON_OBJECT));
            lb_json_add_str(doc, o, "Key", k);
            lb_json_add_str(doc, o, "Value", val);
        }
    }
    if (lb_verr_emit(&v, call)) {
        lb_json_doc_free(&doc);
        return -1;
    }
    *json = lb_json_print(out, NULL);
    lb_json_doc_free(&doc);
    return 0;
}

void lb_json_put_time(lb_buf_t *b, const char *key, int64_t ms)
{
    lb_buf_printf(b, ",\"%s\":%.3f", key, (double)ms / 1000.0);
}

void lb_json_put_str(lb_buf_t *b, const char *key, const char *value)
{
    lb_buf_printf(b, ",\"%s\":", key);
    lb_buf_json_string(b, value, strlen(value));
}

static int token_decode(const char *tok, char *out, size_t outlen)
{
    size_t n = strlen(tok);
    if (n == 0 || n % 2 || n / 2 >= outlen) return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (!isxdigit((unsigned char)tok[2 * i]) || !isxdigit((unsigned char)tok[2 * i + 1]) ||
            sscanf(tok + 2 * i, "%2x", &v) != 1 || !v)
            return -1;
        out[i] = (char)v;
    }
    out[n / 2] = '\0';
    return 0;
}

int lb_read_limit(const lb_json_t *req, lb_call_t *call, int64_t *limit)
{
    int has;
    *limit = 100;
    if (lb_get_int(req, "Limit", limit, &has, call)) return -1;
    if (has && (*limit < 1 || *limit > 100)) {
        lb_verrs_t v = {0};
        char text[32];
        snprintf(text, sizeof text, "%lld", (long long)*limit);
        lb_verr_add(&v, text, "limit",
                    *limit < 1 ? "Member must have value greater than or equal to 1"
                               : "Member must have value less than or equal to 100");
        lb_verr_emit(&v, call);
        return -1;
    }
    return 0;
}

int lb_read_next_token(const char *token, lb_call_t *call, char *start, size_t startlen)
{
    start[0] = '\0';
    if (!token || token_decode(token, start, startlen) == 0) return 0;
    lb_call_error(call, LB_AWS_VALIDATION, "The NextToken '%s' is not valid.", token);
    return -1;
}

void lb_json_close_page(lb_buf_t *b, const char *resume_at)
{
    lb_buf_puts(b, "],\"NextToken\":\"");
    for (const unsigned char *p = (const unsigned char *)resume_at; *p; p++)
        lb_buf_printf(b, "%02x", *p);
    lb_buf_puts(b, "\"}");
}
