/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The built ferry CLI against the built ferryd, and against one-shot fake
 * servers for the answers a healthy ferryd does not give.  Needs no lab.
 */
#include <errno.h>
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

#include "common/macros.h"
#include "common/strbuf.h"
#include "ferryd-fixture.h"

#ifndef FERRYD_PATH
#error "FERRYD_PATH must name the ferryd binary under test"
#endif
#ifndef FERRY_PATH
#error "FERRY_PATH must name the ferry binary under test"
#endif

struct fixture {
        struct ferryd_fixture *server;  /* the real ferryd, or the fake's socket path */
        struct proc fake;               /* a forked fake server */
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        f->server = ferryd_fixture_new(FERRYD_PATH);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        int r = ferryd_fixture_stop(f->server);

        unsetenv("FERRY_DIR");
        proc_cleanup(&f->fake);
        ferryd_fixture_free(f->server);
        free(f);
        return r;
}

/* ferry --socket <the fixture's socket> info */
static int run_info(struct fixture *f, char **ret_stdout, char **ret_stderr)
{
        return proc_run((char *const[]) { FERRY_PATH, "--socket", f->server->socket_path, "info", NULL }, ret_stdout,
                        ret_stderr);
}

static void assert_cannot_connect(struct fixture *f, const char *err, const char *reason)
{
        _cleanup_free_ char *expected = NULL;

        assert_non_null(expected = strjoin("Error: Cannot connect to ferryd at '", f->server->socket_path, "': ",
                                           reason, ". Is ferryd running?\n", NULL));
        assert_string_equal(err, expected);
}

/*
 * Listen on the fixture's socket path and answer the first HTTP request
 * (headers only: ferry info sends no body) with status and body, from a
 * forked child.
 */
static void start_fake_ferryd(struct fixture *f, const char *status, const char *body)
{
        _cleanup_free_ char *response = NULL;
        _cleanup_close_ int fd = -EBADF;
        pid_t pid;

        assert_true(asprintf(&response,
                             "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                             "Connection: close\r\n\r\n%s",
                             status, strlen(body), body) > 0);
        fd = ferryd_fixture_bind_socket(f->server);
        assert_int_equal(listen(fd, 1), 0);

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                char buf[8192];
                size_t len = 0;
                ssize_t n;
                int c = accept(fd, NULL, NULL);

                if (c < 0)
                        _exit(1);
                while (len < sizeof(buf) - 1) {
                        n = read(c, buf + len, sizeof(buf) - 1 - len);
                        if (n <= 0)
                                break;
                        len += (size_t) n;
                        buf[len] = '\0';
                        if (strstr(buf, "\r\n\r\n"))
                                break;
                }
                if (write(c, response, strlen(response)) < 0)
                        _exit(1);
                close(c);
                _exit(0);
        }
        f->fake = (struct proc) { .pid = pid };
}

static void test_info_prints_the_server_as_yaml(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = NULL, *err = NULL, *data_dir_line = NULL, *pid_line = NULL;

        ferryd_fixture_start(f->server);
        assert_int_equal(run_info(f, &out, &err), 0);
        assert_string_equal(err, "");
        assert_true(startswith(out, "api_version: '1.0'\n"));
        assert_contains(out, "\napi_status: development\n");
        assert_contains(out, "\nserver_version: '" FERRY_VERSION "'\n");
        assert_contains(out, "\nauth: trusted\n");
        assert_contains(out, "\napi_extensions: []\n");
        assert_contains(out, "\nenvironment:\n");
        assert_non_null(data_dir_line = strjoin("\n  data_dir: ", f->server->data_dir, "\n", NULL));
        assert_contains(out, data_dir_line);
        assert_true(asprintf(&pid_line, "\n  pid: %d\n", (int) f->server->ferryd.pid) > 0);
        assert_contains(out, pid_line);
}

static void test_info_finds_the_socket_through_ferry_dir(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = NULL, *data_dir_line = NULL;

        ferryd_fixture_start(f->server);
        assert_int_equal(setenv("FERRY_DIR", f->server->data_dir, 1), 0);
        assert_int_equal(proc_run((char *const[]) { FERRY_PATH, "info", NULL }, &out, NULL), 0);
        assert_non_null(data_dir_line = strjoin("\n  data_dir: ", f->server->data_dir, "\n", NULL));
        assert_contains(out, data_dir_line);
}

static void test_socket_option_wins_over_ferry_dir(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = NULL, *bogus = NULL;

        ferryd_fixture_start(f->server);
        assert_non_null(bogus = strjoin(f->server->dir, "/elsewhere", NULL));
        assert_int_equal(setenv("FERRY_DIR", bogus, 1), 0);
        assert_int_equal(run_info(f, &out, NULL), 0);
        assert_contains(out, "auth: trusted\n");
}

static void test_info_without_ferryd_asks_whether_it_runs(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = NULL, *err = NULL;

        assert_int_equal(run_info(f, &out, &err), 1);
        assert_string_equal(out, "");
        assert_cannot_connect(f, err, "No such file or directory");
}

static void test_info_on_a_stale_socket_says_connection_refused(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;
        _cleanup_close_ int fd = -EBADF;

        /* Bound, never listening: what a killed ferryd leaves. */
        fd = ferryd_fixture_bind_socket(f->server);

        assert_int_equal(run_info(f, NULL, &err), 1);
        assert_cannot_connect(f, err, "Connection refused");
}

static void test_info_shows_the_message_of_an_error_envelope(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = NULL, *err = NULL;

        start_fake_ferryd(f, "403 Forbidden",
                          "{\"type\":\"error\",\"status\":\"\",\"status_code\":0,\"operation\":\"\","
                          "\"error_code\":403,\"error\":\"Not authorized\",\"metadata\":null}");

        assert_int_equal(run_info(f, &out, &err), 1);
        assert_string_equal(out, "");
        assert_string_equal(err, "Error: Not authorized\n");
}

static void test_info_rejects_an_answer_that_is_not_an_envelope(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;

        start_fake_ferryd(f, "200 OK", "hello");

        assert_int_equal(run_info(f, NULL, &err), 1);
        assert_string_equal(err,
                            "Error: The answer of ferryd to GET /1.0 (HTTP 200) is not a ferryd envelope\n");
}

static void test_unknown_command_prints_usage_on_stderr(void **state)
{
        (void) state;
        assert_usage_error((char *const[]) { FERRY_PATH, "bogus", NULL }, "ferry: Unknown command 'bogus'\n",
                           "Usage: ferry [--socket PATH] COMMAND [ARGS...]", "\n  info ", NULL);
}

static void test_missing_command_prints_usage_on_stderr(void **state)
{
        (void) state;
        assert_usage_error((char *const[]) { FERRY_PATH, NULL }, "ferry: A command is required\n",
                           "Usage: ferry [--socket PATH] COMMAND [ARGS...]", NULL);
}

static void test_info_takes_no_arguments(void **state)
{
        _cleanup_free_ char *err = proc_run_stderr(2, (char *const[]) { FERRY_PATH, "info", "extra", NULL });

        (void) state;
        assert_string_equal(err,
                            "ferry: 'ferry info' takes no arguments\n"
                            "Try 'ferry --help' for more information.\n");
}

static void test_command_help_describes_the_command(void **state)
{
        _cleanup_free_ char *out = proc_run_stdout(0, (char *const[]) { FERRY_PATH, "info", "--help", NULL });

        (void) state;
        assert_true(startswith(out, "Usage: ferry info\n\n"));
        assert_contains(out, "GET /1.0");
}

static void test_help_lists_commands_and_options(void **state)
{
        (void) state;
        assert_help_mentions(FERRY_PATH, "Commands:\n  info ", "--socket PATH", "$FERRY_DIR/unix.socket", NULL);
}

static void test_version_prints_name_and_version(void **state)
{
        (void) state;
        assert_version_output(FERRY_PATH, "ferry");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_info_prints_the_server_as_yaml, setup, teardown),
                cmocka_unit_test_setup_teardown(test_info_finds_the_socket_through_ferry_dir, setup, teardown),
                cmocka_unit_test_setup_teardown(test_socket_option_wins_over_ferry_dir, setup, teardown),
                cmocka_unit_test_setup_teardown(test_info_without_ferryd_asks_whether_it_runs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_info_on_a_stale_socket_says_connection_refused, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_info_shows_the_message_of_an_error_envelope, setup, teardown),
                cmocka_unit_test_setup_teardown(test_info_rejects_an_answer_that_is_not_an_envelope, setup,
                                                teardown),
                cmocka_unit_test(test_unknown_command_prints_usage_on_stderr),
                cmocka_unit_test(test_missing_command_prints_usage_on_stderr),
                cmocka_unit_test(test_info_takes_no_arguments),
                cmocka_unit_test(test_command_help_describes_the_command),
                cmocka_unit_test(test_help_lists_commands_and_options),
                cmocka_unit_test(test_version_prints_name_and_version),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
