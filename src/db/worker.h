/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worker of a queue entry (docs/rest-api.md, "Worker endpoints"): the
 * SHA-256 of its secret, never the secret itself, and the commands queued
 * for it.  Both belong to the queue entry (keyed by its instance_uuid)
 * and go when it is deleted.
 *
 * A command's life: "pending" when queued; "running" once a worker has
 * fetched it (a worker that asks again, after a crash, gets the same one
 * again); "done" or "failed" when the worker says so.  Commands run in
 * the order they were queued, one at a time.  As stored and listed:
 *
 *     {"id": 3, "command": {"command": "import", ...}, "status": "done",
 *      "message": "", "result": {...} or null,
 *      "created_at": "…", "updated_at": "…"}
 */
#ifndef FERRY_DB_WORKER_H
#define FERRY_DB_WORKER_H

#include <jansson.h>
#include <stdint.h>

#include "common/error.h"
#include "db/db.h"

/* Set (replacing any earlier one) the worker secret's hex SHA-256.
 * -ENOENT "Queue entry 'u' not found". */
int db_worker_secret_set(struct db *db, const char *instance_uuid, const char *secret_sha256,
                         struct ferry_error *err);

/*
 * 1 when the queue entry exists and its worker secret has this SHA-256;
 * 0 when there is no such entry, no secret, or another one: callers must
 * not tell those apart to the worker.  Negative only for database errors.
 */
int db_worker_secret_check(struct db *db, const char *instance_uuid, const char *secret_sha256,
                           struct ferry_error *err);

/* Queue a command (validated by the caller, without "id"); *ret_id is its id.
 * -ENOENT "Queue entry 'u' not found". */
int db_worker_command_add(struct db *db, const char *instance_uuid, const json_t *command, int64_t *ret_id,
                          struct ferry_error *err);

/*
 * The command the worker should run: the oldest that is pending or
 * running, marked running, as its command object with "id" added.  *ret
 * is NULL when there is none.  -ENOENT when the entry does not exist.
 */
int db_worker_command_next(struct db *db, const char *instance_uuid, json_t **ret, struct ferry_error *err);

/*
 * Record what the worker says of command id: status "running", "done" or
 * "failed", with message (NULL: keep) and result (NULL: keep).  Returns 1
 * when the status changed, 0 when it was already that (a worker repeating
 * itself after a restart).  -ENOENT "Worker command 7 of queue entry 'u'
 * not found"; -EBUSY "Worker command 7 has already finished (done)" for a
 * finished command that would change.
 */
int db_worker_command_set_status(struct db *db, const char *instance_uuid, int64_t id, const char *status,
                                 const char *message, const json_t *result, struct ferry_error *err);

/* All commands of the entry, oldest first, in the form above. */
int db_worker_command_list(struct db *db, const char *instance_uuid, json_t **ret, struct ferry_error *err);

#endif
