/* lb_origin: the Host allowlist that closes DNS rebinding and the cross-origin and content-type
 * checks that close CSRF on admin endpoints. */
#include <check.h>

#include "lb_origin.h"
#include "lb_test.h"

START_TEST(hosts)
{
    ck_assert(lb_origin_host_allowed(NULL, ""));
    ck_assert(lb_origin_host_allowed("127.0.0.1:4010", ""));
    ck_assert(lb_origin_host_allowed("127.0.0.1", ""));
    ck_assert(lb_origin_host_allowed("10.1.2.3:80", ""));
    ck_assert(lb_origin_host_allowed("[::1]:4010", ""));
    ck_assert(lb_origin_host_allowed("localhost:4010", ""));
    ck_assert(lb_origin_host_allowed("LocalHost.", ""));
    ck_assert(lb_origin_host_allowed("app.localhost:4010", ""));
    ck_assert(!lb_origin_host_allowed("attacker.example", ""));
    ck_assert(!lb_origin_host_allowed("attacker.example:4010", ""));
    ck_assert(!lb_origin_host_allowed("localhost.attacker.example", ""));
    ck_assert(!lb_origin_host_allowed("evillocalhost", ""));
    ck_assert(!lb_origin_host_allowed("127.0.0.1.nip.io:4010", ""));
    ck_assert(!lb_origin_host_allowed("[::1", ""));
    ck_assert(!lb_origin_host_allowed("[attacker]:80", ""));
    ck_assert(!lb_origin_host_allowed("", ""));
    ck_assert(lb_origin_host_allowed("localbridge:4010", "localbridge"));
    ck_assert(lb_origin_host_allowed("Events.Internal", " localbridge , events.internal"));
    ck_assert(!lb_origin_host_allowed("events.internal.evil", "events.internal"));
    ck_assert(lb_origin_host_allowed("anything.example", "*"));
}
END_TEST

START_TEST(cross_site)
{
    ck_assert(!lb_origin_cross_site(NULL, NULL, "127.0.0.1:4010"));
    ck_assert(!lb_origin_cross_site("http://127.0.0.1:4010", NULL, "127.0.0.1:4010"));
    ck_assert(!lb_origin_cross_site("http://LOCALHOST:4010", "same-origin", "localhost:4010"));
    ck_assert(!lb_origin_cross_site(NULL, "none", "localhost:4010"));
    ck_assert(!lb_origin_cross_site("http://localhost", NULL, "localhost:80"));
    ck_assert(lb_origin_cross_site("http://attacker.example", NULL, "127.0.0.1:4010"));
    ck_assert(lb_origin_cross_site("http://127.0.0.1:8080", NULL, "127.0.0.1:4010"));
    ck_assert(lb_origin_cross_site("null", NULL, "127.0.0.1:4010"));
    ck_assert(lb_origin_cross_site(NULL, "cross-site", "127.0.0.1:4010"));
    ck_assert(lb_origin_cross_site(NULL, "same-site", "127.0.0.1:4010"));
    ck_assert(lb_origin_cross_site("http://127.0.0.1:4010", "cross-site", "127.0.0.1:4010"));
}
END_TEST

START_TEST(json_content_types)
{
    ck_assert(lb_origin_json_content_type("application/json"));
    ck_assert(lb_origin_json_content_type("Application/JSON; charset=utf-8"));
    ck_assert(lb_origin_json_content_type("application/x-amz-json-1.1"));
    ck_assert(!lb_origin_json_content_type(NULL));
    ck_assert(!lb_origin_json_content_type("text/plain"));
    ck_assert(!lb_origin_json_content_type("application/x-www-form-urlencoded"));
    ck_assert(!lb_origin_json_content_type("multipart/form-data; boundary=x"));
    ck_assert(!lb_origin_json_content_type("application/jsonp"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("origin");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, hosts);
    tcase_add_test(tc, cross_site);
    tcase_add_test(tc, json_content_types);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}
