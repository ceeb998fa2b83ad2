/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "db/object.h"
#include "db/worker.h"

/* The row id of the queue entry of instance_uuid: 1, or 0 when there is none. */
static int entry_id(struct db *db, const char *instance_uuid, int64_t *ret, struct ferry_error *err)
{
        if (!instance_uuid || !*instance_uuid)
                return 0;
        return db_object_find_id(db, &db_table_queue_entries, instance_uuid, ret, err);
}

static int entry_id_required(struct db *db, const char *instance_uuid, int64_t *ret, struct ferry_error *err)
{
        int r = entry_id(db, instance_uuid, ret, err);

        if (r == 0)
                return db_object_not_found(&db_table_queue_entries, instance_uuid ?: "", err);
        return r < 0 ? r : 0;
}

static int secret_replace(struct db *db, const char *instance_uuid, const char *secret_sha256,
                          struct ferry_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *del = NULL, *ins = NULL;
        char now[DB_TIMESTAMP_SIZE];
        int64_t id;
        int r;

        r = entry_id_required(db, instance_uuid, &id, err);
        if (r < 0)
                return r;
        r = db_query(db, &del, err, "DELETE FROM worker_secrets WHERE queue_entry_id = ?", "i", id);
        if (r < 0)
                return r;
        db_timestamp_now(now);
        r = db_query(db, &ins, err,
                     "INSERT INTO worker_secrets (queue_entry_id, secret_sha256, created_at) VALUES (?, ?, ?)", "itt",
                     id, secret_sha256, now);
        return r < 0 ? r : 0;
}

int db_worker_secret_set(struct db *db, const char *instance_uuid, const char *secret_sha256,
                         struct ferry_error *err)
{
        int r;

        if (!secret_sha256 || strlen(secret_sha256) != 64)
                return ferry_error_set(err, -EINVAL, "A worker secret is stored as its hex SHA-256");
        r = db_begin(db, err);
        if (r < 0)
                return r;
        return db_end(db, secret_replace(db, instance_uuid, secret_sha256, err), err);
}

int db_worker_secret_check(struct db *db, const char *instance_uuid, const char *secret_sha256,
                           struct ferry_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
        int64_t id;
        int r;

        if (!secret_sha256)
                return 0;
        r = entry_id(db, instance_uuid, &id, err);
        if (r <= 0)
                return r;
        r = db_query(db, &stmt, err, "SELECT secret_sha256 FROM worker_secrets WHERE queue_entry_id = ?", "i", id);
        if (r <= 0)
                return r;
        return streq(db_column_text(stmt, 0), secret_sha256) ? 1 : 0;
}

int db_worker_command_add(struct db *db, const char *instance_uuid, const json_t *command, int64_t *ret_id,
                          struct ferry_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
        _cleanup_free_ char *text = NULL;
        char now[DB_TIMESTAMP_SIZE];
        int64_t id;
        int r;

        if (!json_is_object(command))
                return ferry_error_set(err, -EINVAL, "A worker command must be a JSON object");
        text = json_dump_compact(command);
        if (!text)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        r = entry_id_required(db, instance_uuid, &id, err);
        if (r < 0)
                return r;
        db_timestamp_now(now);
        r = db_query(db, &stmt, err,
                     "INSERT INTO worker_commands (queue_entry_id, command, status, created_at, updated_at) "
                     "VALUES (?, ?, 'pending', ?, ?)",
                     "ittt", id, text, now, now);
        if (r < 0)
                return r;
        *ret_id = sqlite3_last_insert_rowid(db->conn);
        return 0;
}

static int command_next(struct db *db, const char *instance_uuid, json_t **ret, struct ferry_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *stmt = NULL, *mark = NULL;
        _cleanup_json_ json_t *command = NULL;
        char now[DB_TIMESTAMP_SIZE];
        int64_t entry, id;
        int r;

        r = entry_id_required(db, instance_uuid, &entry, err);
        if (r < 0)
                return r;
        r = db_query(db, &stmt, err,
                     "SELECT id, command, status FROM worker_commands "
                     "WHERE queue_entry_id = ? AND status IN ('pending', 'running') ORDER BY id LIMIT 1",
                     "i", entry);
        if (r < 0)
                return r;
        if (r == 0) {
                *ret = NULL;
                return 0;
        }
        id = sqlite3_column_int64(stmt, 0);
        r = db_column_json(stmt, 1, "worker command of queue entry", instance_uuid, &command, err);
        if (r < 0)
                return r;
        if (!json_is_object(command) || json_object_set_new(command, "id", json_integer(id)) < 0)
                return ferry_error_set(err, -EIO, "Stored worker command %" PRId64 " is damaged", id);

        if (streq(db_column_text(stmt, 2), "pending")) {
                db_timestamp_now(now);
                r = db_query(db, &mark, err, "UPDATE worker_commands SET status = 'running', updated_at = ? WHERE id = ?",
                             "ti", now, id);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(command);
        return 0;
}

int db_worker_command_next(struct db *db, const char *instance_uuid, json_t **ret, struct ferry_error *err)
{
        json_t *command = NULL;
        int r;

        r = db_begin(db, err);
        if (r < 0)
                return r;
        r = db_end(db, command_next(db, instance_uuid, &command, err), err);
        if (r < 0) {
                json_decref(command);
                return r;
        }
        *ret = command;
        return 0;
}

static int command_set_status(struct db *db, const char *instance_uuid, int64_t id, const char *status,
                              const char *message, const json_t *result, struct ferry_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *stmt = NULL, *upd = NULL;
        _cleanup_free_ char *result_text = NULL;
        char now[DB_TIMESTAMP_SIZE];
        const char *old;
        int64_t entry;
        bool changed;
        int r;

        r = entry_id_required(db, instance_uuid, &entry, err);
        if (r < 0)
                return r;
        r = db_query(db, &stmt, err, "SELECT status FROM worker_commands WHERE id = ? AND queue_entry_id = ?", "ii", id,
                     entry);
        if (r < 0)
                return r;
        if (r == 0)
                return ferry_error_set(err, -ENOENT, "Worker command %" PRId64 " of queue entry '%s' not found", id,
                                       instance_uuid);
        old = db_column_text(stmt, 0);
        changed = !streq(old, status);
        if ((streq(old, "done") || streq(old, "failed")) && changed)
                return ferry_error_set(err, -EBUSY, "Worker command %" PRId64 " has already finished (%s)", id, old);
        if (streq(status, "pending"))
                return ferry_error_set(err, -EINVAL, "A worker command cannot go back to 'pending'");

        if (result) {
                result_text = json_dump_compact(result);
                if (!result_text)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        db_timestamp_now(now);
        r = db_query(db, &upd, err,
                     "UPDATE worker_commands SET status = ?, message = COALESCE(?, message), "
                     "result = COALESCE(?, result), updated_at = ? WHERE id = ?",
                     "tttti", status, message, result_text, now, id);
        if (r < 0)
                return r;
        return changed ? 1 : 0;
}

int db_worker_command_set_status(struct db *db, const char *instance_uuid, int64_t id, const char *status,
                                 const char *message, const json_t *result, struct ferry_error *err)
{
        int r;

        r = db_begin(db, err);
        if (r < 0)
                return r;
        return db_end(db, command_set_status(db, instance_uuid, id, status, message, result, err), err);
}

int db_worker_command_list(struct db *db, const char *instance_uuid, json_t **ret, struct ferry_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
        _cleanup_json_ json_t *list = NULL;
        int64_t entry;
        int r;

        r = entry_id_required(db, instance_uuid, &entry, err);
        if (r < 0)
                return r;
        list = json_array();
        if (!list)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        for (r = db_query(db, &stmt, err,
                          "SELECT id, command, status, message, result, created_at, updated_at FROM worker_commands "
                          "WHERE queue_entry_id = ? ORDER BY id",
                          "i", entry);
             r > 0; r = db_step(db, stmt, err)) {
                _cleanup_json_ json_t *command = NULL, *result = NULL;
                json_t *item;

                r = db_column_json(stmt, 1, "worker command of queue entry", instance_uuid, &command, err);
                if (r < 0)
                        return r;
                if (sqlite3_column_type(stmt, 4) != SQLITE_NULL) {
                        r = db_column_json(stmt, 4, "worker command result of queue entry", instance_uuid, &result,
                                           err);
                        if (r < 0)
                                return r;
                }
                item = json_pack("{s:I, s:O, s:s, s:s, s:O?, s:s, s:s}", "id", (json_int_t) sqlite3_column_int64(stmt, 0),
                                 "command", command, "status", db_column_text(stmt, 2), "message",
                                 db_column_text(stmt, 3), "result", result, "created_at", db_column_text(stmt, 5),
                                 "updated_at", db_column_text(stmt, 6));
                if (!item || json_array_append_new(list, item) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(list);
        return 0;
}
