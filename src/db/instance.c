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

DB_DEFINE_PUT(db_instance_put, db_table_instances)
DB_DEFINE_GET(db_instance_get, db_table_instances)
DB_DEFINE_LIST_BY(db_instance_list, db_table_instances, "source")
DB_DEFINE_SET_USER(db_instance_set_overrides, db_table_instances)
DB_DEFINE_DELETE(db_instance_delete, db_table_instances)
