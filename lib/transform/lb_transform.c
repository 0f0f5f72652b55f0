/* lb_transform: target input (Input / InputPath / InputTransformer). See lb_transform.h for the
 * rendering rules and where each one comes from. */
#include "lb_transform.h"

#include "lb_jsonpath.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    INPUT_WHOLE_EVENT,
    INPUT_CONSTANT,
    INPUT_PATH,
    INPUT_TRANSFORMER,
} input_mode_t;

/* The predefined placeholders (DOC "Predefined variables"); they need no InputPathsMap entry. */
typedef enum {
    PRE_RULE_ARN,
    PRE_RULE_NAME,
    PRE_INGESTION_TIME,
    PRE_EVENT,
    PRE_EVENT_JSON,
    PRE_COUNT,
} predefined_t;

static const char *const predefined_names[PRE_COUNT] = {
    [PRE_RULE_ARN] = "aws.events.rule-arn",
    [PRE_RULE_NAME] = "aws.events.rule-name",
    [PRE_INGESTION_TIME] = "aws.events.event.ingestion-time",
    [PRE_EVENT] = "aws.events.event",
    [PRE_EVENT_JSON] = "aws.events.event.json",
};

typedef struct {
    char *name;
    lb_jsonpath_t *path;
} variable_t;

/* The template is kept as a list of segments: literal text, or a placeholder that refers to a
 * variable (index into vars) or to a predefined value, and knows whether it sits inside a JSON
 * string literal of the template. */
typedef struct {
    size_t lit_off, lit_len; /* literal: a slice of `template` */
    int is_placeholder;
    int var; /* >= 0: index into vars; -1: predefined */
    predefined_t pre;
    int in_string;
} segment_t;

struct lb_input {
    input_mode_t mode;
    char *constant; /* INPUT_CONSTANT */
    size_t constant_len;
    lb_jsonpath_t *path; /* INPUT_PATH */
    /* INPUT_TRANSFORMER */
    char *template;
    int json_template;
    variable_t *vars;
    size_t nvars;
    segment_t *segs;
    size_t nsegs, segcap;
};

/* ---- messages ---------------------------------------------------------------------------- */

__attribute__((format(printf, 2, 3))) static int fail(char **errmsg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return -EINVAL;
    char *m = malloc((size_t)n + 1);
    if (m == NULL) return -ENOMEM;
    va_start(ap, fmt);
    vsnprintf(m, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (errmsg != NULL)
        *errmsg = m;
    else
        free(m);
    return -EINVAL;
}

/* ---- output buffer ----------------------------------------------------------------------- */

/* The body being rendered. Rendering stops as soon as it passes max: a small template over a
 * large event must not build hundreds of megabytes before anyone checks. */
typedef struct {
    lb_buf_t out;
    size_t max;
    int too_big;
} buf_t;

static void buf_put(buf_t *b, const char *s, size_t n)
{
    if (b->too_big) return;
    if (b->max && n > b->max - b->out.len) {
        b->too_big = 1;
        return;
    }
    lb_buf_append(&b->out, s, n);
}

static void buf_puts(buf_t *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

/* Append s, escaped for the inside of a JSON string when `escape` is set. */
static void buf_put_text(buf_t *b, const char *s, size_t n, int escape)
{
    if (!escape) {
        buf_put(b, s, n);
        return;
    }
    if (b->too_big) return;
    lb_buf_json_escape(&b->out, s, n);
    if (b->max && b->out.len > b->max) b->too_big = 1;
}

/* A value's JSON text: numbers keep the digits they arrived with. */
static void buf_put_json(buf_t *b, const lb_json_t *v)
{
    if (b->too_big) return;
    switch (v->type) {
    case LB_JSON_NULL:
        buf_put(b, "null", 4);
        return;
    case LB_JSON_TRUE:
        buf_put(b, "true", 4);
        return;
    case LB_JSON_FALSE:
        buf_put(b, "false", 5);
        return;
    case LB_JSON_NUMBER:
        buf_put(b, v->str, v->len);
        return;
    case LB_JSON_STRING:
        buf_put(b, "\"", 1);
        buf_put_text(b, v->str, v->len, 1);
        buf_put(b, "\"", 1);
        return;
    case LB_JSON_ARRAY:
    case LB_JSON_OBJECT: {
        int obj = v->type == LB_JSON_OBJECT;
        buf_put(b, obj ? "{" : "[", 1);
        for (const lb_json_t *c = v->child; c != NULL; c = c->next) {
            if (obj) {
                buf_put(b, "\"", 1);
                buf_put_text(b, c->key, c->key_len, 1);
                buf_put(b, "\":", 2);
            }
            buf_put_json(b, c);
            if (c->next != NULL) buf_put(b, ",", 1);
        }
        buf_put(b, obj ? "}" : "]", 1);
        return;
    }
    }
}

/* The text of a value as a string template shows it: strings without quotes, objects and
 * arrays as JSON with their internal quotes removed ({acc_id:0a787ecb-4015,sf_id:baz}). */
static void buf_put_value_text(buf_t *b, const lb_json_t *v, int escape)
{
    if (v->type == LB_JSON_STRING) {
        buf_put_text(b, v->str, v->len, escape);
    } else if (v->type == LB_JSON_OBJECT || v->type == LB_JSON_ARRAY) {
        int obj = v->type == LB_JSON_OBJECT;
        buf_puts(b, obj ? "{" : "[");
        for (const lb_json_t *c = v->child; c != NULL; c = c->next) {
            if (b->too_big) return;
            if (obj) {
                buf_put_text(b, c->key, c->key_len, escape);
                buf_puts(b, ":");
            }
            buf_put_value_text(b, c, escape);
            if (c->next != NULL) buf_puts(b, ",");
        }
        buf_puts(b, obj ? "}" : "]");
    } else {
        buf_put_json(b, v); /* numbers, booleans, null: their JSON text has no quotes */
    }
}

/* ---- compile ----------------------------------------------------------------------------- */

void lb_input_free(lb_input_t **in)
{
    if (in == NULL || *in == NULL) return;
    lb_input_t *p = *in;
    free(p->constant);
    lb_jsonpath_free(&p->path);
    free(p->template);
    for (size_t i = 0; i < p->nvars; i++) {
        free(p->vars[i].name);
        lb_jsonpath_free(&p->vars[i].path);
    }
    free(p->vars);
    free(p->segs);
    free(p);
    *in = NULL;
}

static int push_segment(lb_input_t *in, segment_t seg)
{
    if (in->nsegs == in->segcap) {
        size_t ncap = in->segcap ? in->segcap * 2 : 8;
        segment_t *n = realloc(in->segs, ncap * sizeof(*n));
        if (n == NULL) return -ENOMEM;
        in->segs = n;
        in->segcap = ncap;
    }
    in->segs[in->nsegs++] = seg;
    return 0;
}

/* InputPathsMap keys: 1..256 characters of [A-Za-z0-9_-] (the API's InputTransformerPathKey). */
static int valid_key(const char *k, size_t n)
{
    if (n == 0 || n > 256) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int compile_paths_map(lb_input_t *in, const char *tid, const char *json, char **errmsg)
{
    lb_json_doc_t *doc = NULL;
    const lb_json_t *map = NULL;
    if (lb_json_parse(json, strlen(json), LB_JSON_REQUEST_MAX_DEPTH, &doc, NULL) == 0)
        map = lb_json_doc_root(doc);
    if (!lb_json_is(map, LB_JSON_OBJECT)) {
        lb_json_doc_free(&doc);
        return fail(errmsg, "InputPathsMap for target %s must be a JSON object of strings.", tid);
    }
    size_t n = map->n_children;
    if (n > LB_INPUT_MAX_PATHS) {
        lb_json_doc_free(&doc);
        return fail(errmsg, "InputPathsMap for target %s has %zu entries; at most %d are allowed.",
                    tid, n, LB_INPUT_MAX_PATHS);
    }
    int rc = 0;
    in->vars = calloc(n > 0 ? n : 1, sizeof(*in->vars));
    if (in->vars == NULL) rc = -ENOMEM;
    for (const lb_json_t *e = map->child; e != NULL && rc == 0; e = e->next) {
        const char *why = "";
        if (!valid_key(e->key, e->key_len)) {
            rc = fail(errmsg,
                      "InputPathsMap key '%s' for target %s must be 1 to 256 characters of "
                      "[A-Za-z0-9_-].",
                      e->key, tid);
        } else if (e->type != LB_JSON_STRING || lb_json_has_nul(e->str, e->len)) {
            rc = fail(errmsg, "InputPathsMap value for key '%s' of target %s must be a string.",
                      e->key, tid);
        } else {
            variable_t *v = &in->vars[in->nvars];
            rc = lb_jsonpath_compile(e->str, &v->path, &why);
            if (rc == -EINVAL)
                rc = fail(errmsg,
                          "InputPathsMap value '%s' for key '%s' of target %s is not a valid "
                          "JSON path: it %s.",
                          e->str, e->key, tid, why);
            if (rc == 0) {
                v->name = strdup(e->key);
                if (v->name == NULL) {
                    lb_jsonpath_free(&v->path);
                    rc = -ENOMEM;
                } else {
                    in->nvars++;
                }
            }
        }
    }
    lb_json_doc_free(&doc);
    return rc;
}

static int resolve_placeholder(const lb_input_t *in, const char *name, size_t len, segment_t *seg)
{
    for (size_t i = 0; i < in->nvars; i++) {
        if (strlen(in->vars[i].name) == len && memcmp(in->vars[i].name, name, len) == 0) {
            seg->var = (int)i;
            return 0;
        }
    }
    for (int p = 0; p < PRE_COUNT; p++) {
        if (strlen(predefined_names[p]) == len && memcmp(predefined_names[p], name, len) == 0) {
            seg->var = -1;
            seg->pre = (predefined_t)p;
            return 0;
        }
    }
    return -ENOENT;
}

/* Split the template into literal text and placeholders. A placeholder is '<', one or more
 * characters other than '<' and '>', then '>' (DOC: "<" and ">" cannot be escaped); every one
 * must name an InputPathsMap key or a predefined variable. Whether a placeholder lies inside a
 * JSON string literal is tracked by following unescaped double quotes. */
static int compile_template(lb_input_t *in, const char *tid, char **errmsg)
{
    const char *t = in->template;
    size_t n = strlen(t), lit_start = 0;
    int in_string = 0;
    for (size_t i = 0; i < n; i++) {
        if (in_string && t[i] == '\\' && i + 1 < n) {
            i++;
            continue;
        }
        if (t[i] == '"') {
            in_string = !in_string;
            continue;
        }
        if (t[i] != '<') continue;
        size_t j = i + 1;
        while (j < n && t[j] != '<' && t[j] != '>')
            j++;
        if (j >= n || t[j] != '>' || j == i + 1) continue;
        segment_t ph = {.is_placeholder = 1, .in_string = in_string};
        if (resolve_placeholder(in, t + i + 1, j - i - 1, &ph) != 0)
            return fail(errmsg, "InputTemplate for target %s contains invalid placeholder %.*s.",
                        tid, (int)(j - i - 1), t + i + 1);
        segment_t lit = {.lit_off = lit_start, .lit_len = i - lit_start};
        int rc = lit.lit_len > 0 ? push_segment(in, lit) : 0;
        if (rc == 0) rc = push_segment(in, ph);
        if (rc != 0) return rc;
        lit_start = j + 1;
        i = j;
    }
    if (lit_start < n) {
        segment_t lit = {.lit_off = lit_start, .lit_len = n - lit_start};
        return push_segment(in, lit);
    }
    return 0;
}

int lb_input_compile_for_target(const char *target_id, const char *input, const char *input_path,
                                const char *paths_map_json, const char *input_template,
                                lb_input_t **out, char **errmsg)
{
    const char *tid = target_id != NULL ? target_id : "";
    int transformer = paths_map_json != NULL || input_template != NULL;
    *out = NULL;
    if (errmsg != NULL) *errmsg = NULL;
    if ((input != NULL) + (input_path != NULL) + transformer > 1)
        return fail(errmsg,
                    "Only one of Input, InputPath, or InputTransformer must be provided for "
                    "target %s.",
                    tid);

    lb_input_t *in = calloc(1, sizeof(*in));
    if (in == NULL) return -ENOMEM;
    int rc = 0;
    const char *why = "";
    if (input != NULL) {
        in->mode = INPUT_CONSTANT;
        lb_json_doc_t *parsed = NULL;
        if (strlen(input) > LB_INPUT_MAX_TEXT)
            rc = fail(errmsg, "Input for target %s must be at most %d characters.", tid,
                      LB_INPUT_MAX_TEXT);
        else if (lb_json_parse(input, strlen(input), LB_JSON_REQUEST_MAX_DEPTH, &parsed, NULL))
            rc = fail(errmsg, "Input for target %s is not valid JSON text.", tid);
        lb_json_doc_free(&parsed);
        if (rc == 0) {
            in->constant = strdup(input);
            in->constant_len = strlen(input);
            if (in->constant == NULL) rc = -ENOMEM;
        }
    } else if (input_path != NULL) {
        in->mode = INPUT_PATH;
        rc = lb_jsonpath_compile(input_path, &in->path, &why);
        if (rc == -EINVAL)
            rc = fail(errmsg, "InputPath '%s' for target %s is not a valid JSON path: it %s.",
                      input_path, tid, why);
    } else if (transformer) {
        in->mode = INPUT_TRANSFORMER;
        if (input_template == NULL)
            rc = fail(errmsg, "InputTransformer for target %s must have an InputTemplate.", tid);
        else if (input_template[0] == '\0' || strlen(input_template) > LB_INPUT_MAX_TEXT)
            rc = fail(errmsg, "InputTemplate for target %s must be 1 to %d characters.", tid,
                      LB_INPUT_MAX_TEXT);
        if (rc == 0 && paths_map_json != NULL)
            rc = compile_paths_map(in, tid, paths_map_json, errmsg);
        if (rc == 0) {
            in->template = strdup(input_template);
            if (in->template == NULL) rc = -ENOMEM;
        }
        if (rc == 0) {
            /* DOC: "If InputTemplate is a JSON object (surrounded by curly braces)". */
            const char *s = input_template;
            while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
                s++;
            in->json_template = *s == '{';
            rc = compile_template(in, tid, errmsg);
        }
    }
    if (rc != 0) {
        lb_input_free(&in);
        return rc;
    }
    *out = in;
    return 0;
}

int lb_input_compile(const char *input, const char *input_path, const char *paths_map_json,
                     const char *input_template, lb_input_t **out, char **errmsg)
{
    return lb_input_compile_for_target(NULL, input, input_path, paths_map_json, input_template, out,
                                       errmsg);
}

/* ---- render ------------------------------------------------------------------------------ */

/* <aws.events.event>: the envelope without "detail", with "detail-type" renamed "detailType" and
 * "time" set to the ingestion time, keys in the order AWS delivered them (AWS:
 * test_input_transformer_predefined_variables). Built in scratch. */
static const lb_json_t *event_without_detail(const lb_json_t *ev, const char *ingestion_time,
                                             lb_json_doc_t *scratch)
{
    static const char *const order[] = {"id",     "account", "detail-type", "time",
                                        "source", "region",  "resources",   "version"};
    lb_json_t *o = lb_json_new(scratch, LB_JSON_OBJECT);
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        const lb_json_t *v = lb_json_get(ev, order[i]);
        if (v == NULL) continue;
        const char *key = strcmp(order[i], "detail-type") == 0 ? "detailType" : order[i];
        lb_json_t *c = strcmp(order[i], "time") == 0 && ingestion_time != NULL
                           ? lb_json_new_str(scratch, ingestion_time)
                           : lb_json_copy(scratch, v);
        lb_json_add(scratch, o, key, c);
    }
    for (const lb_json_t *v = ev->child; v != NULL; v = v->next) {
        int known = strcmp(v->key, "detail") == 0;
        for (size_t i = 0; i < sizeof(order) / sizeof(order[0]) && !known; i++)
            known = strcmp(v->key, order[i]) == 0;
        if (!known) lb_json_add(scratch, o, v->key, lb_json_copy(scratch, v));
    }
    return o;
}

static const char *ctx_string(const lb_input_ctx_t *ctx, predefined_t p, const lb_json_t *ev)
{
    const char *s = NULL;
    if (ctx != NULL)
        s = p == PRE_RULE_ARN    ? ctx->rule_arn
            : p == PRE_RULE_NAME ? ctx->rule_name
                                 : ctx->ingestion_time;
    if (s == NULL && p == PRE_INGESTION_TIME) s = lb_json_get_str(ev, "time");
    return s != NULL ? s : "";
}

static void put_string_value(buf_t *b, const char *s, int json_context, int in_string)
{
    if (json_context && !in_string) {
        buf_puts(b, "\"");
        buf_put_text(b, s, strlen(s), 1);
        buf_puts(b, "\"");
    } else {
        buf_put_text(b, s, strlen(s), in_string);
    }
}

/* One placeholder. `v` is the value (NULL: the path named nothing, which AWS renders as the
 * empty string). A JSON template outside quotes takes JSON text; everywhere else the value's
 * text goes in, escaped when it lands inside a JSON string. */
static void put_value(buf_t *b, const lb_json_t *v, int json_template, int in_string)
{
    if (v == NULL) {
        put_string_value(b, "", json_template, in_string);
    } else if (json_template && !in_string) {
        buf_put_json(b, v);
    } else {
        buf_put_value_text(b, v, in_string);
    }
}

static int render_transformer(const lb_input_t *in, const lb_json_t *ev, const lb_input_ctx_t *ctx,
                              lb_json_doc_t *scratch, buf_t *b)
{
    const lb_json_t **values = calloc(in->nvars > 0 ? in->nvars : 1, sizeof(*values));
    const lb_json_t *event_obj = NULL;
    if (values == NULL) return -ENOMEM;
    /* Every path is evaluated once per event, even when its placeholder repeats. */
    for (size_t i = 0; i < in->nvars; i++)
        if (lb_jsonpath_eval(in->vars[i].path, ev, scratch, &values[i])) values[i] = NULL;
    for (size_t i = 0; i < in->nsegs && !b->too_big; i++) {
        const segment_t *s = &in->segs[i];
        if (!s->is_placeholder) {
            buf_put(b, in->template + s->lit_off, s->lit_len);
        } else if (s->var >= 0) {
            put_value(b, values[s->var], in->json_template, s->in_string);
        } else if (s->pre == PRE_EVENT_JSON) {
            put_value(b, ev, in->json_template, s->in_string);
        } else if (s->pre == PRE_EVENT) {
            if (event_obj == NULL)
                event_obj =
                    event_without_detail(ev, ctx != NULL ? ctx->ingestion_time : NULL, scratch);
            put_value(b, event_obj, in->json_template, s->in_string);
        } else {
            put_string_value(b, ctx_string(ctx, s->pre, ev), in->json_template, s->in_string);
        }
    }
    free(values);
    return 0;
}

int lb_input_is_whole_event(const lb_input_t *in)
{
    return in == NULL || in->mode == INPUT_WHOLE_EVENT;
}

int lb_input_render_tree(const lb_input_t *in, const lb_json_t *event, const char *event_text,
                         size_t event_len, const lb_input_ctx_t *ctx, size_t max_len, char **out,
                         size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    buf_t b = {.max = max_len};
    int rc = 0;
    if (in == NULL || in->mode == INPUT_WHOLE_EVENT) {
        buf_put(&b, event_text, event_len);
    } else if (in->mode == INPUT_CONSTANT) {
        buf_put(&b, in->constant, in->constant_len);
    } else if (!lb_json_is(event, LB_JSON_OBJECT)) {
        rc = -EINVAL;
    } else {
        /* Copies that paths and <aws.events.event> need live here and die with the call. */
        lb_json_doc_t *scratch = lb_json_doc_new();
        if (in->mode == INPUT_PATH) {
            const lb_json_t *v = NULL;
            rc = lb_jsonpath_eval(in->path, event, scratch, &v);
            if (rc == 0) buf_put_json(&b, v);
        } else {
            rc = render_transformer(in, event, ctx, scratch, &b);
        }
        lb_json_doc_free(&scratch);
    }
    if (rc == 0 && b.out.data == NULL) lb_buf_append(&b.out, "", 0);
    if (rc == 0 && b.too_big) rc = -E2BIG;
    if (rc != 0) {
        lb_buf_free(&b.out);
        return rc;
    }
    *out = lb_buf_steal(&b.out, outlen);
    return 0;
}

int lb_input_render(const lb_input_t *in, const char *event_json, size_t event_len,
                    const lb_input_ctx_t *ctx, char **out, size_t *outlen)
{
    lb_json_doc_t *doc = NULL;
    const lb_json_t *tree = NULL;
    *out = NULL;
    *outlen = 0;
    if (!lb_input_is_whole_event(in) && in->mode != INPUT_CONSTANT) {
        if (lb_json_parse(event_json, event_len, LB_JSON_EVENT_MAX_DEPTH + 1, &doc, NULL))
            return -EINVAL;
        tree = lb_json_doc_root(doc);
    }
    int rc =
        lb_input_render_tree(in, tree, event_json, event_len, ctx, LB_INPUT_MAX_BODY, out, outlen);
    lb_json_doc_free(&doc);
    return rc;
}
