/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "daemon/events-log.h"
#include "daemon/events.h"

struct events_log_line {
        struct events_log_line *next;
        enum log_level level;
        char message[];
};

struct events_log {
        struct event_hub *hub;
        struct lws_context *lws;

        /* Filled by the sink on any thread, emptied by the flush. */
        pthread_mutex_t lock;
        struct events_log_line *head, *tail;
        size_t n_lines;
        size_t n_dropped;
};

/* The log sink: called with the log lock held, on any thread. */
static void events_log_sink(enum log_level level, const char *message, void *userdata)
{
        struct events_log *l = userdata;
        struct events_log_line *line;
        size_t len = strlen(message);
        bool wake = false;

        /* What the sink logs goes to the target: the line as it was. */
        log_internal(level, 0, __FILE__, __LINE__, __func__, "%s", message);

        pthread_mutex_lock(&l->lock);
        if (l->n_lines >= EVENTS_LOG_QUEUE_MAX) {
                l->n_dropped++;
                goto unlock;
        }
        line = malloc(sizeof(*line) + len + 1);
        if (!line) {
                l->n_dropped++;
                goto unlock;
        }
        line->next = NULL;
        line->level = level;
        memcpy(line->message, message, len + 1);

        if (l->tail)
                l->tail->next = line;
        else
                l->head = line;
        l->tail = line;
        wake = l->n_lines++ == 0;
unlock:
        pthread_mutex_unlock(&l->lock);

        /* One wake-up for a burst: the flush takes all there is. */
        if (wake)
                lws_cancel_service(l->lws);
}

int events_log_new(struct event_hub *hub, struct lws_context *lws, struct events_log **ret)
{
        struct events_log *l = calloc(1, sizeof(*l));

        if (!l)
                return -ENOMEM;
        l->hub = hub;
        l->lws = lws;
        pthread_mutex_init(&l->lock, NULL);

        log_set_sink(events_log_sink, l);
        *ret = l;
        return 0;
}

static void events_log_emit(struct events_log *l, enum log_level level, const char *message)
{
        json_t *metadata;

        metadata = json_pack("{s:s, s:s, s:{}}", "level", log_level_to_string(level), "message", message,
                             "context");
        /* No log here: it would be one more line to flush. */
        if (metadata)
                (void) event_hub_emit(l->hub, EVENT_LOGGING, metadata);
}

void events_log_flush(struct events_log *l)
{
        struct events_log_line *lines, *next;
        size_t n_dropped;

        pthread_mutex_lock(&l->lock);
        lines = l->head;
        n_dropped = l->n_dropped;
        l->head = l->tail = NULL;
        l->n_lines = 0;
        l->n_dropped = 0;
        pthread_mutex_unlock(&l->lock);

        /* Emitted without the lock: a listener may log, which queues. */
        for (; lines; lines = next) {
                next = lines->next;
                events_log_emit(l, lines->level, lines->message);
                free(lines);
        }

        if (n_dropped > 0) {
                char message[128];

                snprintf(message, sizeof(message), "%zu log messages were not sent as events: too many at once",
                         n_dropped);
                events_log_emit(l, LOG_LEVEL_WARNING, message);
        }
}

void events_log_free(struct events_log *l)
{
        struct events_log_line *next;

        if (!l)
                return;

        /* After this returns, the sink is never called again. */
        log_set_sink(NULL, NULL);

        for (struct events_log_line *line = l->head; line; line = next) {
                next = line->next;
                free(line);
        }
        pthread_mutex_destroy(&l->lock);
        free(l);
}
