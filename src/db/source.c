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

DB_DEFINE_CREATE(db_source_create, db_table_sources)
DB_DEFINE_GET(db_source_get, db_table_sources)
DB_DEFINE_LIST(db_source_list, db_table_sources)
DB_DEFINE_UPDATE(db_source_update, db_table_sources)
DB_DEFINE_DELETE(db_source_delete, db_table_sources)
