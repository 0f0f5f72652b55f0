#include "lb_lambda_proc.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "lb_util.h"

/* A log line longer than this is logged in pieces. */
#define LINE_MAX_BYTES 16384

typedef struct {
    lb_proc_t *owner; /* first: see on_closed */
    uv_pipe_t pipe;
    const char *name; /* "stdout" / "stderr" */
    lb_buf_t line;
} stream_t;

struct lb_proc {
    lb_proc_t *self; /* first, like stream_t's owner: every handle's data leads here */
    uv_process_t proc;
    uv_pipe_t in;
    stream_t out, err;
    uv_timer_t timer;
    uv_write_t write;
    uv_buf_t input;
    char *input_copy;
    lb_proc_done_fn done;
    void *ctx;
    const lb_log_t *log;
    char function[80], request_id[40];
    int open;    /* handles not yet closed */
    int spawned; /* the process exists (its group may need killing) */
    int exited;
    lb_proc_result_t result;
    lb_buf_t out_all;
    int64_t started_ms;
};

static void finish(lb_proc_t *p)
{
    p->result.out = p->out_all.data ? p->out_all.data : "";
    p->result.out_len = p->out_all.len;
    p->result.duration_ms = lb_now_ms() - p->started_ms;
    if (p->done) p->done(p->ctx, &p->result);
    lb_buf_free(&p->out_all);
    lb_buf_free(&p->out.line);
    lb_buf_free(&p->err.line);
    free(p->input_copy);
    free(p);
}

static void on_closed(uv_handle_t *h)
{
    lb_proc_t *p = *(lb_proc_t **)h->data;
    if (--p->open == 0) finish(p);
}

static void close_handle(lb_proc_t *p, uv_handle_t *h)
{
    (void)p;
    if (!uv_is_closing(h)) uv_close(h, on_closed);
}

static void kill_group(lb_proc_t *p)
{
    /* Detached: the run leads its own process group, so its children go with it. */
    if (p->spawned && p->proc.pid > 0) kill(-p->proc.pid, SIGKILL);
}

static void log_line(lb_proc_t *p, const stream_t *s, const char *text, size_t len)
{
    if (!p->done || !p->log) return; /* aborted: the log may be gone */
    if (len && text[len - 1] == '\r') len--;
    char *line = lb_xmalloc(len + 1);
    memcpy(line, text, len);
    line[len] = '\0';
    lb_logf_info(p->log, "function output", LB_LOG_STR("function", p->function),
                 LB_LOG_STR("request_id", p->request_id), LB_LOG_STR("stream", s->name),
                 LB_LOG_STR("line", line));
    free(line);
}

static void flush_lines(lb_proc_t *p, stream_t *s, int all)
{
    if (!s->line.len) return; /* nothing read (and maybe nothing allocated) */
    size_t start = 0;
    for (size_t i = 0; i < s->line.len; i++) {
        if (s->line.data[i] == '\n' || i - start >= LINE_MAX_BYTES) {
            log_line(p, s, s->line.data + start, i - start);
            start = s->line.data[i] == '\n' ? i + 1 : i;
        }
    }
    if (all && start < s->line.len) {
        log_line(p, s, s->line.data + start, s->line.len - start);
        start = s->line.len;
    }
    memmove(s->line.data, s->line.data + start, s->line.len - start);
    s->line.len -= start;
    s->line.data[s->line.len] = '\0';
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)h;
    (void)hint;
    buf->base = lb_xmalloc(65536);
    buf->len = 65536;
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    stream_t *s = st->data;
    lb_proc_t *p = s->owner;
    if (n > 0) {
        lb_buf_append(&s->line, buf->base, (size_t)n);
        if (s == &p->out && p->out_all.len < LB_PROC_STDOUT_MAX) {
            size_t room = LB_PROC_STDOUT_MAX - p->out_all.len;
            lb_buf_append(&p->out_all, buf->base, (size_t)n < room ? (size_t)n : room);
        }
        flush_lines(p, s, 0);
    }
    free(buf->base);
    if (n < 0) {
        flush_lines(p, s, 1);
        uv_read_stop(st);
        close_handle(p, (uv_handle_t *)st);
    }
}

static void on_exit_cb(uv_process_t *proc, int64_t status, int signal)
{
    lb_proc_t *p = proc->data;
    p->exited = 1;
    p->result.exit_status = status;
    p->result.term_signal = signal;
    /* What the handler started goes too, so nothing keeps its pipes open. */
    kill_group(p);
    uv_timer_stop(&p->timer);
    close_handle(p, (uv_handle_t *)&p->timer);
    close_handle(p, (uv_handle_t *)proc);
}

static void on_timeout(uv_timer_t *t)
{
    lb_proc_t *p = t->data;
    p->result.timed_out = 1;
    kill_group(p);
}

static void on_written(uv_write_t *w, int status)
{
    (void)status; /* a handler that does not read its event is its own business */
    lb_proc_t *p = w->data;
    close_handle(p, (uv_handle_t *)&p->in);
}

void lb_proc_start(uv_loop_t *loop, const lb_proc_spec_t *spec, lb_proc_done_fn done, void *ctx,
                   lb_proc_t **out)
{
    lb_proc_t *p = lb_xcalloc(1, sizeof *p);
    p->self = p;
    p->done = done;
    p->ctx = ctx;
    p->log = spec->log;
    p->started_ms = lb_now_ms();
    snprintf(p->function, sizeof p->function, "%s", spec->function);
    snprintf(p->request_id, sizeof p->request_id, "%s", spec->request_id);
    p->out = (stream_t){.owner = p, .name = "stdout"};
    p->err = (stream_t){.owner = p, .name = "stderr"};
    uv_pipe_init(loop, &p->in, 0);
    uv_pipe_init(loop, &p->out.pipe, 0);
    uv_pipe_init(loop, &p->err.pipe, 0);
    uv_timer_init(loop, &p->timer);
    p->in.data = p->timer.data = p->proc.data = p->write.data = p;
    p->out.pipe.data = &p->out;
    p->err.pipe.data = &p->err;
    p->open = 5;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_CREATE_PIPE | UV_READABLE_PIPE, .data.stream = (uv_stream_t *)&p->in},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&p->out.pipe},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&p->err.pipe},
    };
    uv_process_options_t opts = {.exit_cb = on_exit_cb,
                                 .file = spec->argv[0],
                                 .args = (char **)spec->argv,
                                 .env = (char **)spec->env,
                                 .flags = UV_PROCESS_DETACHED,
                                 .stdio_count = 3,
                                 .stdio = stdio};
    int rc = uv_spawn(loop, &p->proc, &opts);
    *out = p;
    if (rc) {
        /* Nothing ran; every handle closes and done reports it from the close callbacks. */
        p->result.spawn_error = rc;
        close_handle(p, (uv_handle_t *)&p->proc);
        close_handle(p, (uv_handle_t *)&p->in);
        close_handle(p, (uv_handle_t *)&p->out.pipe);
        close_handle(p, (uv_handle_t *)&p->err.pipe);
        close_handle(p, (uv_handle_t *)&p->timer);
        return;
    }
    p->spawned = 1;
    uv_timer_start(&p->timer, on_timeout, (uint64_t)spec->timeout_ms, 0);
    uv_read_start((uv_stream_t *)&p->out.pipe, on_alloc, on_read);
    uv_read_start((uv_stream_t *)&p->err.pipe, on_alloc, on_read);
    p->input_copy = lb_xmalloc(spec->input_len + 1);
    memcpy(p->input_copy, spec->input, spec->input_len);
    p->input = uv_buf_init(p->input_copy, (unsigned)spec->input_len);
    if (uv_write(&p->write, (uv_stream_t *)&p->in, &p->input, 1, on_written))
        close_handle(p, (uv_handle_t *)&p->in);
}

void lb_proc_abort(lb_proc_t *p)
{
    if (!p->done) return;
    p->result.aborted = 1;
    lb_proc_done_fn done = p->done;
    p->done = NULL;
    lb_proc_result_t r = p->result;
    done(p->ctx, &r);
    kill_group(p);
    uv_timer_stop(&p->timer);
    close_handle(p, (uv_handle_t *)&p->timer);
    close_handle(p, (uv_handle_t *)&p->in);
    if (!p->exited) close_handle(p, (uv_handle_t *)&p->proc);
}
