#include "lb_ops_doc.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    lb_engine_t *engine;
    lb_doc_kind_t kind;
    lb_doc_write_t how;
    char *region, *name, *json, *answer, *what;
    lb_json_doc_t *doc;
} doc_job_t;

static void doc_job_free(void *arg)
{
    doc_job_t *job = arg;
    free(job->region);
    free(job->name);
    free(job->json);
    free(job->answer);
    free(job->what);
    lb_json_doc_free(&job->doc);
    free(job);
}

static int doc_job_txn(lb_store_t *store, void *arg)
{
    doc_job_t *job = arg;
    switch (job->how) {
    case LB_DOC_WRITE_INSERT:
        return lb_docs_store_insert(store, job->kind, job->region, job->name, job->json);
    case LB_DOC_WRITE_PUT:
        return lb_docs_store_put(store, job->kind, job->region, job->name, job->json);
    case LB_DOC_WRITE_DELETE:
        return lb_docs_store_delete(store, job->kind, job->region, job->name);
    }
    return LB_EINVALID;
}

static void doc_job_finish(lb_call_t *call, int rc)
{
    doc_job_t *job = call->arg;
    if (rc) {
        lb_call_error_code(call, rc, job->what);
        return;
    }
    lb_docs_t *docs = lb_engine_docs(job->engine);
    if (job->how == LB_DOC_WRITE_DELETE)
        lb_docs_remove(docs, job->kind, job->region, job->name);
    else
        lb_docs_put(docs, job->kind, job->region, lb_json_doc_root(job->doc));
    lb_call_ok_json(call, job->answer);
}

void lb_doc_defer_write(lb_engine_t *engine, lb_call_t *call, lb_doc_kind_t kind,
                        lb_doc_write_t how, const char *region, const char *name,
                        lb_json_doc_t *doc, const char *answer, const char *what)
{
    doc_job_t *job = lb_xcalloc(1, sizeof *job);
    job->engine = engine;
    job->kind = kind;
    job->how = how;
    job->region = lb_strdup(region);
    job->name = lb_strdup(name);
    job->doc = doc;
    job->json = doc ? lb_json_print(lb_json_doc_root(doc), NULL) : NULL;
    job->answer = lb_strdup(answer);
    job->what = lb_strdup(what);
    lb_call_defer(call, doc_job_txn, doc_job_finish, job, doc_job_free);
}
