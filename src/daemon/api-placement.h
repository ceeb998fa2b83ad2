/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Placement scriptlets through the API: the check when a batch is saved,
 * and GET /1.0/batches/{name}/placement, a dry run of placement for every
 * instance the batch selects.  The dry run runs Lua, so it is a job on the
 * job thread (jobs.h): the answer is 202 with the operation, whose
 * metadata, once it ends, is
 *
 *     {"batch": "wave1", "placed": 3, "blocked": 1, "failed": 1, "skipped": 0,
 *      "instances": [{"uuid": "…", "name": "web1", "location": "/dc/vm/web1",
 *                     "status": "Placed", "placement": {…}, "log": [{"level", "message"}]},
 *                    {"uuid": "…", "status": "Blocked", "reason": "…", …},
 *                    {"uuid": "…", "status": "Error", "error": "Storage pool 'x' …", …},
 *                    {"uuid": "…", "status": "Skipped", "error": "The dry run's time budget of 30 s ran out"}]}
 */
#ifndef FERRY_DAEMON_API_PLACEMENT_H
#define FERRY_DAEMON_API_PLACEMENT_H

#include <jansson.h>

#include "common/error.h"
#include "daemon/api.h"

struct daemon;
struct db;

/* The whole dry run may take this long; instances after that are "Skipped". */
#define API_PLACEMENT_DRY_RUN_TIME_MAX_MS 30000
/* Saving a batch runs its scriptlet's main chunk on the event loop: briefly. */
#define API_PLACEMENT_CHECK_TIME_MAX_MS 250
#define API_PLACEMENT_CHECK_INSTRUCTIONS_MAX UINT64_C(1000000)

/*
 * The save-time check of batch's config.placement_scriptlet (if any): it
 * compiles, its main chunk runs within the check's limits and it defines
 * placement().  -EINVAL with the scriptlet's message.
 */
int api_placement_check(const json_t *batch, struct ferry_error *err);

/* GET /1.0/batches/{name}/placement: 202 and the dry run's operation; 404 for an unknown batch. */
int api_batch_placement_get(struct daemon *d, const struct api_request *req, struct api_response *ret);

/* The dry run itself, for batch (name), with the thread's db (a jobs_run_fn, and for tests). */
int api_placement_dry_run(struct db *db, const char *batch, json_t **ret, struct ferry_error *err);

#endif
