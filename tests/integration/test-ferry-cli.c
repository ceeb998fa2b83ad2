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
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/macros.h"
#include "common/strbuf.h"
#include "proc.h"

#ifndef FERRYD_PATH
#error "FERRYD_PATH must name the ferryd binary under test"
#endif
#ifndef FERRY_PATH
#error "FERRY_PATH must name the ferry binary under test"
#endif

#define START_TIMEOUT_MS 20000
#define STOP_TIMEOUT_MS 20000

struct fixture {
        char *dir;
        char *data_dir;
        char *socket_path;
        struct proc ferryd;
        struct proc fake;       /* a forked fake server */
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        f->dir = tmpdir_new();
        assert_non_null(f->data_dir = strjoin(f->dir, "/data", NULL));
        assert_non_null(f->socket_path = strjoin(f->data_dir, "/unix.socket", NULL));
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        /* Stopped the way systemd does it: a leak found by the sanitizers
         * or a crash on the way out fails the test. */
        int r = proc_terminate(&f->ferryd, STOP_TIMEOUT_MS) == 0 ? 0 : -1;

        unsetenv("FERRY_DIR");
        proc_cleanup(&f->ferryd);
        proc_cleanup(&f->fake);
        tmpdir_remove(f->dir);
        free(f->socket_path);
        free(f->data_dir);
        free(f->dir);
        free(f);
        return r;
}

static void start_ferryd(struct fixture *f)
{
        proc_start(&f->ferryd, (char *const[]) { FERRYD_PATH, "--data-dir", f->data_dir, NULL });
        proc_wait_for_socket(&f->ferryd, f->socket_path, START_TIMEOUT_MS);
}

static int bind_socket(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        assert_true(strlen(path) < sizeof(sa.sun_path));
        memcpy(sa.sun_path, path, strlen(path));
        assert_true((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        return fd;
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
        assert_int_equal(mkdir(f->data_dir, 0700), 0);
        fd = bind_socket(f->socket_path);
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

        start_ferryd(f);
        assert_int_equal(proc_run((char *const[]) { FERRY_PATH, "--socket", f->socket_path, "info", NULL }, &out,
                                  &err),
                         0);
        assert_string_equal(err, "");
        assert_true(startswith(out, "api_version: '1.0'\n"));
        assert_contains(out, "\napi_status: development\n");
        assert_contains(out, "\nserver_version: '" FERRY_VERSION "'\n");
        assert_contains(out, "\nauth: trusted\n");
        assert_contains(out, "\napi_extensions: []\n");
        assert_contains(out, "\nenvironment:\n");
        assert_non_null(data_dir_line = strjoin("\n  data_dir: ", f->data_dir, "\n", NULL));
        assert_contains(out, data_dir_line);
        assert_true(asprintf(&pid_line, "\n  pid: %d\n", (int) f->ferryd.pid) > 0);
        assert_contains(out, pid_line);
}

static void test_info_finds_the_socket_through_ferry_dir(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = NULL, *data_dir_line = NULL;

        start_ferryd(f);
        assert_int_equal(setenv("FERRY_DIR", f->data_dir, 1), 0);
        assert_int_equal(proc_run((char *const[]) { FERRY_PATH, "info", NULL }, &out, NULL), 0);
        assert_non_null(data_dir_line = strjoin("\n  data_dir: ", f->data_dir, "\n", NULL));
        assert_contains(out, data_dir_line);
}

static void test_socket_option_wins_over_ferry_dir(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = NULL, *bogus = NULL;

        start_ferryd(f);
        assert_non_null(bogus = strjoin(f->dir, "/elsewhere", NULL));
        assert_int_equal(setenv("FERRY_DIR", bogus, 1), 0);
        assert_int_equal(proc_run((char *const[]) { FERRY_PATH, "--socket", f->socket_path, "info", NULL }, &out,
                                  NULL),
                         0);
        assert_contains(out, "auth: trusted\n");
}

static void test_info_without_ferryd_asks_whether_it_runs(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = NULL, *err = NULL, *expected = NULL;

        assert_int_equal(proc_run((char *const[]) { FERRY_PATH, "--socket", f->socket_path, "info", NULL }, &out,
                                  &err),
                         1);
        assert_string_equal(out, "");
        assert_non_null(expected = strjoin("ferry: error: Cannot connect to ferryd at '", f->socket_path,
                                           "': No such file or directory. Is ferryd running?\n", NULL));
        assert_string_equal(err, expected);
}

static void test_info_on_a_stale_socket_says_connection_refused(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL, *expected = NULL;
        _cleanup_close_ int fd = -EBADF;

        /* Bound, never listening: what a killed ferryd leaves. */
        assert_int_equal(mkdir(f->data_dir, 0700), 0);
        fd = bind_socket(f->socket_path);

        assert_int_equal(proc_run((char *const[]) { FERRY_PATH, "--socket", f->socket_path, "info", NULL }, NULL,
                                  &err),
                         1);
        assert_non_null(expected = strjoin("ferry: error: Cannot connect to ferryd at '", f->socket_path,
                                           "': Connection refused. Is ferryd running?\n", NULL));
        assert_string_equal(err, expected);
}

static void test_info_shows_the_message_of_an_error_envelope(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = NULL, *err = NULL;

        start_fake_ferryd(f, "403 Forbidden",
                          "{\"type\":\"error\",\"status\":\"\",\"status_code\":0,\"operation\":\"\","
                          "\"error_code\":403,\"error\":\"Not authorized\",\"metadata\":null}");

        assert_int_equal(proc_run((char *const[]) { FERRY_PATH, "--socket", f->socket_path, "info", NULL }, &out,
                                  &err),
                         1);
        assert_string_equal(out, "");
        assert_string_equal(err, "ferry: error: Not authorized\n");
}

static void test_info_rejects_an_answer_that_is_not_an_envelope(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;

        start_fake_ferryd(f, "200 OK", "hello");

        assert_int_equal(proc_run((char *const[]) { FERRY_PATH, "--socket", f->socket_path, "info", NULL }, NULL,
                                  &err),
                         1);
        assert_string_equal(err,
                            "ferry: error: The answer of ferryd to GET /1.0 (HTTP 200) is not a ferryd envelope\n");
}

static void test_unknown_command_prints_usage_on_stderr(void **state)
{
        _cleanup_free_ char *out = NULL, *err = NULL;

        (void) state;
        assert_int_equal(proc_run((char *const[]) { FERRY_PATH, "bogus", NULL }, &out, &err), 2);
        assert_string_equal(out, "");
        assert_true(startswith(err, "ferry: Unknown command 'bogus'\n"));
        assert_contains(err, "Usage: ferry [--socket PATH] COMMAND [ARGS...]");
        assert_contains(err, "\n  info ");
}

static void test_missing_command_prints_usage_on_stderr(void **state)
{
        _cleanup_free_ char *out = NULL, *err = NULL;

        (void) state;
        assert_int_equal(proc_run((char *const[]) { FERRY_PATH, NULL }, &out, &err), 2);
        assert_string_equal(out, "");
        assert_true(startswith(err, "ferry: A command is required\n"));
        assert_contains(err, "Usage: ferry [--socket PATH] COMMAND [ARGS...]");
}

static void test_info_takes_no_arguments(void **state)
{
        _cleanup_free_ char *err = NULL;

        (void) state;
        assert_int_equal(proc_run((char *const[]) { FERRY_PATH, "info", "extra", NULL }, NULL, &err), 2);
        assert_string_equal(err,
                            "ferry: 'ferry info' takes no arguments\n"
                            "Try 'ferry --help' for more information.\n");
}

static void test_command_help_describes_the_command(void **state)
{
        _cleanup_free_ char *out = NULL;

        (void) state;
        assert_int_equal(proc_run((char *const[]) { FERRY_PATH, "info", "--help", NULL }, &out, NULL), 0);
        assert_true(startswith(out, "Usage: ferry info\n\n"));
        assert_contains(out, "GET /1.0");
}

static void test_help_lists_commands_and_options(void **state)
{
        _cleanup_free_ char *out = NULL;

        (void) state;
        assert_int_equal(proc_run((char *const[]) { FERRY_PATH, "--help", NULL }, &out, NULL), 0);
        assert_contains(out, "Commands:\n  info ");
        assert_contains(out, "--socket PATH");
        assert_contains(out, "$FERRY_DIR/unix.socket");
}

static void test_version_prints_name_and_version(void **state)
{
        _cleanup_free_ char *out = NULL;

        (void) state;
        assert_int_equal(proc_run((char *const[]) { FERRY_PATH, "--version", NULL }, &out, NULL), 0);
        assert_string_equal(out, "ferry " FERRY_VERSION "\n");
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
                cmocka_unit_test_setup_teardown(test_unknown_command_prints_usage_on_stderr, setup, teardown),
                cmocka_unit_test_setup_teardown(test_missing_command_prints_usage_on_stderr, setup, teardown),
                cmocka_unit_test_setup_teardown(test_info_takes_no_arguments, setup, teardown),
                cmocka_unit_test_setup_teardown(test_command_help_describes_the_command, setup, teardown),
                cmocka_unit_test_setup_teardown(test_help_lists_commands_and_options, setup, teardown),
                cmocka_unit_test_setup_teardown(test_version_prints_name_and_version, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
