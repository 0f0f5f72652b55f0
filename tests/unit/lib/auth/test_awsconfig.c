/* lb_awsconfig: the SDKs' shared files (profiles, static keys before credential_process before
 * the config file's keys), the credential JSON of credential_process, ECS and IMDS, and the
 * EventBridge endpoint rules. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lb_awsconfig.h"
#include "lb_test.h"

static const char *credentials = "# shared credentials\n"
                                 "[default]\n"
                                 "aws_access_key_id = AKIDDEFAULT\n"
                                 "aws_secret_access_key = secret/default\n"
                                 "\n"
                                 "[dev]\n"
                                 "aws_access_key_id=AKIDDEV\n"
                                 "aws_secret_access_key=secret-dev\n"
                                 "aws_session_token = tok==\n"
                                 "[empty]\n";

static const char *config = "[default]\n"
                            "region = us-east-1\n"
                            "[profile proc]\n"
                            "credential_process = /usr/bin/get-creds --role x\n"
                            "s3 =\n"
                            "  aws_access_key_id = NESTED\n"
                            "[profile cfgkeys]\n"
                            "; comment\n"
                            "aws_access_key_id = AKIDCFG\n"
                            "aws_secret_access_key = secret-cfg\n"
                            "[profile both]\n"
                            "credential_process = echo {}\n";

static int read_profile(const char *name, lb_aws_profile_t *p)
{
    return lb_aws_profile_read(credentials, strlen(credentials), config, strlen(config), name, p);
}

START_TEST(profiles_in_the_sdks_order)
{
    lb_aws_profile_t p;
    ck_assert_int_eq(read_profile("default", &p), 0);
    ck_assert_str_eq(p.keys.access_key_id, "AKIDDEFAULT");
    ck_assert_str_eq(p.keys.secret_access_key, "secret/default");
    ck_assert_ptr_null(p.keys.session_token);
    ck_assert_str_eq(p.from, "credentials file");
    lb_aws_profile_clear(&p);
    ck_assert_int_eq(read_profile("dev", &p), 0);
    ck_assert_str_eq(p.keys.session_token, "tok==");
    lb_aws_profile_clear(&p);
    ck_assert_int_eq(read_profile("proc", &p), 0);
    ck_assert_ptr_null(p.keys.access_key_id);
    ck_assert_str_eq(p.credential_process, "/usr/bin/get-creds --role x");
    lb_aws_profile_clear(&p);
    ck_assert_int_eq(read_profile("cfgkeys", &p), 0);
    ck_assert_str_eq(p.keys.access_key_id, "AKIDCFG");
    ck_assert_str_eq(p.from, "config file");
    lb_aws_profile_clear(&p);
    ck_assert_int_eq(read_profile("empty", &p), 0);
    ck_assert_ptr_null(p.keys.access_key_id);
    ck_assert_ptr_null(p.credential_process);
    lb_aws_profile_clear(&p);
    ck_assert_int_eq(read_profile("nobody", &p), -ENOENT);
    ck_assert_int_eq(lb_aws_profile_read(NULL, 0, NULL, 0, "default", &p), -ENOENT);
    lb_aws_profile_clear(&p);
}
END_TEST

START_TEST(ini_lookup)
{
    char *v = lb_aws_ini_get(config, strlen(config), "default", "REGION");
    ck_assert_str_eq(v, "us-east-1");
    free(v);
    ck_assert_ptr_null(lb_aws_ini_get(config, strlen(config), "profile proc", "aws_access_key_id"));
    ck_assert_ptr_null(lb_aws_ini_get(NULL, 0, "default", "region"));
}
END_TEST

START_TEST(credential_json)
{
    lb_aws_creds_t c;
    char *why = NULL;
    const char *process = "{\"Version\": 1, \"AccessKeyId\": \"ASIAP\", \"SecretAccessKey\": "
                          "\"sp\", \"SessionToken\": \"tp\", \"Expiration\": "
                          "\"2024-01-02T03:04:05Z\"}";
    ck_assert_int_eq(lb_aws_creds_from_json(process, strlen(process), &c, &why), 0);
    ck_assert_str_eq(c.access_key_id, "ASIAP");
    ck_assert_str_eq(c.session_token, "tp");
    ck_assert_int_eq(c.expires_ms, 1704164645000);
    lb_aws_creds_clear(&c);
    const char *imds = "{\"Code\":\"Success\",\"LastUpdated\":\"2024-01-01T00:00:00Z\",\"Type\":"
                       "\"AWS-HMAC\",\"AccessKeyId\":\"ASIAI\",\"SecretAccessKey\":\"si\","
                       "\"Token\":\"ti\",\"Expiration\":\"2024-01-01T06:00:00Z\"}";
    ck_assert_int_eq(lb_aws_creds_from_json(imds, strlen(imds), &c, &why), 0);
    ck_assert_str_eq(c.session_token, "ti");
    lb_aws_creds_clear(&c);
    const char *statics = "{\"Version\":1,\"AccessKeyId\":\"AKID\",\"SecretAccessKey\":\"s\"}";
    ck_assert_int_eq(lb_aws_creds_from_json(statics, strlen(statics), &c, &why), 0);
    ck_assert_int_eq(c.expires_ms, 0);
    lb_aws_creds_clear(&c);
    const char *bad[] = {"[]", "{\"Version\":2,\"AccessKeyId\":\"a\",\"SecretAccessKey\":\"s\"}",
                         "{\"Code\":\"Failure\",\"AccessKeyId\":\"a\",\"SecretAccessKey\":\"s\"}",
                         "{\"AccessKeyId\":\"a\"}",
                         ("{\"AccessKeyId\":\"a\",\"SecretAccessKey\":\"TOPSECRET\","
                          "\"Expiration\":\"soon\"}")};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert_int_eq(lb_aws_creds_from_json(bad[i], strlen(bad[i]), &c, &why), -EINVAL);
        ck_assert_ptr_nonnull(why);
        ck_assert_ptr_null(strstr(why, "TOPSECRET"));
        free(why);
    }
}
END_TEST

START_TEST(endpoints)
{
    char out[256];
    lb_aws_events_endpoint("eu-west-1", "", NULL, NULL, out, sizeof out);
    ck_assert_str_eq(out, "https://events.eu-west-1.amazonaws.com");
    lb_aws_events_endpoint("cn-north-1", NULL, "", "", out, sizeof out);
    ck_assert_str_eq(out, "https://events.cn-north-1.amazonaws.com.cn");
    lb_aws_events_endpoint("eu-west-1", "", "", "http://localhost:4566/", out, sizeof out);
    ck_assert_str_eq(out, "http://localhost:4566");
    lb_aws_events_endpoint("eu-west-1", "", "http://events.test", "http://any", out, sizeof out);
    ck_assert_str_eq(out, "http://events.test");
    lb_aws_events_endpoint("eu-west-1", "https://vpce.example/", "http://events.test", NULL, out,
                           sizeof out);
    ck_assert_str_eq(out, "https://vpce.example");

    char host[128], path[128];
    ck_assert_int_eq(lb_aws_url_host_path("https://events.eu-west-1.amazonaws.com:443", host,
                                          sizeof host, path, sizeof path),
                     0);
    ck_assert_str_eq(host, "events.eu-west-1.amazonaws.com");
    ck_assert_str_eq(path, "/");
    ck_assert_int_eq(lb_aws_url_host_path("http://127.0.0.1:8080/prefix?x", host, sizeof host, path,
                                          sizeof path),
                     0);
    ck_assert_str_eq(host, "127.0.0.1:8080");
    ck_assert_str_eq(path, "/prefix");
    ck_assert_int_eq(lb_aws_url_host_path("http://[::1]:80", host, sizeof host, path, sizeof path),
                     0);
    ck_assert_str_eq(host, "[::1]");
    ck_assert_int_eq(lb_aws_url_host_path("ftp://x", host, sizeof host, path, sizeof path),
                     -EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("awsconfig");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, profiles_in_the_sdks_order);
    tcase_add_test(tc, ini_lookup);
    tcase_add_test(tc, credential_json);
    tcase_add_test(tc, endpoints);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}
