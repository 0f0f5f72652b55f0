/* Archive operations: CreateArchive, DescribeArchive, ListArchives, UpdateArchive,
 * DeleteArchive. Answers come from the engine's archive registry; changes commit first and reach
 * memory after (the ingest road reads the registry for every event). Also the field checks the
 * replay operations share. */
#ifndef LB_OPS_ARCHIVE_H
#define LB_OPS_ARCHIVE_H

#include <stddef.h>

#include "lb_call.h"
#include "lb_engine.h"
#include "lb_json.h"
#include "lb_validate.h"

void lb_op_create_archive(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_describe_archive(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_list_archives(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_update_archive(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_delete_archive(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);

/* ListArchives' and ListReplays' filters, NamePrefix (at most prefix_max long), EventSourceArn
 * (its resource part in *resource) and State (one of states, "A, B, ..."), of which AWS allows
 * one. 0 with the absent ones NULL, or -1 with the error set. */
int lb_read_list_filter(const lb_json_t *req, lb_call_t *call, const char *op, size_t prefix_max,
                        const char *states, const char **prefix, const char **resource,
                        const char **state);

/* AWS's pattern for archive, bus and replay names. */
#define LB_ARCHIVE_NAME_PATTERN "[\\.\\-_A-Za-z0-9]+"
/* AWS's pattern for ArchiveArn and EventBusArn members. */
#define LB_EVENTS_ARN_PATTERN "^arn:aws([a-z]|\\-)*:events:([a-z]|\\d|\\-)*:([0-9]{12})?:.+\\/.+$"

/* A name member (null, length 1..max, the name pattern), as AWS words each failure; name may be
 * NULL (absent) when required says so. */
void lb_check_resource_name(lb_verrs_t *v, const char *name, size_t len, const char *member,
                            size_t max, int required);
/* An ArchiveArn / EventBusArn member: null (when required), length 1..1600, the pattern. On
 * success returns the ARN's resource ("archive/NAME"), else NULL with the failure added. */
const char *lb_check_events_arn(lb_verrs_t *v, const char *arn, size_t len, const char *member,
                                int required);
/* 1 if value is one of the names in list, written as AWS lists an enum ("A, B, C"). */
int lb_enum_member(const char *value, const char *list);
/* The name after a resource's type ("event-bus/x" -> "x", "event-bus/aws.partner/y" ->
 * "aws.partner/y"). */
const char *lb_arn_resource_name(const char *resource);

#endif
