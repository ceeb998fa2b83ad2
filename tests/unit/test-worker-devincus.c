/* SPDX-License-Identifier: Apache-2.0 */
/*
 * src/worker/devincus.c: reading the agent's user.ferry.* keys from
 * devIncus answers.  The socket itself exists only inside an Incus VM,
 * which this machine cannot run; the answers are Incus's documented forms.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/macros.h"
#include "worker/devincus.h"

static void value_ok(long status, const char *type, const char *body, const char *want)
{
        _cleanup_free_ char *v = NULL;
        struct ferry_error err = {};

        if (worker_devincus_value(status, type, body, strlen(body), "user.ferry.token", &v, &err) < 0)
                fail_msg("Refused: %s", ferry_error_message(&err));
        assert_string_equal(v, want);
}

static void value_refused(long status, const char *type, const char *body, size_t len, int code, const char *message)
{
        char *v = NULL;
        struct ferry_error err = {};

        assert_int_equal(worker_devincus_value(status, type, body, len, "user.ferry.token", &v, &err), code);
        assert_string_equal(ferry_error_message(&err), message);
        assert_null(v);
}

static void test_a_plain_text_value_is_taken_without_its_newline(_unused_ void **state)
{
        value_ok(200, "text/plain; charset=utf-8", "https://10.0.0.1:8443\n", "https://10.0.0.1:8443");
        value_ok(200, NULL, "abc", "abc");
}

static void test_a_json_string_or_envelope_is_read_too(_unused_ void **state)
{
        value_ok(200, "application/json", "\"0123abcd\"\n", "0123abcd");
        value_ok(200, "application/json",
                 "{\"type\": \"sync\", \"status\": \"Success\", \"status_code\": 200, \"metadata\": \"0123abcd\"}",
                 "0123abcd");
        value_refused(200, "application/json", "{\"metadata\": 5}", 15, -EPROTO,
                      "devIncus answered something else than a string for 'user.ferry.token'");
}

static void test_a_missing_key_says_which(_unused_ void **state)
{
        value_refused(404, "application/json", "{\"error\": \"not found\"}", 22, -ENOENT,
                      "Config key 'user.ferry.token' is not set on this instance");
}

static void test_a_refusal_points_at_security_guestapi(_unused_ void **state)
{
        value_refused(403, NULL, "", 0, -EACCES, "devIncus refused to read 'user.ferry.token' (is security.guestapi off?)");
}

static void test_other_answers_and_empty_or_binary_values_are_errors(_unused_ void **state)
{
        value_refused(500, "text/plain", "internal error\n", 15, -EPROTO,
                      "devIncus answered 500 for 'user.ferry.token': internal error");
        value_refused(200, "text/plain", " \n", 2, -EINVAL, "Config key 'user.ferry.token' is empty on this instance");
        value_refused(200, "application/octet-stream", "a\0b", 3, -EPROTO,
                      "devIncus answered binary data for 'user.ferry.token'");
}

static void test_a_missing_socket_names_it(_unused_ void **state)
{
        char *v = NULL;
        struct ferry_error err = {};

        assert_true(worker_devincus_get("/nonexistent/incus/sock", "user.ferry.uuid", &v, &err) < 0);
        assert_non_null(strstr(ferry_error_message(&err),
                               "Cannot read 'user.ferry.uuid' from devIncus at '/nonexistent/incus/sock'"));
        assert_null(v);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_a_plain_text_value_is_taken_without_its_newline),
                cmocka_unit_test(test_a_json_string_or_envelope_is_read_too),
                cmocka_unit_test(test_a_missing_key_says_which),
                cmocka_unit_test(test_a_refusal_points_at_security_guestapi),
                cmocka_unit_test(test_other_answers_and_empty_or_binary_values_are_errors),
                cmocka_unit_test(test_a_missing_socket_names_it),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
