/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Event hooks (DESIGN §7): named Lua scripts whose on_event(event) runs
 * for the lifecycle events they list.  The event loop hands each event to
 * hooks_on_event(), which queues a run for every enabled hook that lists
 * the event's action (or "*"); one hook thread, with its own database
 * connection, runs them one at a time, in order, each in a fresh sandbox
 * (scriptlet/sandbox.h) with the `ferry` table of actions:
 *
 *     ferry.instance(uuid)                            -- as GET /1.0/instances/UUID
 *     ferry.instance_override(uuid, {comment = "…"})  -- as PATCH /1.0/instances/UUID/override
 *     ferry.warn(message)                             -- a warning about this hook
 *     ferry.warnings()                                -- the warnings, as GET /1.0/warnings?recursion=1
 *     ferry.warning_acknowledge(uuid)                 -- as PATCH {"status": "acknowledged"}
 *     ferry.webhook(url, table)                       -- POST table as JSON; https, or http to loopback
 *     ferry.batch_start(name), ferry.batch_stop(name),   -- as POST /1.0/batches/NAME/:start, :stop
 *     ferry.queue_retry(uuid), ferry.queue_cancel(uuid)  -- as POST /1.0/queue/UUID/:retry, :cancel
 *
 * Each run's outcome is recorded in the hook's "runs" (db/hook.h).  The
 * changes actions make become lifecycle events with the requestor
 * {"protocol": "hook", "username": "<hook>"}, which the loop emits after
 * hooks_take_events(); a hook never runs for its own events nor for
 * changes of itself (/1.0/hooks/<name>), and a chain
 * of hooks triggering hooks stops after HOOKS_CHAIN_MAX links.
 */
#ifndef FERRY_DAEMON_HOOKS_H
#define FERRY_DAEMON_HOOKS_H

#include <stdbool.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"

struct db;
struct hooks;
struct target_identity;

/* The limits of one run: more time than placement, for webhooks. */
#define HOOKS_TIME_MAX_MS 10000
#define HOOKS_WEBHOOK_TIMEOUT_MS 5000
#define HOOKS_WEBHOOK_BODY_MAX (1024 * 1024)
/* Runs waiting beyond this are dropped (and logged). */
#define HOOKS_QUEUE_MAX 1000
#define HOOKS_CHAIN_MAX 4

/*
 * Start the hook thread; it opens db_path for itself.  wake(userdata) is
 * called from it.  identity (borrowed, outlives the hooks) is ferry's
 * towards targets, for the queue actions.
 */
int hooks_new(const char *db_path, const struct target_identity *identity, void (*wake)(void *userdata),
              void *userdata, struct hooks **ret, struct ferry_error *err);
/* Finish the running hook, drop the queued runs, stop the thread.  NULL is fine. */
void hooks_free(struct hooks *h);
DEFINE_CLEANUP_FUNC(struct hooks, hooks_free);

/* On the event loop: queue the runs this event calls for; db is the loop's connection. */
void hooks_on_event(struct hooks *h, struct db *db, const json_t *event);

/* On the event loop: the lifecycle metadata of changes hooks made, to emit (an array; NULL on ENOMEM). */
json_t *hooks_take_events(struct hooks *h);

/* Whether a run is queued or running (tests wait on it). */
bool hooks_busy(struct hooks *h);

/*
 * Where ferry.webhook() may post: https://HOST[:PORT]/PATH, or http:// to
 * 127.0.0.1, [::1] or localhost.  Splits url into *ret_endpoint
 * ("https://host:port") and *ret_path ("/path?query", "/" if none), both
 * free()able.  -EPERM "Webhook URL 'http://example.org/' must be https://,
 * or http:// to 127.0.0.1, [::1] or localhost"; -EINVAL for what is not
 * a URL.
 */
int hooks_webhook_url(const char *url, char **ret_endpoint, char **ret_path, struct ferry_error *err);

/* Whether a hook with events (a JSON array) runs for action. */
bool hooks_events_match(const json_t *events, const char *action);

#endif
