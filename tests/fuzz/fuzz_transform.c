/* libFuzzer target for lib/lb_transform and lib/lb_jsonpath: compile a target input
 * configuration from untrusted text, then render it against an untrusted event.
 *
 * Input format (see transform_seeds/): sections separated by a line "%%":
 *   mode ("E" whole event, "I" Input, "P" InputPath, "T" InputTransformer)
 *   %% config (Input text, InputPath, or InputPathsMap JSON; "-" for none)
 *   %% InputTemplate (transformer only)
 *   %% event envelope JSON
 * Missing sections are empty. Invariants checked: a compile error is -EINVAL with a message or
 * -ENOMEM without one; a rendered body is NUL-terminated at *outlen.
 */
#include "lb_transform.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SEP "\n%%\n"
#define NSECTIONS 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL) return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    char *sec[NSECTIONS] = {text, "", "", ""};
    char *p = text;
    for (int i = 1; i < NSECTIONS; i++) {
        char *s = strstr(p, SEP);
        if (s == NULL) break;
        *s = '\0';
        p = s + strlen(SEP);
        sec[i] = p;
    }
    const char *cfg = strcmp(sec[1], "-") == 0 ? NULL : sec[1];
    const char *input = NULL, *path = NULL, *map = NULL, *tmpl = NULL;
    switch (sec[0][0]) {
    case 'I':
        input = cfg;
        break;
    case 'P':
        path = cfg;
        break;
    case 'T':
        map = cfg;
        tmpl = sec[2];
        break;
    default:
        break;
    }

    lb_input_t *in = NULL;
    char *err = NULL;
    int rc = lb_input_compile_for_target("fuzz", input, path, map, tmpl, &in, &err);
    if (rc == 0) {
        if (in == NULL || err != NULL) abort();
        static const lb_input_ctx_t ctx = {"arn:aws:events:us-east-1:111111111111:rule/r", "r",
                                           "2025-01-01T00:00:00Z"};
        char *out = NULL;
        size_t outlen = 0;
        /* The event goes in a buffer of exactly its length, without a NUL, so that the
         * sanitizer catches any read past event_len. */
        size_t evlen = strlen(sec[3]);
        char *ev = malloc(evlen ? evlen : 1);
        if (ev == NULL) abort();
        memcpy(ev, sec[3], evlen);
        int rrc = lb_input_render(in, ev, evlen, &ctx, &out, &outlen);
        free(ev);
        if (rrc == 0 && (out == NULL || out[outlen] != '\0' || strlen(out) != outlen)) abort();
        if (rrc != 0 && out != NULL) abort();
        free(out);
        lb_input_free(&in);
        if (in != NULL) abort();
    } else if ((rc == -EINVAL) != (err != NULL) || in != NULL) {
        abort();
    }
    free(err);
    free(text);
    return 0;
}
