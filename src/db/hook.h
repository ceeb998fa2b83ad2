/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Event hooks (docs/rest-api.md, "hook"), keyed by name.  "runs" is kept
 * beside the object and survives updates: {"count": N, "last": [run, ...]}
 * with the newest run first and at most DB_HOOK_RUNS_KEPT of them, each
 *
 *     {"started_at": "…", "duration_ms": 12, "event": "batch-created",
 *      "source": "/1.0/batches/b1", "status": "Success" | "Failure",
 *      "error": "", "log": [{"level", "message"}]}
 *
 * Objects come back with runs, created_at and updated_at; lists are
 * ordered by name.
 *
 * Errors: -EEXIST "Hook 'x' already exists", -ENOENT "Hook 'x' not found",
 * -EINVAL for a missing name.
 */
#ifndef FERRY_DB_HOOK_H
#define FERRY_DB_HOOK_H

#include <jansson.h>

#include "common/error.h"
#include "db/db.h"

#define DB_HOOK_RUNS_KEPT 10

int db_hook_create(struct db *db, const json_t *hook, struct ferry_error *err);
int db_hook_get(struct db *db, const char *name, json_t **ret, struct ferry_error *err);
int db_hook_list(struct db *db, json_t **ret, struct ferry_error *err);
/* Replace the stored object (runs are kept). */
int db_hook_update(struct db *db, const char *name, const json_t *hook, struct ferry_error *err);
int db_hook_delete(struct db *db, const char *name, struct ferry_error *err);

/* Record one run (copied) as the newest, dropping the oldest beyond DB_HOOK_RUNS_KEPT; one transaction. */
int db_hook_record_run(struct db *db, const char *name, const json_t *run, struct ferry_error *err);

#endif
