/* lb_json: strict RFC 8259 parser and arena-backed tree; building and writing trees are in
 * lb_json_build.c. See lb_json.h.
 *
 * Error texts copy Jackson's wording for the common mistakes, because AWS reports pattern syntax
 * errors with them verbatim. */
#include "lb_json.h"
#include "lb_json_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ---- */

typedef struct block {
    struct block *next;
    size_t used, cap;
    max_align_t data[]; /* cap bytes */
} block_t;

struct lb_json_doc {
    block_t *blocks; /* the current block first */
    lb_json_t *root;
    size_t next_cap; /* capacity of the next block: grows so big documents take few blocks */
};

#define BLOCK_FIRST 2048
#define BLOCK_MAX (256u * 1024)

void *lb_json_arena_alloc(lb_json_doc_t *d, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    block_t *b = d->blocks;
    if (!b || b->cap - b->used < n) {
        size_t cap = d->next_cap;
        if (cap < n) cap = n;
        b = lb_xmalloc(sizeof *b + cap);
        b->used = 0;
        b->cap = cap;
        /* A block made for one large string goes behind the current one, so the current one's
         * free space is not abandoned. */
        if (d->blocks && cap > d->next_cap) {
            b->next = d->blocks->next;
            d->blocks->next = b;
        } else {
            b->next = d->blocks;
            d->blocks = b;
            if (d->next_cap < BLOCK_MAX) d->next_cap *= 2;
        }
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
}

char *lb_json_arena_strdup(lb_json_doc_t *d, const char *s, size_t len)
{
    char *p = lb_json_arena_alloc(d, len + 1);
    if (len) memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

lb_json_doc_t *lb_json_doc_new(void)
{
    lb_json_doc_t *d = lb_xcalloc(1, sizeof *d);
    d->next_cap = BLOCK_FIRST;
    return d;
}

void lb_json_doc_free(lb_json_doc_t **dp)
{
    lb_json_doc_t *d = dp ? *dp : NULL;
    if (!d) return;
    block_t *b = d->blocks;
    while (b) {
        block_t *next = b->next;
        free(b);
        b = next;
    }
    free(d);
    *dp = NULL;
}

lb_json_t *lb_json_doc_root(const lb_json_doc_t *d)
{
    return d ? d->root : NULL;
}

void lb_json_doc_set_root(lb_json_doc_t *d, lb_json_t *root)
{
    d->root = root;
}

/* ---- parser ---- */

typedef struct {
    lb_json_doc_t *doc;
    const char *start, *p, *end;
    int max_depth;
    char *err;
    lb_buf_t scratch; /* decoding strings with escapes */
} parser_t;

static void set_err(parser_t *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_err(parser_t *ps, const char *fmt, ...)
{
    if (ps->err) return;
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    ps->err = lb_strdup(tmp);
}

/* Jackson describes a character as ('x' (code 120)), or (CTRL-CHAR, code 10). */
static void describe_char(unsigned char c, char *out, size_t n)
{
    if (c < 32)
        snprintf(out, n, "(CTRL-CHAR, code %u)", c);
    else if (c < 128)
        snprintf(out, n, "('%c' (code %u))", c, c);
    else
        snprintf(out, n, "((code %u))", c);
}

static void unexpected_char(parser_t *ps, const char *expectation)
{
    if (ps->p >= ps->end) {
        set_err(ps, "Unexpected end-of-input: %s", expectation);
        return;
    }
    char d[64];
    describe_char((unsigned char)*ps->p, d, sizeof d);
    set_err(ps, "Unexpected character %s: %s", d, expectation);
}

static void skip_ws(parser_t *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static lb_json_t *new_node(parser_t *ps, lb_json_type_t t)
{
    return lb_json_new(ps->doc, t);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void put_utf8(lb_buf_t *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    lb_buf_append(b, u, n);
}

static int read_hex4(parser_t *ps, uint32_t *out)
{
    if (ps->end - ps->p < 4) {
        set_err(ps, "Unexpected end-of-input in character escape sequence");
        return -1;
    }
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(ps->p[i]);
        if (h < 0) {
            char d[64];
            describe_char((unsigned char)ps->p[i], d, sizeof d);
            set_err(ps,
                    "Unexpected character %s: expected a hex-digit for character escape "
                    "sequence",
                    d);
            return -1;
        }
        v = v * 16 + (uint32_t)h;
    }
    ps->p += 4;
    *out = v;
    return 0;
}

static int read_escape(parser_t *ps, lb_buf_t *b)
{
    char e = *ps->p++;
    switch (e) {
    case '"':
        lb_buf_append(b, "\"", 1);
        return 0;
    case '\\':
        lb_buf_append(b, "\\", 1);
        return 0;
    case '/':
        lb_buf_append(b, "/", 1);
        return 0;
    case 'b':
        lb_buf_append(b, "\b", 1);
        return 0;
    case 'f':
        lb_buf_append(b, "\f", 1);
        return 0;
    case 'n':
        lb_buf_append(b, "\n", 1);
        return 0;
    case 'r':
        lb_buf_append(b, "\r", 1);
        return 0;
    case 't':
        lb_buf_append(b, "\t", 1);
        return 0;
    case 'u': {
        uint32_t cp;
        if (read_hex4(ps, &cp)) return -1;
        /* A surrogate must come as a high-low pair: alone it is no character, and no UTF-8 can
         * carry it, so a text holding one is refused rather than silently altered. */
        if (cp >= 0xD800 && cp <= 0xDBFF && ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
            ps->p[1] == 'u') {
            ps->p += 2;
            uint32_t lo;
            if (read_hex4(ps, &lo)) return -1;
            if (lo < 0xDC00 || lo > 0xDFFF) {
                set_err(ps,
                        "Invalid Unicode: surrogate \\u%04X not followed by a low surrogate "
                        "in string value",
                        (unsigned)cp);
                return -1;
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xD800 && cp <= 0xDFFF) {
            set_err(ps, "Invalid Unicode: unpaired surrogate \\u%04X in string value",
                    (unsigned)cp);
            return -1;
        }
        put_utf8(b, cp);
        return 0;
    }
    default: {
        char d[64];
        describe_char((unsigned char)e, d, sizeof d);
        set_err(ps, "Unrecognized character escape %s", d);
        return -1;
    }
    }
}

/* Reads a string whose opening quote is at ps->p into the arena. Strings without escapes (the
 * common case) are copied once, straight from the input. */
static int parse_string(parser_t *ps, const char **out, size_t *out_len)
{
    ps->p++;
    const char *run = ps->p;
    while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' && (unsigned char)*ps->p >= 32)
        ps->p++;
    if (ps->p < ps->end && *ps->p == '"') {
        size_t n = (size_t)(ps->p - run);
        if (!lb_utf8_valid(run, n)) {
            set_err(ps, "Invalid UTF-8 in string value");
            return -1;
        }
        *out = lb_json_arena_strdup(ps->doc, run, n);
        *out_len = n;
        ps->p++;
        return 0;
    }
    lb_buf_t *b = &ps->scratch;
    b->len = 0;
    lb_buf_append(b, run, (size_t)(ps->p - run));
    for (;;) {
        if (ps->p >= ps->end) {
            set_err(ps, "Unexpected end-of-input: was expecting closing quote for a string value");
            return -1;
        }
        unsigned char c = (unsigned char)*ps->p;
        if (c == '"') {
            ps->p++;
            break;
        }
        if (c < 32) {
            set_err(ps,
                    "Illegal unquoted character ((CTRL-CHAR, code %u)): has to be escaped "
                    "using backslash to be included in string value",
                    c);
            return -1;
        }
        if (c == '\\') {
            ps->p++;
            if (ps->p >= ps->end) continue;
            if (read_escape(ps, b)) return -1;
            continue;
        }
        run = ps->p;
        while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' && (unsigned char)*ps->p >= 32)
            ps->p++;
        lb_buf_append(b, run, (size_t)(ps->p - run));
    }
    if (!lb_utf8_valid(b->data ? b->data : "", b->len)) {
        set_err(ps, "Invalid UTF-8 in string value");
        return -1;
    }
    *out = lb_json_arena_strdup(ps->doc, b->data ? b->data : "", b->len);
    *out_len = b->len;
    return 0;
}

static int is_token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$' || (unsigned char)c >= 0x80;
}

static void unrecognized_token(parser_t *ps)
{
    const char *s = ps->p;
    const char *q = s;
    while (q < ps->end && is_token_char(*q) && q - s < 256)
        q++;
    if (q == s) q = s + 1;
    set_err(ps,
            "Unrecognized token '%.*s': was expecting (JSON String, Number, Array, Object or "
            "token 'null', 'true' or 'false')",
            (int)(q - s), s);
}

static const char *scan_digits(const char *q, const char *end)
{
    while (q < end && *q >= '0' && *q <= '9')
        q++;
    return q;
}

static int parse_number(parser_t *ps, lb_json_t *n)
{
    const char *s = ps->p, *q = s;
    if (q < ps->end && *q == '-') q++;
    if (q >= ps->end || *q < '0' || *q > '9') {
        if (q < ps->end && is_token_char(*q)) {
            /* Jackson reads "-Infinity" and friends as a token. */
            unrecognized_token(ps);
        } else {
            ps->p = q;
            unexpected_char(ps, "expected digit (0-9) to follow minus sign, for valid numeric "
                                "value");
        }
        return -1;
    }
    if (*q == '0' && q + 1 < ps->end && q[1] >= '0' && q[1] <= '9') {
        set_err(ps, "Invalid numeric value: Leading zeroes not allowed");
        return -1;
    }
    q = scan_digits(q, ps->end);
    if (q < ps->end && *q == '.') {
        q++;
        if (q >= ps->end || *q < '0' || *q > '9') {
            ps->p = q;
            unexpected_char(ps, "Decimal point not followed by a digit");
            return -1;
        }
        q = scan_digits(q, ps->end);
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < ps->end && (*q == '+' || *q == '-')) q++;
        if (q >= ps->end || *q < '0' || *q > '9') {
            ps->p = q;
            unexpected_char(ps, "Exponent indicator not followed by a digit");
            return -1;
        }
        q = scan_digits(q, ps->end);
    }
    n->len = (size_t)(q - s);
    n->str = lb_json_arena_strdup(ps->doc, s, n->len);
    n->num = strtod(n->str, NULL);
    ps->p = q;
    return 0;
}

static lb_json_t *parse_value(parser_t *ps, int depth);

void lb_json_link_child(lb_json_t *parent, lb_json_t *child)
{
    if (parent->last)
        parent->last->next = child;
    else
        parent->child = child;
    parent->last = child;
    parent->n_children++;
}

static lb_json_t *parse_container(parser_t *ps, int depth, int is_object)
{
    if (depth >= ps->max_depth) {
        set_err(ps, "Document nesting depth (%d) exceeds the maximum allowed (%d)", depth + 1,
                ps->max_depth);
        return NULL;
    }
    lb_json_t *n = new_node(ps, is_object ? LB_JSON_OBJECT : LB_JSON_ARRAY);
    const char *what = is_object ? "Object" : "Array";
    ps->p++;
    skip_ws(ps);
    char close = is_object ? '}' : ']';
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return n;
    }
    for (;;) {
        const char *key = NULL;
        size_t key_len = 0;
        skip_ws(ps);
        if (is_object) {
            if (ps->p >= ps->end) {
                set_err(ps, "Unexpected end-of-input: expected close marker for Object");
                return NULL;
            }
            if (*ps->p != '"') {
                unexpected_char(ps, "was expecting double-quote to start field name");
                return NULL;
            }
            if (parse_string(ps, &key, &key_len)) return NULL;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                unexpected_char(ps, "was expecting a colon to separate field name and value");
                return NULL;
            }
            ps->p++;
            skip_ws(ps);
        }
        if (ps->p >= ps->end) {
            set_err(ps, "Unexpected end-of-input: expected close marker for %s", what);
            return NULL;
        }
        lb_json_t *v = parse_value(ps, depth + 1);
        if (!v) return NULL;
        v->key = key;
        v->key_len = key_len;
        lb_json_link_child(n, v);
        skip_ws(ps);
        if (ps->p >= ps->end) {
            set_err(ps, "Unexpected end-of-input: expected close marker for %s", what);
            return NULL;
        }
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == close) {
            ps->p++;
            return n;
        }
        unexpected_char(ps, is_object ? "was expecting comma to separate Object entries"
                                      : "was expecting comma to separate Array entries");
        return NULL;
    }
}

static int match_literal(parser_t *ps, const char *lit, size_t l)
{
    if ((size_t)(ps->end - ps->p) >= l && memcmp(ps->p, lit, l) == 0 &&
        (ps->p + l == ps->end || !is_token_char(ps->p[l]))) {
        ps->p += l;
        return 1;
    }
    return 0;
}

static lb_json_t *parse_token(parser_t *ps, int depth);

/* One value, with the span of text it came from. */
static lb_json_t *parse_value(parser_t *ps, int depth)
{
    skip_ws(ps);
    const char *begin = ps->p;
    lb_json_t *n = parse_token(ps, depth);
    if (n) {
        n->src_off = (size_t)(begin - ps->start);
        n->src_len = (size_t)(ps->p - begin);
    }
    return n;
}

static lb_json_t *parse_token(parser_t *ps, int depth)
{
    if (ps->p >= ps->end) {
        set_err(ps, "Unexpected end-of-input: expected a value");
        return NULL;
    }
    char c = *ps->p;
    if (c == '{') return parse_container(ps, depth, 1);
    if (c == '[') return parse_container(ps, depth, 0);
    if (c == '"') {
        lb_json_t *n = new_node(ps, LB_JSON_STRING);
        return parse_string(ps, &n->str, &n->len) ? NULL : n;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        lb_json_t *n = new_node(ps, LB_JSON_NUMBER);
        return parse_number(ps, n) ? NULL : n;
    }
    if (match_literal(ps, "true", 4)) return new_node(ps, LB_JSON_TRUE);
    if (match_literal(ps, "false", 5)) return new_node(ps, LB_JSON_FALSE);
    if (match_literal(ps, "null", 4)) return new_node(ps, LB_JSON_NULL);
    if (is_token_char(c)) {
        unrecognized_token(ps);
        return NULL;
    }
    unexpected_char(ps, "expected a value");
    return NULL;
}

int lb_json_parse_into(lb_json_doc_t *doc, const char *text, size_t len, int max_depth,
                       lb_json_t **node, char **errmsg)
{
    size_t off;
    return lb_json_parse_into_at(doc, text, len, max_depth, node, errmsg, &off);
}

int lb_json_parse_into_at(lb_json_doc_t *doc, const char *text, size_t len, int max_depth,
                          lb_json_t **node, char **errmsg, size_t *err_off)
{
    parser_t ps = {.doc = doc, .start = text, .p = text, .end = text + len, .max_depth = max_depth};
    *node = NULL;
    if (errmsg) *errmsg = NULL;
    skip_ws(&ps);
    if (ps.p >= ps.end) {
        set_err(&ps, "No content to map due to end-of-input");
    } else {
        lb_json_t *n = parse_value(&ps, 0);
        if (n) {
            skip_ws(&ps);
            if (ps.p < ps.end)
                unexpected_char(&ps, "expected end-of-input after the JSON value");
            else
                *node = n;
        }
    }
    lb_buf_free(&ps.scratch);
    *err_off = (size_t)(ps.p - ps.start);
    if (*node) return 0;
    if (errmsg)
        *errmsg = ps.err;
    else
        free(ps.err);
    return -EINVAL;
}

int lb_json_parse(const char *text, size_t len, int max_depth, lb_json_doc_t **out, char **errmsg)
{
    lb_json_doc_t *doc = lb_json_doc_new();
    lb_json_t *root;
    *out = NULL;
    if (lb_json_parse_into(doc, text, len, max_depth, &root, errmsg)) {
        lb_json_doc_free(&doc);
        return -EINVAL;
    }
    doc->root = root;
    *out = doc;
    return 0;
}

/* ---- reading ---- */

const lb_json_t *lb_json_get(const lb_json_t *obj, const char *key)
{
    if (!obj || obj->type != LB_JSON_OBJECT) return NULL;
    size_t klen = strlen(key);
    const lb_json_t *found = NULL;
    for (const lb_json_t *c = obj->child; c; c = c->next)
        if (c->key_len == klen && memcmp(c->key, key, klen) == 0) found = c;
    return found;
}

const lb_json_t *lb_json_at(const lb_json_t *arr, size_t i)
{
    if (!arr || arr->type != LB_JSON_ARRAY) return NULL;
    const lb_json_t *c = arr->child;
    while (c && i--)
        c = c->next;
    return c;
}

int lb_json_has_nul(const char *s, size_t len)
{
    return s && memchr(s, '\0', len) != NULL;
}

const char *lb_json_get_str(const lb_json_t *obj, const char *key)
{
    const lb_json_t *v = lb_json_get(obj, key);
    if (!v || v->type != LB_JSON_STRING || lb_json_has_nul(v->str, v->len)) return NULL;
    return v->str;
}

int64_t lb_json_get_int(const lb_json_t *obj, const char *key, int64_t dflt)
{
    const lb_json_t *f = lb_json_get(obj, key);
    if (!f || f->type != LB_JSON_NUMBER || isnan(f->num)) return dflt;
    if (f->num >= 9223372036854775807.0) return INT64_MAX;
    if (f->num <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)f->num;
}

int lb_json_equal(const lb_json_t *a, const lb_json_t *b)
{
    if (a->type != b->type || a->n_children != b->n_children) return 0;
    if (a->type == LB_JSON_STRING && (a->len != b->len || memcmp(a->str, b->str, a->len))) return 0;
    if (a->type == LB_JSON_NUMBER && a->num != b->num) return 0;
    const lb_json_t *x = a->child, *y = b->child;
    for (; x && y; x = x->next, y = y->next) {
        if (a->type == LB_JSON_OBJECT &&
            (x->key_len != y->key_len || memcmp(x->key, y->key, x->key_len)))
            return 0;
        if (!lb_json_equal(x, y)) return 0;
    }
    return 1;
}
