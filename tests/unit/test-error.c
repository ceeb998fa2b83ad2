/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/error.h"

static void test_error_set_fills_code_and_message(_unused_ void **state)
{
        struct ferry_error e = {};

        assert_int_equal(ferry_error_set(&e, -ENOENT, "Source '%s' not found", "vcenter1"), -ENOENT);
        assert_int_equal(e.code, -ENOENT);
        assert_string_equal(e.message, "Source 'vcenter1' not found");
}

static void test_error_set_negates_positive_errno(_unused_ void **state)
{
        struct ferry_error e = {};

        assert_int_equal(ferry_error_set(&e, EACCES, "Denied"), -EACCES);
        assert_int_equal(e.code, -EACCES);
}

static void test_error_set_turns_zero_into_eio(_unused_ void **state)
{
        struct ferry_error e = {};

        assert_int_equal(ferry_error_set(&e, 0, "Something failed"), -EIO);
        assert_int_equal(e.code, -EIO);
}

static void test_error_set_accepts_null_error(_unused_ void **state)
{
        assert_int_equal(ferry_error_set(NULL, -EINVAL, "Ignored %d", 1), -EINVAL);
        assert_int_equal(ferry_error_set(NULL, EINVAL, "Ignored"), -EINVAL);
        assert_int_equal(ferry_error_set(NULL, 0, "Ignored"), -EIO);
}

static void test_error_set_m_prints_text_of_code(_unused_ void **state)
{
        struct ferry_error e = {};

        errno = EPERM;
        ferry_error_set(&e, -ENOENT, "Failed to open '%s': %m", "/etc/ferry.yaml");
        assert_string_equal(e.message, "Failed to open '/etc/ferry.yaml': No such file or directory");
}

static void test_error_set_preserves_errno(_unused_ void **state)
{
        struct ferry_error e = {};

        errno = EAGAIN;
        ferry_error_set(&e, -ENOENT, "%m");
        assert_int_equal(errno, EAGAIN);
}

static void test_error_set_truncates_long_message(_unused_ void **state)
{
        struct ferry_error e = {};
        char long_text[2000];

        memset(long_text, 'x', sizeof long_text - 1);
        long_text[sizeof long_text - 1] = '\0';

        ferry_error_set(&e, -EINVAL, "Bad: %s", long_text);
        assert_int_equal(strlen(e.message), sizeof e.message - 1);
        assert_memory_equal(e.message, "Bad: xxx", 8);
}

static void test_error_set_truncates_at_a_character_boundary(_unused_ void **state)
{
        struct ferry_error e = {};
        char text[sizeof e.message + 8] = "";

        /* 508 ASCII bytes then "é€": the 511 bytes that fit end inside the €. */
        memset(text, 'a', 508);
        strcpy(text + 508, "\xc3\xa9\xe2\x82\xac");

        ferry_error_set(&e, -EINVAL, "%s", text);
        assert_int_equal(strlen(e.message), 510);
        assert_memory_equal(e.message + 508, "\xc3\xa9", 2);
}

static void test_error_set_may_use_its_own_message_as_argument(_unused_ void **state)
{
        struct ferry_error e = {};

        ferry_error_set(&e, -EIO, "inner");
        ferry_error_set(&e, -EPROTO, "outer (%s)", e.message);
        assert_int_equal(e.code, -EPROTO);
        assert_string_equal(e.message, "outer (inner)");
}

static void test_error_clear_resets_code_and_message(_unused_ void **state)
{
        struct ferry_error e = {};

        ferry_error_set(&e, -EIO, "Broken");
        ferry_error_clear(&e);
        assert_int_equal(e.code, 0);
        assert_string_equal(e.message, "");
        ferry_error_clear(NULL);
}

static void test_error_prefix_prepends_context(_unused_ void **state)
{
        struct ferry_error e = {};

        ferry_error_set(&e, -EINVAL, "Field 'import_limit' must be an integer");
        assert_int_equal(ferry_error_prefix(&e, "Source '%s'", "vcenter1"), -EINVAL);
        assert_string_equal(e.message, "Source 'vcenter1': Field 'import_limit' must be an integer");
        assert_int_equal(e.code, -EINVAL);
}

static void test_error_prefix_nests(_unused_ void **state)
{
        struct ferry_error e = {};

        ferry_error_set(&e, -EINVAL, "Missing required field 'name'");
        ferry_error_prefix(&e, "Window %d", 2);
        ferry_error_prefix(&e, "Batch '%s'", "b1");
        assert_string_equal(e.message, "Batch 'b1': Window 2: Missing required field 'name'");
}

static void test_error_prefix_uses_errno_text_when_message_is_empty(_unused_ void **state)
{
        struct ferry_error e = { .code = -ECONNREFUSED };

        assert_int_equal(ferry_error_prefix(&e, "Target '%s'", "incus1"), -ECONNREFUSED);
        assert_string_equal(e.message, "Target 'incus1': Connection refused");
}

static void test_error_prefix_supports_m(_unused_ void **state)
{
        struct ferry_error e = {};

        ferry_error_set(&e, -ETIMEDOUT, "No answer");
        ferry_error_prefix(&e, "Sync failed (%m)");
        assert_string_equal(e.message, "Sync failed (Connection timed out): No answer");
}

static void test_error_prefix_cuts_the_end_when_too_long(_unused_ void **state)
{
        struct ferry_error e = {};
        char prefix[600];

        memset(prefix, 'p', sizeof prefix - 1);
        prefix[sizeof prefix - 1] = '\0';

        ferry_error_set(&e, -EINVAL, "old message");
        ferry_error_prefix(&e, "%s", prefix);
        assert_int_equal(strlen(e.message), sizeof e.message - 1);
        assert_null(strstr(e.message, "old"));
        assert_int_equal(e.message[0], 'p');
}

static void test_error_prefix_of_clear_error_makes_it_eio(_unused_ void **state)
{
        struct ferry_error e = {};

        assert_int_equal(ferry_error_prefix(&e, "Context"), -EIO);
        assert_int_equal(e.code, -EIO);
        assert_string_equal(e.message, "Context: Input/output error");
}

static void test_error_prefix_of_null_returns_eio(_unused_ void **state)
{
        assert_int_equal(ferry_error_prefix(NULL, "Context"), -EIO);
}

static void test_error_message_falls_back_to_errno_text(_unused_ void **state)
{
        struct ferry_error e = { .code = -EACCES };

        assert_string_equal(ferry_error_message(&e), "Permission denied");
        ferry_error_set(&e, -EACCES, "Not allowed to read '%s'", "/x");
        assert_string_equal(ferry_error_message(&e), "Not allowed to read '/x'");
}

static void test_error_message_of_unknown_code_is_generic(_unused_ void **state)
{
        struct ferry_error e = { .code = -99999 };

        assert_string_equal(ferry_error_message(&e), "Unknown error");
}

static void test_error_message_of_null_is_empty(_unused_ void **state)
{
        assert_string_equal(ferry_error_message(NULL), "");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_error_set_fills_code_and_message),
                cmocka_unit_test(test_error_set_negates_positive_errno),
                cmocka_unit_test(test_error_set_turns_zero_into_eio),
                cmocka_unit_test(test_error_set_accepts_null_error),
                cmocka_unit_test(test_error_set_m_prints_text_of_code),
                cmocka_unit_test(test_error_set_preserves_errno),
                cmocka_unit_test(test_error_set_truncates_long_message),
                cmocka_unit_test(test_error_set_truncates_at_a_character_boundary),
                cmocka_unit_test(test_error_set_may_use_its_own_message_as_argument),
                cmocka_unit_test(test_error_clear_resets_code_and_message),
                cmocka_unit_test(test_error_prefix_prepends_context),
                cmocka_unit_test(test_error_prefix_nests),
                cmocka_unit_test(test_error_prefix_uses_errno_text_when_message_is_empty),
                cmocka_unit_test(test_error_prefix_supports_m),
                cmocka_unit_test(test_error_prefix_cuts_the_end_when_too_long),
                cmocka_unit_test(test_error_prefix_of_clear_error_makes_it_eio),
                cmocka_unit_test(test_error_prefix_of_null_returns_eio),
                cmocka_unit_test(test_error_message_falls_back_to_errno_text),
                cmocka_unit_test(test_error_message_of_unknown_code_is_generic),
                cmocka_unit_test(test_error_message_of_null_is_empty),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
