/* The web console at /_localbridge/console/: a single-page app of plain HTML, CSS and JavaScript
 * whose files are compiled into the binary. It reads and changes nothing itself: the page talks to
 * the AWS API (POST /) and to the /_localbridge/ admin endpoints like any other client. */
#ifndef LB_CONSOLE_H
#define LB_CONSOLE_H

#include "lb_http.h"

#define LB_CONSOLE_PREFIX "/_localbridge/console"

/* 1 when path is the console's (LB_CONSOLE_PREFIX, or below it). */
int lb_console_owns(const char *path);

/* Answers a request for a console path: the file (200, or 304 when If-None-Match names its
 * ETag), or a redirect from the bare prefix to it with "/". Returns 0 when it answered; -ENOENT
 * for a file that does not exist and -EINVAL for a method other than GET, which the
 * caller answers in the API's error shape. */
int lb_console_handle(lb_http_request_t *req);

#endif
