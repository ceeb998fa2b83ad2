/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "db/object.h"

/* SQL text being built; the first allocation failure sticks. */
struct sql {
        struct strbuf sb;
        int r;
};

_printf_(2, 3) static void sql_add(struct sql *q, const char *fmt, ...)
{
        va_list ap;

        if (q->r < 0)
                return;
        va_start(ap, fmt);
        q->r = strbuf_appendv(&q->sb, fmt, ap);
        va_end(ap);
}

/* Build, then db_query(). */
static int sql_query(struct db *db, struct sql *q, sqlite3_stmt **ret, struct ferry_error *err, const char *types,
                     ...)
{
        va_list ap;
        int r = q->r;

        if (r >= 0) {
                va_start(ap, types);
                r = db_queryv(db, ret, err, strbuf_str(&q->sb), types, ap);
                va_end(ap);
        } else
                r = ferry_error_set(err, r, "Cannot build an SQL statement: %m");
        strbuf_done(&q->sb);
        return r;
}

/* what with a capital first letter, for the start of a message. */
#define WHAT_FMT "%c%s"
#define WHAT_ARGS(t) toupper((unsigned char) (t)->what[0]), (t)->what + 1

int db_object_not_found(const struct db_table *t, const char *key, struct ferry_error *err)
{
        return ferry_error_set(err, -ENOENT, WHAT_FMT " '%s' not found", WHAT_ARGS(t), key);
}

static const struct db_field *key_field(const struct db_table *t)
{
        for (size_t i = 0; i < t->n_fields; i++)
                if (!t->fields[i].parent && streq(t->fields[i].name, t->key))
                        return &t->fields[i];
        abort(); /* a table descriptor without its key field is a bug */
}

int db_object_find_id(struct db *db, const struct db_table *t, const char *key, int64_t *ret_id,
                      struct ferry_error *err)
{
        const struct db_field *kf = key_field(t);
        _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
        struct sql q = {};
        int64_t ref_id = 0;
        int r;

        /* A key that is a reference (a queue entry's instance) is matched by the referenced id. */
        if (kf->ref) {
                r = db_object_find_id(db, kf->ref, key, &ref_id, err);
                if (r <= 0)
                        return r;
        }

        sql_add(&q, "SELECT id FROM %s WHERE %s = ?", t->table, kf->column);
        if (kf->ref)
                r = sql_query(db, &q, &stmt, err, "i", ref_id);
        else
                r = sql_query(db, &q, &stmt, err, "t", key);
        if (r <= 0)
                return r;
        *ret_id = sqlite3_column_int64(stmt, 0);
        return 1;
}

/* SELECT of every column, in the order row_to_json() reads them, from `t->table AS t`. */
static void sql_add_select(struct sql *q, const struct db_table *t)
{
        sql_add(q, "SELECT ");
        for (size_t i = 0; i < t->n_fields; i++) {
                const struct db_field *f = &t->fields[i];

                if (f->ref)
                        sql_add(q, "(SELECT %s FROM %s WHERE id = t.%s), ", key_field(f->ref)->column,
                                f->ref->table, f->column);
                else
                        sql_add(q, "t.%s, ", f->column);
        }
        sql_add(q, "t.object");
        if (t->user_column)
                sql_add(q, ", t.%s", t->user_column);
        if (t->created_column)
                sql_add(q, ", t.%s", t->created_column);
        if (t->updated_column)
                sql_add(q, ", t.%s", t->updated_column);
        sql_add(q, " FROM %s AS t", t->table);
}

static json_t *column_value(sqlite3_stmt *stmt, int column, const struct db_field *f)
{
        if (f->type == DB_FIELD_INTEGER)
                return json_integer(sqlite3_column_int64(stmt, column));
        return json_string(db_column_text(stmt, column));
}

static int set_new(json_t *obj, const char *name, json_t *value)
{
        return value && json_object_set_new(obj, name, value) == 0 ? 0 : -ENOMEM;
}

/* Put a nested column back into its parent object, creating the parent if needed. */
static int set_nested(json_t *obj, const struct db_field *f, json_t *value)
{
        json_t *parent = json_object_get(obj, f->parent);

        if (!json_is_object(parent)) {
                parent = json_object();
                if (set_new(obj, f->parent, parent) < 0) {
                        json_decref(value);
                        return -ENOMEM;
                }
        }
        return set_new(parent, f->name, value);
}

/* The object of the current row: key and top-level columns first, then the stored rest. */
static int row_to_json(const struct db_table *t, sqlite3_stmt *stmt, json_t **ret, struct ferry_error *err)
{
        _cleanup_json_ json_t *obj = NULL, *rest = NULL, *user = NULL;
        int column = (int) t->n_fields, r = 0;
        const char *key = NULL;

        for (size_t i = 0; i < t->n_fields; i++)
                if (!t->fields[i].parent && streq(t->fields[i].name, t->key))
                        key = db_column_text(stmt, (int) i);

        r = db_column_json(stmt, column++, t->what, key, &rest, err);
        if (r < 0)
                return r;
        if (t->user_column) {
                r = db_column_json(stmt, column++, t->what, key, &user, err);
                if (r < 0)
                        return r;
        }

        obj = json_object();
        if (!obj)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        for (size_t i = 0; i < t->n_fields && r >= 0; i++)
                if (!t->fields[i].parent && sqlite3_column_type(stmt, (int) i) != SQLITE_NULL)
                        r = set_new(obj, t->fields[i].name, column_value(stmt, (int) i, &t->fields[i]));
        if (r >= 0 && json_object_update(obj, rest) < 0)
                r = -ENOMEM;
        for (size_t i = 0; i < t->n_fields && r >= 0; i++)
                if (t->fields[i].parent && sqlite3_column_type(stmt, (int) i) != SQLITE_NULL)
                        r = set_nested(obj, &t->fields[i], column_value(stmt, (int) i, &t->fields[i]));
        if (r >= 0 && user)
                r = set_new(obj, t->user_column, TAKE_PTR(user));
        if (r >= 0 && t->created_column)
                r = set_new(obj, t->created_column, json_string(db_column_text(stmt, column++)));
        if (r >= 0 && t->updated_column)
                r = set_new(obj, t->updated_column, json_string(db_column_text(stmt, column++)));
        if (r < 0)
                return ferry_error_set(err, r, "Out of memory");

        *ret = TAKE_PTR(obj);
        return 0;
}

/* A row to write: one value per field, and the object without them. */
struct row {
        const char *key;
        json_t *rest;
        struct {
                bool null;
                const char *text;  /* borrowed from the caller's object */
                int64_t integer;   /* DB_FIELD_INTEGER, or a reference's id */
        } values[];
};

static void row_free(struct row *row)
{
        if (!row)
                return;
        json_decref(row->rest);
        free(row);
}
DEFINE_CLEANUP_FUNC(struct row, row_free);
#define _cleanup_row_ _cleanup_(row_free_p)

/* One field's value, checked; the field is removed from rest (the copy of obj) when it gets a column. */
static int row_take_field(struct db *db, const struct db_field *f, const json_t *obj, json_t *rest,
                          struct row *row, size_t i, struct ferry_error *err)
{
        _cleanup_free_ char *dotted = NULL;
        const char *name = f->name;
        const json_t *v;
        int r;

        row->values[i].null = true;
        if (f->parent) {
                dotted = strjoin(f->parent, ".", f->name, NULL);
                if (!dotted)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                name = dotted;
                obj = json_object_get(obj, f->parent);
                rest = json_object_get(rest, f->parent);
                if (obj && !json_is_null(obj) && !json_is_object(obj))
                        return ferry_error_set(err, -EINVAL, "Field '%s' must be an object", f->parent);
        }

        v = obj ? json_object_get(obj, f->name) : NULL;
        if (!v || json_is_null(v)) {
                if (f->required)
                        return ferry_error_set(err, -EINVAL, "Missing required field '%s'", name);
                return 0;
        }

        if (f->type == DB_FIELD_INTEGER) {
                if (!json_is_integer(v))
                        return ferry_error_set(err, -EINVAL, "Field '%s' must be an integer", name);
                row->values[i].integer = json_integer_value(v);
        } else {
                if (!json_is_string(v))
                        return ferry_error_set(err, -EINVAL, "Field '%s' must be a string", name);
                row->values[i].text = json_string_value(v);
                if (f->ref) {
                        if (!f->required && !*row->values[i].text)
                                return 0;
                        r = db_object_find_id(db, f->ref, row->values[i].text, &row->values[i].integer, err);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                return db_object_not_found(f->ref, row->values[i].text, err);
                }
        }

        row->values[i].null = false;
        (void) json_object_del(rest, f->name);
        return 0;
}

static int row_from_json(struct db *db, const struct db_table *t, const json_t *obj, struct row **ret,
                         struct ferry_error *err)
{
        _cleanup_row_ struct row *row = NULL;
        int r;

        if (!json_is_object(obj))
                return ferry_error_set(err, -EINVAL, WHAT_FMT " must be a JSON object", WHAT_ARGS(t));

        row = calloc(1, sizeof *row + t->n_fields * sizeof row->values[0]);
        if (!row)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        row->rest = json_deep_copy(obj);
        if (!row->rest)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        for (size_t i = 0; i < t->n_fields; i++) {
                r = row_take_field(db, &t->fields[i], obj, row->rest, row, i, err);
                if (r < 0)
                        return r;
                if (!t->fields[i].parent && streq(t->fields[i].name, t->key))
                        row->key = row->values[i].text;
        }
        /* What the table keeps itself is not part of the stored rest. */
        if (t->user_column)
                (void) json_object_del(row->rest, t->user_column);
        if (t->created_column)
                (void) json_object_del(row->rest, t->created_column);
        if (t->updated_column)
                (void) json_object_del(row->rest, t->updated_column);

        *ret = TAKE_PTR(row);
        return 0;
}

/* Bind ?1..?n to the fields, ?n+1 to the rest and, if the statement has it, ?n+2 to now. */
static int row_bind(struct db *db, const struct db_table *t, const struct row *row, sqlite3_stmt *stmt,
                    struct ferry_error *err)
{
        char now[DB_TIMESTAMP_SIZE];
        int index = 1, r;

        for (size_t i = 0; i < t->n_fields; i++, index++) {
                if (row->values[i].null)
                        r = sqlite3_bind_null(stmt, index) == SQLITE_OK ? 0 : db_error(db, false, err);
                else if (t->fields[i].type == DB_FIELD_TEXT && !t->fields[i].ref)
                        r = db_bind_text(db, stmt, index, row->values[i].text, err);
                else
                        r = db_bind_int64(db, stmt, index, row->values[i].integer, err);
                if (r < 0)
                        return r;
        }
        r = db_bind_json(db, stmt, index++, row->rest, err);
        if (r < 0 || sqlite3_bind_parameter_count(stmt) < index)
                return r;
        db_timestamp_now(now);
        return db_bind_text(db, stmt, index, now, err);
}

/* Run the INSERT or UPDATE built in q with row bound, and id as ?n+3 if not 0. */
static int write_row(struct db *db, const struct db_table *t, struct sql *q, const struct row *row, int64_t id,
                     struct ferry_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
        int r = q->r;

        if (r >= 0)
                r = db_prepare(db, strbuf_str(&q->sb), &stmt, err);
        else
                r = ferry_error_set(err, r, "Cannot build an SQL statement: %m");
        strbuf_done(&q->sb);
        if (r >= 0)
                r = row_bind(db, t, row, stmt, err);
        if (r >= 0 && id != 0)
                r = db_bind_int64(db, stmt, (int) t->n_fields + 3, id, err);
        if (r >= 0)
                r = db_step(db, stmt, err);
        if (r == -EEXIST)
                return ferry_error_set(err, -EEXIST, WHAT_FMT " '%s' already exists", WHAT_ARGS(t), row->key);
        return r;
}

static int insert_row(struct db *db, const struct db_table *t, const struct row *row, struct ferry_error *err)
{
        struct sql q = {};
        size_t n = t->n_fields;

        sql_add(&q, "INSERT INTO %s (", t->table);
        for (size_t i = 0; i < n; i++)
                sql_add(&q, "%s, ", t->fields[i].column);
        sql_add(&q, "object");
        if (t->created_column)
                sql_add(&q, ", %s", t->created_column);
        if (t->updated_column)
                sql_add(&q, ", %s", t->updated_column);
        sql_add(&q, ") VALUES (");
        for (size_t i = 1; i <= n; i++)
                sql_add(&q, "?%zu, ", i);
        sql_add(&q, "?%zu", n + 1);
        if (t->created_column)
                sql_add(&q, ", ?%zu", n + 2);
        if (t->updated_column)
                sql_add(&q, ", ?%zu", n + 2);
        sql_add(&q, ")");
        return write_row(db, t, &q, row, 0, err);
}

static int update_row(struct db *db, const struct db_table *t, int64_t id, const struct row *row,
                      struct ferry_error *err)
{
        struct sql q = {};
        size_t n = t->n_fields;

        sql_add(&q, "UPDATE %s SET ", t->table);
        for (size_t i = 0; i < n; i++)
                sql_add(&q, "%s = ?%zu, ", t->fields[i].column, i + 1);
        sql_add(&q, "object = ?%zu", n + 1);
        if (t->updated_column)
                sql_add(&q, ", %s = ?%zu", t->updated_column, n + 2);
        sql_add(&q, " WHERE id = ?%zu", n + 3);
        return write_row(db, t, &q, row, id, err);
}

/* The id of key, or -ENOENT with the message. */
static int find_existing(struct db *db, const struct db_table *t, const char *key, int64_t *ret_id,
                         struct ferry_error *err)
{
        int r;

        if (!key)
                return ferry_error_set(err, -EINVAL, "No %s given", t->what);
        r = db_object_find_id(db, t, key, ret_id, err);
        if (r == 0)
                return db_object_not_found(t, key, err);
        return r < 0 ? r : 0;
}

static int create_in_transaction(struct db *db, const struct db_table *t, const json_t *obj,
                                 struct ferry_error *err)
{
        _cleanup_row_ struct row *row = NULL;
        int r;

        r = row_from_json(db, t, obj, &row, err);
        if (r < 0)
                return r;
        return insert_row(db, t, row, err);
}

static int update_in_transaction(struct db *db, const struct db_table *t, const char *key, const json_t *obj,
                                 struct ferry_error *err)
{
        _cleanup_row_ struct row *row = NULL;
        int64_t id = 0;
        int r;

        r = find_existing(db, t, key, &id, err);
        if (r >= 0)
                r = row_from_json(db, t, obj, &row, err);
        if (r < 0)
                return r;
        return update_row(db, t, id, row, err);
}

/* For db_object_put(): refuse to move an existing row to another owner. */
static int check_owners(struct db *db, const struct db_table *t, int64_t id, const struct row *row,
                        struct ferry_error *err)
{
        for (size_t i = 0; i < t->n_fields; i++) {
                const struct db_field *f = &t->fields[i];
                _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
                struct sql q = {};
                int r;

                if (!f->owner)
                        continue;
                sql_add(&q, "SELECT %s, (SELECT %s FROM %s WHERE id = t.%s) FROM %s AS t WHERE id = ?", f->column,
                        key_field(f->ref)->column, f->ref->table, f->column, t->table);
                r = sql_query(db, &q, &stmt, err, "i", id);
                if (r < 0)
                        return r;
                if (r > 0 && sqlite3_column_int64(stmt, 0) != row->values[i].integer)
                        return ferry_error_set(err, -EEXIST, WHAT_FMT " '%s' already belongs to %s '%s'",
                                               WHAT_ARGS(t), row->key, f->ref->what, db_column_text(stmt, 1));
        }
        return 0;
}

static int put_in_transaction(struct db *db, const struct db_table *t, const json_t *obj, struct ferry_error *err)
{
        _cleanup_row_ struct row *row = NULL;
        int64_t id = 0;
        int r;

        r = row_from_json(db, t, obj, &row, err);
        if (r >= 0)
                r = db_object_find_id(db, t, row->key, &id, err);
        if (r < 0)
                return r;
        if (r == 0) {
                r = insert_row(db, t, row, err);
                return r < 0 ? r : 1;
        }
        r = check_owners(db, t, id, row, err);
        if (r < 0)
                return r;
        return update_row(db, t, id, row, err);
}

static int set_user_in_transaction(struct db *db, const struct db_table *t, const char *key, const json_t *value,
                                   struct ferry_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
        _cleanup_free_ char *text = NULL;
        char now[DB_TIMESTAMP_SIZE];
        struct sql q = {};
        int64_t id = 0;
        int r;

        if (!json_is_object(value))
                return ferry_error_set(err, -EINVAL, "Field '%s' must be an object", t->user_column);
        r = find_existing(db, t, key, &id, err);
        if (r < 0)
                return r;
        text = json_dumps(value, JSON_COMPACT);
        if (!text)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        db_timestamp_now(now);

        /* ?2 stays unused (and may be bound) when the table keeps no update time. */
        sql_add(&q, "UPDATE %s SET %s = ?1", t->table, t->user_column);
        if (t->updated_column)
                sql_add(&q, ", %s = ?2", t->updated_column);
        sql_add(&q, " WHERE id = ?3");
        return sql_query(db, &q, &stmt, err, "tti", text, now, id);
}

/* -EBUSY naming the first user of the row, if the table says how to find one. */
static int check_in_use(struct db *db, const struct db_table *t, const char *key, int64_t id,
                        struct ferry_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
        int r;

        if (!t->in_use_sql)
                return 0;
        r = db_query(db, &stmt, err, t->in_use_sql, "i", id);
        if (r <= 0)
                return r;
        return ferry_error_set(err, -EBUSY, WHAT_FMT " '%s' is used by %s '%s'", WHAT_ARGS(t), key,
                               t->in_use_kind, db_column_text(stmt, 0));
}

static int delete_in_transaction(struct db *db, const struct db_table *t, const char *key,
                                 struct ferry_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
        struct sql q = {};
        int64_t id = 0;
        int r;

        r = find_existing(db, t, key, &id, err);
        if (r >= 0)
                r = check_in_use(db, t, key, id, err);
        if (r < 0)
                return r;
        sql_add(&q, "DELETE FROM %s WHERE id = ?", t->table);
        r = sql_query(db, &q, &stmt, err, "i", id);
        /* A foreign key that check_in_use() does not know about. */
        if (r == -EBUSY)
                return ferry_error_prefix(err, WHAT_FMT " '%s' is in use", WHAT_ARGS(t), key);
        return r;
}

enum object_change {
        OBJECT_CREATE,
        OBJECT_PUT,
        OBJECT_UPDATE,
        OBJECT_SET_USER,
        OBJECT_DELETE,
};

/* Every change in one transaction (nested in the caller's, if any). */
static int object_change(struct db *db, enum object_change change, const struct db_table *t, const char *key,
                         const json_t *obj, struct ferry_error *err)
{
        int r;

        r = db_begin(db, err);
        if (r < 0)
                return r;
        switch (change) {
        case OBJECT_CREATE:
                r = create_in_transaction(db, t, obj, err);
                break;
        case OBJECT_PUT:
                r = put_in_transaction(db, t, obj, err);
                break;
        case OBJECT_UPDATE:
                r = update_in_transaction(db, t, key, obj, err);
                break;
        case OBJECT_SET_USER:
                r = set_user_in_transaction(db, t, key, obj, err);
                break;
        case OBJECT_DELETE:
                r = delete_in_transaction(db, t, key, err);
                break;
        }
        return db_end(db, r, err);
}

int db_object_create(struct db *db, const struct db_table *t, const json_t *obj, struct ferry_error *err)
{
        return object_change(db, OBJECT_CREATE, t, NULL, obj, err);
}

int db_object_put(struct db *db, const struct db_table *t, const json_t *obj, struct ferry_error *err)
{
        return object_change(db, OBJECT_PUT, t, NULL, obj, err);
}

int db_object_update(struct db *db, const struct db_table *t, const char *key, const json_t *obj,
                     struct ferry_error *err)
{
        return object_change(db, OBJECT_UPDATE, t, key, obj, err);
}

int db_object_set_user(struct db *db, const struct db_table *t, const char *key, const json_t *value,
                       struct ferry_error *err)
{
        return object_change(db, OBJECT_SET_USER, t, key, value, err);
}

int db_object_delete(struct db *db, const struct db_table *t, const char *key, struct ferry_error *err)
{
        return object_change(db, OBJECT_DELETE, t, key, NULL, err);
}

/* The objects of t's rows, or of those whose column equals id, in order. */
static int select_objects(struct db *db, const struct db_table *t, const char *column, int64_t id, json_t **ret,
                          struct ferry_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
        _cleanup_json_ json_t *list = NULL;
        struct sql q = {};
        int r;

        list = json_array();
        if (!list)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        sql_add_select(&q, t);
        if (column)
                sql_add(&q, " WHERE t.%s = ?", column);
        sql_add(&q, " ORDER BY %s", t->order_by);
        for (r = column ? sql_query(db, &q, &stmt, err, "i", id) : sql_query(db, &q, &stmt, err, NULL); r > 0;
             r = db_step(db, stmt, err)) {
                json_t *obj = NULL;

                r = row_to_json(t, stmt, &obj, err);
                if (r < 0)
                        return r;
                if (json_array_append_new(list, obj) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        if (r < 0)
                return r;

        *ret = TAKE_PTR(list);
        return 0;
}

int db_object_get(struct db *db, const struct db_table *t, const char *key, json_t **ret,
                  struct ferry_error *err)
{
        _cleanup_json_ json_t *list = NULL;
        int64_t id = 0;
        int r;

        r = find_existing(db, t, key, &id, err);
        if (r >= 0)
                r = select_objects(db, t, "id", id, &list, err);
        if (r < 0)
                return r;
        if (json_array_size(list) == 0) /* deleted since find_existing() */
                return db_object_not_found(t, key, err);
        *ret = json_incref(json_array_get(list, 0));
        return 0;
}

int db_object_list(struct db *db, const struct db_table *t, const char *filter_field, const char *filter_key,
                   json_t **ret, struct ferry_error *err)
{
        const struct db_field *f = NULL;
        int64_t filter_id = 0;
        int r;

        if (!filter_field || !filter_key)
                return select_objects(db, t, NULL, 0, ret, err);

        for (size_t i = 0; i < t->n_fields && !f; i++)
                if (!t->fields[i].parent && t->fields[i].ref && streq(t->fields[i].name, filter_field))
                        f = &t->fields[i];
        if (!f)
                return ferry_error_set(err, -EINVAL, "Cannot filter %s by '%s'", t->what, filter_field);
        r = find_existing(db, f->ref, filter_key, &filter_id, err);
        if (r < 0)
                return r;
        return select_objects(db, t, f->column, filter_id, ret, err);
}
