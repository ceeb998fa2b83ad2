/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the API handlers share: reading bodies, turning a struct
 * ferry_error into the right HTTP answer, ETags, recursion, lifecycle
 * events.
 */
#ifndef FERRY_DAEMON_API_UTIL_H
#define FERRY_DAEMON_API_UTIL_H

#include <jansson.h>

#include "common/error.h"
#include "daemon/api.h"
#include "model/schema.h"

struct daemon;

/*
 * Parse the body as one JSON object.  On failure fill ret with the 400
 * (or 413) answer and return 0 with *ret_body NULL; the handler then
 * returns 0 as well.  Negative only when not even that could be built.
 */
int api_request_json(const struct api_request *req, struct api_response *ret, json_t **ret_body);

/* Answer with err's message and the HTTP status its code means:
 * -EINVAL/-ERANGE 400, -EPERM/-EACCES 403, -ENOENT 404, -EEXIST/-EBUSY 409,
 * -ESTALE 412, anything else 500. */
int api_response_from_error(struct api_response *ret, const struct ferry_error *err);

/* ?recursion=0|1: 0 or 1, or -EINVAL for anything else. */
int api_recursion(const struct api_request *req);

/* Answer 200 with obj (stolen) and its ETag header. */
int api_response_object(struct api_response *ret, json_t *obj);

/*
 * If-Match against the current public object: 0 when absent or equal,
 * -ESTALE with err filled when it does not match.
 */
int api_check_if_match(const struct api_request *req, const json_t *current_public, struct ferry_error *err);

/*
 * A collection answer: URLs under base ("/1.0/sources/NAME", from each
 * object's key field) for recursion 0, the objects (after public(), which
 * may be NULL) for recursion 1.  objects is borrowed.
 */
int api_response_collection(struct api_response *ret, const struct api_request *req, const char *base,
                            const char *key_field, const json_t *objects, json_t *(*public)(const json_t *));

/*
 * Emit a lifecycle event for a change a request made: action like
 * "source-created", source the object's URL.  context (stolen) may be
 * NULL.  req is NULL for changes ferryd makes itself (requestor protocol
 * "internal").
 * Failing to emit is logged, not returned: the change is done.
 */
void api_emit_lifecycle(struct daemon *d, const struct api_request *req, const char *action, const char *source,
                        json_t *context);

#endif
