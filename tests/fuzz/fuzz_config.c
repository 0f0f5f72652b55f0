/* libFuzzer target for the config file parser (lb_config_load_string): any bytes must give
 * either a clean error naming file:line or settings inside the documented limits, with no
 * crash, leak or undefined behaviour. Matching ARNs against whatever target_map lines the input
 * produced exercises the glob matcher, whose cost must stay polynomial. */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lb_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lb_config_t *c = NULL;
    char *err = NULL;
    if (lb_config_new(&c) != 0) abort();
    int rc = lb_config_load_string(c, "fuzz.conf", (const char *)data, size, &err);
    if (rc != 0) {
        assert(rc == -EINVAL && err && strncmp(err, "fuzz.conf:", 10) == 0);
        free(err);
    } else {
        const struct lb_settings *s = lb_config_settings(c);
        assert(err == NULL);
        assert(s->max_connections >= 1 && s->delivery_concurrency >= 1);
        assert(s->max_body_size >= 1024 && s->idle_timeout_ms >= 100);
        assert(s->log_level <= LB_LOG_ERROR && s->sqlite_synchronous <= LB_SQLITE_SYNC_EXTRA);
        assert(strlen(s->region) >= 6 && strlen(s->account_id) == 12 && *s->data_dir);
        /* Match the input itself (up to its first NUL) and a typical ARN. */
        char *arn = strndup((const char *)data, size);
        const char *url = NULL;
        if (lb_config_map_target(c, arn, &url) == 0) assert(strncmp(url, "http", 4) == 0);
        (void)lb_config_map_target(c, "arn:aws:sqs:us-east-1:000000000000:orders-1", &url);
        free(arn);
    }
    lb_config_free(&c);
    return 0;
}
