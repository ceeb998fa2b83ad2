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
                .examples = "ferry info\nferry --socket /tmp/ferry/unix.socket info\nFERRY_DIR=/tmp/ferry ferry info",
        },
        {
                .name = "source",
                .summary = "Manage source hypervisors (VMware vCenter or ESXi)",
                .description = "Sources are the hypervisors ferry migrates from: a vCenter or ESXi\n"
                               "endpoint, the account ferry logs in with, and how it reads disks.",
                .subcommands = cli_source_commands,
        },
        {
                .name = "target",
                .summary = "Manage Incus targets",
                .description = "Targets are the Incus servers or clusters ferry migrates into.",
                .subcommands = cli_target_commands,
        },
        {
                .name = "instance",
                .summary = "List source VMs and edit their overrides",
                .description = "Instances are the VMs that source syncs found.  Their synced values\n"
                               "are read-only; overrides (ferry instance override) win over them.",
                .subcommands = cli_instance_commands,
        },
        {
                .name = "network",
                .summary = "List source networks and map them to Incus networks",
                .description = "Networks are the source networks that syncs found.  Each one maps,\n"
                               "per target, to an Incus network, NIC type, VLAN and project.",
                .subcommands = cli_network_commands,
        },
        {
                .name = "batch",
                .summary = "Manage batches: which VMs move, when and where",
                .description = "A batch selects instances with an expression, migrates them inside\n"
                               "its migration windows and places them on a target.",
                .subcommands = cli_batch_commands,
        },
        {
                .name = "queue",
                .summary = "Show the migration queue",
                .description = "The queue has one entry per instance of a started batch: its status,\n"
                               "import stage, placement and progress.",
                .subcommands = cli_queue_commands,
        },
        {
                .name = "warning",
                .summary = "List and acknowledge warnings",
                .description = "Warnings are problems ferryd found during syncs and migrations.",
                .subcommands = cli_warning_commands,
        },
        {
                .name = "artifact",
                .summary = "Manage artifacts: VDDK, virtio-win, worker images",
                .description = "Artifacts are the files a migration needs, uploaded once to ferryd.",
                .subcommands = cli_artifact_commands,
        },
        {
                .name = "hook",
                .summary = "Manage event hooks: Lua scripts that react to events",
                .description = "Hooks run on_event(event) for the lifecycle events they list (docs/scriptlets.md).",
                .subcommands = cli_hook_commands,
        },
        {
                .name = "remote",
                .summary = "Manage the ferryd servers this client talks to",
                .description = "Remotes are ferryd servers reached over HTTPS; 'local' is the unix socket.\n"
                               "Commands talk to the default remote, or to the one --remote names.",
                .subcommands = cli_remote_commands,
        },
        {
                .name = "config",
                .summary = "Manage ferryd's trust store",
                .description = "Settings of the ferryd a command talks to.",
                .subcommands = cli_config_commands,
        },
        {
                .name = "query",
                .args = "PATH",
                .summary = "Send a raw request to the REST API",
                .description = "Send one request to ferryd's REST API and print the metadata of the\n"
                               "answer as JSON, like `incus query`.  An error answer prints\n"
                               "\"Error: <message>\" and exits with 1.",
                .min_args = 1,
                .max_args = 1,
                .run = cli_query,
                .options = cli_query_options,
                .examples = "ferry query /1.0\n"
                            "ferry query /1.0/sources?recursion=1\n"
                            "ferry query -X POST /1.0/batches --data '{\"name\": \"wave1\", \"include_expression\": \"true\"}'\n"
                            "ferry query -X PATCH /1.0/warnings/UUID --data '{\"status\": \"acknowledged\"}'\n"
                            "ferry query --raw /1.0/sources/vc01",
        },
        {
                .name = "monitor",
                .args = "",
                .summary = "Print ferryd's events as they happen",
                .description = "Print ferryd's events (GET /1.0/events) as they happen, until\n"
                               "interrupted (Ctrl-C) or ferryd goes away: lifecycle events for every\n"
                               "create, update and delete, ferryd's log lines as logging events, and\n"
                               "operations.  pretty shows one line per event, json one JSON object\n"
                               "per line, yaml one document per event.\n"
                               "\n"
                               "Exits with 0 on Ctrl-C, SIGTERM or after --count events, and with 1\n"
                               "when ferryd cannot be reached, refuses the stream or ends it.",
                .min_args = 0,
                .max_args = 0,
                .run = cli_monitor,
                .options = cli_monitor_options,
                .examples = "ferry monitor\n"
                            "ferry monitor --type lifecycle -f json\n"
                            "ferry monitor --type logging\n"
                            "timeout 60 ferry monitor --type lifecycle --count 1",
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
                "      --remote NAME  Talk to the remote NAME (see 'ferry remote list') instead\n"
                "                     of the default remote; 'local' is the unix socket\n"
                "  -h, --help         Show this help and exit\n"
                "  -V, --version      Show the version and exit\n"
                "\n"
                "Run 'ferry COMMAND --help' for help on a command. See 'man ferry' for details.\n");
}

/* "ferry source" for a group, with its commands. */
static void group_help(FILE *f, const char *path, const struct cli_command *group)
{
        size_t width = 0;

        fprintf(f, "Usage: %s COMMAND [ARGS...]\n\n%s\n\nCommands:\n", path,
                group->description ?: group->summary);
        for (const struct cli_command *c = group->subcommands; c->name; c++)
                if (strlen(c->name) > width)
                        width = strlen(c->name);
        for (const struct cli_command *c = group->subcommands; c->name; c++)
                fprintf(f, "  %-*s  %s\n", (int) width, c->name, c->summary);
        fprintf(f, "\nRun '%s COMMAND --help' for help on a command.\n", path);
}

static void command_help(const char *path, const struct cli_command *cmd)
{
        _cleanup_free_ struct cli_option *all = NULL;
        _cleanup_free_ char *options = NULL;
        size_t n;

        printf("Usage: %s%s%s%s\n\n%s\n", path, cmd->args && *cmd->args ? " " : "", cmd->args ?: "",
               cmd->options && cmd->options[0].name ? " [OPTIONS]" : "", cmd->description ?: cmd->summary);

        /* The command's options and --help, aligned together. */
        n = 0;
        while (cmd->options && cmd->options[n].name)
                n++;
        all = calloc(n + 2, sizeof(*all));
        if (all) {
                if (n > 0)
                        memcpy(all, cmd->options, n * sizeof(*all));
                all[n] = (struct cli_option) { "help", 'h', NULL, "Show this help and exit" };
                options = cli_options_help(all);
        }
        if (options)
                printf("\nOptions:\n%s", options);
        if (cmd->examples) {
                const char *line = cmd->examples;

                printf("\nExamples:\n");
                while (*line) {
                        size_t len = strcspn(line, "\n");

                        printf("  %.*s\n", (int) len, line);
                        line += len;
                        if (*line)
                                line++;
                }
        }
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

int cli_usage_error(const struct cli *cli, const char *fmt, ...)
{
        va_list ap;

        fputs("ferry: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nTry '%s --help' for more information.\n", cli->command ?: "ferry");
        return CLI_EXIT_USAGE;
}

static const struct cli_command *find_command(const struct cli_command *table, size_t n, const char *name)
{
        for (size_t i = 0; i < n && table[i].name; i++)
                if (streq(table[i].name, name))
                        return &table[i];
        return NULL;
}

static size_t table_size(const struct cli_command *table)
{
        size_t n = 0;

        while (table[n].name)
                n++;
        return n;
}

/* 0: run a command (argv[optind]); 1: done; -EINVAL: bad usage, reported. */
static int parse_argv(int argc, char *argv[], struct cli *cli)
{
        enum {
                ARG_SOCKET = 0x100,
                ARG_REMOTE,
        };
        static const struct option options[] = {
                { "socket", required_argument, NULL, ARG_SOCKET },
                { "remote", required_argument, NULL, ARG_REMOTE },
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
                case ARG_REMOTE:
                        if (!*optarg) {
                                usage_error("The remote name must not be empty");
                                return -EINVAL;
                        }
                        cli->remote = optarg;
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

static bool wants_help(int argc, char *argv[])
{
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--"))
                        break;
                if (streq(argv[i], "--help") || streq(argv[i], "-h"))
                        return true;
        }
        return false;
}

static int run_leaf(struct cli *cli, const char *path, const struct cli_command *cmd, int argc, char *argv[])
{
        struct cli_args args = {};
        struct ferry_error err = {};
        int nargs, r;

        if (wants_help(argc, argv)) {
                command_help(path, cmd);
                return EXIT_SUCCESS;
        }

        cli->command = path;
        if (!cmd->options) {
                nargs = argc - 1;
                if (nargs < cmd->min_args || nargs > cmd->max_args) {
                        if (cmd->max_args == 0)
                                usage_error("'%s' takes no arguments", path);
                        else
                                usage_error("Wrong number of arguments: %s %s", path, cmd->args);
                        return EXIT_USAGE;
                }
                r = cmd->run(cli, argc, argv);
                return r < 0 ? EXIT_FAILURE : r;
        }

        r = cli_args_parse(cmd->options, argc - 1, argv + 1, &args, &err);
        if (r < 0)
                return cli_usage_error(cli, "%s", ferry_error_message(&err));

        /* run() sees the command's name and its positional arguments. */
        argv[0] = (char *) cmd->name;
        for (size_t i = 0; i < args.n_positional; i++)
                argv[i + 1] = args.positional[i];
        nargs = (int) args.n_positional;
        if (nargs < cmd->min_args || nargs > cmd->max_args) {
                if (cmd->max_args == 0)
                        r = cli_usage_error(cli, "'%s' takes no arguments", path);
                else if (nargs < cmd->min_args)
                        r = cli_usage_error(cli, "Missing arguments: %s %s", path, cmd->args);
                else
                        r = cli_usage_error(cli, "Too many arguments: %s %s", path, cmd->args);
                cli_args_done(&args);
                return r;
        }

        cli->args = &args;
        r = cmd->run(cli, nargs + 1, argv);
        cli->args = NULL;
        cli_args_done(&args);
        return r < 0 ? EXIT_FAILURE : r;
}

static int run_command(struct cli *cli, const char *parent, const struct cli_command *table, size_t n, int argc,
                       char *argv[])
{
        _cleanup_free_ char *path = NULL;
        const struct cli_command *cmd;
        int r;

        cmd = find_command(table, n, argv[0]);
        if (!cmd) {
                if (streq(parent, "ferry")) {
                        fprintf(stderr, "ferry: Unknown command '%s'\n\n", argv[0]);
                        help(stderr);
                }
                return -ENOENT;
        }

        path = strjoin(parent, " ", cmd->name, NULL);
        if (!path) {
                log_error_errno(ENOMEM, "Out of memory");
                return EXIT_FAILURE;
        }

        if (!cmd->subcommands)
                return run_leaf(cli, path, cmd, argc, argv);

        if (argc < 2) {
                fprintf(stderr, "ferry: '%s' needs a command\n\n", path);
                group_help(stderr, path, cmd);
                return EXIT_USAGE;
        }
        if (streq(argv[1], "--help") || streq(argv[1], "-h")) {
                group_help(stdout, path, cmd);
                return EXIT_SUCCESS;
        }
        r = run_command(cli, path, cmd->subcommands, table_size(cmd->subcommands), argc - 1, argv + 1);
        if (r == -ENOENT) {
                fprintf(stderr, "ferry: Unknown command '%s %s'\n\n", path, argv[1]);
                group_help(stderr, path, cmd);
                return EXIT_USAGE;
        }
        return r;
}

/* Messages read like incus's: "Error: <message>". */
static void log_to_user(enum log_level level, const char *message, void *userdata)
{
        static const char *const prefix[_LOG_LEVEL_MAX] = {
                [LOG_LEVEL_ERROR] = "Error",
                [LOG_LEVEL_WARNING] = "Warning",
                [LOG_LEVEL_INFO] = NULL,
                [LOG_LEVEL_DEBUG] = "Debug",
        };

        (void) userdata;
        fflush(stdout);
        if (prefix[level])
                fprintf(stderr, "%s: %s\n", prefix[level], message);
        else
                fprintf(stderr, "%s\n", message);
}

int main(int argc, char *argv[])
{
        _cleanup_free_ char *socket_from_env = NULL;
        struct cli cli = {};
        const char *dir;
        int r;

        log_set_ident("ferry");
        log_set_sink(log_to_user, NULL);

        r = parse_argv(argc, argv, &cli);
        if (r < 0)
                return EXIT_USAGE;
        if (r > 0)
                return EXIT_SUCCESS;

        /* --socket names the local ferryd: the default remote does not matter. */
        if (cli.socket_path && !cli.remote)
                cli.remote = "local";

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

        r = run_command(&cli, "ferry", cli_commands, ELEMENTSOF(cli_commands), argc - optind, argv + optind);
        if (r == -ENOENT)
                r = EXIT_USAGE;

        if (fflush(stdout) != 0 || ferror(stdout)) {
                log_error_errno(errno ?: EIO, "Failed to write the output: %m");
                return EXIT_FAILURE;
        }
        return r;
}
