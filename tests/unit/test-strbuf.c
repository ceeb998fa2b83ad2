/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/strbuf.h"

static void test_strbuf_append_concatenates_strings(_unused_ void **state)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;

        assert_int_equal(strbuf_append(&sb, "incus"), 0);
        assert_int_equal(strbuf_append(&sb, ""), 0);
        assert_int_equal(strbuf_append(&sb, "-vm"), 0);
        assert_string_equal(sb.data, "incus-vm");
        assert_int_equal(sb.len, 8);
}

static void test_strbuf_append_len_copies_only_the_given_bytes(_unused_ void **state)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;

        assert_int_equal(strbuf_append_len(&sb, "web01.example.com", 5), 0);
        assert_string_equal(sb.data, "web01");
        assert_int_equal(sb.len, 5);
}

static void test_strbuf_appendf_formats_like_printf(_unused_ void **state)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;

        assert_int_equal(strbuf_append(&sb, "disks="), 0);
        assert_int_equal(strbuf_appendf(&sb, "%d,%s,%05.1f", 3, "scsi", 2.5), 0);
        assert_string_equal(sb.data, "disks=3,scsi,002.5");
}

static void test_strbuf_grows_past_its_first_allocation(_unused_ void **state)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;

        for (int i = 0; i < 10000; i++)
                assert_int_equal(strbuf_appendf(&sb, "%c", 'a' + i % 26), 0);

        assert_int_equal(sb.len, 10000);
        assert_true(sb.alloc > sb.len);
        assert_int_equal(strlen(sb.data), 10000);
        assert_int_equal(sb.data[9999], 'a' + 9999 % 26);
}

static void test_strbuf_reset_empties_but_keeps_allocation(_unused_ void **state)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        char *before;

        assert_int_equal(strbuf_append(&sb, "something"), 0);
        before = sb.data;
        strbuf_reset(&sb);
        assert_ptr_equal(sb.data, before);
        assert_string_equal(sb.data, "");
        assert_int_equal(sb.len, 0);

        assert_int_equal(strbuf_append(&sb, "new"), 0);
        assert_string_equal(sb.data, "new");
}

static void test_strbuf_steal_returns_contents_and_empties_buffer(_unused_ void **state)
{
        struct strbuf sb = STRBUF_INIT;
        _cleanup_free_ char *s = NULL;

        assert_int_equal(strbuf_append(&sb, "batch-1"), 0);
        s = strbuf_steal(&sb);
        assert_string_equal(s, "batch-1");
        assert_null(sb.data);
        assert_int_equal(sb.len, 0);
        assert_int_equal(sb.alloc, 0);
}

static void test_strbuf_steal_of_untouched_buffer_returns_empty_string(_unused_ void **state)
{
        struct strbuf sb = STRBUF_INIT;
        _cleanup_free_ char *s = NULL;

        s = strbuf_steal(&sb);
        assert_non_null(s);
        assert_string_equal(s, "");
}

static void test_strbuf_done_frees_and_allows_reuse(_unused_ void **state)
{
        struct strbuf sb = STRBUF_INIT;

        assert_int_equal(strbuf_append(&sb, "first"), 0);
        strbuf_done(&sb);
        assert_null(sb.data);
        assert_int_equal(sb.len, 0);

        assert_int_equal(strbuf_append(&sb, "second"), 0);
        assert_string_equal(sb.data, "second");
        strbuf_done(&sb);
        strbuf_done(&sb);
}

static void test_strbuf_str_of_untouched_buffer_is_empty(_unused_ void **state)
{
        struct strbuf sb = STRBUF_INIT;

        assert_string_equal(strbuf_str(&sb), "");
}

static void test_streq_compares_contents(_unused_ void **state)
{
        char a[] = "pool", b[] = "pool";

        assert_true(streq(a, b));
        assert_false(streq("pool", "pool2"));
        assert_false(streq("", "x"));
}

static void test_streq_ptr_treats_null_as_equal_only_to_null(_unused_ void **state)
{
        assert_true(streq_ptr(NULL, NULL));
        assert_false(streq_ptr(NULL, ""));
        assert_false(streq_ptr("", NULL));
        assert_true(streq_ptr("a", "a"));
        assert_false(streq_ptr("a", "b"));
}

static void test_startswith_matches_prefixes(_unused_ void **state)
{
        static const struct {
                const char *s, *prefix;
                bool expected;
        } cases[] = {
                { "https://incus:8443", "https://", true },
                { "unix:///run/incus.sock", "https://", false },
                { "abc", "", true },
                { "", "", true },
                { "ab", "abc", false },
                { "", "a", false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                print_message("startswith('%s', '%s')\n", cases[i].s, cases[i].prefix);
                assert_int_equal(startswith(cases[i].s, cases[i].prefix), cases[i].expected);
        }
}

static void test_endswith_matches_suffixes(_unused_ void **state)
{
        static const struct {
                const char *s, *suffix;
                bool expected;
        } cases[] = {
                { "disk-flat.vmdk", ".vmdk", true },
                { "disk.vmdk.bak", ".vmdk", false },
                { "abc", "", true },
                { "", "", true },
                { "mdk", ".vmdk", false },
                { "abc", "abc", true },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                print_message("endswith('%s', '%s')\n", cases[i].s, cases[i].suffix);
                assert_int_equal(endswith(cases[i].s, cases[i].suffix), cases[i].expected);
        }
}

static void test_strjoin_concatenates_until_null(_unused_ void **state)
{
        _cleanup_free_ char *s = NULL;

        s = strjoin("/1.0/instances/", "web01", "?project=", "prod", NULL);
        assert_non_null(s);
        assert_string_equal(s, "/1.0/instances/web01?project=prod");
}

static void test_strjoin_with_no_strings_returns_empty_string(_unused_ void **state)
{
        _cleanup_free_ char *s = NULL;

        s = strjoin(NULL, NULL);
        assert_non_null(s);
        assert_string_equal(s, "");
}

static void test_hex_encode_writes_lower_case_digits(_unused_ void **state)
{
        static const unsigned char bytes[] = { 0x00, 0x0f, 0xab, 0xff, 0x10 };
        char out[2 * sizeof bytes + 1];

        assert_int_equal(hex_encode(bytes, sizeof bytes, out, sizeof out), 0);
        assert_string_equal(out, "000fabff10");
}

static void test_hex_encode_of_nothing_is_empty(_unused_ void **state)
{
        char out[1] = { 'x' };

        assert_int_equal(hex_encode("", 0, out, sizeof out), 0);
        assert_string_equal(out, "");
}

static void test_hex_encode_refuses_too_small_buffer(_unused_ void **state)
{
        static const unsigned char bytes[] = { 0xde, 0xad };
        char out[4] = "zzz";

        assert_int_equal(hex_encode(bytes, sizeof bytes, out, sizeof out), -ENOBUFS);
        assert_string_equal(out, "zzz");
}

static void test_string_table_lookup_finds_index_or_einval(_unused_ void **state)
{
        static const char *const table[] = { "vmware", NULL, "ova" };

        assert_int_equal(string_table_lookup(table, ELEMENTSOF(table), "vmware"), 0);
        assert_int_equal(string_table_lookup(table, ELEMENTSOF(table), "ova"), 2);
        assert_int_equal(string_table_lookup(table, ELEMENTSOF(table), "image"), -EINVAL);
        assert_int_equal(string_table_lookup(table, ELEMENTSOF(table), NULL), -EINVAL);
}

static void test_utf8_trim_partial_drops_only_incomplete_sequences(_unused_ void **state)
{
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "abc", "abc" },
                { "", "" },
                { "caf\xc3\xa9", "caf\xc3\xa9" },       /* complete 2-byte é */
                { "caf\xc3", "caf" },                   /* é cut after its lead byte */
                { "x\xe2\x82\xac", "x\xe2\x82\xac" },   /* complete 3-byte € */
                { "x\xe2\x82", "x" },                   /* € cut */
                { "x\xf0\x9f\x9a", "x" },               /* 4-byte emoji cut */
                { "x\xf0\x9f\x9a\xa2", "x\xf0\x9f\x9a\xa2" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char buf[16];

                print_message("case %zu\n", i);
                strcpy(buf, cases[i].in);
                utf8_trim_partial(buf);
                assert_string_equal(buf, cases[i].out);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_strbuf_append_concatenates_strings),
                cmocka_unit_test(test_strbuf_append_len_copies_only_the_given_bytes),
                cmocka_unit_test(test_strbuf_appendf_formats_like_printf),
                cmocka_unit_test(test_strbuf_grows_past_its_first_allocation),
                cmocka_unit_test(test_strbuf_reset_empties_but_keeps_allocation),
                cmocka_unit_test(test_strbuf_steal_returns_contents_and_empties_buffer),
                cmocka_unit_test(test_strbuf_steal_of_untouched_buffer_returns_empty_string),
                cmocka_unit_test(test_strbuf_done_frees_and_allows_reuse),
                cmocka_unit_test(test_strbuf_str_of_untouched_buffer_is_empty),
                cmocka_unit_test(test_streq_compares_contents),
                cmocka_unit_test(test_streq_ptr_treats_null_as_equal_only_to_null),
                cmocka_unit_test(test_startswith_matches_prefixes),
                cmocka_unit_test(test_endswith_matches_suffixes),
                cmocka_unit_test(test_strjoin_concatenates_until_null),
                cmocka_unit_test(test_strjoin_with_no_strings_returns_empty_string),
                cmocka_unit_test(test_hex_encode_writes_lower_case_digits),
                cmocka_unit_test(test_hex_encode_of_nothing_is_empty),
                cmocka_unit_test(test_hex_encode_refuses_too_small_buffer),
                cmocka_unit_test(test_string_table_lookup_finds_index_or_einval),
                cmocka_unit_test(test_utf8_trim_partial_drops_only_incomplete_sequences),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
