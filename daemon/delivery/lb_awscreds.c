/* The AWS SDKs' credential chain on the loop. See lb_awscreds.h. */
#include "lb_awscreds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lb_util.h"

extern char **environ;

/* Temporary credentials are fetched again this long before they expire... */
#define REFRESH_BEFORE_MS (10 * 60 * 1000)
/* ...and no longer used this close to their expiry. */
#define USABLE_UNTIL_MS (60 * 1000)
/* After a fetch found nothing, the chain is tried again after this long. */
#define RETRY_AFTER_MS 10000
/* Metadata endpoints answer at once or not at all (off EC2, 169.254.169.254 does not exist). */
#define HTTP_TIMEOUT_MS 2000
#define PROCESS_TIMEOUT_MS 60000
#define PROCESS_MAX_OUTPUT (64 * 1024)
#define FILE_MAX (1024 * 1024)

enum { IMDS_TOKEN, IMDS_ROLE, IMDS_CREDENTIALS, CONTAINER };

struct lb_awscreds {
    lb_awscreds_env_t env;
    lb_aws_creds_t current;
    int have, fetching;
    int64_t failed_ms; /* when the last fetch found nothing (0: it did not) */
    char describe[512];
    /* credential_process */
    uv_process_t proc;
    uv_pipe_t out;
    uv_timer_t timer;
    lb_buf_t output;
    int proc_exited, proc_eof, proc_open;
    int64_t proc_status;
    /* HTTP fetches (container, instance metadata) */
    lb_http_call_t req;
    int step, http_inflight;
    char imds_base[512], imds_token[256], role[256];
    int handles_open, stopped, free_requested;
};

static const char *env_get(const lb_awscreds_t *p, const char *name)
{
    size_t n = strlen(name);
    for (char **e = p->env.envp ? p->env.envp : environ; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=') return *e + n + 1;
    return NULL;
}

static const char *env_or(const lb_awscreds_t *p, const char *name, const char *dflt)
{
    const char *v = env_get(p, name);
    return v && *v ? v : dflt;
}

/* ---- outcomes ---- */

static void succeed(lb_awscreds_t *p, lb_aws_creds_t *c, const char *source)
{
    lb_aws_creds_clear(&p->current);
    p->current = *c;
    memset(c, 0, sizeof *c);
    p->have = 1;
    p->fetching = 0;
    p->failed_ms = 0;
    snprintf(p->describe, sizeof p->describe, "%s", source);
    char until[32] = "never";
    if (p->current.expires_ms) lb_format_time_iso(p->current.expires_ms, until);
    lb_logf_info(p->env.log, "AWS credentials obtained", LB_LOG_STR("source", source),
                 LB_LOG_STR("expires", until));
}

static void give_up(lb_awscreds_t *p, const char *why)
{
    p->fetching = 0;
    p->failed_ms = lb_now_ms();
    snprintf(p->describe, sizeof p->describe, "no AWS credentials: %s", why);
    lb_logf_warn(p->env.log, "no AWS credentials for forwarding; will try again",
                 LB_LOG_STR("reason", why));
}

/* ---- shared files and credential_process ---- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    lb_buf_t b = {0};
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < FILE_MAX)
        lb_buf_append(&b, chunk, got);
    fclose(f);
    lb_buf_append(&b, "", 0);
    return lb_buf_steal(&b, len);
}

static void on_handle_closed(uv_handle_t *h)
{
    lb_awscreds_t *p = h->data;
    p->handles_open--;
    if (p->free_requested && p->handles_open == 0 && p->http_inflight == 0) free(p);
}

static void close_handle(lb_awscreds_t *p, uv_handle_t *h)
{
    if (uv_is_closing(h)) return;
    h->data = p;
    uv_close(h, on_handle_closed);
}

static void process_finished(lb_awscreds_t *p)
{
    if (!p->proc_open || !(p->proc_exited && p->proc_eof)) return;
    p->proc_open = 0;
    uv_timer_stop(&p->timer);
    close_handle(p, (uv_handle_t *)&p->proc);
    close_handle(p, (uv_handle_t *)&p->out);
    if (p->stopped) {
        lb_buf_free(&p->output);
        return;
    }
    lb_aws_creds_t c;
    char *why = NULL, msg[300];
    if (p->proc_status != 0) {
        snprintf(msg, sizeof msg, "credential_process exited with status %lld",
                 (long long)p->proc_status);
        give_up(p, msg);
    } else if (lb_aws_creds_from_json(p->output.data ? p->output.data : "", p->output.len, &c,
                                      &why)) {
        snprintf(msg, sizeof msg, "credential_process output: %s", why);
        give_up(p, msg);
    } else {
        succeed(p, &c, "credential_process");
    }
    free(why);
    if (p->output.data) memset(p->output.data, 0, p->output.len);
    lb_buf_free(&p->output);
}

static void on_process_exit(uv_process_t *proc, int64_t status, int signal)
{
    lb_awscreds_t *p = proc->data;
    p->proc_exited = 1;
    p->proc_status = signal ? 128 + signal : status;
    process_finished(p);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = lb_xmalloc(suggested);
    buf->len = suggested;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    lb_awscreds_t *p = s->data;
    if (n > 0 && p->output.len + (size_t)n <= PROCESS_MAX_OUTPUT)
        lb_buf_append(&p->output, buf->base, (size_t)n);
    if (buf->base) memset(buf->base, 0, buf->len);
    free(buf->base);
    if (n < 0) {
        uv_read_stop(s);
        p->proc_eof = 1;
        process_finished(p);
    }
}

static void on_process_timeout(uv_timer_t *t)
{
    lb_awscreds_t *p = t->data;
    if (p->proc_open && !p->proc_exited) uv_process_kill(&p->proc, SIGKILL);
}

static int run_process(lb_awscreds_t *p, const char *command)
{
    char *args[] = {"/bin/sh", "-c", (char *)command, NULL};
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE}, {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE}, {.flags = UV_IGNORE}};
    uv_pipe_init(p->env.loop, &p->out, 0);
    p->out.data = p;
    stdio[1].data.stream = (uv_stream_t *)&p->out;
    uv_process_options_t opts = {.exit_cb = on_process_exit,
                                 .file = args[0],
                                 .args = args,
                                 .stdio = stdio,
                                 .stdio_count = 3};
    p->proc.data = p;
    p->proc_exited = p->proc_eof = 0;
    p->handles_open += 2;
    int rc = uv_spawn(p->env.loop, &p->proc, &opts);
    if (rc) {
        close_handle(p, (uv_handle_t *)&p->out);
        close_handle(p, (uv_handle_t *)&p->proc);
        return rc;
    }
    p->proc_open = 1;
    uv_read_start((uv_stream_t *)&p->out, on_alloc, on_read);
    uv_timer_start(&p->timer, on_process_timeout, PROCESS_TIMEOUT_MS, 0);
    return 0;
}

/* Profile of the shared files: 1 when handled (credentials, a failure, or a process started). */
static int from_files(lb_awscreds_t *p)
{
    const char *home = env_or(p, "HOME", "");
    char cred_path[4200], conf_path[4200];
    snprintf(cred_path, sizeof cred_path, "%s/.aws/credentials", home);
    snprintf(conf_path, sizeof conf_path, "%s/.aws/config", home);
    const char *profile = env_or(p, "AWS_PROFILE", "default");
    size_t cl = 0, fl = 0;
    char *cred = read_file(env_or(p, "AWS_SHARED_CREDENTIALS_FILE", cred_path), &cl);
    char *conf = read_file(env_or(p, "AWS_CONFIG_FILE", conf_path), &fl);
    lb_aws_profile_t prof;
    int rc = lb_aws_profile_read(cred, cl, conf, fl, profile, &prof);
    if (cred) memset(cred, 0, cl);
    if (conf) memset(conf, 0, fl);
    free(cred);
    free(conf);
    int handled = 0;
    char source[300];
    if (rc == 0 && prof.keys.access_key_id) {
        snprintf(source, sizeof source, "profile %s (%s)", profile, prof.from);
        succeed(p, &prof.keys, source);
        handled = 1;
    } else if (rc == 0 && prof.credential_process) {
        if (run_process(p, prof.credential_process)) give_up(p, "credential_process did not start");
        handled = 1;
    }
    lb_aws_profile_clear(&prof);
    return handled;
}

/* ---- container and instance metadata ---- */

static void http_step(lb_awscreds_t *p, int step);

static void on_http(void *ctx, const lb_http_result_t *r)
{
    lb_awscreds_t *p = ctx;
    p->http_inflight--;
    int step = p->step;
    lb_http_call_clear(&p->req);
    if (p->stopped || r->aborted) {
        if (p->free_requested && p->handles_open == 0 && p->http_inflight == 0) free(p);
        return;
    }
    char msg[300];
    if (!r->answered || r->status != 200) {
        snprintf(msg, sizeof msg, "%s answered %s %ld",
                 step == CONTAINER ? "the container credentials endpoint"
                                   : "the instance metadata service",
                 r->answered ? "HTTP" : "nothing:", r->answered ? r->status : 0L);
        give_up(p, msg);
        return;
    }
    if (step == IMDS_TOKEN) {
        snprintf(p->imds_token, sizeof p->imds_token, "%.*s", (int)strcspn(r->body, "\r\n"),
                 r->body);
        http_step(p, IMDS_ROLE);
    } else if (step == IMDS_ROLE) {
        snprintf(p->role, sizeof p->role, "%.*s", (int)strcspn(r->body, "\r\n"), r->body);
        if (!p->role[0])
            give_up(p, "the instance has no IAM role");
        else
            http_step(p, IMDS_CREDENTIALS);
    } else {
        lb_aws_creds_t c;
        char *why = NULL;
        if (lb_aws_creds_from_json(r->body, r->body_len, &c, &why)) {
            give_up(p, why);
        } else {
            succeed(p, &c, step == CONTAINER ? "container credentials" : "instance metadata");
        }
        free(why);
        memset((char *)r->body, 0, r->body_len);
    }
    memset(p->imds_token, 0, step == IMDS_CREDENTIALS ? sizeof p->imds_token : 0);
}

static void add_header(lb_http_call_t *c, const char *name, const char *value)
{
    size_t n = 0;
    while (c->headers && c->headers[n])
        n++;
    c->headers = lb_xrealloc(c->headers, (n + 2) * sizeof *c->headers);
    lb_buf_t h = {0};
    lb_buf_printf(&h, "%s: %s", name, value);
    c->headers[n] = lb_buf_steal(&h, NULL);
    c->headers[n + 1] = NULL;
}

static void http_step(lb_awscreds_t *p, int step)
{
    lb_buf_t url = {0};
    memset(&p->req, 0, sizeof p->req);
    p->step = step;
    p->req.response_max = 16 * 1024;
    if (step == CONTAINER) {
        const char *rel = env_get(p, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
        if (rel && *rel)
            lb_buf_printf(&url, "http://169.254.170.2%s", rel);
        else
            lb_buf_puts(&url, env_get(p, "AWS_CONTAINER_CREDENTIALS_FULL_URI"));
        p->req.method = lb_strdup("GET");
        const char *file = env_get(p, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
        size_t len = 0;
        char *token = file && *file ? read_file(file, &len) : NULL;
        if (token) token[strcspn(token, "\r\n")] = '\0';
        const char *plain = env_get(p, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
        if (token || (plain && *plain)) add_header(&p->req, "Authorization", token ? token : plain);
        if (token) memset(token, 0, len);
        free(token);
    } else if (step == IMDS_TOKEN) {
        lb_buf_printf(&url, "%s/latest/api/token", p->imds_base);
        p->req.method = lb_strdup("PUT");
        add_header(&p->req, "X-aws-ec2-metadata-token-ttl-seconds", "21600");
        p->req.body = lb_strdup("");
    } else {
        lb_buf_printf(&url, "%s/latest/meta-data/iam/security-credentials/%s", p->imds_base,
                      step == IMDS_CREDENTIALS ? p->role : "");
        p->req.method = lb_strdup("GET");
        add_header(&p->req, "X-aws-ec2-metadata-token", p->imds_token);
    }
    p->req.url = lb_buf_steal(&url, NULL);
    if (lb_transport_send(p->env.transport, &p->req, HTTP_TIMEOUT_MS, on_http, p)) {
        lb_http_call_clear(&p->req);
        give_up(p, "the metadata request could not be started");
        return;
    }
    p->http_inflight++;
}

static int from_container(lb_awscreds_t *p)
{
    const char *rel = env_get(p, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = env_get(p, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
    if (!(rel && *rel) && !(full && *full)) return 0;
    http_step(p, CONTAINER);
    return 1;
}

static int from_instance_metadata(lb_awscreds_t *p)
{
    const char *off = env_get(p, "AWS_EC2_METADATA_DISABLED");
    if (off && strcasecmp(off, "true") == 0) return 0;
    snprintf(p->imds_base, sizeof p->imds_base, "%s",
             env_or(p, "AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://169.254.169.254"));
    size_t l = strlen(p->imds_base);
    while (l && p->imds_base[l - 1] == '/')
        p->imds_base[--l] = '\0';
    http_step(p, IMDS_TOKEN);
    return 1;
}

/* ---- the chain ---- */

static void fetch(lb_awscreds_t *p)
{
    p->fetching = 1;
    const char *id = env_get(p, "AWS_ACCESS_KEY_ID"), *secret = env_get(p, "AWS_SECRET_ACCESS_KEY");
    if (id && *id && secret && *secret) {
        const char *token = env_get(p, "AWS_SESSION_TOKEN");
        lb_aws_creds_t c = {.access_key_id = lb_strdup(id),
                            .secret_access_key = lb_strdup(secret),
                            .session_token = token && *token ? lb_strdup(token) : NULL};
        succeed(p, &c, "environment");
        return;
    }
    if (from_files(p) || from_container(p) || from_instance_metadata(p)) return;
    give_up(p, "none in the environment, the shared config files or a container endpoint, and "
               "instance metadata is disabled");
}

int lb_awscreds_get(lb_awscreds_t *p, int64_t now_ms, const lb_aws_creds_t **out)
{
    if (p->stopped) return -EAGAIN;
    int64_t exp = p->current.expires_ms;
    int fresh = p->have && (exp == 0 || now_ms < exp - REFRESH_BEFORE_MS);
    int usable = p->have && (exp == 0 || now_ms < exp - USABLE_UNTIL_MS);
    if (!fresh && !p->fetching && (!p->failed_ms || now_ms - p->failed_ms >= RETRY_AFTER_MS))
        fetch(p);
    /* fetch may have finished at once (environment, static keys). */
    exp = p->current.expires_ms;
    usable = usable || (p->have && (exp == 0 || now_ms < exp - USABLE_UNTIL_MS));
    if (usable) {
        *out = &p->current;
        return 0;
    }
    return p->fetching ? -EAGAIN : -ENOENT;
}

void lb_awscreds_invalidate(lb_awscreds_t *p)
{
    if (!p->have) return;
    p->have = 0;
    lb_aws_creds_clear(&p->current);
    p->failed_ms = 0;
}

const char *lb_awscreds_describe(const lb_awscreds_t *p)
{
    return p->describe[0] ? p->describe : "not fetched yet";
}

int lb_awscreds_new(const lb_awscreds_env_t *env, lb_awscreds_t **out)
{
    lb_awscreds_t *p = lb_xcalloc(1, sizeof *p);
    p->env = *env;
    uv_timer_init(env->loop, &p->timer);
    p->timer.data = p;
    p->handles_open = 1;
    *out = p;
    return 0;
}

void lb_awscreds_stop(lb_awscreds_t *p)
{
    if (p->stopped) return;
    p->stopped = 1;
    if (p->proc_open && !p->proc_exited) uv_process_kill(&p->proc, SIGKILL);
    uv_timer_stop(&p->timer);
    close_handle(p, (uv_handle_t *)&p->timer);
    lb_aws_creds_clear(&p->current);
    p->have = 0;
}

void lb_awscreds_free(lb_awscreds_t **pp)
{
    lb_awscreds_t *p = *pp;
    if (!p) return;
    *pp = NULL;
    lb_awscreds_stop(p);
    p->free_requested = 1;
    if (p->handles_open == 0 && p->http_inflight == 0) free(p);
}
