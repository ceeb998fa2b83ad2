/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferryd's REST API: the route table, dispatch, and the Incus-style
 * envelopes every answer is wrapped in (DESIGN §8):
 *
 *     {"type": "sync", "status": "Success", "status_code": 200,
 *      "operation": "", "error_code": 0, "error": "", "metadata": ...}
 *     {"type": "error", "status": "", "status_code": 0,
 *      "operation": "", "error_code": 404, "error": "Not found", "metadata": null}
 *
 * This module knows nothing of the HTTP transport: server.c parses a
 * request off the wire into a struct api_request, calls api_handle() and
 * sends back the struct api_response it gets.  Handlers run on the event
 * loop thread and must not block.
 */
#ifndef FERRY_DAEMON_API_H
#define FERRY_DAEMON_API_H

#include <errno.h>
#include <stddef.h>

#include <jansson.h>

#include "common/macros.h"

struct daemon;

enum api_method {
        API_METHOD_GET,
        API_METHOD_PUT,
        API_METHOD_POST,
        API_METHOD_PATCH,
        API_METHOD_DELETE,
        _API_METHOD_MAX,
        _API_METHOD_INVALID = -EINVAL,
};

/* "GET", ... (static strings); NULL/-EINVAL for anything else (HEAD,
 * OPTIONS, ...).  Case matters: HTTP methods are upper case. */
const char *api_method_to_string(enum api_method method);
enum api_method api_method_from_string(const char *s);

struct api_request {
        const char *method;     /* as sent: "GET", "HEAD", ... */
        const char *path;       /* decoded, without the query string */
        const char *body;       /* NULL when the request has none */
        size_t body_len;
};

struct api_response {
        int status;             /* HTTP status code */
        json_t *envelope;       /* owned */
};

void api_response_done(struct api_response *r);
#define _cleanup_api_response_ _cleanup_(api_response_done)

/*
 * Build the envelopes.  api_envelope_sync() steals metadata (NULL is sent
 * as JSON null).  Both return NULL with errno set on allocation failure.
 */
json_t *api_envelope_sync(json_t *metadata);
json_t *api_envelope_error(int http_status, const char *message);

/* Fill ret with a 200 sync answer around metadata (stolen). 0 or -ENOMEM. */
int api_response_sync(struct api_response *ret, json_t *metadata);

/* Fill ret with an error answer; the message follows STYLE.md (capital, no
 * trailing period).  0 or -ENOMEM. */
int api_response_error(struct api_response *ret, int http_status, const char *fmt, ...) _printf_(3, 4);

/*
 * A handler fills ret with a sync or an error answer and returns 0, or
 * returns a negative errno for a failure of its own, which becomes a 500
 * answer naming the error.
 */
typedef int (*api_handler_fn)(struct daemon *d, const struct api_request *req, struct api_response *ret);

/*
 * Answer one request: find the endpoint for req->path, then the handler
 * for req->method.  Always fills ret (404, 405, 500 included) and returns
 * 0, unless not even an error envelope could be allocated: -ENOMEM.
 */
int api_handle(struct daemon *d, const struct api_request *req, struct api_response *ret);

/* Handlers, one file per group of endpoints. */
int api_root_get(struct daemon *d, const struct api_request *req, struct api_response *ret);
int api_server_get(struct daemon *d, const struct api_request *req, struct api_response *ret);

#endif
