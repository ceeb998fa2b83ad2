/* SPDX-License-Identifier: Apache-2.0 */
#include "db/object.h"
#include "db/target.h"

static const struct db_field target_fields[] = {
        { .name = "name", .column = "name", .required = true },
        { .name = "type", .column = "type", .required = true },
};

const struct db_table db_table_targets = {
        .table = "targets",
        .what = "target",
        .key = "name",
        .fields = target_fields,
        .n_fields = ELEMENTSOF(target_fields),
        .created_column = "created_at",
        .updated_column = "updated_at",
        .order_by = "t.name",
        .in_use_sql = "SELECT b.name FROM queue_entries AS q"
                      " JOIN batches AS b ON b.id = q.batch_id"
                      " WHERE q.target_id = ?1 ORDER BY b.name LIMIT 1",
        .in_use_kind = "batch",
};

int db_target_create(struct db *db, const json_t *target, struct ferry_error *err)
{
        return db_object_create(db, &db_table_targets, target, err);
}

int db_target_get(struct db *db, const char *name, json_t **ret, struct ferry_error *err)
{
        return db_object_get(db, &db_table_targets, name, ret, err);
}

int db_target_list(struct db *db, json_t **ret, struct ferry_error *err)
{
        return db_object_list(db, &db_table_targets, NULL, NULL, ret, err);
}

int db_target_update(struct db *db, const char *name, const json_t *target, struct ferry_error *err)
{
        return db_object_update(db, &db_table_targets, name, target, err);
}

int db_target_delete(struct db *db, const char *name, struct ferry_error *err)
{
        return db_object_delete(db, &db_table_targets, name, err);
}
