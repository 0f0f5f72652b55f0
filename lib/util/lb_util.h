/* Small helpers shared by every layer: error codes, identifiers, timestamps, a growable buffer.
 * Nothing here keeps state between calls. */
#ifndef LB_UTIL_H
#define LB_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Our own error codes live below the errno range so they never collide with -errno values. */
enum {
    LB_EEXIST_BASE = -10000,
    LB_ENOTFOUND = -10001,  /* a named resource does not exist */
    LB_EEXISTS = -10002,    /* a named resource already exists */
    LB_EINVALID = -10003,   /* a request value failed validation */
    LB_ESTORE = -10004,     /* the store failed (disk full, I/O error, read-only) */
    LB_ELIMIT = -10005,     /* a count or size limit was exceeded */
    LB_ECONFLICT = -10006,  /* the request conflicts with current state */
    LB_ESTORELOST = -10007, /* the database file was deleted and could not be restored */
};

/* Fills out[37] with a random (version 4) UUID in canonical lower-case form. */
int lb_uuid_v4(char out[37]);

/* Milliseconds since the Unix epoch from the wall clock. Only daemon/ should call this; lib/
 * functions take "now" as a parameter so tests control time. */
int64_t lb_now_ms(void);

/* Formats epoch milliseconds as "2024-01-02T03:04:05Z" (EventBridge's envelope time). */
void lb_format_time_iso(int64_t ms, char out[32]);

/* Parses an ISO-8601 UTC/offset timestamp ("2024-01-02T03:04:05Z", with optional fraction and
 * "+hh:mm") into epoch milliseconds. */
int lb_parse_time_iso(const char *s, int64_t *ms);

/* A growable byte buffer that is always NUL-terminated. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
} lb_buf_t;

int lb_buf_append(lb_buf_t *b, const void *data, size_t len);
int lb_buf_puts(lb_buf_t *b, const char *s);
int lb_buf_printf(lb_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int lb_buf_vprintf(lb_buf_t *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Appends v in decimal (the hot paths' alternative to a printf). */
void lb_buf_put_uint(lb_buf_t *b, uint64_t v);
/* Appends s escaped for the inside of a JSON string (quote, backslash, control characters). */
void lb_buf_json_escape(lb_buf_t *b, const char *s, size_t len);
/* Appends s as a JSON string literal, quotes included. */
int lb_buf_json_string(lb_buf_t *b, const char *s, size_t len);
void lb_buf_free(lb_buf_t *b);
/* Hands the buffer's memory to the caller and resets the buffer. */
char *lb_buf_steal(lb_buf_t *b, size_t *len);

/* Duplicates a string, NULL-safe; aborts on allocation failure (the one deliberate fatal path). */
char *lb_strdup(const char *s);
void *lb_xmalloc(size_t n);
void *lb_xcalloc(size_t n, size_t size);
void *lb_xrealloc(void *p, size_t n);

/* 1 if s is valid UTF-8 of length len, else 0. */
int lb_utf8_valid(const char *s, size_t len);

#endif
