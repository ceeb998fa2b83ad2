/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The built ferryd, run in a temporary data directory: what it answers on
 * its unix socket, how it shares (or refuses to share) the socket path,
 * and how it stops.  Needs no lab.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/http.h"
#include "common/json.h"
#include "common/macros.h"
#include "common/strbuf.h"
#include "ferryd-fixture.h"

#ifndef FERRYD_PATH
#error "FERRYD_PATH must name the ferryd binary under test"
#endif

/* Run a second ferryd on the same data directory to completion. */
static int run_ferryd(struct ferryd_fixture *f, char **ret_stderr)
{
        return proc_run((char *const[]) { FERRYD_PATH, "--data-dir", f->data_dir, NULL }, NULL, ret_stderr);
}

/* method path on the socket; returns the parsed answer, asserts JSON. */
static json_t *request(const char *socket_path, const char *method, const char *path, const char *body,
                       long *ret_status)
{
        _cleanup_free_ char *endpoint = NULL;
        _cleanup_http_client_ struct http_client *c = NULL;
        struct http_response resp = {};
        struct ferry_error err = {};
        json_error_t jerr;
        json_t *v;

        assert_non_null(endpoint = strjoin("unix://", socket_path, NULL));
        c = http_client_new(&(struct http_client_config) { .endpoint = endpoint, .timeout_ms = 10000 }, &err);
        if (!c)
                fail_msg("http_client_new(): %s", err.message);

        if (http_request(c, method, path, body ? "application/json" : NULL, body, body ? strlen(body) : 0, NULL,
                         &resp, &err) < 0)
                fail_msg("%s %s: %s", method, path, err.message);
        assert_string_equal(resp.content_type, "application/json");
        v = json_loadb(resp.body, resp.body_len, 0, &jerr);
        if (!v)
                fail_msg("%s %s: answer is not JSON (%s): %s", method, path, jerr.text, resp.body);
        *ret_status = resp.status;
        http_response_done(&resp);
        return v;
}

static const char *string_at(const json_t *v, const char *key)
{
        const char *s = json_string_value(json_object_get(v, key));

        if (!s)
                fail_msg("'%s' is not a string", key);
        return s;
}

static json_int_t integer_at(const json_t *v, const char *key)
{
        json_t *i = json_object_get(v, key);

        if (!json_is_integer(i))
                fail_msg("'%s' is not an integer", key);
        return json_integer_value(i);
}

static void assert_error_envelope(const json_t *v, int code, const char *message)
{
        assert_string_equal(string_at(v, "type"), "error");
        assert_string_equal(string_at(v, "status"), "");
        assert_int_equal(integer_at(v, "status_code"), 0);
        assert_string_equal(string_at(v, "operation"), "");
        assert_int_equal(integer_at(v, "error_code"), code);
        assert_string_equal(string_at(v, "error"), message);
        assert_true(json_is_null(json_object_get(v, "metadata")));
}

static void test_get_1_0_answers_a_sync_envelope_describing_the_server(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_json_ json_t *v = NULL;
        char hostname[HOST_NAME_MAX + 1] = {};
        json_t *m, *env, *ext;
        long status;

        ferryd_fixture_start(f);
        v = request(f->socket_path, "GET", "/1.0", NULL, &status);

        assert_int_equal(status, 200);
        assert_string_equal(string_at(v, "type"), "sync");
        assert_string_equal(string_at(v, "status"), "Success");
        assert_int_equal(integer_at(v, "status_code"), 200);
        assert_string_equal(string_at(v, "operation"), "");
        assert_int_equal(integer_at(v, "error_code"), 0);
        assert_string_equal(string_at(v, "error"), "");

        m = json_object_get(v, "metadata");
        assert_true(json_is_object(m));
        assert_string_equal(string_at(m, "api_version"), "1.0");
        assert_string_equal(string_at(m, "api_status"), "development");
        assert_string_equal(string_at(m, "server_version"), FERRY_VERSION);
        assert_string_equal(string_at(m, "auth"), "trusted");
        ext = json_object_get(m, "api_extensions");
        assert_true(json_is_array(ext));
        assert_int_equal(json_array_size(ext), 0);

        env = json_object_get(m, "environment");
        assert_true(json_is_object(env));
        assert_string_equal(string_at(env, "data_dir"), f->data_dir);
        assert_int_equal(integer_at(env, "pid"), f->ferryd.pid);
        assert_int_equal(gethostname(hostname, sizeof(hostname) - 1), 0);
        assert_string_equal(string_at(env, "server_name"), hostname);
}

static void test_unknown_path_answers_404_error_envelope(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_json_ json_t *v = NULL;
        long status;

        ferryd_fixture_start(f);
        v = request(f->socket_path, "GET", "/1.0/nope", NULL, &status);

        assert_int_equal(status, 404);
        assert_error_envelope(v, 404, "Not found");
}

static void test_method_without_handler_answers_405_error_envelope(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_json_ json_t *v = NULL;
        long status;

        ferryd_fixture_start(f);
        v = request(f->socket_path, "POST", "/1.0", "{\"config\": {}}", &status);

        assert_int_equal(status, 405);
        assert_error_envelope(v, 405, "Method 'POST' is not allowed on '/1.0'");
}

static void test_one_connection_serves_several_requests(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_free_ char *endpoint = NULL;
        _cleanup_http_client_ struct http_client *c = NULL;
        struct ferry_error err = {};
        const char *paths[] = { "/1.0", "/1.0/nope", "/", "/1.0/" };
        const long expected[] = { 200, 404, 200, 200 };

        ferryd_fixture_start(f);
        assert_non_null(endpoint = strjoin("unix://", f->socket_path, NULL));
        assert_non_null(c = http_client_new(&(struct http_client_config) { .endpoint = endpoint }, &err));

        /* The same curl handle keeps its connection alive between requests. */
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                struct http_response resp = {};

                if (http_request(c, "GET", paths[i], NULL, NULL, 0, NULL, &resp, &err) < 0)
                        fail_msg("GET %s: %s", paths[i], err.message);
                assert_int_equal(resp.status, expected[i]);
                http_response_done(&resp);
        }
}

static void test_missing_data_dir_is_created_private_with_socket_mode_0660(void **state)
{
        struct ferryd_fixture *f = *state;
        struct stat st;

        /* Two levels that do not exist yet. */
        ferryd_fixture_set_data_dir(f, "var/ferry");

        ferryd_fixture_start(f);

        assert_int_equal(stat(f->data_dir, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0700);
        assert_int_equal(lstat(f->socket_path, &st), 0);
        assert_true(S_ISSOCK(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0660);
}

static void test_second_ferryd_on_the_same_data_dir_refuses_to_start(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_free_ char *err = NULL, *expected = NULL;
        _cleanup_json_ json_t *v = NULL;
        long status;

        ferryd_fixture_start(f);

        assert_int_equal(run_ferryd(f, &err), 1);
        assert_true(asprintf(&expected, "ferryd: error: Another ferryd (pid %d) is already running on '%s'\n",
                             (int) f->ferryd.pid, f->socket_path) > 0);
        assert_string_equal(err, expected);

        /* The first one keeps its socket and still answers. */
        assert_true(proc_running(&f->ferryd));
        v = request(f->socket_path, "GET", "/1.0", NULL, &status);
        assert_int_equal(status, 200);
}

static void test_stale_socket_file_is_replaced(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_json_ json_t *v = NULL;
        long status;

        /* Bound, never listening: what a killed ferryd leaves behind. */
        close(ferryd_fixture_bind_socket(f));

        ferryd_fixture_start(f);
        v = request(f->socket_path, "GET", "/1.0", NULL, &status);
        assert_int_equal(status, 200);
}

static void test_other_listener_on_the_socket_path_makes_ferryd_refuse(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_free_ char *err = NULL, *expected = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        fd = ferryd_fixture_bind_socket(f);
        assert_int_equal(listen(fd, 1), 0);

        assert_int_equal(run_ferryd(f, &err), 1);
        assert_true(asprintf(&expected, "ferryd: error: Another process is already listening on '%s'\n",
                             f->socket_path) > 0);
        assert_string_equal(err, expected);

        /* The other listener's socket file is left alone. */
        assert_int_equal(lstat(f->socket_path, &st), 0);
        assert_true(S_ISSOCK(st.st_mode));
}

static void test_file_that_is_not_a_socket_makes_ferryd_refuse(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_free_ char *err = NULL, *expected = NULL;
        FILE *file;
        struct stat st;

        assert_int_equal(mkdir(f->data_dir, 0700), 0);
        assert_non_null(file = fopen(f->socket_path, "we"));
        fclose(file);

        assert_int_equal(run_ferryd(f, &err), 1);
        assert_true(asprintf(&expected, "ferryd: error: '%s' exists and is not a socket\n", f->socket_path) > 0);
        assert_string_equal(err, expected);

        assert_int_equal(lstat(f->socket_path, &st), 0);
        assert_true(S_ISREG(st.st_mode));
}

static void assert_signal_stops_ferryd_cleanly(struct ferryd_fixture *f, int sig, const char *name)
{
        _cleanup_free_ char *err = NULL, *listening = NULL, *stopping = NULL;
        struct stat st;

        ferryd_fixture_start(f);
        assert_int_equal(kill(f->ferryd.pid, sig), 0);
        assert_int_equal(proc_wait(&f->ferryd, FERRYD_STOP_TIMEOUT_MS), 0);

        assert_int_equal(lstat(f->socket_path, &st), -1);
        assert_int_equal(errno, ENOENT);

        err = proc_stderr(&f->ferryd);
        assert_non_null(listening = strjoin("ferryd: info: Listening on '", f->socket_path, "'\n", NULL));
        assert_non_null(stopping = strjoin("ferryd: info: Received ", name, ", stopping\n", NULL));
        assert_contains(err, listening);
        assert_contains(err, stopping);
}

static void test_sigterm_stops_ferryd_and_removes_the_socket(void **state)
{
        assert_signal_stops_ferryd_cleanly(*state, SIGTERM, "SIGTERM");
}

static void test_sigint_stops_ferryd_and_removes_the_socket(void **state)
{
        assert_signal_stops_ferryd_cleanly(*state, SIGINT, "SIGINT");
}

static void test_unknown_log_level_is_a_usage_error(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_free_ char *err = NULL;
        struct stat st;

        err = proc_run_stderr(2, (char *const[]) { FERRYD_PATH, "--data-dir", f->data_dir, "--log-level", "loud",
                                                   NULL });
        assert_string_equal(err,
                            "ferryd: Unknown log level 'loud': use error, warning, info or debug\n"
                            "Try 'ferryd --help' for more information.\n");
        /* Nothing was started, so nothing was created. */
        assert_int_equal(stat(f->data_dir, &st), -1);
}

static void test_unexpected_argument_is_a_usage_error(void **state)
{
        _cleanup_free_ char *err = proc_run_stderr(2, (char *const[]) { FERRYD_PATH, "start", NULL });

        (void) state;
        assert_string_equal(err,
                            "ferryd: Unexpected argument 'start'\n"
                            "Try 'ferryd --help' for more information.\n");
}

static void test_version_prints_name_and_version(void **state)
{
        (void) state;
        assert_version_output(FERRYD_PATH, "ferryd");
}

static void test_help_names_options_socket_and_man_page(void **state)
{
        (void) state;
        assert_help_mentions(FERRYD_PATH, "Usage: ferryd [OPTIONS]", "--data-dir DIR", "--log-level LEVEL", "--syslog",
                             "DIR/unix.socket", "man ferryd", NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_get_1_0_answers_a_sync_envelope_describing_the_server, ferryd_fixture_setup,
                                                ferryd_fixture_teardown),
                cmocka_unit_test_setup_teardown(test_unknown_path_answers_404_error_envelope, ferryd_fixture_setup, ferryd_fixture_teardown),
                cmocka_unit_test_setup_teardown(test_method_without_handler_answers_405_error_envelope, ferryd_fixture_setup,
                                                ferryd_fixture_teardown),
                cmocka_unit_test_setup_teardown(test_one_connection_serves_several_requests, ferryd_fixture_setup, ferryd_fixture_teardown),
                cmocka_unit_test_setup_teardown(test_missing_data_dir_is_created_private_with_socket_mode_0660,
                                                ferryd_fixture_setup, ferryd_fixture_teardown),
                cmocka_unit_test_setup_teardown(test_second_ferryd_on_the_same_data_dir_refuses_to_start, ferryd_fixture_setup,
                                                ferryd_fixture_teardown),
                cmocka_unit_test_setup_teardown(test_stale_socket_file_is_replaced, ferryd_fixture_setup, ferryd_fixture_teardown),
                cmocka_unit_test_setup_teardown(test_other_listener_on_the_socket_path_makes_ferryd_refuse, ferryd_fixture_setup,
                                                ferryd_fixture_teardown),
                cmocka_unit_test_setup_teardown(test_file_that_is_not_a_socket_makes_ferryd_refuse, ferryd_fixture_setup,
                                                ferryd_fixture_teardown),
                cmocka_unit_test_setup_teardown(test_sigterm_stops_ferryd_and_removes_the_socket, ferryd_fixture_setup, ferryd_fixture_teardown),
                cmocka_unit_test_setup_teardown(test_sigint_stops_ferryd_and_removes_the_socket, ferryd_fixture_setup, ferryd_fixture_teardown),
                cmocka_unit_test_setup_teardown(test_unknown_log_level_is_a_usage_error, ferryd_fixture_setup, ferryd_fixture_teardown),
                cmocka_unit_test(test_unexpected_argument_is_a_usage_error),
                cmocka_unit_test(test_version_prints_name_and_version),
                cmocka_unit_test(test_help_names_options_socket_and_man_page),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
