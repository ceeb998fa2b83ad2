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

DB_DEFINE_CREATE(db_queue_create, db_table_queue_entries)
DB_DEFINE_GET(db_queue_get, db_table_queue_entries)
DB_DEFINE_LIST_BY(db_queue_list, db_table_queue_entries, "batch")
DB_DEFINE_UPDATE(db_queue_update, db_table_queue_entries)
DB_DEFINE_DELETE(db_queue_delete, db_table_queue_entries)
