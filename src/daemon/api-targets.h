/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Targets in ferryd: syncs (registration and inventory, targets.h) on the
 * job thread as operations, and the event followers (target-events.h)
 * started and stopped with the targets.
 */
#ifndef FERRY_DAEMON_API_TARGETS_H
#define FERRY_DAEMON_API_TARGETS_H

#include <jansson.h>

#include "common/error.h"
#include "daemon/api.h"

struct daemon;

/* POST /1.0/targets/{name}/sync: 202 and the operation, 404 for an unknown target. */
int api_target_sync(struct daemon *d, const struct api_request *req, struct api_response *ret);

/* Queue a sync of target name; *ret_operation (may be NULL) gets a copy of its operation. */
int api_target_start_sync(struct daemon *d, const char *name, json_t **ret_operation, struct ferry_error *err);

/* At start: load ferry's identity towards targets and follow every registered target. */
int api_targets_start(struct daemon *d, const char *db_path, struct ferry_error *err);
/* At exit, after the job thread stopped. */
void api_targets_stop(struct daemon *d);

/* On the event loop after a wake-up: emit the forwarded Incus events. */
void api_targets_dispatch(struct daemon *d);

#endif
