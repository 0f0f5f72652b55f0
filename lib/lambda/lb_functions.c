#include "lb_functions.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_json.h"
#include "lb_util.h"

/* A handful of functions per project: a plain array in name order is enough. */
struct lb_functions {
    lb_function_t *v;
    size_t n;
};

void lb_functions_new(lb_functions_t **out)
{
    *out = lb_xcalloc(1, sizeof **out);
}

static void strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

void lb_function_clear(lb_function_t *f)
{
    free(f->name);
    strv_free(f->argv);
    strv_free(f->env);
    free(f->on_failure);
    free(f->spec);
    memset(f, 0, sizeof *f);
}

void lb_functions_free(lb_functions_t **rp)
{
    lb_functions_t *r = *rp;
    if (!r) return;
    for (size_t i = 0; i < r->n; i++)
        lb_function_clear(&r->v[i]);
    free(r->v);
    free(r);
    *rp = NULL;
}

int lb_function_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > LB_FUNCTION_NAME_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

/* A whole number in [lo, hi] at key, or -1 when absent; LB_EINVALID otherwise. */
static int whole(const lb_json_t *obj, const char *key, int64_t lo, int64_t hi, int64_t *out,
                 char *msg, size_t n)
{
    const lb_json_t *v = lb_json_get(obj, key);
    *out = -1;
    if (!v || lb_json_is(v, LB_JSON_NULL)) return 0;
    if (lb_json_is(v, LB_JSON_NUMBER) && v->num == (double)(int64_t)v->num && v->num >= lo &&
        v->num <= hi) {
        *out = (int64_t)v->num;
        return 0;
    }
    snprintf(msg, n, "%s must be a whole number from %lld to %lld.", key, (long long)lo,
             (long long)hi);
    return LB_EINVALID;
}

static int read_command(const lb_json_t *cmd, lb_function_t *f, char *msg, size_t n)
{
    if (!lb_json_is(cmd, LB_JSON_ARRAY) || cmd->n_children == 0 || cmd->n_children > 256) {
        snprintf(msg, n,
                 "command must be a non-empty array of strings (the program and its "
                 "arguments; no shell).");
        return LB_EINVALID;
    }
    f->argv = lb_xcalloc(cmd->n_children + 1, sizeof *f->argv);
    size_t i = 0;
    lb_json_each(w, cmd)
    {
        if (!lb_json_is(w, LB_JSON_STRING) || lb_json_has_nul(w->str, w->len) ||
            (i == 0 && !w->len)) {
            snprintf(msg, n, "command[%zu] must be a string without NUL characters.", i);
            return LB_EINVALID;
        }
        f->argv[i++] = lb_strdup(w->str);
    }
    return 0;
}

static int read_environment(const lb_json_t *env, lb_function_t *f, char *msg, size_t n)
{
    if (env && !lb_json_is(env, LB_JSON_OBJECT) && !lb_json_is(env, LB_JSON_NULL)) {
        snprintf(msg, n, "environment must be an object of string values.");
        return LB_EINVALID;
    }
    size_t count = lb_json_is(env, LB_JSON_OBJECT) ? env->n_children : 0, i = 0;
    f->env = lb_xcalloc(count + 1, sizeof *f->env);
    if (!count) return 0;
    lb_json_each(v, env)
    {
        if (!lb_json_is(v, LB_JSON_STRING) || !v->key_len || memchr(v->key, '=', v->key_len) ||
            lb_json_has_nul(v->key, v->key_len) || lb_json_has_nul(v->str, v->len)) {
            snprintf(msg, n, "environment: each member must be NAME (no '=') with a string value.");
            return LB_EINVALID;
        }
        lb_buf_t b = {0};
        lb_buf_printf(&b, "%.*s=%s", (int)v->key_len, v->key, v->str);
        f->env[i++] = lb_buf_steal(&b, NULL);
    }
    return 0;
}

int lb_function_parse(const char *name, const lb_json_t *root, int64_t now_ms, lb_function_t *out,
                      char *msg, size_t n)
{
    memset(out, 0, sizeof *out);
    if (!lb_function_name_valid(name)) {
        snprintf(msg, n,
                 "1 validation error detected: Value '%.80s' at 'functionName' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9-_]{1,64}",
                 name);
        return LB_EINVALID;
    }
    if (!lb_json_is(root, LB_JSON_OBJECT)) {
        snprintf(msg, n, "The function definition must be a JSON object.");
        return LB_EINVALID;
    }
    out->name = lb_strdup(name);
    out->updated_ms = now_ms;
    int64_t timeout, retries, age, conc;
    int rc = read_command(lb_json_get(root, "command"), out, msg, n);
    if (!rc) rc = read_environment(lb_json_get(root, "environment"), out, msg, n);
    if (!rc) rc = whole(root, "timeout", 1, 900, &timeout, msg, n);
    if (!rc) rc = whole(root, "maximum_retry_attempts", 0, 2, &retries, msg, n);
    if (!rc) rc = whole(root, "maximum_event_age_seconds", 60, 21600, &age, msg, n);
    if (!rc) rc = whole(root, "reserved_concurrency", 0, 1000, &conc, msg, n);
    const lb_json_t *dest = lb_json_get(root, "on_failure_arn");
    if (!rc && dest && !lb_json_is(dest, LB_JSON_NULL)) {
        if (!lb_json_is(dest, LB_JSON_STRING) || strncmp(dest->str, "arn:", 4) != 0 ||
            lb_json_has_nul(dest->str, dest->len) || dest->len > 1600) {
            snprintf(msg, n, "on_failure_arn must be an ARN (an SQS queue or an event bus).");
            rc = LB_EINVALID;
        } else {
            out->on_failure = lb_strdup(dest->str);
        }
    }
    if (rc) {
        lb_function_clear(out);
        return rc;
    }
    out->timeout_ms = timeout < 0 ? -1 : timeout * 1000;
    out->retries = (int)retries;
    out->max_age_s = (int)age;
    out->concurrency = (int)conc;
    out->spec = lb_json_print(root, NULL);
    return 0;
}

static size_t lower_bound(const lb_functions_t *r, const char *name)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(r->v[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const lb_function_t *lb_functions_find(const lb_functions_t *r, const char *name)
{
    size_t i = lower_bound(r, name);
    return i < r->n && strcmp(r->v[i].name, name) == 0 ? &r->v[i] : NULL;
}

size_t lb_functions_count(const lb_functions_t *r)
{
    return r->n;
}

const lb_function_t *lb_functions_at(const lb_functions_t *r, size_t i)
{
    return i < r->n ? &r->v[i] : NULL;
}

void lb_functions_put(lb_functions_t *r, lb_function_t *f)
{
    size_t i = lower_bound(r, f->name);
    if (i < r->n && strcmp(r->v[i].name, f->name) == 0) {
        lb_function_clear(&r->v[i]);
    } else {
        r->v = lb_xrealloc(r->v, (r->n + 1) * sizeof *r->v);
        memmove(&r->v[i + 1], &r->v[i], (r->n - i) * sizeof *r->v);
        r->n++;
    }
    r->v[i] = *f;
    memset(f, 0, sizeof *f);
}

int lb_functions_remove(lb_functions_t *r, const char *name)
{
    size_t i = lower_bound(r, name);
    if (i >= r->n || strcmp(r->v[i].name, name) != 0) return LB_ENOTFOUND;
    lb_function_clear(&r->v[i]);
    memmove(&r->v[i], &r->v[i + 1], (r->n - i - 1) * sizeof *r->v);
    r->n--;
    return 0;
}

int lb_functions_store_put(lb_store_t *s, const lb_function_t *f)
{
    sqlite3_stmt *st = lb_store_prepare(s, "INSERT OR REPLACE INTO lambda_functions (name, spec,"
                                           " updated_ms) VALUES (?1, ?2, ?3)");
    if (st) {
        lb_store_bind_text(st, 1, f->name);
        lb_store_bind_text(st, 2, f->spec);
        sqlite3_bind_int64(st, 3, f->updated_ms);
    }
    return lb_store_step_done(st);
}

int lb_functions_store_delete(lb_store_t *s, const char *name)
{
    sqlite3_stmt *st = lb_store_prepare(s, "DELETE FROM lambda_functions WHERE name = ?1");
    if (st) lb_store_bind_text(st, 1, name);
    return lb_store_step_done(st);
}

int lb_functions_load(lb_functions_t *r, lb_store_t *s, size_t *skipped)
{
    sqlite3_stmt *st = lb_store_prepare(s, "SELECT name, spec, updated_ms FROM lambda_functions");
    if (!st) return LB_ESTORE;
    int rc;
    char msg[300];
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        const char *spec = (const char *)sqlite3_column_text(st, 1);
        lb_function_t f;
        lb_json_doc_t *doc = NULL;
        if (!name || !spec ||
            lb_json_parse(spec, strlen(spec), LB_JSON_REQUEST_MAX_DEPTH, &doc, NULL) ||
            lb_function_parse(name, lb_json_doc_root(doc), sqlite3_column_int64(st, 2), &f, msg,
                              sizeof msg)) {
            lb_json_doc_free(&doc);
            if (skipped) (*skipped)++;
            continue;
        }
        lb_json_doc_free(&doc);
        lb_functions_put(r, &f);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : LB_ESTORE;
}
