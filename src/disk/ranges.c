/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "disk/ranges.h"

void disk_ranges_done(struct disk_ranges *set)
{
        free(set->v);
        *set = (struct disk_ranges) DISK_RANGES_INIT;
}

void disk_ranges_clear(struct disk_ranges *set)
{
        set->n = 0;
}

static int ranges_reserve(struct disk_ranges *set, size_t n)
{
        struct disk_range *v;
        size_t alloc;

        if (n <= set->alloc)
                return 0;
        alloc = set->alloc ? set->alloc : 8;
        while (alloc < n) {
                if (alloc > SIZE_MAX / 2 / sizeof(*v))
                        return -ENOMEM;
                alloc *= 2;
        }
        v = realloc(set->v, alloc * sizeof(*v));
        if (!v)
                return -ENOMEM;
        set->v = v;
        set->alloc = alloc;
        return 0;
}

/* Index of the first range that ends at or after offset (so that it may
 * touch or overlap a range starting there), or n. */
static size_t ranges_first_reaching(const struct disk_ranges *set, uint64_t offset)
{
        size_t lo = 0, hi = set->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (disk_range_end(&set->v[mid]) < offset)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

int disk_ranges_add(struct disk_ranges *set, uint64_t start, uint64_t length)
{
        uint64_t end;
        size_t first, last;
        int r;

        if (length == 0)
                return 0;
        if (start > UINT64_MAX - length)
                return -ERANGE;
        end = start + length;

        /* [first, last) are the ranges that overlap or touch the new one. */
        first = ranges_first_reaching(set, start);
        last = first;
        while (last < set->n && set->v[last].start <= end)
                last++;

        if (first == last) {
                r = ranges_reserve(set, set->n + 1);
                if (r < 0)
                        return r;
                memmove(set->v + first + 1, set->v + first, (set->n - first) * sizeof(*set->v));
                set->v[first] = (struct disk_range) { start, length };
                set->n++;
                return 0;
        }

        if (set->v[first].start < start)
                start = set->v[first].start;
        if (disk_range_end(&set->v[last - 1]) > end)
                end = disk_range_end(&set->v[last - 1]);
        set->v[first] = (struct disk_range) { start, end - start };
        memmove(set->v + first + 1, set->v + last, (set->n - last) * sizeof(*set->v));
        set->n -= last - first - 1;
        return 0;
}

int disk_ranges_copy(struct disk_ranges *dst, const struct disk_ranges *src)
{
        int r;

        if (dst == src)
                return 0;
        r = ranges_reserve(dst, src->n);
        if (r < 0)
                return r;
        if (src->n > 0)
                memcpy(dst->v, src->v, src->n * sizeof(*src->v));
        dst->n = src->n;
        return 0;
}

/* Append to a set being built in order (the range starts after the last one). */
static int ranges_push(struct disk_ranges *set, uint64_t start, uint64_t end)
{
        int r;

        if (end <= start)
                return 0;
        if (set->n > 0 && disk_range_end(&set->v[set->n - 1]) == start) {
                set->v[set->n - 1].length += end - start;
                return 0;
        }
        r = ranges_reserve(set, set->n + 1);
        if (r < 0)
                return r;
        set->v[set->n++] = (struct disk_range) { start, end - start };
        return 0;
}

static void ranges_swap(struct disk_ranges *a, struct disk_ranges *b)
{
        struct disk_ranges t = *a;

        *a = *b;
        *b = t;
}

int disk_ranges_subtract(const struct disk_ranges *a, const struct disk_ranges *b, struct disk_ranges *ret)
{
        _cleanup_disk_ranges_ struct disk_ranges out = DISK_RANGES_INIT;
        size_t j = 0;
        int r;

        for (size_t i = 0; i < a->n; i++) {
                uint64_t pos = a->v[i].start, end = disk_range_end(&a->v[i]);

                while (j < b->n && disk_range_end(&b->v[j]) <= pos)
                        j++;
                for (size_t k = j; k < b->n && b->v[k].start < end; k++) {
                        r = ranges_push(&out, pos, b->v[k].start);
                        if (r < 0)
                                return r;
                        if (disk_range_end(&b->v[k]) > pos)
                                pos = disk_range_end(&b->v[k]);
                        if (pos >= end)
                                break;
                }
                if (pos < end) {
                        r = ranges_push(&out, pos, end);
                        if (r < 0)
                                return r;
                }
        }
        ranges_swap(&out, ret);
        return 0;
}

int disk_ranges_intersect(const struct disk_ranges *a, const struct disk_ranges *b, struct disk_ranges *ret)
{
        _cleanup_disk_ranges_ struct disk_ranges out = DISK_RANGES_INIT;
        size_t i = 0, j = 0;
        int r;

        while (i < a->n && j < b->n) {
                uint64_t start = a->v[i].start > b->v[j].start ? a->v[i].start : b->v[j].start;
                uint64_t ea = disk_range_end(&a->v[i]), eb = disk_range_end(&b->v[j]);
                uint64_t end = ea < eb ? ea : eb;

                r = ranges_push(&out, start, end);
                if (r < 0)
                        return r;
                if (ea < eb)
                        i++;
                else
                        j++;
        }
        ranges_swap(&out, ret);
        return 0;
}

uint64_t disk_ranges_total(const struct disk_ranges *set)
{
        uint64_t total = 0;

        for (size_t i = 0; i < set->n; i++)
                total += set->v[i].length;
        return total;
}

bool disk_ranges_overlaps(const struct disk_ranges *set, uint64_t start, uint64_t length)
{
        size_t i;

        if (length == 0)
                return false;
        /* The first range ending after start is the only candidate: it
         * overlaps if it starts before start (it holds start) or within
         * length bytes after it. */
        i = ranges_first_reaching(set, start);
        while (i < set->n && disk_range_end(&set->v[i]) == start)
                i++;
        return i < set->n && (set->v[i].start <= start || set->v[i].start - start < length);
}

bool disk_ranges_covers(const struct disk_ranges *set, uint64_t start, uint64_t length)
{
        size_t i;

        if (length == 0)
                return true;
        i = ranges_first_reaching(set, start);
        while (i < set->n && disk_range_end(&set->v[i]) == start)
                i++;
        return i < set->n && set->v[i].start <= start && disk_range_end(&set->v[i]) - start >= length;
}

uint64_t disk_piece_length(uint64_t offset, uint64_t end, uint64_t grid)
{
        uint64_t to_grid = grid - offset % grid;

        if (end <= offset)
                return 0;
        return end - offset < to_grid ? end - offset : to_grid;
}

static int pieces_push(struct disk_piece **pieces, size_t *n, size_t *alloc, uint64_t start, uint64_t length,
                       bool zero)
{
        if (*n == *alloc) {
                size_t na = *alloc ? *alloc * 2 : 64;
                struct disk_piece *p;

                if (na > SIZE_MAX / sizeof(*p))
                        return -ENOMEM;
                p = realloc(*pieces, na * sizeof(*p));
                if (!p)
                        return -ENOMEM;
                *pieces = p;
                *alloc = na;
        }
        (*pieces)[(*n)++] = (struct disk_piece) { start, length, zero };
        return 0;
}

static int pieces_push_data(struct disk_piece **pieces, size_t *n, size_t *alloc, uint64_t start, uint64_t end,
                            uint64_t max_length)
{
        while (start < end) {
                uint64_t len = disk_piece_length(start, end, max_length);
                int r = pieces_push(pieces, n, alloc, start, len, false);

                if (r < 0)
                        return r;
                start += len;
        }
        return 0;
}

int disk_pieces_append(const struct disk_ranges *work, const struct disk_ranges *zero, uint64_t max_length,
                       struct disk_piece **pieces, size_t *n_pieces, size_t *alloc)
{
        size_t j = 0;
        int r;

        for (size_t i = 0; i < work->n; i++) {
                uint64_t pos = work->v[i].start, end = disk_range_end(&work->v[i]);

                while (j < zero->n && disk_range_end(&zero->v[j]) <= pos)
                        j++;
                for (size_t k = j; k < zero->n && zero->v[k].start < end && pos < end; k++) {
                        uint64_t zs = zero->v[k].start > pos ? zero->v[k].start : pos;
                        uint64_t ze = disk_range_end(&zero->v[k]) < end ? disk_range_end(&zero->v[k]) : end;

                        r = pieces_push_data(pieces, n_pieces, alloc, pos, zs, max_length);
                        if (r < 0)
                                return r;
                        r = pieces_push(pieces, n_pieces, alloc, zs, ze - zs, true);
                        if (r < 0)
                                return r;
                        pos = ze;
                }
                r = pieces_push_data(pieces, n_pieces, alloc, pos, end, max_length);
                if (r < 0)
                        return r;
        }
        return 0;
}
