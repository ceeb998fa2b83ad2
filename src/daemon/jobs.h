/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Slow work off the event loop: one job thread with its own database
 * connection takes jobs (today: source syncs) from a queue, and each job is
 * an Incus-style operation the API shows at /1.0/operations/{id}:
 *
 *     {"id": "…", "class": "task", "description": "Syncing source 'vc01'",
 *      "status": "Running" | "Success" | "Failure", "status_code": 103 | 200 | 400,
 *      "resources": {"sources": ["/1.0/sources/vc01"]}, "metadata": {…} | null,
 *      "err": "", "may_cancel": false, "created_at": "…", "updated_at": "…"}
 *
 * When a job ends the thread wakes the loop (lws_cancel_service() through
 * wake()), which calls jobs_dispatch() to emit the operation and lifecycle
 * events.  Every function but jobs_new()/jobs_free() may be called from any
 * thread.
 */
#ifndef FERRY_DAEMON_JOBS_H
#define FERRY_DAEMON_JOBS_H

#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"

struct db;
struct jobs;

/* Start the thread; it opens db_path for itself.  wake(userdata) is called from it. */
int jobs_new(const char *db_path, void (*wake)(void *userdata), void *userdata, struct jobs **ret,
             struct ferry_error *err);
/* Cancel the running job (its requests end within about a second), drop the queued ones, stop the
 * thread.  NULL is fine. */
void jobs_free(struct jobs *j);
DEFINE_CLEANUP_FUNC(struct jobs, jobs_free);

/* Queue a sync of source name; *ret_id (free() it) is its operation's id. */
int jobs_submit_sync(struct jobs *j, const char *source, char **ret_id, struct ferry_error *err);

/*
 * Sync every source each usec (0: only when asked), first usec from now.
 * A source whose sync is queued or running is skipped that round.
 */
void jobs_set_source_sync_interval(struct jobs *j, uint64_t usec);

/*
 * Any other job: run(db, userdata, &metadata, err) on the job thread with
 * its connection; a negative return fails the operation with err's text,
 * metadata (may stay NULL) becomes the operation's.  description names it
 * ("Syncing target 'lab'"), resource_type and resource_url its "resources"
 * entry ("targets", "/1.0/targets/lab").  userdata is freed with
 * free_userdata (may be NULL) once the job ran or was dropped, and also
 * when submitting fails.
 */
typedef int (*jobs_run_fn)(struct db *db, void *userdata, json_t **ret_metadata, struct ferry_error *err);

int jobs_submit(struct jobs *j, const char *description, const char *resource_type, const char *resource_url,
                jobs_run_fn run, void *userdata, void (*free_userdata)(void *userdata), char **ret_id,
                struct ferry_error *err);

/* A copy of the operation id, or NULL (errno ENOENT) if unknown. */
json_t *jobs_operation_get(struct jobs *j, const char *id);
/* Copies of every operation, oldest first. */
json_t *jobs_operation_list(struct jobs *j);

/*
 * The operations that ended since the last call, each once (an array of
 * copies; the event loop emits them).  NULL on ENOMEM.
 */
json_t *jobs_take_finished(struct jobs *j);

#endif
