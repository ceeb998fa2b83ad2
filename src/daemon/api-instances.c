/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /1.0/instances: the source VMs that sync found, and the admin's
 * overrides of them.  Sync owns every field but "overrides".
 */
#include <errno.h>
#include <stdio.h>

#include "common/json.h"
#include "daemon/api-filter.h"
#include "daemon/api-resource.h"
#include "daemon/api-util.h"
#include "daemon/daemon.h"
#include "db/instance.h"
#include "model/model.h"

int api_instances_list(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_json_ json_t *instances = NULL, *selected = NULL;
        struct ferry_error err = {};
        int r;

        r = db_instance_list(d->db, NULL, &instances, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);

        r = api_filter(req, EXPR_SCHEMA_INSTANCE, instances, &selected, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);

        return api_response_collection(ret, req, "/1.0/instances", "uuid", selected, NULL);
}

int api_instance_get(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_json_ json_t *instance = NULL;
        struct ferry_error err = {};
        int r;

        r = db_instance_get(d->db, req->params[0], &instance, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);
        return api_response_object(ret, TAKE_PTR(instance));
}

/* The override resource: the "overrides" member of the stored instance. */
static int api_instance_overrides_get(struct db *db, const char *uuid, json_t **ret, struct ferry_error *err)
{
        _cleanup_json_ json_t *instance = NULL;
        json_t *overrides;
        int r;

        r = db_instance_get(db, uuid, &instance, err);
        if (r < 0)
                return r;

        overrides = json_object_get(instance, "overrides");
        overrides = json_is_object(overrides) ? json_incref(overrides) : json_object();
        if (!overrides)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        *ret = overrides;
        return 0;
}

const struct api_resource api_instance_overrides = {
        .base = "/1.0/instances",
        .entity = "instance-override",
        .schema = &model_instance_override_schema,
        .get = api_instance_overrides_get,
        .store = db_instance_set_overrides,
};

int api_instance_override_delete(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_json_ json_t *empty = json_object();
        struct ferry_error err = {};
        int r;

        if (!empty)
                return -ENOMEM;
        r = db_instance_set_overrides(d->db, req->params[0], empty, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);

        r = api_resource_emit(d, req, &api_instance_overrides, req->params[0], "deleted");
        if (r < 0)
                return r;
        return api_response_sync(ret, NULL);
}
