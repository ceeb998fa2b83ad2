/* SPDX-License-Identifier: Apache-2.0 */
#include "db/network.h"
#include "db/object.h"

static const struct db_field network_fields[] = {
        { .name = "uuid", .column = "uuid", .required = true },
        { .name = "source", .column = "source_id", .required = true, .ref = &db_table_sources, .owner = true },
        { .name = "location", .column = "location", .required = true },
        { .name = "type", .column = "type", .required = true },
};

const struct db_table db_table_networks = {
        .table = "networks",
        .what = "network",
        .key = "uuid",
        .fields = network_fields,
        .n_fields = ELEMENTSOF(network_fields),
        .user_column = "mappings",
        .created_column = "created_at",
        .updated_column = "updated_at",
        .order_by = "(SELECT name FROM sources WHERE id = t.source_id), t.location, t.uuid",
};

DB_DEFINE_PUT(db_network_put, db_table_networks)
DB_DEFINE_GET(db_network_get, db_table_networks)
DB_DEFINE_LIST_BY(db_network_list, db_table_networks, "source")
DB_DEFINE_SET_USER(db_network_set_mappings, db_table_networks)
DB_DEFINE_DELETE(db_network_delete, db_table_networks)
