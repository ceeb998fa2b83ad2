/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Partition tables of a guest disk, read without the kernel: MBR (with
 * extended and logical partitions) and GPT (protective MBR, header and
 * entry array CRC32s checked, 512- and 4096-byte sectors).  A disk
 * without a table is one "partition 0" covering the whole disk.  The
 * input is untrusted (it is whatever the migrated VM wrote): bad tables
 * get an error that says what is wrong, never a crash.
 *
 *     struct partition_memory m = { buf, len };
 *     struct partition_reader rd = { partition_read_memory, &m, len };
 *     struct partition_table t = {};
 *
 *     r = partition_table_read(&rd, &t, &err);
 *     for (size_t i = 0; i < t.n; i++)
 *             ... t.v[i].number, t.v[i].offset, t.v[i].length ...
 *     partition_table_done(&t);
 */
#ifndef FERRY_WORKER_PARTITIONS_H
#define FERRY_WORKER_PARTITIONS_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* The most partitions a table may have (GPT entries in use, MBR logical ones). */
#define PARTITION_MAX 256

/* Read len bytes at offset into buf: 0, or a negative errno. */
typedef int (*partition_read_fn)(void *userdata, void *buf, size_t len, uint64_t offset);

struct partition_reader {
        partition_read_fn read;
        void *userdata;
        uint64_t size;                  /* of the disk, in bytes */
};

/* Readers: a buffer in memory (userdata: struct partition_memory *), and
 * a file descriptor (userdata: int *); reads past the end are -EIO. */
struct partition_memory {
        const uint8_t *data;
        size_t size;
};
int partition_read_memory(void *userdata, void *buf, size_t len, uint64_t offset);
int partition_read_fd(void *userdata, void *buf, size_t len, uint64_t offset);

enum partition_scheme {
        PARTITION_SCHEME_NONE,          /* no table: the whole disk is partition 0 */
        PARTITION_SCHEME_MBR,
        PARTITION_SCHEME_GPT,
        _PARTITION_SCHEME_MAX,
        _PARTITION_SCHEME_INVALID = -EINVAL,
};

/* "none", "mbr", "gpt" */
const char *partition_scheme_to_string(enum partition_scheme s);

struct partition {
        unsigned number;                /* as Linux numbers them: MBR 1-4 primary, 5… logical; GPT the
                                         * entry's index + 1; 0 for the whole disk */
        uint64_t offset, length;        /* in bytes, inside the disk */
        char type[37];                  /* GPT: the type GUID ("0fc63daf-8483-…"); MBR: "0x83"; none: "" */
};

struct partition_table {
        enum partition_scheme scheme;
        unsigned sector_size;           /* 512 or 4096 (GPT); 512 (MBR, none) */
        struct partition *v;            /* sorted by number */
        size_t n;
};

/*
 * Read the table of the disk rd describes.  Errors (-EINVAL for a bad
 * table, or the reader's) say what is wrong: "GPT header at LBA 1: CRC32
 * 0x12345678 does not match 0x9abcdef0", "GPT partition 3 (sectors
 * 2048-999999) lies outside the usable area (34-20446)", "MBR partitions
 * 1 and 2 overlap", "The extended partition's chain of logical
 * partitions loops".  A disk smaller than one sector is -EINVAL "The disk
 * has 100 bytes: too small for a partition table".
 */
int partition_table_read(const struct partition_reader *rd, struct partition_table *ret, struct ferry_error *err);
void partition_table_done(struct partition_table *t);

/* CRC32 (IEEE 802.3, as GPT uses it) of len bytes. */
uint32_t partition_crc32(const void *buf, size_t len);

#endif
