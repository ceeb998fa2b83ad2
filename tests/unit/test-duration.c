/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/duration.h"
#include "common/macros.h"

/* 2026-11-24T10:00:00Z, as `date -u -d 2026-11-24T10:00:00 +%s` prints it. */
#define NOV_24_2026_10H_USEC (INT64_C(1795514400) * (int64_t) USEC_PER_SEC)

static void test_duration_parse_accepts_hours_and_minutes(_unused_ void **state)
{
        uint64_t usec = 0;

        assert_int_equal(duration_parse("1h30m", &usec), 0);
        assert_int_equal(usec, 90 * USEC_PER_MINUTE);
}

static void test_duration_parse_accepts_every_unit(_unused_ void **state)
{
        static const struct {
                const char *text;
                uint64_t usec;
        } cases[] = {
                { "0", 0 },
                { "0s", 0 },
                { "500ms", 500 * USEC_PER_MSEC },
                { "90s", 90 * USEC_PER_SEC },
                { "2m", 2 * USEC_PER_MINUTE },
                { "2h", 2 * USEC_PER_HOUR },
                { "1d", 24 * USEC_PER_HOUR },
                { "1d2h3m4s5ms", USEC_PER_DAY + 2 * USEC_PER_HOUR + 3 * USEC_PER_MINUTE + 4 * USEC_PER_SEC + 5 * USEC_PER_MSEC },
                { "007s", 7 * USEC_PER_SEC },
                { "1m1m", 2 * USEC_PER_MINUTE },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t usec = UINT64_MAX;

                print_message("'%s'\n", cases[i].text);
                assert_int_equal(duration_parse(cases[i].text, &usec), 0);
                assert_int_equal(usec, cases[i].usec);
        }
}

static void test_duration_parse_accepts_fractions(_unused_ void **state)
{
        static const struct {
                const char *text;
                uint64_t usec;
        } cases[] = {
                { "1.5h", 90 * USEC_PER_MINUTE },
                { "0.5s", 500 * USEC_PER_MSEC },
                { "1.0005s", 1000500 },
                { "1.5ms", 1500 },
                { "0.001ms", 1 },
                { "0.0009ms", 0 },                      /* below a microsecond: truncated */
                { "0.1d", 2 * USEC_PER_HOUR + 24 * USEC_PER_MINUTE },
                { "0.000000000001d", 0 },
                { "0.00000001157407407d", 999 },        /* 0.99999999... ms, truncated */
                { "0.9999999999999999999s", 999999 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t usec = UINT64_MAX;

                print_message("'%s'\n", cases[i].text);
                assert_int_equal(duration_parse(cases[i].text, &usec), 0);
                assert_int_equal(usec, cases[i].usec);
        }
}

static void test_duration_parse_rejects_malformed_input(_unused_ void **state)
{
        static const char *const cases[] = {
                "", "h", "1", "90", "00", "1h30", "-1s", "+1s", " 1s", "1s ", "1 s", "1h 30m",
                "1x", "1H", "1S", "1w", "1y", "1hh", "1us", "1µs", "1.s", ".5s", "1..5s", "1e3s",
                "0x10s", "1,5s", "1_000s", "s1",
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t usec = 12345;

                print_message("'%s'\n", cases[i]);
                assert_int_equal(duration_parse(cases[i], &usec), -EINVAL);
                assert_int_equal(usec, 12345);
        }
        assert_int_equal(duration_parse(NULL, &(uint64_t) { 0 }), -EINVAL);
}

static void test_duration_parse_reports_overflow_as_erange(_unused_ void **state)
{
        static const char *const cases[] = {
                "18446744073709551616ms",       /* the number alone overflows */
                "213503983d",                   /* the number times the unit overflows */
                "213503982d9h",                 /* the sum overflows */
                "99999999999999999999999999d",
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t usec = 12345;

                print_message("'%s'\n", cases[i]);
                assert_int_equal(duration_parse(cases[i], &usec), -ERANGE);
                assert_int_equal(usec, 12345);
        }
}

static void test_duration_parse_accepts_the_largest_value(_unused_ void **state)
{
        uint64_t usec = 0;

        assert_int_equal(duration_parse("213503982d8h1m49s551.615ms", &usec), 0);
        assert_true(usec == UINT64_MAX);
}

static void test_duration_format_produces_canonical_form(_unused_ void **state)
{
        static const struct {
                uint64_t usec;
                const char *text;
        } cases[] = {
                { 0, "0s" },
                { 45 * USEC_PER_SEC, "45s" },
                { 90 * USEC_PER_MINUTE, "1h30m" },
                { 26 * USEC_PER_HOUR, "1d2h" },
                { 250 * USEC_PER_MSEC, "250ms" },
                { 61 * USEC_PER_SEC, "1m1s" },
                { 1500, "1.5ms" },
                { 1, "0.001ms" },
                { 1010, "1.01ms" },
                { USEC_PER_DAY + 1, "1d0.001ms" },
                { 3 * USEC_PER_DAY, "3d" },
                { UINT64_MAX, "213503982d8h1m49s551.615ms" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char buf[DURATION_FORMAT_MAX];

                print_message("%" PRIu64 "\n", cases[i].usec);
                assert_int_equal(duration_format(cases[i].usec, buf, sizeof buf), 0);
                assert_string_equal(buf, cases[i].text);
        }
}

static void test_duration_format_output_parses_back(_unused_ void **state)
{
        static const uint64_t values[] = {
                0, 1, 999, 1000, 1001, 59 * USEC_PER_SEC + 999999, USEC_PER_HOUR, 123456789012345,
                UINT64_MAX - 1, UINT64_MAX,
        };

        for (size_t i = 0; i < ELEMENTSOF(values); i++) {
                char buf[DURATION_FORMAT_MAX];
                uint64_t back = 0;

                assert_int_equal(duration_format(values[i], buf, sizeof buf), 0);
                print_message("%" PRIu64 " -> '%s'\n", values[i], buf);
                assert_int_equal(duration_parse(buf, &back), 0);
                assert_true(back == values[i]);
        }
}

static void test_duration_format_refuses_too_small_buffer(_unused_ void **state)
{
        char buf[6] = "xxxxx";

        assert_int_equal(duration_format(90 * USEC_PER_MINUTE, buf, 5), -ENOBUFS);
        assert_string_equal(buf, "xxxxx");
        assert_int_equal(duration_format(90 * USEC_PER_MINUTE, buf, 6), 0);
        assert_string_equal(buf, "1h30m");
}

static void test_timestamp_parse_accepts_utc(_unused_ void **state)
{
        int64_t usec = 0;

        assert_int_equal(timestamp_parse_rfc3339("2026-11-24T10:00:00Z", &usec), 0);
        assert_true(usec == NOV_24_2026_10H_USEC);
        assert_int_equal(timestamp_parse_rfc3339("1970-01-01T00:00:00Z", &usec), 0);
        assert_true(usec == 0);
}

static void test_timestamp_parse_applies_offsets(_unused_ void **state)
{
        static const char *const same_instant[] = {
                "2026-11-24T12:00:00+02:00",
                "2026-11-24T04:30:00-05:30",
                "2026-11-24T10:00:00+00:00",
                "2026-11-24T10:00:00-00:00",
                "2026-11-25T09:59:00+23:59",
        };

        for (size_t i = 0; i < ELEMENTSOF(same_instant); i++) {
                int64_t usec = 0;

                print_message("'%s'\n", same_instant[i]);
                assert_int_equal(timestamp_parse_rfc3339(same_instant[i], &usec), 0);
                assert_true(usec == NOV_24_2026_10H_USEC);
        }
}

static void test_timestamp_parse_accepts_fractional_seconds(_unused_ void **state)
{
        static const struct {
                const char *text;
                int64_t fraction;
        } cases[] = {
                { "2026-11-24T10:00:00.250Z", 250000 },
                { "2026-11-24T10:00:00.5Z", 500000 },
                { "2026-11-24T10:00:00.000001Z", 1 },
                { "2026-11-24T10:00:00.1234567Z", 123456 },     /* nanoseconds truncated */
                { "2026-11-24T12:00:00.75+02:00", 750000 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int64_t usec = 0;

                print_message("'%s'\n", cases[i].text);
                assert_int_equal(timestamp_parse_rfc3339(cases[i].text, &usec), 0);
                assert_true(usec == NOV_24_2026_10H_USEC + cases[i].fraction);
        }
}

static void test_timestamp_parse_accepts_lower_case_t_and_z(_unused_ void **state)
{
        int64_t usec = 0;

        assert_int_equal(timestamp_parse_rfc3339("2026-11-24t10:00:00z", &usec), 0);
        assert_true(usec == NOV_24_2026_10H_USEC);
}

static void test_timestamp_parse_accepts_leap_days(_unused_ void **state)
{
        int64_t usec = 0;

        assert_int_equal(timestamp_parse_rfc3339("2024-02-29T00:00:00Z", &usec), 0);
        assert_true(usec == INT64_C(1709164800) * (int64_t) USEC_PER_SEC);
        assert_int_equal(timestamp_parse_rfc3339("2000-02-29T00:00:00Z", &usec), 0);
}

static void test_timestamp_parse_handles_times_before_the_epoch(_unused_ void **state)
{
        int64_t usec = 0;

        assert_int_equal(timestamp_parse_rfc3339("1969-12-31T23:59:59.5Z", &usec), 0);
        assert_true(usec == -500000);
        assert_int_equal(timestamp_parse_rfc3339("0000-01-01T00:00:00Z", &usec), 0);
        assert_true(usec == INT64_C(-62167219200) * (int64_t) USEC_PER_SEC);
}

static void test_timestamp_parse_rejects_malformed_input(_unused_ void **state)
{
        static const char *const cases[] = {
                "",
                "2026-11-24",
                "2026-11-24T10:00:00",          /* no zone */
                "2026-11-24T10:00Z",            /* no seconds */
                "2026-11-24 10:00:00Z",
                "2026-11-24T10:00:00 Z",
                " 2026-11-24T10:00:00Z",
                "2026-11-24T10:00:00Z ",
                "2026-13-01T00:00:00Z",
                "2026-00-01T00:00:00Z",
                "2026-11-00T00:00:00Z",
                "2026-11-31T00:00:00Z",
                "2026-02-29T00:00:00Z",         /* not a leap year */
                "1900-02-29T00:00:00Z",         /* nor is 1900 */
                "2026-11-24T24:00:00Z",
                "2026-11-24T10:60:00Z",
                "2026-11-24T10:00:60Z",         /* leap seconds are refused, like Go */
                "2026-11-24T10:00:00.Z",
                "2026-11-24T10:00:00+0200",
                "2026-11-24T10:00:00+02",
                "2026-11-24T10:00:00+24:00",
                "2026-11-24T10:00:00+02:60",
                "2026-11-24T10:00:00Zjunk",
                "26-11-24T10:00:00Z",
                "2026-1-24T10:00:00Z",
                "+2026-11-24T10:00:00Z",
                "2026-11-24T1O:00:00Z",
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int64_t usec = 12345;

                print_message("'%s'\n", cases[i]);
                assert_int_equal(timestamp_parse_rfc3339(cases[i], &usec), -EINVAL);
                assert_true(usec == 12345);
        }
        assert_int_equal(timestamp_parse_rfc3339(NULL, &(int64_t) { 0 }), -EINVAL);
}

static void test_timestamp_format_writes_utc_with_z(_unused_ void **state)
{
        char buf[TIMESTAMP_RFC3339_MAX];

        assert_int_equal(timestamp_format_rfc3339(NOV_24_2026_10H_USEC, buf, sizeof buf), 0);
        assert_string_equal(buf, "2026-11-24T10:00:00Z");
        assert_int_equal(timestamp_format_rfc3339(0, buf, sizeof buf), 0);
        assert_string_equal(buf, "1970-01-01T00:00:00Z");
}

static void test_timestamp_format_writes_fraction_without_trailing_zeros(_unused_ void **state)
{
        static const struct {
                int64_t fraction;
                const char *text;
        } cases[] = {
                { 250000, "2026-11-24T10:00:00.25Z" },
                { 1, "2026-11-24T10:00:00.000001Z" },
                { 999999, "2026-11-24T10:00:00.999999Z" },
                { 100000, "2026-11-24T10:00:00.1Z" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char buf[TIMESTAMP_RFC3339_MAX];

                assert_int_equal(timestamp_format_rfc3339(NOV_24_2026_10H_USEC + cases[i].fraction, buf, sizeof buf), 0);
                assert_string_equal(buf, cases[i].text);
        }
}

static void test_timestamp_format_handles_times_before_the_epoch(_unused_ void **state)
{
        char buf[TIMESTAMP_RFC3339_MAX];

        assert_int_equal(timestamp_format_rfc3339(-500000, buf, sizeof buf), 0);
        assert_string_equal(buf, "1969-12-31T23:59:59.5Z");
        assert_int_equal(timestamp_format_rfc3339(-1, buf, sizeof buf), 0);
        assert_string_equal(buf, "1969-12-31T23:59:59.999999Z");
}

static void test_timestamp_format_output_parses_back(_unused_ void **state)
{
        static const int64_t values[] = {
                0, 1, -1, NOV_24_2026_10H_USEC + 123456, INT64_C(-62167219200) * (int64_t) USEC_PER_SEC,
                INT64_C(253402300799) * (int64_t) USEC_PER_SEC + 999999,
        };

        for (size_t i = 0; i < ELEMENTSOF(values); i++) {
                char buf[TIMESTAMP_RFC3339_MAX];
                int64_t back = 0;

                assert_int_equal(timestamp_format_rfc3339(values[i], buf, sizeof buf), 0);
                print_message("%" PRId64 " -> '%s'\n", values[i], buf);
                assert_int_equal(timestamp_parse_rfc3339(buf, &back), 0);
                assert_true(back == values[i]);
        }
}

static void test_timestamp_format_refuses_years_outside_0000_to_9999(_unused_ void **state)
{
        char buf[TIMESTAMP_RFC3339_MAX];

        assert_int_equal(timestamp_format_rfc3339(INT64_C(253402300800) * (int64_t) USEC_PER_SEC, buf, sizeof buf),
                         -ERANGE);
        assert_int_equal(timestamp_format_rfc3339(INT64_C(-62167219201) * (int64_t) USEC_PER_SEC, buf, sizeof buf),
                         -ERANGE);
        assert_int_equal(timestamp_format_rfc3339(INT64_MAX, buf, sizeof buf), -ERANGE);
        assert_int_equal(timestamp_format_rfc3339(INT64_MIN, buf, sizeof buf), -ERANGE);
}

static void test_timestamp_format_refuses_too_small_buffer(_unused_ void **state)
{
        char buf[21] = "untouched";

        assert_int_equal(timestamp_format_rfc3339(NOV_24_2026_10H_USEC, buf, 20), -ENOBUFS);
        assert_string_equal(buf, "untouched");
        assert_int_equal(timestamp_format_rfc3339(NOV_24_2026_10H_USEC, buf, 21), 0);
        assert_string_equal(buf, "2026-11-24T10:00:00Z");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_duration_parse_accepts_hours_and_minutes),
                cmocka_unit_test(test_duration_parse_accepts_every_unit),
                cmocka_unit_test(test_duration_parse_accepts_fractions),
                cmocka_unit_test(test_duration_parse_rejects_malformed_input),
                cmocka_unit_test(test_duration_parse_reports_overflow_as_erange),
                cmocka_unit_test(test_duration_parse_accepts_the_largest_value),
                cmocka_unit_test(test_duration_format_produces_canonical_form),
                cmocka_unit_test(test_duration_format_output_parses_back),
                cmocka_unit_test(test_duration_format_refuses_too_small_buffer),
                cmocka_unit_test(test_timestamp_parse_accepts_utc),
                cmocka_unit_test(test_timestamp_parse_applies_offsets),
                cmocka_unit_test(test_timestamp_parse_accepts_fractional_seconds),
                cmocka_unit_test(test_timestamp_parse_accepts_lower_case_t_and_z),
                cmocka_unit_test(test_timestamp_parse_accepts_leap_days),
                cmocka_unit_test(test_timestamp_parse_handles_times_before_the_epoch),
                cmocka_unit_test(test_timestamp_parse_rejects_malformed_input),
                cmocka_unit_test(test_timestamp_format_writes_utc_with_z),
                cmocka_unit_test(test_timestamp_format_writes_fraction_without_trailing_zeros),
                cmocka_unit_test(test_timestamp_format_handles_times_before_the_epoch),
                cmocka_unit_test(test_timestamp_format_output_parses_back),
                cmocka_unit_test(test_timestamp_format_refuses_years_outside_0000_to_9999),
                cmocka_unit_test(test_timestamp_format_refuses_too_small_buffer),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
