/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferryd: parse the command line, set up logging, run the daemon.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "daemon/daemon.h"

#define EXIT_USAGE 2

static void help(void)
{
        printf("Usage: ferryd [OPTIONS]\n"
               "\n"
               "ferryd is the ferry daemon, which migrates virtual machines from VMware\n"
               "into Incus. It keeps its state in a data directory and serves ferry's\n"
               "REST API there on a unix socket; the 'ferry' command is its client.\n"
               "\n"
               "Options:\n"
               "      --data-dir DIR     Keep state in DIR, created if missing\n"
               "                         (default: " DAEMON_DEFAULT_DATA_DIR ")\n"
               "      --log-level LEVEL  Log 'error', 'warning', 'info' (default) or 'debug'\n"
               "      --syslog           Log to syslog instead of standard error\n"
               "  -h, --help             Show this help and exit\n"
               "  -V, --version          Show the version and exit\n"
               "\n"
               "The REST API listens on DIR/" DAEMON_SOCKET_NAME " (mode 0660). ferryd stops on SIGTERM\n"
               "or SIGINT. See 'man ferryd' for details.\n");
}

static void usage_error(const char *fmt, ...) _printf_(1, 2);
static void usage_error(const char *fmt, ...)
{
        va_list ap;

        fputs("ferryd: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs("\nTry 'ferryd --help' for more information.\n", stderr);
}

/* 0: run; 1: done (help or version printed); -EINVAL: bad usage, reported. */
static int parse_argv(int argc, char *argv[], struct daemon_config *config, bool *ret_syslog)
{
        enum {
                ARG_DATA_DIR = 0x100,
                ARG_LOG_LEVEL,
                ARG_SYSLOG,
        };
        static const struct option options[] = {
                { "data-dir", required_argument, NULL, ARG_DATA_DIR },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "syslog", no_argument, NULL, ARG_SYSLOG },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {}
        };
        enum log_level level;
        bool use_syslog = false;
        int c;

        while ((c = getopt_long(argc, argv, "hV", options, NULL)) >= 0)
                switch (c) {
                case ARG_DATA_DIR:
                        if (!*optarg) {
                                usage_error("The data directory must not be empty");
                                return -EINVAL;
                        }
                        config->data_dir = optarg;
                        break;
                case ARG_LOG_LEVEL:
                        level = log_level_from_string(optarg);
                        if (level < 0) {
                                usage_error("Unknown log level '%s': use error, warning, info or debug", optarg);
                                return -EINVAL;
                        }
                        log_set_max_level(level);
                        break;
                case ARG_SYSLOG:
                        use_syslog = true;
                        break;
                case 'h':
                        help();
                        return 1;
                case 'V':
                        printf("ferryd %s\n", FERRY_VERSION);
                        return 1;
                default:
                        /* getopt_long() said what is wrong. */
                        fputs("Try 'ferryd --help' for more information.\n", stderr);
                        return -EINVAL;
                }

        if (optind < argc) {
                usage_error("Unexpected argument '%s'", argv[optind]);
                return -EINVAL;
        }

        *ret_syslog = use_syslog;
        return 0;
}

int main(int argc, char *argv[])
{
        _cleanup_daemon_ struct daemon *d = NULL;
        struct daemon_config config = {};
        struct ferry_error err = {};
        bool use_syslog = false;
        int r;

        log_set_ident("ferryd");

        r = parse_argv(argc, argv, &config, &use_syslog);
        if (r < 0)
                return EXIT_USAGE;
        if (r > 0)
                return EXIT_SUCCESS;

        if (use_syslog)
                log_set_target(LOG_TARGET_SYSLOG);

        /* A client that hangs up mid-answer is an error on its connection,
         * not a reason to die. */
        if (sigaction(SIGPIPE, &(struct sigaction) { .sa_handler = SIG_IGN }, NULL) < 0) {
                log_error_errno(errno, "Failed to ignore SIGPIPE: %m");
                return EXIT_FAILURE;
        }

        r = daemon_new(&config, &d, &err);
        if (r < 0) {
                log_error("%s", ferry_error_message(&err));
                return EXIT_FAILURE;
        }
        log_info("Listening on '%s'", d->socket_path);

        r = daemon_run(d, &err);
        if (r < 0) {
                log_error("%s", ferry_error_message(&err));
                return EXIT_FAILURE;
        }
        log_info("Received SIG%s, stopping", sigabbrev_np(r) ?: "?");

        return EXIT_SUCCESS;
}
