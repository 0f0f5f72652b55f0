/* Unit tests for daemon/lb_config: defaults, the file syntax and its errors, the precedence of
 * file < environment < flags, every value type's edges, target_map globs, SIGHUP reload, and
 * that conf/localbridge.conf documents every option with its real default. */
#include "lb_config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef LB_SOURCE_DIR
#error "LB_SOURCE_DIR must name the source tree"
#endif

/* Environment that keeps a test away from a config file installed on the machine. */
static char *no_file_env[] = {"LOCALBRIDGE_CONFIG=", NULL};

static char *write_temp(const char *text)
{
    char *path = strdup("/tmp/lb_config_test_XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    size_t len = strlen(text);
    ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
    return path;
}

static void rewrite(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Loads text as a file over the defaults; returns the rc, *err set (caller frees). */
static int load_text(lb_config_t **c, const char *text, char **err)
{
    ck_assert_int_eq(lb_config_new(c), 0);
    return lb_config_load_string(*c, "test.conf", text, strlen(text), err);
}

static void assert_err_contains(const char *err, const char *needle)
{
    ck_assert_msg(err && strstr(err, needle), "error '%s' lacks '%s'", err ? err : "(null)",
                  needle);
}

START_TEST(defaults_without_any_input)
{
    lb_config_t *c = NULL;
    ck_assert_int_eq(lb_config_new(&c), 0);
    const struct lb_settings *s = lb_config_settings(c);
    ck_assert_str_eq(s->listen.host, "127.0.0.1");
    ck_assert(!s->listen.ipv6);
    ck_assert_uint_eq(s->listen.port, 4010);
    ck_assert_str_eq(s->data_dir, "./var");
    ck_assert_str_eq(s->region, "us-east-1");
    ck_assert_str_eq(s->account_id, "000000000000");
    ck_assert_int_eq(s->log_level, LB_LOG_INFO);
    ck_assert_uint_eq(s->max_body_size, 1024 * 1024);
    ck_assert_uint_eq(s->max_header_size, 16 * 1024);
    ck_assert_int_eq(s->max_connections, 1024);
    ck_assert_uint_eq(s->idle_timeout_ms, 60000);
    ck_assert_uint_eq(s->request_timeout_ms, 30000);
    ck_assert_int_eq(s->sqlite_synchronous, LB_SQLITE_SYNC_FULL);
    ck_assert_uint_eq(s->sqlite_cache_size, 2 * 1024 * 1024);
    ck_assert_uint_eq(s->delivery_timeout_ms, 5000);
    ck_assert_int_eq(s->delivery_concurrency, 64);
    ck_assert_uint_eq(s->retry_base_delay_ms, 1000);
    ck_assert_uint_eq(s->retry_max_delay_ms, 5 * 60 * 1000);
    ck_assert(s->delivery_enabled);
    ck_assert_str_eq(s->lambda_endpoint, "");
    ck_assert_uint_eq(s->target_maps.count, 0);
    ck_assert_ptr_null(s->config_file);
    lb_config_free(&c);
    ck_assert_ptr_null(c);
    lb_config_free(&c); /* freeing a cleared pointer is a no-op */
}
END_TEST

START_TEST(file_syntax)
{
    lb_config_t *c = NULL;
    char *err = NULL;
    const char *text = "# a comment\n"
                       "\n"
                       "   \t\n"
                       "listen = [::1]:0\r\n"
                       "data-dir=/tmp/lb data  # trailing comment\n"
                       "  LOG_LEVEL   =   Debug  \n"
                       "lambda_endpoint = \"http://127.0.0.1:3001/#frag\" # quoted\n"
                       "region = eu-west-1\n"
                       "region = us-gov-west-1\n" /* the last one wins */
                       "max_body_size = 256k";    /* no final newline */
    ck_assert_int_eq(load_text(&c, text, &err), 0);
    ck_assert_ptr_null(err);
    const struct lb_settings *s = lb_config_settings(c);
    ck_assert(s->listen.ipv6);
    ck_assert_str_eq(s->listen.host, "::1");
    ck_assert_uint_eq(s->listen.port, 0);
    ck_assert_str_eq(s->data_dir, "/tmp/lb data");
    ck_assert_int_eq(s->log_level, LB_LOG_DEBUG);
    ck_assert_str_eq(s->lambda_endpoint, "http://127.0.0.1:3001/#frag");
    ck_assert_str_eq(s->region, "us-gov-west-1");
    ck_assert_uint_eq(s->max_body_size, 256 * 1024);
    lb_config_free(&c);

    /* '#' inside a word is part of the value; "" is the empty string. */
    ck_assert_int_eq(
        load_text(&c, "target_map = a#b -> http://h/x#y\nlambda_endpoint = \"\"\n", &err), 0);
    ck_assert_str_eq(lb_config_settings(c)->target_maps.items[0].glob, "a#b");
    ck_assert_str_eq(lb_config_settings(c)->target_maps.items[0].url, "http://h/x#y");
    ck_assert_str_eq(lb_config_settings(c)->lambda_endpoint, "");
    lb_config_free(&c);
}
END_TEST

static const struct {
    const char *text;
    const char *message; /* the whole message, file:line included */
} file_errors[] = {
    {"listen = 127.0.0.1:1\n\nbogus = 1\n", "test.conf:3: unknown option 'bogus'"},
    {"# c\nlisten 127.0.0.1:1\n", "test.conf:2: expected 'key = value', got 'listen 127.0.0.1:1'"},
    {"max_connections = 0\n",
     "test.conf:1: max_connections: '0' is out of range; allowed 1..1048576"},
    {"\n\nmax_body_size = 2x\n", "test.conf:3: max_body_size: '2x' is malformed; allowed 1k..1g"},
    {"idle_timeout = 1d\n", "test.conf:1: idle_timeout: '1d' is malformed; allowed 100ms..24h"},
    {"log_level = verbose\n",
     "test.conf:1: log_level: 'verbose' must be one of debug, info, warn, error"},
    {"data_dir = \"/tmp\n", "test.conf:1: data_dir: unterminated quote"},
    {"data_dir = \"/a\" b\n", "test.conf:1: data_dir: unterminated quote or text after"},
    {"data_dir =\n", "test.conf:1: data_dir: '' must be a directory"},
    {"= 5\n", "test.conf:1: unknown option ''"},
};

START_TEST(file_errors_name_file_and_line)
{
    lb_config_t *c = NULL;
    char *err = NULL;
    ck_assert_int_eq(load_text(&c, file_errors[_i].text, &err), -EINVAL);
    assert_err_contains(err, file_errors[_i].message);
    free(err);
    lb_config_free(&c);
}
END_TEST

START_TEST(file_nul_byte_and_missing_files)
{
    lb_config_t *c = NULL;
    char *err = NULL;
    ck_assert_int_eq(lb_config_new(&c), 0);
    ck_assert_int_eq(lb_config_load_string(c, "x.conf", "# c\n\0b\n", 7, &err), -EINVAL);
    assert_err_contains(err, "x.conf:2: line contains a NUL byte");
    free(err);

    /* An explicit file must exist; the default one need not. */
    char *argv[] = {"--config", "/nonexistent/lb.conf"};
    ck_assert_int_eq(lb_config_load(c, 2, argv, NULL, &err), -ENOENT);
    assert_err_contains(err, "/nonexistent/lb.conf: cannot open");
    free(err);
    char *env[] = {"LOCALBRIDGE_CONFIG=/nonexistent/env.conf", NULL};
    ck_assert_int_eq(lb_config_load(c, 0, NULL, env, &err), -ENOENT);
    free(err);
    ck_assert_int_eq(lb_config_load_file(c, "/nonexistent/x.conf", &err), -ENOENT);
    free(err);
    if (access(LB_CONFIG_DEFAULT_PATH, F_OK) != 0) {
        ck_assert_int_eq(lb_config_load(c, 0, NULL, NULL, &err), 0);
        ck_assert_ptr_null(lb_config_settings(c)->config_file);
    }
    lb_config_free(&c);
}
END_TEST

START_TEST(precedence_file_env_flags)
{
    char *path = write_temp("listen = 127.0.0.1:1111\ndata_dir = /file\nregion = eu-west-1\n"
                            "log_level = warn\n");
    char config_var[256];
    snprintf(config_var, sizeof config_var, "LOCALBRIDGE_CONFIG=%s", path);
    char *env[] = {"PATH=/bin",
                   config_var,
                   "LOCALBRIDGE_DATA_DIR=/env",
                   "LOCALBRIDGE_LISTEN=127.0.0.1:2222",
                   "LOCALBRIDGE_UNRELATED=x",
                   NULL};
    char *argv[] = {"--listen", "0.0.0.0:3333", "--log-level=error", "--max_body_size", "2m"};
    lb_config_t *c = NULL;
    char *err = NULL;
    ck_assert_int_eq(lb_config_new(&c), 0);
    ck_assert_int_eq(lb_config_load(c, 5, argv, env, &err), 0);
    ck_assert_ptr_null(err);
    const struct lb_settings *s = lb_config_settings(c);
    ck_assert_str_eq(s->config_file, path);
    ck_assert_str_eq(s->region, "eu-west-1");    /* file only */
    ck_assert_str_eq(s->data_dir, "/env");       /* env over file */
    ck_assert_str_eq(s->listen.host, "0.0.0.0"); /* flag over env over file */
    ck_assert_uint_eq(s->listen.port, 3333);
    ck_assert_int_eq(s->log_level, LB_LOG_ERROR); /* flag over file */
    ck_assert_uint_eq(s->max_body_size, 2 * 1024 * 1024);

    /* --config beats LOCALBRIDGE_CONFIG; an empty one means no file at all. */
    char *argv2[] = {"--config="};
    ck_assert_int_eq(lb_config_load(c, 1, argv2, env, &err), 0);
    ck_assert_ptr_null(lb_config_settings(c)->config_file);
    ck_assert_str_eq(lb_config_settings(c)->region, "us-east-1");
    ck_assert_str_eq(lb_config_settings(c)->data_dir, "/env");
    lb_config_free(&c);
    unlink(path);
    free(path);
}
END_TEST

START_TEST(flag_and_env_errors_leave_config_unchanged)
{
    lb_config_t *c = NULL;
    char *err = NULL;
    ck_assert_int_eq(lb_config_new(&c), 0);
    char *ok[] = {"--data-dir", "/kept"};
    ck_assert_int_eq(lb_config_load(c, 2, ok, no_file_env, &err), 0);

    struct {
        int argc;
        char *argv[3];
        const char *message;
    } cases[] = {
        {2, {"--nope", "1"}, "--nope: unknown option"},
        {1, {"--listen"}, "--listen: missing value"},
        {1, {"stray"}, "unexpected argument 'stray'"},
        {2, {"--max-connections", "many"}, "--max-connections: 'many' is not an integer"},
        {3, {"--data-dir", "/x", "--region=mars"}, "--region: 'mars' must be an AWS region"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_int_eq(lb_config_load(c, cases[i].argc, cases[i].argv, no_file_env, &err),
                         -EINVAL);
        assert_err_contains(err, cases[i].message);
        free(err);
        ck_assert_str_eq(lb_config_settings(c)->data_dir, "/kept");
    }
    char *env[] = {"LOCALBRIDGE_CONFIG=", "LOCALBRIDGE_MAX_BODY_SIZE=huge", NULL};
    ck_assert_int_eq(lb_config_load(c, 0, NULL, env, &err), -EINVAL);
    assert_err_contains(err, "LOCALBRIDGE_MAX_BODY_SIZE: 'huge' is malformed");
    free(err);
    ck_assert_str_eq(lb_config_settings(c)->data_dir, "/kept");
    lb_config_free(&c);
}
END_TEST

/* Every type at and beyond its edges, through lb_config_set. */
static const struct {
    const char *name, *value;
    int ok;
    const char *error; /* part of the message when !ok */
} edges[] = {
    {"max_connections", "1", 1, NULL},
    {"max_connections", "1048576", 1, NULL},
    {"max_connections", "1048577", 0, "out of range; allowed 1..1048576"},
    {"max_connections", "-1", 0, "out of range"},
    {"max_connections", "99999999999999999999999", 0, "out of range"},
    {"max_connections", "", 0, "not an integer"},
    {"max_connections", "12abc", 0, "not an integer"},
    {"max_connections", " 5", 0, "not an integer"},
    {"delivery_concurrency", "4096", 1, NULL},
    {"delivery_concurrency", "4097", 0, "allowed 1..4096"},
    {"max_body_size", "1k", 1, NULL},
    {"max_body_size", "1023", 0, "out of range; allowed 1k..1g"},
    {"max_body_size", "1G", 1, NULL},
    {"max_body_size", "1073741825", 0, "out of range"},
    {"max_body_size", "99999999999999999999g", 0, "out of range"},
    {"max_body_size", "18014398509481984k", 0, "out of range"}, /* overflows when scaled */
    {"max_body_size", "1.5m", 0, "malformed"},
    {"max_body_size", "1mb", 0, "bytes, or with a k, m or g suffix"},
    {"max_header_size", "1m", 1, NULL},
    {"max_header_size", "1025k", 0, "allowed 1k..1m"},
    {"sqlite_cache_size", "0", 1, NULL},
    {"idle_timeout", "100", 1, NULL},
    {"idle_timeout", "100ms", 1, NULL},
    {"idle_timeout", "99ms", 0, "out of range; allowed 100ms..24h"},
    {"idle_timeout", "24h", 1, NULL},
    {"idle_timeout", "1441m", 0, "out of range"},
    {"idle_timeout", "5 s", 0, "malformed"},
    {"delivery_timeout", "15m", 1, NULL},
    {"delivery_timeout", "901s", 0, "allowed 100ms..15m"},
    {"retry_base_delay", "1ms", 1, NULL},
    {"retry_base_delay", "0", 0, "out of range; allowed 1ms..1h"},
    {"retry_base_delay", "1h", 1, NULL},
    {"retry_base_delay", "3601s", 0, "allowed 1ms..1h"},
    {"retry_max_delay", "1", 1, NULL},
    {"retry_max_delay", "0ms", 0, "out of range; allowed 1ms..24h"},
    {"retry_max_delay", "24h", 1, NULL},
    {"retry_max_delay", "1441m", 0, "allowed 1ms..24h"},
    {"delivery_enabled", "off", 1, NULL},
    {"delivery_enabled", "YES", 1, NULL},
    {"delivery_enabled", "2", 0, "must be true or false"},
    {"log_level", "WARN", 1, NULL},
    {"log_level", "warning", 0, "must be one of debug, info, warn, error"},
    {"sqlite_synchronous", "extra", 1, NULL},
    {"sqlite_synchronous", "on", 0, "must be one of off, normal, full, extra"},
    {"listen", "0.0.0.0:65535", 1, NULL},
    {"listen", "[::]:0", 1, NULL},
    {"listen", "127.0.0.1:65536", 0, "port 0..65535"},
    {"listen", "127.0.0.1", 0, "must be ADDR:PORT"},
    {"listen", "localhost:4010", 0, "numeric IPv4"},
    {"listen", "::1:4010", 0, "bracketed IPv6"},
    {"listen", "[::1]4010", 0, "ADDR:PORT"},
    {"listen", "[127.0.0.1]:80", 0, "ADDR:PORT"},
    {"listen", "1.2.3.4:", 0, "ADDR:PORT"},
    {"listen", ":80", 0, "ADDR:PORT"},
    {"region", "ap-southeast-2", 1, NULL},
    {"region", "us-gov-east-1", 1, NULL},
    {"region", "US-EAST-1", 0, "[a-z]{2}(-gov)?-[a-z]+-[0-9]"},
    {"region", "us-east-10", 0, "AWS region"},
    {"region", "us-east", 0, "AWS region"},
    {"region", "use-east-1", 0, "AWS region"},
    {"region", "us--1", 0, "AWS region"},
    {"account_id", "123456789012", 1, NULL},
    {"account_id", "12345678901", 0, "exactly 12 digits"},
    {"account_id", "1234567890123", 0, "exactly 12 digits"},
    {"account_id", "12345678901a", 0, "exactly 12 digits"},
    {"data_dir", "", 0, "must be a directory"},
    {"lambda_endpoint", "https://lambda.local:3001", 1, NULL},
    {"lambda_endpoint", "", 1, NULL},
    {"lambda_endpoint", "ftp://x", 0, "empty or an http:// or https:// URL"},
    {"lambda_endpoint", "http://", 0, "URL"},
    {"lambda_endpoint", "http://a b", 0, "URL"},
    {"target_map", "* -> http://x", 1, NULL},
    {"target_map", "* http://x", 0, "must be 'GLOB -> URL'"},
    {"target_map", " -> http://x", 0, "GLOB -> URL"},
    {"target_map", "a b -> http://x", 0, "GLOB without spaces"},
    {"target_map", "a -> x", 0, "http:// or https:// URL"},
    {"no_such_option", "1", 0, "no_such_option: unknown option"},
};

START_TEST(value_edges)
{
    lb_config_t *c = NULL;
    char *err = NULL;
    ck_assert_int_eq(lb_config_new(&c), 0);
    int rc = lb_config_set(c, edges[_i].name, edges[_i].value, &err);
    if (edges[_i].ok) {
        ck_assert_msg(rc == 0, "%s = '%s' rejected: %s", edges[_i].name, edges[_i].value, err);
    } else {
        ck_assert_msg(rc == -EINVAL, "%s = '%s' accepted", edges[_i].name, edges[_i].value);
        assert_err_contains(err, edges[_i].error);
        free(err);
    }
    lb_config_free(&c);
}
END_TEST

START_TEST(set_stores_typed_values)
{
    lb_config_t *c = NULL;
    ck_assert_int_eq(lb_config_new(&c), 0);
    ck_assert_int_eq(lb_config_set(c, "idle-timeout", "2m", NULL), 0);
    ck_assert_int_eq(lb_config_set(c, "REQUEST_TIMEOUT", "1h", NULL), 0);
    ck_assert_int_eq(lb_config_set(c, "max_body_size", "3G", NULL), -EINVAL); /* NULL err ok */
    ck_assert_int_eq(lb_config_set(c, "delivery_enabled", "0", NULL), 0);
    ck_assert_int_eq(lb_config_set(c, "sqlite_synchronous", "Normal", NULL), 0);
    ck_assert_int_eq(lb_config_set(c, "max_connections", "7", NULL), 0);
    const struct lb_settings *s = lb_config_settings(c);
    ck_assert_uint_eq(s->idle_timeout_ms, 120000);
    ck_assert_uint_eq(s->request_timeout_ms, 3600000);
    ck_assert_uint_eq(s->max_body_size, 1024 * 1024); /* 3g is beyond 1g: unchanged */
    ck_assert(!s->delivery_enabled);
    ck_assert_int_eq(s->sqlite_synchronous, LB_SQLITE_SYNC_NORMAL);
    ck_assert_int_eq(s->max_connections, 7);
    lb_config_free(&c);
}
END_TEST

static const struct {
    const char *glob, *arn;
    int match;
} globs[] = {
    {"arn:aws:sqs:*:*:orders-*", "arn:aws:sqs:us-east-1:000000000000:orders-eu", 1},
    {"arn:aws:sqs:*:*:orders-*", "arn:aws:sqs:us-east-1:000000000000:orders-", 1},
    {"arn:aws:sqs:*:*:orders-*", "arn:aws:sqs:us-east-1:000000000000:order", 0},
    {"arn:aws:sqs:*:*:orders-*", "arn:aws:sns:us-east-1:000000000000:orders-1", 0},
    {"*", "", 1},
    {"*", "anything at all", 1},
    {"?", "", 0},
    {"?", "x", 1},
    {"a?c", "abc", 1},
    {"a?c", "abbc", 0},
    {"a*b*c", "aXbYbZc", 1},
    {"a*b*c", "aXbYbZ", 0},
    {"*a", "aaaa", 1},
    {"**", "x", 1},
    {"exact", "exact", 1},
    {"exact", "exactly", 0},
    {"[abc]", "a", 0}, /* brackets are literal */
    {"[abc]", "[abc]", 1},
    {"a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0},
};

START_TEST(glob_matching)
{
    lb_config_t *c = NULL;
    char value[256];
    const char *url = NULL;
    ck_assert_int_eq(lb_config_new(&c), 0);
    snprintf(value, sizeof value, "%s -> http://127.0.0.1:9000/t", globs[_i].glob);
    ck_assert_int_eq(lb_config_set(c, "target_map", value, NULL), 0);
    int rc = lb_config_map_target(c, globs[_i].arn, &url);
    ck_assert_msg(rc == (globs[_i].match ? 0 : -ENOENT), "'%s' vs '%s' gave %d", globs[_i].glob,
                  globs[_i].arn, rc);
    if (rc == 0) ck_assert_str_eq(url, "http://127.0.0.1:9000/t");
    lb_config_free(&c);
}
END_TEST

START_TEST(target_map_order_and_layers)
{
    char *path = write_temp("target_map = arn:aws:sqs:*:*:orders-* -> http://file/orders\n"
                            "target_map = arn:aws:sqs:*  ->  http://file/sqs\n"
                            "target_map = * -> http://file/any\n");
    char config_var[256];
    snprintf(config_var, sizeof config_var, "LOCALBRIDGE_CONFIG=%s", path);
    char *env[] = {config_var,
                   "LOCALBRIDGE_TARGET_MAP=arn:aws:lambda:*:fn-a -> http://env/a ; "
                   "arn:aws:lambda:* -> http://env/lambda;",
                   NULL};
    char *argv[] = {"--target-map", "arn:aws:lambda:*:fn-a -> http://flag/a"};
    lb_config_t *c = NULL;
    const char *url = NULL;
    ck_assert_int_eq(lb_config_new(&c), 0);
    ck_assert_int_eq(lb_config_load(c, 2, argv, env, NULL), 0);
    const struct lb_target_maps *m = &lb_config_settings(c)->target_maps;
    ck_assert_uint_eq(m->count, 6);
    ck_assert_str_eq(m->items[0].url, "http://flag/a");
    ck_assert_int_eq(m->items[0].source, LB_SOURCE_FLAG);
    ck_assert_str_eq(m->items[1].url, "http://env/a");
    ck_assert_str_eq(m->items[2].url, "http://env/lambda");
    ck_assert_int_eq(m->items[2].source, LB_SOURCE_ENV);
    ck_assert_str_eq(m->items[3].url, "http://file/orders");
    ck_assert_str_eq(m->items[4].glob, "arn:aws:sqs:*");
    ck_assert_int_eq(m->items[5].source, LB_SOURCE_FILE);

    ck_assert_int_eq(lb_config_map_target(c, "arn:aws:sqs:r:1:orders-1", &url), 0);
    ck_assert_str_eq(url, "http://file/orders"); /* first match, not the broader later ones */
    ck_assert_int_eq(lb_config_map_target(c, "arn:aws:sqs:r:1:other", &url), 0);
    ck_assert_str_eq(url, "http://file/sqs");
    ck_assert_int_eq(lb_config_map_target(c, "arn:aws:lambda:x:fn-a", &url), 0);
    ck_assert_str_eq(url, "http://flag/a");
    ck_assert_int_eq(lb_config_map_target(c, "arn:aws:lambda:x:fn-b", &url), 0);
    ck_assert_str_eq(url, "http://env/lambda");
    ck_assert_int_eq(lb_config_map_target(c, "arn:aws:events:x", &url), 0);
    ck_assert_str_eq(url, "http://file/any");

    /* lb_config_set puts a mapping ahead of everything loaded. */
    ck_assert_int_eq(lb_config_set(c, "target_map", "arn:aws:events:* -> http://api/ev", NULL), 0);
    ck_assert_int_eq(lb_config_map_target(c, "arn:aws:events:x", &url), 0);
    ck_assert_str_eq(url, "http://api/ev");
    lb_config_free(&c);
    unlink(path);
    free(path);
}
END_TEST

/* forward lines: parsed into bus, ARN and pattern, layered like target_map, refused with the
 * line's form when any part is wrong. */
START_TEST(forward_lines)
{
    char *path = write_temp("forward = default -> arn:aws:events:eu-west-1:111122223333:"
                            "event-bus/prod\n"
                            "forward = orders->arn:aws:events:eu-west-1:111122223333:event-bus/o "
                            " {\"source\": [\"shop\"]}\n");
    char config_var[256];
    snprintf(config_var, sizeof config_var, "LOCALBRIDGE_CONFIG=%s", path);
    char *env[] = {config_var,
                   "LOCALBRIDGE_FORWARD=a -> arn:aws:events:us-east-1:111122223333:event-bus/x;"
                   "b -> arn:aws-cn:events:cn-north-1:111122223333:event-bus/y",
                   NULL};
    lb_config_t *c = NULL;
    ck_assert_int_eq(lb_config_new(&c), 0);
    ck_assert_int_eq(lb_config_load(c, 0, NULL, env, NULL), 0);
    const struct lb_forwards *f = &lb_config_settings(c)->forwards;
    ck_assert_uint_eq(f->count, 4);
    ck_assert_str_eq(f->items[0].bus, "a");
    ck_assert_int_eq(f->items[0].source, LB_SOURCE_ENV);
    ck_assert_str_eq(f->items[1].arn, "arn:aws-cn:events:cn-north-1:111122223333:event-bus/y");
    ck_assert_str_eq(f->items[2].bus, "default");
    ck_assert_ptr_null(f->items[2].pattern);
    ck_assert_str_eq(f->items[3].bus, "orders");
    ck_assert_str_eq(f->items[3].arn, "arn:aws:events:eu-west-1:111122223333:event-bus/o");
    ck_assert_str_eq(f->items[3].pattern, "{\"source\": [\"shop\"]}");
    lb_config_free(&c);
    unlink(path);
    free(path);

    const char *bad[] = {
        "forward = default arn:aws:events:eu-west-1:111122223333:event-bus/prod\n",
        "forward = default -> arn:aws:sqs:eu-west-1:111122223333:queue\n",
        "forward = default -> arn:aws:events:eu-west-1:1111:event-bus/prod\n",
        "forward = bad name -> arn:aws:events:eu-west-1:111122223333:event-bus/prod\n",
        "forward = default -> arn:aws:events:eu-west-1:111122223333:event-bus/p {\"source\":1}\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *err = NULL;
        ck_assert_int_eq(load_text(&c, bad[i], &err), -EINVAL);
        assert_err_contains(err, "forward: '");
        assert_err_contains(err, "must be 'BUS -> ARN [PATTERN]'");
        free(err);
        lb_config_free(&c);
    }
}
END_TEST

START_TEST(reload_applies_reloadable_and_reports_the_rest)
{
    char *path = write_temp("log_level = info\nlisten = 127.0.0.1:4010\n");
    char *argv[] = {"--config", path, "--data-dir", "/flag"};
    lb_config_t *c = NULL;
    char *restart = NULL, *err = NULL;
    ck_assert_int_eq(lb_config_new(&c), 0);
    ck_assert_int_eq(lb_config_load(c, 4, argv, NULL, &err), 0);

    /* Nothing changed: nothing to report. */
    ck_assert_int_eq(lb_config_reload(c, &restart, &err), 0);
    ck_assert_ptr_null(restart);

    rewrite(path, "log_level = debug\nlisten = 127.0.0.1:5000\ndelivery_timeout = 9s\n"
                  "retry_base_delay = 250ms\nretry_max_delay = 2h\n"
                  "region = eu-west-1\ndata_dir = /file\n"
                  "target_map = * -> http://127.0.0.1:9/x\nlambda_endpoint = http://l:1\n");
    ck_assert_int_eq(lb_config_reload(c, &restart, &err), 0);
    const struct lb_settings *s = lb_config_settings(c);
    ck_assert_int_eq(s->log_level, LB_LOG_DEBUG);
    ck_assert_uint_eq(s->delivery_timeout_ms, 9000);
    ck_assert_uint_eq(s->retry_base_delay_ms, 250);
    ck_assert_uint_eq(s->retry_max_delay_ms, 2 * 60 * 60 * 1000);
    ck_assert_str_eq(s->lambda_endpoint, "http://l:1");
    ck_assert_uint_eq(s->target_maps.count, 1);
    ck_assert_uint_eq(s->listen.port, 4010);  /* needs a restart */
    ck_assert_str_eq(s->region, "us-east-1"); /* needs a restart */
    ck_assert_str_eq(s->data_dir, "/flag");   /* the flag still wins: no change at all */
    ck_assert_str_eq(restart, "listen,region");
    free(restart);

    /* A bad file on SIGHUP changes nothing and says where. */
    rewrite(path, "log_level = warn\nlog_level = loud\n");
    ck_assert_int_eq(lb_config_reload(c, &restart, &err), -EINVAL);
    ck_assert_ptr_null(restart);
    assert_err_contains(err, ":2: log_level: 'loud'");
    ck_assert_int_eq(strncmp(err, path, strlen(path)), 0);
    free(err);
    ck_assert_int_eq(lb_config_settings(c)->log_level, LB_LOG_DEBUG);

    /* Going back to the defaults is a change too. */
    rewrite(path, "");
    ck_assert_int_eq(lb_config_reload(c, &restart, &err), 0);
    ck_assert_int_eq(lb_config_settings(c)->log_level, LB_LOG_INFO);
    ck_assert_uint_eq(lb_config_settings(c)->target_maps.count, 0);
    ck_assert_uint_eq(lb_config_settings(c)->retry_base_delay_ms, 1000);
    ck_assert_uint_eq(lb_config_settings(c)->retry_max_delay_ms, 5 * 60 * 1000);
    ck_assert_ptr_null(restart); /* region and listen were never applied, so they match */
    lb_config_free(&c);
    unlink(path);
    free(path);
}
END_TEST

/* The names of every option, from --help ("  --data-dir DIR" lines), as file keys. */
static size_t help_option_names(char names[][64], size_t max)
{
    char *buf = NULL;
    size_t len = 0, n = 0;
    FILE *f = open_memstream(&buf, &len);
    lb_config_print_help(f);
    fclose(f);
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "  --", 4) != 0 || strncmp(line, "  --config ", 11) == 0) continue;
        ck_assert_uint_lt(n, max);
        size_t k = 0;
        for (const char *p = line + 4; *p && *p != ' ' && k < 63; p++)
            names[n][k++] = *p == '-' ? '_' : *p;
        names[n++][k] = '\0';
    }
    free(buf);
    return n;
}

START_TEST(help_lists_options_with_defaults)
{
    char names[64][64];
    size_t n = help_option_names(names, 64);
    ck_assert_uint_ge(n, 19);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    lb_config_print_help(f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "--data-dir DIR"));
    ck_assert_ptr_nonnull(strstr(buf, "(default: 127.0.0.1:4010)"));
    ck_assert_ptr_nonnull(strstr(buf, "--config FILE"));
    ck_assert_ptr_nonnull(strstr(buf, "--retry-base-delay DURATION"));
    ck_assert_ptr_nonnull(strstr(buf, "--retry-max-delay DURATION"));
    ck_assert_ptr_nonnull(strstr(buf, "[reloads on SIGHUP]"));
    free(buf);
}
END_TEST

START_TEST(shipped_conf_documents_every_option)
{
    const char *path = LB_SOURCE_DIR "/conf/localbridge.conf";
    lb_config_t *c = NULL;
    char *err = NULL;
    ck_assert_int_eq(lb_config_new(&c), 0);
    ck_assert_msg(lb_config_load_file(c, path, &err) == 0, "%s", err);
    lb_config_free(&c);

    /* Every option has a "# name = default" line. */
    char *text = read_all(path);
    char names[64][64];
    size_t n = help_option_names(names, 64);
    for (size_t i = 0; i < n; i++) {
        char needle[80];
        snprintf(needle, sizeof needle, "\n# %s = ", names[i]);
        ck_assert_msg(strstr(text, needle), "conf/localbridge.conf lacks '# %s = '", names[i]);
    }

    /* Uncommented, those lines (bar the target_map examples) must give exactly the defaults. */
    char *uncommented = calloc(1, strlen(text) + 1);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "# ", 2) != 0 || strncmp(line, "# target_map", 12) == 0 ||
            strncmp(line, "# forward =", 11) == 0)
            continue;
        char key[64];
        if (sscanf(line + 2, "%63[a-z_] =", key) != 1) continue;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(key, names[i]) == 0 && strstr(line, " = ")) {
                strcat(uncommented, line + 2);
                strcat(uncommented, "\n");
            }
        }
    }
    lb_config_t *documented = NULL, *defaults = NULL;
    ck_assert_int_eq(load_text(&documented, uncommented, &err), 0);
    ck_assert_int_eq(lb_config_new(&defaults), 0);
    const struct lb_settings *a = lb_config_settings(documented), *b = lb_config_settings(defaults);
    ck_assert_str_eq(a->listen.host, b->listen.host);
    ck_assert_uint_eq(a->listen.port, b->listen.port);
    ck_assert_str_eq(a->data_dir, b->data_dir);
    ck_assert_str_eq(a->region, b->region);
    ck_assert_str_eq(a->account_id, b->account_id);
    ck_assert_int_eq(a->log_level, b->log_level);
    ck_assert_uint_eq(a->max_body_size, b->max_body_size);
    ck_assert_uint_eq(a->max_header_size, b->max_header_size);
    ck_assert_int_eq(a->max_connections, b->max_connections);
    ck_assert_uint_eq(a->idle_timeout_ms, b->idle_timeout_ms);
    ck_assert_uint_eq(a->request_timeout_ms, b->request_timeout_ms);
    ck_assert_int_eq(a->sqlite_synchronous, b->sqlite_synchronous);
    ck_assert_uint_eq(a->sqlite_cache_size, b->sqlite_cache_size);
    ck_assert_uint_eq(a->delivery_timeout_ms, b->delivery_timeout_ms);
    ck_assert_int_eq(a->delivery_concurrency, b->delivery_concurrency);
    ck_assert_uint_eq(a->retry_base_delay_ms, b->retry_base_delay_ms);
    ck_assert_uint_eq(a->retry_max_delay_ms, b->retry_max_delay_ms);
    ck_assert_int_eq(a->delivery_enabled, b->delivery_enabled);
    ck_assert_str_eq(a->lambda_endpoint, b->lambda_endpoint);
    ck_assert_uint_eq(a->forwards.count, 0);
    ck_assert_str_eq(a->forward_endpoint, b->forward_endpoint);
    ck_assert_int_eq(a->auth, b->auth);
    ck_assert_str_eq(a->credentials_file, b->credentials_file);
    ck_assert_str_eq(a->admin_token, b->admin_token);
    ck_assert_str_eq(a->allowed_hosts, b->allowed_hosts);
    ck_assert_str_eq(a->secrets_key_file, b->secrets_key_file);
    /* Each documented default line was really there (target_map and forward have none). */
    size_t lines = 0;
    for (const char *p = uncommented; (p = strchr(p, '\n')); p++)
        lines++;
    ck_assert_uint_eq(lines, n - 2);
    lb_config_free(&documented);
    lb_config_free(&defaults);
    free(uncommented);
    free(text);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, defaults_without_any_input);
    tcase_add_test(tc, file_syntax);
    tcase_add_loop_test(tc, file_errors_name_file_and_line, 0,
                        (int)(sizeof file_errors / sizeof file_errors[0]));
    tcase_add_test(tc, file_nul_byte_and_missing_files);
    tcase_add_test(tc, precedence_file_env_flags);
    tcase_add_test(tc, flag_and_env_errors_leave_config_unchanged);
    tcase_add_loop_test(tc, value_edges, 0, (int)(sizeof edges / sizeof edges[0]));
    tcase_add_test(tc, set_stores_typed_values);
    tcase_add_loop_test(tc, glob_matching, 0, (int)(sizeof globs / sizeof globs[0]));
    tcase_add_test(tc, target_map_order_and_layers);
    tcase_add_test(tc, forward_lines);
    tcase_add_test(tc, reload_applies_reloadable_and_reports_the_rest);
    tcase_add_test(tc, help_lists_options_with_defaults);
    tcase_add_test(tc, shipped_conf_documents_every_option);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(config_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
