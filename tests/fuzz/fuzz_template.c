/* libFuzzer target for lb_template and lb_deploy: the input is a template, YAML or JSON (seeds in
 * tests/fuzz/template_seeds/). Whatever the bytes, parsing either fails with a message and
 * nothing allocated, or every resource resolves (or fails with a message naming it) and lists its
 * calls; any violation aborts so the fuzzer reports it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lb_deploy.h"
#include "lb_template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lb_template_t *t = NULL;
    char *err = NULL;
    if (lb_template_parse("f.yaml", (const char *)data, size, &t, &err)) {
        if (t || !err || strncmp(err, "f.yaml", 6) != 0) abort();
        free(err);
        return 0;
    }
    lb_tpl_context_t tc = {.stack_name = "fuzz", .region = "us-east-1", .account_id = "1"};
    lb_deploy_ctx_t dc = {.stack_name = "fuzz",
                          .region = "us-east-1",
                          .account_id = "1",
                          .endpoint = "http://h",
                          .template_dir = "/t",
                          .lambda_runner = "r"};
    if (lb_template_prepare(t, &tc, NULL, 0, &err)) {
        if (!err) abort();
        free(err);
        lb_template_free(&t);
        return 0;
    }
    for (size_t i = 0; i < lb_template_resource_count(t); i++) {
        lb_dres_t r;
        err = NULL;
        if (lb_deploy_resolve(t, i, &dc, NULL, &r, &err)) {
            if (!err) abort();
            free(err);
            lb_dres_clear(&r);
            continue;
        }
        if (!r.skipped && (!r.physical_id || strlen(r.hash) != 64)) abort();
        lb_dcalls_t calls = {0};
        if (lb_deploy_upsert_calls(&dc, &r, NULL, NULL, &calls, &err)) free(err);
        lb_dcalls_free(&calls);
        if (!r.skipped)
            lb_deploy_delete_calls(&dc, r.type, r.physical_id, r.props, r.attrs, &calls);
        lb_dcalls_free(&calls);
        lb_dres_clear(&r);
    }
    lb_template_free(&t);
    return 0;
}
