/* SPDX-License-Identifier: Apache-2.0 */
#include "db/instance.h"
#include "db/object.h"

static const struct db_field instance_fields[] = {
        { .name = "uuid", .column = "uuid", .required = true },
        { .name = "source", .column = "source_id", .required = true, .ref = &db_table_sources, .owner = true },
        { .name = "name", .column = "name", .required = true },
        { .name = "location", .column = "location", .required = true },
};

const struct db_table db_table_instances = {
        .table = "instances",
        .what = "instance",
        .key = "uuid",
        .fields = instance_fields,
        .n_fields = ELEMENTSOF(instance_fields),
        .user_column = "overrides",
        .created_column = "created_at",
        .updated_column = "updated_at",
        .order_by = "(SELECT name FROM sources WHERE id = t.source_id), t.location, t.uuid",
        .in_use_sql = "SELECT b.name FROM queue_entries AS q"
                      " JOIN batches AS b ON b.id = q.batch_id"
                      " WHERE q.instance_id = ?1",
        .in_use_kind = "batch",
};

int db_instance_put(struct db *db, const json_t *instance, struct ferry_error *err)
{
        return db_object_put(db, &db_table_instances, instance, err);
}

int db_instance_get(struct db *db, const char *uuid, json_t **ret, struct ferry_error *err)
{
        return db_object_get(db, &db_table_instances, uuid, ret, err);
}

int db_instance_list(struct db *db, const char *source, json_t **ret, struct ferry_error *err)
{
        return db_object_list(db, &db_table_instances, "source", source, ret, err);
}

int db_instance_set_overrides(struct db *db, const char *uuid, const json_t *overrides,
                              struct ferry_error *err)
{
        return db_object_set_user(db, &db_table_instances, uuid, overrides, err);
}

int db_instance_delete(struct db *db, const char *uuid, struct ferry_error *err)
{
        return db_object_delete(db, &db_table_instances, uuid, err);
}
