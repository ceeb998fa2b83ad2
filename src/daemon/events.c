/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "common/duration.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "daemon/events.h"

struct event_subscription {
        struct event_hub *hub;
        unsigned type_mask;
        event_listener_fn fn;
        void *userdata;
        struct event_subscription *prev, *next;
};

struct event_hub {
        struct event_subscription *subscriptions;
};

static const char *const event_type_table[_EVENT_TYPE_MAX] = {
        [EVENT_LIFECYCLE] = "lifecycle",
        [EVENT_OPERATION] = "operation",
        [EVENT_LOGGING] = "logging",
};

const char *event_type_to_string(enum event_type t)
{
        if (t < 0 || t >= _EVENT_TYPE_MAX)
                return NULL;
        return event_type_table[t];
}

enum event_type event_type_from_string(const char *s)
{
        if (!s)
                return _EVENT_TYPE_INVALID;
        return string_table_lookup(event_type_table, ELEMENTSOF(event_type_table), s);
}

int event_hub_new(struct event_hub **ret)
{
        struct event_hub *hub = calloc(1, sizeof(*hub));

        if (!hub)
                return -ENOMEM;
        *ret = hub;
        return 0;
}

void event_hub_free(struct event_hub *hub)
{
        if (!hub)
                return;
        /* Subscriptions belong to their listeners; just forget the hub. */
        for (struct event_subscription *s = hub->subscriptions; s; s = s->next)
                s->hub = NULL;
        free(hub);
}

int event_hub_subscribe(struct event_hub *hub, unsigned type_mask, event_listener_fn fn, void *userdata,
                        struct event_subscription **ret)
{
        struct event_subscription *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        *s = (struct event_subscription) {
                .hub = hub, .type_mask = type_mask, .fn = fn, .userdata = userdata, .next = hub->subscriptions,
        };
        if (hub->subscriptions)
                hub->subscriptions->prev = s;
        hub->subscriptions = s;
        *ret = s;
        return 0;
}

void event_subscription_free(struct event_subscription *s)
{
        if (!s)
                return;
        if (s->hub) {
                if (s->prev)
                        s->prev->next = s->next;
                else
                        s->hub->subscriptions = s->next;
                if (s->next)
                        s->next->prev = s->prev;
        }
        free(s);
}

int event_hub_emit(struct event_hub *hub, enum event_type t, json_t *metadata)
{
        _cleanup_json_ json_t *event = NULL;
        char timestamp[TIMESTAMP_RFC3339_MAX];
        struct event_subscription *next;

        if (timestamp_format_rfc3339(timestamp_now_usec(), timestamp, sizeof(timestamp)) < 0) {
                json_decref(metadata);
                return -ERANGE;
        }

        event = json_pack("{s:s, s:s, s:o}", "type", event_type_to_string(t), "timestamp", timestamp, "metadata",
                          metadata);
        if (!event)
                return -ENOMEM;

        /* A listener may unsubscribe itself. */
        for (struct event_subscription *s = hub->subscriptions; s; s = next) {
                next = s->next;
                if (s->type_mask & EVENT_TYPE_MASK(t))
                        s->fn(event, s->userdata);
        }
        return 0;
}
