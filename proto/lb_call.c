#include "lb_call.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *type;
    int status;
} aws_errors[] = {
    [LB_AWS_VALIDATION] = {"ValidationException", 400},
    [LB_AWS_SERIALIZATION] = {"SerializationException", 400},
    [LB_AWS_MISSING_AUTH_TOKEN] = {"MissingAuthenticationTokenException", 400},
    [LB_AWS_UNRECOGNIZED_CLIENT] = {"UnrecognizedClientException", 400},
    [LB_AWS_INVALID_SIGNATURE] = {"InvalidSignatureException", 400},
    [LB_AWS_INCOMPLETE_SIGNATURE] = {"IncompleteSignatureException", 400},
    [LB_AWS_ACCESS_DENIED] = {"AccessDeniedException", 400},
    [LB_AWS_MANAGED_RULE] = {"ManagedRuleException", 400},
    [LB_AWS_UNKNOWN_OPERATION] = {"UnknownOperationException", 400},
    [LB_AWS_RESOURCE_NOT_FOUND] = {"ResourceNotFoundException", 400},
    [LB_AWS_RESOURCE_EXISTS] = {"ResourceAlreadyExistsException", 400},
    [LB_AWS_LIMIT_EXCEEDED] = {"LimitExceededException", 400},
    [LB_AWS_INVALID_EVENT_PATTERN] = {"InvalidEventPatternException", 400},
    [LB_AWS_CONCURRENT_MODIFICATION] = {"ConcurrentModificationException", 400},
    [LB_AWS_ILLEGAL_STATUS] = {"IllegalStatusException", 400},
    [LB_AWS_INTERNAL] = {"InternalException", 500},
    [LB_AWS_UNSUPPORTED_MEDIA] = {"UnsupportedMediaTypeException", 415},
    [LB_AWS_NOT_IMPLEMENTED] = {"NotImplementedException", 501},
    [LB_AWS_POLICY_LENGTH_EXCEEDED] = {"PolicyLengthExceededException", 400},
    [LB_AWS_INVALID_STATE] = {"InvalidStateException", 400},
    [LB_AWS_NOT_FOUND] = {"NotFoundException", 404},
    [LB_AWS_METHOD_NOT_ALLOWED] = {"MethodNotAllowedException", 405},
    [LB_AWS_BAD_REQUEST] = {"BadRequestException", 400},
    [LB_AWS_REQUEST_TIMEOUT] = {"RequestTimeoutException", 408},
    [LB_AWS_ENTITY_TOO_LARGE] = {"RequestEntityTooLargeException", 413},
    [LB_AWS_HEADERS_TOO_LARGE] = {"RequestHeaderFieldsTooLargeException", 431},
    [LB_AWS_SERVICE_UNAVAILABLE] = {"ServiceUnavailableException", 503},
    [LB_AWS_FORBIDDEN] = {"ForbiddenException", 403},
};

const char *lb_aws_error_type(lb_aws_error_t err)
{
    return aws_errors[err].type;
}

/* Bytes in a UTF-8 sequence that starts with lead, or 0 if lead cannot start one. */
static size_t utf8_sequence_length(unsigned char lead)
{
    if (lead < 0x80) return 1;
    if (lead >= 0xc2 && lead <= 0xdf) return 2;
    if (lead >= 0xe0 && lead <= 0xef) return 3;
    if (lead >= 0xf0 && lead <= 0xf4) return 4;
    return 0;
}

/* Appends s with every byte that is not part of a valid UTF-8 sequence written as U+FFFD. */
static void append_utf8(lb_buf_t *b, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_sequence_length((unsigned char)s[i]);
        if (n && n <= len - i && lb_utf8_valid(s + i, n)) {
            lb_buf_append(b, s + i, n);
            i += n;
        } else {
            lb_buf_append(b, "\xef\xbf\xbd", 3);
            i++;
        }
    }
}

void lb_call_error_msg(lb_call_t *call, lb_aws_error_t err, const char *msg, size_t len)
{
    lb_buf_t text = {0};
    append_utf8(&text, msg, len);
    call->body.len = 0;
    call->status = aws_errors[err].status;
    lb_buf_puts(&call->body, "{\"__type\":");
    lb_buf_json_string(&call->body, aws_errors[err].type, strlen(aws_errors[err].type));
    lb_buf_puts(&call->body, ",\"message\":");
    lb_buf_json_string(&call->body, text.data ? text.data : "", text.len);
    lb_buf_puts(&call->body, "}");
    lb_buf_free(&text);
}

void lb_call_error(lb_call_t *call, lb_aws_error_t err, const char *fmt, ...)
{
    /* Formatted at its full length: a fixed buffer would cut a long message, possibly inside a
     * UTF-8 sequence, and the body would no longer decode. */
    lb_buf_t msg = {0};
    va_list ap;
    va_start(ap, fmt);
    lb_buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    lb_call_error_msg(call, err, msg.data ? msg.data : "", msg.len);
    lb_buf_free(&msg);
}

void lb_call_error_code(lb_call_t *call, int code, const char *what)
{
    switch (code) {
    case LB_ENOTFOUND:
        lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND, "%s does not exist.", what);
        break;
    case LB_EEXISTS:
        lb_call_error(call, LB_AWS_RESOURCE_EXISTS, "%s already exists.", what);
        break;
    case LB_ELIMIT:
        lb_call_error(call, LB_AWS_LIMIT_EXCEEDED,
                      "The requested resource exceeds the maximum number allowed.");
        break;
    case LB_ESTORE:
        /* The store could not commit (disk full, read-only data directory, I/O error): nothing
         * of this request was kept, so the client may retry. */
        lb_call_error(
            call, LB_AWS_INTERNAL,
            "The request could not be stored durably; nothing was accepted. Retry later.");
        break;
    case LB_ESTORELOST:
        /* The database was deleted while running and writing it back failed: writes stop
         * rather than be acknowledged into a file that no longer exists. */
        lb_call_error(call, LB_AWS_INTERNAL,
                      "The database file was deleted while LocalBridge was running and could not "
                      "be restored; writes are refused and nothing was accepted. See the log, "
                      "then restart LocalBridge.");
        break;
    default:
        lb_call_error(call, LB_AWS_INTERNAL, "Internal error (code %d) while handling %s.", code,
                      what);
    }
}

void lb_call_ok_json(lb_call_t *call, const char *json)
{
    call->status = 200;
    call->body.len = 0;
    lb_buf_puts(&call->body, json);
}

void lb_call_defer(lb_call_t *call, lb_call_txn_fn txn, lb_call_finish_fn finish, void *arg,
                   void (*arg_free)(void *))
{
    call->txn = txn;
    call->finish = finish;
    call->arg = arg;
    call->arg_free = arg_free;
}

void lb_call_complete(lb_call_t *call, int txn_rc)
{
    call->txn = NULL;
    call->read = NULL;
    if (call->finish) call->finish(call, txn_rc);
    call->finish = NULL;
}

void lb_call_clear(lb_call_t *call)
{
    if (call->arg_free && call->arg) call->arg_free(call->arg);
    call->arg = NULL;
    call->arg_free = NULL;
    lb_buf_free(&call->body);
}

/* ---- Deferred reads ---- */

void lb_call_defer_read(lb_call_t *call, lb_call_read_fn read, lb_call_finish_fn finish, void *arg,
                        void (*arg_free)(void *))
{
    call->txn = NULL;
    call->read = read;
    call->finish = finish;
    call->arg = arg;
    call->arg_free = arg_free;
}

/* ---- Errors without a call ---- */

int lb_aws_error_body(lb_buf_t *out, lb_aws_error_t err, const char *message)
{
    /* Through lb_call_error so the body is built in exactly one place. */
    lb_call_t call = {0};
    lb_call_error(&call, err, "%s", message);
    lb_buf_free(out);
    *out = call.body;
    return call.status;
}
