/* Archives in the store: their definitions, their archived events (written in the ingesting
 * event's own transaction), and the retention sweep that removes expired events, and the events
 * of deleted archives, in small steps. Every function runs on the thread that owns the store,
 * inside the caller's transaction. */
#ifndef LB_ARCHIVE_STORE_H
#define LB_ARCHIVE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "lb_archive.h"
#include "lb_store.h"

/* One archived copy of an event. */
typedef struct {
    int64_t archive_id;
    int64_t event_time_ms; /* the envelope's "time", which replay windows select on */
    int64_t archived_ms;   /* when it was archived, which retention counts from */
    int64_t size;          /* what it adds to the archive's SizeBytes */
    const char *envelope;  /* kept byte for byte */
    size_t envelope_len;
} lb_archive_row_t;

/* Inserts a new archive and sets a->id. LB_EEXISTS if (region, name) exists. */
int lb_store_archive_insert(lb_store_t *s, lb_archive_t *a);
/* Rewrites an archive's definition (description, pattern, key, retention); its counters stay.
 * LB_ENOTFOUND if absent. */
int lb_store_archive_update(lb_store_t *s, const lb_archive_t *a);
/* Deletes an archive and leaves a tombstone: its events go with the next sweep steps, so a
 * delete costs the same however large the archive. LB_ENOTFOUND if absent. */
int lb_store_archive_delete(lb_store_t *s, int64_t id);
/* Loads every archive with its counters; definitions that no longer compile are skipped and
 * counted in *skipped. */
int lb_archives_load(lb_archives_t *r, lb_store_t *s, size_t *skipped);

/* Writes archived events and raises their archives' EventCount and SizeBytes. Rows of an
 * archive that no longer exists (deleted while the batch was built) are dropped. */
int lb_store_archive_rows_write(lb_store_t *s, const lb_archive_row_t *rows, size_t n);

/* What a sweep step removed from one archive. */
typedef struct {
    int64_t archive_id;
    int64_t events, bytes;
} lb_archive_change_t;

typedef struct {
    lb_archive_change_t *changes; /* malloc'd: one per archive whose counters went down */
    size_t n_changes;
    size_t deleted; /* rows deleted, expired ones and deleted archives' ones */
    int more;       /* the step stopped at max_rows: more may be due now */
} lb_archive_sweep_t;

/* One sweep step: deletes at most max_rows archived events, first those of deleted archives,
 * then those archived longer ago than their archive's RetentionDays (day_ms long each; 0 days
 * keeps them forever), lowering the counters in the same transaction. */
int lb_store_archive_sweep(lb_store_t *s, int64_t now_ms, int64_t day_ms, size_t max_rows,
                           lb_archive_sweep_t *out);
void lb_archive_sweep_clear(lb_archive_sweep_t *out);

#endif
