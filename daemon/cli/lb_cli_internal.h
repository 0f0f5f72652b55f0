/* Shared by the CLI's files. */
#ifndef LB_FOLDER_CLI
#error "lb_cli_internal.h is private to daemon/cli"
#endif
#ifndef LB_CLI_INTERNAL_H
#define LB_CLI_INTERNAL_H

#include <stdio.h>

#include "lb_cli.h"
#include "lb_json.h"
#include "lb_util.h"

#define CLI_MAX_ARGS 32

typedef struct {
    const char *endpoint; /* without a trailing '/' */
    int json;             /* --json: the daemon's JSON, one document per line */
    int color;            /* ANSI colours: a terminal, no NO_COLOR, no --no-color */
    int tty;              /* stdout is a terminal */
    /* What is left of the command line: positional arguments and unknown options, in order. */
    char *args[CLI_MAX_ARGS];
    int n_args;
} cli_t;

/* An answer from the daemon: its status and parsed JSON body (NULL if none or not JSON). */
typedef struct {
    long status;
    lb_buf_t body;
    lb_json_doc_t *doc;
} cli_answer_t;

void cli_answer_free(cli_answer_t *a);
/* One request. target: the AWS API operation (POST /, X-Amz-Target AWSEvents.<target>), else
 * path names an admin endpoint. body may be NULL. 0, or LB_CLI_EXIT_UNREACHABLE (with a message
 * on stderr). */
int cli_call(const cli_t *c, const char *method, const char *path, const char *target,
             const char *body, cli_answer_t *a);
/* Maps a non-2xx answer to an exit code, printing the daemon's error; 0 for a 2xx. A 404 is
 * LB_CLI_EXIT_NO. */
int cli_check(const cli_t *c, const cli_answer_t *a);
const lb_json_t *cli_root(const cli_answer_t *a);

/* Option lookup in c->args: "--name VALUE" (removed from the args) or NULL. */
const char *cli_opt(cli_t *c, const char *name);
/* "--name" flag: 1 if present (removed). */
int cli_flag(cli_t *c, const char *name);
/* The next positional argument (removed), or NULL. An unknown option left over is a usage
 * error: cli_leftover reports it. */
const char *cli_arg(cli_t *c);
int cli_leftover(const cli_t *c, const char *command);

/* Text of an argument that may be @FILE (read whole). malloc'd, or NULL (message printed). */
char *cli_text_arg(const char *arg);
/* Appends s URL-encoded. */
void cli_urlencode(lb_buf_t *b, const char *s);

/* Colour: SGR code around text, only when c->color. */
const char *cli_sgr(const cli_t *c, const char *code);
#define CLI_RESET "0"
#define CLI_BOLD "1"
#define CLI_DIM "2"
#define CLI_RED "31"
#define CLI_GREEN "32"
#define CLI_YELLOW "33"
#define CLI_CYAN "36"
/* A status word in its colour (SUCCEEDED green, RETRYING/PENDING yellow, else red). */
void cli_print_status(const cli_t *c, const char *status);
const char *cli_str(const lb_json_t *obj, const char *key, const char *dflt);

int cli_cmd_status(cli_t *c);
int cli_cmd_events(cli_t *c);
int cli_cmd_event(cli_t *c);
int cli_cmd_test_pattern(cli_t *c);
int cli_cmd_dlq(cli_t *c);
int cli_cmd_replay(cli_t *c);
int cli_cmd_tail(cli_t *c);

#endif
