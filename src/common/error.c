/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/strbuf.h"

static int error_code_normalize(int code)
{
        if (code > 0)
                return -code;
        if (code == 0)
                return -EIO;
        return code;
}

/* vsnprintf() with %m printing the text of code, cut at a character boundary. */
_printf_(4, 0)
static void error_format(char *buf, size_t size, int code, const char *fmt, va_list ap)
{
        int saved_errno = errno, n;

        if (!fmt) {
                buf[0] = '\0';
                return;
        }

        errno = -code;
        n = vsnprintf(buf, size, fmt, ap);
        errno = saved_errno;

        if (n < 0)
                buf[0] = '\0';
        else if ((size_t) n >= size)
                utf8_trim_partial(buf);
}

int ferry_error_setv(struct ferry_error *e, int code, const char *fmt, va_list ap)
{
        char message[sizeof e->message];

        code = error_code_normalize(code);
        if (!e)
                return code;

        /* Format aside first: the arguments may point into e->message. */
        error_format(message, sizeof message, code, fmt, ap);
        memcpy(e->message, message, sizeof message);
        e->code = code;
        return code;
}

int ferry_error_set(struct ferry_error *e, int code, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        code = ferry_error_setv(e, code, fmt, ap);
        va_end(ap);
        return code;
}

void ferry_error_clear(struct ferry_error *e)
{
        if (!e)
                return;
        e->code = 0;
        e->message[0] = '\0';
}

int ferry_error_prefix(struct ferry_error *e, const char *fmt, ...)
{
        char prefix[sizeof e->message], old[sizeof e->message];
        va_list ap;
        int n;

        if (!e)
                return -EIO;

        e->code = error_code_normalize(e->code);
        n = snprintf(old, sizeof old, "%s", ferry_error_message(e));
        if (n < 0)
                old[0] = '\0';

        va_start(ap, fmt);
        error_format(prefix, sizeof prefix, e->code, fmt, ap);
        va_end(ap);

        n = snprintf(e->message, sizeof e->message, "%s: %s", prefix, old);
        if (n < 0)
                e->message[0] = '\0';
        else if ((size_t) n >= sizeof e->message)
                utf8_trim_partial(e->message);
        return e->code;
}

const char *ferry_error_message(const struct ferry_error *e)
{
        const char *s;

        if (!e)
                return "";
        if (e->message[0])
                return e->message;

        s = strerrordesc_np(-e->code);
        return s ? s : "Unknown error";
}
