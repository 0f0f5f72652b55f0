/* Amazon Resource Names: arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE. */
#ifndef LB_ARN_H
#define LB_ARN_H

#include <stddef.h>

typedef struct {
    char partition[32];
    char service[32];
    char region[32];
    char account[16];
    const char *resource; /* points into the parsed text */
} lb_arn_t;

/* 0 and *out filled, or -EINVAL when text is not an ARN (or a part is too long). */
int lb_arn_parse(const char *text, lb_arn_t *out);

#endif
