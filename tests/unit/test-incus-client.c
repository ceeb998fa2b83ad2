/* SPDX-License-Identifier: Apache-2.0 */
/* The Incus envelope, error mapping and URL building, without a server
 * (calls against incusd are in tests/integration/test-incus-rest.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/strbuf.h"
#include "target/incus/client.h"

static int parse(long status, const char *body, struct incus_response *ret, struct ferry_error *err)
{
        return incus_envelope_parse(status, body, strlen(body), ret, err);
}

static void assert_refused(long status, const char *body, int code, const char *message)
{
        struct incus_response resp = { .http_status = -1 };
        struct ferry_error err = {};

        assert_int_equal(parse(status, body, &resp, &err), code);
        assert_int_equal(err.code, code);
        assert_string_equal(err.message, message);
        /* Nothing written on failure. */
        assert_int_equal(resp.http_status, -1);
        assert_null(resp.metadata);
}

static void test_sync_envelope_gives_its_metadata(void **state)
{
        struct incus_response resp = {};
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(parse(200,
                               "{\"type\":\"sync\",\"status\":\"Success\",\"status_code\":200,"
                               "\"operation\":\"\",\"error_code\":0,\"error\":\"\","
                               "\"metadata\":{\"auth\":\"trusted\"}}",
                               &resp, &err),
                         0);
        assert_int_equal(resp.type, INCUS_RESPONSE_SYNC);
        assert_int_equal(resp.status_code, 200);
        assert_int_equal(resp.http_status, 200);
        assert_string_equal(json_string_value(json_object_get(resp.metadata, "auth")), "trusted");
        assert_null(resp.operation);
        incus_response_done(&resp);
}

static void test_sync_envelope_without_metadata_gives_json_null(void **state)
{
        struct incus_response resp = {};
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(parse(200, "{\"type\":\"sync\",\"status_code\":200}", &resp, &err), 0);
        assert_true(json_is_null(resp.metadata));
        incus_response_done(&resp);
}

static void test_async_envelope_gives_its_operation(void **state)
{
        struct incus_response resp = {};
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(parse(202,
                               "{\"type\":\"async\",\"status\":\"Operation created\",\"status_code\":100,"
                               "\"operation\":\"/1.0/operations/3e1d-44\","
                               "\"metadata\":{\"id\":\"3e1d-44\",\"metadata\":{\"control\":\"abc\"}}}",
                               &resp, &err),
                         0);
        assert_int_equal(resp.type, INCUS_RESPONSE_ASYNC);
        assert_int_equal(resp.status_code, 100);
        assert_string_equal(resp.operation, "/1.0/operations/3e1d-44");
        assert_string_equal(json_string_value(json_object_get(json_object_get(resp.metadata, "metadata"),
                                                               "control")),
                            "abc");
        incus_response_done(&resp);
}

static void test_error_envelope_carries_incus_message_verbatim(void **state)
{
        (void) state;
        assert_refused(404,
                       "{\"type\":\"error\",\"error\":\"Storage pool not found\",\"error_code\":404,"
                       "\"metadata\":null}",
                       -ENOENT, "Storage pool not found");
}

static void test_error_codes_map_to_errnos(void **state)
{
        static const struct {
                long status;
                int code;
        } table[] = {
                { 400, -EINVAL }, { 403, -EACCES }, { 404, -ENOENT }, { 409, -EEXIST },
                { 412, -ESTALE }, { 500, -EIO },    { 501, -EOPNOTSUPP }, { 503, -EAGAIN },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                char body[128];

                snprintf(body, sizeof(body), "{\"type\":\"error\",\"error\":\"x\",\"error_code\":%ld}",
                         table[i].status);
                assert_refused(table[i].status, body, table[i].code, "x");
        }
}

static void test_error_code_in_envelope_wins_over_http_status(void **state)
{
        (void) state;
        /* incusd 6.0 answers a wait on a failed operation with HTTP 200
         * and an error envelope. */
        assert_refused(200,
                       "{\"type\":\"error\",\"error\":\"Instance type \\\"virtual-machine\\\" is not supported on "
                       "this server\",\"error_code\":500}",
                       -EIO, "Instance type \"virtual-machine\" is not supported on this server");
}

static void test_error_envelope_without_message_names_the_status(void **state)
{
        (void) state;
        assert_refused(403, "{\"type\":\"error\",\"error\":\"\",\"error_code\":403}", -EACCES,
                       "Incus failed the request with HTTP 403");
}

static void test_html_answer_is_not_an_envelope(void **state)
{
        (void) state;
        assert_refused(502, "<html>Bad gateway</html>", -EBADMSG,
                       "Unexpected answer from Incus (HTTP 502): Invalid JSON at line 1, column 1: "
                       "'[' or '{' expected near '<'");
}

static void test_empty_answer_is_not_an_envelope(void **state)
{
        (void) state;
        assert_refused(200, "", -EBADMSG, "Unexpected answer from Incus (HTTP 200): empty body");
}

static void test_unknown_envelope_type_is_refused(void **state)
{
        (void) state;
        assert_refused(200, "{\"type\":\"maybe\"}", -EBADMSG,
                       "Unexpected answer from Incus (HTTP 200): unknown envelope type");
        assert_refused(200, "{\"status\":\"Success\"}", -EBADMSG,
                       "Unexpected answer from Incus (HTTP 200): no envelope type");
        assert_refused(200, "[1]", -EBADMSG, "Unexpected answer from Incus (HTTP 200): not a JSON object");
}

static void test_async_envelope_without_operation_is_refused(void **state)
{
        (void) state;
        assert_refused(202, "{\"type\":\"async\",\"operation\":\"\"}", -EBADMSG,
                       "Unexpected answer from Incus (HTTP 202): an async answer without an operation");
        assert_refused(202, "{\"type\":\"async\",\"operation\":\"/1.0/instances/x\"}", -EBADMSG,
                       "Unexpected answer from Incus (HTTP 202): an async answer without an operation");
}

static void test_success_envelope_with_error_status_is_refused(void **state)
{
        (void) state;
        assert_refused(500, "{\"type\":\"sync\",\"metadata\":{}}", -EBADMSG,
                       "Unexpected answer from Incus (HTTP 500): a success envelope with an error status");
}

static void assert_url(const char *path, const char *project, const char *target, const char *expected)
{
        _cleanup_free_ char *url = incus_url_build(path, project, target);

        assert_non_null(url);
        assert_string_equal(url, expected);
}

static void test_url_without_project_or_target_is_the_path(void **state)
{
        (void) state;
        assert_url("/1.0/storage-pools", NULL, NULL, "/1.0/storage-pools");
        assert_url("/1.0/storage-pools", "", "", "/1.0/storage-pools");
}

static void test_url_gets_project_and_target(void **state)
{
        (void) state;
        assert_url("/1.0/instances", "lab", NULL, "/1.0/instances?project=lab");
        assert_url("/1.0/instances", NULL, "node2", "/1.0/instances?target=node2");
        assert_url("/1.0/instances", "lab", "node2", "/1.0/instances?project=lab&target=node2");
}

static void test_url_with_its_own_query_continues_it(void **state)
{
        (void) state;
        assert_url("/1.0/profiles?recursion=1", "lab", "n1", "/1.0/profiles?recursion=1&project=lab&target=n1");
}

static void test_url_values_are_escaped(void **state)
{
        (void) state;
        assert_url("/1.0/instances", "a b&c=d", "n/1", "/1.0/instances?project=a%20b%26c%3Dd&target=n%2F1");
}

static void test_escape_keeps_unreserved_characters(void **state)
{
        _cleanup_free_ char *plain = incus_escape("Web-01_a.b~c"), *other = incus_escape("x/y?z#é");

        (void) state;
        assert_string_equal(plain, "Web-01_a.b~c");
        assert_string_equal(other, "x%2Fy%3Fz%23%C3%A9");
}

static void assert_client_refused(const struct incus_client_config *config, int code, const char *message)
{
        struct ferry_error err = {};
        struct incus_client *c = incus_client_new(config, &err);

        assert_null(c);
        assert_int_equal(err.code, code);
        assert_string_equal(err.message, message);
}

static void test_https_endpoint_without_fingerprint_is_refused(void **state)
{
        (void) state;
        assert_client_refused(&(struct incus_client_config) { .endpoint = "https://127.0.0.1:8443" }, -EINVAL,
                              "Incus endpoint 'https://127.0.0.1:8443' needs the server certificate fingerprint");
}

static void test_plain_http_endpoint_is_refused(void **state)
{
        (void) state;
        assert_client_refused(&(struct incus_client_config) { .endpoint = "http://127.0.0.1:8443" }, -EINVAL,
                              "Incus endpoint 'http://127.0.0.1:8443' must be https:// or unix://");
}

static void test_bad_fingerprint_is_refused(void **state)
{
        (void) state;
        assert_client_refused(&(struct incus_client_config) { .endpoint = "https://127.0.0.1:8443",
                                                              .server_fingerprint = "abc" },
                              -EINVAL, "'abc' is not a SHA-256 certificate fingerprint");
}

static void test_unix_client_keeps_its_configuration(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = NULL;
        struct ferry_error err = {};

        (void) state;
        c = incus_client_new(&(struct incus_client_config) { .endpoint = "unix:///run/incus/unix.socket" }, &err);
        assert_non_null(c);
        assert_string_equal(incus_client_get_config(c)->endpoint, "unix:///run/incus/unix.socket");
        assert_null(incus_client_get_config(c)->client_cert);
        assert_null(incus_client_peer_fingerprint(c));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sync_envelope_gives_its_metadata),
                cmocka_unit_test(test_sync_envelope_without_metadata_gives_json_null),
                cmocka_unit_test(test_async_envelope_gives_its_operation),
                cmocka_unit_test(test_error_envelope_carries_incus_message_verbatim),
                cmocka_unit_test(test_error_codes_map_to_errnos),
                cmocka_unit_test(test_error_code_in_envelope_wins_over_http_status),
                cmocka_unit_test(test_error_envelope_without_message_names_the_status),
                cmocka_unit_test(test_html_answer_is_not_an_envelope),
                cmocka_unit_test(test_empty_answer_is_not_an_envelope),
                cmocka_unit_test(test_unknown_envelope_type_is_refused),
                cmocka_unit_test(test_async_envelope_without_operation_is_refused),
                cmocka_unit_test(test_success_envelope_with_error_status_is_refused),
                cmocka_unit_test(test_url_without_project_or_target_is_the_path),
                cmocka_unit_test(test_url_gets_project_and_target),
                cmocka_unit_test(test_url_with_its_own_query_continues_it),
                cmocka_unit_test(test_url_values_are_escaped),
                cmocka_unit_test(test_escape_keeps_unreserved_characters),
                cmocka_unit_test(test_https_endpoint_without_fingerprint_is_refused),
                cmocka_unit_test(test_plain_http_endpoint_is_refused),
                cmocka_unit_test(test_bad_fingerprint_is_refused),
                cmocka_unit_test(test_unix_client_keeps_its_configuration),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
