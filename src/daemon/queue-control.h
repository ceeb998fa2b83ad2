/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin actions on batches and queue entries (DESIGN §4), for the API
 * routes (on a job thread, api-queue.c), event hooks (on the hook thread,
 * hooks.c) and the queue engine alike: one implementation, one set of
 * checks.  Each action checks the state machine (model/queue.h), does its
 * database changes in one transaction and appends the lifecycle events it
 * caused to events, an array of {"action", "source", "context"} that the
 * caller emits:
 *
 *   start   Defined: selects the batch's instances, skips those whose
 *           migration is disabled or that another batch queued, and queues
 *           each other one as Blocked (a restriction, or its placement
 *           failed) or Waiting (placed: the placement is stored, and the
 *           scriptlet's log becomes the entry's history); at least one
 *           instance must be queued, and the windows must leave time.
 *           Stopped: Running again, the entries as they were.
 *           Events: batch-started, queue-entry-created per entry.
 *   stop    Running -> Stopped: no new step starts for its entries.
 *           Event: batch-stopped.
 *   reset   Stopped, Finished, Error -> Defined; refused while an entry is
 *           at work.  What ferry created on a target for an entry
 *           (entry.created, see queue-target.h) is removed first; the
 *           entries go, except Finished ones, which stay as the record of
 *           a migrated VM (so it is never queued twice).  Event: batch-reset.
 *   retry   Blocked, Error, Canceled, Conflict -> Waiting or Blocked: the
 *           restrictions and the placement are evaluated again, so an
 *           override or a scriptlet fix takes effect.  A settled batch is
 *           Running again.  Events: queue-retried (+ batch-started).
 *   cancel  anything but Finished and Canceled -> Canceled; what ferry
 *           created on the target is removed.  Event: queue-canceled.
 *
 * After start, retry and cancel the batch settles (model/queue.h): once
 * every entry has settled a Running batch becomes Finished (event
 * batch-finished) or Error (event batch-error); an Error batch whose
 * failed entries were all canceled becomes Finished.
 *
 * Results (*ret, the operation's metadata):
 *   start:  {"batch": "w", "queued": 3, "waiting": 2, "blocked": 1,
 *            "skipped": [{"uuid", "name", "reason"}], "entries": [{"uuid", "name", "status", "status_message"}]}
 *   reset:  {"batch": "w", "removed": 2, "kept": 1}
 *   others: the entry or batch as stored now.
 */
#ifndef FERRY_DAEMON_QUEUE_CONTROL_H
#define FERRY_DAEMON_QUEUE_CONTROL_H

#include <jansson.h>

#include "common/error.h"

struct db;
struct target_identity;

struct queue_control {
        struct db *db;                          /* the calling thread's connection */
        const struct target_identity *identity; /* towards targets, to remove what ferry created */
        json_t *events;                         /* events are appended here */
};

int queue_control_batch_start(const struct queue_control *qc, const char *name, json_t **ret,
                              struct ferry_error *err);
int queue_control_batch_stop(const struct queue_control *qc, const char *name, json_t **ret,
                             struct ferry_error *err);
int queue_control_batch_reset(const struct queue_control *qc, const char *name, json_t **ret,
                              struct ferry_error *err);
int queue_control_retry(const struct queue_control *qc, const char *instance_uuid, json_t **ret,
                        struct ferry_error *err);
int queue_control_cancel(const struct queue_control *qc, const char *instance_uuid, json_t **ret,
                         struct ferry_error *err);

/*
 * Settle batch name: a Running (or Error) batch whose entries have all
 * settled becomes Finished or Error (with its event).  For the engine and the
 * actions above; call inside or outside a transaction.
 */
int queue_control_settle(const struct queue_control *qc, const char *name, struct ferry_error *err);

#endif
