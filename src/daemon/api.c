/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/strbuf.h"
#include "daemon/api.h"

/*
 * One entry per path.  A method without a handler answers 405.  Paths are
 * matched exactly, after a trailing slash is dropped.
 */
struct api_endpoint {
        const char *path;
        api_handler_fn handlers[_API_METHOD_MAX];
};

static const struct api_endpoint api_endpoints[] = {
        { "/",   { [API_METHOD_GET] = api_root_get } },
        { "/1.0", { [API_METHOD_GET] = api_server_get } },
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

static const struct api_endpoint *api_find_endpoint(const char *path)
{
        size_t len = strlen(path);

        /* "/1.0/" is "/1.0", but "/" stays "/". */
        if (len > 1 && path[len - 1] == '/')
                len--;

        for (size_t i = 0; i < ELEMENTSOF(api_endpoints); i++)
                if (strlen(api_endpoints[i].path) == len && strncmp(api_endpoints[i].path, path, len) == 0)
                        return &api_endpoints[i];
        return NULL;
}

int api_handle(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_api_response_ struct api_response resp = {};
        const struct api_endpoint *e;
        enum api_method method;
        api_handler_fn handler;
        int r;

        e = api_find_endpoint(req->path);
        if (!e)
                return api_response_error(ret, 404, "Not found");

        method = api_method_from_string(req->method);
        handler = method >= 0 ? e->handlers[method] : NULL;
        if (!handler)
                return api_response_error(ret, 405, "Method '%s' is not allowed on '%s'", req->method,
                                          e->path);

        r = handler(d, req, &resp);
        if (r < 0) {
                log_error_errno(r, "%s %s failed: %m", req->method, req->path);
                errno = -r;
                return api_response_error(ret, 500, "Internal server error: %m");
        }

        *ret = resp;
        resp = (struct api_response) {};
        return 0;
}
