/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/strbuf.h"
#include "daemon/daemon.h"
#include "daemon/event-queue.h"
#include "daemon/events-ws.h"
#include "daemon/events.h"

/* Fill ret with an error answer and return 1 (refused), or -ENOMEM. */
#define EVENTS_WS_REFUSE(ret, ...)                                      \
        ({                                                              \
                int _r_ = api_response_error(ret, __VA_ARGS__);         \
                _r_ < 0 ? _r_ : 1;                                      \
        })

/* Listeners now connected; the event loop thread's alone. */
static unsigned events_ws_n_listeners;

/* One /1.0/events connection, attached to its wsi as lws's opaque user
 * data (the per-session data belongs to ferry-http's HTTP requests). */
struct events_ws_listener {
        struct lws *wsi;
        struct event_subscription *subscription;
        struct event_queue queue;
        bool dropped;                   /* too slow: closing */
};

int events_ws_parse_types(const char *s, unsigned *ret_mask, struct ferry_error *err)
{
        unsigned mask = 0;

        if (!s || !*s) {
                *ret_mask = EVENT_TYPE_MASK_ALL;
                return 0;
        }

        for (const char *p = s;;) {
                size_t n = strcspn(p, ",");
                _cleanup_free_ char *name = strndup(p, n);
                enum event_type t;

                if (!name)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                t = event_type_from_string(name);
                if (t < 0)
                        return ferry_error_set(err, -EINVAL,
                                               "Unknown event type '%s': use lifecycle, operation or logging", name);
                mask |= EVENT_TYPE_MASK(t);

                if (p[n] == '\0')
                        break;
                p += n + 1;
        }

        *ret_mask = mask;
        return 0;
}

static bool events_ws_is_events_path(const char *path)
{
        return streq(path, EVENTS_WS_PATH) || streq(path, EVENTS_WS_PATH "/");
}

/* The checks a GET of /1.0/events passes, upgrade or not: 1 with ret
 * filled when it does not. */
static int events_ws_check_request(const struct api_request *req, unsigned *ret_mask, struct api_response *ret)
{
        struct ferry_error err = {};
        int r;

        if (!api_allows(req))
                return EVENTS_WS_REFUSE(ret, 403, "Not authorized: this client certificate is not trusted");

        r = events_ws_parse_types(api_request_arg(req, "type"), ret_mask, &err);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return EVENTS_WS_REFUSE(ret, 400, "%s", ferry_error_message(&err));
        return 0;
}

int events_ws_check_upgrade(const struct api_request *req, const char *subprotocol, struct api_response *ret)
{
        unsigned mask;
        int r;

        /* An untrusted client learns nothing, not even which paths exist. */
        if (!api_allows(req))
                return EVENTS_WS_REFUSE(ret, 403, "Not authorized: this client certificate is not trusted");
        if (!events_ws_is_events_path(req->path))
                return EVENTS_WS_REFUSE(ret, 400, "'%s' is not a websocket: only " EVENTS_WS_PATH " is", req->path);
        if (!streq(req->method, "GET"))
                return EVENTS_WS_REFUSE(ret, 405, "Method '%s' is not allowed on '%s'", req->method, req->path);

        r = events_ws_check_request(req, &mask, ret);
        if (r != 0)
                return r;

        /* lws would hang up on a subprotocol it does not know: say why instead. */
        if (subprotocol)
                return EVENTS_WS_REFUSE(ret, 400,
                                        "The event stream has no subprotocol: send no Sec-WebSocket-Protocol header, "
                                        "not '%s'", subprotocol);
        if (events_ws_n_listeners >= EVENTS_WS_MAX_LISTENERS)
                return EVENTS_WS_REFUSE(ret, 503, "Too many event listeners (%u): try again later",
                                        EVENTS_WS_MAX_LISTENERS);
        return 0;
}

int events_ws_get(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        unsigned mask;
        int r;

        (void) d;

        r = events_ws_check_request(req, &mask, ret);
        if (r != 0)
                return r < 0 ? r : 0;
        return api_response_error(ret, 400, "The event stream is a websocket: "
                                  "send 'Connection: Upgrade' and 'Upgrade: websocket'");
}

/* Drop a listener that does not keep up: free its backlog now, close it
 * from the writable callback (with a close frame) or, if the socket never
 * takes anything again, by timeout. */
static void events_ws_drop(struct events_ws_listener *l)
{
        size_t n_messages = l->queue.n_messages, n_bytes = l->queue.n_bytes;

        l->dropped = true;
        event_queue_clear(&l->queue);
        lws_set_timeout(l->wsi, PENDING_TIMEOUT_USER_OK, EVENTS_WS_DROP_TIMEOUT_S);
        lws_callback_on_writable(l->wsi);
        log_warning("Dropping an event listener that fell %zu events (%zu bytes) behind", n_messages, n_bytes);
}

/* The hub's listener: queue the event as the text of one message. */
static void events_ws_on_event(const json_t *event, void *userdata)
{
        struct events_ws_listener *l = userdata;
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        if (l->dropped)
                return;

        len = json_dumpb(event, NULL, 0, JSON_COMPACT);
        text = len > 0 ? malloc(len) : NULL;
        if (!text) {
                events_ws_drop(l);      /* a stream with a hole in it is worse than none */
                return;
        }
        json_dumpb(event, text, len, JSON_COMPACT);

        r = event_queue_push(&l->queue, text, len);
        if (r < 0) {
                events_ws_drop(l);
                return;
        }
        if (l->queue.n_messages == 1)
                lws_callback_on_writable(l->wsi);
}

int events_ws_open(struct daemon *d, struct lws *wsi, const struct api_request *req)
{
        _cleanup_api_response_ struct api_response refusal = {};
        struct events_ws_listener *l;
        unsigned mask;
        int r;

        /* Checked before the upgrade already, but an upgrade that lws does
         * not show us first (a websocket over HTTP/2) gets here directly;
         * and the mask is wanted now. */
        r = events_ws_check_upgrade(req, NULL, &refusal);
        if (r == 0)
                r = events_ws_parse_types(api_request_arg(req, "type"), &mask, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to open an event stream: %m");
        if (r > 0) {
                log_debug("Refused an event stream: %s",
                          json_string_value(json_object_get(refusal.envelope, "error")));
                return -EPERM;
        }

        l = calloc(1, sizeof(*l));
        if (!l)
                return log_error_errno(ENOMEM, "Failed to open an event stream: %m");
        l->wsi = wsi;
        event_queue_init(&l->queue, EVENT_QUEUE_MAX_MESSAGES, EVENT_QUEUE_MAX_BYTES, LWS_PRE);

        r = event_hub_subscribe(d->events, mask, events_ws_on_event, l, &l->subscription);
        if (r < 0) {
                free(l);
                return log_error_errno(r, "Failed to open an event stream: %m");
        }
        lws_set_opaque_user_data(wsi, l);
        events_ws_n_listeners++;

        log_debug("Event listener connected:%s%s%s", mask & EVENT_TYPE_MASK(EVENT_LIFECYCLE) ? " lifecycle" : "",
                  mask & EVENT_TYPE_MASK(EVENT_OPERATION) ? " operation" : "",
                  mask & EVENT_TYPE_MASK(EVENT_LOGGING) ? " logging" : "");
        return 0;
}

int events_ws_writable(struct lws *wsi)
{
        struct events_ws_listener *l = lws_get_opaque_user_data(wsi);
        struct event_message *m;
        static const char reason[] = "Too slow: the event queue is full";

        if (!l)
                return 0;

        if (l->dropped) {
                lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *) reason,
                                 sizeof(reason) - 1);
                return -1;
        }

        m = event_queue_peek(&l->queue);
        if (!m)
                return 0;

        /* lws sends what the socket does not take later, on its own, and
         * calls back only when all of it is gone. */
        if (lws_write(wsi, m->buf + l->queue.headroom, m->len, LWS_WRITE_TEXT) < (int) m->len)
                return -1;
        event_queue_pop(&l->queue);

        if (event_queue_peek(&l->queue))
                lws_callback_on_writable(wsi);
        return 0;
}

void events_ws_close(struct lws *wsi)
{
        struct events_ws_listener *l = lws_get_opaque_user_data(wsi);

        if (!l)
                return;
        lws_set_opaque_user_data(wsi, NULL);

        event_subscription_free(l->subscription);
        event_queue_clear(&l->queue);
        free(l);
        events_ws_n_listeners--;
        log_debug("Event listener disconnected");
}
