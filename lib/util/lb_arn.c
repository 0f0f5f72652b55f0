#include "lb_arn.h"

#include <errno.h>
#include <string.h>

/* Copies the text up to the next ':' into out; advances *p past it. */
static int part(const char **p, char *out, size_t outlen)
{
    const char *end = strchr(*p, ':');
    if (!end || (size_t)(end - *p) >= outlen) return -EINVAL;
    memcpy(out, *p, (size_t)(end - *p));
    out[end - *p] = '\0';
    *p = end + 1;
    return 0;
}

int lb_arn_parse(const char *text, lb_arn_t *out)
{
    memset(out, 0, sizeof *out);
    if (strncmp(text, "arn:", 4) != 0) return -EINVAL;
    const char *p = text + 4;
    if (part(&p, out->partition, sizeof out->partition) ||
        part(&p, out->service, sizeof out->service) || part(&p, out->region, sizeof out->region) ||
        part(&p, out->account, sizeof out->account))
        return -EINVAL;
    if (!out->partition[0] || !out->service[0]) return -EINVAL;
    out->resource = p;
    return 0;
}
