/* GET /_localbridge/events/ID: "what happened to my event?" The envelope, and for every
 * (rule, target) delivery its status and attempts (time, HTTP status, latency, error), from the
 * attempt log and the deliveries still in the store (pending ones and dead letters), all read on
 * the reader thread in one job. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_cockpit_internal.h"
#include "lb_store_cockpit.h"

typedef struct {
    char *rule, *target_id, *target_arn;
    lb_buf_t attempts;
    int n_attempts;
    const char *status;
    int dead;
} group_t;

typedef struct {
    lb_http_request_t *req;
    char *id;
    lb_buf_t head; /* "event", "bus", "region", "received" */
    group_t *groups;
    size_t n_groups;
    int found;
} view_t;

static group_t *group_for(view_t *v, const char *rule, const char *target_id,
                          const char *target_arn)
{
    for (size_t i = 0; i < v->n_groups; i++)
        if (strcmp(v->groups[i].rule, rule) == 0 && strcmp(v->groups[i].target_id, target_id) == 0)
            return &v->groups[i];
    v->groups = lb_xrealloc(v->groups, (v->n_groups + 1) * sizeof *v->groups);
    group_t *g = &v->groups[v->n_groups++];
    memset(g, 0, sizeof *g);
    g->rule = lb_strdup(rule);
    g->target_id = lb_strdup(target_id);
    g->target_arn = lb_strdup(target_arn);
    g->status = "PENDING";
    return g;
}

static int on_event(const lb_event_record_t *ev, void *ctx)
{
    view_t *v = ctx;
    char received[32];
    lb_cockpit_time(ev->ingested_ms, received);
    v->found = 1;
    lb_buf_puts(&v->head, "{\"event\":");
    lb_buf_append(&v->head, ev->envelope, ev->envelope_len);
    lb_buf_puts(&v->head, ",\"bus\":");
    lb_buf_json_string(&v->head, ev->bus, strlen(ev->bus));
    lb_buf_puts(&v->head, ",\"region\":");
    lb_buf_json_string(&v->head, ev->region, strlen(ev->region));
    lb_buf_printf(&v->head, ",\"received\":\"%s\"", received);
    return 0;
}

static int on_attempt(const lb_attempt_rec_t *r, void *ctx)
{
    view_t *v = ctx;
    group_t *g = group_for(v, r->rule, r->target_id, r->target_arn);
    char at[32];
    lb_cockpit_time(r->at_ms, at);
    lb_buf_printf(&g->attempts,
                  "%s{\"attempt\":%d,\"at\":\"%s\",\"status\":\"%s\",\"http_status\":",
                  g->n_attempts++ ? "," : "", r->attempt, at, lb_attempt_status_name(r->status));
    if (r->http_status > 0)
        lb_buf_printf(&g->attempts, "%ld", r->http_status);
    else
        lb_buf_puts(&g->attempts, "null");
    lb_buf_printf(&g->attempts, ",\"latency_ms\":%lld,\"error\":", (long long)r->latency_ms);
    if (r->error)
        lb_buf_json_string(&g->attempts, r->error, strlen(r->error));
    else
        lb_buf_puts(&g->attempts, "null");
    lb_buf_puts(&g->attempts, "}");
    g->status = lb_attempt_status_name(r->status);
    g->dead = r->status == LB_AS_DEAD_LETTERED;
    return 0;
}

static int on_stored(const lb_store_event_delivery_t *d, void *ctx)
{
    view_t *v = ctx;
    group_t *g = group_for(v, d->rule, d->target_id, d->target_arn);
    /* The store is the truth about a delivery still there: a redriven dead letter is pending. */
    g->dead = d->dead;
    if (d->dead)
        g->status = "DEAD_LETTERED";
    else if (d->attempts > 0)
        g->status = "RETRYING";
    else
        g->status = "PENDING";
    return 0;
}

static int read_view(lb_store_t *store, void *arg)
{
    view_t *v = arg;
    int rc = lb_store_event_get(store, v->id, on_event, v);
    if (rc) return rc == LB_ENOTFOUND ? 0 : rc;
    if ((rc = lb_attempts_for_event(store, v->id, on_attempt, v))) return rc;
    return lb_store_event_deliveries(store, v->id, on_stored, v);
}

static void view_free(view_t *v)
{
    for (size_t i = 0; i < v->n_groups; i++) {
        free(v->groups[i].rule);
        free(v->groups[i].target_id);
        free(v->groups[i].target_arn);
        lb_buf_free(&v->groups[i].attempts);
    }
    free(v->groups);
    lb_buf_free(&v->head);
    free(v->id);
    free(v);
}

static void view_done(void *data, int rc)
{
    view_t *v = data;
    if (rc) {
        lb_cockpit_error(v->req, LB_AWS_INTERNAL, "The store could not be read.");
    } else if (!v->found) {
        char msg[200];
        snprintf(msg, sizeof msg, "Event %.100s does not exist.", v->id);
        /* An admin URL naming something absent: 404, in the API's error shape. */
        lb_buf_t body = {0};
        lb_aws_error_body(&body, LB_AWS_RESOURCE_NOT_FOUND, msg);
        lb_cockpit_respond(v->req, 404, body.data, body.len);
        lb_buf_free(&body);
    } else {
        lb_buf_t *out = &v->head;
        lb_buf_puts(out, ",\"deliveries\":[");
        for (size_t i = 0; i < v->n_groups; i++) {
            group_t *g = &v->groups[i];
            lb_buf_puts(out, i ? ",{\"rule\":" : "{\"rule\":");
            lb_buf_json_string(out, g->rule, strlen(g->rule));
            lb_buf_puts(out, ",\"target_id\":");
            lb_buf_json_string(out, g->target_id, strlen(g->target_id));
            lb_buf_puts(out, ",\"target_arn\":");
            lb_buf_json_string(out, g->target_arn, strlen(g->target_arn));
            lb_buf_printf(out, ",\"status\":\"%s\",\"dead_letter\":%s,\"attempts\":[", g->status,
                          g->dead ? "true" : "false");
            if (g->attempts.len) lb_buf_append(out, g->attempts.data, g->attempts.len);
            lb_buf_puts(out, "]}");
        }
        lb_buf_puts(out, "]}");
        lb_cockpit_respond(v->req, 200, out->data, out->len);
    }
    view_free(v);
}

void lb_event_view_start(lb_cockpit_t *c, lb_http_request_t *req, const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 64 || strchr(id, '/')) {
        lb_cockpit_error(req, LB_AWS_VALIDATION, "An event id is 1 to 64 characters long.");
        return;
    }
    view_t *v = lb_xcalloc(1, sizeof *v);
    v->req = req;
    v->id = lb_strdup(id);
    if (lb_reader_submit(c->env.reader, read_view, v, view_done, v)) {
        lb_cockpit_error(req, LB_AWS_SERVICE_UNAVAILABLE, "The daemon is stopping.");
        view_free(v);
    }
}
