/* SPDX-License-Identifier: Apache-2.0 */
#include "common/json.h"
#include "db/hook.h"
#include "db/object.h"

static const struct db_field hook_fields[] = {
        { .name = "name", .column = "name", .required = true },
};

const struct db_table db_table_hooks = {
        .table = "hooks",
        .what = "hook",
        .key = "name",
        .fields = hook_fields,
        .n_fields = ELEMENTSOF(hook_fields),
        .user_column = "runs",
        .created_column = "created_at",
        .updated_column = "updated_at",
        .order_by = "t.name",
};

DB_DEFINE_CREATE(db_hook_create, db_table_hooks)
DB_DEFINE_GET(db_hook_get, db_table_hooks)
DB_DEFINE_LIST(db_hook_list, db_table_hooks)
DB_DEFINE_UPDATE(db_hook_update, db_table_hooks)
DB_DEFINE_DELETE(db_hook_delete, db_table_hooks)

int db_hook_record_run(struct db *db, const char *name, const json_t *run, struct ferry_error *err)
{
        _cleanup_json_ json_t *hook = NULL, *runs = NULL;
        json_t *last;
        int r;

        r = db_begin(db, err);
        if (r < 0)
                return r;
        r = db_hook_get(db, name, &hook, err);
        if (r < 0)
                goto fail;
        runs = json_deep_copy(json_object_get(hook, "runs"));
        if (!json_is_object(runs)) {
                json_decref(runs);
                runs = json_object();
        }
        last = json_object_get(runs, "last");
        if (!json_is_array(last)) {
                last = json_array();
                if (!runs || !last || json_object_set_new(runs, "last", last) < 0) {
                        r = ferry_error_set(err, -ENOMEM, "Out of memory");
                        goto fail;
                }
        }
        if (json_array_insert_new(last, 0, json_deep_copy(run)) < 0 ||
            json_object_set_new(runs, "count", json_integer(json_integer_value(json_object_get(runs, "count")) + 1)) < 0) {
                r = ferry_error_set(err, -ENOMEM, "Out of memory");
                goto fail;
        }
        while (json_array_size(last) > DB_HOOK_RUNS_KEPT)
                json_array_remove(last, json_array_size(last) - 1);

        r = db_object_set_user(db, &db_table_hooks, name, runs, err);
        if (r < 0)
                goto fail;
        return db_commit(db, err);
fail:
        db_rollback(db);
        return r;
}
