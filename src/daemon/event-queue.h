/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The messages waiting for one /1.0/events listener: a FIFO with a bound
 * on both the number of messages and their bytes, so that a listener that
 * stops reading costs ferryd a fixed amount of memory.  When a message
 * does not fit, the push fails and the caller drops the listener: events
 * are never skipped silently, the listener sees its stream end instead.
 *
 * Each message is stored with `headroom` free bytes in front of it, which
 * is what lws_write() wants (LWS_PRE); the queue itself knows nothing of
 * libwebsockets.  Single-threaded: the event loop owns it.
 */
#ifndef FERRY_DAEMON_EVENT_QUEUE_H
#define FERRY_DAEMON_EVENT_QUEUE_H

#include <stddef.h>

/* The defaults ferryd uses per listener. */
#define EVENT_QUEUE_MAX_MESSAGES 1024
#define EVENT_QUEUE_MAX_BYTES (4u * 1024 * 1024)

struct event_message {
        struct event_message *next;
        size_t len;                     /* of the text, without the headroom */
        unsigned char buf[];            /* headroom bytes, then the text */
};

struct event_queue {
        struct event_message *head, *tail;
        size_t n_messages;
        size_t n_bytes;                 /* sum of the texts' lengths */
        size_t max_messages;
        size_t max_bytes;
        size_t headroom;
};

/* An empty queue with these bounds. */
void event_queue_init(struct event_queue *q, size_t max_messages, size_t max_bytes, size_t headroom);

/*
 * Copy text to the end of the queue.  Fails with -ENOBUFS, queueing
 * nothing, if it would hold more than max_messages messages or more than
 * max_bytes bytes of text; -ENOMEM if out of memory.
 */
int event_queue_push(struct event_queue *q, const char *text, size_t len);

/* The oldest message, or NULL if there is none; valid until it is popped.
 * Its text is at m->buf + q->headroom. */
struct event_message *event_queue_peek(const struct event_queue *q);

/* Free the oldest message; nothing if the queue is empty. */
void event_queue_pop(struct event_queue *q);

/* Free every message; the queue stays usable with the same bounds. */
void event_queue_clear(struct event_queue *q);

#endif
