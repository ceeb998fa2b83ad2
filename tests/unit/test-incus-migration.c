/* SPDX-License-Identifier: Apache-2.0 */
/* The hand-made protobuf messages of the migration push protocol. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/macros.h"
#include "target/incus/migration.h"

static void test_header_is_fs_block_and_volume_size(void **state)
{
        uint8_t out[INCUS_MIGRATION_HEADER_MAX];
        size_t n;

        (void) state;
        n = incus_migration_header_encode(10000003, out);
        /* 10000003 = 0x989683: varint 83 AD E2 04. */
        assert_int_equal(n, 7);
        assert_memory_equal(out, ((uint8_t[]) { 0x08, 0x04, 0x58, 0x83, 0xad, 0xe2, 0x04 }), 7);
}

static void test_header_of_one_gibibyte(void **state)
{
        uint8_t out[INCUS_MIGRATION_HEADER_MAX];

        (void) state;
        assert_int_equal(incus_migration_header_encode(UINT64_C(1) << 30, out), 8);
        assert_memory_equal(out, ((uint8_t[]) { 0x08, 0x04, 0x58, 0x80, 0x80, 0x80, 0x80, 0x04 }), 8);
}

static void test_header_round_trips_the_largest_size(void **state)
{
        uint8_t out[INCUS_MIGRATION_HEADER_MAX];
        struct incus_migration_header h;
        struct ferry_error err = {};
        size_t n;

        (void) state;
        n = incus_migration_header_encode(UINT64_MAX >> 1, out);
        assert_int_equal(n, 3 + 9);
        assert_int_equal(incus_migration_header_decode(out, n, &h, &err), 0);
        assert_int_equal(h.fs, INCUS_MIGRATION_FS_BLOCK_AND_RSYNC);
        assert_int_equal(h.volume_size, (int64_t) (UINT64_MAX >> 1));
}

static void test_server_header_with_unknown_fields_decodes(void **state)
{
        /* fs=4, criu=2 (varint), snapshotNames=["a"] (bytes), refresh=true,
         * indexHeaderVersion=1, a fixed32 and a fixed64 field. */
        static const uint8_t in[] = { 0x08, 0x04, 0x10, 0x02, 0x22, 0x01, 'a', 0x48, 0x01, 0x68, 0x01,
                                      0x7d, 1,    2,    3,    4,    0x79, 1,   2,    3,    4,    5,
                                      6,    7,    8,    0x58, 0x10 };
        struct incus_migration_header h;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(incus_migration_header_decode(in, sizeof(in), &h, &err), 0);
        assert_int_equal(h.fs, 4);
        assert_true(h.refresh);
        assert_int_equal(h.volume_size, 16);
}

static void assert_header_refused(const uint8_t *in, size_t len, const char *message)
{
        struct incus_migration_header h = { .fs = 99 };
        struct ferry_error err = {};

        assert_int_equal(incus_migration_header_decode(in, len, &h, &err), -EBADMSG);
        assert_string_equal(err.message, message);
        assert_int_equal(h.fs, 99);
}

static void test_malformed_headers_are_refused(void **state)
{
        (void) state;
        assert_header_refused((const uint8_t[]) { 0x08 }, 1, "Invalid migration header from Incus: truncated varint");
        assert_header_refused((const uint8_t[]) { 0x08, 0x80 }, 2,
                              "Invalid migration header from Incus: truncated varint");
        assert_header_refused((const uint8_t[]) { 0x22, 0x05, 'a' }, 3,
                              "Invalid migration header from Incus: length past the end");
        assert_header_refused((const uint8_t[]) { 0x0b }, 1,
                              "Invalid migration header from Incus: unsupported wire type");
        assert_header_refused((const uint8_t[]) { 0x58, 0x01 }, 2,
                              "Invalid migration header from Incus: no filesystem type");
        assert_header_refused((const uint8_t[]) { 0x00, 0x01 }, 2,
                              "Invalid migration header from Incus: field number 0");
        assert_header_refused((const uint8_t[]) { 0x79, 1, 2 }, 3,
                              "Invalid migration header from Incus: truncated fixed64");
}

static void test_control_success_round_trips(void **state)
{
        _cleanup_free_ uint8_t *buf = NULL;
        _cleanup_free_ char *message = NULL;
        struct ferry_error err = {};
        bool success = false;
        size_t len;

        (void) state;
        assert_int_equal(incus_migration_control_encode(true, NULL, &buf, &len), 0);
        assert_int_equal(len, 2);
        assert_memory_equal(buf, ((uint8_t[]) { 0x08, 0x01 }), 2);
        assert_int_equal(incus_migration_control_decode(buf, len, &success, &message, &err), 0);
        assert_true(success);
        assert_null(message);
}

static void test_control_failure_carries_its_message(void **state)
{
        _cleanup_free_ uint8_t *buf = NULL;
        _cleanup_free_ char *message = NULL;
        struct ferry_error err = {};
        bool success = true;
        size_t len;

        (void) state;
        assert_int_equal(incus_migration_control_encode(false, "Aborted by ferry", &buf, &len), 0);
        assert_int_equal(len, 4 + strlen("Aborted by ferry"));
        assert_memory_equal(buf, ((uint8_t[]) { 0x08, 0x00, 0x12, 16 }), 4);
        assert_int_equal(incus_migration_control_decode(buf, len, &success, &message, &err), 0);
        assert_false(success);
        assert_string_equal(message, "Aborted by ferry");
}

static void test_control_without_success_is_refused(void **state)
{
        static const uint8_t in[] = { 0x12, 0x01, 'x' };
        char *message = NULL;
        struct ferry_error err = {};
        bool success;

        (void) state;
        assert_int_equal(incus_migration_control_decode(in, sizeof(in), &success, &message, &err), -EBADMSG);
        assert_string_equal(err.message, "Invalid migration control message from Incus: no success field");
        assert_null(message);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_header_is_fs_block_and_volume_size),
                cmocka_unit_test(test_header_of_one_gibibyte),
                cmocka_unit_test(test_header_round_trips_the_largest_size),
                cmocka_unit_test(test_server_header_with_unknown_fields_decodes),
                cmocka_unit_test(test_malformed_headers_are_refused),
                cmocka_unit_test(test_control_success_round_trips),
                cmocka_unit_test(test_control_failure_carries_its_message),
                cmocka_unit_test(test_control_without_success_is_refused),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
