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
#include "common/strbuf.h"
#include "daemon/config.h"
#include "daemon/daemon.h"

#define EXIT_USAGE 2

static void help(void)
{
        printf("Usage: ferryd [OPTIONS]\n"
               "\n"
               "ferryd is the ferry daemon, which migrates virtual machines from VMware\n"
               "into Incus. It keeps its state in a data directory and serves ferry's\n"
               "REST API there on a unix socket, and over HTTPS when configured; the\n"
               "'ferry' command is its client.\n"
               "\n"
               "Options:\n"
               "      --data-dir DIR     Keep state in DIR, created if missing\n"
               "                         (default: " DAEMON_DEFAULT_DATA_DIR ")\n"
               "      --config FILE      Read settings from FILE, which must exist\n"
               "                         (default: DIR/" CONFIG_FILE_NAME ", if it exists)\n"
               "      --log-level LEVEL  Log 'error', 'warning', 'info' (default) or 'debug';\n"
               "                         overrides log.level of the config file\n"
               "      --syslog           Log to syslog instead of standard error\n"
               "  -h, --help             Show this help and exit\n"
               "  -V, --version          Show the version and exit\n"
               "\n"
               "The REST API listens on DIR/" DAEMON_SOCKET_NAME " (mode 0660), and on HTTPS at\n"
               "core.https_address from the config file (YAML), e.g.:\n"
               "\n"
               "    core.https_address: \"127.0.0.1:8443\"\n"
               "    log.level: info\n"
               "\n"
               "HTTPS clients authenticate with TLS client certificates that an admin\n"
               "trusts ('ferry config trust add NAME'). ferryd stops on SIGTERM or\n"
               "SIGINT. See 'man ferryd' for details.\n");
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
static int parse_argv(int argc, char *argv[], struct daemon_config *config, const char **ret_config_path,
                      bool *ret_log_level_given, bool *ret_syslog)
{
        enum {
                ARG_DATA_DIR = 0x100,
                ARG_CONFIG,
                ARG_LOG_LEVEL,
                ARG_SYSLOG,
        };
        static const struct option options[] = {
                { "data-dir", required_argument, NULL, ARG_DATA_DIR },
                { "config", required_argument, NULL, ARG_CONFIG },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "syslog", no_argument, NULL, ARG_SYSLOG },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {}
        };
        enum log_level level;
        bool use_syslog = false, log_level_given = false;
        const char *config_path = NULL;
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
                case ARG_CONFIG:
                        if (!*optarg) {
                                usage_error("The config file path must not be empty");
                                return -EINVAL;
                        }
                        config_path = optarg;
                        break;
                case ARG_LOG_LEVEL:
                        level = log_level_from_string(optarg);
                        if (level < 0) {
                                usage_error("Unknown log level '%s': use error, warning, info or debug", optarg);
                                return -EINVAL;
                        }
                        log_set_max_level(level);
                        log_level_given = true;
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

        *ret_config_path = config_path;
        *ret_log_level_given = log_level_given;
        *ret_syslog = use_syslog;
        return 0;
}

/* --config FILE must exist; the default <data dir>/config.yaml may not. */
static int load_config(const char *data_dir, const char *path, struct config *ret, struct ferry_error *err)
{
        _cleanup_free_ char *default_path = NULL;

        if (path)
                return config_load(path, true, ret, err);

        default_path = strjoin(data_dir ?: DAEMON_DEFAULT_DATA_DIR, "/" CONFIG_FILE_NAME, NULL);
        if (!default_path)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        return config_load(default_path, false, ret, err);
}

int main(int argc, char *argv[])
{
        _cleanup_daemon_ struct daemon *d = NULL;
        _cleanup_(config_done) struct config file_config = {};
        struct daemon_config config = {};
        struct ferry_error err = {};
        bool use_syslog = false, log_level_given = false;
        const char *config_path = NULL;
        int r;

        log_set_ident("ferryd");

        r = parse_argv(argc, argv, &config, &config_path, &log_level_given, &use_syslog);
        if (r < 0)
                return EXIT_USAGE;
        if (r > 0)
                return EXIT_SUCCESS;

        if (use_syslog)
                log_set_target(LOG_TARGET_SYSLOG);

        r = load_config(config.data_dir, config_path, &file_config, &err);
        if (r < 0) {
                log_error("%s", ferry_error_message(&err));
                return EXIT_FAILURE;
        }
        if (!log_level_given && file_config.log_level >= 0)
                log_set_max_level(file_config.log_level);
        config.config = &file_config;

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
