/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "daemon/api-filter.h"
#include "daemon/api-operations.h"
#include "daemon/api-placement.h"
#include "daemon/api-util.h"
#include "daemon/daemon.h"
#include "daemon/jobs.h"
#include "db/batch.h"
#include "db/instance.h"
#include "db/network.h"
#include "db/target.h"
#include "scriptlet/placement.h"
#include "scriptlet/sandbox.h"

int api_placement_check(const json_t *batch, struct ferry_error *err)
{
        const char *source = json_string_value(json_object_get(json_object_get(batch, "config"), "placement_scriptlet"));
        const struct scriptlet_options options = {
                .name = json_string_value(json_object_get(batch, "name")),
                .time_max_ms = API_PLACEMENT_CHECK_TIME_MAX_MS,
                .instructions_max = API_PLACEMENT_CHECK_INSTRUCTIONS_MAX,
        };
        int r;

        if (!source || !*source)
                return 0;
        r = scriptlet_check(&options, source, "placement", err);
        if (r < 0)
                /* Whatever went wrong, it is the body's fault: a 400. */
                return ferry_error_set(err, -EINVAL, "Field 'config.placement_scriptlet': %s", ferry_error_message(err));
        return 0;
}

static int elapsed_ms(const struct timespec *start)
{
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return (int) ((now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000);
}

static int dry_run_one(const json_t *instance, const json_t *batch, const json_t *targets, const json_t *networks,
                       json_t **ret)
{
        _cleanup_json_ json_t *log = json_array(), *result = NULL, *entry = NULL;
        struct placement_input in = { .instance = instance, .batch = batch, .targets = targets, .networks = networks };
        struct ferry_error err = {};
        int r;

        if (!log)
                return -ENOMEM;
        entry = json_pack("{s:s, s:s, s:s}", "uuid", json_string_value(json_object_get(instance, "uuid")) ?: "",
                          "name", json_string_value(json_object_get(instance, "name")) ?: "", "location",
                          json_string_value(json_object_get(instance, "location")) ?: "");
        if (!entry)
                return -ENOMEM;

        r = placement_compute(&in, NULL, log, &result, &err);
        if (r == -ENOMEM && !*err.message)
                return -ENOMEM;
        if (r == PLACEMENT_PLACED)
                r = json_object_set_new(entry, "status", json_string("Placed")) |
                    json_object_set(entry, "placement", result);
        else if (r == PLACEMENT_BLOCKED)
                r = json_object_set_new(entry, "status", json_string("Blocked")) |
                    json_object_set(entry, "reason", json_object_get(result, "reason"));
        else
                r = json_object_set_new(entry, "status", json_string("Error")) |
                    json_object_set_new(entry, "error", json_string(ferry_error_message(&err)));
        if (r < 0 || json_object_set(entry, "log", log) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(entry);
        return 0;
}

int api_placement_dry_run(struct db *db, const char *name, json_t **ret, struct ferry_error *err)
{
        _cleanup_json_ json_t *batch = NULL, *instances = NULL, *selected = NULL, *targets = NULL, *networks = NULL;
        _cleanup_json_ json_t *results = json_array();
        _cleanup_expr_ struct expr *e = NULL;
        int placed = 0, blocked = 0, failed = 0, skipped = 0, r;
        struct timespec start;
        const json_t *instance;
        size_t i;

        clock_gettime(CLOCK_MONOTONIC, &start);
        if (!results)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = db_batch_get(db, name, &batch, err);
        if (r < 0)
                return r;
        r = expr_compile(json_string_value(json_object_get(batch, "include_expression")), EXPR_SCHEMA_INSTANCE, &e,
                         err);
        if (r < 0)
                return r;
        r = db_instance_list(db, NULL, &instances, err);
        if (r >= 0)
                r = api_filter_expr(e, EXPR_SCHEMA_INSTANCE, instances, &selected, err);
        if (r >= 0)
                r = db_target_list(db, &targets, err);
        if (r >= 0)
                r = db_network_list(db, NULL, &networks, err);
        if (r < 0)
                return r;

        json_array_foreach(selected, i, instance) {
                json_t *entry = NULL;

                if (elapsed_ms(&start) >= API_PLACEMENT_DRY_RUN_TIME_MAX_MS) {
                        entry = json_pack("{s:s, s:s, s:s, s:s, s:s}", "uuid",
                                          json_string_value(json_object_get(instance, "uuid")) ?: "", "name",
                                          json_string_value(json_object_get(instance, "name")) ?: "", "location",
                                          json_string_value(json_object_get(instance, "location")) ?: "", "status",
                                          "Skipped", "error", "The dry run's time budget of 30 s ran out");
                        skipped++;
                } else if (dry_run_one(instance, batch, targets, networks, &entry) >= 0) {
                        const char *status = json_string_value(json_object_get(entry, "status"));

                        if (streq(status, "Placed"))
                                placed++;
                        else if (streq(status, "Blocked"))
                                blocked++;
                        else
                                failed++;
                }
                if (!entry || json_array_append_new(results, entry) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }

        *ret = json_pack("{s:s, s:i, s:i, s:i, s:i, s:O}", "batch", name, "placed", placed, "blocked", blocked,
                         "failed", failed, "skipped", skipped, "instances", results);
        if (!*ret)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        return 0;
}

static int dry_run_job(struct db *db, void *userdata, json_t **ret_metadata, struct ferry_error *err)
{
        return api_placement_dry_run(db, userdata, ret_metadata, err);
}

int api_batch_placement_get(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_json_ json_t *batch = NULL;
        _cleanup_free_ char *url = NULL, *description = NULL, *id = NULL, *name = NULL;
        struct ferry_error err = {};
        int r;

        r = db_batch_get(d->db, req->params[0], &batch, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);

        name = strdup(req->params[0]);
        if (!name || asprintf(&url, "/1.0/batches/%s", req->params[0]) < 0 ||
            asprintf(&description, "Placement dry run of batch '%s'", req->params[0]) < 0)
                return -ENOMEM;
        r = jobs_submit(d->jobs, description, "batches", url, dry_run_job, TAKE_PTR(name), free, &id, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);
        return api_response_job(d, id, ret);
}
