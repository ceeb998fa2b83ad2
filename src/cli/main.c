/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry: global options, then one command from the table.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/log.h"
#include "common/strbuf.h"

#define EXIT_USAGE 2

static const struct cli_command cli_commands[] = {
        {
                .name = "info",
                .args = "",
                .summary = "Show the server: API version and status, version, environment",
                .description = "Show what ferryd says about itself (GET /1.0): API version and\n"
                               "status, whether this client is trusted, the server version, and\n"
                               "its environment (host name, data directory, process id).",
                .min_args = 0,
                .max_args = 0,
                .run = cli_info,
        },
        {
                .name = "monitor",
                .args = "[--type TYPES] [-f FORMAT] [--count N]",
                .summary = "Print ferryd's events as they happen",
                .description = "Print ferryd's events (GET /1.0/events) as they happen, until\n"
                               "interrupted (Ctrl-C) or ferryd goes away.\n"
                               "\n"
                               "Options:\n"
                               "      --type TYPES     Only these event types, comma-separated:\n"
                               "                       lifecycle, operation, logging (default: all)\n"
                               "  -f, --format FORMAT  pretty (default): one line per event,\n"
                               "                       json: one JSON object per line,\n"
                               "                       yaml: one YAML document per event\n"
                               "      --count N        Exit after N events\n"
                               "\n"
                               "Exits with 0 on Ctrl-C, SIGTERM or after --count events, and with\n"
                               "1 when ferryd cannot be reached or ends the stream.",
                .min_args = 0,
                .max_args = 6,
                .run = cli_monitor,
        },
};

static void help(FILE *f)
{
        fprintf(f,
                "Usage: ferry [--socket PATH] COMMAND [ARGS...]\n"
                "\n"
                "ferry moves virtual machines from VMware into Incus. This is its command\n"
                "line client: each command is a call to the REST API of ferryd, the daemon\n"
                "that does the work.\n"
                "\n"
                "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(cli_commands); i++)
                fprintf(f, "  %-12s %s\n", cli_commands[i].name, cli_commands[i].summary);
        fprintf(f,
                "\n"
                "Options:\n"
                "      --socket PATH  Talk to ferryd on PATH (default: $FERRY_DIR/" CLI_SOCKET_NAME ",\n"
                "                     or " CLI_DEFAULT_DIR "/" CLI_SOCKET_NAME " if FERRY_DIR is not set)\n"
                "  -h, --help         Show this help and exit\n"
                "  -V, --version      Show the version and exit\n"
                "\n"
                "Run 'ferry COMMAND --help' for help on a command. See 'man ferry' for details.\n");
}

static void command_help(const struct cli_command *cmd)
{
        printf("Usage: ferry %s%s%s\n\n%s\n", cmd->name, *cmd->args ? " " : "", cmd->args,
               cmd->description ?: cmd->summary);
}

static void usage_error(const char *fmt, ...) _printf_(1, 2);
static void usage_error(const char *fmt, ...)
{
        va_list ap;

        fputs("ferry: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs("\nTry 'ferry --help' for more information.\n", stderr);
}

static const struct cli_command *find_command(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(cli_commands); i++)
                if (streq(cli_commands[i].name, name))
                        return &cli_commands[i];
        return NULL;
}

/* 0: run a command (argv[optind]); 1: done; -EINVAL: bad usage, reported. */
static int parse_argv(int argc, char *argv[], struct cli *cli)
{
        enum {
                ARG_SOCKET = 0x100,
        };
        static const struct option options[] = {
                { "socket", required_argument, NULL, ARG_SOCKET },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {}
        };
        int c;

        /* "+": stop at the command, whose options are its own. */
        while ((c = getopt_long(argc, argv, "+hV", options, NULL)) >= 0)
                switch (c) {
                case ARG_SOCKET:
                        if (!*optarg) {
                                usage_error("The socket path must not be empty");
                                return -EINVAL;
                        }
                        cli->socket_path = optarg;
                        break;
                case 'h':
                        help(stdout);
                        return 1;
                case 'V':
                        printf("ferry %s\n", FERRY_VERSION);
                        return 1;
                default:
                        fputs("Try 'ferry --help' for more information.\n", stderr);
                        return -EINVAL;
                }

        if (optind >= argc) {
                fputs("ferry: A command is required\n\n", stderr);
                help(stderr);
                return -EINVAL;
        }
        return 0;
}

static int run_command(struct cli *cli, int argc, char *argv[])
{
        const struct cli_command *cmd;
        int nargs = argc - 1, r;

        cmd = find_command(argv[0]);
        if (!cmd) {
                fprintf(stderr, "ferry: Unknown command '%s'\n\n", argv[0]);
                help(stderr);
                return EXIT_USAGE;
        }

        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--"))
                        break;
                if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
                        command_help(cmd);
                        return EXIT_SUCCESS;
                }
        }

        if (nargs < cmd->min_args || nargs > cmd->max_args) {
                if (cmd->max_args == 0)
                        usage_error("'ferry %s' takes no arguments", cmd->name);
                else
                        usage_error("Wrong number of arguments: ferry %s %s", cmd->name, cmd->args);
                return EXIT_USAGE;
        }

        r = cmd->run(cli, argc, argv);
        if (r == CLI_EXIT_USAGE)
                return EXIT_USAGE;
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

int main(int argc, char *argv[])
{
        _cleanup_free_ char *socket_from_env = NULL;
        struct cli cli = {};
        const char *dir;
        int r;

        log_set_ident("ferry");

        r = parse_argv(argc, argv, &cli);
        if (r < 0)
                return EXIT_USAGE;
        if (r > 0)
                return EXIT_SUCCESS;

        if (!cli.socket_path) {
                dir = getenv("FERRY_DIR");
                if (dir && *dir) {
                        socket_from_env = strjoin(dir, "/" CLI_SOCKET_NAME, NULL);
                        if (!socket_from_env) {
                                log_error_errno(ENOMEM, "Out of memory");
                                return EXIT_FAILURE;
                        }
                        cli.socket_path = socket_from_env;
                } else
                        cli.socket_path = CLI_DEFAULT_DIR "/" CLI_SOCKET_NAME;
        }

        r = run_command(&cli, argc - optind, argv + optind);

        if (fflush(stdout) != 0 || ferror(stdout)) {
                log_error_errno(errno ?: EIO, "Failed to write the output: %m");
                return EXIT_FAILURE;
        }
        return r;
}
