/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/macros.h"
#include "disk/ranges.h"

/* Build a set from start/length pairs. */
static void set_of(struct disk_ranges *set, size_t n, const uint64_t pairs[])
{
        disk_ranges_clear(set);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(disk_ranges_add(set, pairs[2 * i], pairs[2 * i + 1]), 0);
}

#define SET_OF(set, ...)                                                           \
        do {                                                                       \
                const uint64_t _p_[] = { __VA_ARGS__ };                           \
                set_of(set, ELEMENTSOF(_p_) / 2, _p_);                            \
        } while (0)

static void assert_set(const struct disk_ranges *set, size_t n, const uint64_t pairs[])
{
        if (set->n != n) {
                for (size_t i = 0; i < set->n; i++)
                        print_message("[%zu] %lu+%lu\n", i, (unsigned long) set->v[i].start,
                                      (unsigned long) set->v[i].length);
        }
        assert_int_equal(set->n, n);
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(set->v[i].start, pairs[2 * i]);
                assert_int_equal(set->v[i].length, pairs[2 * i + 1]);
        }
}

#define ASSERT_SET(set, ...)                                                       \
        do {                                                                       \
                const uint64_t _p_[] = { __VA_ARGS__ };                           \
                assert_set(set, ELEMENTSOF(_p_) / 2, _p_);                        \
        } while (0)

static void test_add_keeps_ranges_sorted(_unused_ void **state)
{
        _cleanup_disk_ranges_ struct disk_ranges s = DISK_RANGES_INIT;

        SET_OF(&s, 100, 10, 0, 10, 50, 10);
        ASSERT_SET(&s, 0, 10, 50, 10, 100, 10);
}

static void test_add_merges_overlapping_and_touching_ranges(_unused_ void **state)
{
        _cleanup_disk_ranges_ struct disk_ranges s = DISK_RANGES_INIT;

        SET_OF(&s, 0, 10, 20, 10, 40, 10);
        /* Touches the first, overlaps the second. */
        assert_int_equal(disk_ranges_add(&s, 10, 15), 0);
        ASSERT_SET(&s, 0, 30, 40, 10);
        /* Swallows everything. */
        assert_int_equal(disk_ranges_add(&s, 0, 100), 0);
        ASSERT_SET(&s, 0, 100);
        /* Inside: nothing changes. */
        assert_int_equal(disk_ranges_add(&s, 5, 5), 0);
        ASSERT_SET(&s, 0, 100);
}

static void test_add_of_an_empty_range_changes_nothing(_unused_ void **state)
{
        _cleanup_disk_ranges_ struct disk_ranges s = DISK_RANGES_INIT;

        assert_int_equal(disk_ranges_add(&s, 5, 0), 0);
        assert_int_equal(s.n, 0);
}

static void test_add_refuses_a_range_beyond_2_to_the_64(_unused_ void **state)
{
        _cleanup_disk_ranges_ struct disk_ranges s = DISK_RANGES_INIT;

        assert_int_equal(disk_ranges_add(&s, UINT64_MAX - 10, 10), 0);
        assert_int_equal(disk_ranges_add(&s, UINT64_MAX - 10, 11), -ERANGE);
        ASSERT_SET(&s, UINT64_MAX - 10, 10);
}

static void test_subtract_cuts_holes_and_edges(_unused_ void **state)
{
        _cleanup_disk_ranges_ struct disk_ranges a = DISK_RANGES_INIT, b = DISK_RANGES_INIT, r = DISK_RANGES_INIT;

        SET_OF(&a, 0, 100, 200, 100);
        SET_OF(&b, 10, 10, 90, 120, 250, 10, 290, 50);
        assert_int_equal(disk_ranges_subtract(&a, &b, &r), 0);
        ASSERT_SET(&r, 0, 10, 20, 70, 210, 40, 260, 30);
}

static void test_subtract_of_everything_leaves_nothing(_unused_ void **state)
{
        _cleanup_disk_ranges_ struct disk_ranges a = DISK_RANGES_INIT, b = DISK_RANGES_INIT, r = DISK_RANGES_INIT;

        SET_OF(&a, 10, 10, 30, 10);
        SET_OF(&b, 0, 100);
        SET_OF(&r, 1, 1);
        assert_int_equal(disk_ranges_subtract(&a, &b, &r), 0);
        assert_int_equal(r.n, 0);
        /* And of nothing, everything. */
        disk_ranges_clear(&b);
        assert_int_equal(disk_ranges_subtract(&a, &b, &r), 0);
        ASSERT_SET(&r, 10, 10, 30, 10);
}

static void test_intersect_keeps_the_common_parts(_unused_ void **state)
{
        _cleanup_disk_ranges_ struct disk_ranges a = DISK_RANGES_INIT, b = DISK_RANGES_INIT, r = DISK_RANGES_INIT;

        SET_OF(&a, 0, 100, 200, 100);
        SET_OF(&b, 50, 200, 290, 20);
        assert_int_equal(disk_ranges_intersect(&a, &b, &r), 0);
        ASSERT_SET(&r, 50, 50, 200, 50, 290, 10);
}

static void test_total_sums_the_lengths(_unused_ void **state)
{
        _cleanup_disk_ranges_ struct disk_ranges s = DISK_RANGES_INIT;

        assert_int_equal(disk_ranges_total(&s), 0);
        SET_OF(&s, 0, 10, 20, 5, 1000, 1);
        assert_int_equal(disk_ranges_total(&s), 16);
}

static void test_overlaps_ignores_touching_ranges(_unused_ void **state)
{
        _cleanup_disk_ranges_ struct disk_ranges s = DISK_RANGES_INIT;

        SET_OF(&s, 10, 10, 40, 10);
        assert_false(disk_ranges_overlaps(&s, 0, 10));
        assert_false(disk_ranges_overlaps(&s, 20, 20));
        assert_false(disk_ranges_overlaps(&s, 50, 100));
        assert_true(disk_ranges_overlaps(&s, 0, 11));
        assert_true(disk_ranges_overlaps(&s, 19, 1));
        assert_true(disk_ranges_overlaps(&s, 15, 1));
        assert_true(disk_ranges_overlaps(&s, 39, 2));
        assert_true(disk_ranges_overlaps(&s, 0, 1000));
        assert_false(disk_ranges_overlaps(&s, 15, 0));
}

static void test_covers_needs_every_byte(_unused_ void **state)
{
        _cleanup_disk_ranges_ struct disk_ranges s = DISK_RANGES_INIT;

        SET_OF(&s, 10, 10, 20, 10, 40, 10);
        assert_true(disk_ranges_covers(&s, 10, 20));   /* merged across the touch */
        assert_true(disk_ranges_covers(&s, 45, 5));
        assert_false(disk_ranges_covers(&s, 25, 20));
        assert_false(disk_ranges_covers(&s, 5, 10));
        assert_false(disk_ranges_covers(&s, 45, 6));
        assert_true(disk_ranges_covers(&s, 100, 0));
}

static void test_piece_length_stops_at_the_grid_and_the_end(_unused_ void **state)
{
        assert_int_equal(disk_piece_length(0, 100, 16), 16);
        assert_int_equal(disk_piece_length(10, 100, 16), 6);
        assert_int_equal(disk_piece_length(96, 100, 16), 4);
        assert_int_equal(disk_piece_length(100, 100, 16), 0);
        assert_int_equal(disk_piece_length(7, 100, 10), 3);     /* any grid, not only powers of two */
        assert_int_equal(disk_piece_length(UINT64_MAX - 5, UINT64_MAX, 1 << 20), 5);
}

static void test_pieces_split_data_at_the_chunk_grid_and_keep_zeros_whole(_unused_ void **state)
{
        _cleanup_disk_ranges_ struct disk_ranges work = DISK_RANGES_INIT, zero = DISK_RANGES_INIT;
        _cleanup_free_ struct disk_piece *p = NULL;
        size_t n = 0, alloc = 0;
        static const struct disk_piece expected[] = {
                { 0, 16, false },  { 16, 4, false }, { 20, 50, true }, { 70, 10, false },
                { 80, 16, false }, { 96, 4, false }, { 200, 10, true },
        };

        SET_OF(&work, 0, 100, 200, 10);
        SET_OF(&zero, 20, 50, 150, 100);
        assert_int_equal(disk_pieces_append(&work, &zero, 16, &p, &n, &alloc), 0);
        assert_int_equal(n, ELEMENTSOF(expected));
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(p[i].start, expected[i].start);
                assert_int_equal(p[i].length, expected[i].length);
                assert_int_equal(p[i].zero, expected[i].zero);
        }
}

static void test_pieces_cover_the_work_exactly(_unused_ void **state)
{
        _cleanup_disk_ranges_ struct disk_ranges work = DISK_RANGES_INIT, zero = DISK_RANGES_INIT,
                                                 back = DISK_RANGES_INIT;
        _cleanup_free_ struct disk_piece *p = NULL;
        size_t n = 0, alloc = 0;
        uint64_t seed = 1;

        /* Pseudo-random sets: the pieces, put back together, are the work. */
        for (int i = 0; i < 200; i++) {
                seed = seed * 6364136223846793005u + 1442695040888963407u;
                assert_int_equal(disk_ranges_add(&work, (seed >> 20) % 100000, (seed >> 40) % 3000 + 1), 0);
                seed = seed * 6364136223846793005u + 1442695040888963407u;
                assert_int_equal(disk_ranges_add(&zero, (seed >> 20) % 100000, (seed >> 40) % 2000 + 1), 0);
        }
        assert_int_equal(disk_pieces_append(&work, &zero, 4096, &p, &n, &alloc), 0);
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        assert_true(p[i].start >= p[i - 1].start + p[i - 1].length);
                assert_true(p[i].length > 0);
                if (!p[i].zero) {
                        assert_true(p[i].length <= 4096);
                        assert_true(p[i].start / 4096 == (p[i].start + p[i].length - 1) / 4096);
                        assert_false(disk_ranges_overlaps(&zero, p[i].start, p[i].length));
                } else
                        assert_true(disk_ranges_covers(&zero, p[i].start, p[i].length));
                assert_int_equal(disk_ranges_add(&back, p[i].start, p[i].length), 0);
        }
        assert_int_equal(back.n, work.n);
        assert_memory_equal(back.v, work.v, work.n * sizeof(*work.v));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_add_keeps_ranges_sorted),
                cmocka_unit_test(test_add_merges_overlapping_and_touching_ranges),
                cmocka_unit_test(test_add_of_an_empty_range_changes_nothing),
                cmocka_unit_test(test_add_refuses_a_range_beyond_2_to_the_64),
                cmocka_unit_test(test_subtract_cuts_holes_and_edges),
                cmocka_unit_test(test_subtract_of_everything_leaves_nothing),
                cmocka_unit_test(test_intersect_keeps_the_common_parts),
                cmocka_unit_test(test_total_sums_the_lengths),
                cmocka_unit_test(test_overlaps_ignores_touching_ranges),
                cmocka_unit_test(test_covers_needs_every_byte),
                cmocka_unit_test(test_piece_length_stops_at_the_grid_and_the_end),
                cmocka_unit_test(test_pieces_split_data_at_the_chunk_grid_and_keep_zeros_whole),
                cmocka_unit_test(test_pieces_cover_the_work_exactly),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
