/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "daemon/api-util.h"
#include "daemon/daemon.h"
#include "daemon/events.h"

int api_request_json(const struct api_request *req, struct api_response *ret, json_t **ret_body)
{
        struct ferry_error err = {};
        json_t *body = NULL;

        *ret_body = NULL;

        if (!req->body || req->body_len == 0)
                return api_response_error(ret, 400, "The request needs a JSON object as its body");

        if (json_parse_strict(req->body, req->body_len, &body, &err) < 0)
                return api_response_error(ret, 400, "%s", ferry_error_message(&err));

        if (!json_is_object(body)) {
                json_decref(body);
                return api_response_error(ret, 400, "The request body must be a JSON object");
        }

        *ret_body = body;
        return 0;
}

int api_response_from_error(struct api_response *ret, const struct ferry_error *err)
{
        int status;

        switch (err->code) {
        case -EINVAL:
        case -ERANGE:
                status = 400;
                break;
        case -EPERM:
        case -EACCES:
                status = 403;
                break;
        case -ENOENT:
                status = 404;
                break;
        case -EEXIST:
        case -EBUSY:
                status = 409;
                break;
        case -ESTALE:
                status = 412;
                break;
        default:
                status = 500;
                log_error("%s", ferry_error_message(err));
                break;
        }
        return api_response_error(ret, status, "%s", ferry_error_message(err));
}

int api_recursion(const struct api_request *req)
{
        const char *v = api_request_arg(req, "recursion");

        if (!v || streq(v, "0"))
                return 0;
        if (streq(v, "1"))
                return 1;
        return -EINVAL;
}

int api_response_object(struct api_response *ret, json_t *obj)
{
        char etag[MODEL_ETAG_SIZE];
        int r;

        r = model_etag(obj, etag);
        if (r < 0) {
                json_decref(obj);
                return r;
        }
        r = api_response_sync(ret, obj);
        if (r < 0)
                return r;
        snprintf(ret->etag, sizeof(ret->etag), "\"%s\"", etag);
        return 0;
}

int api_check_if_match(const struct api_request *req, const json_t *current_public, struct ferry_error *err)
{
        char etag[MODEL_ETAG_SIZE];
        const char *given = req->if_match;
        size_t len;
        int r;

        if (!given || !*given || streq(given, "*"))
                return 0;

        r = model_etag(current_public, etag);
        if (r < 0)
                return ferry_error_set(err, r, "Failed to compute the ETag: %m");

        /* Quoted as sent, or bare as some clients send it. */
        len = strlen(given);
        if (len >= 2 && given[0] == '"' && given[len - 1] == '"') {
                given++;
                len -= 2;
        }
        if (len != strlen(etag) || strncmp(given, etag, len) != 0)
                return ferry_error_set(err, -ESTALE,
                                       "ETag doesn't match: the object changed since it was read, read it again");
        return 0;
}

int api_response_collection(struct api_response *ret, const struct api_request *req, const char *base,
                            const char *key_field, const json_t *objects, json_t *(*public)(const json_t *))
{
        _cleanup_json_ json_t *out = json_array();
        int recursion = api_recursion(req);
        const json_t *obj;
        size_t i;

        if (recursion < 0)
                return api_response_error(ret, 400, "Query argument 'recursion' must be 0 or 1");
        if (!out)
                return -ENOMEM;

        json_array_foreach(objects, i, obj) {
                json_t *item;

                if (recursion) {
                        item = public ? public(obj) : json_deep_copy(obj);
                } else {
                        _cleanup_free_ char *url = NULL;

                        if (asprintf(&url, "%s/%s", base, json_string_value(json_object_get(obj, key_field))) < 0)
                                return -ENOMEM;
                        item = json_string(url);
                }
                if (!item || json_array_append_new(out, item) < 0)
                        return -ENOMEM;
        }
        return api_response_sync(ret, TAKE_PTR(out));
}

void api_emit_lifecycle(struct daemon *d, const struct api_request *req, const char *action, const char *source,
                        json_t *context)
{
        json_t *metadata;
        int r;

        /* Without a request, ferryd itself made the change (a sync). */
        metadata = json_pack("{s:s, s:s, s:o, s:{s:s, s:s}}", "action", action, "source", source, "context",
                             context ?: json_object(), "requestor", "protocol",
                             req ? req->requestor.protocol ?: "unix" : "internal", "username",
                             req ? req->requestor.username ?: "" : "");
        if (!metadata) {
                log_warning("Failed to emit the lifecycle event '%s' for '%s': out of memory", action, source);
                return;
        }

        log_debug("Lifecycle event '%s' for '%s'", action, source);
        r = event_hub_emit(d->events, EVENT_LIFECYCLE, metadata);
        if (r < 0)
                log_warning_errno(r, "Failed to emit the lifecycle event '%s' for '%s': %m", action, source);
}
