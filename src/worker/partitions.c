/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/strbuf.h"
#include "worker/partitions.h"

#define MBR_SECTOR 512
#define MBR_TYPE_GPT_PROTECTIVE 0xee
/* The most bytes of GPT entries read: 128 entries of 128 bytes is the usual 16 KiB. */
#define GPT_ENTRIES_MAX_BYTES ((uint64_t) 1 << 20)
#define GPT_HEADER_MIN 92

static const char *const partition_scheme_table[_PARTITION_SCHEME_MAX] = {
        [PARTITION_SCHEME_NONE] = "none",
        [PARTITION_SCHEME_MBR] = "mbr",
        [PARTITION_SCHEME_GPT] = "gpt",
};

const char *partition_scheme_to_string(enum partition_scheme s)
{
        return (int) s >= 0 && s < _PARTITION_SCHEME_MAX ? partition_scheme_table[s] : NULL;
}

int partition_read_memory(void *userdata, void *buf, size_t len, uint64_t offset)
{
        const struct partition_memory *m = userdata;

        if (offset > m->size || len > m->size - offset)
                return -EIO;
        memcpy(buf, m->data + offset, len);
        return 0;
}

int partition_read_fd(void *userdata, void *buf, size_t len, uint64_t offset)
{
        int fd = *(const int *) userdata;
        size_t done = 0;

        while (done < len) {
                ssize_t n = pread(fd, (char *) buf + done, len - done, (off_t) (offset + done));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO;
                done += (size_t) n;
        }
        return 0;
}

uint32_t partition_crc32(const void *buf, size_t len)
{
        const uint8_t *p = buf;
        uint32_t crc = 0xffffffffu;

        for (size_t i = 0; i < len; i++) {
                crc ^= p[i];
                for (int k = 0; k < 8; k++)
                        crc = (crc >> 1) ^ (0xedb88320u & (uint32_t) -(int32_t) (crc & 1));
        }
        return ~crc;
}

static uint32_t le32(const uint8_t *p)
{
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
        return (uint64_t) le32(p) | (uint64_t) le32(p + 4) << 32;
}

void partition_table_done(struct partition_table *t)
{
        if (!t)
                return;
        free(t->v);
        *t = (struct partition_table) {};
}

static int read_at(const struct partition_reader *rd, void *buf, size_t len, uint64_t offset, const char *what,
                   struct ferry_error *err)
{
        int r;

        if (offset > rd->size || len > rd->size - offset)
                return ferry_error_set(err, -EINVAL, "%s (bytes %" PRIu64 "-%" PRIu64 ") lies past the end of the disk (%" PRIu64 " bytes)",
                                       what, offset, offset + len - 1, rd->size);
        r = rd->read(rd->userdata, buf, len, offset);
        if (r < 0)
                return ferry_error_set(err, r, "Cannot read %s at offset %" PRIu64 ": %m", what, offset);
        return 0;
}

static int table_add(struct partition_table *t, unsigned number, uint64_t offset, uint64_t length, const char *type,
                     struct ferry_error *err)
{
        struct partition *v;

        if (t->n >= PARTITION_MAX)
                return ferry_error_set(err, -EINVAL, "The table has more than %d partitions", PARTITION_MAX);
        v = realloc(t->v, (t->n + 1) * sizeof(*v));
        if (!v)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        t->v = v;
        v[t->n] = (struct partition) { .number = number, .offset = offset, .length = length };
        snprintf(v[t->n].type, sizeof(v[t->n].type), "%s", type);
        t->n++;
        return 0;
}

static int check_overlaps(const struct partition_table *t, const char *scheme, struct ferry_error *err)
{
        for (size_t i = 0; i < t->n; i++)
                for (size_t j = i + 1; j < t->n; j++) {
                        const struct partition *a = &t->v[i], *b = &t->v[j];

                        if (a->offset < b->offset + b->length && b->offset < a->offset + a->length)
                                return ferry_error_set(err, -EINVAL, "%s partitions %u and %u overlap", scheme,
                                                       a->number, b->number);
                }
        return 0;
}

/* ---- MBR --------------------------------------------------------------- */

struct mbr_entry {
        uint8_t status, type;
        uint32_t lba, sectors;
};

static void mbr_entries(const uint8_t *sector, struct mbr_entry e[4])
{
        for (int i = 0; i < 4; i++) {
                const uint8_t *p = sector + 446 + 16 * i;

                e[i] = (struct mbr_entry) { .status = p[0], .type = p[4], .lba = le32(p + 8),
                                            .sectors = le32(p + 12) };
        }
}

static bool mbr_signed(const uint8_t *sector)
{
        return sector[510] == 0x55 && sector[511] == 0xaa;
}

static bool mbr_type_extended(uint8_t type)
{
        return type == 0x05 || type == 0x0f || type == 0x85;
}

static int mbr_add(struct partition_table *t, unsigned number, uint64_t lba, uint64_t sectors, uint8_t type,
                   uint64_t area_start, uint64_t area_end, const char *area, struct ferry_error *err)
{
        char type_text[8];

        if (lba < area_start || lba > area_end || sectors > area_end - lba)
                return ferry_error_set(err, -EINVAL,
                                       "MBR partition %u (sectors %" PRIu64 "-%" PRIu64 ") lies outside %s (sectors %" PRIu64
                                       "-%" PRIu64 ")",
                                       number, lba, lba + sectors - 1, area, area_start, area_end - 1);
        snprintf(type_text, sizeof(type_text), "0x%02x", type);
        return table_add(t, number, lba * MBR_SECTOR, sectors * MBR_SECTOR, type_text, err);
}

/* The logical partitions: a chain of extended boot records, each giving one
 * partition (relative to itself) and the next record (relative to the
 * extended partition's start). */
static int mbr_read_logical(const struct partition_reader *rd, uint64_t ext_start, uint64_t ext_sectors,
                            struct partition_table *t, struct ferry_error *err)
{
        uint64_t ebr = ext_start, ext_end = ext_start + ext_sectors;
        unsigned number = 5;

        for (unsigned hops = 0;; hops++) {
                uint8_t sector[MBR_SECTOR];
                struct mbr_entry e[4];
                int r;

                if (hops >= PARTITION_MAX)
                        return ferry_error_set(err, -EINVAL,
                                               "The extended partition's chain of logical partitions loops or is longer "
                                               "than %d",
                                               PARTITION_MAX);
                r = read_at(rd, sector, sizeof(sector), ebr * MBR_SECTOR, "an extended boot record", err);
                if (r < 0)
                        return r;
                if (!mbr_signed(sector))
                        return ferry_error_set(err, -EINVAL, "The extended boot record at sector %" PRIu64
                                                             " has no 0x55AA signature", ebr);
                mbr_entries(sector, e);
                if (e[0].type != 0 && e[0].sectors > 0) {
                        if (ebr > UINT64_MAX - e[0].lba)
                                return ferry_error_set(err, -EINVAL, "MBR partition %u starts past any disk", number);
                        r = mbr_add(t, number, ebr + e[0].lba, e[0].sectors, e[0].type, ext_start, ext_end,
                                    "the extended partition", err);
                        if (r < 0)
                                return r;
                        number++;
                }
                if (!mbr_type_extended(e[1].type) || e[1].lba == 0)
                        return 0;
                if (e[1].lba >= ext_sectors)
                        return ferry_error_set(err, -EINVAL,
                                               "The extended boot record at sector %" PRIu64
                                               " links to sector %" PRIu64 ", outside the extended partition",
                                               ebr, ext_start + e[1].lba);
                if (ext_start + e[1].lba == ebr)
                        return ferry_error_set(err, -EINVAL,
                                               "The extended partition's chain of logical partitions loops");
                ebr = ext_start + e[1].lba;
        }
}

static int mbr_read(const struct partition_reader *rd, const uint8_t *sector, struct partition_table *t,
                    struct ferry_error *err)
{
        uint64_t disk_sectors = rd->size / MBR_SECTOR;
        struct mbr_entry e[4];
        int extended = -1, r;

        mbr_entries(sector, e);
        t->scheme = PARTITION_SCHEME_MBR;
        t->sector_size = MBR_SECTOR;
        for (int i = 0; i < 4; i++) {
                if (e[i].type == 0 || e[i].sectors == 0)
                        continue;
                if (mbr_type_extended(e[i].type)) {
                        if (extended >= 0)
                                return ferry_error_set(err, -EINVAL, "MBR partitions %d and %d are both extended",
                                                       extended + 1, i + 1);
                        extended = i;
                        if (e[i].lba == 0 || e[i].sectors > disk_sectors || e[i].lba > disk_sectors - e[i].sectors)
                                return ferry_error_set(err, -EINVAL,
                                                       "MBR partition %d (sectors %" PRIu32 "-%" PRIu64
                                                       ") lies outside the disk (%" PRIu64 " sectors)",
                                                       i + 1, e[i].lba, (uint64_t) e[i].lba + e[i].sectors - 1,
                                                       disk_sectors);
                        continue;
                }
                r = mbr_add(t, (unsigned) i + 1, e[i].lba, e[i].sectors, e[i].type, 1, disk_sectors, "the disk", err);
                if (r < 0)
                        return r;
        }
        if (extended >= 0) {
                /* Primary partitions may not lie inside the extended one. */
                for (size_t i = 0; i < t->n; i++) {
                        uint64_t s = t->v[i].offset / MBR_SECTOR, n = t->v[i].length / MBR_SECTOR;

                        if (s < (uint64_t) e[extended].lba + e[extended].sectors && e[extended].lba < s + n)
                                return ferry_error_set(err, -EINVAL, "MBR partitions %u and %d overlap",
                                                       t->v[i].number, extended + 1);
                }
                r = mbr_read_logical(rd, e[extended].lba, e[extended].sectors, t, err);
                if (r < 0)
                        return r;
        }
        return check_overlaps(t, "MBR", err);
}

/* ---- GPT --------------------------------------------------------------- */

static void guid_format(const uint8_t *g, char out[static 37])
{
        snprintf(out, 37, "%08" PRIx32 "-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", le32(g),
                 (unsigned) (g[4] | g[5] << 8), (unsigned) (g[6] | g[7] << 8), g[8], g[9], g[10], g[11], g[12], g[13],
                 g[14], g[15]);
}

static bool all_zero(const uint8_t *p, size_t len)
{
        for (size_t i = 0; i < len; i++)
                if (p[i])
                        return false;
        return true;
}

static int gpt_read_entries(const struct partition_reader *rd, const uint8_t *h, unsigned ss, struct partition_table *t,
                            struct ferry_error *err)
{
        uint64_t disk_sectors = rd->size / ss;
        uint64_t first_usable = le64(h + 40), last_usable = le64(h + 48), entries_lba = le64(h + 72);
        uint32_t n_entries = le32(h + 80), entry_size = le32(h + 84), want_crc = le32(h + 88), crc;
        _cleanup_free_ uint8_t *entries = NULL;
        uint64_t bytes;
        int r;

        if (first_usable > last_usable || last_usable >= disk_sectors)
                return ferry_error_set(err, -EINVAL,
                                       "GPT header: the usable area (sectors %" PRIu64 "-%" PRIu64
                                       ") does not fit the disk (%" PRIu64 " sectors)",
                                       first_usable, last_usable, disk_sectors);
        if (entry_size < 128 || entry_size % 8 != 0 || entry_size > 4096)
                return ferry_error_set(err, -EINVAL, "GPT header: entries of %" PRIu32 " bytes (128, 256, ... 4096)",
                                       entry_size);
        bytes = (uint64_t) n_entries * entry_size;
        if (bytes > GPT_ENTRIES_MAX_BYTES)
                return ferry_error_set(err, -EINVAL,
                                       "GPT header: %" PRIu32 " entries of %" PRIu32 " bytes are more than %" PRIu64
                                       " bytes",
                                       n_entries, entry_size, GPT_ENTRIES_MAX_BYTES);
        if (entries_lba < 2 || entries_lba >= disk_sectors)
                return ferry_error_set(err, -EINVAL, "GPT header: the entries at sector %" PRIu64
                                                     " are outside the disk (%" PRIu64 " sectors)",
                                       entries_lba, disk_sectors);
        entries = malloc(bytes ?: 1);
        if (!entries)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = read_at(rd, entries, (size_t) bytes, entries_lba * ss, "the GPT entries", err);
        if (r < 0)
                return r;
        crc = partition_crc32(entries, (size_t) bytes);
        if (crc != want_crc)
                return ferry_error_set(err, -EINVAL,
                                       "GPT entries at LBA %" PRIu64 ": CRC32 0x%08" PRIx32
                                       " does not match the header's 0x%08" PRIx32,
                                       entries_lba, crc, want_crc);

        t->scheme = PARTITION_SCHEME_GPT;
        t->sector_size = ss;
        for (uint32_t i = 0; i < n_entries; i++) {
                const uint8_t *e = entries + (size_t) i * entry_size;
                uint64_t first = le64(e + 32), last = le64(e + 40);
                char type[37];

                if (all_zero(e, 16))
                        continue;
                if (first > last || first < first_usable || last > last_usable)
                        return ferry_error_set(err, -EINVAL,
                                               "GPT partition %" PRIu32 " (sectors %" PRIu64 "-%" PRIu64
                                               ") lies outside the usable area (%" PRIu64 "-%" PRIu64 ")",
                                               i + 1, first, last, first_usable, last_usable);
                guid_format(e, type);
                r = table_add(t, i + 1, first * ss, (last - first + 1) * ss, type, err);
                if (r < 0)
                        return r;
        }
        return check_overlaps(t, "GPT", err);
}

static int gpt_read(const struct partition_reader *rd, struct partition_table *t, struct ferry_error *err)
{
        static const unsigned sizes[] = { 512, 4096 };

        for (size_t k = 0; k < ELEMENTSOF(sizes); k++) {
                unsigned ss = sizes[k];
                _cleanup_free_ uint8_t *h = NULL;
                uint32_t header_size, want_crc, crc;
                int r;

                if (rd->size < (uint64_t) ss * 3)
                        continue;
                h = malloc(ss);
                if (!h)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                r = read_at(rd, h, ss, ss, "the GPT header", err);
                if (r < 0)
                        return r;
                if (memcmp(h, "EFI PART", 8) != 0)
                        continue;

                header_size = le32(h + 12);
                if (header_size < GPT_HEADER_MIN || header_size > ss)
                        return ferry_error_set(err, -EINVAL, "GPT header at LBA 1: size %" PRIu32 " (92-%u bytes)",
                                               header_size, ss);
                want_crc = le32(h + 16);
                memset(h + 16, 0, 4);
                crc = partition_crc32(h, header_size);
                if (crc != want_crc)
                        return ferry_error_set(err, -EINVAL,
                                               "GPT header at LBA 1: CRC32 0x%08" PRIx32 " does not match 0x%08" PRIx32,
                                               crc, want_crc);
                if (le64(h + 24) != 1)
                        return ferry_error_set(err, -EINVAL, "GPT header at LBA 1 says it is at LBA %" PRIu64,
                                               le64(h + 24));
                return gpt_read_entries(rd, h, ss, t, err);
        }
        return ferry_error_set(err, -EINVAL,
                               "The MBR is a GPT protective MBR, but there is no GPT header at LBA 1 (512- or "
                               "4096-byte sectors)");
}

/* ---- the table ---------------------------------------------------------- */

int partition_table_read(const struct partition_reader *rd, struct partition_table *ret, struct ferry_error *err)
{
        struct partition_table t = {};
        uint8_t sector[MBR_SECTOR];
        struct mbr_entry e[4];
        bool table = false, protective = false;
        int r;

        if (rd->size < MBR_SECTOR)
                return ferry_error_set(err, -EINVAL, "The disk has %" PRIu64 " bytes: too small for a partition table",
                                       rd->size);
        r = read_at(rd, sector, sizeof(sector), 0, "the MBR", err);
        if (r < 0)
                return r;

        /* A boot sector with no valid entry (a whole-disk FAT file system,
         * boot code) is no table: every status byte must be 0x00 or 0x80. */
        if (mbr_signed(sector)) {
                mbr_entries(sector, e);
                table = true;
                for (int i = 0; i < 4; i++) {
                        if (e[i].status != 0x00 && e[i].status != 0x80)
                                table = false;
                        if (e[i].type == MBR_TYPE_GPT_PROTECTIVE)
                                protective = true;
                }
                if (table && !protective && e[0].type == 0 && e[1].type == 0 && e[2].type == 0 && e[3].type == 0)
                        table = false;
        }

        if (table && protective)
                r = gpt_read(rd, &t, err);
        else if (table)
                r = mbr_read(rd, sector, &t, err);
        else {
                t.scheme = PARTITION_SCHEME_NONE;
                t.sector_size = MBR_SECTOR;
                r = table_add(&t, 0, 0, rd->size, "", err);
        }
        if (r < 0) {
                partition_table_done(&t);
                return r;
        }
        *ret = t;
        return 0;
}
