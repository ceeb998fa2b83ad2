/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /1.0/events: the websocket that streams the event hub (events.h) to
 * a client, one JSON event per text message, of the types it asked for
 * with ?type=lifecycle,operation,logging (default: all).
 *
 * server.c owns the connections and calls in at four points:
 *
 *   LWS_CALLBACK_HTTP_CONFIRM_UPGRADE  events_ws_check_upgrade(): refuse
 *       with an error answer (403 untrusted, 400 unknown type or a path
 *       that is not /1.0/events, 503 too many listeners) before anything
 *       is upgraded
 *   LWS_CALLBACK_ESTABLISHED           events_ws_open(): subscribe
 *   LWS_CALLBACK_SERVER_WRITEABLE      events_ws_writable(): send one message
 *   LWS_CALLBACK_CLOSED                events_ws_close(): unsubscribe, free
 *
 * Clients need not name a subprotocol (Incus clients send none): lws binds
 * such an upgrade to the vhost's default protocol, ferry-http, whose
 * callback forwards the websocket reasons here.
 *
 * Each listener has a bounded queue (event-queue.h).  A listener that
 * falls EVENT_QUEUE_MAX_MESSAGES events or EVENT_QUEUE_MAX_BYTES behind is
 * dropped: its queue is freed at once, ferryd logs a warning, and the
 * connection is closed with status 1008 ("policy violation") or, if it
 * cannot even take the close frame, killed after
 * EVENTS_WS_DROP_TIMEOUT_S.  Nothing here logs per event, so that logging
 * events cannot feed themselves.
 */
#ifndef FERRY_DAEMON_EVENTS_WS_H
#define FERRY_DAEMON_EVENTS_WS_H

#include <stdbool.h>
#include <stddef.h>

#include <libwebsockets.h>

#include "common/error.h"
#include "daemon/api.h"

#define EVENTS_WS_PATH "/1.0/events"
#define EVENTS_WS_DROP_TIMEOUT_S 5
/* Listeners at once: with EVENT_QUEUE_MAX_BYTES each, what ferryd holds
 * for them at most. */
#define EVENTS_WS_MAX_LISTENERS 128

/*
 * Parse a ?type= value: a comma-separated list of event type names into
 * a mask of EVENT_TYPE_MASK() bits.  NULL or "" means every type.  An
 * unknown or empty name fails with -EINVAL: "Unknown event type 'x': use
 * lifecycle, operation or logging".
 */
int events_ws_parse_types(const char *s, unsigned *ret_mask, struct ferry_error *err);

/*
 * Decide on a websocket upgrade of req (its path, query and requestor;
 * subprotocol is its Sec-WebSocket-Protocol header, NULL if none): 0 to
 * go ahead, or 1 with ret filled with the error answer to send instead:
 * 403 untrusted, 400 not /1.0/events or a bad type or a subprotocol,
 * 405 not GET, 503 EVENTS_WS_MAX_LISTENERS reached.  Negative errno if
 * out of memory.
 */
int events_ws_check_upgrade(const struct api_request *req, const char *subprotocol, struct api_response *ret);

/* GET /1.0/events without an upgrade: the same checks, then 400 saying
 * that this is a websocket. */
int events_ws_get(struct daemon *d, const struct api_request *req, struct api_response *ret);

/*
 * The upgrade of req is done: subscribe wsi to d's event hub.  A negative
 * errno (logged) means the connection must be closed.
 */
int events_ws_open(struct daemon *d, struct lws *wsi, const struct api_request *req);

/* Send the oldest queued message, if any.  -1 tells lws to close. */
int events_ws_writable(struct lws *wsi);

/* The connection is gone: unsubscribe and free.  Fine on a wsi that never
 * got to events_ws_open(). */
void events_ws_close(struct lws *wsi);

#endif
