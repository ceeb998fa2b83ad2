/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The built ferry-worker's command line: help, version and usage errors.
 * What copy does is tested in test-disk-copy.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/macros.h"
#include "common/strbuf.h"
#include "proc.h"

#ifndef FERRY_WORKER_PATH
#error "FERRY_WORKER_PATH must name the ferry-worker binary under test"
#endif

#define W FERRY_WORKER_PATH

static void test_version_prints_name_and_version(void **state)
{
        (void) state;
        assert_version_output(W, "ferry-worker");
}

static void test_help_names_the_copy_command_with_an_example(void **state)
{
        _cleanup_free_ char *out = proc_run_stdout(0, (char *const[]) { W, "--help", NULL });

        (void) state;
        assert_true(startswith(out, "Usage: ferry-worker COMMAND [OPTIONS] [ARGS]\n"));
        assert_contains(out, "  copy SRC DST ");
        assert_contains(out, "ferry-worker copy --verify 'nbd+unix:///?socket=");
        assert_contains(out, "  agent          Run as ferry's worker inside a migrating VM");
}

static void test_copy_help_teaches_sources_sinks_options_and_examples(void **state)
{
        _cleanup_free_ char *out = proc_run_stdout(0, (char *const[]) { W, "copy", "--help", NULL });

        (void) state;
        assert_true(startswith(out, "Usage: ferry-worker copy [OPTIONS] SRC DST\n"));
        assert_contains(out, "nbd+unix:///EXPORT?socket=PATH");
        assert_contains(out, "[ qemu-nbd --read-only -f vmdk disk.vmdk ]");
        assert_contains(out, "'-'\nfor standard output");
        assert_contains(out, "--changes FILE");
        assert_contains(out, "--checkpoint FILE");
        assert_contains(out, "--verify");
        assert_contains(out, "--connections N");
        assert_contains(out, "--requests N");
        assert_contains(out, "--chunk-size SIZE");
        assert_contains(out, "--direct");
        assert_contains(out, "--quiet");
        assert_contains(out, "(64 MiB with the defaults)");
        assert_contains(out, "Examples:\n");
        assert_contains(out, "ferry-worker copy --checkpoint disk0.ckpt nbd://proxy.example/disk0 disk0.img");
        assert_contains(out, "Exit status: 0 on success, 1 on failure");
}

static void test_no_command_is_a_usage_error(void **state)
{
        _cleanup_free_ char *err = proc_run_stderr(2, (char *const[]) { W, NULL });

        (void) state;
        assert_true(startswith(err, "ferry-worker: A command is required\n\nUsage: ferry-worker"));
}

static void test_an_unknown_command_is_a_usage_error(void **state)
{
        (void) state;
        assert_usage_error((char *const[]) { W, "sync", NULL }, "ferry-worker: Unknown command 'sync'\n",
                           "Usage: ferry-worker", NULL);
}

static void test_agent_help_names_each_setting_with_its_variable_and_incus_key(void **state)
{
        _cleanup_free_ char *out = proc_run_stdout(0, (char *const[]) { W, "agent", "--help", NULL });

        (void) state;
        assert_true(startswith(out, "Usage: ferry-worker agent [OPTIONS]\n"));
        assert_contains(out, "--endpoint      FERRY_WORKER_ENDPOINT     user.ferry.endpoint");
        assert_contains(out, "--fingerprint   FERRY_WORKER_FINGERPRINT  user.ferry.fingerprint");
        assert_contains(out, "--token         FERRY_WORKER_TOKEN        user.ferry.token");
        assert_contains(out, "--uuid          FERRY_WORKER_UUID         user.ferry.uuid");
        assert_contains(out, "--state-dir DIR");
        assert_contains(out, "--exit-when-idle");
}

static void test_agent_usage_errors_name_the_option(void **state)
{
        (void) state;
        assert_usage_error((char *const[]) { W, "agent", "--poll-interval", "often", NULL },
                           "ferry-worker agent: --poll-interval must be a duration such as '500ms', '10s' or '1m', "
                           "not 'often'\n",
                           "Try 'ferry-worker agent --help'", NULL);
        assert_usage_error((char *const[]) { W, "agent", "--frobnicate", NULL },
                           "ferry-worker agent: Unknown option '--frobnicate'\n", NULL);
        assert_usage_error((char *const[]) { W, "agent", "extra", NULL },
                           "ferry-worker agent: Unexpected argument 'extra'\n", NULL);
}

/* Outside an Incus VM (no /dev/incus/sock) whatever is not given is an error that says where it comes from. */
static void test_agent_without_configuration_says_how_to_give_it(void **state)
{
        _cleanup_free_ char *err = NULL, *bad = NULL;

        (void) state;
        assert_int_equal(access("/dev/incus/sock", F_OK), -1);
        err = proc_run_stderr(1, (char *const[]) { W, "agent", "--endpoint", "https://127.0.0.1:1", NULL });
        assert_string_equal(err, "ferry-worker: error: No fingerprint: pass --fingerprint, set FERRY_WORKER_FINGERPRINT, "
                                 "or run inside an Incus VM with the config key user.ferry.fingerprint (devIncus "
                                 "socket '/dev/incus/sock': No such file or directory)\n");
        bad = proc_run_stderr(1, (char *const[]) { W, "agent", "--endpoint", "http://127.0.0.1:1", "--fingerprint",
                                                   "ab", "--token", "t", "--uuid", "u", NULL });
        assert_string_equal(bad, "ferry-worker: error: The ferryd endpoint 'http://127.0.0.1:1' must start with https://\n");
}

static void test_unknown_option_is_a_usage_error(void **state)
{
        _cleanup_free_ char *err = proc_run_stderr(2, (char *const[]) { W, "--frobnicate", NULL });

        (void) state;
        assert_contains(err, "Try 'ferry-worker --help' for more information.\n");
}

static void test_copy_without_arguments_is_a_usage_error(void **state)
{
        (void) state;
        assert_usage_error((char *const[]) { W, "copy", NULL }, "ferry-worker copy: Missing SRC and DST\n",
                           "Try 'ferry-worker copy --help' for more information.\n", NULL);
        assert_usage_error((char *const[]) { W, "copy", "nbd://host/disk", NULL }, "ferry-worker copy: Missing DST\n",
                           NULL);
        assert_usage_error((char *const[]) { W, "copy", "nbd://host/disk", "a.img", "b.img", NULL },
                           "ferry-worker copy: Unexpected argument 'b.img'\n", NULL);
}

static void test_copy_option_values_are_checked(void **state)
{
        (void) state;
        assert_usage_error((char *const[]) { W, "copy", "--connections", "0", "nbd://h/d", "x", NULL },
                           "ferry-worker copy: --connections must be a number from 1 to 16, not '0'\n", NULL);
        assert_usage_error((char *const[]) { W, "copy", "-r", "65", "nbd://h/d", "x", NULL },
                           "ferry-worker copy: --requests must be a number from 1 to 64, not '65'\n", NULL);
        assert_usage_error((char *const[]) { W, "copy", "--chunk-size", "1000", "nbd://h/d", "x", NULL },
                           "ferry-worker copy: --chunk-size must be a multiple of 4K from 4K to 32M, such as '256K' "
                           "or '4M', not '1000'\n",
                           NULL);
        assert_usage_error((char *const[]) { W, "copy", "--chunk-size", "64M", "nbd://h/d", "x", NULL },
                           "ferry-worker copy: --chunk-size must be", NULL);
        assert_usage_error((char *const[]) { W, "copy", "--checkpoint-interval", "soon", "nbd://h/d", "x", NULL },
                           "ferry-worker copy: --checkpoint-interval must be a duration such as '500ms', '10s' or "
                           "'1m', not 'soon'\n",
                           NULL);
        assert_usage_error((char *const[]) { W, "copy", "--log-level", "loud", "nbd://h/d", "x", NULL },
                           "ferry-worker copy: Unknown log level 'loud' (error, warning, info, debug)\n", NULL);
        assert_usage_error((char *const[]) { W, "copy", "nbd://h/d", "x", "--checkpoint", NULL },
                           "ferry-worker copy: Option '--checkpoint' needs a value\n", NULL);
        assert_usage_error((char *const[]) { W, "copy", "--fast", "nbd://h/d", "x", NULL },
                           "ferry-worker copy: Unknown option '--fast'\n", NULL);
}

static void test_a_source_command_needs_its_brackets_closed_and_filled(void **state)
{
        (void) state;
        assert_usage_error((char *const[]) { W, "copy", "[", "qemu-nbd", "disk.vmdk", "out.img", NULL },
                           "ferry-worker copy: The source command after '[' has no closing ']'\n", NULL);
        assert_usage_error((char *const[]) { W, "copy", "[", "]", "out.img", NULL },
                           "ferry-worker copy: The source command between '[' and ']' is empty\n", NULL);
        /* The command replaces SRC. */
        assert_usage_error((char *const[]) { W, "copy", "[", "nbdkit", "null", "]", NULL },
                           "ferry-worker copy: Missing DST\n", NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_version_prints_name_and_version),
                cmocka_unit_test(test_help_names_the_copy_command_with_an_example),
                cmocka_unit_test(test_copy_help_teaches_sources_sinks_options_and_examples),
                cmocka_unit_test(test_no_command_is_a_usage_error),
                cmocka_unit_test(test_an_unknown_command_is_a_usage_error),
                cmocka_unit_test(test_unknown_option_is_a_usage_error),
                cmocka_unit_test(test_agent_help_names_each_setting_with_its_variable_and_incus_key),
                cmocka_unit_test(test_agent_usage_errors_name_the_option),
                cmocka_unit_test(test_agent_without_configuration_says_how_to_give_it),
                cmocka_unit_test(test_copy_without_arguments_is_a_usage_error),
                cmocka_unit_test(test_copy_option_values_are_checked),
                cmocka_unit_test(test_a_source_command_needs_its_brackets_closed_and_filled),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
