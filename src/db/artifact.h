/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Artifacts (docs/rest-api.md, "artifact"): the record of a file the
 * migration needs, keyed by name.  "file" is {"size", "sha256",
 * "uploaded_at"} once a file is uploaded, null (or absent) before.
 * Objects come back with created_at and updated_at; lists are ordered by
 * name.
 *
 * Errors: -EEXIST "Artifact 'x' already exists", -ENOENT "Artifact 'x' not
 * found", -EINVAL for a missing or mistyped name, type or file field.
 */
#ifndef FERRY_DB_ARTIFACT_H
#define FERRY_DB_ARTIFACT_H

#include <jansson.h>
#include <stdint.h>

#include "common/error.h"
#include "db/db.h"

int db_artifact_create(struct db *db, const json_t *artifact, struct ferry_error *err);
int db_artifact_get(struct db *db, const char *name, json_t **ret, struct ferry_error *err);
int db_artifact_list(struct db *db, json_t **ret, struct ferry_error *err);
/* Replace the stored object; artifact's name may differ (a rename).  Keeps created_at. */
int db_artifact_update(struct db *db, const char *name, const json_t *artifact, struct ferry_error *err);
int db_artifact_delete(struct db *db, const char *name, struct ferry_error *err);

/*
 * Record an uploaded file: "file" becomes {"size": size, "sha256": sha256,
 * "uploaded_at": now}; sha256 NULL sets "file" to null.
 */
int db_artifact_set_file(struct db *db, const char *name, int64_t size, const char *sha256,
                         struct ferry_error *err);

#endif
