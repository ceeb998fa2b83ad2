/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>

#include "common/json.h"
#include "daemon/api-collection.h"
#include "daemon/api-util.h"
#include "daemon/daemon.h"

int api_collection_list(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        const struct api_collection *c = req->userdata;
        _cleanup_json_ json_t *objects = NULL, *shown = NULL;
        struct ferry_error err = {};
        const json_t *obj;
        size_t i;
        int r;

        r = c->list(d->db, &objects, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);

        shown = json_array();
        if (!shown)
                return -ENOMEM;
        json_array_foreach(objects, i, obj)
                if (json_array_append_new(shown, model_public(c->resource.schema, obj)) < 0)
                        return -ENOMEM;

        return api_response_collection(ret, req, c->resource.base, "name", shown, NULL);
}

int api_collection_create(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        const struct api_collection *c = req->userdata;
        _cleanup_json_ json_t *body = NULL, *obj = NULL;
        struct ferry_error err = {};
        const char *name;
        int r;

        r = api_request_json(req, ret, &body);
        if (r < 0 || !body)
                return r;

        r = api_resource_validate(d, &c->resource, body, NULL, &obj, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);

        r = c->create(d->db, obj, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);

        name = json_string_value(json_object_get(obj, "name"));
        r = api_resource_emit(d, req, &c->resource, name, "created");
        if (r < 0)
                return r;
        if (c->created)
                c->created(d, name);
        return api_resource_respond(d, &c->resource, name, ret);
}

int api_collection_delete(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        const struct api_collection *c = req->userdata;
        struct ferry_error err = {};
        int r;

        r = c->remove(d->db, req->params[0], &err);
        if (r < 0)
                return api_response_from_error(ret, &err);

        if (c->removed)
                c->removed(d, req->params[0]);

        r = api_resource_emit(d, req, &c->resource, req->params[0], "deleted");
        if (r < 0)
                return r;
        return api_response_sync(ret, NULL);
}
