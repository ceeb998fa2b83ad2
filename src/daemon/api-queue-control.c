/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /1.0/batches/{name}/:start|:stop|:reset and
 * POST /1.0/queue/{uuid}/:retry|:cancel: the admin actions of
 * daemon/queue-control.h.  Each runs as an operation on a job thread
 * (starting places instances with Lua; reset, retry and cancel may call
 * Incus), keyed by the batch or entry so that two actions on one object
 * never run at once.  The operation's metadata is the action's result;
 * its lifecycle events are emitted by the loop with the caller as the
 * requestor.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "daemon/api-operations.h"
#include "daemon/api-util.h"
#include "daemon/api.h"
#include "daemon/daemon.h"
#include "daemon/jobs.h"
#include "daemon/queue-control.h"
#include "db/batch.h"
#include "db/queue.h"

typedef int (*queue_action_fn)(const struct queue_control *qc, const char *key, json_t **ret,
                               struct ferry_error *err);

struct action_job {
        struct daemon *daemon;
        queue_action_fn fn;
        char *key;
        char *protocol;
        char *username;
};

static void action_job_free(void *userdata)
{
        struct action_job *job = userdata;

        if (!job)
                return;
        free(job->key);
        free(job->protocol);
        free(job->username);
        free(job);
}

static int action_job_run(struct db *db, void *userdata, json_t **ret_metadata, struct ferry_error *err)
{
        struct action_job *job = userdata;
        _cleanup_json_ json_t *events = json_array();
        struct queue_control qc = { .db = db, .identity = &job->daemon->target_identity, .events = events };
        int r;

        if (!events)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = job->fn(&qc, job->key, ret_metadata, err);
        daemon_post_lifecycle(job->daemon, events, job->protocol, job->username);
        return r;
}

/* 404 now rather than a failed operation later. */
static int check_exists(struct daemon *d, bool batch, const char *key, struct api_response *ret)
{
        _cleanup_json_ json_t *obj = NULL;
        struct ferry_error err = {};
        int r;

        r = batch ? db_batch_get(d->db, key, &obj, &err) : db_queue_get(d->db, key, &obj, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);
        return 0;
}

static int submit(struct daemon *d, const struct api_request *req, bool batch, const char *verb,
                  queue_action_fn fn, struct api_response *ret)
{
        _cleanup_free_ char *url = NULL, *description = NULL, *id = NULL;
        const char *key = req->params[0];
        struct action_job *job;
        struct ferry_error err = {};
        int r;

        r = check_exists(d, batch, key, ret);
        if (r != 0 || ret->status != 0)
                return r;

        job = calloc(1, sizeof(*job));
        if (!job)
                return -ENOMEM;
        *job = (struct action_job) {
                .daemon = d,
                .fn = fn,
                .key = strdup(key),
                .protocol = strdup(req->requestor.protocol ?: "unix"),
                .username = strdup(req->requestor.username ?: ""),
        };
        url = strjoin(batch ? "/1.0/batches/" : "/1.0/queue/", key, NULL);
        if (!job->key || !job->protocol || !job->username || !url ||
            asprintf(&description, "%s %s '%s'", verb, batch ? "batch" : "queue entry", key) < 0) {
                action_job_free(job);
                return -ENOMEM;
        }
        r = jobs_submit(d->jobs, description, batch ? "batches" : "queue", url, action_job_run, job, action_job_free,
                        &id, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);
        return api_response_job(d, id, ret);
}

int api_batch_start(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        return submit(d, req, true, "Starting", queue_control_batch_start, ret);
}

int api_batch_stop(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        return submit(d, req, true, "Stopping", queue_control_batch_stop, ret);
}

int api_batch_reset(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        return submit(d, req, true, "Resetting", queue_control_batch_reset, ret);
}

int api_queue_retry(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        return submit(d, req, false, "Retrying", queue_control_retry, ret);
}

int api_queue_cancel(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        return submit(d, req, false, "Canceling", queue_control_cancel, ret);
}
