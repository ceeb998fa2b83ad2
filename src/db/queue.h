/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Queue entries (docs/rest-api.md, "queue entry"): one per instance of a
 * started batch, keyed by "instance_uuid", with "batch" (a name) and
 * "status" required.  "placement.target", when set and not "", must name a
 * target.  An entry pins its instance, batch and target: deleting any of
 * them is refused while it exists.  Objects come back with created_at and
 * updated_at; lists are ordered by batch name, then by creation.
 *
 * Errors: -EEXIST "Queue entry 'u' already exists", -ENOENT "Queue entry
 * 'u' not found" or "Instance 'u' not found", "Batch 'b' not found",
 * "Target 't' not found" for what an entry refers to, -EINVAL for a
 * missing or mistyped field.
 */
#ifndef FERRY_DB_QUEUE_H
#define FERRY_DB_QUEUE_H

#include <jansson.h>

#include "common/error.h"
#include "db/db.h"

int db_queue_create(struct db *db, const json_t *entry, struct ferry_error *err);
int db_queue_get(struct db *db, const char *instance_uuid, json_t **ret, struct ferry_error *err);
/* All entries, or (batch not NULL) those of one batch: -ENOENT "Batch 'b' not found". */
int db_queue_list(struct db *db, const char *batch, json_t **ret, struct ferry_error *err);
/* Replace the stored entry (one state transition: one call, one transaction).  Keeps created_at. */
int db_queue_update(struct db *db, const char *instance_uuid, const json_t *entry, struct ferry_error *err);
int db_queue_delete(struct db *db, const char *instance_uuid, struct ferry_error *err);

#endif
