/* Private to the pattern engine (lb_pattern*.c, lb_event.c, lb_matcher.c): the compiled
 * pattern, the flattened event, the single-branch evaluator the matcher uses to confirm
 * candidates, and the matcher's hash map. Nothing outside lib/pattern includes this header. */
#ifndef LB_FOLDER_PATTERN
#error "lb_pattern_internal.h is private to lib/pattern"
#endif
#ifndef LB_PATTERN_INTERNAL_H
#define LB_PATTERN_INTERNAL_H

#include "lb_pattern.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lb_json.h"
#include "lb_util.h"

/* ---- Compiled patterns (lb_pattern.c) ---- */
typedef enum {
    LB_C_STRING, /* exact string */
    LB_C_NUMBER, /* exact number (also numeric "=") */
    LB_C_TRUE,
    LB_C_FALSE,
    LB_C_NULL,
    LB_C_PREFIX,
    LB_C_SUFFIX,
    LB_C_EIC, /* equals-ignore-case; operand stored folded */
    LB_C_PREFIX_EIC,
    LB_C_SUFFIX_EIC,
    LB_C_WILDCARD,
    LB_C_RANGE, /* numeric with < <= > >= */
    LB_C_CIDR,
    LB_C_EXISTS,     /* exists: true */
    LB_C_NOT_EXISTS, /* exists: false */
    LB_C_AB_VALUES,  /* anything-but strings and/or numbers */
    LB_C_AB_PREFIX,
    LB_C_AB_SUFFIX,
    LB_C_AB_EIC,
    LB_C_AB_WILDCARD,
} lb_cond_kind_t;

typedef struct {
    char *s;
    size_t len;
} lb_str_t;

typedef struct {
    lb_cond_kind_t kind;
    char *s; /* string operand (folded for the *_EIC kinds) */
    size_t len;
    double num; /* exact number */
    bool has_lo, has_hi, lo_incl, hi_incl;
    double lo, hi;    /* numeric range bounds */
    uint8_t addr[16]; /* CIDR network, masked */
    int addr_len;     /* 4 or 16 bytes */
    int mask_bits;
    lb_str_t *strs; /* anything-but: strings (folded for AB_EIC) */
    size_t n_strs;
    double *nums; /* anything-but: numbers */
    size_t n_nums;
} lb_cond_t;

typedef struct {
    char *path; /* dot-joined field path */
    size_t path_len;
    lb_cond_t *conds; /* alternatives: any one satisfies the field */
    size_t n_conds;
    bool absent_ok;  /* one alternative is exists:false */
    bool needs_leaf; /* some alternative needs a value (anything but exists:false) */
    char *wants;     /* the pattern's array as JSON, for explanations */
} lb_field_t;

typedef struct {
    const lb_field_t **fields; /* sorted by path; point into the pattern's field pool */
    size_t n_fields;
} lb_branch_t;

struct lb_pattern {
    lb_field_t *fields; /* every distinct field once; branches share them */
    size_t n_fields;
    lb_branch_t *branches; /* one per $or combination; any branch matching is a match */
    size_t n_branches;
    char *source; /* the pattern text, so a matcher can take its own copy */
    size_t source_len;
};

/* ---- Flattened events (lb_event.c) ---- */
typedef enum { LB_V_STRING, LB_V_NUMBER, LB_V_TRUE, LB_V_FALSE, LB_V_NULL } lb_vtype_t;

typedef struct {
    const char *path; /* points into the event's path storage */
    size_t path_len;
    lb_vtype_t type;
    const char *s; /* string value, or the number's text */
    size_t len;
    double num;
    uint32_t memb_off; /* array memberships: pairs (array id, index) in lb_event.memb */
    uint32_t memb_n;
    uint32_t order; /* document order, to keep sorting stable */
} lb_leaf_t;

typedef struct {
    const char *path;
    size_t path_len;
    uint32_t first, count; /* range in lb_event.leaves */
} lb_epath_t;

struct lb_event {
    lb_leaf_t *leaves; /* sorted by path, then document order */
    size_t n_leaves;
    lb_epath_t *paths; /* distinct paths, sorted */
    size_t n_paths;
    uint32_t *memb;
    size_t n_memb;
    lb_buf_t text; /* storage for paths and values */
};

/* Index of the event path equal to (path, len), or -1. */
long lb_event_find_path(const lb_event_t *e, const char *path, size_t len);
/* 1 if the condition holds for one leaf. Conditions on absence never hold for a leaf. */
bool lb_cond_matches_leaf(const lb_cond_t *c, const lb_leaf_t *l);
/* 1 if the branch matches the event, respecting array consistency (two fields matched inside
 * the same array of objects must come from the same element). */
bool lb_branch_matches(const lb_branch_t *b, const lb_event_t *e);

/* Order-preserving map from doubles to unsigned 64-bit keys (-0 is folded into +0). */
uint64_t lb_num_key(double d);
/* Folds a UTF-8 string for equals-ignore-case into a malloc'd buffer. */
char *lb_fold_case(const char *s, size_t len, size_t *out_len);
/* Parses an IPv4 or IPv6 textual address; returns 4 or 16 (bytes written), or 0. */
int lb_parse_ip(const char *s, size_t len, uint8_t out[16]);

/* ---- Matcher containers (lb_pattern_hmap.c) ---- */
#define LB_MASK_WORDS 3
typedef struct {
    uint32_t *v;
    uint32_t n, cap;
} lb_u32vec_t;

typedef struct {
    char *key; /* NULL: empty slot */
    uint32_t klen;
    uint64_t hash;
    lb_u32vec_t post; /* branch slots filed under this key */
    uint32_t *counts; /* path entries only: registered conditions per lookup class */
    uint64_t *masks;  /* path entries only: LB_MASK_WORDS per class, the lengths in use */
} lb_hentry_t;

/* Open addressing with linear probing. fp holds a 32-bit fingerprint per slot (0 = empty) so a
 * probe that misses, the common case, reads 4 bytes per slot instead of a whole entry: with
 * 10,000 rules the entries no longer fit in cache but the fingerprints mostly do. */
typedef struct {
    lb_hentry_t *t;
    uint32_t *fp;
    size_t cap, n;
} lb_hmap_t;

#define FNV_OFFSET UINT64_C(14695981039346656037)
#define FNV_PRIME UINT64_C(1099511628211)

void lb_u32_push(lb_u32vec_t *v, uint32_t x);
void lb_u32_remove(lb_u32vec_t *v, uint32_t x);
uint64_t lb_fnv_extend(uint64_t h, const void *data, size_t len);
uint64_t lb_hash_mix(uint64_t h);
lb_hentry_t *lb_hmap_find(const lb_hmap_t *m, uint64_t hash, const char *key, size_t klen);
/* Finds or inserts (with an empty posting list) the entry for key. */
lb_hentry_t *lb_hmap_get(lb_hmap_t *m, uint64_t hash, const char *key, size_t klen);
void lb_hmap_delete(lb_hmap_t *m, lb_hentry_t *e);
void lb_hmap_free(lb_hmap_t *m);

#endif
