/* lb_policy_allows_put_events: the enforcement question PutEvents asks for a caller of another
 * account, answered from policy documents shaped as PutPermission writes them. */
#include <check.h>

#include "lb_policy.h"
#include "lb_test.h"

#define BUS "arn:aws:events:us-east-1:000000000000:event-bus/default"
#define OWNER "000000000000"

static int allows(const char *policy, const char *account, const char *org)
{
    return lb_policy_allows_put_events(policy, BUS, OWNER, account, org);
}

START_TEST(owner_always_others_only_by_policy)
{
    ck_assert(allows(NULL, OWNER, NULL));
    ck_assert(!allows(NULL, "111111111111", NULL));
    ck_assert(!allows("not json", "111111111111", NULL));
    const char *one = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"a\",\"Effect\":"
                      "\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111111111111:root\"},"
                      "\"Action\":\"events:PutEvents\",\"Resource\":\"" BUS "\"}]}";
    ck_assert(allows(one, "111111111111", NULL));
    ck_assert(!allows(one, "222222222222", NULL));
    const char *bare_id = "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
                          "[\"333333333333\",\"111111111111\"]},\"Action\":[\"events:*\"],"
                          "\"Resource\":\"arn:aws:events:us-east-1:000000000000:event-bus/*\"}}";
    ck_assert(allows(bare_id, "111111111111", NULL));
    ck_assert(allows(bare_id, "333333333333", NULL));
    const char *other_bus = "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
                            "\"Action\":\"events:PutEvents\",\"Resource\":"
                            "\"arn:aws:events:us-east-1:000000000000:event-bus/other\"}]}";
    ck_assert(!allows(other_bus, "111111111111", NULL));
    const char *wrong_action = "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
                               "\"Action\":\"events:PutRule\",\"Resource\":\"*\"}]}";
    ck_assert(!allows(wrong_action, "111111111111", NULL));
}
END_TEST

START_TEST(conditions_and_deny)
{
    const char *org = "{\"Statement\":[{\"Sid\":\"org\",\"Effect\":\"Allow\",\"Principal\":\"*\","
                      "\"Action\":\"events:PutEvents\",\"Resource\":\"" BUS "\",\"Condition\":"
                      "{\"StringEquals\":{\"aws:PrincipalOrgID\":\"o-1234567\"}}}]}";
    ck_assert(allows(org, "111111111111", "o-1234567"));
    ck_assert(!allows(org, "111111111111", "o-other"));
    ck_assert(!allows(org, "111111111111", NULL));
    const char *deny = "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":"
                       "\"events:PutEvents\",\"Resource\":\"*\"},{\"Effect\":\"Deny\","
                       "\"Principal\":{\"AWS\":\"222222222222\"},\"Action\":\"*\",\"Resource\":"
                       "\"*\"}]}";
    ck_assert(allows(deny, "111111111111", NULL));
    ck_assert(!allows(deny, "222222222222", NULL));
    const char *unknown = "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":"
                          "\"events:PutEvents\",\"Resource\":\"*\",\"Condition\":{\"IpAddress\":"
                          "{\"aws:SourceIp\":\"10.0.0.0/8\"}}}]}";
    ck_assert(!allows(unknown, "111111111111", NULL));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("policy_enforce");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, owner_always_others_only_by_policy);
    tcase_add_test(tc, conditions_and_deny);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}
