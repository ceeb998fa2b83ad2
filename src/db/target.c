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

DB_DEFINE_CREATE(db_target_create, db_table_targets)
DB_DEFINE_GET(db_target_get, db_table_targets)
DB_DEFINE_LIST(db_target_list, db_table_targets)
DB_DEFINE_UPDATE(db_target_update, db_table_targets)
DB_DEFINE_DELETE(db_target_delete, db_table_targets)
