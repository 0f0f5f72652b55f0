/* Shared by the files of lib/queue: what the registry needs of the index. */
#ifndef LB_FOLDER_QUEUE
#error "lb_queue_internal.h is private to lib/queue"
#endif
#ifndef LB_QUEUE_INTERNAL_H
#define LB_QUEUE_INTERNAL_H

#include "lb_queue.h"

/* Frees q's index and every message in it. */
void lb_qindex_free(lb_queue_t *q);

#endif
