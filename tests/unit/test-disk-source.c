/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How sources are named in messages.  Connecting is tested against real
 * servers in tests/integration/test-disk-copy.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "common/macros.h"
#include "disk/source.h"

static void test_a_uri_source_is_named_by_its_uri_in_quotes(_unused_ void **state)
{
        _cleanup_free_ char *name = disk_source_describe(&(struct disk_source) { .uri = "nbd://h/disk" });

        assert_string_equal(name, "'nbd://h/disk'");
}

static void test_a_command_source_is_named_by_its_words(_unused_ void **state)
{
        char *argv[] = { "qemu-nbd", "--read-only", "-f", "vmdk", "d.vmdk", NULL };
        _cleanup_free_ char *name = disk_source_describe(&(struct disk_source) { .argv = argv });

        assert_string_equal(name, "'qemu-nbd --read-only -f vmdk d.vmdk'");
}

static void test_libnbd_call_names_are_left_out_of_reasons(_unused_ void **state)
{
        assert_string_equal(disk_source_reason("nbd_aio_connect_uri: connect: No such file or directory"),
                            "connect: No such file or directory");
        assert_string_equal(disk_source_reason("nbd_poll: recv: Connection reset by peer"),
                            "recv: Connection reset by peer");
        assert_string_equal(disk_source_reason("server said: nbd_x: y"), "server said: nbd_x: y");
        assert_string_equal(disk_source_reason("nbd_pread"), "nbd_pread");
        assert_string_equal(disk_source_reason(NULL), "unknown error");
}

static void test_connecting_needs_exactly_one_kind_of_source(_unused_ void **state)
{
        char *argv[] = { "nbdkit", NULL };
        struct nbd_handle *nbd = NULL;
        struct ferry_error err = {};

        assert_int_equal(disk_source_connect(&(struct disk_source) {}, 0, NULL, &nbd, &err), -EINVAL);
        assert_string_equal(ferry_error_message(&err), "The source needs either an NBD URI or a command");
        assert_int_equal(disk_source_connect(&(struct disk_source) { .uri = "nbd://h/", .argv = argv }, 0, NULL, &nbd,
                                             &err),
                         -EINVAL);
        assert_null(nbd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_a_uri_source_is_named_by_its_uri_in_quotes),
                cmocka_unit_test(test_a_command_source_is_named_by_its_words),
                cmocka_unit_test(test_libnbd_call_names_are_left_out_of_reasons),
                cmocka_unit_test(test_connecting_needs_exactly_one_kind_of_source),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
