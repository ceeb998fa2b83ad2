/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry's Incus client against the lab's incusd: envelopes, Incus's own
 * error messages, ?project=, operations waited on, timed out and cancelled.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/strbuf.h"
#include "lab.h"
#include "target/incus/client.h"

static struct incus_client *unix_client(void)
{
        _cleanup_free_ char *endpoint = NULL;
        struct ferry_error err = {};
        struct incus_client *c;

        assert_non_null(endpoint = strjoin("unix://", lab_env("LAB_INCUS_SOCKET"), NULL));
        c = incus_client_new(&(struct incus_client_config) { .endpoint = endpoint }, &err);
        if (!c)
                fail_msg("%s", err.message);
        return c;
}

static void test_server_over_unix_socket_is_trusted(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = unix_client();
        _cleanup_json_ json_t *server = NULL;
        struct ferry_error err = {};

        (void) state;
        if (incus_get(c, "/1.0", NULL, &server, &err) < 0)
                fail_msg("%s", err.message);
        assert_string_equal(json_string_value(json_object_get(server, "auth")), "trusted");
}

static void test_server_over_https_with_pinned_certificate_is_trusted(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = NULL;
        _cleanup_json_ json_t *server = NULL;
        struct ferry_error err = {};

        (void) state;
        c = incus_client_new(&(struct incus_client_config) {
                                     .endpoint = lab_env("LAB_INCUS_URL"),
                                     .client_cert = lab_env("LAB_INCUS_CLIENT_CERT"),
                                     .client_key = lab_env("LAB_INCUS_CLIENT_KEY"),
                                     .server_fingerprint = lab_env("LAB_INCUS_FINGERPRINT"),
                             },
                             &err);
        assert_non_null(c);
        if (incus_get(c, "/1.0", NULL, &server, &err) < 0)
                fail_msg("%s", err.message);
        assert_string_equal(json_string_value(json_object_get(server, "auth")), "trusted");
        assert_string_equal(incus_client_peer_fingerprint(c), lab_env("LAB_INCUS_FINGERPRINT"));
}

static void test_missing_object_fails_with_incus_message(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = unix_client();
        _cleanup_json_ json_t *pool = NULL;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(incus_get(c, "/1.0/storage-pools/nosuchpool", NULL, &pool, &err), -ENOENT);
        assert_string_equal(err.message, "Storage pool not found");
        assert_null(pool);
}

static void test_project_parameter_reaches_incus(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = unix_client();
        _cleanup_json_ json_t *profile = NULL, *missing = NULL;
        struct ferry_error err = {};

        (void) state;
        if (incus_get(c, "/1.0/profiles/default", lab_env("LAB_INCUS_PROJECT"), &profile, &err) < 0)
                fail_msg("%s", err.message);
        assert_string_equal(json_string_value(json_object_get(profile, "project")), lab_env("LAB_INCUS_PROJECT"));

        assert_int_equal(incus_get(c, "/1.0/profiles/default", "nosuchproject", &missing, &err), -ENOENT);
        assert_non_null(strstr(err.message, "not found"));
}

/* A custom filesystem volume: creating one is an operation. */
static void test_async_create_is_waited_for_and_delete_removes(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = unix_client();
        _cleanup_json_ json_t *body = NULL, *op = NULL, *vol = NULL, *gone = NULL;
        _cleanup_free_ char *path = NULL, *vol_path = NULL;
        struct ferry_error err = {};
        const char *project = lab_env("LAB_INCUS_PROJECT");

        (void) state;
        assert_non_null(path = strjoin("/1.0/storage-pools/", lab_env("LAB_INCUS_POOL"), "/volumes/custom", NULL));
        assert_non_null(vol_path = strjoin(path, "/ferry-client-fs", NULL));
        body = json_pack("{s:s, s:s, s:{}}", "name", "ferry-client-fs", "content_type", "filesystem", "config");

        if (incus_call_wait(c, &(struct incus_request) { .method = "POST", .path = path, .project = project, .body = body },
                            30, NULL, &op, &err) < 0)
                fail_msg("%s", err.message);
        if (incus_get(c, vol_path, project, &vol, &err) < 0)
                fail_msg("%s", err.message);
        assert_string_equal(json_string_value(json_object_get(vol, "content_type")), "filesystem");

        /* Creating it again: Incus's conflict message comes through. */
        assert_int_equal(incus_call_wait(c, &(struct incus_request) { .method = "POST", .path = path,
                                                                      .project = project, .body = body },
                                         30, NULL, NULL, &err),
                         -EEXIST);
        assert_non_null(strstr(err.message, "already exists"));

        if (incus_call_wait(c, &(struct incus_request) { .method = "DELETE", .path = vol_path, .project = project },
                            30, NULL, NULL, &err) < 0)
                fail_msg("%s", err.message);
        assert_int_equal(incus_get(c, vol_path, project, &gone, &err), -ENOENT);
}

/* A trust token is an operation that runs until it is used or
 * cancelled: the one to time out and to cancel. */
static void start_token(struct incus_client *c, const char *name, struct incus_response *ret)
{
        _cleanup_json_ json_t *body = NULL;
        struct ferry_error err = {};

        body = json_pack("{s:s, s:s, s:b}", "name", name, "type", "client", "token", 1);
        if (incus_call(c, &(struct incus_request) { .method = "POST", .path = "/1.0/certificates", .body = body },
                       ret, &err) < 0)
                fail_msg("%s", err.message);
        assert_int_equal(ret->type, INCUS_RESPONSE_ASYNC);
}

static void test_wait_past_its_timeout_fails_and_cancel_ends_the_operation(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = unix_client();
        _cleanup_free_ char *expected = NULL;
        struct incus_response resp = {};
        struct ferry_error err = {};

        (void) state;
        start_token(c, "ferry-client-timeout", &resp);

        if (incus_operation_wait(c, resp.operation, 1, NULL, NULL, &err) != -ETIMEDOUT)
                fail_msg("%s", err.message);
        assert_true(asprintf(&expected, "Operation '%s' did not finish within 1 seconds",
                             strrchr(resp.operation, '/') + 1) > 0);
        assert_string_equal(err.message, expected);

        if (incus_operation_cancel(c, resp.operation, &err) < 0)
                fail_msg("%s", err.message);
        assert_int_equal(incus_operation_wait(c, resp.operation, 30, NULL, NULL, &err), -ECANCELED);
        incus_response_done(&resp);
}

static void test_wait_with_cancel_flag_cancels_the_operation(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = unix_client();
        _cleanup_free_ char *expected = NULL;
        struct incus_response resp = {};
        struct ferry_error err = {};
        atomic_bool cancel = true;

        (void) state;
        start_token(c, "ferry-client-cancel", &resp);

        assert_int_equal(incus_operation_wait(c, resp.operation, 30, &cancel, NULL, &err), -ECANCELED);
        assert_true(asprintf(&expected, "Operation '%s' was cancelled", strrchr(resp.operation, '/') + 1) > 0);
        assert_string_equal(err.message, expected);
        /* Cancelling again: Incus says why not. */
        assert_true(incus_operation_cancel(c, resp.operation, &err) < 0);
        incus_response_done(&resp);
}

static void test_connection_refused_names_the_endpoint(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = NULL;
        _cleanup_json_ json_t *server = NULL;
        struct ferry_error err = {};

        (void) state;
        c = incus_client_new(&(struct incus_client_config) { .endpoint = "unix:///nonexistent/incus.socket" }, &err);
        assert_non_null(c);
        assert_int_equal(incus_get(c, "/1.0", NULL, &server, &err), -ECONNREFUSED);
        assert_string_equal(err.message,
                            "Cannot connect to 'unix:///nonexistent/incus.socket': No such file or directory");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_server_over_unix_socket_is_trusted),
                cmocka_unit_test(test_server_over_https_with_pinned_certificate_is_trusted),
                cmocka_unit_test(test_missing_object_fails_with_incus_message),
                cmocka_unit_test(test_project_parameter_reaches_incus),
                cmocka_unit_test(test_async_create_is_waited_for_and_delete_removes),
                cmocka_unit_test(test_wait_past_its_timeout_fails_and_cancel_ends_the_operation),
                cmocka_unit_test(test_wait_with_cancel_flag_cancels_the_operation),
                cmocka_unit_test(test_connection_refused_names_the_endpoint),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
