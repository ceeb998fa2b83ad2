/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Operations (jobs.h) through the API, and the sync of a source.
 */
#ifndef FERRY_DAEMON_API_OPERATIONS_H
#define FERRY_DAEMON_API_OPERATIONS_H

#include <stdbool.h>

#include <jansson.h>

#include "common/error.h"
#include "daemon/api.h"

struct daemon;

/* POST /1.0/sources/{name}/sync: 202 and the operation, 404 for an unknown source. */
int api_source_sync(struct daemon *d, const struct api_request *req, struct api_response *ret);
/* GET /1.0/operations and /1.0/operations/{id}. */
int api_operations_list(struct daemon *d, const struct api_request *req, struct api_response *ret);
int api_operation_get(struct daemon *d, const struct api_request *req, struct api_response *ret);

/*
 * GET /1.0/operations/{id}/wait?timeout=N: the operation once it is no
 * longer Running, or as it is after N seconds (default and -1: no limit;
 * 0: at once), like Incus.  While it runs the answer is deferred
 * (ret->wait_operation): the server calls api_operation_wait_answer().
 * 400 for a timeout that is not an integer, 404 for an unknown operation.
 */
int api_operation_wait(struct daemon *d, const struct api_request *req, struct api_response *ret);

/*
 * Answer a deferred wait for operation id: 1 with ret filled when it has
 * ended (or is gone: 404), or when timed_out (its current state); 0 while
 * it still runs; negative errno on ENOMEM.
 */
int api_operation_wait_answer(struct daemon *d, const char *id, bool timed_out, struct api_response *ret);

/* Queue a sync of source name; *ret_operation (may be NULL) gets a copy of its operation. */
int api_source_start_sync(struct daemon *d, const char *name, json_t **ret_operation, struct ferry_error *err);
/* After a source was created: its first sync. */
void api_source_created(struct daemon *d, const char *name);

/* 202 with an "async" envelope around operation (stolen), as Incus answers. */
int api_response_async(struct api_response *ret, json_t *operation);

/* api_response_async() with the operation of job id (jobs_submit()'s). */
int api_response_job(struct daemon *d, const char *id, struct api_response *ret);

/* On the event loop after a wake-up: emit the events of the jobs that ended. */
void api_operations_dispatch(struct daemon *d);

#endif
