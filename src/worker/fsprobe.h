/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a partition holds, by the magic numbers of its superblock: the
 * file systems a Linux root may be on (ext2/3/4, XFS, Btrfs), the EFI
 * system partition's FAT, swap, and the containers ferry cannot open yet
 * (LVM2 physical volumes, LUKS), so that "no root found" can say why.
 */
#ifndef FERRY_WORKER_FSPROBE_H
#define FERRY_WORKER_FSPROBE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "worker/partitions.h"

enum fs_type {
        FS_UNKNOWN,
        FS_EXT2,
        FS_EXT3,
        FS_EXT4,
        FS_XFS,
        FS_BTRFS,
        FS_VFAT,
        FS_SWAP,
        FS_LVM2_PV,
        FS_LUKS,
        _FS_TYPE_MAX,
        _FS_TYPE_INVALID = -EINVAL,
};

/* "unknown", "ext2", "ext3", "ext4", "xfs", "btrfs", "vfat", "swap",
 * "LVM2_member", "crypto_LUKS" (blkid's names); the mount type for
 * the file systems. */
const char *fs_type_to_string(enum fs_type t);

/* A file system the kernel can mount that may hold a Linux root. */
bool fs_type_may_be_root(enum fs_type t);

/* Why a partition of this type cannot be looked into, or NULL:
 * "LVM is not supported yet", "LUKS encryption is not supported yet". */
const char *fs_type_unsupported_reason(enum fs_type t);

/*
 * The type of the length bytes at offset of the disk rd describes;
 * FS_UNKNOWN when no magic matches (also for areas too small to hold
 * one).  Negative only for read errors.
 */
int fs_probe(const struct partition_reader *rd, uint64_t offset, uint64_t length, enum fs_type *ret);

#endif
