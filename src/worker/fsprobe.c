/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/macros.h"
#include "worker/fsprobe.h"

/* Everything the magics below look at: Btrfs's is the farthest, at 64 KiB + 0x40. */
#define PROBE_BYTES (0x10040 + 8)

#define EXT_SUPER 1024
#define EXT_COMPAT_HAS_JOURNAL 0x4u
#define EXT_INCOMPAT_EXT4 (0x40u /* extents */ | 0x80u /* 64bit */ | 0x200u /* flex_bg */ | 0x10000u /* inline data */)
#define EXT_RO_COMPAT_EXT4 (0x8u /* huge_file */ | 0x10u /* gdt_csum */ | 0x20u /* dir_nlink */ | \
                            0x40u /* extra_isize */ | 0x400u /* metadata_csum */)

static const char *const fs_type_table[_FS_TYPE_MAX] = {
        [FS_UNKNOWN] = "unknown", [FS_EXT2] = "ext2",   [FS_EXT3] = "ext3", [FS_EXT4] = "ext4",
        [FS_XFS] = "xfs",         [FS_BTRFS] = "btrfs", [FS_VFAT] = "vfat", [FS_SWAP] = "swap",
        [FS_LVM2_PV] = "LVM2_member", [FS_LUKS] = "crypto_LUKS",
};

const char *fs_type_to_string(enum fs_type t)
{
        return (int) t >= 0 && t < _FS_TYPE_MAX ? fs_type_table[t] : NULL;
}

bool fs_type_may_be_root(enum fs_type t)
{
        return t == FS_EXT2 || t == FS_EXT3 || t == FS_EXT4 || t == FS_XFS || t == FS_BTRFS;
}

const char *fs_type_unsupported_reason(enum fs_type t)
{
        switch (t) {
        case FS_LVM2_PV:
                return "LVM is not supported yet";
        case FS_LUKS:
                return "LUKS encryption is not supported yet";
        default:
                return NULL;
        }
}

static uint32_t le32_at(const uint8_t *p)
{
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

/* Does buf (len bytes) have the magic at offset? */
static bool magic_at(const uint8_t *buf, size_t len, size_t offset, const void *magic, size_t magic_len)
{
        return offset <= len && magic_len <= len - offset && memcmp(buf + offset, magic, magic_len) == 0;
}

static enum fs_type probe_ext(const uint8_t *b, size_t len)
{
        uint32_t compat, incompat, ro_compat;

        if (!magic_at(b, len, EXT_SUPER + 56, "\x53\xef", 2) || len < EXT_SUPER + 0x68)
                return FS_UNKNOWN;
        compat = le32_at(b + EXT_SUPER + 0x5c);
        incompat = le32_at(b + EXT_SUPER + 0x60);
        ro_compat = le32_at(b + EXT_SUPER + 0x64);
        if ((incompat & EXT_INCOMPAT_EXT4) || (ro_compat & EXT_RO_COMPAT_EXT4))
                return FS_EXT4;
        return compat & EXT_COMPAT_HAS_JOURNAL ? FS_EXT3 : FS_EXT2;
}

static bool probe_vfat(const uint8_t *b, size_t len)
{
        unsigned bytes_per_sector;

        if (len < 512 || b[510] != 0x55 || b[511] != 0xaa)
                return false;
        bytes_per_sector = (unsigned) (b[11] | b[12] << 8);
        if (bytes_per_sector != 512 && bytes_per_sector != 1024 && bytes_per_sector != 2048 && bytes_per_sector != 4096)
                return false;
        return magic_at(b, len, 54, "FAT1", 4) || magic_at(b, len, 82, "FAT32", 5) || magic_at(b, len, 54, "FAT ", 4);
}

static enum fs_type probe_buffer(const uint8_t *b, size_t len)
{
        enum fs_type t;

        if (magic_at(b, len, 0, "LUKS\xba\xbe", 6))
                return FS_LUKS;
        for (size_t sector = 0; sector < 4; sector++)
                if (magic_at(b, len, sector * 512, "LABELONE", 8) && magic_at(b, len, sector * 512 + 24, "LVM2 001", 8))
                        return FS_LVM2_PV;
        if (magic_at(b, len, 0, "XFSB", 4))
                return FS_XFS;
        if (magic_at(b, len, 0x10040, "_BHRfS_M", 8))
                return FS_BTRFS;
        t = probe_ext(b, len);
        if (t != FS_UNKNOWN)
                return t;
        if (magic_at(b, len, 4086, "SWAPSPACE2", 10) || magic_at(b, len, 4086, "SWAP-SPACE", 10))
                return FS_SWAP;
        if (probe_vfat(b, len))
                return FS_VFAT;
        return FS_UNKNOWN;
}

int fs_probe(const struct partition_reader *rd, uint64_t offset, uint64_t length, enum fs_type *ret)
{
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        int r;

        if (offset > rd->size || length > rd->size - offset) {
                *ret = FS_UNKNOWN;
                return 0;
        }
        len = length < PROBE_BYTES ? (size_t) length : PROBE_BYTES;
        buf = malloc(len ?: 1);
        if (!buf)
                return -ENOMEM;
        if (len > 0) {
                r = rd->read(rd->userdata, buf, len, offset);
                if (r < 0)
                        return r;
        }
        *ret = probe_buffer(buf, len);
        return 0;
}
