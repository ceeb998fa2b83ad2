/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /1.0/targets: the Incus servers and clusters VMs move to.  Registration
 * and inventory sync arrive with the Incus driver.
 */
#include "common/json.h"
#include "daemon/api-collection.h"
#include "daemon/api-util.h"
#include "daemon/daemon.h"
#include "db/target.h"
#include "model/model.h"

const struct api_collection api_targets = {
        .resource = {
                .base = "/1.0/targets",
                .entity = "target",
                .schema = &model_target_schema,
                .get = db_target_get,
                .store = db_target_update,
        },
        .create = db_target_create,
        .list = db_target_list,
        .remove = db_target_delete,
};

/* GET /1.0/targets/{name}/inventory: what the Incus driver last read of
 * the target (projects, networks, storage pools, profiles, cluster
 * members), as stored; {} until the first sync. */
int api_target_inventory_get(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_json_ json_t *target = NULL;
        struct ferry_error err = {};
        json_t *inventory;
        int r;

        r = db_target_get(d->db, req->params[0], &target, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);
        inventory = json_object_get(target, "inventory");
        inventory = json_is_object(inventory) ? json_incref(inventory) : json_object();
        if (!inventory)
                return api_response_error(ret, 500, "Out of memory");
        return api_response_object(ret, inventory);
}
