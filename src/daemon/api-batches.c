/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /1.0/batches: groups of VMs that migrate together.  Saving one compiles
 * its expressions, so a typo is a 400 now rather than an empty batch later.
 */
#include <errno.h>

#include "common/json.h"
#include "daemon/api-collection.h"
#include "daemon/api-filter.h"
#include "daemon/api-placement.h"
#include "daemon/api-util.h"
#include "daemon/daemon.h"
#include "db/batch.h"
#include "db/instance.h"
#include "model/model.h"

static int api_batch_check_expression(const json_t *obj, const char *field, const char *path,
                                      struct ferry_error *err)
{
        _cleanup_expr_ struct expr *e = NULL;
        int r;

        r = expr_compile(json_string_value(json_object_get(obj, field)), EXPR_SCHEMA_INSTANCE, &e, err);
        if (r < 0)
                return ferry_error_prefix(err, "Field '%s' is not a valid expression", path);
        return 0;
}

static int api_batch_check(struct daemon *d, const json_t *batch, struct ferry_error *err)
{
        const json_t *constraint;
        size_t i;
        int r;

        (void) d;

        r = api_batch_check_expression(batch, "include_expression", "include_expression", err);
        if (r < 0)
                return r;

        json_array_foreach(json_object_get(batch, "constraints"), i, constraint) {
                char path[64];

                snprintf(path, sizeof(path), "constraints[%zu].include_expression", i);
                r = api_batch_check_expression(constraint, "include_expression", path, err);
                if (r < 0)
                        return r;
        }
        return api_placement_check(batch, err);
}

const struct api_collection api_batches = {
        .resource = {
                .base = "/1.0/batches",
                .entity = "batch",
                .schema = &model_batch_schema,
                .get = db_batch_get,
                .store = db_batch_update,
                .check = api_batch_check,
        },
        .create = db_batch_create,
        .list = db_batch_list,
        .remove = db_batch_delete,
};

int api_batch_instances_get(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_json_ json_t *batch = NULL, *instances = NULL, *selected = NULL;
        _cleanup_expr_ struct expr *e = NULL;
        struct ferry_error err = {};
        int r;

        r = db_batch_get(d->db, req->params[0], &batch, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);

        r = expr_compile(json_string_value(json_object_get(batch, "include_expression")), EXPR_SCHEMA_INSTANCE, &e,
                         &err);
        if (r < 0)
                return api_response_from_error(ret, &err);

        r = db_instance_list(d->db, NULL, &instances, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);

        r = api_filter_expr(e, EXPR_SCHEMA_INSTANCE, instances, &selected, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);

        return api_response_collection(ret, req, "/1.0/instances", "uuid", selected, NULL);
}
