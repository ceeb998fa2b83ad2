/* SPDX-License-Identifier: Apache-2.0 */
/* src/cli/args.c: the options of ferry's commands. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/args.h"
#include "common/strbuf.h"

static const struct cli_option options[] = {
        { "format", 'f', "FORMAT", "Output format" },
        { "window", 'w', "NAME,START,END", "A window" },
        { "force", 0, NULL, "Do it" },
        { "type", 't', "TYPE", "Source type" },
        {}
};

static void parse_ok(struct cli_args *a, char **argv)
{
        struct ferry_error err = {};
        int argc = 0;

        while (argv[argc])
                argc++;
        if (cli_args_parse(options, argc, argv, a, &err) < 0)
                fail_msg("Parsing failed: %s", err.message);
}

static void assert_parse_error(char **argv, const char *message)
{
        struct ferry_error err = {};
        struct cli_args a = {};
        int argc = 0;

        while (argv[argc])
                argc++;
        assert_int_equal(cli_args_parse(options, argc, argv, &a, &err), -EINVAL);
        assert_string_equal(err.message, message);
        assert_null(a.positional);
}

static void test_options_and_arguments_mix_in_any_order(_unused_ void **state)
{
        struct cli_args a = {};

        parse_ok(&a, (char *[]) { "vc01", "--format", "json", "https://vc01/sdk", "--force", NULL });
        assert_int_equal(a.n_positional, 2);
        assert_string_equal(a.positional[0], "vc01");
        assert_string_equal(a.positional[1], "https://vc01/sdk");
        assert_null(a.positional[2]);
        assert_string_equal(cli_args_get(&a, "format"), "json");
        assert_true(cli_args_has(&a, "force"));
        assert_false(cli_args_has(&a, "type"));
        assert_null(cli_args_get(&a, "type"));
        cli_args_done(&a);
}

static void test_values_come_in_every_spelling(_unused_ void **state)
{
        struct cli_args a = {};

        parse_ok(&a, (char *[]) { "--format=csv", "-tvmware", "-w", "w1,a,b", "--window", "w2,c,d", NULL });
        assert_string_equal(cli_args_get(&a, "format"), "csv");
        assert_string_equal(cli_args_get(&a, "type"), "vmware");
        assert_int_equal(a.n_positional, 0);
        cli_args_done(&a);
}

static void test_a_repeated_option_keeps_every_value(_unused_ void **state)
{
        struct cli_args a = {};
        char *const *windows;
        size_t n;

        parse_ok(&a, (char *[]) { "-w", "w1,a,b", "--window=w2,c,d", "-f", "json", "-f", "yaml", NULL });
        windows = cli_args_get_all(&a, "window", &n);
        assert_int_equal(n, 2);
        assert_string_equal(windows[0], "w1,a,b");
        assert_string_equal(windows[1], "w2,c,d");
        assert_null(windows[2]);
        assert_string_equal(cli_args_get(&a, "format"), "yaml");
        windows = cli_args_get_all(&a, "type", &n);
        assert_int_equal(n, 0);
        assert_null(windows[0]);
        cli_args_done(&a);
}

static void test_double_dash_ends_the_options(_unused_ void **state)
{
        struct cli_args a = {};

        parse_ok(&a, (char *[]) { "--force", "--", "--format", "-", NULL });
        assert_int_equal(a.n_positional, 2);
        assert_string_equal(a.positional[0], "--format");
        assert_string_equal(a.positional[1], "-");
        assert_null(cli_args_get(&a, "format"));
        cli_args_done(&a);
}

static void test_a_value_may_look_like_an_option(_unused_ void **state)
{
        struct cli_args a = {};

        parse_ok(&a, (char *[]) { "--type", "--force", "-", NULL });
        assert_string_equal(cli_args_get(&a, "type"), "--force");
        assert_false(cli_args_has(&a, "force"));
        assert_int_equal(a.n_positional, 1);
        assert_string_equal(a.positional[0], "-");
        cli_args_done(&a);
}

static void test_unknown_options_are_usage_errors(_unused_ void **state)
{
        assert_parse_error((char *[]) { "vc01", "--bogus", NULL }, "Unknown option '--bogus'");
        assert_parse_error((char *[]) { "--bogus=1", NULL }, "Unknown option '--bogus'");
        assert_parse_error((char *[]) { "-x", NULL }, "Unknown option '-x'");
        assert_parse_error((char *[]) { "--form", "json", NULL }, "Unknown option '--form'");
}

static void test_missing_or_unwanted_values_are_usage_errors(_unused_ void **state)
{
        assert_parse_error((char *[]) { "vc01", "--format", NULL }, "Option '--format' needs a value");
        assert_parse_error((char *[]) { "-f", NULL }, "Option '--format' needs a value");
        assert_parse_error((char *[]) { "--force=yes", NULL }, "Option '--force' takes no value");
}

static void test_no_table_accepts_only_arguments(_unused_ void **state)
{
        static const struct cli_option none[] = { {} };
        struct ferry_error err = {};
        struct cli_args a = {};

        assert_int_equal(cli_args_parse(none, 1, (char *[]) { "vc01", NULL }, &a, &err), 0);
        assert_int_equal(a.n_positional, 1);
        assert_false(cli_args_has(&a, "format"));
        cli_args_done(&a);
        assert_int_equal(cli_args_parse(none, 1, (char *[]) { "--help", NULL }, &a, &err), -EINVAL);
        assert_string_equal(err.message, "Unknown option '--help'");
}

static void test_help_aligns_the_descriptions(_unused_ void **state)
{
        _cleanup_free_ char *help = cli_options_help(options);

        assert_string_equal(help,
                            "  -f, --format FORMAT          Output format\n"
                            "  -w, --window NAME,START,END  A window\n"
                            "      --force                  Do it\n"
                            "  -t, --type TYPE              Source type\n");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_options_and_arguments_mix_in_any_order),
                cmocka_unit_test(test_values_come_in_every_spelling),
                cmocka_unit_test(test_a_repeated_option_keeps_every_value),
                cmocka_unit_test(test_double_dash_ends_the_options),
                cmocka_unit_test(test_a_value_may_look_like_an_option),
                cmocka_unit_test(test_unknown_options_are_usage_errors),
                cmocka_unit_test(test_missing_or_unwanted_values_are_usage_errors),
                cmocka_unit_test(test_no_table_accepts_only_arguments),
                cmocka_unit_test(test_help_aligns_the_descriptions),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
