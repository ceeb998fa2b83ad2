/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/fileio.h"
#include "common/macros.h"
#include "common/strbuf.h"
#include "disk/changes.h"

static int parse(const char *text, struct disk_ranges *ret, struct ferry_error *err)
{
        return disk_changes_parse(text, strlen(text), ret, err);
}

static void assert_parse_fails(const char *text, int code, const char *message)
{
        _cleanup_disk_ranges_ struct disk_ranges set = DISK_RANGES_INIT;
        struct ferry_error err = {};

        print_message("%s\n", text);
        assert_int_equal(parse(text, &set, &err), code);
        assert_string_equal(ferry_error_message(&err), message);
        assert_int_equal(set.n, 0);
}

static void test_a_bare_list_of_areas_is_parsed_sorted(_unused_ void **state)
{
        _cleanup_disk_ranges_ struct disk_ranges set = DISK_RANGES_INIT;
        struct ferry_error err = {};

        assert_int_equal(parse("[{\"start\": 1048576, \"length\": 4096}, {\"start\": 0, \"length\": 65536}]", &set, &err),
                         0);
        assert_int_equal(set.n, 2);
        assert_int_equal(set.v[0].start, 0);
        assert_int_equal(set.v[0].length, 65536);
        assert_int_equal(set.v[1].start, 1048576);
        assert_int_equal(set.v[1].length, 4096);
}

static void test_the_simulator_change_file_is_read_for_its_areas(_unused_ void **state)
{
        _cleanup_disk_ranges_ struct disk_ranges set = DISK_RANGES_INIT;
        struct ferry_error err = {};

        assert_int_equal(parse("{\"change_id\": \"52 aa bb cc dd ee ff 00-11 22 33 44 55 66 77 88/3\","
                               " \"since\": \"52 6c f9 0b d1 03 4f 1b-e6 a1 de 55 ac 3c 60 da/1\","
                               " \"areas\": [{\"start\": 0, \"length\": 512}],"
                               " \"allocated\": [{\"start\": 0, \"length\": 8388608}]}",
                               &set, &err),
                         0);
        assert_int_equal(set.n, 1);
        assert_int_equal(disk_ranges_total(&set), 512);
}

static void test_touching_areas_are_merged(_unused_ void **state)
{
        _cleanup_disk_ranges_ struct disk_ranges set = DISK_RANGES_INIT;
        struct ferry_error err = {};

        assert_int_equal(parse("[{\"start\": 0, \"length\": 10}, {\"start\": 10, \"length\": 10}]", &set, &err), 0);
        assert_int_equal(set.n, 1);
        assert_int_equal(set.v[0].length, 20);
}

static void test_an_empty_list_means_nothing_changed(_unused_ void **state)
{
        _cleanup_disk_ranges_ struct disk_ranges set = DISK_RANGES_INIT;
        struct ferry_error err = {};

        assert_int_equal(parse("[]", &set, &err), 0);
        assert_int_equal(set.n, 0);
        assert_int_equal(parse("{\"areas\": []}", &set, &err), 0);
        assert_int_equal(set.n, 0);
}

static void test_bad_json_is_refused_with_its_position(_unused_ void **state)
{
        assert_parse_fails("[{\"start\": 0,", -EINVAL,
                           "Invalid JSON at line 1, column 13: string or '}' expected near end of file");
}

static void test_overlapping_areas_are_refused_naming_both(_unused_ void **state)
{
        assert_parse_fails("[{\"start\": 4096, \"length\": 4096}, {\"start\": 0, \"length\": 8192}]", -EINVAL,
                           "Area 1 overlaps area 0 ([4096, 8192) and [0, 8192))");
}

static void test_areas_need_a_start_and_a_positive_length(_unused_ void **state)
{
        assert_parse_fails("[{\"start\": 0}]", -EINVAL, "Area 0: Missing required field 'length'");
        assert_parse_fails("[{\"start\": 0, \"length\": 0}]", -ERANGE,
                           "Area 0: Field 'length' must be at least 1");
        assert_parse_fails("[{\"start\": -1, \"length\": 1}]", -ERANGE,
                           "Area 0: Field 'start' must be at least 0");
        assert_parse_fails("[{\"start\": 0, \"length\": 1}, 7]", -EINVAL,
                           "Area 1 is not an object with 'start' and 'length'");
        assert_parse_fails("[{\"start\": 0, \"length\": 1, \"end\": 1}]", -EINVAL, "Area 0: Unknown field 'end'");
}

static void test_the_largest_areas_parse_and_then_fail_the_size_check(_unused_ void **state)
{
        _cleanup_disk_ranges_ struct disk_ranges set = DISK_RANGES_INIT;
        struct ferry_error err = {};

        assert_int_equal(parse("[{\"start\": 9223372036854775807, \"length\": 9223372036854775807}]", &set, &err), 0);
        assert_int_equal(disk_changes_check_size(&set, UINT64_C(1) << 40, &err), -ERANGE);
        assert_string_equal(ferry_error_message(&err),
                            "Area [9223372036854775807, 18446744073709551614) of the change list ends beyond the end"
                            " of the 1099511627776-byte source");
}

static void test_an_object_without_areas_or_with_unknown_fields_is_refused(_unused_ void **state)
{
        assert_parse_fails("{\"change_id\": \"x\"}", -EINVAL, "Missing required field 'areas'");
        assert_parse_fails("{\"areas\": [], \"extra\": 1}", -EINVAL, "Unknown field 'extra' in a change list");
        assert_parse_fails("{\"areas\": 5}", -EINVAL, "Field 'areas' must be an array");
}

static void test_check_size_refuses_areas_beyond_the_end(_unused_ void **state)
{
        _cleanup_disk_ranges_ struct disk_ranges set = DISK_RANGES_INIT;
        struct ferry_error err = {};

        assert_int_equal(parse("[{\"start\": 1000, \"length\": 24}]", &set, &err), 0);
        assert_int_equal(disk_changes_check_size(&set, 1024, &err), 0);
        assert_int_equal(disk_changes_check_size(&set, 1023, &err), -ERANGE);
        assert_string_equal(ferry_error_message(&err),
                            "Area [1000, 1024) of the change list ends beyond the end of the 1023-byte source");
}

static void test_digest_tells_lists_apart(_unused_ void **state)
{
        _cleanup_disk_ranges_ struct disk_ranges a = DISK_RANGES_INIT, b = DISK_RANGES_INIT;
        char da[DISK_CHANGES_DIGEST_SIZE], db[DISK_CHANGES_DIGEST_SIZE], dc[DISK_CHANGES_DIGEST_SIZE];
        struct ferry_error err = {};

        assert_int_equal(parse("[{\"start\": 0, \"length\": 10}, {\"start\": 10, \"length\": 10}]", &a, &err), 0);
        assert_int_equal(parse("[{\"start\": 0, \"length\": 20}]", &b, &err), 0);
        assert_int_equal(disk_changes_digest(&a, da), 0);
        assert_int_equal(disk_changes_digest(&b, db), 0);
        assert_string_equal(da, db);    /* the same areas once merged */
        assert_int_equal(strlen(da), 64);
        assert_int_equal(parse("[{\"start\": 0, \"length\": 21}]", &b, &err), 0);
        assert_int_equal(disk_changes_digest(&b, dc), 0);
        assert_string_not_equal(da, dc);
}

static void test_load_names_the_file_in_errors(_unused_ void **state)
{
        _cleanup_disk_ranges_ struct disk_ranges set = DISK_RANGES_INIT;
        char path[] = "/tmp/ferry-test-changes-XXXXXX";
        struct ferry_error err = {};
        _cleanup_free_ char *expected = NULL;
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(fileio_write_atomic(path, "[{\"start\": 0, \"length\": 1}]", 27, 0600, &err), 0);
        assert_int_equal(disk_changes_load(path, &set, &err), 0);
        assert_int_equal(set.n, 1);

        assert_int_equal(fileio_write_atomic(path, "nonsense", 8, 0600, &err), 0);
        assert_int_equal(disk_changes_load(path, &set, &err), -EINVAL);
        expected = strjoin("Change list '", path, "': Invalid JSON at line 1, column 8: '[' or '{' expected near 'nonsense'",
                           NULL);
        assert_string_equal(ferry_error_message(&err), expected);
        unlink(path);

        free(expected);
        assert_int_equal(disk_changes_load(path, &set, &err), -ENOENT);
        expected = strjoin("Change list '", path, "': Cannot read '", path, "': No such file or directory", NULL);
        assert_string_equal(ferry_error_message(&err), expected);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_a_bare_list_of_areas_is_parsed_sorted),
                cmocka_unit_test(test_the_simulator_change_file_is_read_for_its_areas),
                cmocka_unit_test(test_touching_areas_are_merged),
                cmocka_unit_test(test_an_empty_list_means_nothing_changed),
                cmocka_unit_test(test_bad_json_is_refused_with_its_position),
                cmocka_unit_test(test_overlapping_areas_are_refused_naming_both),
                cmocka_unit_test(test_areas_need_a_start_and_a_positive_length),
                cmocka_unit_test(test_the_largest_areas_parse_and_then_fail_the_size_check),
                cmocka_unit_test(test_an_object_without_areas_or_with_unknown_fields_is_refused),
                cmocka_unit_test(test_check_size_refuses_areas_beyond_the_end),
                cmocka_unit_test(test_digest_tells_lists_apart),
                cmocka_unit_test(test_load_names_the_file_in_errors),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
