/* The AWS SDKs' conventions for finding credentials and endpoints, as pure functions the daemon's
 * credential provider (daemon/delivery/lb_awscreds) drives: the shared config and credentials
 * files of a profile, the JSON that credential_process, ECS container credentials and EC2
 * instance metadata answer with, and which EventBridge endpoint to call. No I/O, no clock.
 *
 * Ownership: every string in lb_aws_creds_t and lb_aws_profile_t is malloc'd and freed by the
 * matching _clear, which wipes secrets first. */
#ifndef LB_AWSCONFIG_H
#define LB_AWSCONFIG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *access_key_id, *secret_access_key, *session_token; /* token NULL for long-term keys */
    int64_t expires_ms;                                      /* 0: does not expire */
} lb_aws_creds_t;

void lb_aws_creds_clear(lb_aws_creds_t *c);
/* A deep copy of src into dst (dst's old contents cleared first). */
void lb_aws_creds_copy(lb_aws_creds_t *dst, const lb_aws_creds_t *src);

/* What a profile of the shared files says, in the SDKs' order: static keys of the credentials
 * file's [NAME] section; else credential_process of the config file's [profile NAME] section
 * ([default] for the default profile) or the credentials file's; else static keys of the config
 * file. */
typedef struct {
    lb_aws_creds_t keys;      /* access_key_id NULL when the profile has no static keys */
    char *credential_process; /* or NULL */
    const char *from;         /* "credentials file", "config file" (static) */
} lb_aws_profile_t;

void lb_aws_profile_clear(lb_aws_profile_t *p);
/* Either text may be NULL (file absent). 0 with *out filled (possibly empty), -ENOENT when the
 * profile is in neither file. */
int lb_aws_profile_read(const char *credentials, size_t credentials_len, const char *config,
                        size_t config_len, const char *profile, lb_aws_profile_t *out);

/* The value of key in section of an INI text (the shared files' format: [section], key = value,
 * '#' and ';' comments, indented sub-property lines ignored), malloc'd, or NULL. */
char *lb_aws_ini_get(const char *text, size_t len, const char *section, const char *key);

/* Credentials from the JSON that credential_process (Version 1: AccessKeyId, SecretAccessKey,
 * SessionToken, Expiration), the ECS container endpoint (..., Token, Expiration) or EC2 instance
 * metadata (Code "Success", ...) answer with. Expiration is ISO-8601. 0, or -EINVAL with *why
 * (malloc'd, never quoting a secret). */
int lb_aws_creds_from_json(const char *json, size_t len, lb_aws_creds_t *out, char **why);

/* The EventBridge endpoint for region: configured (forward_endpoint) wins, then
 * AWS_ENDPOINT_URL_EVENTS, then AWS_ENDPOINT_URL (the SDKs' convention; NULL or "" when unset),
 * else https://events.REGION.amazonaws.com (.amazonaws.com.cn in China's regions). Any trailing
 * '/' is dropped. */
void lb_aws_events_endpoint(const char *region, const char *configured, const char *env_events,
                            const char *env_any, char *out, size_t n);

/* The Host header a client sends for url (the authority, the port left out when it is the
 * scheme's default, lower-cased), and its path ("/" when empty). -EINVAL if url is not
 * http(s)://HOST[:PORT][/PATH]. */
int lb_aws_url_host_path(const char *url, char *host, size_t host_n, char *path, size_t path_n);

#endif
