/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry-worker's commands.  Each gets its own argv (argv[0] is the command
 * name) and returns the exit status: 0, EXIT_FAILURE, or EXIT_USAGE.
 */
#ifndef FERRY_WORKER_WORKER_H
#define FERRY_WORKER_WORKER_H

#include <stdarg.h>
#include <stdint.h>

#include "common/macros.h"

#define EXIT_USAGE 2

/* options.c: "ferry-worker COMMAND: <message>" and a hint at --help on
 * stderr; return -EINVAL. */
int worker_usage_error(const char *command, const char *fmt, ...) _printf_(2, 3);
int worker_usage_errorv(const char *command, const char *fmt, va_list ap) _printf_(2, 0);
/* A duration above zero for option, or a usage error. */
int worker_parse_duration(const char *command, const char *option, const char *s, uint64_t *ret);

int worker_copy(int argc, char *argv[]);
int worker_agent(int argc, char *argv[]);

#endif
