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

DB_DEFINE_CREATE(db_batch_create, db_table_batches)
DB_DEFINE_GET(db_batch_get, db_table_batches)
DB_DEFINE_LIST(db_batch_list, db_table_batches)
DB_DEFINE_UPDATE(db_batch_update, db_table_batches)
DB_DEFINE_DELETE(db_batch_delete, db_table_batches)
