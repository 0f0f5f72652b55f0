/* Many patterns indexed together so that matching an event costs about the same with 10,000
 * rules as with 10.
 *
 * Each rule is expanded into branches (one per $or combination). Every branch is filed in a hash
 * index under the keys of one "key field": a field whose alternatives can all be looked up by
 * value (exact strings, numbers, booleans and null, prefixes, suffixes, equals-ignore-case,
 * numeric ranges, CIDR blocks, exists:true). Among a branch's fields we pick the one whose keys
 * currently hold the fewest branches, so rules that share "source": ["aws.ec2"] are told apart
 * by a more selective field. Branches without such a field (only anything-but, wildcard or
 * exists:false) go on a scan list checked for every event.
 *
 * Matching an event walks its distinct paths; for each path that some key field uses, each value
 * is looked up: one probe for exact values, one per length for prefixes and suffixes (suffix keys
 * are stored reversed so the probe hash extends character by character), 65 probes for numbers
 * against numeric ranges (ranges are stored as aligned binary blocks of the order-preserving
 * 64-bit image of a double, the way a segment tree would split them), 33 or 129 for CIDR blocks.
 * The branches found are candidates; each is confirmed with the exact evaluator
 * (lb_branch_matches), so the index only has to never miss, and a hash collision costs time, not
 * correctness. */
#include "lb_pattern_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Per path and lookup class, which prefix/suffix lengths, range block depths and CIDR mask sizes
 * are filed, so matching probes only those. Bit MASK_BITS - 1 stands for "that long or longer".
 * Bits are never cleared while the path is in use: a stale bit costs a probe, never a match. */
#define MASK_WORDS LB_MASK_WORDS
#define MASK_BITS (MASK_WORDS * 64)

enum {
    K_EXACT,
    K_PREFIX,
    K_SUFFIX,
    K_EIC,
    K_PREFIX_EIC,
    K_SUFFIX_EIC,
    K_RANGE,
    K_CIDR,
    K_EXISTS,
    K_COUNT
};

typedef struct {
    uint64_t rule_id;
    lb_pattern_t *p; /* owned by the rule's first slot */
    uint32_t branch;
    int32_t key_field; /* index in the branch, or -1 when on the scan list */
    bool live;
    bool owns_pattern;
} slot_t;

struct lb_matcher {
    lb_hmap_t index; /* kind byte + path + NUL + value bytes -> branch slots */
    lb_hmap_t paths; /* 'I' + path -> counts per lookup class */
    lb_hmap_t rules; /* rule id (8 bytes) -> its slots */
    slot_t *slots;
    size_t n_slots, cap_slots;
    lb_u32vec_t free_slots;
    lb_u32vec_t scan;
    size_t n_rules;
};

/* ---- keys ---- */

typedef struct {
    char *b;
    size_t len, cap;
} keybuf_t;

static void kb_reset(keybuf_t *k)
{
    k->len = 0;
}

static void kb_reserve(keybuf_t *k, size_t n);

static void kb_put(keybuf_t *k, const void *d, size_t n)
{
    kb_reserve(k, n);
    if (n) memcpy(k->b + k->len, d, n);
    k->len += n;
}

static void kb_head(keybuf_t *k, char kind, const char *path, size_t path_len)
{
    kb_reset(k);
    kb_put(k, &kind, 1);
    kb_put(k, path, path_len);
    kb_put(k, "", 1);
}

static int cond_class(const lb_cond_t *c)
{
    switch (c->kind) {
    case LB_C_STRING:
    case LB_C_NUMBER:
    case LB_C_TRUE:
    case LB_C_FALSE:
    case LB_C_NULL:
        return K_EXACT;
    case LB_C_PREFIX:
        return K_PREFIX;
    case LB_C_SUFFIX:
        return K_SUFFIX;
    case LB_C_EIC:
        return K_EIC;
    case LB_C_PREFIX_EIC:
        return K_PREFIX_EIC;
    case LB_C_SUFFIX_EIC:
        return K_SUFFIX_EIC;
    case LB_C_RANGE:
        return K_RANGE;
    case LB_C_CIDR:
        return K_CIDR;
    case LB_C_EXISTS:
        return K_EXISTS;
    default:
        return -1;
    }
}

static const char class_tag[K_COUNT] = {'=', 'P', 'X', 'E', 'p', 'x', 'R', 'C', 'Y'};

static void kb_reserve(keybuf_t *k, size_t n)
{
    if (k->len + n > k->cap) {
        while (k->len + n > k->cap)
            k->cap = k->cap ? k->cap * 2 : 256;
        k->b = lb_xrealloc(k->b, k->cap);
    }
}

static void put_reversed(keybuf_t *k, const char *s, size_t len)
{
    kb_reserve(k, len);
    for (size_t i = 0; i < len; i++)
        k->b[k->len + i] = s[len - 1 - i];
    k->len += len;
}

static void put_exact_value(keybuf_t *k, const lb_cond_t *c)
{
    char t;
    switch (c->kind) {
    case LB_C_STRING:
        kb_put(k, "s", 1);
        kb_put(k, c->s, c->len);
        break;
    case LB_C_NUMBER: {
        uint64_t key = lb_num_key(c->num);
        kb_put(k, "n", 1);
        kb_put(k, &key, sizeof key);
        break;
    }
    default:
        t = c->kind == LB_C_TRUE ? 't' : c->kind == LB_C_FALSE ? 'f' : 'z';
        kb_put(k, &t, 1);
        break;
    }
}

static void put_block(keybuf_t *k, uint8_t depth, uint64_t prefix)
{
    kb_put(k, &depth, 1);
    kb_put(k, &prefix, sizeof prefix);
}

/* Calls fn for every index key of one condition (several for a numeric range). */
typedef void (*key_fn)(lb_matcher_t *m, keybuf_t *k, void *arg);

static void mask_set(uint64_t *mk, size_t i)
{
    if (!mk) return;
    if (i >= MASK_BITS) i = MASK_BITS - 1;
    mk[i >> 6] |= UINT64_C(1) << (i & 63);
}

static bool mask_has(const uint64_t *mk, size_t i)
{
    if (i >= MASK_BITS) i = MASK_BITS - 1;
    return (mk[i >> 6] >> (i & 63)) & 1;
}

/* masks, when not NULL, is the path's mask row for this condition's class. */
static void for_each_key(lb_matcher_t *m, const lb_field_t *f, const lb_cond_t *c, keybuf_t *k,
                         key_fn fn, void *arg, uint64_t *masks)
{
    int cls = cond_class(c);
    /* Only indexable conditions reach here: a key field is chosen among fields whose every
     * alternative has a class. */
    if (cls < 0) return;
    kb_head(k, class_tag[cls], f->path, f->path_len);
    size_t head = k->len;
    switch (cls) {
    case K_EXACT:
        put_exact_value(k, c);
        break;
    case K_PREFIX:
    case K_EIC:
    case K_PREFIX_EIC:
        kb_put(k, c->s, c->len);
        mask_set(masks, c->len);
        break;
    case K_SUFFIX:
    case K_SUFFIX_EIC:
        put_reversed(k, c->s, c->len);
        mask_set(masks, c->len);
        break;
    case K_CIDR: {
        mask_set(masks, (size_t)c->mask_bits);
        uint8_t hdr[2] = {(uint8_t)c->addr_len, (uint8_t)c->mask_bits};
        kb_put(k, hdr, 2);
        kb_put(k, c->addr, (size_t)c->addr_len);
        break;
    }
    case K_EXISTS:
        break;
    case K_RANGE: {
        uint64_t lo = 0, hi = UINT64_MAX;
        if (c->has_lo) {
            lo = lb_num_key(c->lo);
            if (!c->lo_incl) {
                if (lo == UINT64_MAX) return;
                lo++;
            }
        }
        if (c->has_hi) {
            hi = lb_num_key(c->hi);
            if (!c->hi_incl) {
                if (hi == 0) return;
                hi--;
            }
        }
        if (lo > hi) return;
        /* Split [lo, hi] into maximal aligned blocks of 2^s keys, each named by (64 - s, lo >> s).
         */
        for (;;) {
            int s = 0;
            while (s < 64) {
                if (s == 63) { /* the whole key space is one block */
                    if (lo == 0 && hi == UINT64_MAX) s = 64;
                    break;
                }
                uint64_t size = UINT64_C(1) << (s + 1);
                if (lo & (size - 1)) break;
                if (hi - lo < size - 1) break;
                s++;
            }
            k->len = head;
            mask_set(masks, (size_t)(64 - s));
            if (s == 64)
                put_block(k, 0, 0);
            else
                put_block(k, (uint8_t)(64 - s), lo >> s);
            fn(m, k, arg);
            if (s == 64) return;
            uint64_t last = lo + ((UINT64_C(1) << s) - 1);
            if (last >= hi) return;
            lo = last + 1;
        }
    }
    }
    fn(m, k, arg);
}

static bool field_indexable(const lb_field_t *f)
{
    if (f->absent_ok) return false;
    for (size_t i = 0; i < f->n_conds; i++)
        if (cond_class(&f->conds[i]) < 0) return false;
    return true;
}

static lb_hentry_t *path_entry(lb_matcher_t *m, const char *path, size_t len, bool create,
                               keybuf_t *k)
{
    kb_head(k, 'I', path, len);
    uint64_t h = lb_fnv_extend(FNV_OFFSET, k->b, k->len);
    if (!create) return lb_hmap_find(&m->paths, h, k->b, k->len);
    lb_hentry_t *e = lb_hmap_get(&m->paths, h, k->b, k->len);
    if (!e->counts) e->counts = lb_xcalloc(K_COUNT, sizeof *e->counts);
    if (!e->masks) e->masks = lb_xcalloc(K_COUNT * MASK_WORDS, sizeof *e->masks);
    return e;
}

/* ---- filing and unfiling branches ---- */

static void count_key(lb_matcher_t *m, keybuf_t *k, void *arg)
{
    lb_hentry_t *e = lb_hmap_find(&m->index, lb_fnv_extend(FNV_OFFSET, k->b, k->len), k->b, k->len);
    *(size_t *)arg += e ? e->post.n : 0;
}

static void file_key(lb_matcher_t *m, keybuf_t *k, void *arg)
{
    lb_hentry_t *e = lb_hmap_get(&m->index, lb_fnv_extend(FNV_OFFSET, k->b, k->len), k->b, k->len);
    lb_u32_push(&e->post, *(uint32_t *)arg);
}

static void unfile_key(lb_matcher_t *m, keybuf_t *k, void *arg)
{
    lb_hentry_t *e = lb_hmap_find(&m->index, lb_fnv_extend(FNV_OFFSET, k->b, k->len), k->b, k->len);
    if (!e) return;
    lb_u32_remove(&e->post, *(uint32_t *)arg);
    if (!e->post.n) lb_hmap_delete(&m->index, e);
}

static bool envelope_path(const lb_field_t *f)
{
    static const char *const common[] = {"source", "detail-type", "account", "region", "version"};
    for (size_t i = 0; i < sizeof common / sizeof *common; i++)
        if (!strcmp(f->path, common[i])) return true;
    return false;
}

static size_t stab_cost(const lb_matcher_t *m, const lb_hentry_t *pe, const lb_field_t *f,
                        const lb_cond_t *c);

/* Estimated candidates per event if the branch were filed under this field. For ranges and CIDR
 * blocks that is how many filed branches the range's own endpoints would hit, plus a penalty for
 * one-sided ranges, which catch most values. */
static size_t field_cost(lb_matcher_t *m, const lb_field_t *f, keybuf_t *k)
{
    size_t cost = envelope_path(f) ? 4 : 0;
    lb_hentry_t *pe = path_entry(m, f->path, f->path_len, false, k);
    for (size_t i = 0; i < f->n_conds; i++) {
        const lb_cond_t *c = &f->conds[i];
        int cls = cond_class(c);
        if (cls == K_EXISTS) {
            cost += (pe ? pe->counts[cls] : 0) + 8;
            continue;
        }
        if (cls == K_RANGE || cls == K_CIDR) {
            cost += 2 + (cls == K_RANGE && !(c->has_lo && c->has_hi) ? 6 : 0);
            if (pe) cost += stab_cost(m, pe, f, c);
            continue;
        }
        size_t n = 0;
        for_each_key(m, f, c, k, count_key, &n, NULL);
        cost += n + (cls == K_EXACT ? 0 : 1);
    }
    return cost;
}

static void file_branch(lb_matcher_t *m, uint32_t slot_id, keybuf_t *k, bool add)
{
    slot_t *s = &m->slots[slot_id];
    const lb_field_t *f = s->p->branches[s->branch].fields[s->key_field];
    lb_hentry_t *pe = path_entry(m, f->path, f->path_len, add, k);
    for (size_t i = 0; i < f->n_conds; i++) {
        const lb_cond_t *c = &f->conds[i];
        uint64_t *mk = add && pe ? pe->masks + cond_class(c) * MASK_WORDS : NULL;
        for_each_key(m, f, c, k, add ? file_key : unfile_key, &slot_id, mk);
        if (pe) pe->counts[cond_class(c)] += add ? 1 : (uint32_t)-1;
    }
    if (!add) {
        pe = path_entry(m, f->path, f->path_len, false, k);
        bool empty = true;
        for (int i = 0; pe && i < K_COUNT; i++)
            if (pe->counts[i]) empty = false;
        if (pe && empty) lb_hmap_delete(&m->paths, pe);
    }
}

/* ---- public API ---- */

int lb_matcher_new(lb_matcher_t **out)
{
    *out = lb_xcalloc(1, sizeof **out);
    return 0;
}

void lb_matcher_free(lb_matcher_t **mp)
{
    if (!mp || !*mp) return;
    lb_matcher_t *m = *mp;
    for (size_t i = 0; i < m->n_slots; i++)
        if (m->slots[i].live && m->slots[i].owns_pattern) lb_pattern_free(&m->slots[i].p);
    lb_hmap_free(&m->index);
    lb_hmap_free(&m->paths);
    lb_hmap_free(&m->rules);
    free(m->slots);
    free(m->free_slots.v);
    free(m->scan.v);
    free(m);
    *mp = NULL;
}

size_t lb_matcher_count(const lb_matcher_t *m)
{
    return m->n_rules;
}

static lb_hentry_t *rule_entry(const lb_matcher_t *m, uint64_t id)
{
    return lb_hmap_find(&m->rules, lb_fnv_extend(FNV_OFFSET, &id, sizeof id), (const char *)&id,
                        sizeof id);
}

int lb_matcher_remove(lb_matcher_t *m, uint64_t rule_id)
{
    lb_hentry_t *re = rule_entry(m, rule_id);
    if (!re) return -ENOENT;
    keybuf_t k = {0};
    lb_pattern_t *p = NULL;
    for (uint32_t i = 0; i < re->post.n; i++) {
        uint32_t sid = re->post.v[i];
        slot_t *s = &m->slots[sid];
        if (s->key_field >= 0)
            file_branch(m, sid, &k, false);
        else
            lb_u32_remove(&m->scan, sid);
        if (s->owns_pattern) p = s->p;
        memset(s, 0, sizeof *s);
        lb_u32_push(&m->free_slots, sid);
    }
    free(k.b);
    lb_pattern_free(&p);
    lb_hmap_delete(&m->rules, re);
    m->n_rules--;
    return 0;
}

int lb_matcher_add(lb_matcher_t *m, uint64_t rule_id, const lb_pattern_t *src)
{
    lb_pattern_t *p = NULL;
    int rc = lb_pattern_compile(src->source, src->source_len, &p, NULL);
    if (rc) return rc;
    if (rule_entry(m, rule_id)) lb_matcher_remove(m, rule_id);
    keybuf_t k = {0};
    lb_u32vec_t ids = {0};
    for (size_t b = 0; b < p->n_branches; b++) {
        uint32_t sid;
        if (m->free_slots.n) {
            sid = m->free_slots.v[--m->free_slots.n];
        } else {
            if (m->n_slots == m->cap_slots) {
                m->cap_slots = m->cap_slots ? m->cap_slots * 2 : 64;
                m->slots = lb_xrealloc(m->slots, m->cap_slots * sizeof *m->slots);
            }
            sid = (uint32_t)m->n_slots++;
        }
        slot_t *s = &m->slots[sid];
        *s = (slot_t){.rule_id = rule_id,
                      .p = p,
                      .branch = (uint32_t)b,
                      .key_field = -1,
                      .live = true,
                      .owns_pattern = b == 0};
        const lb_branch_t *br = &p->branches[b];
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < br->n_fields; i++) {
            if (!field_indexable(br->fields[i])) continue;
            size_t cost = field_cost(m, br->fields[i], &k);
            if (cost < best) {
                best = cost;
                s->key_field = (int32_t)i;
            }
        }
        if (s->key_field >= 0)
            file_branch(m, sid, &k, true);
        else
            lb_u32_push(&m->scan, sid);
        lb_u32_push(&ids, sid);
    }
    lb_hentry_t *re = lb_hmap_get(&m->rules, lb_fnv_extend(FNV_OFFSET, &rule_id, sizeof rule_id),
                                  (const char *)&rule_id, sizeof rule_id);
    re->post = ids;
    m->n_rules++;
    free(k.b);
    return 0;
}

/* ---- matching ---- */

/* Candidate branch slots, each once: an open-addressing set sized to what one event touches. */
typedef struct {
    uint32_t *t; /* slot id + 1; 0 is empty */
    size_t cap, n;
    lb_u32vec_t list;
} cset_t;

static void cset_add(cset_t *c, uint32_t sid)
{
    if ((c->n + 1) * 2 > c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 64;
        uint32_t *nt = lb_xcalloc(ncap, sizeof *nt);
        for (uint32_t i = 0; i < c->list.n; i++) {
            size_t j = lb_hash_mix(c->list.v[i]) & (ncap - 1);
            while (nt[j])
                j = (j + 1) & (ncap - 1);
            nt[j] = c->list.v[i] + 1;
        }
        free(c->t);
        c->t = nt;
        c->cap = ncap;
    }
    size_t j = lb_hash_mix(sid) & (c->cap - 1);
    while (c->t[j]) {
        if (c->t[j] == sid + 1) return;
        j = (j + 1) & (c->cap - 1);
    }
    c->t[j] = sid + 1;
    c->n++;
    lb_u32_push(&c->list, sid);
}

static void probe(const lb_matcher_t *m, uint64_t h, const keybuf_t *k, cset_t *cs)
{
    lb_hentry_t *e = lb_hmap_find(&m->index, h, k->b, k->len);
    if (!e) return;
    for (uint32_t i = 0; i < e->post.n; i++)
        cset_add(cs, e->post.v[i]);
}

static void probe_full(const lb_matcher_t *m, const keybuf_t *k, cset_t *cs)
{
    probe(m, lb_fnv_extend(FNV_OFFSET, k->b, k->len), k, cs);
}

/* Probes kind+path+NUL+s[0..n) for every n, extending the hash one byte at a time. */
static void probe_prefixes(const lb_matcher_t *m, keybuf_t *k, char tag, const lb_epath_t *ep,
                           const char *s, size_t len, const uint64_t *mk, cset_t *cs)
{
    kb_head(k, tag, ep->path, ep->path_len);
    kb_reserve(k, len);
    uint64_t h = lb_fnv_extend(FNV_OFFSET, k->b, k->len);
    if (mask_has(mk, 0)) probe(m, h, k, cs);
    for (size_t i = 0; i < len; i++) {
        k->b[k->len++] = s[i];
        h = (h ^ (unsigned char)s[i]) * FNV_PRIME;
        if (mask_has(mk, i + 1)) probe(m, h, k, cs);
    }
}

static void probe_leaf(const lb_matcher_t *m, const lb_hentry_t *pe, const lb_epath_t *ep,
                       const lb_leaf_t *l, keybuf_t *k, keybuf_t *tmp, cset_t *cs)
{
    const uint32_t *cnt = pe->counts;
    const uint64_t *mk = pe->masks;
    lb_cond_t c = {0};
    switch (l->type) {
    case LB_V_STRING: {
        kb_head(k, '=', ep->path, ep->path_len);
        kb_put(k, "s", 1);
        kb_put(k, l->s, l->len);
        probe_full(m, k, cs);
        if (cnt[K_PREFIX])
            probe_prefixes(m, k, 'P', ep, l->s, l->len, mk + K_PREFIX * MASK_WORDS, cs);
        if (cnt[K_SUFFIX]) {
            kb_reset(tmp);
            put_reversed(tmp, l->s, l->len);
            if (cnt[K_SUFFIX])
                probe_prefixes(m, k, 'X', ep, tmp->b, l->len, mk + K_SUFFIX * MASK_WORDS, cs);
        }
        if (cnt[K_EIC] || cnt[K_PREFIX_EIC] || cnt[K_SUFFIX_EIC]) {
            size_t fl;
            char *f = lb_fold_case(l->s, l->len, &fl);
            if (cnt[K_EIC]) {
                kb_head(k, 'E', ep->path, ep->path_len);
                kb_put(k, f, fl);
                probe_full(m, k, cs);
            }
            if (cnt[K_PREFIX_EIC])
                probe_prefixes(m, k, 'p', ep, f, fl, mk + K_PREFIX_EIC * MASK_WORDS, cs);
            if (cnt[K_SUFFIX_EIC]) {
                kb_reset(tmp);
                put_reversed(tmp, f, fl);
                probe_prefixes(m, k, 'x', ep, tmp->b, fl, mk + K_SUFFIX_EIC * MASK_WORDS, cs);
            }
            free(f);
        }
        if (cnt[K_CIDR]) {
            uint8_t a[16];
            int alen = lb_parse_ip(l->s, l->len, a);
            kb_head(k, 'C', ep->path, ep->path_len);
            size_t head = k->len;
            uint64_t h0 = lb_fnv_extend(FNV_OFFSET, k->b, head);
            for (int bits = 0; alen && bits <= alen * 8; bits++) {
                if (!mask_has(mk + K_CIDR * MASK_WORDS, (size_t)bits)) continue;
                uint8_t masked[16];
                for (int i = 0; i < alen; i++) {
                    int keep = bits - i * 8;
                    uint8_t mask = keep >= 8 ? 0xFF : keep <= 0 ? 0 : (uint8_t)(0xFF << (8 - keep));
                    masked[i] = a[i] & mask;
                }
                uint8_t hdr[2] = {(uint8_t)alen, (uint8_t)bits};
                k->len = head;
                kb_put(k, hdr, 2);
                kb_put(k, masked, (size_t)alen);
                probe(m, lb_fnv_extend(h0, k->b + head, k->len - head), k, cs);
            }
        }
        return;
    }
    case LB_V_NUMBER: {
        c.kind = LB_C_NUMBER;
        c.num = l->num;
        kb_head(k, '=', ep->path, ep->path_len);
        put_exact_value(k, &c);
        probe_full(m, k, cs);
        if (cnt[K_RANGE]) {
            uint64_t key = lb_num_key(l->num);
            kb_head(k, 'R', ep->path, ep->path_len);
            size_t head = k->len;
            uint64_t h0 = lb_fnv_extend(FNV_OFFSET, k->b, head);
            for (int depth = 0; depth <= 64; depth++) {
                if (!mask_has(mk + K_RANGE * MASK_WORDS, (size_t)depth)) continue;
                k->len = head;
                put_block(k, (uint8_t)depth, depth ? key >> (64 - depth) : 0);
                probe(m, lb_fnv_extend(h0, k->b + head, k->len - head), k, cs);
            }
        }
        return;
    }
    case LB_V_TRUE:
        c.kind = LB_C_TRUE;
        break;
    case LB_V_FALSE:
        c.kind = LB_C_FALSE;
        break;
    case LB_V_NULL:
        c.kind = LB_C_NULL;
        break;
    }
    kb_head(k, '=', ep->path, ep->path_len);
    put_exact_value(k, &c);
    probe_full(m, k, cs);
}

static size_t stab_cost(const lb_matcher_t *m, const lb_hentry_t *pe, const lb_field_t *f,
                        const lb_cond_t *c)
{
    lb_epath_t ep = {.path = f->path, .path_len = f->path_len};
    keybuf_t k = {0}, tmp = {0};
    cset_t cs = {0};
    lb_leaf_t leaf = {.path = f->path, .path_len = f->path_len};
    if (c->kind == LB_C_RANGE) {
        leaf.type = LB_V_NUMBER;
        leaf.s = "";
        if (c->has_lo) {
            leaf.num = c->lo;
            probe_leaf(m, pe, &ep, &leaf, &k, &tmp, &cs);
        }
        if (c->has_hi) {
            leaf.num = c->hi;
            probe_leaf(m, pe, &ep, &leaf, &k, &tmp, &cs);
        }
    } else {
        char txt[64];
        if (inet_ntop(c->addr_len == 4 ? AF_INET : AF_INET6, c->addr, txt, sizeof txt)) {
            leaf.type = LB_V_STRING;
            leaf.s = txt;
            leaf.len = strlen(txt);
            probe_leaf(m, pe, &ep, &leaf, &k, &tmp, &cs);
        }
    }
    size_t n = cs.n;
    free(k.b);
    free(tmp.b);
    free(cs.t);
    free(cs.list.v);
    return n;
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int lb_matcher_match(const lb_matcher_t *m, const lb_event_t *e, uint64_t **ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    keybuf_t k = {0}, tmp = {0};
    cset_t cs = {0};
    for (size_t i = 0; i < e->n_paths && m->paths.n; i++) {
        const lb_epath_t *ep = &e->paths[i];
        kb_head(&k, 'I', ep->path, ep->path_len);
        lb_hentry_t *pe =
            lb_hmap_find(&m->paths, lb_fnv_extend(FNV_OFFSET, k.b, k.len), k.b, k.len);
        if (!pe) continue;
        if (pe->counts[K_EXISTS]) {
            kb_head(&k, 'Y', ep->path, ep->path_len);
            probe_full(m, &k, &cs);
        }
        for (uint32_t j = ep->first; j < ep->first + ep->count; j++)
            probe_leaf(m, pe, ep, &e->leaves[j], &k, &tmp, &cs);
    }
    for (uint32_t i = 0; i < m->scan.n; i++)
        cset_add(&cs, m->scan.v[i]);

    uint64_t *out = NULL;
    size_t n_out = 0, cap_out = 0;
    for (uint32_t i = 0; i < cs.list.n; i++) {
        const slot_t *s = &m->slots[cs.list.v[i]];
        if (!lb_branch_matches(&s->p->branches[s->branch], e)) continue;
        if (n_out == cap_out) {
            cap_out = cap_out ? cap_out * 2 : 16;
            out = lb_xrealloc(out, cap_out * sizeof *out);
        }
        out[n_out++] = s->rule_id;
    }
    free(k.b);
    free(tmp.b);
    free(cs.t);
    free(cs.list.v);
    if (n_out > 1) {
        qsort(out, n_out, sizeof *out, u64_cmp);
        size_t w = 1;
        for (size_t r = 1; r < n_out; r++)
            if (out[r] != out[w - 1]) out[w++] = out[r];
        n_out = w;
    }
    *ids = out;
    *n = n_out;
    return 0;
}
