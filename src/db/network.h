/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Networks (docs/rest-api.md, "network"): the networks a source sync
 * finds, keyed by uuid, each belonging to one source ("source": its name).
 * The synced fields are stored as the sync gives them; the admin's
 * mappings (per target) live beside them and survive every sync.  Deleting
 * the source deletes its networks.
 *
 * Objects come back as the synced fields plus "uuid", "source",
 * "mappings" ({} when none), created_at and updated_at.  Lists are ordered
 * by source name, then location, then uuid.
 */
#ifndef FERRY_DB_NETWORK_H
#define FERRY_DB_NETWORK_H

#include <jansson.h>

#include "common/error.h"
#include "db/db.h"

/*
 * Insert, or replace the synced fields of, the network with network's
 * uuid; a "mappings" field in network is ignored and the stored one kept.
 * Needs uuid, source, location and type.  Returns 1 if inserted, 0 if
 * replaced.  -ENOENT "Source 'x' not found"; -EEXIST "Network 'u' already
 * belongs to source 'y'".
 */
int db_network_put(struct db *db, const json_t *network, struct ferry_error *err);

/* -ENOENT "Network 'u' not found". */
int db_network_get(struct db *db, const char *uuid, json_t **ret, struct ferry_error *err);

/* All networks, or (source not NULL) those of one source: -ENOENT "Source 'x' not found". */
int db_network_list(struct db *db, const char *source, json_t **ret, struct ferry_error *err);

/* Replace the mappings with mappings, a JSON object ({} clears them). */
int db_network_set_mappings(struct db *db, const char *uuid, const json_t *mappings, struct ferry_error *err);

int db_network_delete(struct db *db, const char *uuid, struct ferry_error *err);

#endif
