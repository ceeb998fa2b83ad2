/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "common/fileio.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "disk/changes.h"

/* An area as written, with its index in the file for messages. */
struct area {
        uint64_t start;
        uint64_t length;
        size_t index;
};

static int area_compare(const void *a, const void *b)
{
        const struct area *x = a, *y = b;

        if (x->start != y->start)
                return x->start < y->start ? -1 : 1;
        return x->length < y->length ? -1 : x->length > y->length;
}

static int area_parse(const json_t *v, size_t index, struct area *ret, struct ferry_error *err)
{
        static const char *const fields[] = { "start", "length", NULL };
        int64_t start, length;
        int r;

        if (!json_is_object(v))
                return ferry_error_set(err, -EINVAL, "Area %zu is not an object with 'start' and 'length'", index);
        r = json_check_known_fields(v, fields, NULL, err);
        if (r >= 0)
                r = json_get_int(v, "start", true, 0, INT64_MAX, &start, err);
        if (r >= 0)
                r = json_get_int(v, "length", true, 1, INT64_MAX, &length, err);
        if (r < 0)
                return ferry_error_prefix(err, "Area %zu", index);
        /* Both below 2^63: the end fits in 64 bits. */

        *ret = (struct area) { (uint64_t) start, (uint64_t) length, index };
        return 0;
}

int disk_changes_parse(const char *text, size_t len, struct disk_ranges *ret, struct ferry_error *err)
{
        static const char *const fields[] = { "change_id", "since", "areas", "allocated", NULL };
        _cleanup_disk_ranges_ struct disk_ranges set = DISK_RANGES_INIT;
        _cleanup_json_ json_t *root = NULL;
        _cleanup_free_ struct area *areas = NULL;
        json_t *list = NULL;
        size_t n;
        int r;

        r = json_parse_strict(text, len, &root, err);
        if (r < 0)
                return r;

        if (json_is_object(root)) {
                r = json_check_known_fields(root, fields, "a change list", err);
                if (r < 0)
                        return r;
                r = json_get_array(root, "areas", true, &list, err);
                if (r < 0)
                        return r;
        } else
                list = root;

        n = json_array_size(list);
        if (n > 0) {
                areas = calloc(n, sizeof(*areas));
                if (!areas)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        for (size_t i = 0; i < n; i++) {
                r = area_parse(json_array_get(list, i), i, &areas[i], err);
                if (r < 0)
                        return r;
        }

        if (n > 0)
                qsort(areas, n, sizeof(*areas), area_compare);
        for (size_t i = 0; i < n; i++) {
                if (i > 0 && areas[i].start < areas[i - 1].start + areas[i - 1].length) {
                        const struct area *a = &areas[i - 1], *b = &areas[i];
                        const struct area *first = a->index < b->index ? a : b, *second = a->index < b->index ? b : a;

                        return ferry_error_set(err, -EINVAL,
                                               "Area %zu overlaps area %zu ([%" PRIu64 ", %" PRIu64 ") and [%" PRIu64
                                               ", %" PRIu64 "))",
                                               second->index, first->index, first->start,
                                               first->start + first->length, second->start,
                                               second->start + second->length);
                }
                r = disk_ranges_add(&set, areas[i].start, areas[i].length);
                if (r < 0)
                        return ferry_error_set(err, r, "Out of memory");
        }

        disk_ranges_done(ret);
        *ret = set;
        set = (struct disk_ranges) DISK_RANGES_INIT;
        return 0;
}

int disk_changes_load(const char *path, struct disk_ranges *ret, struct ferry_error *err)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        r = fileio_read_checked(path, DISK_CHANGES_FILE_MAX, &text, &len, err);
        if (r < 0)
                return ferry_error_prefix(err, "Change list '%s'", path);
        r = disk_changes_parse(text, len, ret, err);
        if (r < 0)
                return ferry_error_prefix(err, "Change list '%s'", path);
        return 0;
}

int disk_changes_check_size(const struct disk_ranges *changes, uint64_t size, struct ferry_error *err)
{
        if (changes->n > 0 && disk_range_end(&changes->v[changes->n - 1]) > size) {
                const struct disk_range *last = &changes->v[changes->n - 1];

                return ferry_error_set(err, -ERANGE,
                                       "Area [%" PRIu64 ", %" PRIu64 ") of the change list ends beyond the end of the %" PRIu64
                                       "-byte source",
                                       last->start, disk_range_end(last), size);
        }
        return 0;
}

int disk_changes_digest(const struct disk_ranges *changes, char ret[static DISK_CHANGES_DIGEST_SIZE])
{
        _cleanup_free_ unsigned char *buf = NULL;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int md_len = 0;

        /* Each range as two little-endian 64-bit numbers. */
        buf = malloc(changes->n * 16 + 1);
        if (!buf)
                return -ENOMEM;
        for (size_t i = 0; i < changes->n; i++)
                for (unsigned k = 0; k < 8; k++) {
                        buf[16 * i + k] = (unsigned char) (changes->v[i].start >> (8 * k));
                        buf[16 * i + 8 + k] = (unsigned char) (changes->v[i].length >> (8 * k));
                }
        if (!EVP_Digest(buf, changes->n * 16, md, &md_len, EVP_sha256(), NULL) || md_len != 32)
                return -ENOMEM;
        return hex_encode(md, md_len, ret, DISK_CHANGES_DIGEST_SIZE);
}
