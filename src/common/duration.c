/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/duration.h"
#include "common/strbuf.h"

/* Fraction digits beyond this cannot move a result by a whole microsecond. */
#define DURATION_FRACTION_DIGITS_MAX 12

static const struct {
        const char *suffix;
        uint64_t usec;
} duration_units[] = {
        { "d", USEC_PER_DAY },
        { "h", USEC_PER_HOUR },
        { "m", USEC_PER_MINUTE },
        { "s", USEC_PER_SEC },
        { "ms", USEC_PER_MSEC },
};

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static uint64_t pow10_u64(unsigned n)
{
        uint64_t v = 1;

        while (n-- > 0)
                v *= 10;
        return v;
}

/*
 * floor(unit * frac / 10^digits) for frac < 10^digits <= 10^12, without
 * overflowing: split frac = high * 10^6 + low; the part of unit * low below
 * 10^6 cannot carry into the integer result.
 */
static uint64_t duration_fraction(uint64_t unit, uint64_t frac, unsigned digits)
{
        uint64_t high, low;

        if (digits <= 6)
                return unit * frac / pow10_u64(digits);

        high = frac / USEC_PER_SEC;
        low = frac % USEC_PER_SEC;
        return (unit * high + unit * low / USEC_PER_SEC) / pow10_u64(digits - 6);
}

int duration_parse(const char *s, uint64_t *ret_usec)
{
        uint64_t total = 0;
        const char *p = s;

        if (!s || !*s)
                return -EINVAL;
        if (streq(s, "0")) {
                *ret_usec = 0;
                return 0;
        }

        while (*p) {
                uint64_t whole = 0, frac = 0, unit = 0, v;
                unsigned frac_digits = 0;
                const char *start;
                size_t n;

                if (!is_digit(*p))
                        return -EINVAL;
                for (; is_digit(*p); p++)
                        if (__builtin_mul_overflow(whole, 10, &whole) ||
                            __builtin_add_overflow(whole, (uint64_t) (*p - '0'), &whole))
                                return -ERANGE;

                if (*p == '.') {
                        p++;
                        if (!is_digit(*p))
                                return -EINVAL;
                        for (; is_digit(*p); p++)
                                if (frac_digits < DURATION_FRACTION_DIGITS_MAX) {
                                        frac = frac * 10 + (uint64_t) (*p - '0');
                                        frac_digits++;
                                }
                }

                start = p;
                while (is_alpha(*p))
                        p++;
                n = (size_t) (p - start);
                for (size_t i = 0; i < ELEMENTSOF(duration_units); i++)
                        if (strlen(duration_units[i].suffix) == n &&
                            memcmp(duration_units[i].suffix, start, n) == 0) {
                                unit = duration_units[i].usec;
                                break;
                        }
                if (unit == 0)
                        return -EINVAL;

                if (__builtin_mul_overflow(whole, unit, &v) ||
                    __builtin_add_overflow(v, duration_fraction(unit, frac, frac_digits), &v) ||
                    __builtin_add_overflow(total, v, &total))
                        return -ERANGE;
        }

        *ret_usec = total;
        return 0;
}

/* snprintf() at *pos, failing instead of truncating. */
_printf_(4, 5)
static int append_checked(char *buf, size_t size, size_t *pos, const char *fmt, ...)
{
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(buf + *pos, size - *pos, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t) n >= size - *pos)
                return -ENOBUFS;
        *pos += (size_t) n;
        return 0;
}

/* Write ".ddd" for a fraction of 10^digits parts, without trailing zeros; nothing for 0. */
static int append_fraction(char *buf, size_t size, size_t *pos, uint64_t frac, int digits)
{
        if (frac == 0)
                return 0;
        while (frac % 10 == 0) {
                frac /= 10;
                digits--;
        }
        return append_checked(buf, size, pos, ".%0*" PRIu64, digits, frac);
}

int duration_format(uint64_t usec, char *buf, size_t size)
{
        char tmp[DURATION_FORMAT_MAX];
        size_t pos = 0;
        uint64_t ms, rest;
        int r;

        if (usec == 0) {
                r = append_checked(tmp, sizeof tmp, &pos, "0s");
                goto finish;
        }

        /* d, h, m, s; milliseconds are handled below with their fraction. */
        for (size_t i = 0; i + 1 < ELEMENTSOF(duration_units); i++) {
                uint64_t n = usec / duration_units[i].usec;

                usec %= duration_units[i].usec;
                if (n == 0)
                        continue;
                r = append_checked(tmp, sizeof tmp, &pos, "%" PRIu64 "%s", n, duration_units[i].suffix);
                if (r < 0)
                        goto finish;
        }

        ms = usec / USEC_PER_MSEC;
        rest = usec % USEC_PER_MSEC;
        r = 0;
        if (ms > 0 || rest > 0) {
                r = append_checked(tmp, sizeof tmp, &pos, "%" PRIu64, ms);
                if (r >= 0)
                        r = append_fraction(tmp, sizeof tmp, &pos, rest, 3);
                if (r >= 0)
                        r = append_checked(tmp, sizeof tmp, &pos, "ms");
        }

finish:
        if (r < 0)
                return r;
        if (pos + 1 > size)
                return -ENOBUFS;
        memcpy(buf, tmp, pos + 1);
        return 0;
}

/* Exactly n digits. */
static int parse_fixed_digits(const char **p, unsigned n, int *ret)
{
        int v = 0;

        for (unsigned i = 0; i < n; i++) {
                if (!is_digit((*p)[i]))
                        return -EINVAL;
                v = v * 10 + ((*p)[i] - '0');
        }
        *p += n;
        *ret = v;
        return 0;
}

static int expect_char(const char **p, const char *accepted)
{
        if (**p == '\0' || !strchr(accepted, **p))
                return -EINVAL;
        (*p)++;
        return 0;
}

static bool is_leap_year(int year)
{
        return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(int year, int month)
{
        static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

        return month == 2 && is_leap_year(year) ? 29 : days[month - 1];
}

int timestamp_parse_rfc3339(const char *s, int64_t *ret_usec)
{
        int year, month, day, hour, minute, second, off_hour = 0, off_minute = 0, sign = 0;
        int64_t frac = 0, frac_scale = (int64_t) USEC_PER_SEC, offset;
        struct tm tm = {};
        const char *p = s;
        time_t t;

        if (!s)
                return -EINVAL;

        if (parse_fixed_digits(&p, 4, &year) < 0 || expect_char(&p, "-") < 0 ||
            parse_fixed_digits(&p, 2, &month) < 0 || expect_char(&p, "-") < 0 ||
            parse_fixed_digits(&p, 2, &day) < 0 || expect_char(&p, "Tt") < 0 ||
            parse_fixed_digits(&p, 2, &hour) < 0 || expect_char(&p, ":") < 0 ||
            parse_fixed_digits(&p, 2, &minute) < 0 || expect_char(&p, ":") < 0 ||
            parse_fixed_digits(&p, 2, &second) < 0)
                return -EINVAL;

        if (*p == '.') {
                p++;
                if (!is_digit(*p))
                        return -EINVAL;
                for (; is_digit(*p); p++)
                        if (frac_scale > 1) {
                                frac_scale /= 10;
                                frac += (*p - '0') * frac_scale;
                        }
        }

        if (*p == 'Z' || *p == 'z')
                p++;
        else if (*p == '+' || *p == '-') {
                sign = *p == '+' ? 1 : -1;
                p++;
                if (parse_fixed_digits(&p, 2, &off_hour) < 0 || expect_char(&p, ":") < 0 ||
                    parse_fixed_digits(&p, 2, &off_minute) < 0)
                        return -EINVAL;
        } else
                return -EINVAL;
        if (*p != '\0')
                return -EINVAL;

        if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
            minute > 59 || second > 59 || off_hour > 23 || off_minute > 59)
                return -EINVAL;

        tm.tm_year = year - 1900;
        tm.tm_mon = month - 1;
        tm.tm_mday = day;
        tm.tm_hour = hour;
        tm.tm_min = minute;
        tm.tm_sec = second;
        t = timegm(&tm);

        /* Local time is UTC plus the offset. */
        offset = (int64_t) sign * (off_hour * 3600 + off_minute * 60);
        *ret_usec = ((int64_t) t - offset) * (int64_t) USEC_PER_SEC + frac;
        return 0;
}

int timestamp_format_rfc3339(int64_t usec, char *buf, size_t size)
{
        char tmp[TIMESTAMP_RFC3339_MAX];
        int64_t sec = usec / (int64_t) USEC_PER_SEC, frac = usec % (int64_t) USEC_PER_SEC;
        size_t pos = 0;
        struct tm tm;
        time_t t;
        int r;

        /* Round towards minus infinity so that the fraction is never negative. */
        if (frac < 0) {
                frac += (int64_t) USEC_PER_SEC;
                sec--;
        }

        t = (time_t) sec;
        if (!gmtime_r(&t, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
                return -ERANGE;

        r = append_checked(tmp, sizeof tmp, &pos, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        if (r >= 0)
                r = append_fraction(tmp, sizeof tmp, &pos, (uint64_t) frac, 6);
        if (r >= 0)
                r = append_checked(tmp, sizeof tmp, &pos, "Z");
        if (r < 0)
                return r;

        if (pos + 1 > size)
                return -ENOBUFS;
        memcpy(buf, tmp, pos + 1);
        return 0;
}

int64_t timestamp_now_usec(void)
{
        struct timespec ts;

        (void) clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec * (int64_t) USEC_PER_SEC + ts.tv_nsec / 1000;
}

void timestamp_now_rfc3339(char buf[static TIMESTAMP_RFC3339_MAX])
{
        if (timestamp_format_rfc3339(timestamp_now_usec(), buf, TIMESTAMP_RFC3339_MAX) < 0)
                buf[0] = '\0';
}
