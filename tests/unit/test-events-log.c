/* SPDX-License-Identifier: Apache-2.0 */
/*
 * src/daemon/events-log.c: log lines as logging events, with a real
 * event hub and a libwebsockets context that nobody services (the flush
 * is called by hand, as the event loop would after lws_cancel_service()).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include <libwebsockets.h>

#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "daemon/events-log.h"
#include "daemon/events.h"

struct fixture {
        struct lws_context *lws;
        struct event_hub *hub;
        struct event_subscription *subscription;
        struct events_log *log;
        json_t *events;                 /* what the listener got */
        int saved_stderr;               /* while stderr is captured */
        int captured_stderr;            /* memfd standing in for stderr */
        int lines_to_log;               /* the listener logs this many lines, one per event */
};

static void listener(const json_t *event, void *userdata)
{
        struct fixture *f = userdata;

        assert_int_equal(json_array_append(f->events, (json_t *) event), 0);
        if (f->lines_to_log > 0) {
                f->lines_to_log--;
                log_warning("Logged by a listener");
        }
}

static int setup(void **state)
{
        struct lws_context_creation_info info = {};
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        lws_set_log_level(0, NULL);
        info.port = CONTEXT_PORT_NO_LISTEN;
        info.uid = -1;
        info.gid = -1;
        assert_non_null(f->lws = lws_create_context(&info));
        assert_int_equal(event_hub_new(&f->hub), 0);
        assert_non_null(f->events = json_array());
        assert_int_equal(event_hub_subscribe(f->hub, EVENT_TYPE_MASK(EVENT_LOGGING), listener, f, &f->subscription),
                         0);

        f->saved_stderr = -1;
        assert_true((f->captured_stderr = memfd_create("stderr", MFD_CLOEXEC)) >= 0);
        log_set_max_level(LOG_LEVEL_INFO);

        assert_int_equal(events_log_new(f->hub, f->lws, &f->log), 0);
        *state = f;
        return 0;
}

/*
 * The log target is stderr: between these two, what reaches it goes to a
 * memfd instead.  Tests stop capturing before they assert, so that
 * cmocka's messages reach the real stderr.
 */
static void capture_stderr(struct fixture *f)
{
        assert_true((f->saved_stderr = dup(STDERR_FILENO)) >= 0);
        assert_true(dup2(f->captured_stderr, STDERR_FILENO) >= 0);
}

static char *captured_stderr(struct fixture *f)
{
        off_t size;
        char *buf;

        if (f->saved_stderr >= 0) {
                dup2(f->saved_stderr, STDERR_FILENO);
                close(f->saved_stderr);
                f->saved_stderr = -1;
        }
        size = lseek(f->captured_stderr, 0, SEEK_END);
        assert_non_null(buf = calloc(1, (size_t) size + 1));
        assert_int_equal(pread(f->captured_stderr, buf, (size_t) size, 0), size);
        return buf;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        events_log_free(f->log);
        free(captured_stderr(f));
        close(f->captured_stderr);
        event_subscription_free(f->subscription);
        event_hub_free(f->hub);
        lws_context_destroy(f->lws);
        json_decref(f->events);
        free(f);
        return 0;
}

static void assert_logging_event(const json_t *e, const char *level, const char *message)
{
        const json_t *m = json_object_get(e, "metadata");

        assert_string_equal(json_string_value(json_object_get(e, "type")), "logging");
        assert_non_null(json_string_value(json_object_get(e, "timestamp")));
        assert_string_equal(json_string_value(json_object_get(m, "level")), level);
        assert_string_equal(json_string_value(json_object_get(m, "message")), message);
        assert_true(json_is_object(json_object_get(m, "context")));
        assert_int_equal(json_object_size(json_object_get(m, "context")), 0);
}

static void test_a_logged_line_becomes_a_logging_event_at_the_next_flush(void **state)
{
        struct fixture *f = *state;

        capture_stderr(f);
        log_info("Batch '%s' started", "wave1");
        free(captured_stderr(f));
        assert_int_equal(json_array_size(f->events), 0);

        events_log_flush(f->log);
        assert_int_equal(json_array_size(f->events), 1);
        assert_logging_event(json_array_get(f->events, 0), "info", "Batch 'wave1' started");

        events_log_flush(f->log);
        assert_int_equal(json_array_size(f->events), 1);
}

static void test_lines_still_reach_the_log_target(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;

        capture_stderr(f);
        log_warning("Source '%s' is slow", "vc01");
        log_error("Target '%s' refused the volume", "incus1");

        err = captured_stderr(f);
        assert_non_null(strstr(err, ": warning: Source 'vc01' is slow\n"));
        assert_non_null(strstr(err, ": error: Target 'incus1' refused the volume\n"));
}

static void test_lines_keep_their_order_and_level(void **state)
{
        struct fixture *f = *state;

        capture_stderr(f);
        log_error("first");
        log_warning("second");
        log_info("third");
        free(captured_stderr(f));
        events_log_flush(f->log);

        assert_int_equal(json_array_size(f->events), 3);
        assert_logging_event(json_array_get(f->events, 0), "error", "first");
        assert_logging_event(json_array_get(f->events, 1), "warning", "second");
        assert_logging_event(json_array_get(f->events, 2), "info", "third");
}

static void test_lines_above_the_log_level_are_no_events(void **state)
{
        struct fixture *f = *state;

        log_debug("Not logged at info level");
        events_log_flush(f->log);
        assert_int_equal(json_array_size(f->events), 0);

        capture_stderr(f);
        log_set_max_level(LOG_LEVEL_DEBUG);
        log_debug("Logged at debug level");
        log_set_max_level(LOG_LEVEL_INFO);
        free(captured_stderr(f));
        events_log_flush(f->log);
        assert_int_equal(json_array_size(f->events), 1);
        assert_logging_event(json_array_get(f->events, 0), "debug", "Logged at debug level");
}

static void *log_from_thread(void *arg)
{
        (void) arg;
        log_info("From a job thread");
        return NULL;
}

static void test_lines_of_other_threads_are_emitted_by_the_flush(void **state)
{
        struct fixture *f = *state;
        pthread_t t;

        capture_stderr(f);
        assert_int_equal(pthread_create(&t, NULL, log_from_thread, NULL), 0);
        assert_int_equal(pthread_join(t, NULL), 0);
        free(captured_stderr(f));
        assert_int_equal(json_array_size(f->events), 0);

        events_log_flush(f->log);
        assert_int_equal(json_array_size(f->events), 1);
        assert_logging_event(json_array_get(f->events, 0), "info", "From a job thread");
}

static void test_a_line_logged_by_a_listener_waits_for_the_next_flush(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;

        f->lines_to_log = 1;
        capture_stderr(f);
        log_info("Trigger");
        events_log_flush(f->log);
        err = captured_stderr(f);
        assert_int_equal(json_array_size(f->events), 1);

        events_log_flush(f->log);
        assert_int_equal(json_array_size(f->events), 2);
        assert_logging_event(json_array_get(f->events, 1), "warning", "Logged by a listener");

        assert_non_null(strstr(err, ": warning: Logged by a listener\n"));
}

static void test_too_many_lines_at_once_are_counted_in_one_warning(void **state)
{
        struct fixture *f = *state;
        char message[64];

        capture_stderr(f);
        for (int i = 0; i < EVENTS_LOG_QUEUE_MAX + 6; i++)
                log_info("Line %d", i);
        free(captured_stderr(f));
        events_log_flush(f->log);

        assert_int_equal(json_array_size(f->events), EVENTS_LOG_QUEUE_MAX + 1);
        snprintf(message, sizeof(message), "Line %d", EVENTS_LOG_QUEUE_MAX - 1);
        assert_logging_event(json_array_get(f->events, EVENTS_LOG_QUEUE_MAX - 1), "info", message);
        assert_logging_event(json_array_get(f->events, EVENTS_LOG_QUEUE_MAX), "warning",
                             "6 log messages were not sent as events: too many at once");

        /* The count starts again. */
        capture_stderr(f);
        log_info("After");
        free(captured_stderr(f));
        events_log_flush(f->log);
        assert_int_equal(json_array_size(f->events), EVENTS_LOG_QUEUE_MAX + 2);
        assert_logging_event(json_array_get(f->events, EVENTS_LOG_QUEUE_MAX + 1), "info", "After");
}

static void test_after_free_lines_only_reach_the_log_target(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;

        capture_stderr(f);
        log_info("Queued, never emitted");
        events_log_free(TAKE_PTR(f->log));
        log_info("Straight to stderr");

        err = captured_stderr(f);
        assert_non_null(strstr(err, ": info: Queued, never emitted\n"));
        assert_non_null(strstr(err, ": info: Straight to stderr\n"));
        assert_int_equal(json_array_size(f->events), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_a_logged_line_becomes_a_logging_event_at_the_next_flush, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_lines_still_reach_the_log_target, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lines_keep_their_order_and_level, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lines_above_the_log_level_are_no_events, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lines_of_other_threads_are_emitted_by_the_flush, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_a_line_logged_by_a_listener_waits_for_the_next_flush, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_too_many_lines_at_once_are_counted_in_one_warning, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_after_free_lines_only_reach_the_log_target, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
