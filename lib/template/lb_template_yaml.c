/* YAML -> the template tree, from libyaml's event stream. Each node records the byte offset of
 * its start (src_off) so errors can name its line; short tags become their long forms here. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "lb_template_internal.h"

/* Anchors a later alias can name; a small list is plenty for templates. */
typedef struct anchor {
    char *name;
    lb_json_t *node;
    struct anchor *next;
} anchor_t;

typedef struct {
    lb_template_t *t;
    yaml_parser_t parser;
    anchor_t *anchors;
    char *err;
    int depth;
} ybuild_t;

#define MAX_DEPTH 200

/* The short tags CloudFormation knows, and the key each becomes. */
static const struct {
    const char *tag, *key;
} short_tags[] = {
    {"!Ref", "Ref"},
    {"!Condition", "Condition"},
    {"!GetAtt", "Fn::GetAtt"},
    {"!Sub", "Fn::Sub"},
    {"!Join", "Fn::Join"},
    {"!Select", "Fn::Select"},
    {"!Split", "Fn::Split"},
    {"!If", "Fn::If"},
    {"!Equals", "Fn::Equals"},
    {"!Not", "Fn::Not"},
    {"!And", "Fn::And"},
    {"!Or", "Fn::Or"},
    {"!FindInMap", "Fn::FindInMap"},
    {"!GetAZs", "Fn::GetAZs"},
    /* Known to CloudFormation but not evaluated here: they parse, and resolving them says
     * "unsupported intrinsic" with the line. */
    {"!Base64", "Fn::Base64"},
    {"!Cidr", "Fn::Cidr"},
    {"!ImportValue", "Fn::ImportValue"},
    {"!Transform", "Fn::Transform"},
    {"!Length", "Fn::Length"},
    {"!ToJsonString", "Fn::ToJsonString"},
    {"!ForEach", "Fn::ForEach"},
};

static void fail_at(ybuild_t *b, size_t line0, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_at(ybuild_t *b, size_t line0, const char *fmt, ...)
{
    if (b->err) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t n = strlen(b->t->file) + strlen(msg) + 32;
    b->err = lb_xmalloc(n);
    snprintf(b->err, n, "%s:%zu: %s", b->t->file, line0 + 1, msg);
}

/* A plain scalar's JSON meaning: null, a boolean, a number (only when its text is a valid JSON
 * number, so it writes back unchanged), else a string. Quoted scalars are always strings. */
static lb_json_t *scalar_node(lb_json_doc_t *doc, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    int plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev->data.scalar.tag;
    if (plain) {
        if (len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
            strcmp(s, "NULL") == 0)
            return lb_json_new(doc, LB_JSON_NULL);
        if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0)
            return lb_json_new_bool(doc, 1);
        if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0)
            return lb_json_new_bool(doc, 0);
        lb_json_doc_t *probe = NULL;
        int is_number = (s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) &&
                        lb_json_parse(s, len, 1, &probe, NULL) == 0 &&
                        lb_json_doc_root(probe)->type == LB_JSON_NUMBER;
        lb_json_doc_free(&probe);
        if (is_number) {
            lb_json_t *n = lb_json_new_string(doc, s, len);
            n->type = LB_JSON_NUMBER;
            n->num = strtod(s, NULL);
            return n;
        }
    }
    return lb_json_new_string(doc, s, len);
}

static lb_json_t *build_node(ybuild_t *b, yaml_event_t *ev);

static int next_event(ybuild_t *b, yaml_event_t *ev)
{
    if (yaml_parser_parse(&b->parser, ev)) return 0;
    if (!b->err) {
        char msg[400];
        snprintf(msg, sizeof msg, "YAML syntax error: %s%s%s",
                 b->parser.problem ? b->parser.problem : "invalid YAML",
                 b->parser.context ? " " : "", b->parser.context ? b->parser.context : "");
        fail_at(b, b->parser.problem_mark.line, "%s", msg);
    }
    return -1;
}

static lb_json_t *build_collection(ybuild_t *b, int mapping)
{
    lb_json_t *n = lb_json_new(b->t->doc, mapping ? LB_JSON_OBJECT : LB_JSON_ARRAY);
    for (;;) {
        yaml_event_t ev;
        if (next_event(b, &ev)) return NULL;
        if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return n;
        }
        if (!mapping) {
            lb_json_t *item = build_node(b, &ev);
            yaml_event_delete(&ev);
            if (!item) return NULL;
            lb_json_add(b->t->doc, n, NULL, item);
            continue;
        }
        if (ev.type != YAML_SCALAR_EVENT) {
            fail_at(b, ev.start_mark.line, "%s", "a mapping key must be a plain string");
            yaml_event_delete(&ev);
            return NULL;
        }
        char *key = lb_strdup((const char *)ev.data.scalar.value);
        yaml_event_delete(&ev);
        if (next_event(b, &ev)) {
            free(key);
            return NULL;
        }
        lb_json_t *value = build_node(b, &ev);
        yaml_event_delete(&ev);
        if (value) lb_json_add(b->t->doc, n, key, value);
        free(key);
        if (!value) return NULL;
    }
}

/* Wraps a tagged node in its long form; a scalar !GetAtt "A.B.C" becomes ["A", "B.C"]. */
static lb_json_t *apply_tag(ybuild_t *b, const char *tag, lb_json_t *n, size_t line0)
{
    for (size_t i = 0; i < sizeof short_tags / sizeof *short_tags; i++) {
        if (strcmp(tag, short_tags[i].tag) != 0) continue;
        lb_json_doc_t *doc = b->t->doc;
        if (strcmp(tag, "!GetAtt") == 0 && n->type == LB_JSON_STRING) {
            const char *dot = strchr(n->str, '.');
            lb_json_t *pair = lb_json_new(doc, LB_JSON_ARRAY);
            pair->src_off = n->src_off;
            lb_json_add(doc, pair, NULL,
                        lb_json_new_string(doc, n->str, dot ? (size_t)(dot - n->str) : n->len));
            if (dot) lb_json_add(doc, pair, NULL, lb_json_new_str(doc, dot + 1));
            n = pair;
        }
        lb_json_t *w = lb_json_new(doc, LB_JSON_OBJECT);
        w->src_off = n->src_off;
        lb_json_add(doc, w, short_tags[i].key, n);
        return w;
    }
    fail_at(b, line0, "unknown tag %s", tag);
    return NULL;
}

static lb_json_t *build_node(ybuild_t *b, yaml_event_t *ev)
{
    const char *tag = NULL, *anchor = NULL;
    lb_json_t *n = NULL;
    if (++b->depth > MAX_DEPTH) {
        fail_at(b, ev->start_mark.line, "%s", "nesting deeper than 200 levels");
        return NULL;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        tag = (const char *)ev->data.scalar.tag;
        anchor = (const char *)ev->data.scalar.anchor;
        n = scalar_node(b->t->doc, ev);
        break;
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT: {
        int mapping = ev->type == YAML_MAPPING_START_EVENT;
        tag = (const char *)(mapping ? ev->data.mapping_start.tag : ev->data.sequence_start.tag);
        anchor = (const char *)(mapping ? ev->data.mapping_start.anchor
                                        : ev->data.sequence_start.anchor);
        n = build_collection(b, mapping);
        break;
    }
    case YAML_ALIAS_EVENT:
        for (anchor_t *a = b->anchors; a; a = a->next)
            if (strcmp(a->name, (const char *)ev->data.alias.anchor) == 0)
                n = lb_json_copy(b->t->doc, a->node);
        if (!n) fail_at(b, ev->start_mark.line, "unknown alias *%s", (char *)ev->data.alias.anchor);
        break;
    default:
        fail_at(b, ev->start_mark.line, "%s", "unexpected YAML event");
    }
    b->depth--;
    if (!n) return NULL;
    n->src_off = ev->start_mark.index;
    /* "!" alone and the standard tags (!!str...) add nothing a template relies on. */
    if (tag && tag[0] == '!' && tag[1] && tag[1] != '!' && strncmp(tag, "tag:", 4) != 0)
        n = apply_tag(b, tag, n, ev->start_mark.line);
    if (n && anchor) {
        anchor_t *a = lb_xcalloc(1, sizeof *a);
        a->name = lb_strdup(anchor);
        a->node = n;
        a->next = b->anchors;
        b->anchors = a;
    }
    return n;
}

int lb_tpl_yaml_parse(lb_template_t *t, lb_json_t **root, char **err)
{
    ybuild_t b = {.t = t};
    *root = NULL;
    yaml_parser_initialize(&b.parser);
    yaml_parser_set_input_string(&b.parser, (const unsigned char *)t->text, t->len);
    yaml_event_t ev;
    int done = 0;
    while (!done && !b.err && next_event(&b, &ev) == 0) {
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_MAPPING_START_EVENT:
        case YAML_SEQUENCE_START_EVENT:
        case YAML_SCALAR_EVENT:
        case YAML_ALIAS_EVENT:
            if (*root)
                fail_at(&b, ev.start_mark.line, "%s", "a template is a single YAML document");
            else
                *root = build_node(&b, &ev);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&b.parser);
    while (b.anchors) {
        anchor_t *a = b.anchors;
        b.anchors = a->next;
        free(a->name);
        free(a);
    }
    if (!b.err && (!*root || (*root)->type != LB_JSON_OBJECT))
        fail_at(&b, 0, "%s", "a template must be a mapping (Resources: ...)");
    if (b.err) {
        *root = NULL;
        *err = b.err;
        return -EINVAL;
    }
    return 0;
}
