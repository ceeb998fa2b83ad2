/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>

#include "common/json.h"
#include "daemon/api-resource.h"
#include "daemon/api-util.h"
#include "daemon/daemon.h"

int api_resource_emit(struct daemon *d, const struct api_request *req, const struct api_resource *res,
                      const char *key, const char *verb)
{
        _cleanup_free_ char *url = NULL, *action = NULL;

        if (asprintf(&url, "%s/%s", res->base, key) < 0 || asprintf(&action, "%s-%s", res->entity, verb) < 0)
                return -ENOMEM;
        api_emit_lifecycle(d, req, action, url, NULL);
        return 0;
}

int api_resource_validate(struct daemon *d, const struct api_resource *res, const json_t *body,
                          const json_t *current, json_t **ret, struct ferry_error *err)
{
        _cleanup_json_ json_t *obj = NULL;
        int r;

        r = model_validate(res->schema, body, current, &obj, err);
        if (r < 0)
                return r;
        if (res->check) {
                r = res->check(d, obj, err);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(obj);
        return 0;
}

int api_resource_respond(struct daemon *d, const struct api_resource *res, const char *key,
                         struct api_response *ret)
{
        _cleanup_json_ json_t *obj = NULL;
        struct ferry_error err = {};
        json_t *shown;
        int r;

        r = res->get(d->db, key, &obj, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);
        shown = model_public(res->schema, obj);
        if (!shown)
                return -ENOMEM;
        return api_response_object(ret, shown);
}

int api_resource_get(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        return api_resource_respond(d, req->userdata, req->params[0], ret);
}

/* The stored object and what GET shows of it, after If-Match. */
static int api_resource_current(struct daemon *d, const struct api_request *req, json_t **ret_current,
                                json_t **ret_shown, struct ferry_error *err)
{
        const struct api_resource *res = req->userdata;
        _cleanup_json_ json_t *current = NULL, *shown = NULL;
        int r;

        r = res->get(d->db, req->params[0], &current, err);
        if (r < 0)
                return r;
        shown = model_public(res->schema, current);
        if (!shown)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = api_check_if_match(req, shown, err);
        if (r < 0)
                return r;

        *ret_current = TAKE_PTR(current);
        *ret_shown = TAKE_PTR(shown);
        return 0;
}

/* PUT and PATCH: body is the whole new object (PATCH merged it already). */
static int api_resource_replace(struct daemon *d, const struct api_request *req, const json_t *current,
                                const json_t *body, struct api_response *ret)
{
        const struct api_resource *res = req->userdata;
        _cleanup_json_ json_t *obj = NULL;
        struct ferry_error err = {};
        int r;

        r = api_resource_validate(d, res, body, current, &obj, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);

        r = res->store(d->db, req->params[0], obj, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);
        if (res->updated)
                res->updated(d, req->params[0], current, obj);

        r = api_resource_emit(d, req, res, req->params[0], "updated");
        if (r < 0)
                return r;
        return api_resource_respond(d, res, req->params[0], ret);
}

int api_resource_put(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_json_ json_t *body = NULL, *current = NULL, *shown = NULL;
        struct ferry_error err = {};
        int r;

        r = api_request_json(req, ret, &body);
        if (r < 0 || !body)
                return r;

        r = api_resource_current(d, req, &current, &shown, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);

        return api_resource_replace(d, req, current, body, ret);
}

int api_resource_patch(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_json_ json_t *body = NULL, *current = NULL, *shown = NULL, *merged = NULL;
        struct ferry_error err = {};
        int r;

        r = api_request_json(req, ret, &body);
        if (r < 0 || !body)
                return r;

        r = api_resource_current(d, req, &current, &shown, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);

        merged = model_merge_patch(shown, body);
        if (!merged)
                return -ENOMEM;
        return api_resource_replace(d, req, current, merged, ret);
}
