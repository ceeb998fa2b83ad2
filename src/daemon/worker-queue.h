/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What ferryd does for the worker of a queue entry, for the queue engine
 * (on a job thread, with its own connection) and the admin routes alike:
 * make the worker's secret, queue commands for it, check its token.  The
 * worker protocol itself is model/worker-command.h; the endpoints the
 * worker calls are api-worker.c.
 */
#ifndef FERRY_DAEMON_WORKER_QUEUE_H
#define FERRY_DAEMON_WORKER_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "common/trust-token.h"

struct db;

/*
 * A new worker secret for the queue entry of instance_uuid, replacing any
 * earlier one (which stops working at once).  Only its SHA-256 is stored;
 * the secret (64 hex digits) is written to ret for the caller to hand to
 * the worker (the user.ferry.token config key of the target VM).
 * -ENOENT "Queue entry 'u' not found".
 */
int worker_queue_new_token(struct db *db, const char *instance_uuid, char ret[static TRUST_TOKEN_SECRET_HEX_SIZE],
                           struct ferry_error *err);

/* Validate command (worker_command_parse() without "id") and queue it; *ret_id is its id. */
int worker_queue_add(struct db *db, const char *instance_uuid, const json_t *command, int64_t *ret_id,
                     struct ferry_error *err);

/*
 * Whether token is the worker secret of the queue entry of instance_uuid:
 * 1 yes, 0 no (no such entry, no secret, another one, not a secret's
 * form; never said apart), negative for database errors.
 */
int worker_queue_check_token(struct db *db, const char *instance_uuid, const char *token, struct ferry_error *err);

/*
 * Apply a worker's update (worker_update_parse()d) in one transaction: the
 * command's status, message and result, and on the queue entry
 * "status_message" (when the update has a message) and "progress" (when
 * it has progress).  Returns what db_worker_command_set_status() does.
 */
int worker_queue_apply_update(struct db *db, const char *instance_uuid, const json_t *update,
                              struct ferry_error *err);

#endif
