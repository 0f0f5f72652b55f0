/* One daemon per data directory: an exclusive fcntl lock on <data_dir>/localbridge.lock, a file
 * holding the owner's pid. A second daemon on the same directory would otherwise open the same
 * database, keep its own in-memory state and silently diverge from the first. The lock dies with
 * the process (kill -9 included), so a stale file never blocks a restart; a clean stop removes
 * the file. */
#ifndef LB_PIDLOCK_H
#define LB_PIDLOCK_H

#include <sys/types.h>

typedef struct lb_pidlock lb_pidlock_t;

/* The lock file's name inside the data directory. */
#define LB_PIDLOCK_NAME "localbridge.lock"

/* Takes the lock of dir. 0 and *out on success; -EBUSY when another process holds it, with
 * *holder its pid (0 if it cannot be told); -EROFS when the directory cannot be written (no
 * lock is possible, nor needed: nothing can be written there either); another -errno otherwise. */
int lb_pidlock_acquire(const char *dir, lb_pidlock_t **out, pid_t *holder);
/* Removes the lock file and releases the lock. NULL-safe; sets *lock to NULL. */
void lb_pidlock_release(lb_pidlock_t **lock);
/* The lock file's path. */
const char *lb_pidlock_path(const lb_pidlock_t *lock);

#endif
