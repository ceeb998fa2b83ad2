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
#include "disk/checkpoint.h"

#define DIGEST_A "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define DIGEST_B "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"

static int parse(const char *text, struct disk_checkpoint *ret, struct ferry_error *err)
{
        return disk_checkpoint_parse(text, strlen(text), ret, err);
}

static void assert_parse_fails(const char *text, int code, const char *message)
{
        _cleanup_disk_checkpoint_ struct disk_checkpoint c = DISK_CHECKPOINT_INIT;
        struct ferry_error err = {};

        print_message("%s\n", text);
        assert_int_equal(parse(text, &c, &err), code);
        assert_string_equal(ferry_error_message(&err), message);
        assert_int_equal(c.done.n, 0);
}

static void test_a_checkpoint_survives_format_and_parse(_unused_ void **state)
{
        _cleanup_disk_checkpoint_ struct disk_checkpoint c = DISK_CHECKPOINT_INIT, back = DISK_CHECKPOINT_INIT;
        _cleanup_free_ char *text = NULL;
        struct ferry_error err = {};

        c.source_size = 1 << 30;
        memcpy(c.changes_sha256, DIGEST_A, sizeof c.changes_sha256);
        assert_non_null(c.sink = strdup("/var/lib/disk0.img"));
        assert_int_equal(disk_ranges_add(&c.done, 0, 4096), 0);
        assert_int_equal(disk_ranges_add(&c.done, 1 << 20, 1 << 20), 0);

        assert_non_null(text = disk_checkpoint_format(&c));
        assert_int_equal(parse(text, &back, &err), 0);
        assert_int_equal(back.source_size, 1 << 30);
        assert_string_equal(back.changes_sha256, DIGEST_A);
        assert_string_equal(back.sink, "/var/lib/disk0.img");
        assert_int_equal(back.done.n, 2);
        assert_memory_equal(back.done.v, c.done.v, 2 * sizeof(*c.done.v));
}

static void test_a_full_copy_checkpoint_has_no_change_digest(_unused_ void **state)
{
        _cleanup_disk_checkpoint_ struct disk_checkpoint c = DISK_CHECKPOINT_INIT;
        _cleanup_free_ char *text = NULL;
        struct ferry_error err = {};

        c.source_size = 100;
        assert_non_null(text = disk_checkpoint_format(&c));
        assert_null(strstr(text, "changes_sha256"));
        assert_int_equal(parse(text, &c, &err), 0);
        assert_string_equal(c.changes_sha256, "");
        assert_null(c.sink);
}

static void test_save_and_load_use_the_file(_unused_ void **state)
{
        _cleanup_disk_checkpoint_ struct disk_checkpoint c = DISK_CHECKPOINT_INIT, back = DISK_CHECKPOINT_INIT;
        char path[] = "/tmp/ferry-test-checkpoint-XXXXXX";
        _cleanup_free_ char *text = NULL;
        struct ferry_error err = {};
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        close(fd);
        c.source_size = 8192;
        assert_int_equal(disk_ranges_add(&c.done, 0, 8192), 0);
        assert_int_equal(disk_checkpoint_save(path, &c, &err), 0);
        assert_int_equal(fileio_read_checked(path, 4096, &text, NULL, &err), 0);
        assert_true(endswith(text, "\n"));
        assert_int_equal(disk_checkpoint_load(path, &back, &err), 0);
        assert_int_equal(back.source_size, 8192);
        assert_int_equal(disk_ranges_total(&back.done), 8192);
        unlink(path);
}

static void test_load_of_a_missing_file_is_enoent_with_a_message(_unused_ void **state)
{
        _cleanup_disk_checkpoint_ struct disk_checkpoint c = DISK_CHECKPOINT_INIT;
        struct ferry_error err = {};

        assert_int_equal(disk_checkpoint_load("/nonexistent/ferry.ckpt", &c, &err), -ENOENT);
        assert_string_equal(ferry_error_message(&err), "Checkpoint '/nonexistent/ferry.ckpt' does not exist");
}

static void test_load_names_the_file_when_it_is_bad(_unused_ void **state)
{
        _cleanup_disk_checkpoint_ struct disk_checkpoint c = DISK_CHECKPOINT_INIT;
        char path[] = "/tmp/ferry-test-checkpoint-XXXXXX";
        _cleanup_free_ char *expected = NULL;
        struct ferry_error err = {};
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(disk_checkpoint_load(path, &c, &err), -EINVAL);
        expected = strjoin("Checkpoint '", path, "': Invalid JSON at line 1, column 0: '[' or '{' expected near end of file",
                           NULL);
        assert_string_equal(ferry_error_message(&err), expected);
        unlink(path);
}

static void test_other_json_is_not_a_checkpoint(_unused_ void **state)
{
        assert_parse_fails("{\"start\": 0}", -EINVAL, "Not a ferry checkpoint (no 'ferry_disk_checkpoint' field)");
        assert_parse_fails("[1, 2]", -EINVAL, "Not a ferry checkpoint (no 'ferry_disk_checkpoint' field)");
}

static void test_a_newer_version_is_refused(_unused_ void **state)
{
        assert_parse_fails("{\"ferry_disk_checkpoint\": 2, \"source_size\": 1, \"done\": []}", -EPROTONOSUPPORT,
                           "Unsupported checkpoint version 2 (this ferry reads version 1)");
}

static void test_missing_and_unknown_fields_are_refused(_unused_ void **state)
{
        assert_parse_fails("{\"ferry_disk_checkpoint\": 1, \"done\": []}", -EINVAL,
                           "Missing required field 'source_size'");
        assert_parse_fails("{\"ferry_disk_checkpoint\": 1, \"source_size\": 1}", -EINVAL,
                           "Missing required field 'done'");
        assert_parse_fails("{\"ferry_disk_checkpoint\": 1, \"source_size\": 1, \"done\": [], \"x\": 1}", -EINVAL,
                           "Unknown field 'x' in a checkpoint");
        assert_parse_fails("{\"ferry_disk_checkpoint\": 1, \"source_size\": 1, \"done\": [], \"changes_sha256\": \"ab\"}",
                           -EINVAL, "Field 'changes_sha256' must be 64 lower-case hex digits");
}

static void test_done_ranges_must_be_sorted_disjoint_and_inside_the_source(_unused_ void **state)
{
        assert_parse_fails("{\"ferry_disk_checkpoint\": 1, \"source_size\": 100, \"done\":"
                           " [{\"start\": 50, \"length\": 10}, {\"start\": 0, \"length\": 10}]}",
                           -EINVAL, "Done range 1 overlaps or touches done range 0");
        assert_parse_fails("{\"ferry_disk_checkpoint\": 1, \"source_size\": 100, \"done\":"
                           " [{\"start\": 0, \"length\": 10}, {\"start\": 10, \"length\": 10}]}",
                           -EINVAL, "Done range 1 overlaps or touches done range 0");
        assert_parse_fails("{\"ferry_disk_checkpoint\": 1, \"source_size\": 100, \"done\":"
                           " [{\"start\": 90, \"length\": 11}]}",
                           -EINVAL, "Done range 0 ends beyond the source size");
        assert_parse_fails("{\"ferry_disk_checkpoint\": 1, \"source_size\": 100, \"done\":"
                           " [{\"start\": 0, \"length\": 0}]}",
                           -ERANGE, "Done range 0: Field 'length' must be at least 1");
        assert_parse_fails("{\"ferry_disk_checkpoint\": 1, \"source_size\": 100, \"done\": [\"0-10\"]}", -EINVAL,
                           "Done range 0 is not an object with 'start' and 'length'");
}

static void test_check_refuses_another_source_size(_unused_ void **state)
{
        struct disk_checkpoint c = { .source_size = 2048, .changes_sha256 = "" };
        struct ferry_error err = {};

        assert_int_equal(disk_checkpoint_check(&c, "c.json", 2048, "", NULL, &err), 0);
        assert_int_equal(disk_checkpoint_check(&c, "c.json", 1024, "", NULL, &err), -ESTALE);
        assert_string_equal(ferry_error_message(&err),
                            "Checkpoint 'c.json' is for a 2048-byte source, not this 1024-byte one");
}

static void test_check_refuses_another_change_list(_unused_ void **state)
{
        struct disk_checkpoint full = { .source_size = 10, .changes_sha256 = "" };
        struct disk_checkpoint delta = { .source_size = 10, .changes_sha256 = DIGEST_A };
        struct ferry_error err = {};

        assert_int_equal(disk_checkpoint_check(&delta, "c", 10, DIGEST_A, NULL, &err), 0);
        assert_int_equal(disk_checkpoint_check(&delta, "c", 10, DIGEST_B, NULL, &err), -ESTALE);
        assert_string_equal(ferry_error_message(&err), "Checkpoint 'c' is for a different change list");
        assert_int_equal(disk_checkpoint_check(&delta, "c", 10, "", NULL, &err), -ESTALE);
        assert_string_equal(ferry_error_message(&err), "Checkpoint 'c' is for a delta, not for a full copy");
        assert_int_equal(disk_checkpoint_check(&full, "c", 10, DIGEST_A, NULL, &err), -ESTALE);
        assert_string_equal(ferry_error_message(&err),
                            "Checkpoint 'c' is for a full copy, not for a delta with a change list");
}

static void test_check_refuses_another_sink(_unused_ void **state)
{
        struct disk_checkpoint c = { .source_size = 10, .changes_sha256 = "", .sink = (char *) "/a.img" };
        struct ferry_error err = {};

        assert_int_equal(disk_checkpoint_check(&c, "c", 10, "", "/a.img", &err), 0);
        assert_int_equal(disk_checkpoint_check(&c, "c", 10, "", "/b.img", &err), -ESTALE);
        assert_string_equal(ferry_error_message(&err), "Checkpoint 'c' is for the sink '/a.img', not '/b.img'");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_a_checkpoint_survives_format_and_parse),
                cmocka_unit_test(test_a_full_copy_checkpoint_has_no_change_digest),
                cmocka_unit_test(test_save_and_load_use_the_file),
                cmocka_unit_test(test_load_of_a_missing_file_is_enoent_with_a_message),
                cmocka_unit_test(test_load_names_the_file_when_it_is_bad),
                cmocka_unit_test(test_other_json_is_not_a_checkpoint),
                cmocka_unit_test(test_a_newer_version_is_refused),
                cmocka_unit_test(test_missing_and_unknown_fields_are_refused),
                cmocka_unit_test(test_done_ranges_must_be_sorted_disjoint_and_inside_the_source),
                cmocka_unit_test(test_check_refuses_another_source_size),
                cmocka_unit_test(test_check_refuses_another_change_list),
                cmocka_unit_test(test_check_refuses_another_sink),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
