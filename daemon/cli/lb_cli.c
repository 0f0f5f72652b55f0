#include "lb_cli.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb_cli_internal.h"

#define DEFAULT_ENDPOINT "http://127.0.0.1:4010"

static const struct {
    const char *name;
    int (*fn)(cli_t *c);
} commands[] = {
    {"status", cli_cmd_status},
    {"tail", cli_cmd_tail},
    {"events", cli_cmd_events},
    {"event", cli_cmd_event},
    {"test-pattern", cli_cmd_test_pattern},
    {"dlq", cli_cmd_dlq},
    {"replay", cli_cmd_replay},
};

int lb_cli_is_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(commands[i].name, name) == 0) return 1;
    return 0;
}

void lb_cli_usage(void *file)
{
    fprintf(file,
            "Client commands (talk to a running daemon):\n"
            "  localbridge status                       buses, rules, pending deliveries, lag\n"
            "  localbridge tail [--bus B] [--rule R] [--pattern JSON|@FILE] [--deliveries]\n"
            "                   [--count N]             events live as they are accepted\n"
            "  localbridge events [--bus B] [--source S] [--since TIME] [--limit N]\n"
            "  localbridge event ID                     the envelope and every delivery\n"
            "  localbridge test-pattern PATTERN EVENT   (each JSON or @FILE) match, or why not\n"
            "  localbridge test-pattern --rule R [--bus B] --event ID\n"
            "  localbridge dlq list [--bus B] [--rule R] [--limit N] | show ID |\n"
            "                  redrive (ID... | --all) [--bus B] [--rule R]\n"
            "  localbridge replay start NAME --archive A --from TIME --to TIME [--bus B]\n"
            "                   [--rule R]... [--no-wait] | status NAME | cancel NAME\n"
            "Options for every client command:\n"
            "  --endpoint-url URL   the daemon (default $LOCALBRIDGE_ENDPOINT_URL, "
            "else " DEFAULT_ENDPOINT ")\n"
            "  --json               print JSON (one document per line) instead of text\n"
            "  --no-color           no colours (also NO_COLOR=1; colours only on a terminal)\n"
            "Exit codes: 0 ok; 1 no match / not found / did not succeed; 2 usage;\n"
            "  3 daemon unreachable; 4 the daemon refused the request.\n");
}

/* ---- HTTP ---- */

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    lb_buf_append(arg, data, size * n);
    return size * n;
}

void cli_answer_free(cli_answer_t *a)
{
    lb_buf_free(&a->body);
    lb_json_doc_free(&a->doc);
    memset(a, 0, sizeof *a);
}

int cli_call(const cli_t *c, const char *method, const char *path, const char *target,
             const char *body, cli_answer_t *a)
{
    memset(a, 0, sizeof *a);
    CURL *h = curl_easy_init();
    if (!h) return LB_CLI_EXIT_UNREACHABLE;
    lb_buf_t url = {0};
    lb_buf_printf(&url, "%s%s", c->endpoint, target ? "/" : path);
    struct curl_slist *headers = NULL;
    char th[160];
    if (target) {
        snprintf(th, sizeof th, "X-Amz-Target: AWSEvents.%s", target);
        headers = curl_slist_append(headers, th);
        headers = curl_slist_append(headers, "Content-Type: application/x-amz-json-1.1");
        if (!body) body = "{}";
    } else if (body) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
    }
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, url.data);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &a->body);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK) {
        fprintf(stderr, "localbridge: cannot reach the daemon at %s: %s\n", c->endpoint,
                curl_easy_strerror(rc));
        lb_buf_free(&url);
        return LB_CLI_EXIT_UNREACHABLE;
    }
    lb_buf_free(&url);
    if (a->body.len) lb_json_parse(a->body.data, a->body.len, 1100, &a->doc, NULL);
    return 0;
}

const lb_json_t *cli_root(const cli_answer_t *a)
{
    return a->doc ? lb_json_doc_root(a->doc) : NULL;
}

int cli_check(const cli_t *c, const cli_answer_t *a)
{
    if (a->status >= 200 && a->status < 300) return 0;
    const lb_json_t *r = cli_root(a);
    const char *type = cli_str(r, "__type", "Error"), *msg = cli_str(r, "message", NULL);
    if (!msg) msg = cli_str(r, "Message", a->body.data ? a->body.data : "");
    if (c->json)
        printf("%.*s\n", (int)a->body.len, a->body.data ? a->body.data : "");
    else
        fprintf(stderr, "%s%s%s: %s\n", cli_sgr(c, CLI_RED), type, cli_sgr(c, CLI_RESET), msg);
    return a->status == 404 || strcmp(type, "ResourceNotFoundException") == 0 ? LB_CLI_EXIT_NO
                                                                              : LB_CLI_EXIT_REFUSED;
}

/* ---- arguments ---- */

const char *cli_opt(cli_t *c, const char *name)
{
    for (int i = 0; i < c->n_args; i++) {
        size_t n = strlen(name);
        const char *a = c->args[i];
        if (strncmp(a, name, n) == 0 && a[n] == '=') {
            memmove(&c->args[i], &c->args[i + 1], (size_t)(c->n_args - i - 1) * sizeof *c->args);
            c->n_args--;
            return a + n + 1;
        }
        if (strcmp(a, name) == 0 && i + 1 < c->n_args) {
            const char *v = c->args[i + 1];
            memmove(&c->args[i], &c->args[i + 2], (size_t)(c->n_args - i - 2) * sizeof *c->args);
            c->n_args -= 2;
            return v;
        }
    }
    return NULL;
}

int cli_flag(cli_t *c, const char *name)
{
    for (int i = 0; i < c->n_args; i++)
        if (strcmp(c->args[i], name) == 0) {
            memmove(&c->args[i], &c->args[i + 1], (size_t)(c->n_args - i - 1) * sizeof *c->args);
            c->n_args--;
            return 1;
        }
    return 0;
}

const char *cli_arg(cli_t *c)
{
    for (int i = 0; i < c->n_args; i++)
        if (c->args[i][0] != '-' || c->args[i][1] == '\0' || c->args[i][0] == '{') {
            const char *v = c->args[i];
            memmove(&c->args[i], &c->args[i + 1], (size_t)(c->n_args - i - 1) * sizeof *c->args);
            c->n_args--;
            return v;
        }
    return NULL;
}

int cli_leftover(const cli_t *c, const char *command)
{
    if (c->n_args == 0) return 0;
    fprintf(stderr, "localbridge %s: unexpected argument '%s' (see localbridge --help)\n", command,
            c->args[0]);
    return LB_CLI_EXIT_USAGE;
}

char *cli_text_arg(const char *arg)
{
    if (arg[0] != '@') return lb_strdup(arg);
    FILE *f = strcmp(arg + 1, "-") == 0 ? stdin : fopen(arg + 1, "rb");
    if (!f) {
        fprintf(stderr, "localbridge: cannot read %s\n", arg + 1);
        return NULL;
    }
    lb_buf_t b = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        lb_buf_append(&b, chunk, n);
    if (f != stdin) fclose(f);
    lb_buf_append(&b, "", 1);
    return lb_buf_steal(&b, NULL);
}

void cli_urlencode(lb_buf_t *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-_.~", *p)) {
            lb_buf_append(b, p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            lb_buf_append(b, e, 3);
        }
    }
}

const char *cli_sgr(const cli_t *c, const char *code)
{
    static char buf[4][16];
    static int next;
    if (!c->color) return "";
    char *b = buf[next++ % 4];
    snprintf(b, 16, "\033[%sm", code);
    return b;
}

void cli_print_status(const cli_t *c, const char *status)
{
    const char *color = strcmp(status, "SUCCEEDED") == 0 ? CLI_GREEN
                        : strcmp(status, "RETRYING") == 0 || strcmp(status, "PENDING") == 0
                            ? CLI_YELLOW
                            : CLI_RED;
    printf("%s%s%s", cli_sgr(c, color), status, cli_sgr(c, CLI_RESET));
}

const char *cli_str(const lb_json_t *obj, const char *key, const char *dflt)
{
    const char *v = obj ? lb_json_get_str(obj, key) : NULL;
    return v ? v : dflt;
}

/* ---- entry ---- */

int lb_cli_main(int argc, char **argv)
{
    cli_t c = {0};
    const char *env = getenv("LOCALBRIDGE_ENDPOINT_URL");
    c.endpoint = env && *env ? env : DEFAULT_ENDPOINT;
    int no_color = getenv("NO_COLOR") && *getenv("NO_COLOR");
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            c.json = 1;
        } else if (strcmp(argv[i], "--no-color") == 0) {
            no_color = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            lb_cli_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--endpoint-url") == 0 && i + 1 < argc) {
            c.endpoint = argv[++i];
        } else if (strncmp(argv[i], "--endpoint-url=", 15) == 0) {
            c.endpoint = argv[i] + 15;
        } else if (c.n_args < CLI_MAX_ARGS) {
            c.args[c.n_args++] = argv[i];
        } else {
            fprintf(stderr, "localbridge: too many arguments\n");
            return LB_CLI_EXIT_USAGE;
        }
    }
    static char endpoint[2048];
    snprintf(endpoint, sizeof endpoint, "%s", c.endpoint);
    size_t n = strlen(endpoint);
    while (n > 0 && endpoint[n - 1] == '/')
        endpoint[--n] = '\0';
    c.endpoint = endpoint;
    c.tty = isatty(STDOUT_FILENO);
    c.color = c.tty && !no_color && !c.json;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = LB_CLI_EXIT_USAGE;
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(commands[i].name, argv[1]) == 0) rc = commands[i].fn(&c);
    curl_global_cleanup();
    fflush(stdout);
    return rc;
}
