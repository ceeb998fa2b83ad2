/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/event-queue.h"

void event_queue_init(struct event_queue *q, size_t max_messages, size_t max_bytes, size_t headroom)
{
        *q = (struct event_queue) {
                .max_messages = max_messages,
                .max_bytes = max_bytes,
                .headroom = headroom,
        };
}

int event_queue_push(struct event_queue *q, const char *text, size_t len)
{
        struct event_message *m;

        if (q->n_messages >= q->max_messages || len > q->max_bytes - q->n_bytes)
                return -ENOBUFS;

        m = malloc(sizeof(*m) + q->headroom + len);
        if (!m)
                return -ENOMEM;
        m->next = NULL;
        m->len = len;
        memcpy(m->buf + q->headroom, text, len);

        if (q->tail)
                q->tail->next = m;
        else
                q->head = m;
        q->tail = m;
        q->n_messages++;
        q->n_bytes += len;
        return 0;
}

struct event_message *event_queue_peek(const struct event_queue *q)
{
        return q->head;
}

void event_queue_pop(struct event_queue *q)
{
        struct event_message *m = q->head;

        if (!m)
                return;
        q->head = m->next;
        if (!q->head)
                q->tail = NULL;
        q->n_messages--;
        q->n_bytes -= m->len;
        free(m);
}

void event_queue_clear(struct event_queue *q)
{
        while (q->head)
                event_queue_pop(q);
}
