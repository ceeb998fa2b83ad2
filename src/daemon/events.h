/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferryd's event hub: everything that happens (lifecycle changes,
 * operations, log lines) becomes one JSON event, handed to every listener
 * that asked for its type -- the /1.0/events websockets, and later hooks.
 *
 *     {"type": "lifecycle", "timestamp": "2026-11-24T10:00:00.123456Z",
 *      "metadata": {"action": "batch-created", "source": "/1.0/batches/b1",
 *                   "context": {}, "requestor": {"protocol": "unix", "username": ""}}}
 *
 * The hub lives on the event loop thread: emit and subscribe there.
 */
#ifndef FERRY_DAEMON_EVENTS_H
#define FERRY_DAEMON_EVENTS_H

#include <errno.h>

#include <jansson.h>

#include "common/macros.h"

enum event_type {
        EVENT_LIFECYCLE,
        EVENT_OPERATION,
        EVENT_LOGGING,
        _EVENT_TYPE_MAX,
        _EVENT_TYPE_INVALID = -EINVAL,
};

#define EVENT_TYPE_MASK(t) (1u << (t))
#define EVENT_TYPE_MASK_ALL ((1u << _EVENT_TYPE_MAX) - 1)

const char *event_type_to_string(enum event_type t);
enum event_type event_type_from_string(const char *s);

/* Called for each event of a subscribed type; event is borrowed. */
typedef void (*event_listener_fn)(const json_t *event, void *userdata);

struct event_hub;
struct event_subscription;

int event_hub_new(struct event_hub **ret);
void event_hub_free(struct event_hub *hub);

DEFINE_CLEANUP_FUNC(struct event_hub, event_hub_free);

int event_hub_subscribe(struct event_hub *hub, unsigned type_mask, event_listener_fn fn, void *userdata,
                        struct event_subscription **ret);
/* NULL is fine. */
void event_subscription_free(struct event_subscription *s);

/* Wrap metadata (stolen) in an event of type t with the current time and
 * hand it to the listeners.  0, or -ENOMEM. */
int event_hub_emit(struct event_hub *hub, enum event_type t, json_t *metadata);

#endif
