/* The key file that seals connection secrets at rest (lb_seal.h): 64 hex digits, created 0600
 * with a random key when it does not exist yet. Where it lives: secrets_key_file, else
 * localbridge.key beside the config file, else (no config file, or its directory not writable)
 * in the data directory. */
#ifndef LB_KEYFILE_H
#define LB_KEYFILE_H

#include "lb_config.h"
#include "lb_log.h"
#include "lb_seal.h"

/* Reads (or creates) the configured key file into key. On error -errno or -EINVAL and *err a
 * malloc'd message naming the file (never the key). */
int lb_keyfile_load(const struct lb_settings *cfg, const lb_log_t *log,
                    unsigned char key[LB_SEAL_KEY_BYTES], char **err);

#endif
