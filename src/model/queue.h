/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The state machines of batches and queue entries (DESIGN §4), as pure
 * functions: what an admin action may do in which state, what a batch
 * becomes when its entries settle, which restrictions block an instance,
 * and whether a batch's windows still leave time to migrate.  The daemon
 * (daemon/queue-control.h) applies them to the database.
 *
 * Batch:  Defined --start--> Running --stop--> Stopped --start--> Running
 *         Running --(every entry settled)--> Finished | Error
 *         Stopped | Finished | Error --reset--> Defined
 *
 * Entry:  Blocked | Waiting --> Creating --> Background import --> Idle
 *         --> Final import --> Post-import --> Finished; Error, Canceled
 *         and Conflict from anywhere; retry takes Blocked, Error,
 *         Canceled and Conflict back to Waiting (or Blocked again).
 */
#ifndef FERRY_MODEL_QUEUE_H
#define FERRY_MODEL_QUEUE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"

enum queue_status {
        QUEUE_BLOCKED,
        QUEUE_WAITING,
        QUEUE_CREATING,
        QUEUE_BACKGROUND_IMPORT,
        QUEUE_IDLE,
        QUEUE_FINAL_IMPORT,
        QUEUE_POST_IMPORT,
        QUEUE_FINISHED,
        QUEUE_ERROR,
        QUEUE_CANCELED,
        QUEUE_CONFLICT,
        _QUEUE_STATUS_MAX,
        _QUEUE_STATUS_INVALID = -EINVAL,
};

enum batch_status {
        BATCH_DEFINED,
        BATCH_RUNNING,
        BATCH_STOPPED,
        BATCH_FINISHED,
        BATCH_ERROR,
        _BATCH_STATUS_MAX,
        _BATCH_STATUS_INVALID = -EINVAL,
};

/* "Blocked", "Waiting", …, "Background import", "Post-import", …; NULL / -EINVAL otherwise. */
const char *queue_status_to_string(enum queue_status s);
enum queue_status queue_status_from_string(const char *s);
/* "Defined", "Running", "Stopped", "Finished", "Error". */
const char *batch_status_to_string(enum batch_status s);
enum batch_status batch_status_from_string(const char *s);

/*
 * Settled: nothing more happens to the entry until an admin acts
 * (Blocked, Finished, Error, Canceled, Conflict).
 */
bool queue_status_is_settled(enum queue_status s);

/*
 * Whether an entry in status s may be retried (-EBUSY "Queue entry of
 * 'web1' is Creating: only Blocked, Error, Canceled and Conflict entries
 * can be retried") or canceled (-EBUSY "… is Finished: …").  name names
 * the instance in the message.
 */
int queue_check_retry(enum queue_status s, const char *name, struct ferry_error *err);
int queue_check_cancel(enum queue_status s, const char *name, struct ferry_error *err);

/* Whether a batch in status s may be started, stopped or reset (-EBUSY with the reason). */
int batch_check_start(enum batch_status s, const char *name, struct ferry_error *err);
int batch_check_stop(enum batch_status s, const char *name, struct ferry_error *err);
int batch_check_reset(enum batch_status s, const char *name, struct ferry_error *err);

/*
 * What a Running batch becomes given the statuses of its n entries:
 * Running while any is unsettled; then Finished if every entry Finished
 * or was Canceled, else Error.  A batch with no entries stays Running.
 */
enum batch_status batch_status_settle(const enum queue_status *entries, size_t n);

/*
 * The restrictions that keep instance (as stored, with "overrides") of
 * batch from migrating, or NULL (*ret_reason) when none does.  The reason
 * says what to change:
 *   "The guest OS of 'web1' is unknown: set overrides.os_type, or
 *    allow_unknown_os in the batch's config.instance_restriction_overrides"
 *   "'web1' is running and change block tracking is off, so it cannot be
 *    copied while it runs: enable CBT, power it off, or set
 *    allow_no_background_import"
 *   "'web1' has no IPv4 address reported by VMware Tools: …allow_no_ipv4"
 *   "Disk 'Hard disk 2' of 'web1' is shared between VMs: ferry cannot migrate shared disks"
 *   "Disk 'Hard disk 2' of 'web1' is not supported: …"
 * overrides.ignore_restrictions lifts the first three, never the disk
 * ones.  *ret_reason is free()d by the caller.
 */
int queue_restrictions(const json_t *instance, const json_t *batch, char **ret_reason, struct ferry_error *err);

/*
 * Whether windows (a batch's migration_windows) leave time to migrate at
 * now_usec (microseconds since the epoch): none at all (cut over as soon
 * as ready) or at least one that has not ended.  -EINVAL "Every migration
 * window of batch 'w' has ended (the last, 'night2', at …): add a window"
 * otherwise.
 */
int batch_check_windows(const json_t *windows, const char *name, int64_t now_usec, struct ferry_error *err);

#endif
