/* lb_ingest: the one road into an event bus. PutEvents entries, events put on a bus by another
 * bus's rule, replayed events and (as they arrive) scheduled rules' firings all enter here, and
 * nowhere else.
 *
 * For each event it parses the Detail (or the ready envelope) once, with the one strict JSON
 * parser; builds the envelope exactly as EventBridge delivers it, as text and as a tree made from
 * that same parse; matches the tree against the bus's rules and archives (the tree flattened once
 * for both); renders each matched target's body from the same tree; and appends the event row,
 * one delivery per (rule, target), the rule hits and one archived copy per archive that keeps the
 * event (never for a replayed event) to a write batch. The batch is then written in one store
 * transaction (writer thread) and, once committed, its deliveries go to the engine's delivery hook
 * (loop thread). Nothing of an event reaches the store or a target unless all of it was built.
 *
 * Ownership: a batch owns everything added to it until lb_ingest_batch_committed hands the
 * deliveries on; lb_ingest_batch_free releases the rest. No I/O, no clock: "now" and the id
 * source come in the context. */
#ifndef LB_INGEST_H
#define LB_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "lb_engine.h"
#include "lb_store.h"

typedef enum {
    LB_ORIGIN_API,        /* PutEvents: a new envelope from the entry */
    LB_ORIGIN_BUS_TARGET, /* a rule of another bus targeted this one: new id, same content */
    LB_ORIGIN_REPLAY,     /* a replay: id and time kept, "replay-name" added */
    LB_ORIGIN_SCHEDULE,   /* a scheduled rule firing */
} lb_origin_kind_t;

typedef struct {
    lb_origin_kind_t kind;
    const char *replay_name; /* REPLAY: the envelope's "replay-name" */
    /* Only these rules of the bus may match (a replay's FilterArns as names, a schedule's own
     * rule); NULL means every rule. */
    const char *const *rule_names;
    size_t n_rule_names;
} lb_origin_t;

/* Where and when: the daemon's account, the bus's region, "now", and where new ids come from. */
typedef struct {
    const char *region;
    const char *account;
    int64_t now_ms;
    lb_origin_t origin;
    /* Envelope origins (BUS_TARGET, REPLAY): the event's TraceHeader, or NULL. */
    const char *trace_header;
    /* Fills out with a new event id; 0 or a negative error. NULL: random version 4 UUIDs. */
    int (*new_id)(void *id_ctx, char out[37]);
    void *id_ctx;
} lb_ingest_ctx_t;

/* One PutEvents entry (or a schedule's event), its fields validated by the API layer. */
typedef struct {
    const char *source;
    const char *detail_type;
    const char *detail; /* the Detail text as given: must be a JSON object */
    size_t detail_len;
    const char *const *resources;
    size_t n_resources;
    int64_t time_ms;          /* the event's time */
    const char *trace_header; /* TraceHeader, or NULL: stored with the event and its deliveries */
} lb_entry_t;

/* Per-event refusals, besides negative errno values. */
enum {
    LB_INGEST_EMALFORMED = -20001, /* the Detail (or envelope) is not a JSON object */
    LB_INGEST_ENOBUS = -20002,     /* the bus does not exist */
};

typedef struct lb_ingest_batch lb_ingest_batch_t;

lb_ingest_batch_t *lb_ingest_batch_new(void);
void lb_ingest_batch_free(lb_ingest_batch_t **b);

/* Adds one entry bound for bus (a name in ctx->region). 0 with the new event's id in id_out, or
 * LB_INGEST_EMALFORMED / LB_INGEST_ENOBUS / a negative errno, in which case the batch is as it
 * was. */
int lb_ingest_entry(lb_engine_t *e, const lb_ingest_ctx_t *ctx, const char *bus,
                    const lb_entry_t *entry, lb_ingest_batch_t *b, char id_out[37]);

/* Adds an event given as an envelope text (an event-bus target's body, an archived event): the
 * origin says what is kept. BUS_TARGET: source, detail-type, detail (byte for byte), resources and
 * time are kept; id, account and region are this bus's. REPLAY: everything is kept and
 * "replay-name" added. Returns as lb_ingest_entry. */
int lb_ingest_envelope(lb_engine_t *e, const lb_ingest_ctx_t *ctx, const char *bus,
                       const char *envelope, size_t len, lb_ingest_batch_t *b, char id_out[37]);

/* A scheduled rule's firing: the event AWS sends (version "0", a new id, detail-type "Scheduled
 * Event", source "aws.events", ctx's account, the rule's region, time fire_ms, resources [the
 * rule's ARN], detail {}) on the rule's bus, reaching that rule alone (ctx->origin and
 * ctx->region are not used). Returns as lb_ingest_entry. */
int lb_ingest_schedule(lb_engine_t *e, const lb_ingest_ctx_t *ctx, const lb_rule_t *rule,
                       int64_t fire_ms, lb_ingest_batch_t *b, char id_out[37]);

/* Events added so far, and archived copies of them. */
size_t lb_ingest_batch_events(const lb_ingest_batch_t *b);
size_t lb_ingest_batch_archived(const lb_ingest_batch_t *b);
/* Writes the whole batch (writer thread, inside the caller's transaction): event rows (not for
 * replayed events, which keep an id already stored), deliveries and archived copies. */
int lb_ingest_batch_write(lb_store_t *s, lb_ingest_batch_t *b);
/* After the commit (loop thread): hands the deliveries and rule hits to the engine's hook and
 * counts the archived copies in their archives. */
void lb_ingest_batch_committed(lb_engine_t *e, lb_ingest_batch_t *b);

#endif
