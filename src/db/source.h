/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sources (docs/rest-api.md, "source"), keyed by name and stored as given,
 * properties.password included.  Objects come back with created_at and
 * updated_at; lists are ordered by name.
 *
 * Errors: -EEXIST "Source 'x' already exists" (create, or update renaming
 * onto another), -ENOENT "Source 'x' not found", -EBUSY "Source 'x' is
 * used by batch 'b'" when a queue entry holds one of its instances, -EINVAL
 * for a missing or mistyped name or type.
 */
#ifndef FERRY_DB_SOURCE_H
#define FERRY_DB_SOURCE_H

#include <jansson.h>

#include "common/error.h"
#include "db/db.h"

int db_source_create(struct db *db, const json_t *source, struct ferry_error *err);
int db_source_get(struct db *db, const char *name, json_t **ret, struct ferry_error *err);
int db_source_list(struct db *db, json_t **ret, struct ferry_error *err);
/* Replace the stored object; source's name may differ (a rename).  Keeps created_at. */
int db_source_update(struct db *db, const char *name, const json_t *source, struct ferry_error *err);
/* Deletes its instances and networks too. */
int db_source_delete(struct db *db, const char *name, struct ferry_error *err);

#endif
