/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Batches (docs/rest-api.md, "batch"), keyed by name; status is a column
 * (required: the daemon sets "Defined" on create).  Objects come back with
 * created_at and updated_at; lists are ordered by name.
 *
 * Errors: -EEXIST "Batch 'x' already exists", -ENOENT "Batch 'x' not
 * found", -EBUSY "Batch 'x' is used by the queue entry of instance 'u'"
 * (delete its queue entries first), -EINVAL for a missing or mistyped name
 * or status.
 */
#ifndef FERRY_DB_BATCH_H
#define FERRY_DB_BATCH_H

#include <jansson.h>

#include "common/error.h"
#include "db/db.h"

int db_batch_create(struct db *db, const json_t *batch, struct ferry_error *err);
int db_batch_get(struct db *db, const char *name, json_t **ret, struct ferry_error *err);
int db_batch_list(struct db *db, json_t **ret, struct ferry_error *err);
/* Replace the stored object; batch's name may differ (a rename).  Keeps created_at. */
int db_batch_update(struct db *db, const char *name, const json_t *batch, struct ferry_error *err);
int db_batch_delete(struct db *db, const char *name, struct ferry_error *err);

#endif
