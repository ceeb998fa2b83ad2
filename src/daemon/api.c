/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/strbuf.h"
#include "daemon/api-collection.h"
#include "daemon/api-hooks.h"
#include "daemon/api-operations.h"
#include "daemon/api-targets.h"
#include "daemon/api.h"
#include "daemon/events-ws.h"

#define METHOD(m) (1u << (m))

#define COLLECTION_OBJECT_HANDLERS {                    \
                [API_METHOD_GET] = api_resource_get,    \
                [API_METHOD_PUT] = api_resource_put,    \
                [API_METHOD_PATCH] = api_resource_patch, \
                [API_METHOD_DELETE] = api_collection_delete }

/*
 * One entry per route.  "{name}" matches one path segment, handed to the
 * handler in req->params.  A method without a handler answers 405.
 * untrusted: the methods a client that is not trusted may use.
 * stream_body: the methods whose body is streamed to a file.
 */
struct api_endpoint {
        const char *path;
        api_handler_fn handlers[_API_METHOD_MAX];
        unsigned untrusted;
        unsigned stream_body;
        const void *userdata;
};

static const struct api_endpoint api_endpoints[] = {
        { .path = "/", .handlers = { [API_METHOD_GET] = api_root_get }, .untrusted = METHOD(API_METHOD_GET) },
        { .path = "/1.0", .handlers = { [API_METHOD_GET] = api_server_get }, .untrusted = METHOD(API_METHOD_GET) },
        { .path = "/1.0/certificates", .handlers = {
                [API_METHOD_GET] = api_certificates_list,
                [API_METHOD_POST] = api_certificates_post },
          /* Only with a trust token: api_certificates_post() checks. */
          .untrusted = METHOD(API_METHOD_POST) },
        { .path = "/1.0/certificates/tokens", .handlers = { [API_METHOD_GET] = api_certificate_tokens_list } },
        { .path = "/1.0/certificates/tokens/{name}", .handlers = { [API_METHOD_DELETE] = api_certificate_token_delete } },
        { .path = "/1.0/certificates/{fingerprint}", .handlers = {
                [API_METHOD_GET] = api_certificate_get,
                [API_METHOD_DELETE] = api_certificate_delete } },
        { .path = "/1.0/events", .handlers = { [API_METHOD_GET] = events_ws_get } },
        { .path = "/1.0/sources", .handlers = { [API_METHOD_GET] = api_collection_list, [API_METHOD_POST] = api_collection_create },
          .userdata = &api_sources },
        { .path = "/1.0/sources/{name}", .handlers = COLLECTION_OBJECT_HANDLERS, .userdata = &api_sources },
        { .path = "/1.0/sources/{name}/sync", .handlers = { [API_METHOD_POST] = api_source_sync } },
        { .path = "/1.0/operations", .handlers = { [API_METHOD_GET] = api_operations_list } },
        { .path = "/1.0/operations/{id}", .handlers = { [API_METHOD_GET] = api_operation_get } },
        { .path = "/1.0/operations/{id}/wait", .handlers = { [API_METHOD_GET] = api_operation_wait } },
        { .path = "/1.0/targets", .handlers = { [API_METHOD_GET] = api_collection_list, [API_METHOD_POST] = api_collection_create },
          .userdata = &api_targets },
        { .path = "/1.0/targets/{name}", .handlers = COLLECTION_OBJECT_HANDLERS, .userdata = &api_targets },
        { .path = "/1.0/targets/{name}/inventory", .handlers = { [API_METHOD_GET] = api_target_inventory_get } },
        { .path = "/1.0/targets/{name}/sync", .handlers = { [API_METHOD_POST] = api_target_sync } },
        { .path = "/1.0/instances", .handlers = { [API_METHOD_GET] = api_instances_list } },
        { .path = "/1.0/instances/{uuid}", .handlers = { [API_METHOD_GET] = api_instance_get } },
        { .path = "/1.0/instances/{uuid}/override", .handlers = {
                [API_METHOD_GET] = api_resource_get,
                [API_METHOD_PUT] = api_resource_put,
                [API_METHOD_PATCH] = api_resource_patch,
                [API_METHOD_DELETE] = api_instance_override_delete },
          .userdata = &api_instance_overrides },
        { .path = "/1.0/networks", .handlers = { [API_METHOD_GET] = api_networks_list } },
        { .path = "/1.0/networks/{uuid}", .handlers = {
                [API_METHOD_GET] = api_resource_get,
                [API_METHOD_PUT] = api_resource_put,
                [API_METHOD_PATCH] = api_resource_patch },
          .userdata = &api_networks },
        { .path = "/1.0/batches", .handlers = { [API_METHOD_GET] = api_collection_list, [API_METHOD_POST] = api_collection_create },
          .userdata = &api_batches },
        { .path = "/1.0/batches/{name}", .handlers = COLLECTION_OBJECT_HANDLERS, .userdata = &api_batches },
        { .path = "/1.0/batches/{name}/instances", .handlers = { [API_METHOD_GET] = api_batch_instances_get } },
        { .path = "/1.0/batches/{name}/placement", .handlers = { [API_METHOD_GET] = api_batch_placement_get } },
        { .path = "/1.0/batches/{name}/:start", .handlers = { [API_METHOD_POST] = api_batch_start } },
        { .path = "/1.0/batches/{name}/:stop", .handlers = { [API_METHOD_POST] = api_batch_stop } },
        { .path = "/1.0/batches/{name}/:reset", .handlers = { [API_METHOD_POST] = api_batch_reset } },
        { .path = "/1.0/queue", .handlers = { [API_METHOD_GET] = api_queue_list } },
        { .path = "/1.0/queue/{uuid}", .handlers = { [API_METHOD_GET] = api_queue_get } },
        { .path = "/1.0/queue/{uuid}/:retry", .handlers = { [API_METHOD_POST] = api_queue_retry } },
        { .path = "/1.0/queue/{uuid}/:cancel", .handlers = { [API_METHOD_POST] = api_queue_cancel } },
        { .path = "/1.0/queue/{uuid}/worker-token", .handlers = { [API_METHOD_POST] = api_queue_worker_token_post } },
        { .path = "/1.0/queue/{uuid}/worker-commands", .handlers = {
                [API_METHOD_GET] = api_queue_worker_commands_list,
                [API_METHOD_POST] = api_queue_worker_commands_post } },
        /* The worker in a VM has no trusted certificate: its queue entry's
         * secret authenticates it (api-worker.c), POST only. */
        { .path = "/internal/worker/{uuid}/:command", .handlers = { [API_METHOD_POST] = api_worker_command },
          .untrusted = METHOD(API_METHOD_POST) },
        { .path = "/internal/worker/{uuid}/:update", .handlers = { [API_METHOD_POST] = api_worker_update },
          .untrusted = METHOD(API_METHOD_POST) },
        { .path = "/1.0/warnings", .handlers = { [API_METHOD_GET] = api_warnings_list } },
        { .path = "/1.0/warnings/{uuid}", .handlers = {
                [API_METHOD_GET] = api_resource_get,
                [API_METHOD_PUT] = api_resource_put,
                [API_METHOD_PATCH] = api_resource_patch,
                [API_METHOD_DELETE] = api_warning_delete },
          .userdata = &api_warnings },
        { .path = "/1.0/hooks", .handlers = { [API_METHOD_GET] = api_collection_list, [API_METHOD_POST] = api_collection_create },
          .userdata = &api_hooks },
        { .path = "/1.0/hooks/{name}", .handlers = COLLECTION_OBJECT_HANDLERS, .userdata = &api_hooks },
        { .path = "/1.0/artifacts", .handlers = { [API_METHOD_GET] = api_collection_list, [API_METHOD_POST] = api_collection_create },
          .userdata = &api_artifacts },
        { .path = "/1.0/artifacts/{name}", .handlers = COLLECTION_OBJECT_HANDLERS, .userdata = &api_artifacts },
        { .path = "/1.0/artifacts/{name}/file", .handlers = {
                [API_METHOD_GET] = api_artifact_file_get,
                [API_METHOD_PUT] = api_artifact_file_put },
          .stream_body = METHOD(API_METHOD_PUT) },
};

static const char *const api_method_table[_API_METHOD_MAX] = {
        [API_METHOD_GET] = "GET",
        [API_METHOD_PUT] = "PUT",
        [API_METHOD_POST] = "POST",
        [API_METHOD_PATCH] = "PATCH",
        [API_METHOD_DELETE] = "DELETE",
};

const char *api_method_to_string(enum api_method method)
{
        if (method < 0 || method >= _API_METHOD_MAX)
                return NULL;
        return api_method_table[method];
}

enum api_method api_method_from_string(const char *s)
{
        if (!s)
                return _API_METHOD_INVALID;
        return string_table_lookup(api_method_table, ELEMENTSOF(api_method_table), s);
}

void api_response_done(struct api_response *r)
{
        if (!r)
                return;
        json_decref(r->envelope);
        if (r->send_file && r->file_fd >= 0)
                close(r->file_fd);
        free(r->wait_operation);
        *r = (struct api_response) {};
}

json_t *api_envelope_sync(json_t *metadata)
{
        json_t *v;

        /* "o?" steals metadata even when packing fails, and takes NULL as null. */
        v = json_pack("{s:s, s:s, s:i, s:s, s:i, s:s, s:o?}",
                      "type", "sync",
                      "status", "Success",
                      "status_code", 200,
                      "operation", "",
                      "error_code", 0,
                      "error", "",
                      "metadata", metadata);
        if (!v)
                errno = ENOMEM;
        return v;
}

json_t *api_envelope_error(int http_status, const char *message)
{
        json_t *v;

        v = json_pack("{s:s, s:s, s:i, s:s, s:i, s:s, s:n}",
                      "type", "error",
                      "status", "",
                      "status_code", 0,
                      "operation", "",
                      "error_code", http_status,
                      "error", message,
                      "metadata");
        if (!v)
                errno = ENOMEM;
        return v;
}

int api_response_sync(struct api_response *ret, json_t *metadata)
{
        json_t *v;

        v = api_envelope_sync(metadata);
        if (!v)
                return -ENOMEM;
        *ret = (struct api_response) { .status = 200, .envelope = v };
        return 0;
}

int api_response_error(struct api_response *ret, int http_status, const char *fmt, ...)
{
        _cleanup_free_ char *message = NULL;
        va_list ap;
        json_t *v;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&message, fmt, ap);
        va_end(ap);
        if (r < 0) {
                message = NULL;         /* undefined after a failure */
                return -ENOMEM;
        }

        v = api_envelope_error(http_status, message);
        if (!v)
                return -ENOMEM;
        *ret = (struct api_response) { .status = http_status, .envelope = v };
        return 0;
}

const char *api_request_arg(const struct api_request *req, const char *key)
{
        size_t len = strlen(key);

        for (size_t i = 0; i < req->n_args; i++)
                if (strncmp(req->args[i], key, len) == 0) {
                        if (req->args[i][len] == '=')
                                return req->args[i] + len + 1;
                        if (req->args[i][len] == '\0')
                                return "";
                }
        return NULL;
}

/*
 * Match path against pattern segment by segment.  On a match, point params
 * at the segments that match placeholders, cut out of path (the caller's
 * copy) with NULs, and return true; path is untouched otherwise.
 */
static bool api_match(const char *pattern, char *path, const char **params, size_t *ret_n)
{
        size_t lens[API_MAX_PARAMS], n = 0;
        const char *q = pattern;
        char *p = path;

        for (;;) {
                size_t qlen, plen;

                if (*q != *p)
                        return false;   /* a '/' against the end */
                if (*q == '\0')
                        break;
                q++;
                p++;
                qlen = strcspn(q, "/");
                plen = strcspn(p, "/");

                if (*q == '{') {
                        if (plen == 0 || n == API_MAX_PARAMS)
                                return false;
                        params[n] = p;
                        lens[n++] = plen;
                } else if (qlen != plen || strncmp(q, p, qlen) != 0)
                        return false;
                q += qlen;
                p += plen;
        }

        for (size_t i = 0; i < n; i++)
                ((char *) params[i])[lens[i]] = '\0';
        *ret_n = n;
        return true;
}

/* A copy of path without a trailing slash ("/1.0/" is "/1.0", "/" stays). */
static char *api_normalize_path(const char *path)
{
        char *p = strdup(path);
        size_t len;

        if (!p)
                return NULL;
        len = strlen(p);
        if (len > 1 && p[len - 1] == '/')
                p[len - 1] = '\0';
        return p;
}

static const struct api_endpoint *api_find_endpoint(char *path, const char **params, size_t *ret_n)
{
        for (size_t i = 0; i < ELEMENTSOF(api_endpoints); i++)
                if (api_match(api_endpoints[i].path, path, params, ret_n))
                        return &api_endpoints[i];
        return NULL;
}

static const struct api_endpoint *api_lookup(const char *path)
{
        _cleanup_free_ char *p = api_normalize_path(path);
        const char *params[API_MAX_PARAMS];
        size_t n;

        return p ? api_find_endpoint(p, params, &n) : NULL;
}

bool api_streams_body(const char *method, const char *path)
{
        const struct api_endpoint *e = api_lookup(path);
        enum api_method m = api_method_from_string(method);

        return e && m >= 0 && (e->stream_body & METHOD(m));
}

bool api_allows(const struct api_request *req)
{
        const struct api_endpoint *e;
        enum api_method m;

        if (req->requestor.trusted)
                return true;
        e = api_lookup(req->path);
        m = api_method_from_string(req->method);
        return e && m >= 0 && (e->untrusted & METHOD(m));
}

int api_handle(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_api_response_ struct api_response resp = {};
        _cleanup_free_ char *path = NULL;
        struct api_request r = *req;
        const struct api_endpoint *e;
        enum api_method method;
        api_handler_fn handler;
        int k;

        path = api_normalize_path(req->path);
        if (!path)
                return -ENOMEM;

        e = api_find_endpoint(path, r.params, &r.n_params);
        if (!e)
                return api_response_error(ret, 404, "Not found");

        if (!api_allows(req))
                return api_response_error(ret, 403, "Not authorized: this client certificate is not trusted");

        method = api_method_from_string(req->method);
        handler = method >= 0 ? e->handlers[method] : NULL;
        if (!handler)
                return api_response_error(ret, 405, "Method '%s' is not allowed on '%s'", req->method, req->path);

        r.userdata = e->userdata;
        k = handler(d, &r, &resp);
        if (k < 0) {
                log_error_errno(k, "%s %s failed: %m", req->method, req->path);
                errno = -k;
                return api_response_error(ret, 500, "Internal server error: %m");
        }

        *ret = resp;
        resp = (struct api_response) {};
        return 0;
}
