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

int db_network_put(struct db *db, const json_t *network, struct ferry_error *err)
{
        return db_object_put(db, &db_table_networks, network, err);
}

int db_network_get(struct db *db, const char *uuid, json_t **ret, struct ferry_error *err)
{
        return db_object_get(db, &db_table_networks, uuid, ret, err);
}

int db_network_list(struct db *db, const char *source, json_t **ret, struct ferry_error *err)
{
        return db_object_list(db, &db_table_networks, "source", source, ret, err);
}

int db_network_set_mappings(struct db *db, const char *uuid, const json_t *mappings, struct ferry_error *err)
{
        return db_object_set_user(db, &db_table_networks, uuid, mappings, err);
}

int db_network_delete(struct db *db, const char *uuid, struct ferry_error *err)
{
        return db_object_delete(db, &db_table_networks, uuid, err);
}
