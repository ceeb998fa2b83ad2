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
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"

struct api_resource;
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

/* Who sent a request (events name them as the requestor). */
struct api_requestor {
        const char *protocol;   /* "unix" or "tls" */
        const char *username;   /* the trusted certificate's name, "" on the unix socket */
        const char *fingerprint; /* the TLS client certificate's, NULL if none */
        const char *certificate; /* that certificate as PEM, NULL if none */
        bool trusted;
};

/* A request body streamed to a file instead of memory (endpoints marked
 * API_STREAM_BODY): server.c writes it under <data dir>/tmp and hashes it
 * on the way; the handler renames the file into place or leaves it, and
 * server.c removes whatever is left. */
struct api_upload {
        const char *path;
        uint64_t size;
        char sha256[65];        /* hex */
};

#define API_MAX_PARAMS 4
#define API_MAX_ARGS 16

struct api_request {
        const char *method;     /* as sent: "GET", "HEAD", ... */
        const char *path;       /* decoded, without the query string */
        /* The query string, decoded, as "key=value" (or "key") strings. */
        const char *args[API_MAX_ARGS];
        size_t n_args;
        const char *body;       /* NULL when the request has none */
        size_t body_len;
        const struct api_upload *upload; /* API_STREAM_BODY endpoints only */
        const char *if_match;   /* the If-Match header, NULL if absent */
        const char *header_sha256; /* X-Ferry-SHA256, NULL if absent */
        const char *authorization; /* the Authorization header, NULL if absent */
        struct api_requestor requestor;
        /* The {placeholders} of the matched route, in order; api_handle()
         * fills them. */
        const char *params[API_MAX_PARAMS];
        size_t n_params;
        const void *userdata;   /* the route's, for handlers shared by routes */
};

/* The value of query argument key ("recursion" in "recursion=1"): "" for a
 * bare "key", NULL when absent.  Borrowed from req. */
const char *api_request_arg(const struct api_request *req, const char *key);

struct api_response {
        int status;             /* HTTP status code */
        json_t *envelope;       /* owned; NULL when a file is sent instead */
        char etag[68];          /* "" or the quoted ETag header value */
        bool send_file;         /* send file_fd's content as the body */
        int file_fd;            /* owned when send_file */
        uint64_t file_size;
        const char *content_type; /* of the file, static */
        /*
         * A deferred answer: the handler set wait_operation (owned) instead
         * of an envelope.  The server keeps the request and answers it with
         * api_operation_wait_answer() once the operation ends, or after
         * wait_timeout_usec (negative: no limit).
         */
        char *wait_operation;
        int64_t wait_timeout_usec;
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

/* What server.c must know before it reads a body: whether this request's
 * body goes to a file (API_STREAM_BODY) and whether the requestor may send
 * it at all.  Unknown routes stream nothing and are allowed: api_handle()
 * answers them. */
bool api_streams_body(const char *method, const char *path);
bool api_allows(const struct api_request *req);

/* The largest JSON body an endpoint takes: bigger ones get 413. */
#define API_JSON_BODY_MAX (1024u * 1024u)

/*
 * Answer one request: find the endpoint for req->path, then the handler
 * for req->method.  Always fills ret (404, 405, 500 included) and returns
 * 0, unless not even an error envelope could be allocated: -ENOMEM.
 */
int api_handle(struct daemon *d, const struct api_request *req, struct api_response *ret);

/* Handlers, one file per group of endpoints. */
int api_root_get(struct daemon *d, const struct api_request *req, struct api_response *ret);
int api_server_get(struct daemon *d, const struct api_request *req, struct api_response *ret);

/* api-instances.c */
/* api-targets.c */
int api_target_inventory_get(struct daemon *d, const struct api_request *req, struct api_response *ret);
int api_instances_list(struct daemon *d, const struct api_request *req, struct api_response *ret);
int api_instance_get(struct daemon *d, const struct api_request *req, struct api_response *ret);
extern const struct api_resource api_instance_overrides;
int api_instance_override_delete(struct daemon *d, const struct api_request *req, struct api_response *ret);

/* api-networks.c */
int api_networks_list(struct daemon *d, const struct api_request *req, struct api_response *ret);
extern const struct api_resource api_networks;

/* api-batches.c */
int api_batch_instances_get(struct daemon *d, const struct api_request *req, struct api_response *ret);
/* api-placement.c */
int api_batch_placement_get(struct daemon *d, const struct api_request *req, struct api_response *ret);

/* api-queue.c */
int api_queue_list(struct daemon *d, const struct api_request *req, struct api_response *ret);
int api_queue_get(struct daemon *d, const struct api_request *req, struct api_response *ret);
/* api-queue-control.c: the admin actions, each an operation. */
int api_batch_start(struct daemon *d, const struct api_request *req, struct api_response *ret);
int api_batch_stop(struct daemon *d, const struct api_request *req, struct api_response *ret);
int api_batch_reset(struct daemon *d, const struct api_request *req, struct api_response *ret);
int api_queue_retry(struct daemon *d, const struct api_request *req, struct api_response *ret);
int api_queue_cancel(struct daemon *d, const struct api_request *req, struct api_response *ret);

/* api-warnings.c */
int api_warnings_list(struct daemon *d, const struct api_request *req, struct api_response *ret);
extern const struct api_resource api_warnings;
int api_warning_delete(struct daemon *d, const struct api_request *req, struct api_response *ret);

/* api-certificates.c: the trust store of the HTTPS API. */
int api_certificates_list(struct daemon *d, const struct api_request *req, struct api_response *ret);
int api_certificates_post(struct daemon *d, const struct api_request *req, struct api_response *ret);
int api_certificate_get(struct daemon *d, const struct api_request *req, struct api_response *ret);
int api_certificate_delete(struct daemon *d, const struct api_request *req, struct api_response *ret);
int api_certificate_tokens_list(struct daemon *d, const struct api_request *req, struct api_response *ret);
int api_certificate_token_delete(struct daemon *d, const struct api_request *req, struct api_response *ret);
/* (Re)build d->trusted from the certificates table. */
int api_certificates_load(struct daemon *d, struct ferry_error *err);
/* The name of the trusted certificate with this (normalized) fingerprint,
 * or NULL; borrowed until the trust store changes. */
const char *api_certificates_lookup(struct daemon *d, const char *fingerprint);
/* The "host:port" addresses HTTPS clients reach ferryd on ([] without
 * HTTPS): GET /1.0 and trust tokens show them.  NULL on ENOMEM. */
json_t *api_https_addresses(const struct daemon *d);

/* api-artifacts.c */
int api_artifact_file_get(struct daemon *d, const struct api_request *req, struct api_response *ret);
int api_artifact_file_put(struct daemon *d, const struct api_request *req, struct api_response *ret);

/* api-worker.c: the worker endpoints and their admin side. */
int api_worker_command(struct daemon *d, const struct api_request *req, struct api_response *ret);
int api_worker_update(struct daemon *d, const struct api_request *req, struct api_response *ret);
int api_queue_worker_token_post(struct daemon *d, const struct api_request *req, struct api_response *ret);
int api_queue_worker_commands_list(struct daemon *d, const struct api_request *req, struct api_response *ret);
int api_queue_worker_commands_post(struct daemon *d, const struct api_request *req, struct api_response *ret);

#endif
