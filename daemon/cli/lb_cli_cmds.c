/* status, events, event ID, test-pattern. */
#include <stdlib.h>
#include <string.h>

#include "lb_cli_internal.h"

static int get(cli_t *c, const char *path, cli_answer_t *a)
{
    int rc = cli_call(c, "GET", path, NULL, NULL, a);
    if (rc) return rc;
    return cli_check(c, a);
}

static void print_json_line(const cli_answer_t *a)
{
    printf("%.*s\n", (int)a->body.len, a->body.data ? a->body.data : "");
}

static void print_duration(double s)
{
    if (s < 60)
        printf("%.1fs", s);
    else if (s < 3600)
        printf("%dm %02ds", (int)s / 60, (int)s % 60);
    else
        printf("%dh %02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

int cli_cmd_status(cli_t *c)
{
    int rc = cli_leftover(c, "status");
    if (rc) return rc;
    cli_answer_t a;
    if ((rc = get(c, "/_localbridge/status", &a))) {
        cli_answer_free(&a);
        return rc;
    }
    const lb_json_t *r = cli_root(&a);
    if (c->json) {
        print_json_line(&a);
        cli_answer_free(&a);
        return 0;
    }
    printf("%sLocalBridge %s%s at %s, up ", cli_sgr(c, CLI_BOLD), cli_str(r, "version", "?"),
           cli_sgr(c, CLI_RESET), c->endpoint);
    print_duration((double)lb_json_get_int(r, "uptime_seconds", 0));
    printf("\n\n%sBuses%s\n", cli_sgr(c, CLI_BOLD), cli_sgr(c, CLI_RESET));
    lb_json_each(b, lb_json_get(r, "buses"))
    {
        printf("  %-32s %-14s %3lld rules  %3lld archives\n", cli_str(b, "name", "?"),
               cli_str(b, "region", ""), (long long)lb_json_get_int(b, "rules", 0),
               (long long)lb_json_get_int(b, "archives", 0));
    }
    const lb_json_t *age = lb_json_get(r, "oldest_pending_age_seconds");
    long long dead = (long long)lb_json_get_int(r, "dead_letters", 0);
    printf("\n  rules               %lld\n", (long long)lb_json_get_int(r, "rules", 0));
    printf("  pending deliveries  %lld (in flight %lld, oldest ",
           (long long)lb_json_get_int(r, "pending_deliveries", 0),
           (long long)lb_json_get_int(r, "inflight", 0));
    print_duration(age ? age->num : 0);
    printf(")\n  dead letters        %s%lld%s\n", cli_sgr(c, dead ? CLI_RED : CLI_GREEN), dead,
           cli_sgr(c, CLI_RESET));
    printf("  replays running     %lld\n", (long long)lb_json_get_int(r, "replays_running", 0));
    cli_answer_free(&a);
    return 0;
}

/* A time given as ISO 8601 or as an age ("10m", "2h", "30s"), in ms since the epoch; -1 if
 * neither. */
static int64_t parse_since(const char *v)
{
    int64_t ms;
    if (lb_parse_time_iso(v, &ms) == 0) return ms;
    char *end;
    double n = strtod(v, &end);
    if (end == v || n < 0) return -1;
    double unit = strcmp(end, "s") == 0   ? 1e3
                  : strcmp(end, "m") == 0 ? 6e4
                  : strcmp(end, "h") == 0 ? 3.6e6
                  : strcmp(end, "d") == 0 ? 8.64e7
                                          : -1;
    if (unit < 0) return -1;
    return lb_now_ms() - (int64_t)(n * unit);
}

int cli_cmd_events(cli_t *c)
{
    const char *bus = cli_opt(c, "--bus"), *source = cli_opt(c, "--source");
    const char *since = cli_opt(c, "--since"), *limit_s = cli_opt(c, "--limit");
    int rc = cli_leftover(c, "events");
    if (rc) return rc;
    long limit = limit_s ? strtol(limit_s, NULL, 10) : 20;
    int64_t since_ms = since ? parse_since(since) : 0;
    if (limit < 1 || limit > 10000 || since_ms < 0) {
        fprintf(stderr, "localbridge events: --limit is 1..10000; --since is ISO 8601 or an age "
                        "such as 10m\n");
        return LB_CLI_EXIT_USAGE;
    }
    /* The daemon filters; the checks below keep the output right against an older daemon. */
    lb_buf_t out = {0};
    long shown = 0;
    char *token = NULL;
    int done = 0;
    lb_buf_puts(&out, "{\"Events\":[");
    while (!done && shown < limit) {
        lb_buf_t path = {0};
        lb_buf_puts(&path, "/_localbridge/events?limit=100");
        if (bus) {
            lb_buf_puts(&path, "&bus=");
            cli_urlencode(&path, bus);
        }
        if (source) {
            lb_buf_puts(&path, "&source=");
            cli_urlencode(&path, source);
        }
        if (since) {
            char iso[32];
            lb_format_time_iso(since_ms, iso);
            lb_buf_printf(&path, "&since=%s", iso);
        }
        if (token) lb_buf_puts(&path, "&next_token="), cli_urlencode(&path, token);
        cli_answer_t a;
        rc = get(c, path.data, &a);
        lb_buf_free(&path);
        if (rc) {
            cli_answer_free(&a);
            free(token);
            lb_buf_free(&out);
            return rc;
        }
        const lb_json_t *r = cli_root(&a);
        lb_json_each(ev, lb_json_get(r, "Events"))
        {
            int64_t t = 0;
            lb_parse_time_iso(cli_str(ev, "time", ""), &t);
            if (since && t < since_ms / 1000 * 1000) {
                done = 1; /* newest first: everything after is older */
                break;
            }
            if (source && strcmp(cli_str(ev, "source", ""), source) != 0) continue;
            if (shown >= limit) break;
            if (c->json) {
                if (shown) lb_buf_puts(&out, ",");
                lb_buf_append(&out, a.body.data + ev->src_off, ev->src_len);
            } else {
                printf("%s%s%s  %s  %-12s %-24s %s\n", cli_sgr(c, CLI_DIM),
                       cli_str(ev, "time", "?"), cli_sgr(c, CLI_RESET), cli_str(ev, "id", "?"),
                       bus ? bus : "", cli_str(ev, "source", "?"), cli_str(ev, "detail-type", "?"));
            }
            shown++;
        }
        free(token);
        token = lb_strdup(cli_str(r, "NextToken", NULL));
        if (!token) done = 1;
        cli_answer_free(&a);
    }
    free(token);
    lb_buf_puts(&out, "]}");
    if (c->json) printf("%s\n", out.data);
    lb_buf_free(&out);
    return 0;
}

static void print_delivery(const cli_t *c, const lb_json_t *d)
{
    const char *status = cli_str(d, "status", "?");
    printf("  %s %s -> %s  ", strcmp(status, "SUCCEEDED") == 0 ? "+" : "!", cli_str(d, "rule", "?"),
           cli_str(d, "target_id", "?"));
    cli_print_status(c, status);
    printf("\n    %s%s%s\n", cli_sgr(c, CLI_DIM), cli_str(d, "target_arn", ""),
           cli_sgr(c, CLI_RESET));
    lb_json_each(at, lb_json_get(d, "attempts"))
    {
        const lb_json_t *hs = lb_json_get(at, "http_status");
        printf("    #%lld %s  ", (long long)lb_json_get_int(at, "attempt", 0),
               cli_str(at, "at", "?"));
        cli_print_status(c, cli_str(at, "status", "?"));
        if (lb_json_is(hs, LB_JSON_NUMBER)) printf("  HTTP %s", hs->str);
        printf("  %lld ms", (long long)lb_json_get_int(at, "latency_ms", 0));
        const char *err = cli_str(at, "error", NULL);
        if (err) printf("\n       %s%s%s", cli_sgr(c, CLI_RED), err, cli_sgr(c, CLI_RESET));
        printf("\n");
    }
}

int cli_cmd_event(cli_t *c)
{
    const char *id = cli_arg(c);
    int rc = cli_leftover(c, "event");
    if (rc) return rc;
    if (!id) {
        fprintf(stderr, "localbridge event: an event id is required\n");
        return LB_CLI_EXIT_USAGE;
    }
    lb_buf_t path = {0};
    lb_buf_puts(&path, "/_localbridge/events/");
    cli_urlencode(&path, id);
    cli_answer_t a;
    rc = get(c, path.data, &a);
    lb_buf_free(&path);
    if (rc) {
        cli_answer_free(&a);
        return rc;
    }
    const lb_json_t *r = cli_root(&a), *ev = lb_json_get(r, "event");
    if (c->json) {
        print_json_line(&a);
        cli_answer_free(&a);
        return 0;
    }
    printf("%sEvent %s%s\n", cli_sgr(c, CLI_BOLD), id, cli_sgr(c, CLI_RESET));
    printf("  bus %s (%s), received %s\n", cli_str(r, "bus", "?"), cli_str(r, "region", "?"),
           cli_str(r, "received", "?"));
    printf("  source %s, detail-type %s, time %s\n", cli_str(ev, "source", "?"),
           cli_str(ev, "detail-type", "?"), cli_str(ev, "time", "?"));
    if (ev) printf("  %.*s\n", (int)ev->src_len, a.body.data + ev->src_off);
    const lb_json_t *ds = lb_json_get(r, "deliveries");
    printf("\n%sDeliveries%s", cli_sgr(c, CLI_BOLD), cli_sgr(c, CLI_RESET));
    if (!ds || !ds->n_children) printf(": none (no rule matched)");
    printf("\n");
    lb_json_each(d, ds) print_delivery(c, d);
    cli_answer_free(&a);
    return 0;
}

int cli_cmd_test_pattern(cli_t *c)
{
    const char *rule = cli_opt(c, "--rule"), *event_id = cli_opt(c, "--event");
    const char *bus = cli_opt(c, "--bus");
    lb_buf_t body = {0};
    int rc = 0;
    if (rule || event_id) {
        if (!rule || !event_id) {
            fprintf(stderr, "localbridge test-pattern: --rule and --event go together\n");
            return LB_CLI_EXIT_USAGE;
        }
        if ((rc = cli_leftover(c, "test-pattern"))) return rc;
        lb_buf_puts(&body, "{\"RuleName\":");
        lb_buf_json_string(&body, rule, strlen(rule));
        lb_buf_puts(&body, ",\"EventId\":");
        lb_buf_json_string(&body, event_id, strlen(event_id));
        if (bus) {
            lb_buf_puts(&body, ",\"EventBusName\":");
            lb_buf_json_string(&body, bus, strlen(bus));
        }
        lb_buf_puts(&body, "}");
    } else {
        const char *p = cli_arg(c), *e = cli_arg(c);
        if ((rc = cli_leftover(c, "test-pattern"))) return rc;
        if (!p || !e) {
            fprintf(stderr, "localbridge test-pattern: PATTERN and EVENT are required (JSON, or "
                            "@FILE)\n");
            return LB_CLI_EXIT_USAGE;
        }
        char *pt = cli_text_arg(p), *et = pt ? cli_text_arg(e) : NULL;
        if (!pt || !et) {
            free(pt);
            return LB_CLI_EXIT_USAGE;
        }
        lb_buf_puts(&body, "{\"EventPattern\":");
        lb_buf_json_string(&body, pt, strlen(pt));
        lb_buf_puts(&body, ",\"Event\":");
        lb_buf_json_string(&body, et, strlen(et));
        lb_buf_puts(&body, "}");
        free(pt);
        free(et);
    }
    cli_answer_t a;
    rc = cli_call(c, "POST", "/_localbridge/test-event-pattern", NULL, body.data, &a);
    lb_buf_free(&body);
    if (rc == 0) rc = cli_check(c, &a);
    if (rc) {
        cli_answer_free(&a);
        return rc;
    }
    const lb_json_t *r = cli_root(&a), *res = lb_json_get(r, "Result");
    int match = lb_json_is(res, LB_JSON_TRUE);
    if (c->json) {
        print_json_line(&a);
    } else if (match) {
        printf("%smatch%s\n", cli_sgr(c, CLI_GREEN), cli_sgr(c, CLI_RESET));
    } else {
        printf("%sno match%s: %s\n", cli_sgr(c, CLI_RED), cli_sgr(c, CLI_RESET),
               cli_str(r, "Reason", "(no reason given)"));
    }
    cli_answer_free(&a);
    return match ? LB_CLI_EXIT_OK : LB_CLI_EXIT_NO;
}
