/* The store's schema as a list of migrations (lb_store.c applies them when it opens a
 * database). Private to lib/store. */
#ifndef LB_STORE_SCHEMA_H
#define LB_STORE_SCHEMA_H

/* How many migrations there are: the latest schema version. */
int lb_store_migration_count(void);
/* The SQL that brings the schema from from_version to from_version + 1, or NULL past the end. */
const char *lb_store_migration(int from_version);

#endif
