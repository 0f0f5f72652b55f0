/* Connection and API destination operations: CreateConnection, DescribeConnection,
 * ListConnections, UpdateConnection, DeleteConnection, DeauthorizeConnection (lb_ops_conn.c) and
 * CreateApiDestination, DescribeApiDestination, ListApiDestinations, UpdateApiDestination,
 * DeleteApiDestination (lb_ops_apidest.c). Every change is committed to the store before the
 * registry (lb_engine_connections() in lb_engine.h) sees it. Responses never carry secret values.
 */
#ifndef LB_OPS_CONN_H
#define LB_OPS_CONN_H

#include "lb_call.h"
#include "lb_connections.h"
#include "lb_engine.h"
#include "lb_json.h"
#include "lb_validate.h"

void lb_op_create_connection(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_describe_connection(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_list_connections(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_update_connection(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_delete_connection(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_deauthorize_connection(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);

void lb_op_create_api_destination(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_describe_api_destination(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_list_api_destinations(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_update_api_destination(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_delete_api_destination(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);

/* ---- Shared by lb_ops_conn.c and lb_ops_apidest.c ---- */

#define LB_CONN_NAME_PATTERN "[\\.\\-_A-Za-z0-9]+"

/* Renders the response of a committed change from the resource's document. */
typedef void (*lb_conn_render_fn)(lb_call_t *call, lb_connections_t *reg, const lb_json_t *doc);

typedef enum { LB_CONN_JOB_INSERT, LB_CONN_JOB_UPDATE, LB_CONN_JOB_DELETE } lb_conn_job_op_t;

/* Defers the store change of one resource; once committed the registry is updated (put, or
 * remove for DELETE) and render answers. Takes ownership of doc, whose root is the resource's
 * definition (carrying Name, CreationTime and LastModifiedTime). */
void lb_conn_defer(lb_engine_t *engine, lb_call_t *call, lb_conn_kind_t kind, lb_conn_job_op_t op,
                   lb_json_doc_t *doc, lb_conn_render_fn render);

/* Definition documents: a new one whose root (*root) is an empty object, or a deep copy of src.
 * The caller owns the document. */
lb_json_doc_t *lb_conn_doc_new(lb_json_t **root);
lb_json_doc_t *lb_conn_doc_copy(const lb_json_t *src, lb_json_t **root);
/* Sets obj's member key (obj an object of doc), replacing any member of that name. */
void lb_conn_set_str(lb_json_doc_t *doc, lb_json_t *obj, const char *key, const char *value);
void lb_conn_set_ms(lb_json_doc_t *doc, lb_json_t *obj, const char *key, int64_t ms);

/* Validates a connection or destination name of len bytes (NULL: absent) at member "name" (not
 * null, pattern, max 64). */
void lb_conn_check_name(const char *name, size_t len, lb_verrs_t *v);
/* Parses Limit/NextToken/NamePrefix of a List call. Returns -1 with an error on the call. */
int lb_conn_read_list_args(const lb_json_t *req, lb_call_t *call, const char **prefix,
                           int64_t *limit, char *start, size_t startlen);
/* One page of ListConnections or ListApiDestinations: reads NamePrefix, Limit and NextToken,
 * walks call's region in name order, and writes {"<member>":[...]} with NextToken when more
 * follow. keep (NULL: all) filters; item appends one resource's object. The answer, or an error,
 * is on the call. */
typedef struct {
    lb_conn_kind_t kind;
    const char *member;
    int (*keep)(lb_connections_t *reg, lb_call_t *call, const lb_json_t *doc, void *ctx);
    void (*item)(lb_buf_t *b, lb_connections_t *reg, lb_call_t *call, const lb_json_t *doc,
                 void *ctx);
    void *ctx;
} lb_conn_lister_t;
void lb_conn_list_page(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call,
                       const lb_conn_lister_t *lister);
/* The not-found message AWS gives for a missing connection. */
void lb_conn_not_found(lb_call_t *call, const char *name);
/* The connection or destination a request's Name designates, or NULL with the error set
 * (validation, or not_found's message). */
const lb_json_t *lb_conn_find_named(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call,
                                    lb_conn_kind_t kind,
                                    void (*not_found)(lb_call_t *call, const char *name),
                                    const char **name);

#endif
