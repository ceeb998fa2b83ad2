/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The options of one ferry command, declared as a table and parsed the
 * GNU way: options and arguments in any order, "--name value",
 * "--name=value", "-n value", "-nvalue", and "--" before arguments that
 * start with a dash.  A lone "-" is an argument (stdin, by convention).
 *
 *     static const struct cli_option options[] = {
 *             { "format", 'f', "FORMAT", "Output format: table, compact, csv, json or yaml" },
 *             { "force", 0, NULL, "Do not ask" },
 *             {}
 *     };
 *
 * An option given several times keeps every value: cli_args_get() returns
 * the last, cli_args_get_all() all of them.  Pure: no I/O.
 */
#ifndef FERRY_CLI_ARGS_H
#define FERRY_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "common/macros.h"

struct cli_option {
        const char *name;               /* long name, without "--"; NULL ends a table */
        char short_name;                /* 0 for none */
        const char *value_name;         /* "FORMAT" in the help; NULL for a flag without a value */
        const char *help;               /* one line */
};

struct cli_args {
        const struct cli_option *options;       /* borrowed */
        size_t n_options;
        char **positional;                      /* borrowed from argv, NULL-terminated */
        size_t n_positional;
        char ***values;                         /* per option: NULL-terminated borrowed values */
        size_t *count;                          /* per option: how often it was given */
};

/*
 * Parse argv[0..argc) (no program or command name in front).  Usage errors
 * are -EINVAL with a message: "Unknown option '--bogus'", "Option
 * '--format' needs a value", "Option '--force' takes no value".  ret
 * borrows from options and argv; free it with cli_args_done().
 */
int cli_args_parse(const struct cli_option *options, int argc, char *argv[], struct cli_args *ret,
                   struct ferry_error *err);
void cli_args_done(struct cli_args *a);

/* The last value of option name, or NULL if it was not given. */
const char *cli_args_get(const struct cli_args *a, const char *name);
/* Every value of option name, NULL-terminated (empty if not given); n may be NULL. */
char *const *cli_args_get_all(const struct cli_args *a, const char *name, size_t *ret_n);
/* Whether option name (a flag or not) was given. */
bool cli_args_has(const struct cli_args *a, const char *name);

/*
 * The help lines for a table: "  -f, --format FORMAT  Output format ..."
 * with the descriptions aligned; free() it.  NULL with errno on failure.
 */
char *cli_options_help(const struct cli_option *options);

#endif
