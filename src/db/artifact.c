/* SPDX-License-Identifier: Apache-2.0 */
#include "common/json.h"
#include "db/artifact.h"
#include "db/object.h"

static const struct db_field artifact_fields[] = {
        { .name = "name", .column = "name", .required = true },
        { .name = "type", .column = "type", .required = true },
        { .name = "description", .column = "description" },
        { .parent = "file", .name = "size", .column = "file_size", .type = DB_FIELD_INTEGER },
        { .parent = "file", .name = "sha256", .column = "file_sha256" },
        { .parent = "file", .name = "uploaded_at", .column = "file_uploaded_at" },
};

const struct db_table db_table_artifacts = {
        .table = "artifacts",
        .what = "artifact",
        .key = "name",
        .fields = artifact_fields,
        .n_fields = ELEMENTSOF(artifact_fields),
        .created_column = "created_at",
        .updated_column = "updated_at",
        .order_by = "t.name",
};

DB_DEFINE_CREATE(db_artifact_create, db_table_artifacts)
DB_DEFINE_GET(db_artifact_get, db_table_artifacts)
DB_DEFINE_LIST(db_artifact_list, db_table_artifacts)
DB_DEFINE_UPDATE(db_artifact_update, db_table_artifacts)
DB_DEFINE_DELETE(db_artifact_delete, db_table_artifacts)

static int artifact_replace_file(struct db *db, const char *name, int64_t size, const char *sha256,
                                 struct ferry_error *err)
{
        _cleanup_json_ json_t *artifact = NULL, *file = NULL;
        char now[DB_TIMESTAMP_SIZE];
        int r;

        r = db_artifact_get(db, name, &artifact, err);
        if (r < 0)
                return r;
        if (sha256) {
                db_timestamp_now(now);
                file = json_pack("{sIssss}", "size", (json_int_t) size, "sha256", sha256, "uploaded_at", now);
        } else
                file = json_null();
        if (!file || json_object_set(artifact, "file", file) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        return db_artifact_update(db, name, artifact, err);
}

int db_artifact_set_file(struct db *db, const char *name, int64_t size, const char *sha256,
                         struct ferry_error *err)
{
        int r;

        if (size < 0)
                return ferry_error_set(err, -EINVAL, "File size must not be negative");
        r = db_begin(db, err);
        if (r < 0)
                return r;
        r = artifact_replace_file(db, name, size, sha256, err);
        return db_end(db, r, err);
}
