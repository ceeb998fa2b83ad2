/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "common/strbuf.h"

struct captured {
        int calls;
        enum log_level level;
        char message[4096];
};

static void capture_sink(enum log_level level, const char *message, void *userdata)
{
        struct captured *c = userdata;

        c->calls++;
        c->level = level;
        snprintf(c->message, sizeof c->message, "%s", message);
}

/* Redirects stderr into an unlinked temporary file until stderr_capture_end(). */
struct stderr_capture {
        int saved_fd;
        int fd;
};

static void stderr_capture_begin(struct stderr_capture *c)
{
        char path[] = "/tmp/ferry-test-log-XXXXXX";

        c->fd = mkstemp(path);
        assert_true(c->fd >= 0);
        unlink(path);
        c->saved_fd = dup(STDERR_FILENO);
        assert_true(c->saved_fd >= 0);
        assert_true(dup2(c->fd, STDERR_FILENO) >= 0);
}

/* Restore stderr and return what was written to it (free() it). */
static char *stderr_capture_end(struct stderr_capture *c)
{
        struct strbuf sb = STRBUF_INIT;
        char buf[4096];
        ssize_t n;

        assert_true(dup2(c->saved_fd, STDERR_FILENO) >= 0);
        close(c->saved_fd);
        assert_true(lseek(c->fd, 0, SEEK_SET) == 0);
        while ((n = read(c->fd, buf, sizeof buf)) > 0)
                assert_int_equal(strbuf_append_len(&sb, buf, (size_t) n), 0);
        close(c->fd);
        return strbuf_steal(&sb);
}

static int reset_log(_unused_ void **state)
{
        log_set_sink(NULL, NULL);
        log_set_target(LOG_TARGET_STDERR);
        log_set_max_level(LOG_LEVEL_INFO);
        log_set_ident(NULL);
        return 0;
}

static void test_log_level_names_round_trip(_unused_ void **state)
{
        static const struct {
                enum log_level level;
                const char *name;
        } cases[] = {
                { LOG_LEVEL_ERROR, "error" },
                { LOG_LEVEL_WARNING, "warning" },
                { LOG_LEVEL_INFO, "info" },
                { LOG_LEVEL_DEBUG, "debug" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                assert_string_equal(log_level_to_string(cases[i].level), cases[i].name);
                assert_int_equal(log_level_from_string(cases[i].name), cases[i].level);
        }
}

static void test_log_level_from_string_rejects_unknown_names(_unused_ void **state)
{
        static const char *const names[] = { "verbose", "", "ERROR", "warn", "info " };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                assert_int_equal(log_level_from_string(names[i]), _LOG_LEVEL_INVALID);
        assert_int_equal(log_level_from_string(NULL), -EINVAL);
        assert_null(log_level_to_string(_LOG_LEVEL_MAX));
        assert_null(log_level_to_string(_LOG_LEVEL_INVALID));
}

static void test_log_target_names_round_trip(_unused_ void **state)
{
        assert_string_equal(log_target_to_string(LOG_TARGET_STDERR), "stderr");
        assert_string_equal(log_target_to_string(LOG_TARGET_SYSLOG), "syslog");
        assert_int_equal(log_target_from_string("stderr"), LOG_TARGET_STDERR);
        assert_int_equal(log_target_from_string("syslog"), LOG_TARGET_SYSLOG);
        assert_int_equal(log_target_from_string("journal"), _LOG_TARGET_INVALID);
        assert_null(log_target_to_string(_LOG_TARGET_MAX));
}

static void test_log_info_reaches_sink_at_default_level(_unused_ void **state)
{
        struct captured c = {};

        assert_int_equal(log_get_max_level(), LOG_LEVEL_INFO);
        log_set_sink(capture_sink, &c);
        assert_int_equal(log_info("Batch '%s' started", "b1"), 0);
        assert_int_equal(c.calls, 1);
        assert_int_equal(c.level, LOG_LEVEL_INFO);
        assert_string_equal(c.message, "Batch 'b1' started");
}

static void test_log_debug_is_dropped_at_default_level(_unused_ void **state)
{
        struct captured c = {};

        log_set_sink(capture_sink, &c);
        log_debug("Not shown");
        assert_int_equal(c.calls, 0);
}

static int evaluations;

static const char *count_evaluation(void)
{
        evaluations++;
        return "x";
}

static void test_log_arguments_are_not_evaluated_above_max_level(_unused_ void **state)
{
        struct captured c = {};

        log_set_sink(capture_sink, &c);
        evaluations = 0;
        log_debug("%s", count_evaluation());
        log_debug_errno(ENOENT, "%s", count_evaluation());
        assert_int_equal(evaluations, 0);

        log_info("%s", count_evaluation());
        assert_int_equal(evaluations, 1);
}

static void test_log_set_max_level_debug_enables_debug(_unused_ void **state)
{
        struct captured c = {};

        log_set_sink(capture_sink, &c);
        log_set_max_level(LOG_LEVEL_DEBUG);
        log_debug("Extent %d copied", 7);
        assert_int_equal(c.calls, 1);
        assert_int_equal(c.level, LOG_LEVEL_DEBUG);
        assert_string_equal(c.message, "Extent 7 copied");
}

static void test_log_set_max_level_error_drops_warnings(_unused_ void **state)
{
        struct captured c = {};

        log_set_sink(capture_sink, &c);
        log_set_max_level(LOG_LEVEL_ERROR);
        log_warning("Dropped");
        log_error("Kept");
        assert_int_equal(c.calls, 1);
        assert_string_equal(c.message, "Kept");
}

static void test_log_set_max_level_ignores_invalid_levels(_unused_ void **state)
{
        log_set_max_level(LOG_LEVEL_WARNING);
        log_set_max_level(_LOG_LEVEL_MAX);
        log_set_max_level(_LOG_LEVEL_INVALID);
        assert_int_equal(log_get_max_level(), LOG_LEVEL_WARNING);
}

static void test_log_error_errno_returns_negative_errno(_unused_ void **state)
{
        struct captured c = {};

        log_set_sink(capture_sink, &c);
        assert_int_equal(log_error_errno(EACCES, "Denied"), -EACCES);
        assert_int_equal(log_error_errno(-EACCES, "Denied"), -EACCES);
        assert_int_equal(log_warning_errno(-ENOENT, "Missing"), -ENOENT);
        assert_int_equal(c.calls, 3);
}

static void test_log_errno_returns_negative_errno_even_when_dropped(_unused_ void **state)
{
        assert_int_equal(log_debug_errno(ENOENT, "Dropped"), -ENOENT);
        assert_int_equal(log_debug_errno(-EIO, "Dropped"), -EIO);
        assert_int_equal(log_debug_errno(0, "Dropped"), 0);
}

static void test_log_without_error_returns_zero(_unused_ void **state)
{
        struct captured c = {};

        log_set_sink(capture_sink, &c);
        assert_int_equal(log_error("Plain"), 0);
        assert_int_equal(log_warning("Plain"), 0);
}

static void test_log_errno_m_prints_the_error_text(_unused_ void **state)
{
        struct captured c = {};
        int r = -ENOENT;

        log_set_sink(capture_sink, &c);
        errno = EPERM;
        assert_int_equal(log_error_errno(r, "Failed to open '%s': %m", "/etc/ferry/ferryd.yaml"), -ENOENT);
        assert_string_equal(c.message, "Failed to open '/etc/ferry/ferryd.yaml': No such file or directory");
}

static void test_log_preserves_errno(_unused_ void **state)
{
        struct captured c = {};

        log_set_sink(capture_sink, &c);
        errno = EAGAIN;
        log_error_errno(ENOENT, "%m");
        assert_int_equal(errno, EAGAIN);
}

static void test_log_internal_drops_messages_above_max_level(_unused_ void **state)
{
        struct captured c = {};

        log_set_sink(capture_sink, &c);
        assert_int_equal(log_internal(LOG_LEVEL_DEBUG, EIO, __FILE__, __LINE__, __func__, "Dropped"), -EIO);
        assert_int_equal(c.calls, 0);
        assert_int_equal(log_internal(LOG_LEVEL_INFO, EIO, __FILE__, __LINE__, __func__, "Kept: %m"), -EIO);
        assert_int_equal(c.calls, 1);
        assert_string_equal(c.message, "Kept: Input/output error");
}

static void test_log_treats_unknown_levels_as_errors(_unused_ void **state)
{
        struct captured c = {};

        log_set_sink(capture_sink, &c);
        log_internal((enum log_level) 42, 0, __FILE__, __LINE__, __func__, "Odd");
        assert_int_equal(c.calls, 1);
        assert_int_equal(c.level, LOG_LEVEL_ERROR);
}

static void test_log_writes_ident_and_level_to_stderr(_unused_ void **state)
{
        struct stderr_capture cap;
        _cleanup_free_ char *out = NULL;

        log_set_ident("ferryd");
        stderr_capture_begin(&cap);
        log_warning("Source '%s' is slow", "vc1");
        log_error_errno(ECONNREFUSED, "Target '%s': %m", "incus1");
        out = stderr_capture_end(&cap);

        assert_string_equal(out, "ferryd: warning: Source 'vc1' is slow\n"
                                 "ferryd: error: Target 'incus1': Connection refused\n");
}

static void test_log_ident_defaults_to_ferry(_unused_ void **state)
{
        struct stderr_capture cap;
        _cleanup_free_ char *out = NULL;

        stderr_capture_begin(&cap);
        log_info("Hello");
        out = stderr_capture_end(&cap);

        assert_string_equal(out, "ferry: info: Hello\n");
}

static void test_log_cuts_long_messages_but_keeps_one_line(_unused_ void **state)
{
        struct stderr_capture cap;
        _cleanup_free_ char *out = NULL;
        char text[5000];

        memset(text, 'm', sizeof text - 1);
        text[sizeof text - 1] = '\0';

        stderr_capture_begin(&cap);
        log_info("%s", text);
        out = stderr_capture_end(&cap);

        assert_true(startswith(out, "ferry: info: mmm"));
        assert_true(strlen(out) < sizeof text);
        assert_int_equal(out[strlen(out) - 1], '\n');
        assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
}

static void test_log_set_sink_null_restores_stderr(_unused_ void **state)
{
        struct stderr_capture cap;
        _cleanup_free_ char *out = NULL;
        struct captured c = {};

        log_set_sink(capture_sink, &c);
        log_set_sink(NULL, NULL);
        stderr_capture_begin(&cap);
        log_info("Back to stderr");
        out = stderr_capture_end(&cap);

        assert_int_equal(c.calls, 0);
        assert_string_equal(out, "ferry: info: Back to stderr\n");
}

static void logging_sink(_unused_ enum log_level level, const char *message, void *userdata)
{
        struct captured *c = userdata;

        c->calls++;
        log_error("Sink saw '%s'", message);
}

static void test_log_messages_from_inside_the_sink_go_to_stderr(_unused_ void **state)
{
        struct stderr_capture cap;
        _cleanup_free_ char *out = NULL;
        struct captured c = {};

        log_set_sink(logging_sink, &c);
        stderr_capture_begin(&cap);
        log_info("Outer");
        out = stderr_capture_end(&cap);

        assert_int_equal(c.calls, 1);
        assert_string_equal(out, "ferry: error: Sink saw 'Outer'\n");
}

#define THREADS 4
#define LINES_PER_THREAD 300

static void *log_from_thread(void *arg)
{
        int id = (int) (intptr_t) arg;
        char padding[600];

        memset(padding, 'a' + id, sizeof padding - 1);
        padding[sizeof padding - 1] = '\0';
        for (int i = 0; i < LINES_PER_THREAD; i++)
                log_info("thread %d line %d %s", id, i, padding);
        return NULL;
}

static void test_log_lines_from_threads_do_not_interleave(_unused_ void **state)
{
        struct stderr_capture cap;
        _cleanup_free_ char *out = NULL;
        pthread_t threads[THREADS];
        int lines = 0;

        stderr_capture_begin(&cap);
        for (int t = 0; t < THREADS; t++)
                assert_int_equal(pthread_create(&threads[t], NULL, log_from_thread, (void *) (intptr_t) t), 0);
        for (int t = 0; t < THREADS; t++)
                assert_int_equal(pthread_join(threads[t], NULL), 0);
        out = stderr_capture_end(&cap);

        for (char *line = out, *end; *line; line = end + 1) {
                int id, n, consumed = 0;

                end = strchr(line, '\n');
                assert_non_null(end);
                *end = '\0';
                assert_int_equal(sscanf(line, "ferry: info: thread %d line %d %n", &id, &n, &consumed), 2);
                assert_true(id >= 0 && id < THREADS);
                assert_int_equal(strlen(line + consumed), 599);
                assert_int_equal(strspn(line + consumed, (char[]) { (char) ('a' + id), '\0' }), 599);
                lines++;
        }
        assert_int_equal(lines, THREADS * LINES_PER_THREAD);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_log_level_names_round_trip, reset_log),
                cmocka_unit_test_setup(test_log_level_from_string_rejects_unknown_names, reset_log),
                cmocka_unit_test_setup(test_log_target_names_round_trip, reset_log),
                cmocka_unit_test_setup(test_log_info_reaches_sink_at_default_level, reset_log),
                cmocka_unit_test_setup(test_log_debug_is_dropped_at_default_level, reset_log),
                cmocka_unit_test_setup(test_log_arguments_are_not_evaluated_above_max_level, reset_log),
                cmocka_unit_test_setup(test_log_set_max_level_debug_enables_debug, reset_log),
                cmocka_unit_test_setup(test_log_set_max_level_error_drops_warnings, reset_log),
                cmocka_unit_test_setup(test_log_set_max_level_ignores_invalid_levels, reset_log),
                cmocka_unit_test_setup(test_log_error_errno_returns_negative_errno, reset_log),
                cmocka_unit_test_setup(test_log_errno_returns_negative_errno_even_when_dropped, reset_log),
                cmocka_unit_test_setup(test_log_without_error_returns_zero, reset_log),
                cmocka_unit_test_setup(test_log_errno_m_prints_the_error_text, reset_log),
                cmocka_unit_test_setup(test_log_preserves_errno, reset_log),
                cmocka_unit_test_setup(test_log_internal_drops_messages_above_max_level, reset_log),
                cmocka_unit_test_setup(test_log_treats_unknown_levels_as_errors, reset_log),
                cmocka_unit_test_setup(test_log_writes_ident_and_level_to_stderr, reset_log),
                cmocka_unit_test_setup(test_log_ident_defaults_to_ferry, reset_log),
                cmocka_unit_test_setup(test_log_cuts_long_messages_but_keeps_one_line, reset_log),
                cmocka_unit_test_setup(test_log_set_sink_null_restores_stderr, reset_log),
                cmocka_unit_test_setup(test_log_messages_from_inside_the_sink_go_to_stderr, reset_log),
                cmocka_unit_test_setup(test_log_lines_from_threads_do_not_interleave, reset_log),
        };

        return cmocka_run_group_tests(tests, NULL, reset_log);
}
