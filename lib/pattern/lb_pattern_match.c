/* Evaluating one compiled pattern against one flattened event, and explaining a failure.
 * Value semantics follow aws/event-ruler: exact numbers compare numerically (5 == 5.0) and never
 * equal strings; prefix, suffix, equals-ignore-case, wildcard and cidr apply to strings only;
 * anything-but matches every value it does not name, including null, numbers against string
 * lists and strings against number lists; exists:true matches any scalar, null included. */
#include "lb_pattern_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint64_t lb_num_key(double d)
{
    if (d == 0) d = 0.0; /* -0 and +0 are the same number */
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return (u >> 63) ? ~u : u | (UINT64_C(1) << 63);
}

int lb_parse_ip(const char *s, size_t len, uint8_t out[16])
{
    char tmp[64];
    if (len == 0 || len >= sizeof tmp) return 0;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    if (memchr(tmp, ':', len)) return inet_pton(AF_INET6, tmp, out) == 1 ? 16 : 0;
    return inet_pton(AF_INET, tmp, out) == 1 ? 4 : 0;
}

/* Case folding for equals-ignore-case: ASCII, Latin-1, Greek and Cyrillic capitals map to their
 * lower-case forms. Every mapping keeps the UTF-8 length, so folded text is as long as the
 * input and prefix/suffix lengths carry over. */
static void fold_into(const char *s, size_t len, char *out)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        unsigned char c = u[i];
        if (c < 0x80) {
            out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0 && i + 1 < len) {
            unsigned cp = ((unsigned)(c & 0x1F) << 6) | (u[i + 1] & 0x3F);
            if ((cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) ||
                (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2) || (cp >= 0x410 && cp <= 0x42F))
                cp += 0x20;
            else if (cp >= 0x400 && cp <= 0x40F)
                cp += 0x50;
            out[i] = (char)(0xC0 | (cp >> 6));
            out[i + 1] = (char)(0x80 | (cp & 0x3F));
            i += 2;
            continue;
        }
        out[i] = (char)c;
        i++;
    }
}

char *lb_fold_case(const char *s, size_t len, size_t *out_len)
{
    char *d = lb_xmalloc(len + 1);
    fold_into(s, len, d);
    d[len] = '\0';
    *out_len = len;
    return d;
}

/* A folded copy of a leaf string: in buf when it fits, else malloc'd (freed by folded_done). */
static const char *folded(const lb_leaf_t *l, char *buf, size_t cap)
{
    char *d = l->len < cap ? buf : lb_xmalloc(l->len + 1);
    fold_into(l->s, l->len, d);
    return d;
}

static void folded_done(const char *d, const char *buf)
{
    if (d != buf) free((char *)d);
}

/* '*' matches any run of characters (including none); "\*" and "\\" are literal. */
static bool wildcard_match(const char *p, size_t plen, const char *s, size_t slen)
{
    size_t pi = 0, si = 0, star_pi = SIZE_MAX, star_si = 0;
    while (si < slen) {
        if (pi < plen && p[pi] == '*') {
            star_pi = ++pi;
            star_si = si;
            continue;
        }
        if (pi < plen) {
            char lit = p[pi];
            size_t adv = 1;
            if (lit == '\\' && pi + 1 < plen) {
                lit = p[pi + 1];
                adv = 2;
            }
            if (lit == s[si]) {
                pi += adv;
                si++;
                continue;
            }
        }
        if (star_pi == SIZE_MAX) return false;
        pi = star_pi;
        si = ++star_si;
    }
    while (pi < plen && p[pi] == '*')
        pi++;
    return pi == plen;
}

static bool has_prefix(const char *s, size_t len, const char *p, size_t plen)
{
    return len >= plen && !memcmp(s, p, plen);
}

static bool has_suffix(const char *s, size_t len, const char *p, size_t plen)
{
    return len >= plen && !memcmp(s + len - plen, p, plen);
}

static bool in_range(const lb_cond_t *c, double x)
{
    if (c->has_lo && (c->lo_incl ? x < c->lo : x <= c->lo)) return false;
    if (c->has_hi && (c->hi_incl ? x > c->hi : x >= c->hi)) return false;
    return true;
}

static bool cidr_match(const lb_cond_t *c, const lb_leaf_t *l)
{
    uint8_t a[16];
    if (lb_parse_ip(l->s, l->len, a) != c->addr_len) return false;
    int bits = c->mask_bits;
    for (int i = 0; i < c->addr_len && bits > 0; i++, bits -= 8) {
        uint8_t mask = bits >= 8 ? 0xFF : (uint8_t)(0xFF << (8 - bits));
        if ((a[i] & mask) != c->addr[i]) return false;
    }
    return true;
}

/* For the anything-but string forms: does any listed operand hit the string? */
static bool any_string_hits(const lb_cond_t *c, const lb_leaf_t *l)
{
    char buf[256];
    const char *s = l->s;
    if (c->kind == LB_C_AB_EIC) s = folded(l, buf, sizeof buf);
    bool hit = false;
    for (size_t i = 0; i < c->n_strs && !hit; i++) {
        const lb_str_t *o = &c->strs[i];
        switch (c->kind) {
        case LB_C_AB_VALUES:
        case LB_C_AB_EIC:
            hit = l->len == o->len && !memcmp(s, o->s, o->len);
            break;
        case LB_C_AB_PREFIX:
            hit = has_prefix(s, l->len, o->s, o->len);
            break;
        case LB_C_AB_SUFFIX:
            hit = has_suffix(s, l->len, o->s, o->len);
            break;
        case LB_C_AB_WILDCARD:
            hit = wildcard_match(o->s, o->len, s, l->len);
            break;
        default:
            break;
        }
    }
    if (c->kind == LB_C_AB_EIC) folded_done(s, buf);
    return hit;
}

bool lb_cond_matches_leaf(const lb_cond_t *c, const lb_leaf_t *l)
{
    bool str = l->type == LB_V_STRING;
    switch (c->kind) {
    case LB_C_STRING:
        return str && l->len == c->len && !memcmp(l->s, c->s, c->len);
    case LB_C_NUMBER:
        return l->type == LB_V_NUMBER && l->num == c->num;
    case LB_C_TRUE:
        return l->type == LB_V_TRUE;
    case LB_C_FALSE:
        return l->type == LB_V_FALSE;
    case LB_C_NULL:
        return l->type == LB_V_NULL;
    case LB_C_PREFIX:
        return str && has_prefix(l->s, l->len, c->s, c->len);
    case LB_C_SUFFIX:
        return str && has_suffix(l->s, l->len, c->s, c->len);
    case LB_C_EIC:
    case LB_C_PREFIX_EIC:
    case LB_C_SUFFIX_EIC: {
        if (!str || l->len < c->len) return false;
        if (c->kind == LB_C_EIC && l->len != c->len) return false;
        char buf[256];
        const char *f = folded(l, buf, sizeof buf);
        bool r = c->kind == LB_C_SUFFIX_EIC ? has_suffix(f, l->len, c->s, c->len)
                                            : has_prefix(f, l->len, c->s, c->len);
        folded_done(f, buf);
        return r;
    }
    case LB_C_WILDCARD:
        return str && wildcard_match(c->s, c->len, l->s, l->len);
    case LB_C_RANGE:
        return l->type == LB_V_NUMBER && in_range(c, l->num);
    case LB_C_CIDR:
        return str && cidr_match(c, l);
    case LB_C_EXISTS:
        return true;
    case LB_C_NOT_EXISTS:
        return false;
    case LB_C_AB_VALUES:
        if (l->type == LB_V_NUMBER) {
            for (size_t i = 0; i < c->n_nums; i++)
                if (c->nums[i] == l->num) return false;
            return true;
        }
        return !str || !any_string_hits(c, l);
    case LB_C_AB_PREFIX:
    case LB_C_AB_SUFFIX:
    case LB_C_AB_EIC:
    case LB_C_AB_WILDCARD:
        return !str || !any_string_hits(c, l);
    }
    return false;
}

static bool field_matches_leaf(const lb_field_t *f, const lb_leaf_t *l)
{
    for (size_t i = 0; i < f->n_conds; i++)
        if (lb_cond_matches_leaf(&f->conds[i], l)) return true;
    return false;
}

/* Two leaves are compatible unless they sit in different elements of one array. Arrays nest as
 * a tree, so shared arrays form a common prefix of both membership lists. */
static bool compatible(const lb_event_t *e, const lb_leaf_t *a, const lb_leaf_t *b)
{
    const uint32_t *ma = e->memb + a->memb_off, *mb = e->memb + b->memb_off;
    uint32_t n = a->memb_n < b->memb_n ? a->memb_n : b->memb_n;
    for (uint32_t k = 0; k < n; k++) {
        if (ma[2 * k] != mb[2 * k]) return true;
        if (ma[2 * k + 1] != mb[2 * k + 1]) return false;
    }
    return true;
}

typedef struct {
    const lb_event_t *e;
    const lb_leaf_t **chosen; /* per field: the leaf used, or NULL when satisfied by absence */
    uint32_t **cand;          /* per field: indices of leaves that satisfy it */
    size_t *n_cand;
    size_t n_fields;
    size_t budget; /* bounds the search on adversarial events */
} search_t;

static bool search(search_t *s, size_t i)
{
    if (i == s->n_fields) return true;
    if (!s->n_cand[i]) { /* satisfied by absence */
        s->chosen[i] = NULL;
        return search(s, i + 1);
    }
    for (size_t k = 0; k < s->n_cand[i]; k++) {
        if (s->budget == 0) return false;
        s->budget--;
        const lb_leaf_t *l = &s->e->leaves[s->cand[i][k]];
        bool ok = true;
        for (size_t j = 0; j < i && ok; j++)
            if (s->chosen[j]) ok = compatible(s->e, s->chosen[j], l);
        if (!ok) continue;
        s->chosen[i] = l;
        if (search(s, i + 1)) return true;
    }
    return false;
}

/* Returns the index of the first field that fails on its own (-1 if none), and via *consistent
 * whether a consistent choice of leaves exists when every field passes. */
static long branch_eval(const lb_branch_t *b, const lb_event_t *e, bool *consistent)
{
    size_t n = b->n_fields;
    uint32_t *cand_store[16];
    size_t ncand_store[16];
    uint32_t **cand = n <= 16 ? cand_store : lb_xcalloc(n, sizeof *cand);
    size_t *n_cand = n <= 16 ? ncand_store : lb_xcalloc(n, sizeof *n_cand);
    bool any_memb = false;
    long failed = -1;
    for (size_t i = 0; i < n; i++) {
        cand[i] = NULL;
        n_cand[i] = 0;
    }
    for (size_t i = 0; i < n; i++) {
        const lb_field_t *f = b->fields[i];
        long pi = lb_event_find_path(e, f->path, f->path_len);
        if (pi < 0) {
            if (f->absent_ok) continue;
            failed = (long)i;
            break;
        }
        const lb_epath_t *ep = &e->paths[pi];
        for (uint32_t k = ep->first; k < ep->first + ep->count; k++) {
            const lb_leaf_t *l = &e->leaves[k];
            if (!field_matches_leaf(f, l)) continue;
            if (!cand[i]) cand[i] = lb_xmalloc(ep->count * sizeof *cand[i]);
            cand[i][n_cand[i]++] = k;
            if (l->memb_n) any_memb = true;
        }
        if (!n_cand[i]) {
            failed = (long)i;
            break;
        }
    }
    *consistent = true;
    if (failed < 0 && any_memb && n > 1) {
        const lb_leaf_t *chosen_store[16];
        const lb_leaf_t **chosen = n <= 16 ? chosen_store : lb_xcalloc(n, sizeof *chosen);
        search_t s = {e, chosen, cand, n_cand, n, 1u << 20};
        *consistent = search(&s, 0);
        if (chosen != chosen_store) free(chosen);
    }
    for (size_t i = 0; i < n; i++)
        free(cand[i]);
    if (cand != cand_store) free(cand);
    if (n_cand != ncand_store) free(n_cand);
    return failed;
}

bool lb_branch_matches(const lb_branch_t *b, const lb_event_t *e)
{
    bool consistent;
    return branch_eval(b, e, &consistent) < 0 && consistent;
}

int lb_pattern_matches(const lb_pattern_t *p, const lb_event_t *e)
{
    for (size_t i = 0; i < p->n_branches; i++)
        if (lb_branch_matches(&p->branches[i], e)) return 1;
    return 0;
}

static void write_leaf(lb_buf_t *b, const lb_leaf_t *l)
{
    switch (l->type) {
    case LB_V_STRING:
        lb_buf_json_string(b, l->s, l->len);
        break;
    case LB_V_NUMBER:
        lb_buf_append(b, l->s, l->len);
        break;
    case LB_V_TRUE:
        lb_buf_puts(b, "true");
        break;
    case LB_V_FALSE:
        lb_buf_puts(b, "false");
        break;
    case LB_V_NULL:
        lb_buf_puts(b, "null");
        break;
    }
}

int lb_pattern_explain(const lb_pattern_t *p, const lb_event_t *e, char **why)
{
    *why = NULL;
    lb_buf_t b = {0};
    for (size_t i = 0; i < p->n_branches; i++) {
        const lb_branch_t *br = &p->branches[i];
        bool consistent;
        long failed = branch_eval(br, e, &consistent);
        if (failed < 0 && consistent) {
            lb_buf_free(&b);
            return 0;
        }
        if (i) lb_buf_puts(&b, "; or ");
        if (failed < 0) {
            lb_buf_puts(&b, "fields ");
            for (size_t j = 0; j < br->n_fields; j++)
                lb_buf_printf(&b, "%s%s", j ? ", " : "", br->fields[j]->path);
            lb_buf_puts(&b, ": each matches, but only in different elements of the same array");
            continue;
        }
        const lb_field_t *f = br->fields[failed];
        lb_buf_printf(&b, "field %s: pattern wants %s, ", f->path, f->wants);
        long pi = lb_event_find_path(e, f->path, f->path_len);
        if (pi < 0) {
            lb_buf_puts(&b, "field absent");
            continue;
        }
        const lb_epath_t *ep = &e->paths[pi];
        lb_buf_puts(&b, "event has ");
        if (ep->count > 1) lb_buf_puts(&b, "[");
        for (uint32_t k = 0; k < ep->count; k++) {
            if (k) lb_buf_puts(&b, ",");
            write_leaf(&b, &e->leaves[ep->first + k]);
        }
        if (ep->count > 1) lb_buf_puts(&b, "]");
    }
    *why = lb_buf_steal(&b, NULL);
    return *why ? 0 : -ENOMEM;
}
