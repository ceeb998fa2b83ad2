/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferryd's log lines as `logging` events:
 *
 *     {"type": "logging", "timestamp": "...",
 *      "metadata": {"level": "info", "message": "Listening on '/var/lib/ferry/unix.socket'",
 *                   "context": {}}}
 *
 * events_log_new() installs a log sink (log_set_sink()) that keeps
 * writing every line to the log target as before, and also appends it
 * to a queue.  The sink runs on whichever thread logged, with the log
 * lock held, so it does nothing else: it never touches the event hub,
 * which belongs to the event loop thread.  It wakes the loop with
 * lws_cancel_service(); the loop then calls events_log_flush(), which
 * emits the queued lines in order.  Lines of every thread become events
 * that way, a little after they were logged (the event's timestamp is
 * the flush's).
 *
 * No recursion: a line logged while the events are emitted (a listener
 * dropped for being slow) is queued like any other and emitted by the
 * next flush.  Lines are those the daemon logs at its log level; what the
 * API logs never contains request bodies, so no secret reaches an event.
 *
 * At most EVENTS_LOG_QUEUE_MAX lines wait; more are counted and dropped,
 * and the next flush emits one warning event that says how many.
 */
#ifndef FERRY_DAEMON_EVENTS_LOG_H
#define FERRY_DAEMON_EVENTS_LOG_H

#include <libwebsockets.h>

#include "common/macros.h"

#define EVENTS_LOG_QUEUE_MAX 1024

struct event_hub;
struct events_log;

/* Install the sink; hub and lws must outlive the result.  0 or -ENOMEM. */
int events_log_new(struct event_hub *hub, struct lws_context *lws, struct events_log **ret);

/* Emit the queued lines.  Event loop thread only. */
void events_log_flush(struct events_log *l);

/* Remove the sink (lines go straight to the log target again) and free
 * what is still queued.  NULL is fine. */
void events_log_free(struct events_log *l);

DEFINE_CLEANUP_FUNC(struct events_log, events_log_free);

#endif
