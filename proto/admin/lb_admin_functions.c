/* The functions admin endpoint (lb_admin.h): local Lambda functions registered at run time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_admin.h"
#include "lb_functions.h"
#include "lb_util.h"

/* {"name":..., <the definition's members>, "last_modified":...} */
static void write_function(lb_buf_t *b, const lb_function_t *f)
{
    char when[32];
    lb_format_time_iso(f->updated_ms, when);
    lb_buf_puts(b, "{\"name\":");
    lb_buf_json_string(b, f->name, strlen(f->name));
    size_t n = strlen(f->spec);
    /* spec is a printed object: its members go on after the name */
    if (n > 2) {
        lb_buf_puts(b, ",");
        lb_buf_append(b, f->spec + 1, n - 2);
    }
    lb_buf_printf(b, ",\"last_modified\":\"%s\"}", when);
}

static const char *function_name(const lb_json_t *req, lb_call_t *call)
{
    const char *name = lb_json_get_str(req, "FunctionName");
    if (!name || !lb_function_name_valid(name)) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "1 validation error detected: Value '%.80s' at 'functionName' failed to "
                      "satisfy constraint: Member must satisfy regular expression pattern: "
                      "[a-zA-Z0-9-_]{1,64}",
                      name ? name : "");
        return NULL;
    }
    return name;
}

typedef struct {
    lb_engine_t *engine;
    lb_function_t f;
} put_t;

static void put_free(void *arg)
{
    put_t *p = arg;
    lb_function_clear(&p->f);
    free(p);
}

static int put_txn(lb_store_t *store, void *arg)
{
    return lb_functions_store_put(store, &((put_t *)arg)->f);
}

static void finish_put(lb_call_t *call, int rc)
{
    put_t *p = call->arg;
    if (rc) {
        lb_call_error_code(call, rc, "the function");
        return;
    }
    call->status = 200;
    call->body.len = 0;
    write_function(&call->body, &p->f);
    lb_functions_put(lb_engine_functions(p->engine), &p->f);
}

void lb_admin_put_function(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *name = function_name(req, call);
    if (!name) return;
    put_t *p = lb_xcalloc(1, sizeof *p);
    p->engine = engine;
    char msg[400];
    if (lb_function_parse(name, lb_json_get(req, "Definition"), call->now_ms, &p->f, msg,
                          sizeof msg)) {
        free(p);
        lb_call_error(call, LB_AWS_VALIDATION, "%s", msg);
        return;
    }
    lb_call_defer(call, put_txn, finish_put, p, put_free);
}

void lb_admin_list_functions(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    (void)req;
    const lb_functions_t *r = lb_engine_functions(engine);
    call->status = 200;
    call->body.len = 0;
    lb_buf_puts(&call->body, "{\"Functions\":[");
    for (size_t i = 0; i < lb_functions_count(r); i++) {
        if (i) lb_buf_puts(&call->body, ",");
        write_function(&call->body, lb_functions_at(r, i));
    }
    lb_buf_puts(&call->body, "]}");
}

typedef struct {
    lb_engine_t *engine;
    char name[LB_FUNCTION_NAME_MAX + 1];
} del_t;

static int del_txn(lb_store_t *store, void *arg)
{
    return lb_functions_store_delete(store, ((del_t *)arg)->name);
}

static void finish_del(lb_call_t *call, int rc)
{
    del_t *d = call->arg;
    if (rc) {
        lb_call_error_code(call, rc, "the function");
        return;
    }
    lb_functions_remove(lb_engine_functions(d->engine), d->name);
    lb_call_ok_json(call, "{}");
}

void lb_admin_delete_function(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *name = function_name(req, call);
    if (!name) return;
    if (!lb_functions_find(lb_engine_functions(engine), name)) {
        lb_call_error(call, LB_AWS_NOT_FOUND,
                      "Function not found: arn:aws:lambda:%s:%s:function:%s", call->region,
                      call->account_id, name);
        return;
    }
    del_t *d = lb_xcalloc(1, sizeof *d);
    d->engine = engine;
    snprintf(d->name, sizeof d->name, "%s", name);
    lb_call_defer(call, del_txn, finish_del, d, free);
}
