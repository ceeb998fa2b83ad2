/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Targets (docs/rest-api.md, "target"), keyed by name and stored as given,
 * properties.trust_token and the synced inventory included.  Objects come
 * back with created_at and updated_at; lists are ordered by name.
 *
 * Errors: -EEXIST "Target 'x' already exists", -ENOENT "Target 'x' not
 * found", -EBUSY "Target 'x' is used by batch 'b'" when a queue entry is
 * placed on it, -EINVAL for a missing or mistyped name or type.
 */
#ifndef FERRY_DB_TARGET_H
#define FERRY_DB_TARGET_H

#include <jansson.h>

#include "common/error.h"
#include "db/db.h"

int db_target_create(struct db *db, const json_t *target, struct ferry_error *err);
int db_target_get(struct db *db, const char *name, json_t **ret, struct ferry_error *err);
int db_target_list(struct db *db, json_t **ret, struct ferry_error *err);
/* Replace the stored object; target's name may differ (a rename).  Keeps created_at. */
int db_target_update(struct db *db, const char *name, const json_t *target, struct ferry_error *err);
int db_target_delete(struct db *db, const char *name, struct ferry_error *err);

#endif
