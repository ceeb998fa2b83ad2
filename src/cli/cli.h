/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry, the command line client: the command table and what commands
 * share.  A command is one entry in cli_commands[] (main.c) and one
 * function here; main.c checks the argument count and answers
 * "ferry COMMAND --help" from the table, so a command only does its work.
 */
#ifndef FERRY_CLI_CLI_H
#define FERRY_CLI_CLI_H

#include "cli/client.h"

#define CLI_DEFAULT_DIR "/var/lib/ferry"
#define CLI_SOCKET_NAME "unix.socket"

/* What run() returns (instead of a negative errno) after a usage error it reported. */
#define CLI_EXIT_USAGE 2

struct cli {
        const char *socket_path;        /* --socket, $FERRY_DIR/unix.socket or the default */
};

struct cli_command {
        const char *name;
        const char *args;               /* synopsis after the name, "" for none */
        const char *summary;            /* one line for "ferry --help" */
        const char *description;        /* "ferry NAME --help", may be NULL */
        int min_args;                   /* arguments after the name */
        int max_args;
        /* argv[0] is the command name.  Returns 0, or a negative errno
         * after logging the error once, or CLI_EXIT_USAGE. */
        int (*run)(struct cli *cli, int argc, char *argv[]);
};

/* Connect to ferryd; logs the error. */
int cli_connect(struct cli *cli, struct client **ret);

int cli_info(struct cli *cli, int argc, char *argv[]);
int cli_monitor(struct cli *cli, int argc, char *argv[]);

#endif
