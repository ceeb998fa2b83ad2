/* SPDX-License-Identifier: Apache-2.0 */
/*
 * struct ferry_error carries a negative errno and a human-readable message
 * from the place where a failure happened up to the layer that reports it.
 * Knows nothing of ferry beyond its name.
 *
 *     struct ferry_error err = {};
 *
 *     r = json_parse_strict(buf, len, &v, &err);
 *     if (r < 0)
 *             return ferry_error_prefix(&err, "Config file '%s'", path);
 *
 * Formats accept %m, which prints the text of the error code being set.
 */
#ifndef FERRY_COMMON_ERROR_H
#define FERRY_COMMON_ERROR_H

#include <stdarg.h>

#include "common/macros.h"

#define FERRY_ERROR_MESSAGE_MAX 512

struct ferry_error {
        int code;                               /* negative errno, 0 when clear */
        char message[FERRY_ERROR_MESSAGE_MAX];  /* "" means: use the errno text */
};

/*
 * Fill e (which may be NULL) and return the code.  The code is always
 * negative: a positive errno is negated and 0 becomes -EIO.  A message
 * longer than the buffer is cut at a UTF-8 character boundary.
 */
int ferry_error_set(struct ferry_error *e, int code, const char *fmt, ...) _printf_(3, 4);
int ferry_error_setv(struct ferry_error *e, int code, const char *fmt, va_list ap) _printf_(3, 0);

/* Reset to "no error"; e may be NULL. */
void ferry_error_clear(struct ferry_error *e);

/*
 * Turn the message into "<prefix>: <old message>", cutting the end if it
 * does not fit, and return e->code (-EIO if e was clear, or NULL).
 */
int ferry_error_prefix(struct ferry_error *e, const char *fmt, ...) _printf_(2, 3);

/*
 * The message, or the text of the code when the message is empty.
 * Borrowed: valid while e is unchanged.  "" for a NULL e.
 */
const char *ferry_error_message(const struct ferry_error *e);

#endif
