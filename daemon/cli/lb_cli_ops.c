/* dlq list|show|redrive and replay start|status|cancel. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lb_cli_internal.h"

static int run(cli_t *c, const char *method, const char *path, const char *target, const char *body,
               cli_answer_t *a)
{
    int rc = cli_call(c, method, path, target, body, a);
    return rc ? rc : cli_check(c, a);
}

/* ---- dlq ---- */

static void dlq_path(lb_buf_t *p, const char *bus, const char *rule, const char *limit,
                     const char *token)
{
    lb_buf_puts(p, "/_localbridge/dead-letters?limit=");
    lb_buf_puts(p, limit ? limit : "100");
    if (bus) {
        lb_buf_puts(p, "&bus=");
        cli_urlencode(p, bus);
    }
    if (rule) {
        lb_buf_puts(p, "&rule=");
        cli_urlencode(p, rule);
    }
    if (token) {
        lb_buf_puts(p, "&next_token=");
        cli_urlencode(p, token);
    }
}

static void print_dead_letter(const cli_t *c, const lb_json_t *d, int full)
{
    char when[32];
    const lb_json_t *at = lb_json_get(d, "DeadAt");
    lb_format_time_iso(at ? (int64_t)(at->num * 1000) : 0, when);
    printf("%s%6lld%s  %s  %s/%s -> %s  %s%s%s  %s\n", cli_sgr(c, CLI_BOLD),
           (long long)lb_json_get_int(d, "Id", 0), cli_sgr(c, CLI_RESET), when,
           cli_str(d, "EventBusName", "?"), cli_str(d, "RuleName", "?"),
           cli_str(d, "TargetId", "?"), cli_sgr(c, CLI_RED), cli_str(d, "ERROR_CODE", "?"),
           cli_sgr(c, CLI_RESET), cli_str(d, "EventId", "?"));
    if (!full) return;
    printf("  target      %s\n", cli_str(d, "TargetArn", "?"));
    printf("  error       %s\n", cli_str(d, "ERROR_MESSAGE", ""));
    printf("  exhausted   %s\n", cli_str(d, "EXHAUSTED_RETRY_CONDITION", "-"));
    printf("  retries     %lld\n", (long long)lb_json_get_int(d, "RETRY_ATTEMPTS", 0));
    printf("  body        %s\n", cli_str(d, "Body", ""));
}

/* Walks the dead letters (newest first), printing them, or only the one with id `want`. */
static int dlq_walk(cli_t *c, const char *bus, const char *rule, const char *limit, long long want)
{
    char *token = NULL;
    int found = 0, rc = 0, first = 1;
    if (c->json && !want) printf("{\"DeadLetters\":[");
    do {
        lb_buf_t path = {0};
        dlq_path(&path, bus, rule, want ? "1000" : limit, token);
        cli_answer_t a;
        rc = run(c, "GET", path.data, NULL, NULL, &a);
        lb_buf_free(&path);
        free(token);
        token = NULL;
        if (rc) {
            cli_answer_free(&a);
            break;
        }
        const lb_json_t *r = cli_root(&a);
        lb_json_each(d, lb_json_get(r, "DeadLetters"))
        {
            if (want && lb_json_get_int(d, "Id", 0) != want) continue;
            found = 1;
            if (c->json)
                printf("%s%.*s", first ? "" : ",", (int)d->src_len, a.body.data + d->src_off);
            else
                print_dead_letter(c, d, want != 0);
            first = 0;
        }
        /* A listing stops at --limit; a search goes on until found. */
        if (want && !found) token = lb_strdup(cli_str(r, "NextToken", NULL));
        cli_answer_free(&a);
    } while (token);
    if (c->json && !want && rc == 0) printf("]}");
    if (c->json && rc == 0) printf("\n");
    if (rc) return rc;
    if (want && !found) {
        fprintf(stderr, "localbridge dlq show: no dead letter %lld\n", want);
        return LB_CLI_EXIT_NO;
    }
    if (!want && !found && !c->json) printf("no dead letters\n");
    return 0;
}

static int dlq_redrive(cli_t *c, const char *bus, const char *rule)
{
    int all = cli_flag(c, "--all");
    lb_buf_t body = {0};
    lb_buf_puts(&body, "{");
    int n = 0;
    const char *id;
    while ((id = cli_arg(c))) {
        char *end;
        long long v = strtoll(id, &end, 10);
        if (*end || v < 1) {
            fprintf(stderr, "localbridge dlq redrive: '%s' is not a dead-letter id\n", id);
            lb_buf_free(&body);
            return LB_CLI_EXIT_USAGE;
        }
        lb_buf_printf(&body, "%s%lld", n++ ? "," : "\"Ids\":[", v);
    }
    if (n) lb_buf_puts(&body, "]");
    if (!n && !all) {
        fprintf(stderr, "localbridge dlq redrive: give dead-letter ids, or --all\n");
        lb_buf_free(&body);
        return LB_CLI_EXIT_USAGE;
    }
    if (bus) {
        lb_buf_puts(&body, n ? ",\"EventBusName\":" : "\"EventBusName\":");
        lb_buf_json_string(&body, bus, strlen(bus));
        n++;
    }
    if (rule) {
        lb_buf_puts(&body, n ? ",\"RuleName\":" : "\"RuleName\":");
        lb_buf_json_string(&body, rule, strlen(rule));
    }
    lb_buf_puts(&body, "}");
    int rc = cli_leftover(c, "dlq redrive");
    cli_answer_t a = {0};
    if (!rc) rc = run(c, "POST", "/_localbridge/dead-letters/redrive", NULL, body.data, &a);
    lb_buf_free(&body);
    if (!rc) {
        long long count = (long long)lb_json_get_int(cli_root(&a), "Redriven", 0);
        if (c->json)
            printf("%.*s\n", (int)a.body.len, a.body.data);
        else
            printf("redriven: %lld\n", count);
        if (count == 0) rc = LB_CLI_EXIT_NO;
    }
    cli_answer_free(&a);
    return rc;
}

int cli_cmd_dlq(cli_t *c)
{
    const char *bus = cli_opt(c, "--bus"), *rule = cli_opt(c, "--rule");
    const char *limit = cli_opt(c, "--limit");
    const char *sub = cli_arg(c);
    if (sub && strcmp(sub, "list") == 0) {
        int rc = cli_leftover(c, "dlq list");
        return rc ? rc : dlq_walk(c, bus, rule, limit, 0);
    }
    if (sub && strcmp(sub, "show") == 0) {
        const char *id = cli_arg(c);
        long long v = id ? strtoll(id, NULL, 10) : 0;
        int rc = cli_leftover(c, "dlq show");
        if (rc) return rc;
        if (v < 1) {
            fprintf(stderr, "localbridge dlq show: a dead-letter id is required\n");
            return LB_CLI_EXIT_USAGE;
        }
        return dlq_walk(c, bus, rule, limit, v);
    }
    if (sub && strcmp(sub, "redrive") == 0) return dlq_redrive(c, bus, rule);
    fprintf(stderr, "localbridge dlq: list, show ID or redrive\n");
    return LB_CLI_EXIT_USAGE;
}

/* ---- replay ---- */

static int name_body(const char *key, const char *name, lb_buf_t *b)
{
    lb_buf_printf(b, "{\"%s\":", key);
    lb_buf_json_string(b, name, strlen(name));
    lb_buf_puts(b, "}");
    return 0;
}

/* ISO 8601 or seconds since the epoch, as seconds; -1 if neither. */
static double parse_time(const char *v)
{
    int64_t ms;
    if (lb_parse_time_iso(v, &ms) == 0) return (double)ms / 1000.0;
    char *end;
    double s = strtod(v, &end);
    return end != v && *end == '\0' && s >= 0 ? s : -1;
}

static double num(const lb_json_t *o, const char *key)
{
    const lb_json_t *v = lb_json_get(o, key);
    return lb_json_is(v, LB_JSON_NUMBER) ? v->num : 0;
}

static double progress(const lb_json_t *r)
{
    double start = num(r, "EventStartTime"), end = num(r, "EventEndTime");
    double last = num(r, "EventLastReplayedTime");
    const char *state = cli_str(r, "State", "");
    if (strcmp(state, "COMPLETED") == 0) return 1.0;
    if (end <= start || last <= 0) return 0.0;
    double p = (last - start) / (end - start);
    return p < 0 ? 0 : p > 1 ? 1 : p;
}

static void draw_bar(const cli_t *c, const char *name, const lb_json_t *r)
{
    double p = progress(r);
    int width = 30, filled = (int)(p * width + 0.5);
    printf("\r%s [%s", name, cli_sgr(c, CLI_CYAN));
    for (int i = 0; i < width; i++)
        fputs(i < filled ? "#" : "-", stdout);
    printf("%s] %3d%%  %-10s", cli_sgr(c, CLI_RESET), (int)(p * 100 + 0.5),
           cli_str(r, "State", "?"));
    fflush(stdout);
}

static int terminal_state(const char *s)
{
    return strcmp(s, "COMPLETED") == 0 || strcmp(s, "FAILED") == 0 || strcmp(s, "CANCELLED") == 0;
}

static int describe(cli_t *c, const char *name, cli_answer_t *a)
{
    lb_buf_t body = {0};
    name_body("ReplayName", name, &body);
    int rc = run(c, "POST", "/", "DescribeReplay", body.data, a);
    lb_buf_free(&body);
    return rc;
}

/* Waits for the replay to end, drawing a progress bar on a terminal. */
static int wait_replay(cli_t *c, const char *name)
{
    for (;;) {
        cli_answer_t a;
        int rc = describe(c, name, &a);
        if (rc) {
            cli_answer_free(&a);
            return rc;
        }
        const lb_json_t *r = cli_root(&a);
        const char *state = cli_str(r, "State", "?");
        if (c->tty && !c->json) draw_bar(c, name, r);
        if (terminal_state(state)) {
            int ok = strcmp(state, "COMPLETED") == 0;
            if (c->json)
                printf("%.*s\n", (int)a.body.len, a.body.data);
            else if (c->tty)
                printf("\n");
            else
                printf("%s %s\n", name, state);
            const char *reason = cli_str(r, "StateReason", NULL);
            if (!ok && reason && !c->json) fprintf(stderr, "%s\n", reason);
            cli_answer_free(&a);
            return ok ? 0 : LB_CLI_EXIT_NO;
        }
        cli_answer_free(&a);
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static int replay_start(cli_t *c)
{
    const char *archive = cli_opt(c, "--archive"), *from = cli_opt(c, "--from");
    const char *to = cli_opt(c, "--to"), *bus = cli_opt(c, "--bus");
    const char *rules[16];
    int n_rules = 0;
    const char *r;
    while (n_rules < 16 && (r = cli_opt(c, "--rule")))
        rules[n_rules++] = r;
    int no_wait = cli_flag(c, "--no-wait");
    const char *name = cli_arg(c);
    int rc = cli_leftover(c, "replay start");
    if (rc) return rc;
    double start = from ? parse_time(from) : -1, end = to ? parse_time(to) : -1;
    if (!name || !archive || start < 0 || end < 0) {
        fprintf(stderr, "localbridge replay start: NAME --archive A --from TIME --to TIME "
                        "(ISO 8601 or epoch seconds) are required\n");
        return LB_CLI_EXIT_USAGE;
    }
    /* The archive names its ARN and its bus: the destination unless --bus says otherwise. */
    lb_buf_t body = {0};
    name_body("ArchiveName", archive, &body);
    cli_answer_t a;
    rc = run(c, "POST", "/", "DescribeArchive", body.data, &a);
    lb_buf_free(&body);
    if (rc) {
        cli_answer_free(&a);
        return rc;
    }
    const char *archive_arn = cli_str(cli_root(&a), "ArchiveArn", "");
    const char *source_arn = cli_str(cli_root(&a), "EventSourceArn", "");
    char dest[2048], prefix[2048];
    const char *bus_part = strstr(source_arn, ":event-bus/");
    size_t head = bus_part ? (size_t)(bus_part - source_arn) : 0;
    if (bus)
        snprintf(dest, sizeof dest, "%.*s:event-bus/%s", (int)head, source_arn, bus);
    else
        snprintf(dest, sizeof dest, "%s", source_arn);
    const char *dest_bus = strrchr(dest, '/') ? strrchr(dest, '/') + 1 : "default";
    snprintf(prefix, sizeof prefix, "%.*s:rule/", (int)head, source_arn);
    lb_buf_puts(&body, "{\"ReplayName\":");
    lb_buf_json_string(&body, name, strlen(name));
    lb_buf_puts(&body, ",\"EventSourceArn\":");
    lb_buf_json_string(&body, archive_arn, strlen(archive_arn));
    lb_buf_printf(&body, ",\"EventStartTime\":%.3f,\"EventEndTime\":%.3f", start, end);
    lb_buf_puts(&body, ",\"Destination\":{\"Arn\":");
    lb_buf_json_string(&body, dest, strlen(dest));
    for (int i = 0; i < n_rules; i++) {
        lb_buf_t arn = {0};
        lb_buf_printf(&arn, "%s%s%s%s", prefix, strcmp(dest_bus, "default") ? dest_bus : "",
                      strcmp(dest_bus, "default") ? "/" : "", rules[i]);
        lb_buf_puts(&body, i ? "," : ",\"FilterArns\":[");
        lb_buf_json_string(&body, arn.data, arn.len);
        lb_buf_free(&arn);
    }
    lb_buf_puts(&body, n_rules ? "]}}" : "}}");
    cli_answer_free(&a);
    rc = run(c, "POST", "/", "StartReplay", body.data, &a);
    lb_buf_free(&body);
    if (rc) {
        cli_answer_free(&a);
        return rc;
    }
    if (no_wait) {
        if (c->json)
            printf("%.*s\n", (int)a.body.len, a.body.data);
        else
            printf("%s %s\n", name, cli_str(cli_root(&a), "State", "STARTING"));
        cli_answer_free(&a);
        return 0;
    }
    cli_answer_free(&a);
    return wait_replay(c, name);
}

int cli_cmd_replay(cli_t *c)
{
    const char *sub = cli_arg(c);
    if (sub && strcmp(sub, "start") == 0) return replay_start(c);
    const char *name = cli_arg(c);
    int rc = cli_leftover(c, "replay");
    if (rc) return rc;
    if (!sub || !name || (strcmp(sub, "status") && strcmp(sub, "cancel"))) {
        fprintf(stderr, "localbridge replay: start NAME ..., status NAME or cancel NAME\n");
        return LB_CLI_EXIT_USAGE;
    }
    cli_answer_t a;
    if (strcmp(sub, "cancel") == 0) {
        lb_buf_t body = {0};
        name_body("ReplayName", name, &body);
        rc = run(c, "POST", "/", "CancelReplay", body.data, &a);
        lb_buf_free(&body);
        if (!rc) {
            if (c->json)
                printf("%.*s\n", (int)a.body.len, a.body.data);
            else
                printf("%s %s\n", name, cli_str(cli_root(&a), "State", "CANCELLING"));
        }
        cli_answer_free(&a);
        return rc;
    }
    rc = describe(c, name, &a);
    if (!rc) {
        const lb_json_t *r = cli_root(&a);
        if (c->json) {
            printf("%.*s\n", (int)a.body.len, a.body.data);
        } else {
            printf("%s%s%s  %s  %d%%\n", cli_sgr(c, CLI_BOLD), name, cli_sgr(c, CLI_RESET),
                   cli_str(r, "State", "?"), (int)(progress(r) * 100 + 0.5));
            const char *reason = cli_str(r, "StateReason", NULL);
            if (reason) printf("  %s\n", reason);
        }
    }
    cli_answer_free(&a);
    return rc;
}
