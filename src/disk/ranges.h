/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Byte ranges of a disk: a sorted set of disjoint [start, start + length)
 * intervals, and the arithmetic the copy engine does on them (what is left
 * to copy, which parts of it read as zeros, how to cut it into requests).
 *
 *     struct disk_ranges todo = DISK_RANGES_INIT;
 *
 *     r = disk_ranges_add(&todo, 0, size);
 *     ...
 *     r = disk_ranges_subtract(&todo, &checkpoint_done, &left);
 *     disk_ranges_done(&todo);
 *
 * A set is always normalised: sorted by start, no empty ranges, and no two
 * ranges that overlap or touch (touching ranges are merged).  Every range
 * ends at or below UINT64_MAX.
 */
#ifndef FERRY_DISK_RANGES_H
#define FERRY_DISK_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macros.h"

struct disk_range {
        uint64_t start;
        uint64_t length;
};

struct disk_ranges {
        struct disk_range *v;   /* n ranges, normalised as described above */
        size_t n;
        size_t alloc;
};

#define DISK_RANGES_INIT { .v = NULL, .n = 0, .alloc = 0 }

static inline uint64_t disk_range_end(const struct disk_range *r)
{
        return r->start + r->length;
}

/* Free the ranges; the set may be reused afterwards. */
void disk_ranges_done(struct disk_ranges *set);
#define _cleanup_disk_ranges_ _cleanup_(disk_ranges_done)

/* Remove all ranges but keep the allocation. */
void disk_ranges_clear(struct disk_ranges *set);

/*
 * Add [start, start + length), merging it with what it overlaps or
 * touches.  An empty range changes nothing.  -ERANGE if the range would
 * end beyond UINT64_MAX, -ENOMEM; the set is unchanged on failure.
 */
int disk_ranges_add(struct disk_ranges *set, uint64_t start, uint64_t length);

/* Replace dst by a copy of src.  -ENOMEM leaves dst unchanged. */
int disk_ranges_copy(struct disk_ranges *dst, const struct disk_ranges *src);

/* ret = a - b and ret = a ∩ b.  ret must be another set; its old
 * contents are replaced.  -ENOMEM leaves ret unchanged. */
int disk_ranges_subtract(const struct disk_ranges *a, const struct disk_ranges *b, struct disk_ranges *ret);
int disk_ranges_intersect(const struct disk_ranges *a, const struct disk_ranges *b, struct disk_ranges *ret);

/* Sum of the lengths. */
uint64_t disk_ranges_total(const struct disk_ranges *set);

/* Whether any byte of [start, start + length) is in the set. */
bool disk_ranges_overlaps(const struct disk_ranges *set, uint64_t start, uint64_t length);

/* Whether every byte of [start, start + length) is in the set (true for
 * an empty range). */
bool disk_ranges_covers(const struct disk_ranges *set, uint64_t start, uint64_t length);

/*
 * The length of the request that starts at offset and reads no further
 * than end: at most end - offset, and never across a multiple of grid
 * (a power of two or not, > 0), so that requests over allocated data are
 * aligned to the grid except at the edges of what is copied.
 */
uint64_t disk_piece_length(uint64_t offset, uint64_t end, uint64_t grid);

/*
 * A part of the work, in offset order: either data to read, or a range
 * the source says reads as zeros.
 */
struct disk_piece {
        uint64_t start;
        uint64_t length;
        bool zero;
};

/*
 * Cut the ranges of work into pieces: each stretch inside zero becomes
 * one zero piece, the rest becomes data pieces, each at most max_length
 * long and never across a multiple of max_length.  Appends to *pieces (n_pieces entries,
 * alloc allocated; realloc'ed as needed).  -ENOMEM on failure, with the
 * pieces appended so far left in place.
 */
int disk_pieces_append(const struct disk_ranges *work, const struct disk_ranges *zero, uint64_t max_length,
                       struct disk_piece **pieces, size_t *n_pieces, size_t *alloc);

#endif
