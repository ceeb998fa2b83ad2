/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /1.0/sources: the source hypervisors.  Syncing them arrives with the
 * VMware driver.
 */
#include "daemon/api-collection.h"
#include "daemon/api-operations.h"
#include "db/source.h"
#include "model/model.h"

const struct api_collection api_sources = {
        .resource = {
                .base = "/1.0/sources",
                .entity = "source",
                .schema = &model_source_schema,
                .get = db_source_get,
                .store = db_source_update,
        },
        .create = db_source_create,
        .list = db_source_list,
        .remove = db_source_delete,
        .created = api_source_created,
};
