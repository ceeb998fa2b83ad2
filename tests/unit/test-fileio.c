/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
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
#include "common/strbuf.h"

static int setup(void **state)
{
        char *dir = strdup("/tmp/ferry-test-fileio-XXXXXX");

        assert_non_null(dir);
        assert_non_null(mkdtemp(dir));
        *state = dir;
        return 0;
}

static int teardown(void **state)
{
        char *dir = *state;
        _cleanup_free_ char *cmd = strjoin("rm -rf '", dir, "'", NULL);

        assert_int_equal(system(cmd), 0);
        free(dir);
        return 0;
}

/* How many entries dir holds besides . and .. */
static int count_entries(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0;

        assert_non_null(d);
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

static void test_write_then_read_gives_the_content_back(void **state)
{
        _cleanup_free_ char *path = strjoin(*state, "/f", NULL), *back = NULL;
        struct ferry_error err = {};
        size_t len = 0;

        assert_int_equal(fileio_write_atomic(path, "hello\0world", 11, 0640, &err), 0);
        assert_int_equal(fileio_read(path, 100, &back, &len), 0);
        assert_int_equal(len, 11);
        assert_memory_equal(back, "hello\0world", 11);
        assert_int_equal(back[11], '\0');
}

static void test_write_sets_the_mode_whatever_the_umask(void **state)
{
        _cleanup_free_ char *path = strjoin(*state, "/f", NULL);
        struct ferry_error err = {};
        mode_t old = umask(0077);
        struct stat st;

        assert_int_equal(fileio_write_atomic(path, "x", 1, 0644, &err), 0);
        umask(old);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
}

static void test_write_replaces_a_file_and_leaves_no_temporary_file(void **state)
{
        _cleanup_free_ char *path = strjoin(*state, "/f", NULL), *back = NULL;
        struct ferry_error err = {};
        struct stat st;

        assert_int_equal(fileio_write_atomic(path, "old content", 11, 0644, &err), 0);
        assert_int_equal(fileio_write_atomic(path, "new", 3, 0600, &err), 0);
        assert_int_equal(fileio_read(path, 100, &back, NULL), 0);
        assert_string_equal(back, "new");
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(count_entries(*state), 1);
}

static void test_write_into_a_missing_directory_names_the_file(void **state)
{
        _cleanup_free_ char *path = strjoin(*state, "/missing/f", NULL), *expected = NULL;
        struct ferry_error err = {};

        assert_int_equal(fileio_write_atomic(path, "x", 1, 0644, &err), -ENOENT);
        assert_non_null(expected = strjoin("Failed to write '", path, "': No such file or directory", NULL));
        assert_string_equal(ferry_error_message(&err), expected);
}

static void test_write_over_a_directory_fails_and_cleans_up(void **state)
{
        _cleanup_free_ char *path = strjoin(*state, "/d", NULL), *inside = NULL;
        struct ferry_error err = {};

        assert_int_equal(mkdir(path, 0700), 0);
        assert_non_null(inside = strjoin(path, "/x", NULL));
        assert_int_equal(fileio_write_atomic(inside, "x", 1, 0644, &err), 0);

        /* rename() cannot put a file over a non-empty directory. */
        assert_true(fileio_write_atomic(path, "x", 1, 0644, &err) < 0);
        assert_true(startswith(ferry_error_message(&err), "Failed to write '"));
        assert_int_equal(count_entries(*state), 1);
}

static void test_read_refuses_a_file_over_the_limit_and_directories(void **state)
{
        _cleanup_free_ char *path = strjoin(*state, "/f", NULL);
        struct ferry_error err = {};
        char *back = NULL;

        assert_int_equal(fileio_write_atomic(path, "0123456789", 10, 0644, &err), 0);
        assert_int_equal(fileio_read(path, 9, &back, NULL), -EFBIG);
        assert_null(back);
        assert_int_equal(fileio_read(path, 10, &back, NULL), 0);
        free(back);
        back = NULL;
        assert_int_equal(fileio_read(*state, 10, &back, NULL), -EISDIR);
        assert_int_equal(fileio_read("/nonexistent/f", 10, &back, NULL), -ENOENT);
        assert_null(back);
}

static void test_read_checked_names_a_missing_file(void **state)
{
        struct ferry_error err = {};
        _cleanup_free_ char *path = strjoin(*state, "/missing", NULL), *expected = NULL;
        char *text = NULL;

        assert_non_null(path);
        assert_int_equal(fileio_read_checked(path, 100, &text, NULL, &err), -ENOENT);
        assert_null(text);
        assert_non_null(expected = strjoin("Cannot read '", path, "': No such file or directory", NULL));
        assert_string_equal(ferry_error_message(&err), expected);
}

static void test_read_checked_refuses_a_file_over_the_limit(void **state)
{
        struct ferry_error err = {};
        _cleanup_free_ char *path = strjoin(*state, "/big", NULL), *expected = NULL, *text = NULL;

        assert_non_null(path);
        assert_int_equal(fileio_write_atomic(path, "0123456789", 10, 0600, &err), 0);
        assert_int_equal(fileio_read_checked(path, 9, &text, NULL, &err), -EFBIG);
        assert_non_null(expected = strjoin("'", path, "' is larger than 9 bytes", NULL));
        assert_string_equal(ferry_error_message(&err), expected);
}

static void test_read_of_an_empty_file_gives_an_empty_string(void **state)
{
        struct ferry_error err = {};
        _cleanup_free_ char *path = strjoin(*state, "/empty", NULL), *text = NULL;
        size_t len = 99;

        assert_non_null(path);
        assert_int_equal(fileio_write_atomic(path, "", 0, 0600, &err), 0);
        assert_int_equal(fileio_read_checked(path, 10, &text, &len, &err), 0);
        assert_string_equal(text, "");
        assert_int_equal(len, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_write_then_read_gives_the_content_back, setup, teardown),
                cmocka_unit_test_setup_teardown(test_read_checked_names_a_missing_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_read_checked_refuses_a_file_over_the_limit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_read_of_an_empty_file_gives_an_empty_string, setup, teardown),
                cmocka_unit_test_setup_teardown(test_write_sets_the_mode_whatever_the_umask, setup, teardown),
                cmocka_unit_test_setup_teardown(test_write_replaces_a_file_and_leaves_no_temporary_file, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_write_into_a_missing_directory_names_the_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_write_over_a_directory_fails_and_cleans_up, setup, teardown),
                cmocka_unit_test_setup_teardown(test_read_refuses_a_file_over_the_limit_and_directories, setup,
                                                teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
