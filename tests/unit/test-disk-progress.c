/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/macros.h"
#include "disk/progress.h"

#define SEC UINT64_C(1000000)

static void test_rate_is_unknown_until_time_passes(_unused_ void **state)
{
        struct disk_rate m;

        disk_rate_init(&m, 5 * SEC);
        assert_true(disk_rate_get(&m) == 0);
        disk_rate_add(&m, 10 * SEC, 0);
        assert_true(disk_rate_get(&m) == 0);
        disk_rate_add(&m, 10 * SEC, 100);
        assert_true(disk_rate_get(&m) == 0);
}

static void test_rate_is_bytes_per_second_between_samples(_unused_ void **state)
{
        struct disk_rate m;

        disk_rate_init(&m, 5 * SEC);
        disk_rate_add(&m, 0, 0);
        disk_rate_add(&m, SEC / 2, 50);
        disk_rate_add(&m, 2 * SEC, 1000);
        assert_float_equal(disk_rate_get(&m), 500.0, 1e-9);
}

static void test_rate_follows_the_last_window_only(_unused_ void **state)
{
        struct disk_rate m;
        uint64_t bytes = 0;

        disk_rate_init(&m, 5 * SEC);
        /* 10 s at 1000 B/s, then 10 s at 100 B/s, sampled every 250 ms. */
        for (uint64_t t = 0; t <= 20 * SEC; t += SEC / 4) {
                disk_rate_add(&m, t, bytes);
                bytes += t < 10 * SEC ? 250 : 25;
        }
        assert_float_equal(disk_rate_get(&m), 100.0, 1e-9);
}

static void test_rate_survives_more_samples_than_it_keeps(_unused_ void **state)
{
        struct disk_rate m;

        disk_rate_init(&m, 1000 * SEC);
        for (uint64_t i = 0; i < 10 * DISK_RATE_SAMPLES; i++)
                disk_rate_add(&m, i * SEC, i * 7);
        assert_float_equal(disk_rate_get(&m), 7.0, 1e-9);
}

static void test_eta_divides_what_remains_by_the_rate(_unused_ void **state)
{
        assert_float_equal(disk_eta(1000, 100.0), 10.0, 1e-9);
        assert_float_equal(disk_eta(0, 0), 0.0, 1e-9);
        assert_float_equal(disk_eta(1000, 0), -1.0, 1e-9);
}

static void test_phases_have_names(_unused_ void **state)
{
        assert_string_equal(disk_phase_to_string(DISK_PHASE_COPY), "copy");
        assert_string_equal(disk_phase_to_string(DISK_PHASE_VERIFY), "verify");
        assert_null(disk_phase_to_string(_DISK_PHASE_MAX));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rate_is_unknown_until_time_passes),
                cmocka_unit_test(test_rate_is_bytes_per_second_between_samples),
                cmocka_unit_test(test_rate_follows_the_last_window_only),
                cmocka_unit_test(test_rate_survives_more_samples_than_it_keeps),
                cmocka_unit_test(test_eta_divides_what_remains_by_the_rate),
                cmocka_unit_test(test_phases_have_names),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
