/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /1.0/targets: the Incus servers and clusters VMs move to.  Registration
 * syncs (registration with a trust token, the inventory) run on the job
 * thread as operations; every registered target has an event follower
 * (target-events.h) that keeps its inventory current.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "daemon/api-collection.h"
#include "daemon/api-operations.h"
#include "daemon/api-targets.h"
#include "daemon/api-util.h"
#include "daemon/daemon.h"
#include "daemon/events.h"
#include "daemon/jobs.h"
#include "daemon/target-events.h"
#include "daemon/targets.h"
#include "db/target.h"
#include "model/model.h"

static void target_created(struct daemon *d, const char *name);
static void target_removed(struct daemon *d, const char *name);
static void target_updated(struct daemon *d, const char *name, const json_t *before, const json_t *after);

const struct api_collection api_targets = {
        .resource = {
                .base = "/1.0/targets",
                .entity = "target",
                .schema = &model_target_schema,
                .get = db_target_get,
                .store = db_target_update,
                .updated = target_updated,
        },
        .create = db_target_create,
        .list = db_target_list,
        .remove = db_target_delete,
        .created = target_created,
        .removed = target_removed,
};

/* GET /1.0/targets/{name}/inventory: what the Incus driver last read of
 * the target (projects, networks, storage pools, profiles, cluster
 * members), as stored; {} until the first sync. */
int api_target_inventory_get(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_json_ json_t *target = NULL;
        struct ferry_error err = {};
        json_t *inventory;
        int r;

        r = db_target_get(d->db, req->params[0], &target, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);
        inventory = json_object_get(target, "inventory");
        inventory = json_is_object(inventory) ? json_incref(inventory) : json_object();
        if (!inventory)
                return api_response_error(ret, 500, "Out of memory");
        return api_response_object(ret, inventory);
}

struct target_job {
        struct daemon *d;
        char *name;
};

static void target_job_free(void *userdata)
{
        struct target_job *job = userdata;

        if (!job)
                return;
        free(job->name);
        free(job);
}

/* On the job thread: register if needed, read the inventory, then follow the events. */
static int target_job_run(struct db *db, void *userdata, json_t **ret_metadata, struct ferry_error *err)
{
        struct target_job *job = userdata;
        int r;

        r = target_sync(db, &job->d->target_identity, job->name, ret_metadata, err);
        if (r < 0) {
                log_warning("Sync of target '%s' failed: %s", job->name, ferry_error_message(err));
                return r;
        }
        r = target_followers_start(job->d->target_followers, job->name, err);
        if (r < 0)
                log_warning("%s", ferry_error_message(err));
        return 0;
}

int api_target_start_sync(struct daemon *d, const char *name, json_t **ret_operation, struct ferry_error *err)
{
        _cleanup_free_ char *id = NULL, *url = NULL, *description = NULL;
        struct target_job *job;
        json_t *op;
        int r;

        job = calloc(1, sizeof(*job));
        if (!job)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        job->d = d;
        job->name = strdup(name);
        if (!job->name || asprintf(&url, "/1.0/targets/%s", name) < 0 ||
            asprintf(&description, "Syncing target '%s'", name) < 0) {
                url = description = NULL;
                target_job_free(job);
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        r = jobs_submit(d->jobs, description, "targets", url, target_job_run, job, target_job_free, &id, err);
        if (r < 0)
                return r;
        op = jobs_operation_get(d->jobs, id);
        if (!op)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        if (ret_operation)
                *ret_operation = op;
        else
                json_decref(op);
        return 0;
}

int api_target_sync(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_json_ json_t *target = NULL;
        struct ferry_error err = {};
        json_t *op = NULL;
        int r;

        r = db_target_get(d->db, req->params[0], &target, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);
        r = api_target_start_sync(d, req->params[0], &op, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);
        return api_response_async(ret, op);
}

static void target_created(struct daemon *d, const char *name)
{
        struct ferry_error err = {};

        if (api_target_start_sync(d, name, NULL, &err) < 0)
                log_warning("Cannot start the first sync of target '%s': %s", name, ferry_error_message(&err));
}

static void target_removed(struct daemon *d, const char *name)
{
        target_followers_stop(d->target_followers, name);
}

static bool same_property(const json_t *a, const json_t *b, const char *key)
{
        const json_t *x = json_object_get(json_object_get(a, "properties"), key);
        const json_t *y = json_object_get(json_object_get(b, "properties"), key);

        return (!x && !y) || (x && y && json_equal(x, y));
}

/* A new endpoint, token or pinned certificate: register and read everything again. */
static void target_updated(struct daemon *d, const char *name, const json_t *before, const json_t *after)
{
        struct ferry_error err = {};

        if (same_property(before, after, "endpoint") && same_property(before, after, "trust_token") &&
            same_property(before, after, "trusted_server_certificate_fingerprint"))
                return;
        target_followers_stop(d->target_followers, name);
        if (api_target_start_sync(d, name, NULL, &err) < 0)
                log_warning("Cannot start a sync of target '%s': %s", name, ferry_error_message(&err));
}

int api_targets_start(struct daemon *d, const char *db_path, struct ferry_error *err)
{
        _cleanup_json_ json_t *targets = NULL;
        size_t i;
        json_t *t;
        int r;

        r = target_identity_load(d->data_dir, &d->target_identity, err);
        if (r < 0)
                return r;
        r = target_followers_new(db_path, &d->target_identity, daemon_wake, d, &d->target_followers, err);
        if (r < 0)
                return r;

        r = db_target_list(d->db, &targets, err);
        if (r < 0)
                return r;
        json_array_foreach(targets, i, t) {
                const char *name = json_string_value(json_object_get(t, "name"));
                struct ferry_error start_err = {};

                /* Not registered yet (a token waiting): a sync does that first. */
                if (!target_is_registered(t)) {
                        if (api_target_start_sync(d, name, NULL, &start_err) < 0)
                                log_warning("%s", ferry_error_message(&start_err));
                        continue;
                }
                if (target_followers_start(d->target_followers, name, &start_err) < 0)
                        log_warning("%s", ferry_error_message(&start_err));
        }
        return 0;
}

void api_targets_stop(struct daemon *d)
{
        target_followers_free(d->target_followers);
        d->target_followers = NULL;
        target_identity_done(&d->target_identity);
}

void api_targets_dispatch(struct daemon *d)
{
        _cleanup_json_ json_t *events = NULL;
        size_t i;
        json_t *m;

        if (!d->target_followers)
                return;
        events = target_followers_take_events(d->target_followers);
        json_array_foreach(events, i, m)
                if (event_hub_emit(d->events, EVENT_LIFECYCLE, json_incref(m)) < 0)
                        log_debug("Cannot emit an event of a target");
}
