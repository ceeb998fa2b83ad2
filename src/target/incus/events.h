/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Incus's event stream (`/1.0/events?type=lifecycle,operation&all-projects=true`)
 * followed on a websocket, reconnecting with backoff, so that the
 * inventory stays current without polling: a lifecycle event about a
 * project, network, storage pool, profile or cluster member means "read
 * the inventory again"; a reconnection means events may have been missed,
 * and the caller re-syncs too.
 *
 * This first version runs on the calling (job) thread and blocks until
 * stopped; DESIGN §8 wants the event clients on ferryd's loop thread,
 * which needs the websocket to run on that loop instead (not done yet).
 *
 * Operation events carry websocket secrets in their metadata: this module
 * never logs an event, and callers must not re-publish operation metadata.
 */
#ifndef FERRY_TARGET_INCUS_EVENTS_H
#define FERRY_TARGET_INCUS_EVENTS_H

#include <stdatomic.h>
#include <stdbool.h>

#include "common/error.h"
#include "target/incus/client.h"

struct incus_events_callbacks {
        /* Each event, parsed: {"type", "timestamp", "metadata", "project", ...};
         * borrowed for the call.  A negative return stops the stream. */
        int (*event)(const json_t *event, void *userdata);
        /* After every (re)connection, before its first event: whatever
         * happened while disconnected was missed.  May be NULL. */
        int (*connected)(bool first, void *userdata);
        void *userdata;
};

/*
 * Follow the events until *stop reads true (checked about every 200 ms)
 * or a callback fails.  A lost connection is retried after 1 s, then
 * doubling up to max_backoff_s (0: 30 s); connection errors go to the
 * debug log.  Returns 0 when stopped, or the callback's error.
 */
int incus_events_follow(const struct incus_client_config *config, const struct incus_events_callbacks *cb,
                        const atomic_bool *stop, int max_backoff_s, struct ferry_error *err);

/* Whether a lifecycle event changes the inventory (project-, network-,
 * storage-pool-, profile-, cluster-member- actions). */
bool incus_event_affects_inventory(const json_t *event);

#endif
