/* SPDX-License-Identifier: Apache-2.0 */
#include "db/object.h"
#include "db/source.h"

static const struct db_field source_fields[] = {
        { .name = "name", .column = "name", .required = true },
        { .name = "type", .column = "type", .required = true },
};

const struct db_table db_table_sources = {
        .table = "sources",
        .what = "source",
        .key = "name",
        .fields = source_fields,
        .n_fields = ELEMENTSOF(source_fields),
        .created_column = "created_at",
        .updated_column = "updated_at",
        .order_by = "t.name",
        .in_use_sql = "SELECT b.name FROM queue_entries AS q"
                      " JOIN instances AS i ON i.id = q.instance_id"
                      " JOIN batches AS b ON b.id = q.batch_id"
                      " WHERE i.source_id = ?1 ORDER BY b.name LIMIT 1",
        .in_use_kind = "batch",
};

int db_source_create(struct db *db, const json_t *source, struct ferry_error *err)
{
        return db_object_create(db, &db_table_sources, source, err);
}

int db_source_get(struct db *db, const char *name, json_t **ret, struct ferry_error *err)
{
        return db_object_get(db, &db_table_sources, name, ret, err);
}

int db_source_list(struct db *db, json_t **ret, struct ferry_error *err)
{
        return db_object_list(db, &db_table_sources, NULL, NULL, ret, err);
}

int db_source_update(struct db *db, const char *name, const json_t *source, struct ferry_error *err)
{
        return db_object_update(db, &db_table_sources, name, source, err);
}

int db_source_delete(struct db *db, const char *name, struct ferry_error *err)
{
        return db_object_delete(db, &db_table_sources, name, err);
}
