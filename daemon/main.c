/* localbridge: a local Amazon EventBridge. This file only parses the command line, loads the
 * configuration and runs the loop; everything else lives in lb_server and below. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "lb_cli.h"
#include "lb_config.h"
#include "lb_deploy_cli.h"
#include "lb_notify.h"
#include "lb_server.h"

extern char **environ;

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: localbridge serve [options]\n"
            "       localbridge serve --ephemeral [options]   (temporary data dir, port 0)\n"
            "       localbridge COMMAND [options]   (a client command, below)\n"
            "       localbridge deploy TEMPLATE [--stack-name N] [--plan] ... (deploy --help)\n"
            "       localbridge --help | --version\n"
            "\n"
            "Runs a local Amazon EventBridge: the AWS API on POST / (X-Amz-Target:\n"
            "AWSEvents.<Operation>), durable in SQLite. Point AWS clients at it with\n"
            "--endpoint-url http://127.0.0.1:4010.\n"
            "\n");
    lb_config_print_help(out);
    fprintf(out, "\n");
    lb_cli_usage(out);
}

typedef struct {
    lb_server_t *server;
    uv_signal_t sigterm, sigint, sighup;
} signals_t;

static void on_stop_signal(uv_signal_t *h, int signum)
{
    signals_t *sig = h->data;
    (void)signum;
    /* The watcher only records intent; the server does the work on the loop. */
    lb_server_shutdown(sig->server);
    uv_close((uv_handle_t *)&sig->sigterm, NULL);
    uv_close((uv_handle_t *)&sig->sigint, NULL);
    uv_close((uv_handle_t *)&sig->sighup, NULL);
}

static void on_hup(uv_signal_t *h, int signum)
{
    signals_t *sig = h->data;
    (void)signum;
    lb_server_reload(sig->server);
}

/* ---- serve --ephemeral: a throwaway daemon for a test run ---- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int has_option(int argc, char **argv, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], name) == 0 || (strncmp(argv[i], name, n) == 0 && argv[i][n] == '='))
            return 1;
    return 0;
}

/* --ephemeral: a fresh data directory under $TMPDIR (removed at exit), port 0 unless --listen
 * is given, no config file unless --config is, and no fsync (nothing there outlives the run).
 * Rewrites argv into *out (malloc'd; the strings are argv's or dir). */
static int ephemeral_args(int argc, char **argv, char *dir, size_t dirlen, int *out_argc,
                          char ***out)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, dirlen, "%s/localbridge-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "localbridge: cannot create a temporary data dir in %s\n",
                tmp && *tmp ? tmp : "/tmp");
        return -1;
    }
    char **v = calloc((size_t)argc + 9, sizeof *v);
    int n = 0;
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--ephemeral") != 0) v[n++] = argv[i];
    v[n++] = "--data-dir";
    v[n++] = dir;
    if (!has_option(argc, argv, "--listen")) {
        v[n++] = "--listen";
        v[n++] = "127.0.0.1:0";
    }
    if (!has_option(argc, argv, "--config")) {
        v[n++] = "--config";
        v[n++] = "";
    }
    if (!has_option(argc, argv, "--sqlite-synchronous")) {
        v[n++] = "--sqlite-synchronous";
        v[n++] = "off";
    }
    *out_argc = n;
    *out = v;
    return 0;
}

static int serve(int argc, char **argv)
{
    lb_config_t *config;
    char *err = NULL;
    lb_config_new(&config);
    if (lb_config_load(config, argc, argv, environ, &err)) {
        fprintf(stderr, "localbridge: %s\n", err ? err : "invalid configuration");
        free(err);
        lb_config_free(&config);
        return 2;
    }
    /* Large buffers (listing pages, big responses, request bodies) are mmapped and go back to
     * the system when freed. glibc's default threshold adapts upwards after each such free, so
     * after a burst of big responses they would come from the heap and stay resident (B6: RSS
     * stayed at its peak after the clients had gone). A fixed threshold turns that off. */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
    signal(SIGPIPE, SIG_IGN);
    /* Under a file-size limit (ulimit -f, LimitFSIZE=) a write past it must fail with EFBIG and
     * become a 500, not kill the daemon. */
    signal(SIGXFSZ, SIG_IGN);
    uv_loop_t loop;
    uv_loop_init(&loop);
    lb_server_t *server;
    if (lb_server_start(&loop, config, &server, &err)) {
        fprintf(stderr, "localbridge: %s\n", err ? err : "start-up failed");
        free(err);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        return 1;
    }
    signals_t sig = {.server = server};
    uv_signal_init(&loop, &sig.sigterm);
    uv_signal_init(&loop, &sig.sigint);
    uv_signal_init(&loop, &sig.sighup);
    sig.sigterm.data = sig.sigint.data = sig.sighup.data = &sig;
    uv_signal_start(&sig.sigterm, on_stop_signal, SIGTERM);
    uv_signal_start(&sig.sigint, on_stop_signal, SIGINT);
    uv_signal_start(&sig.sighup, on_hup, SIGHUP);

    /* The first stdout line is the bound URL, so a test harness can start us on port 0. */
    printf("%s\n", lb_server_url(server));
    fflush(stdout);
    lb_notify("READY=1");

    uv_run(&loop, UV_RUN_DEFAULT);
    lb_server_free(&server);
    int rc = uv_loop_close(&loop);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("localbridge %s\n", LB_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "serve") == 0) {
        for (int i = 2; i < argc; i++)
            if (strcmp(argv[i], "--help") == 0) {
                usage(stdout);
                return 0;
            }
        if (!has_option(argc - 2, argv + 2, "--ephemeral")) return serve(argc - 2, argv + 2);
        char dir[4096], **args;
        int n;
        if (ephemeral_args(argc - 2, argv + 2, dir, sizeof dir, &n, &args)) return 1;
        int rc = serve(n, args);
        free(args);
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        return rc;
    }
    if (strcmp(argv[1], "deploy") == 0) return lb_deploy_cli_main(argc - 2, argv + 2, argv[0]);
    if (lb_cli_is_command(argv[1])) return lb_cli_main(argc, argv);
    fprintf(stderr, "localbridge: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
