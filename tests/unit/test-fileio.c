/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/fileio.h"
#include "common/macros.h"
#include "common/strbuf.h"

static int setup_dir(void **state)
{
        char *dir = strdup("/tmp/ferry-test-fileio-XXXXXX");

        if (!dir || !mkdtemp(dir))
                return -1;
        *state = dir;
        return 0;
}

static int teardown_dir(void **state)
{
        _cleanup_free_ char *dir = *state;
        DIR *d = opendir(dir);
        struct dirent *de;

        while (d && (de = readdir(d))) {
                _cleanup_free_ char *p = NULL;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                p = strjoin(dir, "/", de->d_name, NULL);
                unlink(p);
        }
        if (d)
                closedir(d);
        rmdir(dir);
        return 0;
}

static size_t count_entries(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        size_t n = 0;

        assert_non_null(d);
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

static void test_write_file_atomic_then_read_file_all_round_trips(void **state)
{
        _cleanup_free_ char *path = strjoin(*state, "/state.json", NULL), *text = NULL;
        struct ferry_error err = {};
        struct stat st;
        size_t len = 0;

        assert_int_equal(write_file_atomic(path, "{\"a\": 1}\n", 9, &err), 0);
        assert_int_equal(read_file_all(path, 1024, &text, &len, &err), 0);
        assert_string_equal(text, "{\"a\": 1}\n");
        assert_int_equal(len, 9);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_write_file_atomic_replaces_and_leaves_no_temporary_file(void **state)
{
        _cleanup_free_ char *path = strjoin(*state, "/state.json", NULL), *text = NULL;
        struct ferry_error err = {};

        assert_int_equal(write_file_atomic(path, "old contents that are longer", 28, &err), 0);
        assert_int_equal(write_file_atomic(path, "new", 3, &err), 0);
        assert_int_equal(read_file_all(path, 1024, &text, NULL, &err), 0);
        assert_string_equal(text, "new");
        assert_int_equal(count_entries(*state), 1);
}

static void test_write_file_atomic_into_a_missing_directory_fails_with_the_path(void **state)
{
        _cleanup_free_ char *path = strjoin(*state, "/missing/state.json", NULL), *expected = NULL;
        struct ferry_error err = {};

        assert_int_equal(write_file_atomic(path, "x", 1, &err), -ENOENT);
        expected = strjoin("Cannot write '", path, "': No such file or directory", NULL);
        assert_string_equal(ferry_error_message(&err), expected);
}

static void test_read_file_all_of_a_missing_file_names_it(void **state)
{
        _cleanup_free_ char *path = strjoin(*state, "/nope", NULL), *expected = NULL, *text = NULL;
        struct ferry_error err = {};

        assert_int_equal(read_file_all(path, 10, &text, NULL, &err), -ENOENT);
        assert_null(text);
        expected = strjoin("Cannot read '", path, "': No such file or directory", NULL);
        assert_string_equal(ferry_error_message(&err), expected);
}

static void test_read_file_all_refuses_files_above_the_limit(void **state)
{
        _cleanup_free_ char *path = strjoin(*state, "/big", NULL), *expected = NULL, *text = NULL;
        struct ferry_error err = {};

        assert_int_equal(write_file_atomic(path, "0123456789A", 11, &err), 0);
        assert_int_equal(read_file_all(path, 10, &text, NULL, &err), -EFBIG);
        expected = strjoin("'", path, "' is larger than 10 bytes", NULL);
        assert_string_equal(ferry_error_message(&err), expected);
        /* Exactly at the limit is fine. */
        assert_int_equal(write_file_atomic(path, "0123456789", 10, &err), 0);
        assert_int_equal(read_file_all(path, 10, &text, NULL, &err), 0);
        assert_string_equal(text, "0123456789");
}

static void test_read_file_all_of_an_empty_file_gives_an_empty_string(void **state)
{
        _cleanup_free_ char *path = strjoin(*state, "/empty", NULL), *text = NULL;
        struct ferry_error err = {};
        size_t len = 99;

        assert_int_equal(write_file_atomic(path, "", 0, &err), 0);
        assert_int_equal(read_file_all(path, 10, &text, &len, &err), 0);
        assert_string_equal(text, "");
        assert_int_equal(len, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_write_file_atomic_then_read_file_all_round_trips, setup_dir,
                                                teardown_dir),
                cmocka_unit_test_setup_teardown(test_write_file_atomic_replaces_and_leaves_no_temporary_file,
                                                setup_dir, teardown_dir),
                cmocka_unit_test_setup_teardown(test_write_file_atomic_into_a_missing_directory_fails_with_the_path,
                                                setup_dir, teardown_dir),
                cmocka_unit_test_setup_teardown(test_read_file_all_of_a_missing_file_names_it, setup_dir,
                                                teardown_dir),
                cmocka_unit_test_setup_teardown(test_read_file_all_refuses_files_above_the_limit, setup_dir,
                                                teardown_dir),
                cmocka_unit_test_setup_teardown(test_read_file_all_of_an_empty_file_gives_an_empty_string, setup_dir,
                                                teardown_dir),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
