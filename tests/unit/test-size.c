/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/macros.h"
#include "common/size.h"

static void test_size_parse_accepts_plain_bytes_and_binary_suffixes(_unused_ void **state)
{
        static const struct {
                const char *text;
                uint64_t bytes;
        } cases[] = {
                { "0", 0 },
                { "512", 512 },
                { "512B", 512 },
                { "4K", 4096 },
                { "4k", 4096 },
                { "4KB", 4096 },
                { "4KiB", 4096 },
                { "1M", MIB },
                { "256MiB", 256 * MIB },
                { "2G", 2 * GIB },
                { "1T", UINT64_C(1) << 40 },
                { "1P", UINT64_C(1) << 50 },
                { "15E", UINT64_C(15) << 60 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t bytes = UINT64_MAX;

                print_message("'%s'\n", cases[i].text);
                assert_int_equal(size_parse(cases[i].text, &bytes), 0);
                assert_int_equal(bytes, cases[i].bytes);
        }
}

static void test_size_parse_accepts_fractions_and_truncates_below_a_byte(_unused_ void **state)
{
        uint64_t bytes = 0;

        assert_int_equal(size_parse("1.5G", &bytes), 0);
        assert_int_equal(bytes, 3 * GIB / 2);
        assert_int_equal(size_parse("0.5K", &bytes), 0);
        assert_int_equal(bytes, 512);
        assert_int_equal(size_parse("1.0001K", &bytes), 0);
        assert_int_equal(bytes, 1024);
        assert_int_equal(size_parse("1.5", &bytes), 0);
        assert_int_equal(bytes, 1);
}

static void test_size_parse_rejects_malformed_input(_unused_ void **state)
{
        static const char *const bad[] = { "", "K", "-1", "+1", " 1", "1 ", "1.", ".5", "1.5.5", "1X", "1Mi", "1mb",
                                           "1KiBB", "0x10" };
        uint64_t bytes = 42;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                print_message("'%s'\n", bad[i]);
                assert_int_equal(size_parse(bad[i], &bytes), -EINVAL);
        }
        assert_int_equal(size_parse(NULL, &bytes), -EINVAL);
        assert_int_equal(bytes, 42);
}

static void test_size_parse_rejects_counts_beyond_64_bits(_unused_ void **state)
{
        uint64_t bytes = 42;

        assert_int_equal(size_parse("18446744073709551615", &bytes), 0);
        assert_int_equal(bytes, UINT64_MAX);
        assert_int_equal(size_parse("18446744073709551616", &bytes), -ERANGE);
        assert_int_equal(size_parse("16E", &bytes), -ERANGE);
        assert_int_equal(size_parse("15.9999999999E", &bytes), 0);
        assert_int_equal(size_parse("17179869184G", &bytes), -ERANGE);
}

static void test_size_format_picks_the_largest_unit_with_one_decimal(_unused_ void **state)
{
        static const struct {
                uint64_t bytes;
                const char *text;
        } cases[] = {
                { 0, "0 B" },
                { 1023, "1023 B" },
                { 1024, "1.0 KiB" },
                { 1536, "1.5 KiB" },
                { MIB - 1, "1023.9 KiB" },
                { 3 * GIB / 2, "1.5 GiB" },
                { 16 * GIB, "16.0 GiB" },
                { UINT64_MAX, "15.9 EiB" },
        };
        char buf[SIZE_FORMAT_MAX];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                assert_int_equal(size_format(cases[i].bytes, buf, sizeof buf), 0);
                assert_string_equal(buf, cases[i].text);
        }
}

static void test_size_format_refuses_a_short_buffer(_unused_ void **state)
{
        char buf[6] = "xxxxx";

        assert_int_equal(size_format(3 * GIB / 2, buf, sizeof buf), -ENOBUFS);
        assert_string_equal(buf, "xxxxx");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_size_parse_accepts_plain_bytes_and_binary_suffixes),
                cmocka_unit_test(test_size_parse_accepts_fractions_and_truncates_below_a_byte),
                cmocka_unit_test(test_size_parse_rejects_malformed_input),
                cmocka_unit_test(test_size_parse_rejects_counts_beyond_64_bits),
                cmocka_unit_test(test_size_format_picks_the_largest_unit_with_one_decimal),
                cmocka_unit_test(test_size_format_refuses_a_short_buffer),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
