/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /1.0/networks: the source networks sync found, and how each maps onto
 * the targets' networks -- the one part an admin edits.
 */
#include "common/json.h"
#include "daemon/api-filter.h"
#include "daemon/api-resource.h"
#include "daemon/api-util.h"
#include "daemon/daemon.h"
#include "db/network.h"
#include "model/model.h"

int api_networks_list(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_json_ json_t *networks = NULL, *selected = NULL;
        struct ferry_error err = {};
        int r;

        r = db_network_list(d->db, NULL, &networks, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);

        r = api_filter(req, EXPR_SCHEMA_NETWORK, networks, &selected, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);

        return api_response_collection(ret, req, "/1.0/networks", "uuid", selected, NULL);
}

static int api_network_store(struct db *db, const char *uuid, const json_t *network, struct ferry_error *err)
{
        return db_network_set_mappings(db, uuid, json_object_get(network, "mappings"), err);
}

const struct api_resource api_networks = {
        .base = "/1.0/networks",
        .entity = "network",
        .schema = &model_network_schema,
        .get = db_network_get,
        .store = api_network_store,
};
