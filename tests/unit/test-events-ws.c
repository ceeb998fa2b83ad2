/* SPDX-License-Identifier: Apache-2.0 */
/*
 * src/daemon/events-ws.c without a server: the ?type= list and the
 * decision on a websocket upgrade of GET /1.0/events.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/json.h"
#include "daemon/api.h"
#include "daemon/daemon.h"
#include "daemon/events-ws.h"
#include "daemon/events.h"

#define UNKNOWN_TYPE_HELP "': use lifecycle, operation or logging"

static void assert_types(const char *s, unsigned expected)
{
        struct ferry_error err = {};
        unsigned mask = 0;

        assert_int_equal(events_ws_parse_types(s, &mask, &err), 0);
        assert_int_equal(mask, expected);
}

static void assert_types_refused(const char *s, const char *message)
{
        struct ferry_error err = {};
        unsigned mask = 0xdead;

        assert_int_equal(events_ws_parse_types(s, &mask, &err), -EINVAL);
        assert_string_equal(err.message, message);
        assert_int_equal(mask, 0xdead);
}

static void test_no_type_list_means_every_type(_unused_ void **state)
{
        assert_types(NULL, EVENT_TYPE_MASK(EVENT_LIFECYCLE) | EVENT_TYPE_MASK(EVENT_OPERATION) |
                                   EVENT_TYPE_MASK(EVENT_LOGGING));
        assert_types("", EVENT_TYPE_MASK_ALL);
}

static void test_one_type_selects_only_that_type(_unused_ void **state)
{
        assert_types("lifecycle", EVENT_TYPE_MASK(EVENT_LIFECYCLE));
        assert_types("operation", EVENT_TYPE_MASK(EVENT_OPERATION));
        assert_types("logging", EVENT_TYPE_MASK(EVENT_LOGGING));
}

static void test_a_comma_list_selects_each_type_once(_unused_ void **state)
{
        assert_types("lifecycle,logging", EVENT_TYPE_MASK(EVENT_LIFECYCLE) | EVENT_TYPE_MASK(EVENT_LOGGING));
        assert_types("logging,lifecycle,logging", EVENT_TYPE_MASK(EVENT_LIFECYCLE) | EVENT_TYPE_MASK(EVENT_LOGGING));
        assert_types("operation,logging,lifecycle", EVENT_TYPE_MASK_ALL);
}

static void test_an_unknown_type_is_refused_by_name(_unused_ void **state)
{
        assert_types_refused("bogus", "Unknown event type 'bogus" UNKNOWN_TYPE_HELP);
        assert_types_refused("lifecycle,bogus", "Unknown event type 'bogus" UNKNOWN_TYPE_HELP);
}

static void test_type_names_are_case_sensitive(_unused_ void **state)
{
        assert_types_refused("Lifecycle", "Unknown event type 'Lifecycle" UNKNOWN_TYPE_HELP);
}

static void test_an_empty_name_in_the_list_is_refused(_unused_ void **state)
{
        assert_types_refused("lifecycle,", "Unknown event type '" UNKNOWN_TYPE_HELP);
        assert_types_refused(",logging", "Unknown event type '" UNKNOWN_TYPE_HELP);
        assert_types_refused("lifecycle,,logging", "Unknown event type '" UNKNOWN_TYPE_HELP);
}

static void test_spaces_around_names_are_not_trimmed(_unused_ void **state)
{
        assert_types_refused("lifecycle, logging", "Unknown event type ' logging" UNKNOWN_TYPE_HELP);
}

static struct api_request request(const char *method, const char *path, const char *arg, bool trusted)
{
        struct api_request req = {
                .method = method,
                .path = path,
                .requestor = { .protocol = trusted ? "unix" : "tls", .username = "", .trusted = trusted },
        };

        if (arg)
                req.args[req.n_args++] = arg;
        return req;
}

static void assert_refusal(const struct api_response *r, int status, const char *message)
{
        assert_int_equal(r->status, status);
        assert_string_equal(json_string_value(json_object_get(r->envelope, "type")), "error");
        assert_int_equal(json_integer_value(json_object_get(r->envelope, "error_code")), status);
        assert_string_equal(json_string_value(json_object_get(r->envelope, "error")), message);
}

static void test_an_upgrade_of_the_events_path_goes_ahead(_unused_ void **state)
{
        _cleanup_api_response_ struct api_response resp = {};
        struct api_request req = request("GET", "/1.0/events", NULL, true);

        assert_int_equal(events_ws_check_upgrade(&req, NULL, &resp), 0);
        assert_null(resp.envelope);

        req = request("GET", "/1.0/events/", "type=lifecycle,logging", true);
        assert_int_equal(events_ws_check_upgrade(&req, NULL, &resp), 0);
        assert_null(resp.envelope);
}

static void test_an_upgrade_with_an_unknown_type_is_refused_with_400(_unused_ void **state)
{
        _cleanup_api_response_ struct api_response resp = {};
        struct api_request req = request("GET", "/1.0/events", "type=lifecycle,bogus", true);

        assert_int_equal(events_ws_check_upgrade(&req, NULL, &resp), 1);
        assert_refusal(&resp, 400, "Unknown event type 'bogus" UNKNOWN_TYPE_HELP);
}

static void test_an_untrusted_client_gets_403_instead_of_an_upgrade(_unused_ void **state)
{
        _cleanup_api_response_ struct api_response resp = {};
        struct api_request req = request("GET", "/1.0/events", NULL, false);

        assert_int_equal(events_ws_check_upgrade(&req, NULL, &resp), 1);
        assert_refusal(&resp, 403, "Not authorized: this client certificate is not trusted");
}

static void test_an_untrusted_client_gets_403_before_its_type_list_is_read(_unused_ void **state)
{
        _cleanup_api_response_ struct api_response resp = {};
        struct api_request req = request("GET", "/1.0/events", "type=bogus", false);

        assert_int_equal(events_ws_check_upgrade(&req, NULL, &resp), 1);
        assert_refusal(&resp, 403, "Not authorized: this client certificate is not trusted");
}

static void test_an_upgrade_of_another_path_is_refused_with_400(_unused_ void **state)
{
        _cleanup_api_response_ struct api_response resp = {};
        struct api_request req = request("GET", "/1.0/batches", NULL, true);

        assert_int_equal(events_ws_check_upgrade(&req, NULL, &resp), 1);
        assert_refusal(&resp, 400, "'/1.0/batches' is not a websocket: only /1.0/events is");
}

static void test_an_upgrade_of_another_path_by_an_untrusted_client_is_refused_with_403(_unused_ void **state)
{
        _cleanup_api_response_ struct api_response resp = {};
        struct api_request req = request("GET", "/1.0/nowhere", NULL, false);

        assert_int_equal(events_ws_check_upgrade(&req, NULL, &resp), 1);
        assert_refusal(&resp, 403, "Not authorized: this client certificate is not trusted");
}

static void test_an_upgrade_with_another_method_is_refused_with_405(_unused_ void **state)
{
        _cleanup_api_response_ struct api_response resp = {};
        struct api_request req = request("POST", "/1.0/events", NULL, true);

        assert_int_equal(events_ws_check_upgrade(&req, NULL, &resp), 1);
        assert_refusal(&resp, 405, "Method 'POST' is not allowed on '/1.0/events'");
}

static void test_an_upgrade_naming_a_subprotocol_is_refused_with_400(_unused_ void **state)
{
        _cleanup_api_response_ struct api_response resp = {};
        struct api_request req = request("GET", "/1.0/events", NULL, true);

        assert_int_equal(events_ws_check_upgrade(&req, "chat, superchat", &resp), 1);
        assert_refusal(&resp, 400,
                       "The event stream has no subprotocol: send no Sec-WebSocket-Protocol header, not "
                       "'chat, superchat'");
}

static struct daemon test_daemon = { .lock_fd = -EBADF };

static void test_a_plain_get_of_the_events_path_says_it_is_a_websocket(_unused_ void **state)
{
        _cleanup_api_response_ struct api_response resp = {};
        struct api_request req = request("GET", "/1.0/events", "type=logging", true);

        assert_int_equal(api_handle(&test_daemon, &req, &resp), 0);
        assert_refusal(&resp, 400,
                       "The event stream is a websocket: send 'Connection: Upgrade' and 'Upgrade: websocket'");
}

static void test_a_plain_get_with_an_unknown_type_names_the_type(_unused_ void **state)
{
        _cleanup_api_response_ struct api_response resp = {};
        struct api_request req = request("GET", "/1.0/events", "type=bogus", true);

        assert_int_equal(api_handle(&test_daemon, &req, &resp), 0);
        assert_refusal(&resp, 400, "Unknown event type 'bogus" UNKNOWN_TYPE_HELP);
}

static void test_a_plain_get_by_an_untrusted_client_is_refused_with_403(_unused_ void **state)
{
        _cleanup_api_response_ struct api_response resp = {};
        struct api_request req = request("GET", "/1.0/events", NULL, false);

        assert_int_equal(api_handle(&test_daemon, &req, &resp), 0);
        assert_refusal(&resp, 403, "Not authorized: this client certificate is not trusted");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_no_type_list_means_every_type),
                cmocka_unit_test(test_one_type_selects_only_that_type),
                cmocka_unit_test(test_a_comma_list_selects_each_type_once),
                cmocka_unit_test(test_an_unknown_type_is_refused_by_name),
                cmocka_unit_test(test_type_names_are_case_sensitive),
                cmocka_unit_test(test_an_empty_name_in_the_list_is_refused),
                cmocka_unit_test(test_spaces_around_names_are_not_trimmed),
                cmocka_unit_test(test_an_upgrade_of_the_events_path_goes_ahead),
                cmocka_unit_test(test_an_upgrade_with_an_unknown_type_is_refused_with_400),
                cmocka_unit_test(test_an_untrusted_client_gets_403_instead_of_an_upgrade),
                cmocka_unit_test(test_an_untrusted_client_gets_403_before_its_type_list_is_read),
                cmocka_unit_test(test_an_upgrade_of_another_path_is_refused_with_400),
                cmocka_unit_test(test_an_upgrade_of_another_path_by_an_untrusted_client_is_refused_with_403),
                cmocka_unit_test(test_an_upgrade_with_another_method_is_refused_with_405),
                cmocka_unit_test(test_an_upgrade_naming_a_subprotocol_is_refused_with_400),
                cmocka_unit_test(test_a_plain_get_of_the_events_path_says_it_is_a_websocket),
                cmocka_unit_test(test_a_plain_get_with_an_unknown_type_names_the_type),
                cmocka_unit_test(test_a_plain_get_by_an_untrusted_client_is_refused_with_403),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
