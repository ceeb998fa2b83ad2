/* SPDX-License-Identifier: Apache-2.0 */
#include "db/object.h"
#include "db/queue.h"

static const struct db_field queue_entry_fields[] = {
        { .name = "instance_uuid", .column = "instance_id", .required = true, .ref = &db_table_instances },
        { .name = "batch", .column = "batch_id", .required = true, .ref = &db_table_batches },
        { .name = "status", .column = "status", .required = true },
        { .name = "import_stage", .column = "import_stage" },
        { .parent = "placement", .name = "target", .column = "target_id", .ref = &db_table_targets },
};

const struct db_table db_table_queue_entries = {
        .table = "queue_entries",
        .what = "queue entry",
        .key = "instance_uuid",
        .fields = queue_entry_fields,
        .n_fields = ELEMENTSOF(queue_entry_fields),
        .created_column = "created_at",
        .updated_column = "updated_at",
        .order_by = "(SELECT name FROM batches WHERE id = t.batch_id), t.id",
};

int db_queue_create(struct db *db, const json_t *entry, struct ferry_error *err)
{
        return db_object_create(db, &db_table_queue_entries, entry, err);
}

int db_queue_get(struct db *db, const char *instance_uuid, json_t **ret, struct ferry_error *err)
{
        return db_object_get(db, &db_table_queue_entries, instance_uuid, ret, err);
}

int db_queue_list(struct db *db, const char *batch, json_t **ret, struct ferry_error *err)
{
        return db_object_list(db, &db_table_queue_entries, "batch", batch, ret, err);
}

int db_queue_update(struct db *db, const char *instance_uuid, const json_t *entry, struct ferry_error *err)
{
        return db_object_update(db, &db_table_queue_entries, instance_uuid, entry, err);
}

int db_queue_delete(struct db *db, const char *instance_uuid, struct ferry_error *err)
{
        return db_object_delete(db, &db_table_queue_entries, instance_uuid, err);
}
