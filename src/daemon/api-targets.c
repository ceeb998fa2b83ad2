/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /1.0/targets: the Incus servers and clusters VMs move to.  Registration
 * and inventory sync arrive with the Incus driver.
 */
#include "daemon/api-collection.h"
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
