/* What a web browser on the same machine could make the daemon do, and the checks that stop it.
 *
 * DNS rebinding: a page on attacker.example makes its name resolve to 127.0.0.1 and then talks to
 * the daemon as its own origin. The request still says `Host: attacker.example`, so the daemon
 * answers only Host names it serves: IP literals (rebinding needs a name), localhost and
 * *.localhost, and the names configured in allowed_hosts ("*" turns the check off).
 *
 * Cross-site request forgery: a page anywhere can send a "simple" POST (text/plain, no custom
 * headers, no preflight) to http://127.0.0.1:4010. State-changing admin endpoints therefore
 * refuse requests a browser marks as coming from another site (Sec-Fetch-Site, Origin) and take
 * only a JSON content type, which a browser cannot send cross-origin without a CORS preflight
 * the daemon never grants.
 *
 * Pure functions on header values; no state. */
#ifndef LB_ORIGIN_H
#define LB_ORIGIN_H

/* 1 if a request with this Host header (NULL: none, as HTTP/1.0 allows) may be answered;
 * allowed is the allowed_hosts setting (comma-separated names, "*", or ""). */
int lb_origin_host_allowed(const char *host, const char *allowed);

/* 1 if the browser says the request comes from another origin than host: Sec-Fetch-Site other
 * than same-origin or none, or an Origin (including "null") whose host and port are not the
 * Host header's. Requests without either header (curl, SDKs) are not cross-origin. */
int lb_origin_cross_site(const char *origin, const char *sec_fetch_site, const char *host);

/* 1 if content_type is a JSON media type (application/json, application/x-amz-json-1.0/1.1,
 * parameters such as charset allowed). */
int lb_origin_json_content_type(const char *content_type);

#endif
