/* Archives: which events of a bus are kept for replay, as the loop thread sees them. Each archive
 * captures every event that arrives on its source bus and matches its pattern (every event when
 * it has none); ingest asks lb_archive_wants() for each event it admits and writes the archived
 * copy in the event's own transaction (lb_archive_store.h). Replayed events are never archived:
 * ingest does not ask for them.
 *
 * The registry mirrors the store like the engine's buses and rules: it is loaded at start and
 * changed only after the store committed. EventCount and SizeBytes are kept here too, raised when
 * an ingest batch commits and lowered when a retention sweep step commits, so Describe and List
 * answer from memory.
 *
 * Ownership: the registry owns its archives; lb_archives_put takes the contents of the archive
 * it is given. Strings in an lb_archive_t are malloc'd and owned by it. No I/O, no clock. */
#ifndef LB_ARCHIVE_H
#define LB_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "lb_pattern.h"

/* AWS's archive states. Only ENABLED is reached here (creation and updates are synchronous);
 * the others are valid ListArchives filters. */
#define LB_ARCHIVE_STATES "ENABLED, DISABLED, CREATING, UPDATING, CREATE_FAILED, UPDATE_FAILED"

typedef struct {
    int64_t id; /* the store's row id (archived events refer to it); 0 until inserted */
    char *region, *name, *bus;
    char *description;      /* NULL when not set */
    char *event_pattern;    /* as given; NULL = every event */
    char *kms_key;          /* KmsKeyIdentifier, or NULL */
    int64_t retention_days; /* 0 = forever */
    char *state, *state_reason;
    int64_t created_ms, modified_ms;
    int64_t event_count, size_bytes; /* AWS's EventCount and SizeBytes */
    uint64_t archived_total;         /* events archived since this process started (a metric) */
    lb_pattern_t *pattern;           /* compiled event_pattern */
} lb_archive_t;

/* Builds an archive (copying strings, compiling the pattern). A pattern that does not compile
 * gives -EINVAL and *errmsg (AWS's InvalidEventPatternException message, malloc'd). The state is
 * ENABLED, the counters 0. */
int lb_archive_init(lb_archive_t *a, const char *region, const char *name, const char *bus,
                    const char *description, const char *event_pattern, const char *kms_key,
                    int64_t retention_days, int64_t created_ms, char **errmsg);
void lb_archive_clear(lb_archive_t *a);

/* 1 if the archive keeps this event (already flattened for matching); flat may be NULL when the
 * archive has no pattern. */
int lb_archive_wants(const lb_archive_t *a, const lb_event_t *flat);
/* 1 if the archive has a pattern, i.e. lb_archive_wants needs the flattened event. */
int lb_archive_needs_event(const lb_archive_t *a);

/* arn:aws:events:REGION:ACCOUNT:archive/NAME */
void lb_archive_arn(const char *region, const char *account, const char *name, char *out,
                    size_t outlen);

/* ---- the registry, sorted by (region, name) ---- */

typedef struct lb_archives lb_archives_t;

int lb_archives_new(lb_archives_t **out);
void lb_archives_free(lb_archives_t **r);

/* Inserts or replaces the archive of the same (region, name), taking *a's contents (a is cleared).
 * A replaced archive's counters are kept when the ids are the same: an update changes the
 * definition, not what is archived. */
int lb_archives_put(lb_archives_t *r, lb_archive_t *a);
/* LB_ENOTFOUND if absent. */
int lb_archives_remove(lb_archives_t *r, const char *region, const char *name);
lb_archive_t *lb_archives_find(const lb_archives_t *r, const char *region, const char *name);
lb_archive_t *lb_archives_find_id(const lb_archives_t *r, int64_t id);
/* Index of the first archive >= (region, name); "" gives the region's first. */
size_t lb_archives_lower_bound(const lb_archives_t *r, const char *region, const char *name);
lb_archive_t *lb_archives_at(const lb_archives_t *r, size_t i);
size_t lb_archives_count(const lb_archives_t *r);
/* Archives whose source is this bus. */
size_t lb_archives_count_on_bus(const lb_archives_t *r, const char *region, const char *bus);

/* Adds events and bytes to the counters of archive id (negative when a sweep removed them);
 * archived, when non-zero, also counts toward archived_total. An unknown id (an archive deleted
 * meanwhile) is ignored. */
void lb_archives_add_counts(lb_archives_t *r, int64_t id, int64_t events, int64_t bytes,
                            int archived);

#endif
