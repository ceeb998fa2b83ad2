/* SPDX-License-Identifier: Apache-2.0 */
/*
 * src/daemon/hooks.c without a thread: where webhooks may go, and which
 * events a hook's list matches.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "daemon/hooks.h"

static void assert_url(const char *url, const char *endpoint, const char *path)
{
        _cleanup_free_ char *e = NULL, *p = NULL;
        struct ferry_error err = {};

        if (hooks_webhook_url(url, &e, &p, &err) < 0)
                fail_msg("%s: %s", url, err.message);
        assert_string_equal(e, endpoint);
        assert_string_equal(p, path);
}

static void assert_url_refused(const char *url, int code, const char *message)
{
        _cleanup_free_ char *e = NULL, *p = NULL;
        struct ferry_error err = {};

        assert_int_equal(hooks_webhook_url(url, &e, &p, &err), code);
        assert_string_equal(err.message, message);
        assert_null(e);
        assert_null(p);
}

static void test_https_urls_go_anywhere(void **state)
{
        (void) state;
        assert_url("https://hooks.example.org/services/T1?x=1#frag", "https://hooks.example.org",
                   "/services/T1?x=1");
        assert_url("https://hooks.example.org:8443", "https://hooks.example.org:8443", "/");
        assert_url("https://hooks.example.org?x", "https://hooks.example.org", "/?x");
}

static void test_plain_http_goes_only_to_loopback(void **state)
{
        (void) state;
        assert_url("http://127.0.0.1:8080/h", "http://127.0.0.1:8080", "/h");
        assert_url("http://localhost/h", "http://localhost", "/h");
        assert_url("http://[::1]:9/h", "http://[::1]:9", "/h");
        assert_url_refused("http://10.0.0.1/h", -EPERM,
                           "Webhook URL 'http://10.0.0.1/h' must be https://, or http:// to 127.0.0.1, [::1] or localhost");
        assert_url_refused("http://127.0.0.1.example.org/h", -EPERM,
                           "Webhook URL 'http://127.0.0.1.example.org/h' must be https://, or http:// to 127.0.0.1, "
                           "[::1] or localhost");
        assert_url_refused("file:///etc/passwd", -EPERM,
                           "Webhook URL 'file:///etc/passwd' must be https://, or http:// to 127.0.0.1, [::1] or "
                           "localhost");
}

static void test_urls_without_a_host_or_with_credentials_are_refused(void **state)
{
        (void) state;
        assert_url_refused("https:///x", -EINVAL, "Webhook URL 'https:///x' is not a URL with a host");
        assert_url_refused("http://evil.org@127.0.0.1/", -EINVAL,
                           "Webhook URL 'http://evil.org@127.0.0.1/' is not a URL with a host");
        assert_url_refused("https://a b/", -EINVAL, "Webhook URL 'https://a b/' is not a URL with a host");
}

static void test_events_match_by_action_or_star(void **state)
{
        _cleanup_json_ json_t *some = json_pack("[s, s]", "batch-created", "batch-deleted");
        _cleanup_json_ json_t *all = json_pack("[s]", "*");

        (void) state;
        assert_true(hooks_events_match(some, "batch-deleted"));
        assert_false(hooks_events_match(some, "batch-updated"));
        assert_true(hooks_events_match(all, "instance-started"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_https_urls_go_anywhere),
                cmocka_unit_test(test_plain_http_goes_only_to_loopback),
                cmocka_unit_test(test_urls_without_a_host_or_with_credentials_are_refused),
                cmocka_unit_test(test_events_match_by_action_or_star),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
