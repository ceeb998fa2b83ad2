/* SPDX-License-Identifier: Apache-2.0 */
/* src/worker/partitions.c and fsprobe.c: partition tables and file system
 * magics, on disks the tests build byte by byte. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/macros.h"
#include "worker/fsprobe.h"
#include "worker/partitions.h"

#define MIB (1u << 20)

struct disk {
        uint8_t *data;
        size_t size;
        struct partition_memory mem;
        struct partition_reader rd;
};

static struct disk *disk_new(size_t size)
{
        struct disk *d = calloc(1, sizeof(*d));

        assert_non_null(d);
        assert_non_null(d->data = calloc(1, size));
        d->size = size;
        d->mem = (struct partition_memory) { d->data, size };
        d->rd = (struct partition_reader) { partition_read_memory, &d->mem, size };
        return d;
}

static void disk_free(struct disk *d)
{
        free(d->data);
        free(d);
}

static void put32(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
        put32(p, (uint32_t) v);
        put32(p + 4, (uint32_t) (v >> 32));
}

static void mbr_entry(uint8_t *sector, int i, uint8_t type, uint32_t lba, uint32_t sectors)
{
        uint8_t *p = sector + 446 + 16 * i;

        p[0] = 0;
        p[4] = type;
        put32(p + 8, lba);
        put32(p + 12, sectors);
        sector[510] = 0x55;
        sector[511] = 0xaa;
}

/* A GPT with 128 entries of 128 bytes at LBA 2; entries: (first, last) pairs. */
static void gpt_build(struct disk *d, unsigned ss, const uint64_t (*parts)[2], size_t n)
{
        uint64_t sectors = d->size / ss;
        uint8_t *h = d->data + ss, *e = d->data + 2 * ss;
        static const uint8_t linux_fs[16] = { 0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
                                              0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4 };

        mbr_entry(d->data, 0, 0xee, 1, (uint32_t) (sectors - 1));
        for (size_t i = 0; i < n; i++) {
                memcpy(e + 128 * i, linux_fs, 16);
                e[128 * i + 16] = (uint8_t) (i + 1);
                put64(e + 128 * i + 32, parts[i][0]);
                put64(e + 128 * i + 40, parts[i][1]);
        }
        memcpy(h, "EFI PART", 8);
        put32(h + 8, 0x00010000);
        put32(h + 12, 92);
        put64(h + 24, 1);
        put64(h + 32, sectors - 1);
        put64(h + 40, 2 + 128 * 128 / ss);
        put64(h + 48, sectors - 2 - 128 * 128 / ss);
        put64(h + 72, 2);
        put32(h + 80, 128);
        put32(h + 84, 128);
        put32(h + 88, partition_crc32(e, 128 * 128));
        put32(h + 16, 0);
        put32(h + 16, partition_crc32(h, 92));
}

static void read_ok(struct disk *d, struct partition_table *t)
{
        struct ferry_error err = {};

        if (partition_table_read(&d->rd, t, &err) < 0)
                fail_msg("Refused: %s", ferry_error_message(&err));
}

static void read_refused(struct disk *d, const char *message)
{
        struct partition_table t = {};
        struct ferry_error err = {};

        assert_int_equal(partition_table_read(&d->rd, &t, &err), -EINVAL);
        assert_string_equal(ferry_error_message(&err), message);
        assert_null(t.v);
}

static void test_an_mbr_gives_its_primary_partitions(_unused_ void **state)
{
        struct disk *d = disk_new(8 * MIB);
        struct partition_table t = {};

        mbr_entry(d->data, 0, 0x83, 2048, 4096);
        mbr_entry(d->data, 2, 0x0c, 8192, 2048);
        read_ok(d, &t);
        assert_int_equal(t.scheme, PARTITION_SCHEME_MBR);
        assert_int_equal(t.n, 2);
        assert_int_equal(t.v[0].number, 1);
        assert_int_equal(t.v[0].offset, 2048 * 512);
        assert_int_equal(t.v[0].length, 4096 * 512);
        assert_string_equal(t.v[0].type, "0x83");
        assert_int_equal(t.v[1].number, 3);
        assert_string_equal(t.v[1].type, "0x0c");
        partition_table_done(&t);
        disk_free(d);
}

static void test_logical_partitions_are_numbered_from_5(_unused_ void **state)
{
        struct disk *d = disk_new(8 * MIB);
        struct partition_table t = {};
        uint8_t *ebr1 = d->data + 4096 * 512, *ebr2 = d->data + 8192 * 512;

        mbr_entry(d->data, 0, 0x83, 2048, 2048);
        mbr_entry(d->data, 1, 0x05, 4096, 12288);
        /* First EBR: a partition 2048 sectors after it, then the next EBR 4096 into the extended one. */
        mbr_entry(ebr1, 0, 0x83, 2048, 1024);
        mbr_entry(ebr1, 1, 0x05, 4096, 4096);
        mbr_entry(ebr2, 0, 0x82, 1, 2048);
        read_ok(d, &t);
        assert_int_equal(t.n, 3);
        assert_int_equal(t.v[1].number, 5);
        assert_int_equal(t.v[1].offset, (4096 + 2048) * 512);
        assert_int_equal(t.v[1].length, 1024 * 512);
        assert_int_equal(t.v[2].number, 6);
        assert_int_equal(t.v[2].offset, (8192 + 1) * 512);
        assert_string_equal(t.v[2].type, "0x82");
        partition_table_done(&t);
        disk_free(d);
}

static void test_a_looping_chain_of_logical_partitions_is_refused(_unused_ void **state)
{
        struct disk *d = disk_new(8 * MIB);
        uint8_t *ebr = d->data + 4096 * 512;

        mbr_entry(d->data, 0, 0x05, 4096, 8192);
        mbr_entry(ebr, 0, 0x83, 64, 64);
        mbr_entry(ebr, 1, 0x05, 0 + 2048, 64);
        mbr_entry(d->data + 6144 * 512, 0, 0x83, 64, 64);
        mbr_entry(d->data + 6144 * 512, 1, 0x05, 2048, 64);    /* links to itself */
        read_refused(d, "The extended partition's chain of logical partitions loops");
        disk_free(d);
}

static void test_overlapping_mbr_partitions_are_refused(_unused_ void **state)
{
        struct disk *d = disk_new(8 * MIB);

        mbr_entry(d->data, 0, 0x83, 2048, 4096);
        mbr_entry(d->data, 1, 0x83, 4096, 4096);
        read_refused(d, "MBR partitions 1 and 2 overlap");
        disk_free(d);
}

static void test_an_mbr_partition_past_the_end_is_refused(_unused_ void **state)
{
        struct disk *d = disk_new(1 * MIB);

        mbr_entry(d->data, 0, 0x83, 2048, 4096);
        read_refused(d, "MBR partition 1 (sectors 2048-6143) lies outside the disk (sectors 1-2047)");
        disk_free(d);
}

static void test_a_disk_without_a_table_is_partition_0(_unused_ void **state)
{
        struct disk *d = disk_new(1 * MIB);
        struct partition_table t = {};

        read_ok(d, &t);
        assert_int_equal(t.scheme, PARTITION_SCHEME_NONE);
        assert_int_equal(t.n, 1);
        assert_int_equal(t.v[0].number, 0);
        assert_int_equal(t.v[0].offset, 0);
        assert_int_equal(t.v[0].length, 1 * MIB);
        partition_table_done(&t);
        disk_free(d);
}

static void test_a_disk_smaller_than_a_sector_is_refused(_unused_ void **state)
{
        struct disk *d = disk_new(100);

        read_refused(d, "The disk has 100 bytes: too small for a partition table");
        disk_free(d);
}

static void test_a_gpt_gives_its_entries_with_512_byte_sectors(_unused_ void **state)
{
        static const uint64_t parts[][2] = { { 2048, 4095 }, { 4096, 16000 } };
        struct disk *d = disk_new(16 * MIB);
        struct partition_table t = {};

        gpt_build(d, 512, parts, 2);
        read_ok(d, &t);
        assert_int_equal(t.scheme, PARTITION_SCHEME_GPT);
        assert_int_equal(t.sector_size, 512);
        assert_int_equal(t.n, 2);
        assert_int_equal(t.v[0].number, 1);
        assert_int_equal(t.v[0].offset, 2048 * 512);
        assert_int_equal(t.v[0].length, 2048 * 512);
        assert_string_equal(t.v[0].type, "0fc63daf-8483-4772-8e79-3d69d8477de4");
        assert_int_equal(t.v[1].number, 2);
        assert_int_equal(t.v[1].length, (16000 - 4096 + 1) * 512);
        partition_table_done(&t);
        disk_free(d);
}

static void test_a_gpt_with_4096_byte_sectors(_unused_ void **state)
{
        static const uint64_t parts[][2] = { { 256, 1023 } };
        struct disk *d = disk_new(8 * MIB);
        struct partition_table t = {};

        gpt_build(d, 4096, parts, 1);
        read_ok(d, &t);
        assert_int_equal(t.sector_size, 4096);
        assert_int_equal(t.v[0].offset, 256 * 4096);
        assert_int_equal(t.v[0].length, 768 * 4096);
        partition_table_done(&t);
        disk_free(d);
}

static void test_a_gpt_header_with_a_wrong_crc_is_refused(_unused_ void **state)
{
        static const uint64_t parts[][2] = { { 2048, 4095 } };
        struct disk *d = disk_new(4 * MIB);
        struct partition_table t = {};
        struct ferry_error err = {};

        gpt_build(d, 512, parts, 1);
        d->data[512 + 40] ^= 1;         /* first usable LBA */
        assert_int_equal(partition_table_read(&d->rd, &t, &err), -EINVAL);
        assert_non_null(strstr(ferry_error_message(&err), "GPT header at LBA 1: CRC32 0x"));
        assert_non_null(strstr(ferry_error_message(&err), " does not match 0x"));
        disk_free(d);
}

static void test_gpt_entries_with_a_wrong_crc_are_refused(_unused_ void **state)
{
        static const uint64_t parts[][2] = { { 2048, 4095 } };
        struct disk *d = disk_new(4 * MIB);
        struct partition_table t = {};
        struct ferry_error err = {};

        gpt_build(d, 512, parts, 1);
        d->data[2 * 512 + 40] ^= 1;
        assert_int_equal(partition_table_read(&d->rd, &t, &err), -EINVAL);
        assert_non_null(strstr(ferry_error_message(&err), "GPT entries at LBA 2: CRC32 0x"));
        assert_non_null(strstr(ferry_error_message(&err), "does not match the header's 0x"));
        disk_free(d);
}

static void test_a_gpt_entry_outside_the_usable_area_is_refused(_unused_ void **state)
{
        static const uint64_t parts[][2] = { { 2048, 99999 } };
        struct disk *d = disk_new(4 * MIB);

        gpt_build(d, 512, parts, 1);
        read_refused(d, "GPT partition 1 (sectors 2048-99999) lies outside the usable area (34-8158)");
        disk_free(d);
}

static void test_overlapping_gpt_entries_are_refused(_unused_ void **state)
{
        static const uint64_t parts[][2] = { { 2048, 4095 }, { 4000, 5000 } };
        struct disk *d = disk_new(4 * MIB);

        gpt_build(d, 512, parts, 2);
        read_refused(d, "GPT partitions 1 and 2 overlap");
        disk_free(d);
}

static void test_a_truncated_gpt_disk_is_refused(_unused_ void **state)
{
        static const uint64_t parts[][2] = { { 2048, 4095 } };
        struct disk *d = disk_new(4 * MIB);

        gpt_build(d, 512, parts, 1);
        d->mem.size = d->rd.size = 3 * 512;    /* the header survives, the entries do not */
        read_refused(d, "GPT header: the usable area (sectors 34-8158) does not fit the disk (3 sectors)");
        disk_free(d);
}

static void test_a_protective_mbr_without_a_gpt_is_refused(_unused_ void **state)
{
        struct disk *d = disk_new(1 * MIB);

        mbr_entry(d->data, 0, 0xee, 1, 2047);
        read_refused(d, "The MBR is a GPT protective MBR, but there is no GPT header at LBA 1 (512- or 4096-byte "
                        "sectors)");
        disk_free(d);
}

/* ---- fsprobe ------------------------------------------------------------- */

static enum fs_type probe(struct disk *d, uint64_t offset)
{
        enum fs_type t = _FS_TYPE_INVALID;

        assert_int_equal(fs_probe(&d->rd, offset, d->size - offset, &t), 0);
        return t;
}

static void test_ext_versions_are_told_apart_by_their_features(_unused_ void **state)
{
        struct disk *d = disk_new(1 * MIB);

        d->data[1080] = 0x53;
        d->data[1081] = 0xef;
        assert_int_equal(probe(d, 0), FS_EXT2);
        d->data[1024 + 0x5c] = 0x4;     /* has_journal */
        assert_int_equal(probe(d, 0), FS_EXT3);
        d->data[1024 + 0x60] = 0x40;    /* extents */
        assert_int_equal(probe(d, 0), FS_EXT4);
        assert_string_equal(fs_type_to_string(FS_EXT4), "ext4");
        assert_true(fs_type_may_be_root(FS_EXT4));
        disk_free(d);
}

static void test_xfs_btrfs_vfat_and_swap_are_found_by_magic(_unused_ void **state)
{
        struct disk *d = disk_new(1 * MIB);

        memcpy(d->data + 4096, "XFSB", 4);
        assert_int_equal(probe(d, 4096), FS_XFS);
        memcpy(d->data + 65536 + 0x10040, "_BHRfS_M", 8);
        assert_int_equal(probe(d, 65536), FS_BTRFS);
        memcpy(d->data + 8192 + 4086, "SWAPSPACE2", 10);
        assert_int_equal(probe(d, 8192), FS_SWAP);
        d->data[512 * 1024 + 11] = 0x00;
        d->data[512 * 1024 + 12] = 0x02;
        memcpy(d->data + 512 * 1024 + 82, "FAT32   ", 8);
        d->data[512 * 1024 + 510] = 0x55;
        d->data[512 * 1024 + 511] = 0xaa;
        assert_int_equal(probe(d, 512 * 1024), FS_VFAT);
        assert_false(fs_type_may_be_root(FS_VFAT));
        disk_free(d);
}

static void test_lvm_and_luks_are_named_as_not_supported_yet(_unused_ void **state)
{
        struct disk *d = disk_new(1 * MIB);

        memcpy(d->data + 512, "LABELONE", 8);
        memcpy(d->data + 512 + 24, "LVM2 001", 8);
        assert_int_equal(probe(d, 0), FS_LVM2_PV);
        assert_string_equal(fs_type_unsupported_reason(FS_LVM2_PV), "LVM is not supported yet");
        memcpy(d->data + 65536, "LUKS\xba\xbe", 6);
        assert_int_equal(probe(d, 65536), FS_LUKS);
        assert_string_equal(fs_type_unsupported_reason(FS_LUKS), "LUKS encryption is not supported yet");
        assert_null(fs_type_unsupported_reason(FS_EXT4));
        disk_free(d);
}

static void test_zeros_and_tiny_areas_are_unknown(_unused_ void **state)
{
        struct disk *d = disk_new(1 * MIB);
        enum fs_type t;

        assert_int_equal(probe(d, 0), FS_UNKNOWN);
        memcpy(d->data, "XFSB", 4);
        assert_int_equal(fs_probe(&d->rd, 0, 3, &t), 0);
        assert_int_equal(t, FS_UNKNOWN);
        assert_int_equal(fs_probe(&d->rd, 1 * MIB, 512, &t), 0);
        assert_int_equal(t, FS_UNKNOWN);
        disk_free(d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_an_mbr_gives_its_primary_partitions),
                cmocka_unit_test(test_logical_partitions_are_numbered_from_5),
                cmocka_unit_test(test_a_looping_chain_of_logical_partitions_is_refused),
                cmocka_unit_test(test_overlapping_mbr_partitions_are_refused),
                cmocka_unit_test(test_an_mbr_partition_past_the_end_is_refused),
                cmocka_unit_test(test_a_disk_without_a_table_is_partition_0),
                cmocka_unit_test(test_a_disk_smaller_than_a_sector_is_refused),
                cmocka_unit_test(test_a_gpt_gives_its_entries_with_512_byte_sectors),
                cmocka_unit_test(test_a_gpt_with_4096_byte_sectors),
                cmocka_unit_test(test_a_gpt_header_with_a_wrong_crc_is_refused),
                cmocka_unit_test(test_gpt_entries_with_a_wrong_crc_are_refused),
                cmocka_unit_test(test_a_gpt_entry_outside_the_usable_area_is_refused),
                cmocka_unit_test(test_overlapping_gpt_entries_are_refused),
                cmocka_unit_test(test_a_truncated_gpt_disk_is_refused),
                cmocka_unit_test(test_a_protective_mbr_without_a_gpt_is_refused),
                cmocka_unit_test(test_ext_versions_are_told_apart_by_their_features),
                cmocka_unit_test(test_xfs_btrfs_vfat_and_swap_are_found_by_magic),
                cmocka_unit_test(test_lvm_and_luks_are_named_as_not_supported_yet),
                cmocka_unit_test(test_zeros_and_tiny_areas_are_unknown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
