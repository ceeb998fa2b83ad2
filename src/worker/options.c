/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the worker's commands share when they read their options.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "common/duration.h"
#include "worker/worker.h"

int worker_usage_errorv(const char *command, const char *fmt, va_list ap)
{
        fprintf(stderr, "ferry-worker %s: ", command);
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "\nTry 'ferry-worker %s --help' for more information.\n", command);
        return -EINVAL;
}

int worker_usage_error(const char *command, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = worker_usage_errorv(command, fmt, ap);
        va_end(ap);
        return r;
}

int worker_parse_duration(const char *command, const char *option, const char *s, uint64_t *ret)
{
        uint64_t usec;

        if (duration_parse(s, &usec) < 0 || usec == 0)
                return worker_usage_error(command, "%s must be a duration such as '500ms', '10s' or '1m', not '%s'",
                                          option, s);
        *ret = usec;
        return 0;
}
