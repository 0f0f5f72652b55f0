/* lb_json: the one JSON parser and tree of LocalBridge. Every JSON text the daemon reads (API
 * requests, an event's Detail, patterns, stored definitions, a target's answer) goes through
 * lb_json_parse, so no two parts of the daemon can disagree about what is valid.
 *
 * The parser is strict RFC 8259: no leading zeros, no "1." or ".5", no trailing commas or
 * garbage, no raw control characters in strings, only space/TAB/LF/CR as whitespace, UTF-8
 * everywhere, and a nesting limit chosen by the caller. Its error texts are Jackson's (the JSON
 * library behind EventBridge), because AWS reports pattern syntax errors in those words.
 *
 * A tree lives in a document (lb_json_doc_t) that owns every node and string in one arena and is
 * freed as a whole. Nodes are plain structs the caller may read; only the lb_json_* functions
 * build them. Numbers keep their source text beside the double, so a number is written back with
 * exactly the digits it arrived with (12345678901234567890123 stays that,
 * not 1.2345678901234568e+22). Strings are decoded UTF-8 and may contain U+0000 (len says where
 * they end); each is also NUL-terminated for convenience. Object members keep document order,
 * repeated keys included.
 *
 * Ownership: lb_json_parse and lb_json_doc_new allocate a document (free with lb_json_doc_free);
 * every node belongs to the document it was made in and lives as long as it. Nothing here keeps
 * global state. */
#ifndef LB_JSON_H
#define LB_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "lb_util.h"

typedef enum {
    LB_JSON_NULL,
    LB_JSON_FALSE,
    LB_JSON_TRUE,
    LB_JSON_NUMBER,
    LB_JSON_STRING,
    LB_JSON_ARRAY,
    LB_JSON_OBJECT,
} lb_json_type_t;

typedef struct lb_json lb_json_t;
struct lb_json {
    lb_json_type_t type;
    const char *str; /* STRING: decoded text; NUMBER: its source text. NUL-terminated. */
    size_t len;
    double num;      /* NUMBER: the value (+-HUGE_VAL beyond a double's range) */
    const char *key; /* member name when the parent is an object, else NULL */
    size_t key_len;
    lb_json_t *child; /* ARRAY/OBJECT: first element or member */
    lb_json_t *last;  /* ARRAY/OBJECT: last one, for appending */
    lb_json_t *next;  /* next sibling */
    size_t n_children;
    /* Where a parsed value sits in the text it was parsed from (offset and length in bytes),
     * so a caller holding that text can copy a value exactly as it arrived. 0/0 for built nodes. */
    size_t src_off, src_len;
};

typedef struct lb_json_doc lb_json_doc_t;

/* Nesting of a JSON text that API requests may use (the request itself; a Detail inside it is
 * parsed on its own with LB_JSON_EVENT_MAX_DEPTH). */
#define LB_JSON_REQUEST_MAX_DEPTH 64
/* Nesting an event's Detail may use, counted from the Detail object itself: AWS's PutEvents
 * "will only process nested JSON up to 1000 levels deep". Its envelope adds one level above. */
#define LB_JSON_EVENT_MAX_DEPTH 1000

/* Parses exactly one JSON value (surrounding whitespace allowed) into a new document.
 * -EINVAL on invalid JSON, with *errmsg (if errmsg is not NULL) a malloc'd Jackson-style reason. */
int lb_json_parse(const char *text, size_t len, int max_depth, lb_json_doc_t **out, char **errmsg);
/* The same, into an existing document: *node is the parsed value, owned by doc. */
int lb_json_parse_into(lb_json_doc_t *doc, const char *text, size_t len, int max_depth,
                       lb_json_t **node, char **errmsg);
/* The same, and on failure *err_off is the byte offset where the parser stopped, so a caller
 * holding the text (a template) can name the line. */
int lb_json_parse_into_at(lb_json_doc_t *doc, const char *text, size_t len, int max_depth,
                          lb_json_t **node, char **errmsg, size_t *err_off);

lb_json_doc_t *lb_json_doc_new(void);
void lb_json_doc_free(lb_json_doc_t **doc);
/* The parsed value (or what lb_json_doc_set_root set); NULL for a new empty document. */
lb_json_t *lb_json_doc_root(const lb_json_doc_t *doc);
void lb_json_doc_set_root(lb_json_doc_t *doc, lb_json_t *root);

/* ---- reading ---- */

/* The member named key (the last one if the key repeats, as Jackson reads it), or NULL. NULL
 * obj or a non-object gives NULL. */
const lb_json_t *lb_json_get(const lb_json_t *obj, const char *key);
/* The i-th element of an array, or NULL. */
const lb_json_t *lb_json_at(const lb_json_t *arr, size_t i);
static inline int lb_json_is(const lb_json_t *n, lb_json_type_t t)
{
    return n && n->type == t;
}
/* The string of a member, if it is a string without U+0000; else NULL. */
const char *lb_json_get_str(const lb_json_t *obj, const char *key);

/* obj[key] as an integer clamped to int64_t's range (a stored document may hold any number, and
 * converting a double outside the range is undefined behaviour); dflt when absent, not a number
 * or NaN. */
int64_t lb_json_get_int(const lb_json_t *obj, const char *key, int64_t dflt);
/* 1 if the string or key contains U+0000. */
int lb_json_has_nul(const char *s, size_t len);

#define lb_json_each(c, n) for (const lb_json_t *c = (n) ? (n)->child : NULL; c; c = c->next)

/* ---- building (every node is allocated in doc) ---- */

lb_json_t *lb_json_new(lb_json_doc_t *doc, lb_json_type_t type);
lb_json_t *lb_json_new_string(lb_json_doc_t *doc, const char *s, size_t len);
lb_json_t *lb_json_new_str(lb_json_doc_t *doc, const char *s); /* NUL-terminated s */
lb_json_t *lb_json_new_int(lb_json_doc_t *doc, int64_t v);
lb_json_t *lb_json_new_double(lb_json_doc_t *doc, double v);
lb_json_t *lb_json_new_bool(lb_json_doc_t *doc, int v);
/* Appends child to an array (key NULL) or object (key copied into doc). Returns child. */
lb_json_t *lb_json_add(lb_json_doc_t *doc, lb_json_t *parent, const char *key, lb_json_t *child);
/* Adds key: s to obj when s is not NULL. */
void lb_json_add_str(lb_json_doc_t *doc, lb_json_t *obj, const char *key, const char *s);
/* Removes every member named key from obj. */
void lb_json_remove(lb_json_t *obj, const char *key);
/* A deep copy of src (from any document) made in doc. */
lb_json_t *lb_json_copy(lb_json_doc_t *doc, const lb_json_t *src);

/* ---- writing ---- */

/* Appends n as compact JSON: numbers as their text, strings escaped minimally (quote, backslash,
 * control characters; other UTF-8 as is). */
void lb_json_write(lb_buf_t *b, const lb_json_t *n);
/* The same into a new malloc'd string (length in *len when len is not NULL). */
char *lb_json_print(const lb_json_t *n, size_t *len);
/* Appends text, which must already be valid JSON, with the whitespace between tokens removed and
 * every token (escapes included) kept byte for byte. */
void lb_json_minify(lb_buf_t *b, const char *text, size_t len);
/* 1 if a and b are the same JSON value (members compared in order). */
int lb_json_equal(const lb_json_t *a, const lb_json_t *b);

#endif
