/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP client's configuration checks; requests are tested against
 * real servers in tests/integration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/http.h"

static void assert_config_refused(const struct http_client_config *config, int code, const char *message)
{
        struct ferry_error err = {};
        struct http_client *c = http_client_new(config, &err);

        assert_null(c);
        assert_int_equal(errno, -code);
        assert_int_equal(err.code, code);
        assert_string_equal(err.message, message);
}

static void test_endpoint_without_known_scheme_is_refused(void **state)
{
        (void) state;
        assert_config_refused(&(struct http_client_config) { .endpoint = "ftp://example.invalid" }, -EINVAL,
                              "Endpoint 'ftp://example.invalid' must start with https://, http:// or unix://");
}

static void test_empty_endpoint_is_refused(void **state)
{
        (void) state;
        assert_config_refused(&(struct http_client_config) { .endpoint = "" }, -EINVAL, "Endpoint is empty");
}

static void test_relative_unix_socket_path_is_refused(void **state)
{
        (void) state;
        assert_config_refused(&(struct http_client_config) { .endpoint = "unix://var/lib/incus/unix.socket" },
                              -EINVAL,
                              "Endpoint 'unix://var/lib/incus/unix.socket' must name an absolute socket path "
                              "(unix:///path)");
}

static void test_client_certificate_without_key_is_refused(void **state)
{
        (void) state;
        assert_config_refused(&(struct http_client_config) {
                                      .endpoint = "https://127.0.0.1:8443",
                                      .client_cert = "/etc/ferry/client.crt",
                              },
                              -EINVAL, "A client certificate needs its key, and a key its certificate");
}

static void test_malformed_pinned_fingerprint_is_refused(void **state)
{
        (void) state;
        assert_config_refused(&(struct http_client_config) {
                                      .endpoint = "https://127.0.0.1:8443",
                                      .pinned_fingerprint = "abc123",
                              },
                              -EINVAL, "'abc123' is not a SHA-256 certificate fingerprint");
}

static void test_valid_configurations_are_accepted(void **state)
{
        static const char *const endpoints[] = {
                "https://127.0.0.1:8443/", "http://[::1]:8080", "unix:///run/incus/unix.socket",
        };
        struct ferry_error err = {};

        (void) state;
        for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
                struct http_client *c = http_client_new(
                        &(struct http_client_config) {
                                .endpoint = endpoints[i],
                                .pinned_fingerprint = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
                                                      "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89",
                        },
                        &err);
                assert_non_null(c);
                assert_null(http_client_peer_fingerprint(c));
                http_client_free(c);
        }
}

static void test_connection_refused_names_the_url(void **state)
{
        struct ferry_error err = {};
        struct http_response resp = {};
        struct http_client *c;
        int r;

        (void) state;
        c = http_client_new(&(struct http_client_config) { .endpoint = "unix:///nonexistent/ferry.socket" }, &err);
        assert_non_null(c);
        r = http_request(c, "GET", "/1.0", NULL, NULL, 0, NULL, &resp, &err);
        assert_int_equal(r, -ECONNREFUSED);
        assert_string_equal(err.message,
                            "Cannot connect to 'unix:///nonexistent/ferry.socket': No such file or directory");
        http_client_free(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_endpoint_without_known_scheme_is_refused),
                cmocka_unit_test(test_empty_endpoint_is_refused),
                cmocka_unit_test(test_relative_unix_socket_path_is_refused),
                cmocka_unit_test(test_client_certificate_without_key_is_refused),
                cmocka_unit_test(test_malformed_pinned_fingerprint_is_refused),
                cmocka_unit_test(test_valid_configurations_are_accepted),
                cmocka_unit_test(test_connection_refused_names_the_url),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
