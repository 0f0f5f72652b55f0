/* The digests SQS puts in its answers and SDKs verify: MD5OfMessageBody (the hex MD5 of the body's
 * UTF-8 bytes) and MD5OfMessageAttributes (the hex MD5 of AWS's binary encoding of the message
 * attributes, sorted by name), plus the base64 that binary attribute values travel in. Pure
 * functions; the caller owns every buffer. */
#ifndef LB_SQS_MD5_H
#define LB_SQS_MD5_H

#include <stddef.h>

#include "lb_util.h"

/* One message attribute. value holds the string, or the decoded bytes of a Binary value. */
typedef struct {
    const char *name;
    const char *data_type; /* "String", "Number", "Binary", optionally with ".custom" */
    const char *value;
    size_t value_len;
    int binary; /* data_type starts with "Binary" */
} lb_sqs_attr_t;

/* Lower-case hex MD5 of len bytes of data into out[33]. */
void lb_sqs_md5_hex(const void *data, size_t len, char out[33]);

/* MD5OfMessageAttributes of n attributes (any order: they are sorted by name here, as AWS's
 * encoding requires): for each, its name, data type and value as 4-byte big-endian length plus
 * bytes, with a transport byte (1 string or number, 2 binary) before the value. */
void lb_sqs_md5_attrs(const lb_sqs_attr_t *attrs, size_t n, char out[33]);

/* Standard base64 with padding. encode appends to b. decode: 0 and *out malloc'd (NUL-terminated
 * too, length in *len), or -1 for text that is not base64. */
void lb_base64_encode(lb_buf_t *b, const void *data, size_t len);
int lb_base64_decode(const char *text, size_t len, char **out, size_t *out_len);

#endif
