/* The web console's files, compiled into the binary by cmake/lb_embed.cmake from
 * daemon/console/assets/. The table and its bytes are static data: nobody frees them. */
#ifndef LB_FOLDER_CONSOLE
#error "lb_console_assets_internal.h is private to daemon/console"
#endif
#ifndef LB_CONSOLE_ASSETS_INTERNAL_H
#define LB_CONSOLE_ASSETS_INTERNAL_H

#include <stddef.h>

typedef struct {
    const char *name; /* path below /_localbridge/console/, e.g. "app.js" */
    const char *type; /* Content-Type */
    const char *etag; /* quoted, the start of the file's SHA-256 */
    const unsigned char *data;
    size_t len;
} lb_console_asset_t;

extern const lb_console_asset_t lb_console_assets[];
extern const size_t lb_console_n_assets;

#endif
