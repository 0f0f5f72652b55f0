/* The running daemon: it owns the loop's handles, the store connections, the writer thread, the
 * engine and the HTTP server, routes requests (the AWS API on POST /, health, metrics and admin
 * endpoints) and drives start-up, reload and graceful shutdown. main.c only parses the command
 * line and calls in here. */
#ifndef LB_SERVER_H
#define LB_SERVER_H

#include <uv.h>

#include "lb_config.h"

typedef struct lb_server lb_server_t;

/* Opens the store under the configured data dir, loads the engine, binds the listener. Takes
 * ownership of config. On failure *err is a malloc'd message. */
int lb_server_start(uv_loop_t *loop, lb_config_t *config, lb_server_t **out, char **err);
/* "http://127.0.0.1:4010" as bound (port 0 resolved). */
const char *lb_server_url(const lb_server_t *s);
/* Graceful stop: stop accepting, finish in-flight requests and commits, close the store. The loop
 * runs out once everything is closed. */
void lb_server_shutdown(lb_server_t *s);
/* SIGHUP: reload what can change; log what needs a restart. */
void lb_server_reload(lb_server_t *s);
/* Frees what is left after the loop has run out. */
void lb_server_free(lb_server_t **s);

#endif
