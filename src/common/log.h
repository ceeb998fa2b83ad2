/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging to stderr, syslog or a sink function.  Knows nothing of ferry.
 *
 * The *_errno() macros return the negative errno, so that reporting and
 * returning an error is one statement, and make %m print that error:
 *
 *     fd = open(path, O_RDONLY | O_CLOEXEC);
 *     if (fd < 0)
 *             return log_error_errno(errno, "Failed to open '%s': %m", path);
 *
 * Arguments of a message above the maximum level are not evaluated.  Every
 * function here may be called from any thread; each line is written with
 * a single write().
 */
#ifndef FERRY_COMMON_LOG_H
#define FERRY_COMMON_LOG_H

#include <errno.h>
#include <stdarg.h>

#include "common/macros.h"

enum log_level {
        LOG_LEVEL_ERROR,
        LOG_LEVEL_WARNING,
        LOG_LEVEL_INFO,
        LOG_LEVEL_DEBUG,
        _LOG_LEVEL_MAX,
        _LOG_LEVEL_INVALID = -EINVAL,
};

enum log_target {
        LOG_TARGET_STDERR,  /* "<ident>: <level>: <message>\n" */
        LOG_TARGET_SYSLOG,  /* facility LOG_DAEMON, with the pid */
        _LOG_TARGET_MAX,
        _LOG_TARGET_INVALID = -EINVAL,
};

/* Names are "error", "warning", "info", "debug"; NULL/-EINVAL if unknown. */
const char *log_level_to_string(enum log_level level);
enum log_level log_level_from_string(const char *s);

/* Names are "stderr" and "syslog". */
const char *log_target_to_string(enum log_target target);
enum log_target log_target_from_string(const char *s);

/* The most verbose level that is emitted; LOG_LEVEL_INFO by default. */
void log_set_max_level(enum log_level level);
enum log_level log_get_max_level(void);

/* Where lines go when no sink is set; LOG_TARGET_STDERR by default. */
void log_set_target(enum log_target target);

/* The program name put before each line; "ferry" by default, NULL restores it. */
void log_set_ident(const char *ident);

/*
 * Send every emitted message to sink instead of the target; NULL restores
 * the target.  The sink is called with the log lock held, one message at
 * a time, and never again once log_set_sink() has returned; a message it
 * logs itself goes to the target.  It must not call the log_set_*()
 * functions.  message is borrowed for the call.
 */
typedef void (*log_sink_fn)(enum log_level level, const char *message, void *userdata);
void log_set_sink(log_sink_fn sink, void *userdata);

/*
 * Emit a message at level if it is not above the maximum level.  With a
 * non-zero error (either sign), %m prints its text.  Returns -abs(error),
 * or 0 when error is 0.  file, line and func say where the call is.
 */
int log_internal(enum log_level level, int error, const char *file, int line, const char *func,
                 const char *fmt, ...) _printf_(6, 7);
int log_internalv(enum log_level level, int error, const char *file, int line, const char *func,
                  const char *fmt, va_list ap) _printf_(6, 0);

static inline int log_negative_errno(int error)
{
        return error < 0 ? error : -error;
}

#define log_full_errno(level, error, ...)                                              \
        ({                                                                             \
                int _level_ = (level), _error_ = (error);                              \
                log_get_max_level() >= _level_                                         \
                        ? log_internal(_level_, _error_, __FILE__, __LINE__, __func__, \
                                       __VA_ARGS__)                                    \
                        : log_negative_errno(_error_);                                 \
        })

#define log_error(...) log_full_errno(LOG_LEVEL_ERROR, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_LEVEL_WARNING, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)

#define log_error_errno(error, ...) log_full_errno(LOG_LEVEL_ERROR, error, __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_LEVEL_WARNING, error, __VA_ARGS__)
#define log_info_errno(error, ...) log_full_errno(LOG_LEVEL_INFO, error, __VA_ARGS__)
#define log_debug_errno(error, ...) log_full_errno(LOG_LEVEL_DEBUG, error, __VA_ARGS__)

#endif
