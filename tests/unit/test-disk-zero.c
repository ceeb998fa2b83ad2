/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/macros.h"
#include "disk/zero.h"

static void test_is_zero_finds_a_single_set_byte_anywhere(_unused_ void **state)
{
        _cleanup_free_ unsigned char *buf = calloc(1, 4099);

        assert_non_null(buf);
        assert_true(disk_is_zero(buf, 4099));
        for (size_t i = 0; i < 4099; i++) {
                buf[i] = 0x80;
                if (disk_is_zero(buf, 4099))
                        fail_msg("Byte %zu missed", i);
                assert_true(disk_is_zero(buf, i));      /* the part before it */
                buf[i] = 0;
        }
}

static void test_is_zero_of_nothing_is_true(_unused_ void **state)
{
        assert_true(disk_is_zero("x", 0));
}

static void test_zero_run_groups_blocks_of_the_same_kind(_unused_ void **state)
{
        _cleanup_free_ unsigned char *buf = calloc(1, 8 * 16);
        bool zero = false;

        assert_non_null(buf);
        /* Blocks of 16 bytes: Z Z D D D Z D Z */
        for (int b = 2; b <= 4; b++)
                buf[b * 16 + 3] = 1;
        buf[6 * 16 + 15] = 1;

        assert_int_equal(disk_zero_run(buf, 128, 0, 16, &zero), 32);
        assert_true(zero);
        assert_int_equal(disk_zero_run(buf + 32, 96, 32, 16, &zero), 48);
        assert_false(zero);
        assert_int_equal(disk_zero_run(buf + 80, 48, 80, 16, &zero), 16);
        assert_true(zero);
        assert_int_equal(disk_zero_run(buf + 96, 32, 96, 16, &zero), 16);
        assert_false(zero);
        assert_int_equal(disk_zero_run(buf + 112, 16, 112, 16, &zero), 16);
        assert_true(zero);
}

static void test_zero_run_aligns_blocks_to_the_disk_not_the_buffer(_unused_ void **state)
{
        unsigned char buf[40] = {};
        bool zero = true;

        /* The buffer holds disk bytes 10..49; blocks are [0,16) [16,32) [32,48) [48,64). */
        buf[30] = 1;    /* disk byte 40, in block [32,48) */
        assert_int_equal(disk_zero_run(buf, sizeof buf, 10, 16, &zero), 22);    /* 10..31 */
        assert_true(zero);
        assert_int_equal(disk_zero_run(buf + 22, 18, 32, 16, &zero), 16);
        assert_false(zero);
        assert_int_equal(disk_zero_run(buf + 38, 2, 48, 16, &zero), 2);
        assert_true(zero);
}

static void test_zero_run_of_nothing_is_empty(_unused_ void **state)
{
        bool zero = false;

        assert_int_equal(disk_zero_run("", 0, 0, 16, &zero), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_is_zero_finds_a_single_set_byte_anywhere),
                cmocka_unit_test(test_is_zero_of_nothing_is_true),
                cmocka_unit_test(test_zero_run_groups_blocks_of_the_same_kind),
                cmocka_unit_test(test_zero_run_aligns_blocks_to_the_disk_not_the_buffer),
                cmocka_unit_test(test_zero_run_of_nothing_is_empty),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
