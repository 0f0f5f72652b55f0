/* The client half of the `localbridge` binary: commands that talk to a running daemon over its
 * HTTP API (libcurl) and print for a person (colour only on a terminal, and never with NO_COLOR)
 * or, with --json, for a script.
 *
 *   localbridge status | tail | events | event ID | test-pattern | dlq ... | replay ...
 *
 * Exit codes (LB_CLI_EXIT_*): 0 done; 1 no match, not found, or the operation did not succeed
 * (a replay that failed); 2 usage; 3 the daemon cannot be reached; 4 the daemon refused the
 * request (validation and other errors). */
#ifndef LB_CLI_H
#define LB_CLI_H

enum {
    LB_CLI_EXIT_OK = 0,
    LB_CLI_EXIT_NO = 1,
    LB_CLI_EXIT_USAGE = 2,
    LB_CLI_EXIT_UNREACHABLE = 3,
    LB_CLI_EXIT_REFUSED = 4,
};

/* 1 if name is a client command. */
int lb_cli_is_command(const char *name);
/* Runs argv[1] (a client command) with its arguments; returns the exit code. */
int lb_cli_main(int argc, char **argv);
/* The client commands' help. */
void lb_cli_usage(void *file);

#endif
