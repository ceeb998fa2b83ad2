/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/macros.h"
#include "daemon/event-queue.h"

#define HEADROOM 16

static const char *text_of(const struct event_queue *q, const struct event_message *m)
{
        return (const char *) m->buf + q->headroom;
}

static void assert_head_is(const struct event_queue *q, const char *text)
{
        struct event_message *m = event_queue_peek(q);

        assert_non_null(m);
        assert_int_equal(m->len, strlen(text));
        assert_memory_equal(text_of(q, m), text, strlen(text));
}

static void test_messages_come_out_in_the_order_they_went_in(_unused_ void **state)
{
        struct event_queue q;

        event_queue_init(&q, 10, 1024, HEADROOM);
        assert_int_equal(event_queue_push(&q, "one", 3), 0);
        assert_int_equal(event_queue_push(&q, "two", 3), 0);
        assert_int_equal(event_queue_push(&q, "three", 5), 0);

        assert_head_is(&q, "one");
        event_queue_pop(&q);
        assert_head_is(&q, "two");
        event_queue_pop(&q);
        assert_head_is(&q, "three");
        event_queue_pop(&q);
        assert_null(event_queue_peek(&q));
        assert_int_equal(q.n_messages, 0);
        assert_int_equal(q.n_bytes, 0);
}

static void test_each_message_has_the_headroom_in_front_of_its_text(_unused_ void **state)
{
        struct event_queue q;
        struct event_message *m;

        event_queue_init(&q, 10, 1024, HEADROOM);
        assert_int_equal(event_queue_push(&q, "{\"type\":\"logging\"}", 18), 0);

        m = event_queue_peek(&q);
        /* The headroom is writable memory of its own: lws_write() uses it. */
        memset(m->buf, 0xaa, HEADROOM);
        assert_memory_equal(m->buf + HEADROOM, "{\"type\":\"logging\"}", 18);
        event_queue_clear(&q);
}

static void test_a_push_beyond_the_message_bound_fails_and_queues_nothing(_unused_ void **state)
{
        struct event_queue q;

        event_queue_init(&q, 3, 1024, HEADROOM);
        for (int i = 0; i < 3; i++)
                assert_int_equal(event_queue_push(&q, "event", 5), 0);

        assert_int_equal(event_queue_push(&q, "event", 5), -ENOBUFS);
        assert_int_equal(q.n_messages, 3);
        assert_int_equal(q.n_bytes, 15);
        event_queue_clear(&q);
}

static void test_a_push_beyond_the_byte_bound_fails_and_queues_nothing(_unused_ void **state)
{
        struct event_queue q;

        event_queue_init(&q, 100, 10, HEADROOM);
        assert_int_equal(event_queue_push(&q, "12345678", 8), 0);

        assert_int_equal(event_queue_push(&q, "123", 3), -ENOBUFS);
        assert_int_equal(q.n_messages, 1);
        assert_int_equal(q.n_bytes, 8);

        /* What still fits exactly is taken. */
        assert_int_equal(event_queue_push(&q, "12", 2), 0);
        assert_int_equal(q.n_bytes, 10);
        event_queue_clear(&q);
}

static void test_a_message_larger_than_the_byte_bound_never_fits(_unused_ void **state)
{
        struct event_queue q;

        event_queue_init(&q, 100, 10, HEADROOM);
        assert_int_equal(event_queue_push(&q, "12345678901", 11), -ENOBUFS);
        assert_null(event_queue_peek(&q));
}

static void test_popping_makes_room_again(_unused_ void **state)
{
        struct event_queue q;

        event_queue_init(&q, 2, 1024, HEADROOM);
        assert_int_equal(event_queue_push(&q, "a", 1), 0);
        assert_int_equal(event_queue_push(&q, "b", 1), 0);
        assert_int_equal(event_queue_push(&q, "c", 1), -ENOBUFS);

        event_queue_pop(&q);
        assert_int_equal(event_queue_push(&q, "c", 1), 0);
        assert_head_is(&q, "b");
        event_queue_pop(&q);
        assert_head_is(&q, "c");
        event_queue_clear(&q);
}

static void test_a_full_default_queue_holds_the_bound_and_no_more(_unused_ void **state)
{
        struct event_queue q;
        char text[128];
        int n = 0, r;

        /* Lifecycle-sized events: the message bound is hit first. */
        event_queue_init(&q, EVENT_QUEUE_MAX_MESSAGES, EVENT_QUEUE_MAX_BYTES, HEADROOM);
        for (;;) {
                int len = snprintf(text, sizeof(text), "{\"type\":\"lifecycle\",\"n\":%d}", n);

                r = event_queue_push(&q, text, (size_t) len);
                if (r < 0)
                        break;
                n++;
        }
        assert_int_equal(r, -ENOBUFS);
        assert_int_equal(n, EVENT_QUEUE_MAX_MESSAGES);
        assert_head_is(&q, "{\"type\":\"lifecycle\",\"n\":0}");
        event_queue_clear(&q);
}

static void test_large_messages_hit_the_default_byte_bound_first(_unused_ void **state)
{
        _cleanup_free_ char *big = malloc(64 * 1024);
        struct event_queue q;
        size_t n = 0;

        assert_non_null(big);
        memset(big, 'x', 64 * 1024);
        event_queue_init(&q, EVENT_QUEUE_MAX_MESSAGES, EVENT_QUEUE_MAX_BYTES, HEADROOM);
        while (event_queue_push(&q, big, 64 * 1024) == 0)
                n++;

        assert_int_equal(n, EVENT_QUEUE_MAX_BYTES / (64 * 1024));
        assert_true(q.n_bytes <= EVENT_QUEUE_MAX_BYTES);
        event_queue_clear(&q);
}

static void test_clear_empties_the_queue_and_keeps_its_bounds(_unused_ void **state)
{
        struct event_queue q;

        event_queue_init(&q, 2, 1024, HEADROOM);
        assert_int_equal(event_queue_push(&q, "a", 1), 0);
        assert_int_equal(event_queue_push(&q, "b", 1), 0);

        event_queue_clear(&q);
        assert_null(event_queue_peek(&q));
        assert_int_equal(q.n_messages, 0);
        assert_int_equal(q.n_bytes, 0);
        assert_int_equal(event_queue_push(&q, "c", 1), 0);
        assert_int_equal(event_queue_push(&q, "d", 1), 0);
        assert_int_equal(event_queue_push(&q, "e", 1), -ENOBUFS);
        event_queue_clear(&q);
}

static void test_pop_of_an_empty_queue_does_nothing(_unused_ void **state)
{
        struct event_queue q;

        event_queue_init(&q, 2, 1024, HEADROOM);
        event_queue_pop(&q);
        assert_null(event_queue_peek(&q));
        assert_int_equal(q.n_messages, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_messages_come_out_in_the_order_they_went_in),
                cmocka_unit_test(test_each_message_has_the_headroom_in_front_of_its_text),
                cmocka_unit_test(test_a_push_beyond_the_message_bound_fails_and_queues_nothing),
                cmocka_unit_test(test_a_push_beyond_the_byte_bound_fails_and_queues_nothing),
                cmocka_unit_test(test_a_message_larger_than_the_byte_bound_never_fits),
                cmocka_unit_test(test_popping_makes_room_again),
                cmocka_unit_test(test_a_full_default_queue_holds_the_bound_and_no_more),
                cmocka_unit_test(test_large_messages_hit_the_default_byte_bound_first),
                cmocka_unit_test(test_clear_empties_the_queue_and_keeps_its_bounds),
                cmocka_unit_test(test_pop_of_an_empty_queue_does_nothing),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
