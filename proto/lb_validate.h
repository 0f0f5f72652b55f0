/* Request field access and validation in AWS's words. Validation failures are collected the way
 * AWS reports them ("2 validation errors detected: Value 'x' at 'name' failed to satisfy
 * constraint: ...; ...") and emitted once as a ValidationException.
 *
 * Strings in a request may hold U+0000 (lb_json keeps their length). Nothing here lets such a
 * string be read as a shorter C string: lb_get_string refuses it, and the fields AWS checks
 * against a pattern are read with lb_get_string_n and checked with their length, so U+0000 fails
 * the pattern as any other character outside it would. */
#ifndef LB_VALIDATE_H
#define LB_VALIDATE_H

#include <stddef.h>

#include "lb_call.h"
#include "lb_json.h"

typedef struct {
    lb_buf_t text;
    int count;
} lb_verrs_t;

/* Adds "Value 'value' at 'member' failed to satisfy constraint: constraint". value NULL is
 * written as null. */
void lb_verr_add(lb_verrs_t *v, const char *value, const char *member, const char *constraint);
/* The same for a value of len bytes, which may hold U+0000. */
void lb_verr_add_n(lb_verrs_t *v, const char *value, size_t len, const char *member,
                   const char *constraint);
/* The constraint a string holding U+0000 fails where AWS has no pattern for the member. */
#define LB_VERR_NO_NUL "Member must not contain U+0000"
/* Adds LB_VERR_NO_NUL for every string and member name inside node that holds U+0000. member is
 * node's AWS member path ("targets.1.member"); the paths below it follow AWS's naming
 * (lowerCamel member names, "N.member" for the N-th list element). skip, if not NULL, names a
 * member of node (an object) that the caller validates itself. */
void lb_verr_nul(lb_verrs_t *v, const lb_json_t *node, const char *member, const char *skip);
/* If errors were collected, turns them into the call's ValidationException and returns 1. Always
 * releases v's memory. */
int lb_verr_emit(lb_verrs_t *v, lb_call_t *call);

/* Typed getters. Absent (or JSON null) fields give 0 and *out untouched-to-NULL/default. A field
 * of the wrong type sets a SerializationException on the call (what AWS's JSON protocol answers)
 * and returns -1.
 * lb_get_string also refuses a string holding U+0000: AWS's ValidationException (LB_VERR_NO_NUL)
 * at the member named after key ("Description" -> 'description') and -1. */
int lb_get_string(const lb_json_t *obj, const char *key, const char **out, lb_call_t *call);
/* As lb_get_string, but a string holding U+0000 is returned too, with its length in *len (0
 * when absent): for fields whose own validation reports U+0000. */
int lb_get_string_n(const lb_json_t *obj, const char *key, const char **out, size_t *len,
                    lb_call_t *call);
int lb_get_int(const lb_json_t *obj, const char *key, int64_t *out, int *present, lb_call_t *call);
int lb_get_bool(const lb_json_t *obj, const char *key, int *out, int *present, lb_call_t *call);
int lb_get_array(const lb_json_t *obj, const char *key, const lb_json_t **out, lb_call_t *call);
int lb_get_object(const lb_json_t *obj, const char *key, const lb_json_t **out, lb_call_t *call);

/* 1 if every one of the len bytes of s is alphanumeric or one of extra (U+0000 never is). */
int lb_chars_only(const char *s, size_t len, const char *extra);
/* UTF-8 code points in s (AWS's lengths count characters, not bytes). */
size_t lb_utf8_length(const char *s);

/* Event bus names and ARNs. */
#define LB_BUS_NAME_PATTERN "[/\\.\\-_A-Za-z0-9]+"
#define LB_BUS_NAME_OR_ARN_PATTERN                                                                 \
    "(arn:aws[\\w-]*:events:[a-z]+-[a-z]+-[\\w-]+:[0-9]{12}:event-bus\\/)?[/\\.\\-_A-Za-z0-9]+"
/* Validates a bus name or bus ARN of len bytes given at member; on success *name points into s
 * at the bare name. Adds to v and returns -1 on failure. */
int lb_check_bus_name_or_arn(const char *s, size_t len, const char *member, lb_verrs_t *v,
                             const char **name);

/* Resource tags [{Key, Value}] as AWS validates them; on success *json is a malloc'd normalized
 * JSON array text (NULL when absent). Returns -1 with an error on the call. */
int lb_read_tags(const lb_json_t *req, const char *key, char **json, lb_call_t *call);

/* The Limit of a List* request: 1..100, default 100. -1 with a ValidationException set. */
int lb_read_limit(const lb_json_t *req, lb_call_t *call, int64_t *limit);

/* List pagination: a NextToken is the name to resume at, hex-encoded so it is opaque and safe to
 * echo. The name a request's NextToken (NULL: none) resumes at, into start ("" for the first page);
 * -1 with AWS's ValidationException set for a token this server did not make. */
int lb_read_next_token(const char *token, lb_call_t *call, char *start, size_t startlen);
/* Closes a page of a List response whose next item is resume_at: `],"NextToken":"..."}`. */
void lb_json_close_page(lb_buf_t *b, const char *resume_at);

/* Appends ,"key":<epoch seconds> as AWS's JSON protocol writes timestamps. */
void lb_json_put_time(lb_buf_t *b, const char *key, int64_t ms);
/* Appends ,"key":"value" (escaped). */
void lb_json_put_str(lb_buf_t *b, const char *key, const char *value);

#endif
