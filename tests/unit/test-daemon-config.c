/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/duration.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "daemon/config.h"

static void parse_ok(const char *text, struct config *ret)
{
        struct ferry_error err = {};
        int r = config_parse(text, strlen(text), ret, &err);

        if (r < 0)
                fail_msg("config_parse failed: %s", ferry_error_message(&err));
}

static void assert_parse_fails(const char *text, const char *message)
{
        struct config c = { .log_level = LOG_LEVEL_DEBUG };
        struct ferry_error err = {};

        assert_int_equal(config_parse(text, strlen(text), &c, &err), -EINVAL);
        assert_string_equal(ferry_error_message(&err), message);
        /* Left alone on failure. */
        assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
        assert_null(c.https.host);
}

static void assert_address(const char *in, const char *host, int port, const char *text)
{
        struct config_address a = {};
        struct ferry_error err = {};

        if (config_parse_address(in, &a, &err) < 0)
                fail_msg("'%s': %s", in, ferry_error_message(&err));
        assert_string_equal(a.host, host);
        assert_int_equal(a.port, port);
        assert_string_equal(a.text, text);
        config_address_done(&a);
}

static void assert_address_fails(const char *in, const char *message)
{
        struct config_address a = {};
        struct ferry_error err = {};

        assert_int_equal(config_parse_address(in, &a, &err), -EINVAL);
        assert_string_equal(ferry_error_message(&err), message);
        assert_null(a.host);
}

static void test_an_empty_file_gives_the_defaults(void **state)
{
        struct config c;

        (void) state;
        parse_ok("", &c);
        assert_null(c.https.host);
        assert_int_equal(c.log_level, _LOG_LEVEL_INVALID);
        assert_int_equal(c.source_interval_usec, 10 * USEC_PER_MINUTE);
        assert_int_equal(c.target_interval_usec, 10 * USEC_PER_MINUTE);
        config_done(&c);
}

static void test_flat_keys_set_every_value(void **state)
{
        struct config c;

        (void) state;
        parse_ok("core.https_address: 127.0.0.1:9443\n"
                 "log.level: debug\n"
                 "sync.source_interval: 1h30m\n"
                 "sync.target_interval: 45s\n",
                 &c);
        assert_string_equal(c.https.host, "127.0.0.1");
        assert_int_equal(c.https.port, 9443);
        assert_string_equal(c.https.text, "127.0.0.1:9443");
        assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
        assert_int_equal(c.source_interval_usec, 90 * USEC_PER_MINUTE);
        assert_int_equal(c.target_interval_usec, 45 * USEC_PER_SEC);
        config_done(&c);
}

static void test_nested_keys_mean_the_same_as_dotted_ones(void **state)
{
        struct config c;

        (void) state;
        parse_ok("core:\n"
                 "  https_address: \"[::1]:8443\"\n"
                 "log:\n"
                 "  level: warning\n",
                 &c);
        assert_string_equal(c.https.host, "::1");
        assert_int_equal(c.https.port, 8443);
        assert_int_equal(c.log_level, LOG_LEVEL_WARNING);
        config_done(&c);
}

static void test_an_empty_https_address_means_no_https(void **state)
{
        struct config c;

        (void) state;
        parse_ok("core.https_address: \"\"\n", &c);
        assert_null(c.https.host);
        parse_ok("core.https_address:\n", &c);
        assert_null(c.https.host);
}

static void test_an_unknown_key_is_named(void **state)
{
        (void) state;
        assert_parse_fails("log.level: info\ncore.http_address: 127.0.0.1:8443\n",
                           "Unknown key 'core.http_address'");
        assert_parse_fails("core:\n  https:\n    address: x\n", "Unknown key 'core.https.address'");
}

static void test_a_key_set_twice_is_refused(void **state)
{
        (void) state;
        assert_parse_fails("log.level: info\nlog:\n  level: debug\n", "Key 'log.level' is set twice");
}

static void test_a_bad_address_is_refused_with_the_key(void **state)
{
        (void) state;
        assert_parse_fails("core.https_address: example.org:8443\n",
                           "Invalid value for 'core.https_address': 'example.org:8443' is not an IP address and port "
                           "(host names are not accepted)");
        assert_parse_fails("core.https_address: 127.0.0.1:70000\n",
                           "Invalid value for 'core.https_address': The port of '127.0.0.1:70000' must be between 1 "
                           "and 65535");
        assert_parse_fails("core.https_address: 8443\n",
                           "Invalid value for 'core.https_address': it must be a string");
}

static void test_a_bad_log_level_is_refused(void **state)
{
        (void) state;
        assert_parse_fails("log.level: loud\n",
                           "Invalid value for 'log.level': 'loud' is not one of error, warning, info, debug");
}

static void test_a_bad_interval_is_refused(void **state)
{
        (void) state;
        assert_parse_fails("sync.source_interval: often\n",
                           "Invalid value for 'sync.source_interval': 'often' is not a duration like '10m' or '1h30m'");
        assert_parse_fails("sync.target_interval: 500ms\n",
                           "Invalid value for 'sync.target_interval': '500ms' is shorter than 1s");
}

static void test_a_document_that_is_no_mapping_is_refused(void **state)
{
        (void) state;
        assert_parse_fails("- a\n- b\n", "The config must be a mapping of keys to values");
        assert_parse_fails("key: [unclosed\n",
                           "Invalid YAML at line 2, column 1: did not find expected ',' or ']'");
}

static void test_addresses_take_every_accepted_form(void **state)
{
        (void) state;
        assert_address("127.0.0.1:8443", "127.0.0.1", 8443, "127.0.0.1:8443");
        assert_address("127.0.0.1", "127.0.0.1", 8443, "127.0.0.1:8443");
        assert_address("[::1]:9000", "::1", 9000, "[::1]:9000");
        assert_address("[::1]", "::1", 8443, "[::1]:8443");
        assert_address("::1", "::1", 8443, "[::1]:8443");
        assert_address(":8443", "", 8443, ":8443");
        assert_address("0.0.0.0:1", "0.0.0.0", 1, "0.0.0.0:1");
}

static void test_addresses_that_are_not_ip_and_port_are_refused(void **state)
{
        (void) state;
        assert_address_fails("", "The address is empty");
        assert_address_fails("localhost:8443", "'localhost:8443' is not an IP address and port (host names are not accepted)");
        assert_address_fails("127.0.0.1:", "'127.0.0.1:' is not an IP address and port");
        assert_address_fails("127.0.0.1:http", "'127.0.0.1:http' is not an IP address and port");
        assert_address_fails("127.0.0.1:0", "The port of '127.0.0.1:0' must be between 1 and 65535");
        assert_address_fails("[::1", "'[::1' is not an IP address and port");
        assert_address_fails("[::1]x", "'[::1]x' is not an IP address and port");
        assert_address_fails("[127.0.0.1]:80", "'[127.0.0.1]:80' is not an IP address and port (host names are not accepted)");
        assert_address_fails("1.2.3.4.5:80", "'1.2.3.4.5:80' is not an IP address and port (host names are not accepted)");
}

static void test_load_gives_the_defaults_for_a_missing_optional_file(void **state)
{
        struct ferry_error err = {};
        struct config c;

        (void) state;
        assert_int_equal(config_load("/nonexistent/config.yaml", false, &c, &err), 0);
        assert_null(c.https.host);
        assert_int_equal(c.source_interval_usec, CONFIG_DEFAULT_SYNC_INTERVAL_USEC);
}

static void test_load_refuses_a_missing_required_file(void **state)
{
        struct ferry_error err = {};
        struct config c;

        (void) state;
        assert_int_equal(config_load("/nonexistent/config.yaml", true, &c, &err), -ENOENT);
        assert_string_equal(ferry_error_message(&err), "Config file '/nonexistent/config.yaml' does not exist");
}

static void test_load_names_the_file_in_errors(void **state)
{
        char path[] = "/tmp/ferry-test-config-XXXXXX";
        _cleanup_free_ char *expected = NULL;
        struct ferry_error err = {};
        struct config c;
        int fd;

        (void) state;
        assert_true((fd = mkstemp(path)) >= 0);
        close(fd);
        assert_int_equal(fileio_write_atomic(path, "log.levle: debug\n", 17, 0644, &err), 0);

        assert_int_equal(config_load(path, true, &c, &err), -EINVAL);
        assert_non_null(expected = strjoin("Config file '", path, "': Unknown key 'log.levle'", NULL));
        assert_string_equal(ferry_error_message(&err), expected);

        assert_int_equal(fileio_write_atomic(path, "log.level: error\n", 17, 0644, &err), 0);
        assert_int_equal(config_load(path, true, &c, &err), 0);
        assert_int_equal(c.log_level, LOG_LEVEL_ERROR);
        config_done(&c);
        unlink(path);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_an_empty_file_gives_the_defaults),
                cmocka_unit_test(test_flat_keys_set_every_value),
                cmocka_unit_test(test_nested_keys_mean_the_same_as_dotted_ones),
                cmocka_unit_test(test_an_empty_https_address_means_no_https),
                cmocka_unit_test(test_an_unknown_key_is_named),
                cmocka_unit_test(test_a_key_set_twice_is_refused),
                cmocka_unit_test(test_a_bad_address_is_refused_with_the_key),
                cmocka_unit_test(test_a_bad_log_level_is_refused),
                cmocka_unit_test(test_a_bad_interval_is_refused),
                cmocka_unit_test(test_a_document_that_is_no_mapping_is_refused),
                cmocka_unit_test(test_addresses_take_every_accepted_form),
                cmocka_unit_test(test_addresses_that_are_not_ip_and_port_are_refused),
                cmocka_unit_test(test_load_gives_the_defaults_for_a_missing_optional_file),
                cmocka_unit_test(test_load_refuses_a_missing_required_file),
                cmocka_unit_test(test_load_names_the_file_in_errors),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
