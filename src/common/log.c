/* SPDX-License-Identifier: Apache-2.0 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "common/log.h"
#include "common/strbuf.h"

/* Longer messages are cut; a line adds the ident and the level name. */
#define LOG_MESSAGE_MAX 2048
#define LOG_IDENT_MAX 64
#define LOG_IDENT_DEFAULT "ferry"

static const char *const log_level_table[_LOG_LEVEL_MAX] = {
        [LOG_LEVEL_ERROR] = "error",
        [LOG_LEVEL_WARNING] = "warning",
        [LOG_LEVEL_INFO] = "info",
        [LOG_LEVEL_DEBUG] = "debug",
};

static const int log_level_syslog[_LOG_LEVEL_MAX] = {
        [LOG_LEVEL_ERROR] = LOG_ERR,
        [LOG_LEVEL_WARNING] = LOG_WARNING,
        [LOG_LEVEL_INFO] = LOG_INFO,
        [LOG_LEVEL_DEBUG] = LOG_DEBUG,
};

static const char *const log_target_table[_LOG_TARGET_MAX] = {
        [LOG_TARGET_STDERR] = "stderr",
        [LOG_TARGET_SYSLOG] = "syslog",
};

static atomic_int log_max_level = LOG_LEVEL_INFO;

/* Everything below is protected by log_lock. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static enum log_target log_target = LOG_TARGET_STDERR;
static char log_ident[LOG_IDENT_MAX] = LOG_IDENT_DEFAULT;
static bool log_syslog_open;
static log_sink_fn log_sink;
static void *log_sink_userdata;

/* Set while this thread runs the sink, so that the sink's own messages bypass it. */
static _Thread_local bool log_in_sink;

const char *log_level_to_string(enum log_level level)
{
        if (level < 0 || level >= _LOG_LEVEL_MAX)
                return NULL;
        return log_level_table[level];
}

enum log_level log_level_from_string(const char *s)
{
        return (enum log_level) string_table_lookup(log_level_table, _LOG_LEVEL_MAX, s);
}

const char *log_target_to_string(enum log_target target)
{
        if (target < 0 || target >= _LOG_TARGET_MAX)
                return NULL;
        return log_target_table[target];
}

enum log_target log_target_from_string(const char *s)
{
        return (enum log_target) string_table_lookup(log_target_table, _LOG_TARGET_MAX, s);
}

void log_set_max_level(enum log_level level)
{
        if (level < 0 || level >= _LOG_LEVEL_MAX)
                return;
        atomic_store(&log_max_level, (int) level);
}

enum log_level log_get_max_level(void)
{
        return (enum log_level) atomic_load(&log_max_level);
}

/* Called with log_lock held; openlog() keeps the ident pointer. */
static void log_syslog_reopen(void)
{
        if (log_syslog_open)
                closelog();
        openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
        log_syslog_open = true;
}

void log_set_target(enum log_target target)
{
        if (target < 0 || target >= _LOG_TARGET_MAX)
                return;

        pthread_mutex_lock(&log_lock);
        log_target = target;
        if (target == LOG_TARGET_SYSLOG)
                log_syslog_reopen();
        else if (log_syslog_open) {
                closelog();
                log_syslog_open = false;
        }
        pthread_mutex_unlock(&log_lock);
}

void log_set_ident(const char *ident)
{
        pthread_mutex_lock(&log_lock);
        snprintf(log_ident, sizeof log_ident, "%s", ident ? ident : LOG_IDENT_DEFAULT);
        utf8_trim_partial(log_ident);
        if (log_syslog_open)
                log_syslog_reopen();
        pthread_mutex_unlock(&log_lock);
}

void log_set_sink(log_sink_fn sink, void *userdata)
{
        pthread_mutex_lock(&log_lock);
        log_sink = sink;
        log_sink_userdata = userdata;
        pthread_mutex_unlock(&log_lock);
}

static void log_write_all(int fd, const char *p, size_t n)
{
        while (n > 0) {
                ssize_t k = write(fd, p, n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return;
                }
                p += k;
                n -= (size_t) k;
        }
}

/* Called with log_lock held. */
static void log_emit_to_target(enum log_level level, const char *message)
{
        char line[LOG_IDENT_MAX + 16 + LOG_MESSAGE_MAX];
        int n;

        if (log_target == LOG_TARGET_SYSLOG) {
                syslog(log_level_syslog[level], "%s", message);
                return;
        }

        n = snprintf(line, sizeof line, "%s: %s: %s\n", log_ident, log_level_table[level], message);
        if (n < 0)
                return;
        if ((size_t) n >= sizeof line) {
                /* Cannot happen with the sizes above, but keep the newline if it does. */
                n = (int) sizeof line - 1;
                line[n - 1] = '\n';
        }
        log_write_all(STDERR_FILENO, line, (size_t) n);
}

int log_internalv(enum log_level level, int error, const char *file, int line, const char *func,
                  const char *fmt, va_list ap)
{
        char message[LOG_MESSAGE_MAX];
        int saved_errno = errno, n;

        /* Reserved for structured targets (journald) later. */
        (void) file;
        (void) line;
        (void) func;

        if (level < 0 || level >= _LOG_LEVEL_MAX)
                level = LOG_LEVEL_ERROR;
        if (level > log_get_max_level())
                return log_negative_errno(error);

        if (error != 0)
                errno = -log_negative_errno(error);
        n = vsnprintf(message, sizeof message, fmt, ap);
        if (n < 0)
                message[0] = '\0';
        else if ((size_t) n >= sizeof message)
                utf8_trim_partial(message);

        if (log_in_sink)
                /* Logged by the sink, which runs with log_lock held already. */
                log_emit_to_target(level, message);
        else {
                pthread_mutex_lock(&log_lock);
                if (log_sink) {
                        log_in_sink = true;
                        log_sink(level, message, log_sink_userdata);
                        log_in_sink = false;
                } else
                        log_emit_to_target(level, message);
                pthread_mutex_unlock(&log_lock);
        }

        errno = saved_errno;
        return log_negative_errno(error);
}

int log_internal(enum log_level level, int error, const char *file, int line, const char *func,
                 const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = log_internalv(level, error, file, line, func, fmt, ap);
        va_end(ap);
        return r;
}
