/* The daemon's configuration: one declarative table of options (name, type, default, limits,
 * reloadable or not) filled from four layers, later ones winning:
 *
 *     defaults < config file < LOCALBRIDGE_* environment < command-line flags
 *
 * The file holds `key = value` lines, `#` comments and blank lines; a value may be wrapped in
 * double quotes, and ` #` after a value starts a comment. An option `name` is LOCALBRIDGE_NAME in
 * the environment and `--name value` / `--name=value` on the command line ('-' and '_' are
 * interchangeable in names). `--config FILE` (or LOCALBRIDGE_CONFIG) picks the file; without it
 * LB_CONFIG_DEFAULT_PATH is read if it exists, and an empty FILE means "no file".
 *
 * `target_map = GLOB -> URL` and `forward = BUS -> ARN [PATTERN]` may repeat; the first mapping
 * whose glob matches a target ARN wins. Mappings from flags come before those from the environment,
 * which come before the file's, so a higher layer can override a mapping without repeating the
 * rest. In the environment, separate several mappings (or forwards) with ';'.
 *
 * A lb_config_t owns every string reachable from its settings. Nothing here is global; the option
 * table is constant. */
#ifndef LB_CONFIG_H
#define LB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifndef LB_CONFIG_DEFAULT_PATH
#define LB_CONFIG_DEFAULT_PATH "/etc/localbridge/localbridge.conf"
#endif

typedef struct lb_config lb_config_t;

enum lb_log_level { LB_LOG_DEBUG = 0, LB_LOG_INFO = 1, LB_LOG_WARN = 2, LB_LOG_ERROR = 3 };
/* How log lines are written: auto is text on a terminal, key=value otherwise. */
enum lb_log_format {
    LB_LOG_FORMAT_AUTO = 0,
    LB_LOG_FORMAT_TEXT = 1,
    LB_LOG_FORMAT_KV = 2,
    LB_LOG_FORMAT_JSON = 3
};

/* Same values as lb_store.h's lb_sync_mode_t, so the daemon can pass it straight through. */
enum lb_sqlite_sync {
    LB_SQLITE_SYNC_OFF = 0,
    LB_SQLITE_SYNC_NORMAL = 1,
    LB_SQLITE_SYNC_FULL = 2,
    LB_SQLITE_SYNC_EXTRA = 3,
};

/* Where a value came from; later sources take precedence. */
enum lb_config_source {
    LB_SOURCE_DEFAULT = 0,
    LB_SOURCE_FILE = 1,
    LB_SOURCE_ENV = 2,
    LB_SOURCE_FLAG = 3,
    LB_SOURCE_API = 4, /* lb_config_set */
};

/* A numeric listen address: host is "127.0.0.1" or "::1" (no brackets); port 0 = pick one. */
struct lb_listen_addr {
    char host[46];
    bool ipv6;
    uint16_t port;
};

struct lb_target_mapping {
    char *glob; /* '*' matches any run of characters, '?' exactly one */
    char *url;  /* http:// or https:// */
    enum lb_config_source source;
};

struct lb_target_maps {
    struct lb_target_mapping *items; /* in match order */
    size_t count;
};

/* `forward = LOCAL_BUS -> BUS_ARN [PATTERN]`: everything accepted on LOCAL_BUS (or what matches
 * PATTERN) goes to the event bus BUS_ARN on Amazon EventBridge, through a managed rule. */
struct lb_forward {
    char *bus;     /* a bus of this daemon, in its region */
    char *arn;     /* arn:aws:events:REGION:ACCOUNT:event-bus/NAME */
    char *pattern; /* an event pattern (JSON), or NULL for every event */
    enum lb_config_source source;
};

struct lb_forwards {
    struct lb_forward *items; /* flags first, then environment, then file */
    size_t count;
};

/* Repeatable lines kept as written (lambda_handler, lambda_function): their module parses them. */
struct lb_line {
    char *text;
    enum lb_config_source source;
};

struct lb_lines {
    struct lb_line *items; /* flags first, then environment, then file */
    size_t count;
};

enum lb_lambda_invocation { LB_LAMBDA_EVENT = 0, LB_LAMBDA_REQUEST_RESPONSE = 1 };

enum lb_auth_mode { LB_AUTH_NONE = 0, LB_AUTH_SIGV4 = 1 };

/* The effective values, typed. Durations are milliseconds, sizes bytes. */
struct lb_settings {
    char *config_file; /* the file that was read, or NULL */
    struct lb_listen_addr listen;
    char *data_dir;
    char *region;
    char *account_id;
    enum lb_log_level log_level; /* reloadable */
    enum lb_log_format log_format;
    size_t max_body_size;
    size_t max_header_size;
    int max_connections;
    uint64_t idle_timeout_ms;
    uint64_t request_timeout_ms;
    enum lb_sqlite_sync sqlite_synchronous;
    size_t sqlite_cache_size;
    uint64_t delivery_timeout_ms; /* reloadable */
    int delivery_concurrency;     /* reloadable */
    int delivery_resident_max;
    uint64_t retry_base_delay_ms;                     /* reloadable */
    uint64_t retry_max_delay_ms;                      /* reloadable */
    bool delivery_enabled;                            /* reloadable */
    char *lambda_endpoint;                            /* reloadable; "" = none */
    enum lb_lambda_invocation lambda_invocation_type; /* reloadable */
    struct lb_target_maps target_maps;                /* reloadable */
    struct lb_lines lambda_handlers;                  /* reloadable; see lb_lambda_conf.h */
    struct lb_lines lambda_functions;                 /* reloadable */
    uint64_t lambda_retry_delay_ms;     /* reloadable; Lambda's 1 minute, shorter for tests */
    int replay_batch_size;              /* reloadable */
    uint64_t replay_interval_ms;        /* reloadable */
    uint64_t archive_sweep_interval_ms; /* reloadable */
    uint64_t archive_retention_day_ms;  /* reloadable; for tests */
    struct lb_forwards forwards;
    char *forward_endpoint; /* reloadable; "" = AWS_ENDPOINT_URL_EVENTS, ..., events.REGION */
    enum lb_auth_mode auth; /* callers must sign their requests (sigv4) or not (none) */
    char *credentials_file; /* reloadable; ACCESS_KEY_ID SECRET ACCOUNT_ID lines */
    char *admin_token;      /* reloadable; bearer token for /_localbridge/ and /metrics */
    char *allowed_hosts;    /* reloadable; extra Host names, comma-separated, or "*" */
    char *secrets_key_file; /* "" = localbridge.key beside the config file (or data dir) */
};

/* A config holding the defaults. */
int lb_config_new(lb_config_t **out);
void lb_config_free(lb_config_t **c);

/* Applies file, environment and flags over the defaults. argv holds only the flags (what follows
 * the subcommand); envp is environ-style and NULL-terminated (may be NULL). Both are copied so
 * lb_config_reload can repeat them. On error returns -EINVAL (or -ENOENT/-EIO for an unreadable
 * file), leaves c unchanged and sets *err to a malloc'd "file:line: ...", "--flag: ..." or
 * "LOCALBRIDGE_X: ..." message. */
int lb_config_load(lb_config_t *c, int argc, char **argv, char **envp, char **err);

/* Applies one file, or an in-memory file text named name (for messages), over the current
 * values. On error c may hold the lines before the bad one. */
int lb_config_load_file(lb_config_t *c, const char *path, char **err);
int lb_config_load_string(lb_config_t *c, const char *name, const char *text, size_t len,
                          char **err);

/* Sets one option by name, as if given last. target_map values ("GLOB -> URL") are prepended. */
int lb_config_set(lb_config_t *c, const char *name, const char *value, char **err);

const struct lb_settings *lb_config_settings(const lb_config_t *c);

/* For SIGHUP: rebuilds file + environment + flags as lb_config_load last saw them, copies the
 * reloadable options into c, and sets *needs_restart to a malloc'd comma-separated list of the
 * non-reloadable options whose value changed (NULL if none). On error c is unchanged. */
int lb_config_reload(lb_config_t *c, char **needs_restart, char **err);

/* Sets *url to the URL of the first target_map whose glob matches arn (owned by c, valid until
 * the next load/reload/set) and returns 0, or returns -ENOENT. */
int lb_config_map_target(const lb_config_t *c, const char *arn, const char **url);

/* The option list with defaults, for `localbridge --help`. */
void lb_config_print_help(FILE *out);

#endif
