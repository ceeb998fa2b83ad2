/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /1.0/operations: the jobs ferryd runs off its event loop (jobs.h), and
 * /1.0/sources/{name}/sync, which starts one.  Clients wait with
 * GET /1.0/operations/{id}/wait (answered later by the server, from the
 * event loop) or poll GET /1.0/operations/{id}.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "daemon/api-operations.h"
#include "daemon/api-util.h"
#include "daemon/daemon.h"
#include "daemon/events.h"
#include "daemon/jobs.h"
#include "db/source.h"

/* 202 with an "async" envelope naming the operation, as Incus answers. */
int api_response_async(struct api_response *ret, json_t *operation)
{
        _cleanup_free_ char *url = NULL;
        json_t *envelope;

        if (asprintf(&url, "/1.0/operations/%s", json_string_value(json_object_get(operation, "id"))) < 0) {
                json_decref(operation);
                return -ENOMEM;
        }
        envelope = json_pack("{s:s, s:s, s:i, s:s, s:i, s:s, s:o}", "type", "async", "status", "Operation created",
                             "status_code", 100, "operation", url, "error_code", 0, "error", "", "metadata",
                             operation);
        if (!envelope)
                return -ENOMEM;
        *ret = (struct api_response) { .status = 202, .envelope = envelope };
        return 0;
}

int api_response_job(struct daemon *d, const char *id, struct api_response *ret)
{
        json_t *op = jobs_operation_get(d->jobs, id);

        if (!op)
                return -ENOMEM;
        return api_response_async(ret, op);
}

int api_source_start_sync(struct daemon *d, const char *name, json_t **ret_operation, struct ferry_error *err)
{
        _cleanup_free_ char *id = NULL;
        json_t *op;
        int r;

        r = jobs_submit_sync(d->jobs, name, &id, err);
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

int api_source_sync(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_json_ json_t *source = NULL;
        struct ferry_error err = {};
        json_t *op = NULL;
        int r;

        r = db_source_get(d->db, req->params[0], &source, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);
        r = api_source_start_sync(d, req->params[0], &op, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);
        return api_response_async(ret, op);
}

void api_source_created(struct daemon *d, const char *name)
{
        struct ferry_error err = {};

        if (api_source_start_sync(d, name, NULL, &err) < 0)
                log_warning("Cannot start the first sync of source '%s': %s", name, ferry_error_message(&err));
}

int api_operations_list(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_json_ json_t *ops = jobs_operation_list(d->jobs);

        if (!ops)
                return -ENOMEM;
        return api_response_collection(ret, req, "/1.0/operations", "id", ops, NULL);
}

int api_operation_get(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        json_t *op = jobs_operation_get(d->jobs, req->params[0]);

        if (!op)
                return errno == ENOENT ? api_response_error(ret, 404, "Operation '%s' not found", req->params[0])
                                       : -ENOMEM;
        return api_response_sync(ret, op);
}

int api_operation_wait(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        const char *timeout = api_request_arg(req, "timeout");
        long long seconds = -1;
        json_t *op;

        if (timeout && *timeout) {
                char *end;

                errno = 0;
                seconds = strtoll(timeout, &end, 10);
                if (errno || *end || seconds < -1 || seconds > 365LL * 24 * 3600)
                        return api_response_error(ret, 400, "Invalid timeout '%s': expected seconds, or -1 for no limit",
                                                  timeout);
        }
        op = jobs_operation_get(d->jobs, req->params[0]);
        if (!op)
                return errno == ENOENT ? api_response_error(ret, 404, "Operation '%s' not found", req->params[0])
                                       : -ENOMEM;
        if (seconds == 0 || !streq_ptr(json_string_value(json_object_get(op, "status")), "Running"))
                return api_response_sync(ret, op);
        json_decref(op);
        ret->wait_operation = strdup(req->params[0]);
        if (!ret->wait_operation)
                return -ENOMEM;
        ret->wait_timeout_usec = seconds < 0 ? -1 : (int64_t) seconds * 1000000;
        return 0;
}

int api_operation_wait_answer(struct daemon *d, const char *id, bool timed_out, struct api_response *ret)
{
        json_t *op = jobs_operation_get(d->jobs, id);
        int r;

        if (!op) {
                if (errno != ENOENT)
                        return -ENOMEM;
                r = api_response_error(ret, 404, "Operation '%s' not found", id);
                return r < 0 ? r : 1;
        }
        if (!timed_out && streq_ptr(json_string_value(json_object_get(op, "status")), "Running")) {
                json_decref(op);
                return 0;
        }
        r = api_response_sync(ret, op);
        return r < 0 ? r : 1;
}

/*
 * What a finished source sync changed, as lifecycle events: the source
 * itself (its status, whatever the outcome) and each warning it raised
 * anew.  Instances and networks are summed up in the source's event
 * context rather than one event each: a first sync may add thousands.
 */
static void api_operation_emit_changes(struct daemon *d, const json_t *op)
{
        const json_t *sources = json_object_get(json_object_get(op, "resources"), "sources"), *url;
        const json_t *metadata = json_object_get(op, "metadata"), *uuid;
        size_t i;

        json_array_foreach(sources, i, url) {
                const char *id = json_string_value(json_object_get(op, "id"));
                const char *status = json_string_value(json_object_get(op, "status"));
                json_t *context = json_pack("{s:s, s:s, s:O?}", "operation", id ?: "", "status", status ?: "",
                                            "sync", json_is_object(metadata) ? metadata : NULL);

                api_emit_lifecycle(d, NULL, "source-updated", json_string_value(url), context);
        }
        json_array_foreach(json_object_get(metadata, "warnings_created"), i, uuid) {
                _cleanup_free_ char *source = strjoin("/1.0/warnings/", json_string_value(uuid), NULL);

                if (source)
                        api_emit_lifecycle(d, NULL, "warning-created", source, NULL);
        }
}

void api_operations_dispatch(struct daemon *d)
{
        _cleanup_json_ json_t *finished = NULL;
        size_t i;
        json_t *op;

        if (!d->jobs)
                return;
        finished = jobs_take_finished(d->jobs);
        json_array_foreach(finished, i, op) {
                if (event_hub_emit(d->events, EVENT_OPERATION, json_incref(op)) < 0)
                        log_debug("Cannot emit the operation event of '%s'",
                                  json_string_value(json_object_get(op, "id")));
                api_operation_emit_changes(d, op);
        }
}
