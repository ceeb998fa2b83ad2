/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file and stream sinks, on real files and pipes in a temporary
 * directory.
 */
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

#include "common/macros.h"
#include "common/strbuf.h"
#include "disk/sink.h"

#define MIB_ (1u << 20)

static int setup_dir(void **state)
{
        char *dir = strdup("/tmp/ferry-test-sink-XXXXXX");

        if (!dir || !mkdtemp(dir))
                return -1;
        *state = realpath(dir, NULL);
        free(dir);
        return *state ? 0 : -1;
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

static char *path_in(void **state, const char *name)
{
        char *p = strjoin(*state, "/", name, NULL);

        assert_non_null(p);
        return p;
}

static struct sink *open_sink(const char *path, bool direct)
{
        struct sink *s = NULL;
        struct ferry_error err = {};

        if (sink_open(path, &(struct sink_open_options) { .direct = direct }, &s, &err) < 0)
                fail_msg("sink_open('%s'): %s", path, ferry_error_message(&err));
        return s;
}

static void fill(char *buf, size_t len, unsigned seed)
{
        for (size_t i = 0; i < len; i++)
                buf[i] = (char) ((i * 131 + seed) % 251 + 1);
}

static void test_a_missing_file_is_created_by_start_and_is_all_holes(void **state)
{
        _cleanup_free_ char *path = path_in(state, "new.img");
        _cleanup_sink_ struct sink *s = open_sink(path, false);
        struct ferry_error err = {};
        struct stat st;

        assert_string_equal(s->ops->type, "file");
        assert_true(s->ops->random_writes);
        assert_string_equal(s->id, path);
        assert_int_equal(access(path, F_OK), -1);      /* nothing yet */

        assert_int_equal(s->ops->start(s, 64 * MIB_, false, &err), 0);
        assert_true(s->zeroed);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_size, 64 * MIB_);
        assert_int_equal(st.st_blocks, 0);
        assert_int_equal(s->ops->reads_as_zero(s, 0, 64 * MIB_), 1);
}

static void test_an_existing_file_is_emptied_by_a_full_copy(void **state)
{
        _cleanup_free_ char *path = path_in(state, "old.img");
        _cleanup_sink_ struct sink *s = NULL;
        struct ferry_error err = {};
        char buf[4096];
        int fd;

        fd = open(path, O_WRONLY | O_CREAT, 0644);
        fill(buf, sizeof buf, 1);
        assert_int_equal(write(fd, buf, sizeof buf), sizeof buf);
        close(fd);

        s = open_sink(path, false);
        assert_int_equal(s->ops->start(s, 8192, false, &err), 0);
        assert_int_equal(s->ops->read(s, buf, sizeof buf, 0, &err), 0);
        for (size_t i = 0; i < sizeof buf; i++)
                assert_int_equal(buf[i], 0);
}

static void test_written_data_reads_back_and_zero_punches_a_hole(void **state)
{
        _cleanup_free_ char *path = path_in(state, "data.img");
        _cleanup_sink_ struct sink *s = open_sink(path, false);
        _cleanup_free_ char *buf = malloc(MIB_), *back = malloc(MIB_);
        struct ferry_error err = {};
        struct stat st;

        assert_non_null(buf);
        assert_non_null(back);
        fill(buf, MIB_, 7);
        assert_int_equal(s->ops->start(s, 4 * MIB_, false, &err), 0);
        assert_int_equal(s->ops->write(s, buf, MIB_, MIB_, &err), 0);
        assert_int_equal(s->ops->flush(s, &err), 0);
        assert_int_equal(s->ops->read(s, back, MIB_, MIB_, &err), 0);
        assert_memory_equal(buf, back, MIB_);
        assert_int_equal(s->ops->reads_as_zero(s, MIB_, 4096), 0);
        assert_int_equal(s->ops->reads_as_zero(s, 2 * MIB_, MIB_), 1);

        assert_int_equal(s->ops->zero(s, MIB_ + 65536, 512 * 1024, &err), 0);
        assert_int_equal(s->ops->read(s, back, MIB_, MIB_, &err), 0);
        assert_memory_equal(back, buf, 65536);
        for (size_t i = 65536; i < 65536 + 512 * 1024; i++)
                if (back[i] != 0)
                        fail_msg("Byte %zu not zeroed", i);
        assert_memory_equal(back + 65536 + 512 * 1024, buf + 65536 + 512 * 1024, MIB_ - 65536 - 512 * 1024);
        assert_int_equal(stat(path, &st), 0);
        assert_true((uint64_t) st.st_blocks * 512 <= MIB_ - 512 * 1024);
}

static void test_direct_io_writes_unaligned_ranges_correctly(void **state)
{
        _cleanup_free_ char *path = path_in(state, "direct.img");
        _cleanup_sink_ struct sink *s = open_sink(path, true);
        struct ferry_error err = {};
        void *mem = NULL;
        char back[20000], want[20000];

        assert_int_equal(s->align, 4096);
        assert_int_equal(posix_memalign(&mem, 4096, 3 * 4096 + 8192), 0);
        assert_int_equal(s->ops->start(s, 65536, false, &err), 0);
        /* 10000 bytes from offset 1000: buffer aligned like the offset. */
        fill((char *) mem + 1000, 10000, 3);
        assert_int_equal(s->ops->write(s, (char *) mem + 1000, 10000, 1000, &err), 0);
        /* And a short one inside one block. */
        fill((char *) mem + 4096 + 100, 50, 9);
        assert_int_equal(s->ops->write(s, (char *) mem + 4096 + 100, 50, 20100, &err), 0);

        memset(want, 0, sizeof want);
        fill(want + 1000, 10000, 3);
        assert_int_equal(s->ops->read(s, back, sizeof back, 0, &err), 0);
        assert_memory_equal(back, want, 20000);
        assert_int_equal(s->ops->read(s, back, 50, 20100, &err), 0);
        fill(want, 50, 9);
        assert_memory_equal(back, want, 50);
        free(mem);
}

static void test_a_kept_sink_must_hold_exactly_the_source_size(void **state)
{
        _cleanup_free_ char *path = path_in(state, "prev.img"), *expected = NULL;
        _cleanup_sink_ struct sink *s = NULL;
        struct ferry_error err = {};

        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, 4096), 0);
        close(fd);
        s = open_sink(path, false);
        assert_int_equal(s->ops->start(s, 8192, true, &err), -ESTALE);
        expected = strjoin("'", path,
                           "' holds 4096 bytes, not the 8192 of the source: a delta or a resumed copy needs the earlier "
                           "copy of the same disk",
                           NULL);
        assert_string_equal(ferry_error_message(&err), expected);
}

static void test_a_kept_sink_that_does_not_exist_is_not_created(void **state)
{
        _cleanup_free_ char *path = path_in(state, "none.img"), *expected = NULL;
        _cleanup_sink_ struct sink *s = open_sink(path, false);
        struct ferry_error err = {};

        assert_int_equal(s->ops->start(s, 8192, true, &err), -ENOENT);
        expected = strjoin("'", path,
                           "' does not exist: a delta or a resumed copy needs the earlier copy of the same disk", NULL);
        assert_string_equal(ferry_error_message(&err), expected);
        assert_int_equal(access(path, F_OK), -1);
}

static void test_a_kept_sink_keeps_its_data(void **state)
{
        _cleanup_free_ char *path = path_in(state, "keep.img");
        struct ferry_error err = {};
        char buf[4096], back[4096];

        fill(buf, sizeof buf, 5);
        {
                _cleanup_sink_ struct sink *s = open_sink(path, false);

                assert_int_equal(s->ops->start(s, 8192, false, &err), 0);
                assert_int_equal(s->ops->write(s, buf, sizeof buf, 4096, &err), 0);
        }
        {
                _cleanup_sink_ struct sink *s = open_sink(path, false);

                assert_int_equal(s->ops->start(s, 8192, true, &err), 0);
                assert_false(s->zeroed);
                assert_int_equal(s->ops->read(s, back, sizeof back, 4096, &err), 0);
                assert_memory_equal(back, buf, sizeof buf);
        }
}

static void test_opening_a_directory_fails_clearly(void **state)
{
        struct sink *s = NULL;
        struct ferry_error err = {};
        _cleanup_free_ char *expected = strjoin("'", *state, "' is a directory", NULL);

        assert_int_equal(sink_open(*state, &(struct sink_open_options) {}, &s, &err), -EISDIR);
        assert_string_equal(ferry_error_message(&err), expected);
        assert_null(s);
}

static void test_opening_a_file_in_a_missing_directory_fails_clearly(void **state)
{
        _cleanup_free_ char *path = path_in(state, "no/such.img"), *expected = NULL;
        struct sink *s = NULL;
        struct ferry_error err = {};

        assert_int_equal(sink_open(path, &(struct sink_open_options) {}, &s, &err), -ENOENT);
        expected = strjoin("Cannot open '", path, "': No such file or directory", NULL);
        assert_string_equal(ferry_error_message(&err), expected);
}

static void test_a_stream_takes_the_disk_in_order_with_zeros_written_out(_unused_ void **state)
{
        _cleanup_sink_ struct sink *s = NULL;
        struct ferry_error err = {};
        char out[64] = {}, want[64] = {};
        int p[2];

        assert_int_equal(pipe(p), 0);
        assert_int_equal(sink_stream_new("pipe", p[1], true, &s, &err), 0);
        assert_false(s->ops->random_writes);
        assert_null(s->ops->read);
        assert_int_equal(s->ops->start(s, 40, false, &err), 0);
        assert_int_equal(s->ops->write(s, "0123456789", 10, 0, &err), 0);
        assert_int_equal(s->ops->zero(s, 10, 20, &err), 0);
        assert_int_equal(s->ops->write(s, "abcdefghij", 10, 30, &err), 0);
        assert_int_equal(s->ops->finish(s, &err), 0);
        assert_int_equal(read(p[0], out, sizeof out), 40);
        memcpy(want, "0123456789", 10);
        memcpy(want + 30, "abcdefghij", 10);
        assert_memory_equal(out, want, 40);
        close(p[0]);
}

static void test_a_stream_refuses_offsets_out_of_order(_unused_ void **state)
{
        _cleanup_sink_ struct sink *s = NULL;
        struct ferry_error err = {};
        int p[2];

        assert_int_equal(pipe(p), 0);
        assert_int_equal(sink_stream_new("pipe", p[1], true, &s, &err), 0);
        assert_int_equal(s->ops->start(s, 40, false, &err), 0);
        assert_int_equal(s->ops->write(s, "0123456789", 10, 20, &err), -EINVAL);
        assert_string_equal(ferry_error_message(&err),
                            "The stream 'pipe' got offset 20 while at 0: it takes the disk in order only");
        assert_int_equal(s->ops->finish(s, &err), -EIO);
        assert_string_equal(ferry_error_message(&err), "The stream 'pipe' got 0 of 40 bytes");
        close(p[0]);
}

static void test_a_stream_cannot_be_kept(_unused_ void **state)
{
        _cleanup_sink_ struct sink *s = NULL;
        struct ferry_error err = {};
        int p[2];

        assert_int_equal(pipe(p), 0);
        assert_int_equal(sink_stream_new("pipe", p[1], true, &s, &err), 0);
        assert_int_equal(s->ops->start(s, 40, true, &err), -EINVAL);
        assert_string_equal(ferry_error_message(&err),
                            "The stream 'pipe' cannot take a delta or a resumed copy: it has no earlier copy");
        close(p[0]);
}

static void test_a_character_device_is_a_stream_and_refuses_direct_io(_unused_ void **state)
{
        _cleanup_sink_ struct sink *s = NULL;
        struct sink *d = NULL;
        struct ferry_error err = {};

        s = open_sink("/dev/null", false);
        assert_string_equal(s->ops->type, "stream");
        assert_null(s->id);
        assert_int_equal(sink_open("/dev/null", &(struct sink_open_options) { .direct = true }, &d, &err), -EINVAL);
        assert_string_equal(ferry_error_message(&err),
                            "--direct needs a file or block device, not the stream '/dev/null'");
}

static void test_a_full_device_reports_enospc_with_the_offset(_unused_ void **state)
{
        _cleanup_sink_ struct sink *s = open_sink("/dev/full", false);
        struct ferry_error err = {};

        assert_int_equal(s->ops->start(s, 100, false, &err), 0);
        assert_int_equal(s->ops->write(s, "x", 1, 0, &err), -ENOSPC);
        assert_string_equal(ferry_error_message(&err),
                            "Cannot write to '/dev/full' at offset 0: No space left on device");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_a_missing_file_is_created_by_start_and_is_all_holes, setup_dir,
                                                teardown_dir),
                cmocka_unit_test_setup_teardown(test_an_existing_file_is_emptied_by_a_full_copy, setup_dir,
                                                teardown_dir),
                cmocka_unit_test_setup_teardown(test_written_data_reads_back_and_zero_punches_a_hole, setup_dir,
                                                teardown_dir),
                cmocka_unit_test_setup_teardown(test_direct_io_writes_unaligned_ranges_correctly, setup_dir,
                                                teardown_dir),
                cmocka_unit_test_setup_teardown(test_a_kept_sink_must_hold_exactly_the_source_size, setup_dir,
                                                teardown_dir),
                cmocka_unit_test_setup_teardown(test_a_kept_sink_that_does_not_exist_is_not_created, setup_dir,
                                                teardown_dir),
                cmocka_unit_test_setup_teardown(test_a_kept_sink_keeps_its_data, setup_dir, teardown_dir),
                cmocka_unit_test_setup_teardown(test_opening_a_directory_fails_clearly, setup_dir, teardown_dir),
                cmocka_unit_test_setup_teardown(test_opening_a_file_in_a_missing_directory_fails_clearly, setup_dir,
                                                teardown_dir),
                cmocka_unit_test(test_a_stream_takes_the_disk_in_order_with_zeros_written_out),
                cmocka_unit_test(test_a_stream_refuses_offsets_out_of_order),
                cmocka_unit_test(test_a_stream_cannot_be_kept),
                cmocka_unit_test(test_a_character_device_is_a_stream_and_refuses_direct_io),
                cmocka_unit_test(test_a_full_device_reports_enospc_with_the_offset),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
