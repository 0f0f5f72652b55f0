#include "lb_targets.h"

#include "lb_target_apidest.h"
#include "lb_target_bus.h"
#include "lb_target_forward.h"
#include "lb_target_lambda.h"
#include "lb_target_lambda_local.h"
#include "lb_target_queue.h"
#include "lb_target_urlmap.h"
#include "lb_util.h"

void lb_targets_create(const lb_adapter_env_t *env, lb_adapter_t ***out, size_t *n)
{
    lb_adapter_t *(*const kinds[])(const lb_adapter_env_t *) = {
        lb_target_urlmap_new,       lb_target_apidest_new, lb_target_forward_new, lb_target_bus_new,
        lb_target_lambda_local_new, lb_target_lambda_new,  lb_target_queue_new,
    };
    *n = sizeof kinds / sizeof *kinds;
    *out = lb_xcalloc(*n, sizeof **out);
    for (size_t i = 0; i < *n; i++)
        (*out)[i] = kinds[i](env);
}
