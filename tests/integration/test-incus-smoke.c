/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lab's incusd answers ferry's HTTP client: over its unix socket, and
 * over HTTPS with a client certificate and a pinned server certificate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/http.h"
#include "common/json.h"
#include "common/macros.h"
#include "common/strbuf.h"
#include "lab.h"


/* GET path and return the parsed Incus envelope; asserts a JSON answer. */
static json_t *incus_get(struct http_client *c, const char *path, long *ret_status)
{
        struct ferry_error err = {};
        struct http_response resp = {};
        json_error_t jerr;
        json_t *v;
        int r;

        r = http_request(c, "GET", path, NULL, NULL, 0, NULL, &resp, &err);
        if (r < 0)
                fail_msg("GET %s: %s", path, err.message);
        v = json_loadb(resp.body, resp.body_len, 0, &jerr);
        if (!v)
                fail_msg("GET %s: answer is not JSON (%s): %s", path, jerr.text, resp.body);
        *ret_status = resp.status;
        http_response_done(&resp);
        return v;
}

static const char *envelope_string(json_t *v, const char *path)
{
        json_t *m = json_object_get(v, "metadata");
        const char *dot = strchr(path, '.');

        if (dot) {
                char first[64];
                snprintf(first, sizeof(first), "%.*s", (int) (dot - path), path);
                m = json_object_get(m, first);
                path = dot + 1;
        }
        return json_string_value(json_object_get(m, path));
}

/* A client of the lab's incusd over its unix socket. */
static struct http_client *incus_unix_client(void)
{
        _cleanup_free_ char *endpoint = NULL;
        struct ferry_error err = {};
        struct http_client *c;

        assert_non_null(endpoint = strjoin("unix://", lab_env("LAB_INCUS_SOCKET"), NULL));
        c = http_client_new(&(struct http_client_config) { .endpoint = endpoint }, &err);
        if (!c)
                fail_msg("%s", err.message);
        return c;
}

/* A client of the lab's incusd over HTTPS, pinned to pin. */
static struct http_client *incus_https_client(bool with_certificate, const char *pin)
{
        struct ferry_error err = {};
        struct http_client *c;

        c = http_client_new(&(struct http_client_config) {
                                    .endpoint = lab_env("LAB_INCUS_URL"),
                                    .client_cert = with_certificate ? lab_env("LAB_INCUS_CLIENT_CERT") : NULL,
                                    .client_key = with_certificate ? lab_env("LAB_INCUS_CLIENT_KEY") : NULL,
                                    .pinned_fingerprint = pin,
                            },
                            &err);
        if (!c)
                fail_msg("%s", err.message);
        return c;
}

static void test_get_server_over_unix_socket_is_trusted(void **state)
{
        _cleanup_http_client_ struct http_client *c = NULL;
        _cleanup_json_ json_t *v = NULL;
        long status;

        (void) state;
        c = incus_unix_client();

        v = incus_get(c, "/1.0", &status);
        assert_int_equal(status, 200);
        assert_string_equal(json_string_value(json_object_get(v, "type")), "sync");
        assert_string_equal(envelope_string(v, "auth"), "trusted");
        assert_true(startswith(envelope_string(v, "environment.server_version"), "6."));
}

static void test_get_server_over_https_with_client_certificate_is_trusted(void **state)
{
        _cleanup_http_client_ struct http_client *c = NULL;
        _cleanup_json_ json_t *v = NULL;
        long status;

        (void) state;
        c = incus_https_client(true, lab_env("LAB_INCUS_FINGERPRINT"));

        v = incus_get(c, "/1.0", &status);
        assert_int_equal(status, 200);
        assert_string_equal(envelope_string(v, "auth"), "trusted");
        assert_string_equal(envelope_string(v, "auth_user_method"), "tls");
        assert_non_null(http_client_peer_fingerprint(c));
        assert_string_equal(http_client_peer_fingerprint(c), lab_env("LAB_INCUS_FINGERPRINT"));
}

static void test_get_server_over_https_without_certificate_is_untrusted(void **state)
{
        _cleanup_http_client_ struct http_client *c = NULL;
        _cleanup_json_ json_t *v = NULL;
        long status;

        (void) state;
        c = incus_https_client(false, lab_env("LAB_INCUS_FINGERPRINT"));

        v = incus_get(c, "/1.0", &status);
        assert_int_equal(status, 200);
        assert_string_equal(envelope_string(v, "auth"), "untrusted");

        json_decref(v);
        v = incus_get(c, "/1.0/instances", &status);
        assert_int_equal(status, 403);
        assert_string_equal(json_string_value(json_object_get(v, "type")), "error");
}

static void test_https_with_wrong_pin_fails_and_names_the_real_fingerprint(void **state)
{
        _cleanup_http_client_ struct http_client *c = NULL;
        struct http_response resp = {};
        struct ferry_error err = {};
        char expected[256];
        int r;

        (void) state;
        c = incus_https_client(true, "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:"
                                     "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff");

        r = http_request(c, "GET", "/1.0", NULL, NULL, 0, NULL, &resp, &err);
        assert_int_equal(r, -EPERM);
        snprintf(expected, sizeof(expected),
                 "Server certificate fingerprint '%s' does not match the trusted fingerprint "
                 "'00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff'",
                 lab_env("LAB_INCUS_FINGERPRINT"));
        assert_string_equal(err.message, expected);
}

static void test_https_without_pin_rejects_the_self_signed_certificate(void **state)
{
        _cleanup_http_client_ struct http_client *c = NULL;
        struct http_response resp = {};
        struct ferry_error err = {};
        int r;

        (void) state;
        c = incus_https_client(false, NULL);

        r = http_request(c, "GET", "/1.0", NULL, NULL, 0, NULL, &resp, &err);
        assert_int_equal(r, -EPERM);
        assert_non_null(strstr(err.message, lab_env("LAB_INCUS_FINGERPRINT")));
}

static void test_lab_has_its_project_pool_and_unaddressed_bridge(void **state)
{
        _cleanup_free_ char *pool = NULL, *net = NULL, *project = NULL;
        _cleanup_http_client_ struct http_client *c = NULL;
        _cleanup_json_ json_t *p = NULL, *s = NULL, *n = NULL;
        long status;
        json_t *config;

        (void) state;
        c = incus_unix_client();

        assert_non_null(project = strjoin("/1.0/projects/", lab_env("LAB_INCUS_PROJECT"), NULL));
        p = incus_get(c, project, &status);
        assert_int_equal(status, 200);

        assert_non_null(pool = strjoin("/1.0/storage-pools/", lab_env("LAB_INCUS_POOL"), NULL));
        s = incus_get(c, pool, &status);
        assert_int_equal(status, 200);
        assert_string_equal(envelope_string(s, "driver"), "dir");

        assert_non_null(net = strjoin("/1.0/networks/", lab_env("LAB_INCUS_BRIDGE"), NULL));
        n = incus_get(c, net, &status);
        assert_int_equal(status, 200);
        assert_string_equal(envelope_string(n, "type"), "bridge");
        config = json_object_get(json_object_get(n, "metadata"), "config");
        assert_string_equal(json_string_value(json_object_get(config, "ipv4.address")), "none");
        assert_string_equal(json_string_value(json_object_get(config, "ipv6.address")), "none");
}

/*
 * This machine kind has no vhost_vsock: incusd accepts the request but the
 * operation fails.  Tests of ferry's VM creation rely on exactly this
 * refusal (DESIGN §9); if the lab ever runs VMs, this test says so.
 */
static void test_lab_refuses_to_create_virtual_machines(void **state)
{
        static const char body[] = "{\"name\":\"ferry-smoke-vm\",\"type\":\"virtual-machine\","
                                   "\"source\":{\"type\":\"none\"}}";
        _cleanup_free_ char *create = NULL, *wait = NULL, *instance = NULL;
        _cleanup_http_client_ struct http_client *c = NULL;
        _cleanup_json_ json_t *op = NULL, *done = NULL, *gone = NULL;
        struct http_response resp = {};
        struct ferry_error err = {};
        json_error_t jerr;
        const char *operation, *failure;
        long status;

        (void) state;
        c = incus_unix_client();

        assert_non_null(create = strjoin("/1.0/instances?project=", lab_env("LAB_INCUS_PROJECT"), NULL));
        if (http_request(c, "POST", create, "application/json", body, strlen(body), NULL, &resp, &err) < 0)
                fail_msg("POST %s: %s", create, err.message);
        op = json_loadb(resp.body, resp.body_len, 0, &jerr);
        if (!op || !streq_ptr(json_string_value(json_object_get(op, "type")), "async"))
                fail_msg("POST %s: expected an operation, got HTTP %ld: %s", create, resp.status, resp.body);
        http_response_done(&resp);
        operation = json_string_value(json_object_get(op, "operation"));
        assert_non_null(operation);

        assert_non_null(wait = strjoin(operation, "/wait?timeout=60", NULL));
        /* Waiting on a failed operation answers with its error. */
        done = incus_get(c, wait, &status);
        assert_true(streq_ptr(json_string_value(json_object_get(done, "type")), "error"));
        assert_int_equal(json_integer_value(json_object_get(done, "error_code")), 500);
        failure = json_string_value(json_object_get(done, "error"));
        assert_non_null(failure);
        assert_non_null(strstr(failure, "Instance type \"virtual-machine\" is not supported"));

        assert_non_null(instance = strjoin("/1.0/instances/ferry-smoke-vm?project=",
                                           lab_env("LAB_INCUS_PROJECT"), NULL));
        gone = incus_get(c, instance, &status);
        assert_int_equal(status, 404);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_get_server_over_unix_socket_is_trusted),
                cmocka_unit_test(test_get_server_over_https_with_client_certificate_is_trusted),
                cmocka_unit_test(test_get_server_over_https_without_certificate_is_untrusted),
                cmocka_unit_test(test_https_with_wrong_pin_fails_and_names_the_real_fingerprint),
                cmocka_unit_test(test_https_without_pin_rejects_the_self_signed_certificate),
                cmocka_unit_test(test_lab_has_its_project_pool_and_unaddressed_bridge),
                cmocka_unit_test(test_lab_refuses_to_create_virtual_machines),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
