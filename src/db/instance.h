/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Instances (docs/rest-api.md, "instance"): the VMs a source sync finds,
 * keyed by uuid, each belonging to one source ("source": its name).  The
 * synced fields are stored as the sync gives them; the admin's overrides
 * live beside them and survive every sync.  Deleting the source deletes
 * its instances.
 *
 * Objects come back as the synced fields plus "uuid", "source",
 * "overrides" ({} when none), created_at and updated_at.  Lists are
 * ordered by source name, then location, then uuid.
 */
#ifndef FERRY_DB_INSTANCE_H
#define FERRY_DB_INSTANCE_H

#include <jansson.h>

#include "common/error.h"
#include "db/db.h"

/*
 * Insert, or replace the synced fields of, the instance with instance's
 * uuid; an "overrides" field in instance is ignored and the stored one
 * kept.  Needs uuid, source, name and location.  Returns 1 if inserted, 0
 * if replaced.  -ENOENT "Source 'x' not found"; -EEXIST "Instance 'u'
 * already belongs to source 'y'" (a uuid seen through two sources).
 */
int db_instance_put(struct db *db, const json_t *instance, struct ferry_error *err);

/* -ENOENT "Instance 'u' not found". */
int db_instance_get(struct db *db, const char *uuid, json_t **ret, struct ferry_error *err);

/* All instances, or (source not NULL) those of one source: -ENOENT "Source 'x' not found". */
int db_instance_list(struct db *db, const char *source, json_t **ret, struct ferry_error *err);

/* Replace the overrides with overrides, a JSON object ({} clears them). */
int db_instance_set_overrides(struct db *db, const char *uuid, const json_t *overrides,
                              struct ferry_error *err);

/* -ENOENT, or -EBUSY "Instance 'u' is used by batch 'b'" while it has a queue entry. */
int db_instance_delete(struct db *db, const char *uuid, struct ferry_error *err);

#endif
