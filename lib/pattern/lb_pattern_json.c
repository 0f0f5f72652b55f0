/* A strict JSON parser producing a small tree, written for the pattern engine: AWS reports
 * pattern syntax errors with the texts of Jackson (the JSON library behind EventBridge), so the
 * messages below copy Jackson's wording for the common mistakes. Repeated object keys are kept
 * in document order; the compiler decides what they mean. */
#include "lb_pattern_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *p, *end;
    int max_depth;
    char *err;
} lbj_parser_t;

static void set_err(lbj_parser_t *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_err(lbj_parser_t *ps, const char *fmt, ...)
{
    if (ps->err) return;
    lb_buf_t b = {0};
    va_list ap;
    va_start(ap, fmt);
    char tmp[512];
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    lb_buf_puts(&b, tmp);
    ps->err = lb_buf_steal(&b, NULL);
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

static void unexpected_char(lbj_parser_t *ps, const char *expectation)
{
    if (ps->p >= ps->end) {
        set_err(ps, "Unexpected end-of-input: %s", expectation);
        return;
    }
    char d[64];
    describe_char((unsigned char)*ps->p, d, sizeof d);
    set_err(ps, "Unexpected character %s: %s", d, expectation);
}

static void skip_ws(lbj_parser_t *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static lbj_node_t *new_node(lbj_type_t t)
{
    lbj_node_t *n = lb_xcalloc(1, sizeof *n);
    n->type = t;
    return n;
}

void lbj_free(lbj_node_t *n)
{
    while (n) {
        lbj_node_t *next = n->next;
        lbj_free(n->child);
        free(n->str);
        free(n->key);
        free(n);
        n = next;
    }
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

static int read_hex4(lbj_parser_t *ps, uint32_t *out)
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
            set_err(ps, "Unexpected character %s: expected a hex-digit for character escape "
                        "sequence", d);
            return -1;
        }
        v = v * 16 + (uint32_t)h;
    }
    ps->p += 4;
    *out = v;
    return 0;
}

/* Reads a string whose opening quote is at ps->p. */
static int parse_string(lbj_parser_t *ps, char **out, size_t *out_len)
{
    lb_buf_t b = {0};
    ps->p++;
    for (;;) {
        if (ps->p >= ps->end) {
            set_err(ps, "Unexpected end-of-input: was expecting closing quote for a string value");
            goto fail;
        }
        const char *run = ps->p;
        while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' && (unsigned char)*ps->p >= 32)
            ps->p++;
        if (ps->p > run) lb_buf_append(&b, run, (size_t)(ps->p - run));
        if (ps->p >= ps->end) continue;
        unsigned char c = (unsigned char)*ps->p;
        if (c == '"') {
            ps->p++;
            break;
        }
        if (c < 32) {
            set_err(ps, "Illegal unquoted character ((CTRL-CHAR, code %u)): has to be escaped "
                        "using backslash to be included in string value", c);
            goto fail;
        }
        /* backslash */
        ps->p++;
        if (ps->p >= ps->end) continue;
        char e = *ps->p++;
        switch (e) {
        case '"': lb_buf_append(&b, "\"", 1); break;
        case '\\': lb_buf_append(&b, "\\", 1); break;
        case '/': lb_buf_append(&b, "/", 1); break;
        case 'b': lb_buf_append(&b, "\b", 1); break;
        case 'f': lb_buf_append(&b, "\f", 1); break;
        case 'n': lb_buf_append(&b, "\n", 1); break;
        case 'r': lb_buf_append(&b, "\r", 1); break;
        case 't': lb_buf_append(&b, "\t", 1); break;
        case 'u': {
            uint32_t cp;
            if (read_hex4(ps, &cp)) goto fail;
            if (cp >= 0xD800 && cp <= 0xDBFF && ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
                ps->p[1] == 'u') {
                const char *save = ps->p;
                ps->p += 2;
                uint32_t lo;
                if (read_hex4(ps, &lo)) goto fail;
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else {
                    ps->p = save;
                    cp = 0xFFFD;
                }
            } else if (cp >= 0xD800 && cp <= 0xDFFF) {
                cp = 0xFFFD; /* a lone surrogate cannot be written as UTF-8 */
            }
            put_utf8(&b, cp);
            break;
        }
        default: {
            char d[64];
            describe_char((unsigned char)e, d, sizeof d);
            set_err(ps, "Unrecognized character escape %s", d);
            goto fail;
        }
        }
    }
    if (!lb_utf8_valid(b.data ? b.data : "", b.len)) {
        set_err(ps, "Invalid UTF-8 in string value");
        goto fail;
    }
    *out = lb_buf_steal(&b, out_len);
    return 0;
fail:
    lb_buf_free(&b);
    return -1;
}

static int is_token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '$' || (unsigned char)c >= 0x80;
}

static void unrecognized_token(lbj_parser_t *ps)
{
    const char *s = ps->p;
    const char *q = s;
    while (q < ps->end && is_token_char(*q) && q - s < 256)
        q++;
    if (q == s) q = s + 1;
    set_err(ps, "Unrecognized token '%.*s': was expecting (JSON String, Number, Array, Object or "
                "token 'null', 'true' or 'false')", (int)(q - s), s);
}

static int parse_number(lbj_parser_t *ps, lbj_node_t *n)
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
    while (q < ps->end && *q >= '0' && *q <= '9')
        q++;
    if (q < ps->end && *q == '.') {
        q++;
        if (q >= ps->end || *q < '0' || *q > '9') {
            ps->p = q;
            unexpected_char(ps, "Decimal point not followed by a digit");
            return -1;
        }
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < ps->end && (*q == '+' || *q == '-')) q++;
        if (q >= ps->end || *q < '0' || *q > '9') {
            ps->p = q;
            unexpected_char(ps, "Exponent indicator not followed by a digit");
            return -1;
        }
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    }
    n->len = (size_t)(q - s);
    n->str = lb_xmalloc(n->len + 1);
    memcpy(n->str, s, n->len);
    n->str[n->len] = '\0';
    n->num = strtod(n->str, NULL);
    ps->p = q;
    return 0;
}

static lbj_node_t *parse_value(lbj_parser_t *ps, int depth);

static lbj_node_t *parse_container(lbj_parser_t *ps, int depth, int is_object)
{
    if (depth >= ps->max_depth) {
        set_err(ps, "Document nesting depth (%d) exceeds the maximum allowed (%d)", depth + 1,
                ps->max_depth);
        return NULL;
    }
    lbj_node_t *n = new_node(is_object ? LBJ_OBJECT : LBJ_ARRAY);
    lbj_node_t **tail = &n->child;
    ps->p++;
    skip_ws(ps);
    char close = is_object ? '}' : ']';
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return n;
    }
    for (;;) {
        char *key = NULL;
        size_t key_len = 0;
        skip_ws(ps);
        if (is_object) {
            if (ps->p >= ps->end) {
                set_err(ps, "Unexpected end-of-input: expected close marker for Object");
                goto fail;
            }
            if (*ps->p != '"') {
                unexpected_char(ps, "was expecting double-quote to start field name");
                goto fail;
            }
            if (parse_string(ps, &key, &key_len)) goto fail;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                free(key);
                unexpected_char(ps, "was expecting a colon to separate field name and value");
                goto fail;
            }
            ps->p++;
            skip_ws(ps);
        }
        if (ps->p >= ps->end) {
            free(key);
            set_err(ps, "Unexpected end-of-input: expected close marker for %s",
                    is_object ? "Object" : "Array");
            goto fail;
        }
        lbj_node_t *v = parse_value(ps, depth + 1);
        if (!v) {
            free(key);
            goto fail;
        }
        v->key = key;
        v->key_len = key_len;
        *tail = v;
        tail = &v->next;
        n->n_children++;
        skip_ws(ps);
        if (ps->p >= ps->end) {
            set_err(ps, "Unexpected end-of-input: expected close marker for %s",
                    is_object ? "Object" : "Array");
            goto fail;
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
        goto fail;
    }
fail:
    lbj_free(n);
    return NULL;
}

static int match_literal(lbj_parser_t *ps, const char *lit)
{
    size_t l = strlen(lit);
    if ((size_t)(ps->end - ps->p) >= l && memcmp(ps->p, lit, l) == 0 &&
        (ps->p + l == ps->end || !is_token_char(ps->p[l]))) {
        ps->p += l;
        return 1;
    }
    return 0;
}

static lbj_node_t *parse_value(lbj_parser_t *ps, int depth)
{
    skip_ws(ps);
    if (ps->p >= ps->end) {
        set_err(ps, "Unexpected end-of-input: expected a value");
        return NULL;
    }
    char c = *ps->p;
    if (c == '{') return parse_container(ps, depth, 1);
    if (c == '[') return parse_container(ps, depth, 0);
    if (c == '"') {
        lbj_node_t *n = new_node(LBJ_STRING);
        if (parse_string(ps, &n->str, &n->len)) {
            lbj_free(n);
            return NULL;
        }
        return n;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        lbj_node_t *n = new_node(LBJ_NUMBER);
        if (parse_number(ps, n)) {
            lbj_free(n);
            return NULL;
        }
        return n;
    }
    if (match_literal(ps, "true")) return new_node(LBJ_TRUE);
    if (match_literal(ps, "false")) return new_node(LBJ_FALSE);
    if (match_literal(ps, "null")) return new_node(LBJ_NULL);
    if (is_token_char(c)) {
        unrecognized_token(ps);
        return NULL;
    }
    unexpected_char(ps, "expected a value");
    return NULL;
}

int lbj_parse(const char *text, size_t len, int max_depth, lbj_node_t **out, char **errmsg)
{
    lbj_parser_t ps = {.p = text, .end = text + len, .max_depth = max_depth};
    *out = NULL;
    if (errmsg) *errmsg = NULL;
    skip_ws(&ps);
    if (ps.p >= ps.end) {
        set_err(&ps, "No content to map due to end-of-input");
    } else {
        lbj_node_t *n = parse_value(&ps, 0);
        if (n) {
            skip_ws(&ps);
            if (ps.p < ps.end) {
                unexpected_char(&ps, "expected end-of-input after the JSON value");
                lbj_free(n);
            } else {
                *out = n;
                return 0;
            }
        }
    }
    if (errmsg)
        *errmsg = ps.err;
    else
        free(ps.err);
    return -EINVAL;
}

void lbj_write(lb_buf_t *b, const lbj_node_t *n)
{
    switch (n->type) {
    case LBJ_NULL: lb_buf_puts(b, "null"); break;
    case LBJ_TRUE: lb_buf_puts(b, "true"); break;
    case LBJ_FALSE: lb_buf_puts(b, "false"); break;
    case LBJ_NUMBER: lb_buf_append(b, n->str, n->len); break;
    case LBJ_STRING: lb_buf_json_string(b, n->str, n->len); break;
    case LBJ_ARRAY:
    case LBJ_OBJECT: {
        lb_buf_puts(b, n->type == LBJ_ARRAY ? "[" : "{");
        for (const lbj_node_t *c = n->child; c; c = c->next) {
            if (c != n->child) lb_buf_puts(b, ",");
            if (n->type == LBJ_OBJECT) {
                lb_buf_json_string(b, c->key, c->key_len);
                lb_buf_puts(b, ":");
            }
            lbj_write(b, c);
        }
        lb_buf_puts(b, n->type == LBJ_ARRAY ? "]" : "}");
        break;
    }
    }
}
