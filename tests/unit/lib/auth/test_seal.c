/* lb_seal: AES-256-GCM round trips; a wrong key, another row's aad or one altered character
 * never opens; key file text parses and formats. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lb_seal.h"
#include "lb_test.h"

START_TEST(round_trip_and_refusals)
{
    unsigned char key[LB_SEAL_KEY_BYTES], other[LB_SEAL_KEY_BYTES];
    ck_assert_int_eq(lb_seal_key_new(key), 0);
    ck_assert_int_eq(lb_seal_key_new(other), 0);
    const char *secret = "{\"ApiKeyValue\":\"hunter2\"}";
    char *sealed = NULL, *again = NULL, *plain = NULL;
    ck_assert_int_eq(lb_seal(key, "us-east-1/conn", secret, strlen(secret), &sealed), 0);
    ck_assert(lb_sealed(sealed));
    ck_assert_ptr_null(strstr(sealed, "hunter2"));
    ck_assert_int_eq(lb_seal(key, "us-east-1/conn", secret, strlen(secret), &again), 0);
    ck_assert_str_ne(sealed, again); /* a fresh nonce each time */
    size_t len = 0;
    ck_assert_int_eq(lb_seal_open(key, "us-east-1/conn", sealed, &plain, &len), 0);
    ck_assert_str_eq(plain, secret);
    ck_assert_uint_eq(len, strlen(secret));
    free(plain);
    ck_assert_int_eq(lb_seal_open(other, "us-east-1/conn", sealed, &plain, &len), -EBADMSG);
    ck_assert_int_eq(lb_seal_open(key, "us-east-1/other", sealed, &plain, &len), -EBADMSG);
    char *bent = strdup(sealed);
    size_t at = strlen(LB_SEAL_PREFIX) + 20;
    bent[at] = bent[at] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(lb_seal_open(key, "us-east-1/conn", bent, &plain, &len), -EBADMSG);
    ck_assert_int_eq(lb_seal_open(key, "us-east-1/conn", "{\"plain\":1}", &plain, &len), -EINVAL);
    ck_assert_int_eq(lb_seal_open(key, "", LB_SEAL_PREFIX "abc", &plain, &len), -EINVAL);
    free(bent);
    free(sealed);
    free(again);
    ck_assert_int_eq(lb_seal(key, "", "", 0, &sealed), 0);
    ck_assert_int_eq(lb_seal_open(key, "", sealed, &plain, &len), 0);
    ck_assert_uint_eq(len, 0);
    free(plain);
    free(sealed);
}
END_TEST

START_TEST(key_text)
{
    unsigned char key[LB_SEAL_KEY_BYTES], back[LB_SEAL_KEY_BYTES];
    char text[66];
    ck_assert_int_eq(lb_seal_key_new(key), 0);
    lb_seal_key_format(key, text);
    ck_assert_uint_eq(strlen(text), 65);
    ck_assert_int_eq(lb_seal_key_parse(text, strlen(text), back), 0);
    ck_assert_mem_eq(key, back, sizeof key);
    ck_assert_int_eq(lb_seal_key_parse("abc", 3, back), -EINVAL);
    text[3] = 'x';
    ck_assert_int_eq(lb_seal_key_parse(text, strlen(text), back), -EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("seal");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, round_trip_and_refusals);
    tcase_add_test(tc, key_text);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}
