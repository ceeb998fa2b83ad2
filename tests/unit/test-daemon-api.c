/* SPDX-License-Identifier: Apache-2.0 */
/*
 * src/daemon/api.c without a server: envelopes, routing, and the answers
 * of the endpoints that exist.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/json.h"
#include "daemon/api.h"
#include "daemon/daemon.h"

static struct daemon test_daemon = {
        .data_dir = (char *) "/srv/ferry",
        .socket_path = (char *) "/srv/ferry/unix.socket",
        .lock_fd = -EBADF,
        .pid = 4242,
};

static void handle(const char *method, const char *path, struct api_response *ret)
{
        struct api_request req = {
                .method = method,
                .path = path,
                .requestor = { .protocol = "unix", .username = "", .trusted = true },
        };

        assert_int_equal(api_handle(&test_daemon, &req, ret), 0);
        assert_non_null(ret->envelope);
}

static const char *string_at(const json_t *v, const char *key)
{
        const char *s = json_string_value(json_object_get(v, key));

        if (!s)
                fail_msg("'%s' is not a string", key);
        return s;
}

static void assert_error(const struct api_response *r, int status, const char *message)
{
        assert_int_equal(r->status, status);
        assert_string_equal(string_at(r->envelope, "type"), "error");
        assert_string_equal(string_at(r->envelope, "status"), "");
        assert_int_equal(json_integer_value(json_object_get(r->envelope, "status_code")), 0);
        assert_string_equal(string_at(r->envelope, "operation"), "");
        assert_int_equal(json_integer_value(json_object_get(r->envelope, "error_code")), status);
        assert_string_equal(string_at(r->envelope, "error"), message);
        assert_true(json_is_null(json_object_get(r->envelope, "metadata")));
}

static void test_sync_envelope_wraps_metadata_in_every_incus_field(_unused_ void **state)
{
        _cleanup_json_ json_t *v = NULL, *expected = NULL;

        v = api_envelope_sync(json_pack("{s:s}", "name", "web01"));
        assert_non_null(v);
        expected = json_pack("{s:s, s:s, s:i, s:s, s:i, s:s, s:{s:s}}", "type", "sync", "status", "Success",
                             "status_code", 200, "operation", "", "error_code", 0, "error", "", "metadata", "name",
                             "web01");
        assert_true(json_equal(v, expected));
}

static void test_sync_envelope_without_metadata_has_null_metadata(_unused_ void **state)
{
        _cleanup_json_ json_t *v = api_envelope_sync(NULL);

        assert_non_null(v);
        assert_true(json_is_null(json_object_get(v, "metadata")));
}

static void test_error_envelope_carries_code_and_message(_unused_ void **state)
{
        _cleanup_json_ json_t *v = NULL, *expected = NULL;

        v = api_envelope_error(409, "Source 'vc1' already exists");
        assert_non_null(v);
        expected = json_pack("{s:s, s:s, s:i, s:s, s:i, s:s, s:n}", "type", "error", "status", "", "status_code", 0,
                             "operation", "", "error_code", 409, "error", "Source 'vc1' already exists",
                             "metadata");
        assert_true(json_equal(v, expected));
}

static void test_response_error_formats_the_message(_unused_ void **state)
{
        struct api_response r = {};

        assert_int_equal(api_response_error(&r, 400, "Invalid value '%s' for '%s'", "x", "import_limit"), 0);
        assert_error(&r, 400, "Invalid value 'x' for 'import_limit'");
        api_response_done(&r);
}

static void test_method_names_are_upper_case_http_methods(_unused_ void **state)
{
        assert_string_equal(api_method_to_string(API_METHOD_GET), "GET");
        assert_string_equal(api_method_to_string(API_METHOD_DELETE), "DELETE");
        assert_null(api_method_to_string(_API_METHOD_MAX));
        assert_int_equal(api_method_from_string("PATCH"), API_METHOD_PATCH);
        assert_int_equal(api_method_from_string("get"), -EINVAL);
        assert_int_equal(api_method_from_string("HEAD"), -EINVAL);
        assert_int_equal(api_method_from_string(NULL), -EINVAL);
}

static void test_unknown_path_answers_404(_unused_ void **state)
{
        struct api_response r = {};

        handle("GET", "/1.0/nope", &r);
        assert_error(&r, 404, "Not found");
        api_response_done(&r);
}

static void test_path_that_only_starts_like_an_endpoint_answers_404(_unused_ void **state)
{
        struct api_response r = {};

        handle("GET", "/1.0x", &r);
        assert_error(&r, 404, "Not found");
        api_response_done(&r);
}

static void test_method_without_handler_answers_405_naming_it(_unused_ void **state)
{
        struct api_response r = {};

        handle("PUT", "/1.0", &r);
        assert_error(&r, 405, "Method 'PUT' is not allowed on '/1.0'");
        api_response_done(&r);

        handle("HEAD", "/1.0", &r);
        assert_error(&r, 405, "Method 'HEAD' is not allowed on '/1.0'");
        api_response_done(&r);
}

static void test_root_lists_the_api_versions(_unused_ void **state)
{
        _cleanup_json_ json_t *expected = json_pack("[s]", "/1.0");
        struct api_response r = {};

        handle("GET", "/", &r);
        assert_int_equal(r.status, 200);
        assert_true(json_equal(json_object_get(r.envelope, "metadata"), expected));
        api_response_done(&r);
}

static void test_server_describes_itself_from_the_daemon(_unused_ void **state)
{
        char hostname[HOST_NAME_MAX + 1] = {};
        struct api_response r = {};
        json_t *m, *env;

        handle("GET", "/1.0", &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(string_at(r.envelope, "type"), "sync");

        m = json_object_get(r.envelope, "metadata");
        assert_string_equal(string_at(m, "api_version"), "1.0");
        assert_string_equal(string_at(m, "api_status"), "development");
        assert_string_equal(string_at(m, "server_version"), FERRY_VERSION);
        assert_string_equal(string_at(m, "auth"), "trusted");
        assert_int_equal(json_array_size(json_object_get(m, "api_extensions")), 0);
        assert_true(json_is_array(json_object_get(m, "api_extensions")));

        env = json_object_get(m, "environment");
        assert_string_equal(string_at(env, "data_dir"), "/srv/ferry");
        assert_int_equal(json_integer_value(json_object_get(env, "pid")), 4242);
        assert_int_equal(gethostname(hostname, sizeof(hostname) - 1), 0);
        assert_string_equal(string_at(env, "server_name"), hostname);
        api_response_done(&r);
}

static void test_trailing_slash_names_the_same_endpoint(_unused_ void **state)
{
        struct api_response r = {};

        handle("GET", "/1.0/", &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(string_at(json_object_get(r.envelope, "metadata"), "api_version"), "1.0");
        api_response_done(&r);
}

static void handle_untrusted(const char *method, const char *path, struct api_response *ret)
{
        struct api_request req = {
                .method = method,
                .path = path,
                .requestor = { .protocol = "tls", .username = "", .trusted = false },
        };

        assert_int_equal(api_handle(&test_daemon, &req, ret), 0);
        assert_non_null(ret->envelope);
}

static void test_untrusted_clients_get_403_except_on_server_info(_unused_ void **state)
{
        struct api_response r = {};
        struct api_request req = { .method = "GET", .path = "/1.0/sources", .requestor = { .trusted = false } };

        handle_untrusted("GET", "/1.0/sources", &r);
        assert_error(&r, 403, "Not authorized: this client certificate is not trusted");
        api_response_done(&r);

        handle_untrusted("DELETE", "/1.0/batches/b1", &r);
        assert_error(&r, 403, "Not authorized: this client certificate is not trusted");
        api_response_done(&r);

        assert_false(api_allows(&req));
        req.path = "/1.0";
        assert_true(api_allows(&req));
        req.requestor.trusted = true;
        req.path = "/1.0/sources";
        assert_true(api_allows(&req));
}

static bool untrusted_allowed(const char *method, const char *path)
{
        struct api_request req = { .method = method, .path = path, .requestor = { .protocol = "tls" } };

        return api_allows(&req);
}

static void test_untrusted_clients_may_post_to_the_worker_endpoints_only(_unused_ void **state)
{
        assert_true(untrusted_allowed("POST", "/internal/worker/u1/:command"));
        assert_true(untrusted_allowed("POST", "/internal/worker/u1/:update"));
        assert_false(untrusted_allowed("GET", "/internal/worker/u1/:command"));
        assert_false(untrusted_allowed("POST", "/internal/worker/u1/:other"));
        assert_false(untrusted_allowed("POST", "/internal/worker/u1"));
        assert_false(untrusted_allowed("POST", "/1.0/queue/u1/worker-token"));
        assert_false(untrusted_allowed("POST", "/1.0/queue/u1/worker-commands"));
        assert_false(untrusted_allowed("GET", "/1.0/queue/u1/worker-commands"));
        assert_false(untrusted_allowed("GET", "/1.0/queue/u1"));
}

static void test_routes_with_placeholders_match_one_segment(_unused_ void **state)
{
        struct api_response r = {};

        /* A placeholder never matches an empty or a nested segment. */
        handle("GET", "/1.0/sources//x", &r);
        assert_error(&r, 404, "Not found");
        api_response_done(&r);

        handle("POST", "/1.0/batches/b1/instances", &r);
        assert_error(&r, 405, "Method 'POST' is not allowed on '/1.0/batches/b1/instances'");
        api_response_done(&r);

        handle("GET", "/1.0/instances/u1/override/extra", &r);
        assert_error(&r, 404, "Not found");
        api_response_done(&r);
}

static void test_only_artifact_files_stream_their_body(_unused_ void **state)
{
        assert_true(api_streams_body("PUT", "/1.0/artifacts/vddk8/file"));
        assert_false(api_streams_body("GET", "/1.0/artifacts/vddk8/file"));
        assert_false(api_streams_body("PUT", "/1.0/artifacts/vddk8"));
        assert_false(api_streams_body("POST", "/1.0/batches"));
        assert_false(api_streams_body("PUT", "/nope"));
}

static void test_query_arguments_are_found_by_key(_unused_ void **state)
{
        struct api_request req = {
                .args = { "recursion=1", "filter=cpus >= 4 && os == 'a=b'", "all" },
                .n_args = 3,
        };

        assert_string_equal(api_request_arg(&req, "recursion"), "1");
        assert_string_equal(api_request_arg(&req, "filter"), "cpus >= 4 && os == 'a=b'");
        assert_string_equal(api_request_arg(&req, "all"), "");
        assert_null(api_request_arg(&req, "recurse"));
        assert_null(api_request_arg(&req, "rec"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sync_envelope_wraps_metadata_in_every_incus_field),
                cmocka_unit_test(test_sync_envelope_without_metadata_has_null_metadata),
                cmocka_unit_test(test_error_envelope_carries_code_and_message),
                cmocka_unit_test(test_response_error_formats_the_message),
                cmocka_unit_test(test_method_names_are_upper_case_http_methods),
                cmocka_unit_test(test_unknown_path_answers_404),
                cmocka_unit_test(test_path_that_only_starts_like_an_endpoint_answers_404),
                cmocka_unit_test(test_method_without_handler_answers_405_naming_it),
                cmocka_unit_test(test_root_lists_the_api_versions),
                cmocka_unit_test(test_server_describes_itself_from_the_daemon),
                cmocka_unit_test(test_trailing_slash_names_the_same_endpoint),
                cmocka_unit_test(test_untrusted_clients_get_403_except_on_server_info),
                cmocka_unit_test(test_untrusted_clients_may_post_to_the_worker_endpoints_only),
                cmocka_unit_test(test_routes_with_placeholders_match_one_segment),
                cmocka_unit_test(test_only_artifact_files_stream_their_body),
                cmocka_unit_test(test_query_arguments_are_found_by_key),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
