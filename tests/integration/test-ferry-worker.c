/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The built ferry-worker: until the copy engine exists it only describes
 * itself, and says so instead of pretending to work.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/macros.h"
#include "common/strbuf.h"
#include "proc.h"

#ifndef FERRY_WORKER_PATH
#error "FERRY_WORKER_PATH must name the ferry-worker binary under test"
#endif

static void test_version_prints_name_and_version(void **state)
{
        (void) state;
        assert_version_output(FERRY_WORKER_PATH, "ferry-worker");
}

static void test_help_says_the_commands_are_not_there_yet(void **state)
{
        _cleanup_free_ char *out = proc_run_stdout(0, (char *const[]) { FERRY_WORKER_PATH, "--help", NULL });

        (void) state;
        assert_true(startswith(out, "Usage: ferry-worker --help | --version\n"));
        assert_contains(out, "'copy' and 'agent'");
        assert_contains(out, "arrive with ferry's disk copy engine");
}

static void test_copy_is_a_usage_error_for_now(void **state)
{
        (void) state;
        assert_usage_error((char *const[]) { FERRY_WORKER_PATH, "copy", "nbd://x", "/dev/null", NULL },
                           "ferry-worker: Unknown command 'copy': this release has no commands yet\n",
                           "Usage: ferry-worker", NULL);
}

static void test_no_command_is_a_usage_error(void **state)
{
        _cleanup_free_ char *err = proc_run_stderr(2, (char *const[]) { FERRY_WORKER_PATH, NULL });

        (void) state;
        assert_true(startswith(err, "ferry-worker: A command is required, and this release has none yet\n"));
}

static void test_unknown_option_is_a_usage_error(void **state)
{
        _cleanup_free_ char *err = proc_run_stderr(2, (char *const[]) { FERRY_WORKER_PATH, "--frobnicate", NULL });

        (void) state;
        assert_contains(err, "Try 'ferry-worker --help' for more information.\n");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_version_prints_name_and_version),
                cmocka_unit_test(test_help_says_the_commands_are_not_there_yet),
                cmocka_unit_test(test_copy_is_a_usage_error_for_now),
                cmocka_unit_test(test_no_command_is_a_usage_error),
                cmocka_unit_test(test_unknown_option_is_a_usage_error),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
