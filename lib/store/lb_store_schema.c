/* The schema's history: every migration the store applies, in order. */
#include "lb_store_schema.h"

#include <stddef.h>

/* Migrations, in order: migration i brings the schema from version i to i + 1. Never edit one
 * that has shipped; add a new one. */
static const char *const migrations[] = {
    /* 0 -> 1: buses and events. */
    "CREATE TABLE buses ("
    "  region TEXT NOT NULL, name TEXT NOT NULL, description TEXT, kms_key TEXT,"
    "  dlq_arn TEXT, tags TEXT, created_ms INTEGER NOT NULL, modified_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (region, name));"
    "CREATE TABLE events ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
    "  region TEXT NOT NULL, bus TEXT NOT NULL, ingested_ms INTEGER NOT NULL,"
    "  envelope TEXT NOT NULL);"
    "CREATE INDEX events_by_bus ON events (region, bus, seq);",
    /* 1 -> 2: rules, targets, connections, API destinations, deliveries. Rules, targets,
     * connections and destinations keep their full definition as a JSON document beside the key
     * columns, so adding an API field needs no migration. */
    "CREATE TABLE rules ("
    "  region TEXT NOT NULL, bus TEXT NOT NULL, name TEXT NOT NULL, json TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL, PRIMARY KEY (region, bus, name));"
    "CREATE TABLE targets ("
    "  region TEXT NOT NULL, bus TEXT NOT NULL, rule TEXT NOT NULL, id TEXT NOT NULL,"
    "  json TEXT NOT NULL, PRIMARY KEY (region, bus, rule, id));"
    "CREATE TABLE connections ("
    "  region TEXT NOT NULL, name TEXT NOT NULL, json TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL, modified_ms INTEGER NOT NULL, PRIMARY KEY (region, name));"
    "CREATE TABLE api_destinations ("
    "  region TEXT NOT NULL, name TEXT NOT NULL, json TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL, modified_ms INTEGER NOT NULL, PRIMARY KEY (region, name));"
    /* One row per (event, rule, target) still to deliver (state 0) or dead-lettered (state 2);
     * delivered rows are deleted. */
    "CREATE TABLE deliveries ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, region TEXT NOT NULL,"
    "  bus TEXT NOT NULL, rule TEXT NOT NULL, target_id TEXT NOT NULL, target_arn TEXT NOT NULL,"
    "  target_json TEXT NOT NULL, body TEXT NOT NULL, ingested_ms INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0, next_ms INTEGER NOT NULL, state INTEGER NOT NULL"
    "  DEFAULT 0, error_code TEXT, error_message TEXT, exhausted TEXT, dead_ms INTEGER);"
    "CREATE INDEX deliveries_due ON deliveries (state, next_ms);",
    /* 2 -> 3: each delivery carries its retry policy and dead-letter queue, and the time its
     * event age counts from (the ingestion time, or the moment it was redriven). */
    "ALTER TABLE deliveries ADD COLUMN max_retries INTEGER NOT NULL DEFAULT 185;"
    "ALTER TABLE deliveries ADD COLUMN max_age_s INTEGER NOT NULL DEFAULT 86400;"
    "ALTER TABLE deliveries ADD COLUMN dlq_arn TEXT;"
    "ALTER TABLE deliveries ADD COLUMN age_base_ms INTEGER;"
    "UPDATE deliveries SET age_base_ms = ingested_ms;",
    /* 3 -> 4: each bus's resource policy (PutPermission), and documents: partner event sources
     * and global endpoints, each one JSON definition keyed by (kind, region, name). */
    "ALTER TABLE buses ADD COLUMN policy TEXT;"
    "CREATE TABLE documents ("
    "  kind TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, json TEXT NOT NULL,"
    "  PRIMARY KEY (kind, region, name));",
    /* 4 -> 5: scheduled rules. schedule_since_ms: when the rule got its ScheduleExpression (a
     * rate counts from there); last_fired_ms: the last scheduled minute it fired, written in the
     * firing's own transaction so a restart never fires a minute twice. */
    "ALTER TABLE rules ADD COLUMN schedule_since_ms INTEGER;"
    "ALTER TABLE rules ADD COLUMN last_fired_ms INTEGER;"
    "UPDATE rules SET schedule_since_ms = created_ms;",
    /* 5 -> 6: archives and replays. An archive's id is never reused (AUTOINCREMENT), so the
     * events of a deleted archive, which the retention sweep removes in small steps after its
     * tombstone, can never show up in a new archive of the same name. Archived events keep the
     * envelope text; their event time and archiving time are columns so a replay window and a
     * retention cut-off are index ranges. */
    "CREATE TABLE archives ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT, region TEXT NOT NULL, name TEXT NOT NULL,"
    "  bus TEXT NOT NULL, json TEXT NOT NULL, retention_days INTEGER NOT NULL DEFAULT 0,"
    "  state TEXT NOT NULL, state_reason TEXT, created_ms INTEGER NOT NULL,"
    "  modified_ms INTEGER NOT NULL, event_count INTEGER NOT NULL DEFAULT 0,"
    "  size_bytes INTEGER NOT NULL DEFAULT 0, UNIQUE (region, name));"
    "CREATE TABLE archives_deleted (id INTEGER PRIMARY KEY);"
    "CREATE TABLE archive_events ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT, archive_id INTEGER NOT NULL,"
    "  event_time_ms INTEGER NOT NULL, archived_ms INTEGER NOT NULL, size INTEGER NOT NULL,"
    "  envelope TEXT NOT NULL);"
    "CREATE INDEX archive_events_by_time ON archive_events (archive_id, event_time_ms, seq);"
    "CREATE INDEX archive_events_by_age ON archive_events (archive_id, archived_ms);"
    "CREATE TABLE replays ("
    "  region TEXT NOT NULL, name TEXT NOT NULL, archive_id INTEGER NOT NULL,"
    "  archive_name TEXT NOT NULL, bus TEXT NOT NULL, json TEXT NOT NULL,"
    "  event_start_ms INTEGER NOT NULL, event_end_ms INTEGER NOT NULL, state TEXT NOT NULL,"
    "  state_reason TEXT, replay_start_ms INTEGER NOT NULL, replay_end_ms INTEGER,"
    "  last_replayed_ms INTEGER, cursor_time_ms INTEGER NOT NULL,"
    "  cursor_seq INTEGER NOT NULL DEFAULT 0, replayed INTEGER NOT NULL DEFAULT 0,"
    "  total INTEGER NOT NULL DEFAULT -1, PRIMARY KEY (region, name));",
    /* 6 -> 7: the TraceHeader a PutEvents entry carried (X-Ray), kept with its event and with
     * each of its deliveries, so an event forwarded to EventBridge (or to another bus) keeps it. */
    "ALTER TABLE events ADD COLUMN trace_header TEXT;"
    "ALTER TABLE deliveries ADD COLUMN trace_header TEXT;",
    /* 7 -> 8: the attempt log (lb_attempts): every delivery attempt and its outcome, bounded;
     * a final one keeps the body the target was sent. */
    "CREATE TABLE delivery_attempts ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, region TEXT NOT NULL,"
    "  bus TEXT NOT NULL, rule TEXT NOT NULL, target_id TEXT NOT NULL,"
    "  target_arn TEXT NOT NULL, attempt INTEGER NOT NULL, status TEXT NOT NULL,"
    "  http_status INTEGER, latency_ms INTEGER NOT NULL, error TEXT, at_ms INTEGER NOT NULL,"
    "  body TEXT);"
    "CREATE INDEX delivery_attempts_by_event ON delivery_attempts (event_id);"
    "CREATE INDEX delivery_attempts_by_target ON delivery_attempts (target_arn, id);"
    "CREATE INDEX deliveries_by_event ON deliveries (event_id);",
    /* 8 -> 9: stack records of `localbridge deploy`: per stack, one JSON document listing each
     * deployed resource (logical id, type, physical id, hash of its resolved properties). */
    "CREATE TABLE stacks ("
    "  region TEXT NOT NULL, name TEXT NOT NULL, json TEXT NOT NULL,"
    "  modified_ms INTEGER NOT NULL, PRIMARY KEY (region, name));",
    /* 9 -> 10: a delivery's second retry budget, once its target (a Lambda function) ran it and
     * the run failed: failed runs, runs refused since, when the first run started, and the
     * request id every run of the event shares. A pending retry of a function error survives a
     * restart like any other. */
    "ALTER TABLE deliveries ADD COLUMN fn_errors INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE deliveries ADD COLUMN fn_throttles INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE deliveries ADD COLUMN fn_first_ms INTEGER;"
    "ALTER TABLE deliveries ADD COLUMN fn_request_id TEXT;"
    /* ... and the local Lambda functions registered at run time (PUT /_localbridge/functions),
     * each its JSON definition, kept across restarts. */
    "CREATE TABLE lambda_functions (name TEXT PRIMARY KEY, spec TEXT NOT NULL,"
    "  updated_ms INTEGER NOT NULL);",
    /* 10 -> 11: built-in SQS queues. A queue's id is never reused (AUTOINCREMENT), so a message row
     * of a deleted queue can never show up in a new queue of the same name. A message row keeps
     * what must survive a crash: its visibility deadline, receive count and latest receipt token
     * (a received, undeleted message reappears when its deadline passes, not before). FIFO
     * deduplication ids live in their own table until their 5-minute window ends. */
    "CREATE TABLE sqs_queues ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT, region TEXT NOT NULL, name TEXT NOT NULL,"
    "  attrs TEXT NOT NULL, tags TEXT, created_ms INTEGER NOT NULL,"
    "  modified_ms INTEGER NOT NULL, UNIQUE (region, name));"
    "CREATE TABLE sqs_messages ("
    "  seq INTEGER PRIMARY KEY, queue_id INTEGER NOT NULL, message_id TEXT NOT NULL,"
    "  body TEXT NOT NULL, attrs TEXT, md5_body TEXT NOT NULL, md5_attrs TEXT, trace TEXT,"
    "  group_id TEXT, dedup_id TEXT, sent_ms INTEGER NOT NULL, visible_ms INTEGER NOT NULL,"
    "  receive_count INTEGER NOT NULL DEFAULT 0, token INTEGER NOT NULL DEFAULT 0,"
    "  first_receive_ms INTEGER, dlq_source TEXT);"
    "CREATE INDEX sqs_messages_by_queue ON sqs_messages (queue_id, seq);"
    "CREATE TABLE sqs_dedup ("
    "  queue_id INTEGER NOT NULL, key TEXT NOT NULL, message_id TEXT NOT NULL,"
    "  seq INTEGER NOT NULL, expires_ms INTEGER NOT NULL, PRIMARY KEY (queue_id, key));"
    "CREATE INDEX sqs_dedup_by_expiry ON sqs_dedup (expires_ms);",
    /* 11 -> 12: deliveries and logged attempts are found by their event's seq, not its id: an
     * index on random UUIDs dirtied a page anywhere in the file for every delivery and every
     * attempt (replay throughput halved); an index on seq grows at its end. */
    "ALTER TABLE delivery_attempts ADD COLUMN event_seq INTEGER;"
    "UPDATE delivery_attempts SET event_seq ="
    "  (SELECT seq FROM events WHERE events.id = delivery_attempts.event_id);"
    "DROP INDEX delivery_attempts_by_event;"
    "CREATE INDEX delivery_attempts_by_event_seq ON delivery_attempts (event_seq);"
    "ALTER TABLE deliveries ADD COLUMN event_seq INTEGER;"
    "UPDATE deliveries SET event_seq ="
    "  (SELECT seq FROM events WHERE events.id = deliveries.event_id);"
    "DROP INDEX deliveries_by_event;"
    "CREATE INDEX deliveries_by_event_seq ON deliveries (event_seq);",
};

int lb_store_migration_count(void)
{
    return (int)(sizeof migrations / sizeof migrations[0]);
}

const char *lb_store_migration(int from_version)
{
    return from_version >= 0 && from_version < lb_store_migration_count() ? migrations[from_version]
                                                                          : NULL;
}
