/* systemd's readiness protocol without libsystemd: one datagram to $NOTIFY_SOCKET. */
#ifndef LB_NOTIFY_H
#define LB_NOTIFY_H

/* Sends state ("READY=1", "STOPPING=1", "RELOADING=1", "STATUS=...") if NOTIFY_SOCKET is set.
 * Returns 0 when sent or when there is no socket, a negative errno otherwise. */
int lb_notify(const char *state);

#endif
