/* lb_keys: the credentials_file callers sign with. Comments and blank lines are skipped, keys
 * are found by id, and every malformed line is refused with its line number and without the
 * secret in the message. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lb_keys.h"
#include "lb_test.h"

START_TEST(parses_and_finds)
{
    const char *text = "# callers\n\nAKIDB  secret-b\t111111111111\r\n  AKIDA s/a+= 000000000000";
    lb_keys_t *k = NULL;
    char *err = NULL;
    ck_assert_int_eq(lb_keys_parse("keys", text, strlen(text), &k, &err), 0);
    ck_assert_uint_eq(lb_keys_count(k), 2);
    const lb_key_t *a = lb_keys_find(k, "AKIDA");
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(a->secret, "s/a+=");
    ck_assert_str_eq(a->account, "000000000000");
    ck_assert_str_eq(lb_keys_find(k, "AKIDB")->account, "111111111111");
    ck_assert_ptr_null(lb_keys_find(k, "AKIDC"));
    ck_assert_ptr_null(lb_keys_find(k, NULL));
    lb_keys_free(&k);
    ck_assert_ptr_null(k);
    ck_assert_int_eq(lb_keys_parse("empty", "", 0, &k, &err), 0);
    ck_assert_uint_eq(lb_keys_count(k), 0);
    lb_keys_free(&k);
}
END_TEST

static void refused(const char *text, size_t len, const char *want)
{
    lb_keys_t *k = NULL;
    char *err = NULL;
    ck_assert_int_eq(lb_keys_parse("f", text, len, &k, &err), -EINVAL);
    ck_assert_ptr_null(k);
    ck_assert_msg(strstr(err, want), "'%s' lacks '%s'", err, want);
    ck_assert_ptr_null(strstr(err, "SECRETVALUE"));
    free(err);
}

START_TEST(refuses_bad_lines_without_quoting_secrets)
{
    refused("AKID SECRETVALUE\n", 17, "f:1: expected 'ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID'");
    refused("#\nAKID SECRETVALUE 000000000000 extra\n", 37, "f:2: expected");
    refused("AKID SECRETVALUE 12345678901\n", 29,
            "f:1: the account id of key AKID must be exactly 12 digits");
    refused("AKID SECRETVALUE 000000000000\nAKID SECRETVALUE 000000000000\n", 60,
            "f:2: access key AKID is listed twice");
    refused("AKID SECRETVALUE\0 000000000000\n", 31, "f:1: line contains a NUL byte");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("keys");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, parses_and_finds);
    tcase_add_test(tc, refuses_bad_lines_without_quoting_secrets);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}
