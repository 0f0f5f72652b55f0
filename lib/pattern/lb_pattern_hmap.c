/* The matcher's containers: a growable u32 vector and an open-addressing hash map from byte
 * strings to posting lists, with deletion by backward shift so rule churn leaves no tombstones. */
#include "lb_pattern_internal.h"

#include <stdlib.h>
#include <string.h>

static uint32_t fingerprint(uint64_t hash)
{
    return (uint32_t)(hash >> 32) | 1u;
}

void lb_u32_push(lb_u32vec_t *v, uint32_t x)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 4;
        v->v = lb_xrealloc(v->v, v->cap * sizeof *v->v);
    }
    v->v[v->n++] = x;
}

void lb_u32_remove(lb_u32vec_t *v, uint32_t x)
{
    for (uint32_t i = 0; i < v->n; i++)
        if (v->v[i] == x) {
            v->v[i] = v->v[--v->n];
            return;
        }
}

uint64_t lb_fnv_extend(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * FNV_PRIME;
    return h;
}

uint64_t lb_hash_mix(uint64_t h)
{
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    return h;
}

lb_hentry_t *lb_hmap_find(const lb_hmap_t *m, uint64_t hash, const char *key, size_t klen)
{
    if (!m->cap) return NULL;
    size_t mask = m->cap - 1;
    uint32_t tag = fingerprint(hash);
    for (size_t i = lb_hash_mix(hash) & mask;; i = (i + 1) & mask) {
        uint32_t f = m->fp[i];
        if (!f) return NULL;
        if (f != tag) continue;
        lb_hentry_t *e = &m->t[i];
        if (e->hash == hash && e->klen == klen && !memcmp(e->key, key, klen)) return e;
    }
}

static void hmap_grow(lb_hmap_t *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    lb_hentry_t *nt = lb_xcalloc(ncap, sizeof *nt);
    uint32_t *nfp = lb_xcalloc(ncap, sizeof *nfp);
    for (size_t i = 0; i < m->cap; i++) {
        lb_hentry_t *e = &m->t[i];
        if (!e->key) continue;
        size_t j = lb_hash_mix(e->hash) & (ncap - 1);
        while (nt[j].key)
            j = (j + 1) & (ncap - 1);
        nt[j] = *e;
        nfp[j] = fingerprint(e->hash);
    }
    free(m->t);
    free(m->fp);
    m->t = nt;
    m->fp = nfp;
    m->cap = ncap;
}

lb_hentry_t *lb_hmap_get(lb_hmap_t *m, uint64_t hash, const char *key, size_t klen)
{
    lb_hentry_t *e = lb_hmap_find(m, hash, key, klen);
    if (e) return e;
    if ((m->n + 1) * 4 > m->cap * 3) hmap_grow(m);
    size_t mask = m->cap - 1, i = lb_hash_mix(hash) & mask;
    while (m->t[i].key)
        i = (i + 1) & mask;
    e = &m->t[i];
    e->key = lb_xmalloc(klen ? klen : 1);
    memcpy(e->key, key, klen);
    e->klen = (uint32_t)klen;
    e->hash = hash;
    m->fp[i] = fingerprint(hash);
    m->n++;
    return e;
}

/* Linear-probing deletion by backward shift, so no tombstones accumulate under rule churn. */
void lb_hmap_delete(lb_hmap_t *m, lb_hentry_t *e)
{
    size_t mask = m->cap - 1, i = (size_t)(e - m->t);
    free(e->key);
    free(e->post.v);
    free(e->counts);
    free(e->masks);
    memset(e, 0, sizeof *e);
    m->fp[i] = 0;
    m->n--;
    for (size_t j = (i + 1) & mask; m->t[j].key; j = (j + 1) & mask) {
        size_t home = lb_hash_mix(m->t[j].hash) & mask;
        /* Move j into the hole at i if its home position is not cyclically within (i, j]. */
        bool in_range = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (in_range) continue;
        m->t[i] = m->t[j];
        m->fp[i] = m->fp[j];
        memset(&m->t[j], 0, sizeof m->t[j]);
        m->fp[j] = 0;
        i = j;
    }
}

void lb_hmap_free(lb_hmap_t *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        free(m->t[i].key);
        free(m->t[i].post.v);
        free(m->t[i].counts);
        free(m->t[i].masks);
    }
    free(m->t);
    free(m->fp);
    memset(m, 0, sizeof *m);
}
