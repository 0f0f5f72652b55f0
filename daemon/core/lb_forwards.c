/* Managed forward rules from the configuration. See lb_forwards.h. */
#include "lb_forwards.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_rules.h"
#include "lb_util.h"

/* Every event: AWS's own idiom for a rule that matches everything on a bus. */
#define EVERY_EVENT "{\"source\":[{\"prefix\":\"\"}]}"

static uint32_t fnv1a(uint32_t h, const char *s)
{
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

void lb_forwards_rule_name(const struct lb_forward *f, char *out)
{
    uint32_t h = fnv1a(fnv1a(fnv1a(2166136261u, f->bus), f->arn), f->pattern ? f->pattern : "");
    const char *slash = strrchr(f->arn, '/');
    char tail[40];
    size_t k = 0;
    /* The target bus's name, in the characters a rule name allows. */
    for (const char *p = slash ? slash + 1 : f->arn; *p && k < 35; p++)
        tail[k++] = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                            (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'
                        ? *p
                        : '-';
    tail[k] = '\0';
    snprintf(out, 65, "LocalBridgeForward-%.35s-%08x", tail, (unsigned)h);
}

static int ensure_bus(lb_engine_t *engine, lb_store_t *store, const char *region, const char *name,
                      const lb_log_t *log)
{
    if (lb_engine_bus_find(engine, region, name)) return 0;
    int64_t now = lb_now_ms();
    lb_bus_record_t rec = {
        .region = (char *)region, .name = (char *)name, .created_ms = now, .modified_ms = now};
    int rc = lb_store_bus_insert(store, &rec);
    if (rc) return rc;
    lb_logf_info(log, "created the event bus a forward line names", LB_LOG_STR("bus", name));
    return lb_engine_bus_put(engine, &rec);
}

static int install_one(const struct lb_settings *cfg, lb_engine_t *engine,
                       const struct lb_forward *f, char **err)
{
    char name[65], description[700], *why = NULL;
    lb_forwards_rule_name(f, name);
    snprintf(description, sizeof description,
             "Forwards events of bus %.200s to %.300s (a forward line of the LocalBridge "
             "configuration).",
             f->bus, f->arn);
    lb_rules_t *rules = lb_engine_rules(engine);
    lb_rule_t rule;
    if (lb_rule_init(&rule, cfg->region, f->bus, name, f->pattern ? f->pattern : EVERY_EVENT, NULL,
                     "ENABLED", description, NULL, LB_FORWARD_MANAGED_BY, NULL, lb_now_ms(),
                     &why)) {
        lb_buf_t m = {0};
        lb_buf_printf(&m, "forward %s -> %s: %s", f->bus, f->arn, why ? why : "bad pattern");
        *err = lb_buf_steal(&m, NULL);
        free(why);
        return -1;
    }
    lb_buf_t target = {0};
    lb_buf_puts(&target, "{\"Id\":\"forward\",\"Arn\":");
    lb_buf_json_string(&target, f->arn, strlen(f->arn));
    lb_buf_puts(&target, "}");
    lb_target_t *t = lb_xcalloc(1, sizeof *t);
    int rc = lb_target_init(t, target.data, &why);
    lb_buf_free(&target);
    if (rc) {
        *err = why ? why : lb_strdup("forward target refused");
        lb_rule_clear(&rule);
        free(t);
        return -1;
    }
    lb_rules_put(rules, &rule);
    lb_rules_set_targets(rules, lb_rules_find(rules, cfg->region, f->bus, name), t, 1);
    free(t);
    return 0;
}

int lb_forwards_install(const struct lb_settings *cfg, lb_engine_t *engine, lb_store_t *store,
                        const lb_log_t *log, char **err)
{
    *err = NULL;
    for (size_t i = 0; i < cfg->forwards.count; i++) {
        const struct lb_forward *f = &cfg->forwards.items[i];
        if (ensure_bus(engine, store, cfg->region, f->bus, log)) {
            lb_buf_t m = {0};
            lb_buf_printf(&m, "cannot create bus %s for a forward line: %s", f->bus,
                          lb_store_errmsg(store));
            *err = lb_buf_steal(&m, NULL);
            return -1;
        }
        if (install_one(cfg, engine, f, err)) return -1;
        char name[65];
        lb_forwards_rule_name(f, name);
        lb_logf_info(log, "forwarding to Amazon EventBridge", LB_LOG_STR("bus", f->bus),
                     LB_LOG_STR("to", f->arn), LB_LOG_STR("rule", name));
    }
    return 0;
}
