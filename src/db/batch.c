/* SPDX-License-Identifier: Apache-2.0 */
#include "db/batch.h"
#include "db/object.h"

static const struct db_field batch_fields[] = {
        { .name = "name", .column = "name", .required = true },
        { .name = "status", .column = "status", .required = true },
};

const struct db_table db_table_batches = {
        .table = "batches",
        .what = "batch",
        .key = "name",
        .fields = batch_fields,
        .n_fields = ELEMENTSOF(batch_fields),
        .created_column = "created_at",
        .updated_column = "updated_at",
        .order_by = "t.name",
        .in_use_sql = "SELECT i.uuid FROM queue_entries AS q"
                      " JOIN instances AS i ON i.id = q.instance_id"
                      " WHERE q.batch_id = ?1 ORDER BY i.uuid LIMIT 1",
        .in_use_kind = "the queue entry of instance",
};

int db_batch_create(struct db *db, const json_t *batch, struct ferry_error *err)
{
        return db_object_create(db, &db_table_batches, batch, err);
}

int db_batch_get(struct db *db, const char *name, json_t **ret, struct ferry_error *err)
{
        return db_object_get(db, &db_table_batches, name, ret, err);
}

int db_batch_list(struct db *db, json_t **ret, struct ferry_error *err)
{
        return db_object_list(db, &db_table_batches, NULL, NULL, ret, err);
}

int db_batch_update(struct db *db, const char *name, const json_t *batch, struct ferry_error *err)
{
        return db_object_update(db, &db_table_batches, name, batch, err);
}

int db_batch_delete(struct db *db, const char *name, struct ferry_error *err)
{
        return db_object_delete(db, &db_table_batches, name, err);
}
