/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Warnings (docs/rest-api.md, "warning"), keyed by uuid:
 *
 *     {"uuid": "…", "scope": {"scope": "sync", "entity_type": "source", "entity": "vc01"},
 *      "type": "Cannot connect", "status": "new", "messages": ["…"], "count": 3,
 *      "first_seen": "…", "last_seen": "…"}
 *
 * There is at most one warning per (scope, entity_type, entity, type):
 * raising the same problem again counts it.  Lists are ordered by
 * first_seen.  Timestamps are RFC 3339 UTC with six fraction digits.
 */
#ifndef FERRY_DB_WARNING_H
#define FERRY_DB_WARNING_H

#include <jansson.h>

#include "common/error.h"
#include "db/db.h"

/* How many distinct messages a warning keeps; older ones are dropped first. */
#define DB_WARNING_MESSAGES_MAX 20

/*
 * Record a problem: a new warning (status "new", count 1, messages
 * [message]), or, if one exists for the same scope, entity_type, entity
 * and type, count it again: count + 1, last_seen now, message appended
 * unless already there; its status stays.  One transaction.  Returns 1 if
 * created, 0 if counted; *ret_uuid (free() it; may be NULL) is its uuid.
 */
int db_warning_raise(struct db *db, const char *scope, const char *entity_type, const char *entity,
                     const char *type, const char *message, char **ret_uuid, struct ferry_error *err);

/*
 * Store a whole warning object; absent uuid (a random v4 uuid), status
 * ("new"), count (1), messages ([]), first_seen and last_seen (now) are
 * filled in.  -EEXIST "Warning 'u' already exists" for the same uuid or for
 * the same scope and type.
 */
int db_warning_create(struct db *db, const json_t *warning, char **ret_uuid, struct ferry_error *err);

/* -ENOENT "Warning 'u' not found". */
int db_warning_get(struct db *db, const char *uuid, json_t **ret, struct ferry_error *err);
int db_warning_list(struct db *db, json_t **ret, struct ferry_error *err);
/* Set "status" ("new", "acknowledged": the caller validates). */
int db_warning_set_status(struct db *db, const char *uuid, const char *status, struct ferry_error *err);
int db_warning_delete(struct db *db, const char *uuid, struct ferry_error *err);

#endif
