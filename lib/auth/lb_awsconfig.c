/* AWS SDK conventions for credentials and endpoints. See lb_awsconfig.h. */
#include "lb_awsconfig.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lb_json.h"
#include "lb_util.h"

static void wipe_free(char **s)
{
    if (*s) OPENSSL_cleanse(*s, strlen(*s));
    free(*s);
    *s = NULL;
}

void lb_aws_creds_clear(lb_aws_creds_t *c)
{
    free(c->access_key_id);
    c->access_key_id = NULL;
    wipe_free(&c->secret_access_key);
    wipe_free(&c->session_token);
    c->expires_ms = 0;
}

void lb_aws_creds_copy(lb_aws_creds_t *dst, const lb_aws_creds_t *src)
{
    lb_aws_creds_clear(dst);
    dst->access_key_id = lb_strdup(src->access_key_id);
    dst->secret_access_key = lb_strdup(src->secret_access_key);
    dst->session_token = lb_strdup(src->session_token);
    dst->expires_ms = src->expires_ms;
}

void lb_aws_profile_clear(lb_aws_profile_t *p)
{
    lb_aws_creds_clear(&p->keys);
    free(p->credential_process);
    memset(p, 0, sizeof *p);
}

/* ---- INI ---- */

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* [start, end) trimmed of blanks. */
static void trim(const char **start, const char **end)
{
    while (*start < *end && is_blank(**start))
        (*start)++;
    while (*end > *start && is_blank((*end)[-1]))
        (*end)--;
}

char *lb_aws_ini_get(const char *text, size_t len, const char *section, const char *key)
{
    if (!text) return NULL;
    int in_section = 0;
    char *found = NULL;
    for (const char *p = text, *stop = text + len; p < stop;) {
        const char *nl = memchr(p, '\n', (size_t)(stop - p));
        const char *end = nl ? nl : stop, *s = p;
        p = nl ? nl + 1 : stop;
        /* An indented line continues the previous property (nested sub-properties). */
        if (s < end && is_blank(*s)) continue;
        trim(&s, &end);
        if (s == end || *s == '#' || *s == ';') continue;
        if (*s == '[') {
            const char *close = memchr(s, ']', (size_t)(end - s));
            if (!close) continue;
            const char *a = s + 1, *b = close;
            trim(&a, &b);
            in_section =
                (size_t)(b - a) == strlen(section) && strncmp(a, section, strlen(section)) == 0;
            continue;
        }
        const char *eq = memchr(s, '=', (size_t)(end - s));
        if (!in_section || !eq) continue;
        const char *k = s, *ke = eq, *v = eq + 1, *ve = end;
        trim(&k, &ke);
        trim(&v, &ve);
        if ((size_t)(ke - k) == strlen(key) && strncasecmp(k, key, strlen(key)) == 0) {
            free(found); /* the last one wins */
            found = strndup(v, (size_t)(ve - v));
            if (!found) abort();
        }
    }
    return found;
}

/* 1 if the INI text has a [section] header. */
static int has_section(const char *text, size_t len, const char *section)
{
    if (!text) return 0;
    for (const char *p = text, *stop = text + len; p < stop;) {
        const char *nl = memchr(p, '\n', (size_t)(stop - p));
        const char *s = p, *end = nl ? nl : stop;
        p = nl ? nl + 1 : stop;
        trim(&s, &end);
        if (s == end || *s != '[') continue;
        const char *close = memchr(s, ']', (size_t)(end - s));
        if (!close) continue;
        const char *a = s + 1, *b = close;
        trim(&a, &b);
        if ((size_t)(b - a) == strlen(section) && strncmp(a, section, strlen(section)) == 0)
            return 1;
    }
    return 0;
}

static void static_keys(const char *text, size_t len, const char *section, lb_aws_creds_t *out)
{
    char *id = lb_aws_ini_get(text, len, section, "aws_access_key_id");
    char *secret = lb_aws_ini_get(text, len, section, "aws_secret_access_key");
    if (id && *id && secret && *secret) {
        out->access_key_id = id;
        out->secret_access_key = secret;
        out->session_token = lb_aws_ini_get(text, len, section, "aws_session_token");
        if (out->session_token && !*out->session_token) wipe_free(&out->session_token);
        return;
    }
    free(id);
    wipe_free(&secret);
}

int lb_aws_profile_read(const char *credentials, size_t credentials_len, const char *config,
                        size_t config_len, const char *profile, lb_aws_profile_t *out)
{
    memset(out, 0, sizeof *out);
    char config_section[300];
    if (strcmp(profile, "default") == 0)
        snprintf(config_section, sizeof config_section, "default");
    else
        snprintf(config_section, sizeof config_section, "profile %s", profile);
    int present = has_section(credentials, credentials_len, profile) ||
                  has_section(config, config_len, config_section);
    static_keys(credentials, credentials_len, profile, &out->keys);
    if (out->keys.access_key_id) {
        out->from = "credentials file";
        return 0;
    }
    char *process = lb_aws_ini_get(config, config_len, config_section, "credential_process");
    if (!process)
        process = lb_aws_ini_get(credentials, credentials_len, profile, "credential_process");
    if (process && *process) {
        out->credential_process = process;
        return 0;
    }
    free(process);
    static_keys(config, config_len, config_section, &out->keys);
    if (out->keys.access_key_id) out->from = "config file";
    return present ? 0 : -ENOENT;
}

/* ---- credentials JSON ---- */

static int fail(char **why, const char *msg)
{
    if (why) *why = lb_strdup(msg);
    return -EINVAL;
}

int lb_aws_creds_from_json(const char *json, size_t len, lb_aws_creds_t *out, char **why)
{
    memset(out, 0, sizeof *out);
    if (why) *why = NULL;
    lb_json_doc_t *doc = NULL;
    if (lb_json_parse(json, len, 16, &doc, NULL) || lb_json_doc_root(doc)->type != LB_JSON_OBJECT) {
        lb_json_doc_free(&doc);
        return fail(why, "the answer is not a JSON object");
    }
    const lb_json_t *root = lb_json_doc_root(doc);
    const char *code = lb_json_get_str(root, "Code");
    const lb_json_t *version = lb_json_get(root, "Version");
    const char *id = lb_json_get_str(root, "AccessKeyId");
    const char *secret = lb_json_get_str(root, "SecretAccessKey");
    const char *token = lb_json_get_str(root, "SessionToken");
    if (!token) token = lb_json_get_str(root, "Token");
    const char *expiration = lb_json_get_str(root, "Expiration");
    int rc = 0;
    int64_t expires = 0;
    if (code && strcmp(code, "Success") != 0)
        rc = fail(why, "the instance metadata service did not answer Success");
    else if (version && !(version->type == LB_JSON_NUMBER && version->num == 1))
        rc = fail(why, "credential_process output must have Version 1");
    else if (!id || !*id || !secret || !*secret)
        rc = fail(why, "the answer lacks AccessKeyId or SecretAccessKey");
    else if (expiration && lb_parse_time_iso(expiration, &expires))
        rc = fail(why, "Expiration is not an ISO-8601 time");
    if (rc == 0) {
        out->access_key_id = lb_strdup(id);
        out->secret_access_key = lb_strdup(secret);
        out->session_token = token && *token ? lb_strdup(token) : NULL;
        out->expires_ms = expiration ? expires : 0;
    }
    /* The parsed document holds the secret too. */
    lb_json_doc_free(&doc);
    return rc;
}

/* ---- endpoints ---- */

void lb_aws_events_endpoint(const char *region, const char *configured, const char *env_events,
                            const char *env_any, char *out, size_t n)
{
    const char *chosen = configured && *configured   ? configured
                         : env_events && *env_events ? env_events
                         : env_any && *env_any       ? env_any
                                                     : NULL;
    if (chosen) {
        snprintf(out, n, "%s", chosen);
        size_t l = strlen(out);
        while (l > 0 && out[l - 1] == '/')
            out[--l] = '\0';
        return;
    }
    snprintf(out, n, "https://events.%s.amazonaws.com%s", region,
             strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
}

int lb_aws_url_host_path(const char *url, char *host, size_t host_n, char *path, size_t path_n)
{
    const char *rest;
    int https;
    if (strncasecmp(url, "http://", 7) == 0) {
        rest = url + 7;
        https = 0;
    } else if (strncasecmp(url, "https://", 8) == 0) {
        rest = url + 8;
        https = 1;
    } else {
        return -EINVAL;
    }
    size_t auth = strcspn(rest, "/?#");
    if (auth == 0 || auth >= host_n) return -EINVAL;
    for (size_t i = 0; i < auth; i++)
        host[i] = (char)tolower((unsigned char)rest[i]);
    host[auth] = '\0';
    /* The scheme's default port is left out, as clients leave it out of Host. */
    const char *dflt = https ? ":443" : ":80";
    size_t dl = strlen(dflt);
    if (auth > dl && strcmp(host + auth - dl, dflt) == 0) host[auth - dl] = '\0';
    const char *p = rest + auth;
    size_t pl = strcspn(p, "?#");
    snprintf(path, path_n, "%.*s", (int)pl, pl ? p : "/");
    if (!pl) snprintf(path, path_n, "/");
    return 0;
}
