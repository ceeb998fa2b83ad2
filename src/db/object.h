/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The storage every repository shares: a table described by a struct
 * db_table keeps some JSON fields of an object in real columns (keys, what
 * queries filter on, references to other tables as ids) and the rest of
 * the object as JSON text in the column `object`.  Reading puts the columns
 * back where they came from, so an object comes back as it was stored, plus
 * the timestamps the table keeps.
 *
 * A field that is not required and is absent, null, or (for a reference)
 * "" is stored as SQL NULL and left in the JSON as it was.
 */
#ifndef FERRY_DB_OBJECT_H
#define FERRY_DB_OBJECT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "db/db-internal.h"

enum db_field_type {
        DB_FIELD_TEXT,
        DB_FIELD_INTEGER,
        _DB_FIELD_TYPE_MAX,
        _DB_FIELD_TYPE_INVALID = -EINVAL,
};

struct db_table;

struct db_field {
        const char *parent;          /* NULL, or the object field that holds this one ("file") */
        const char *name;            /* its JSON name */
        const char *column;          /* its SQL column */
        enum db_field_type type;     /* a reference is DB_FIELD_TEXT: the other object's key */
        bool required;
        const struct db_table *ref;  /* the field holds ref's key, the column ref's id */
        bool owner;                  /* with ref: db_object_put() refuses to change it */
};

struct db_table {
        const char *table;           /* SQL table */
        const char *what;            /* "source", "queue entry": for messages */
        const char *key;             /* JSON name of the key, a top-level field */
        const struct db_field *fields;
        size_t n_fields;
        const char *user_column;     /* "overrides": column and JSON field set only by db_object_set_user() */
        const char *created_column;  /* "created_at": column and JSON field, or NULL */
        const char *updated_column;  /* "updated_at": column and JSON field, or NULL */
        const char *order_by;        /* SQL, over the table's columns as t.column */
        /*
         * Refuse to delete a row that is in use: this query (?1 = the row's
         * id) returns the name of the first user, an object of in_use_kind:
         * "Source 'vc01' is used by batch 'wave1'".
         */
        const char *in_use_sql;
        const char *in_use_kind;
};

/* Insert; -EEXIST "Source 'x' already exists", -ENOENT for a reference to a missing object. */
int db_object_create(struct db *db, const struct db_table *t, const json_t *obj, struct ferry_error *err);

/* Insert, or replace a row with the same key keeping its user column; 1 if inserted, 0 if replaced. */
int db_object_put(struct db *db, const struct db_table *t, const json_t *obj, struct ferry_error *err);

/* -ENOENT "Source 'x' not found". */
int db_object_get(struct db *db, const struct db_table *t, const char *key, json_t **ret,
                  struct ferry_error *err);

/*
 * All rows in order_by order, or with filter_field (a reference) only
 * those that refer to filter_key (-ENOENT if that object does not exist).
 */
int db_object_list(struct db *db, const struct db_table *t, const char *filter_field, const char *filter_key,
                   json_t **ret, struct ferry_error *err);

/* Replace the stored object, key included (a rename); keeps the user column and creation time. */
int db_object_update(struct db *db, const struct db_table *t, const char *key, const json_t *obj,
                     struct ferry_error *err);

/* Replace the user column with value, a JSON object. */
int db_object_set_user(struct db *db, const struct db_table *t, const char *key, const json_t *value,
                       struct ferry_error *err);

/* -ENOENT, or -EBUSY when in use (see in_use_sql). */
int db_object_delete(struct db *db, const struct db_table *t, const char *key, struct ferry_error *err);

/* The row id of key: 1 and *ret_id when found, 0 when not. */
int db_object_find_id(struct db *db, const struct db_table *t, const char *key, int64_t *ret_id,
                      struct ferry_error *err);

/* "Source 'x' not found" with the capital that t->what lacks. */
int db_object_not_found(const struct db_table *t, const char *key, struct ferry_error *err);

/*
 * The repository functions that only pass their table on: each macro
 * defines name() with the signature the repository's header declares.
 */
#define DB_DEFINE_CREATE(name, table)                                                       \
        int name(struct db *db, const json_t *obj, struct ferry_error *err)                 \
        {                                                                                   \
                return db_object_create(db, &(table), obj, err);                            \
        }
#define DB_DEFINE_PUT(name, table)                                                          \
        int name(struct db *db, const json_t *obj, struct ferry_error *err)                 \
        {                                                                                   \
                return db_object_put(db, &(table), obj, err);                               \
        }
#define DB_DEFINE_GET(name, table)                                                          \
        int name(struct db *db, const char *key, json_t **ret, struct ferry_error *err)     \
        {                                                                                   \
                return db_object_get(db, &(table), key, ret, err);                          \
        }
#define DB_DEFINE_LIST(name, table)                                                         \
        int name(struct db *db, json_t **ret, struct ferry_error *err)                      \
        {                                                                                   \
                return db_object_list(db, &(table), NULL, NULL, ret, err);                  \
        }
/* Filtered by a reference field: name(db, NULL, ...) lists all. */
#define DB_DEFINE_LIST_BY(name, table, field)                                               \
        int name(struct db *db, const char *key, json_t **ret, struct ferry_error *err)     \
        {                                                                                   \
                return db_object_list(db, &(table), (field), key, ret, err);                \
        }
#define DB_DEFINE_UPDATE(name, table)                                                       \
        int name(struct db *db, const char *key, const json_t *obj, struct ferry_error *err) \
        {                                                                                   \
                return db_object_update(db, &(table), key, obj, err);                       \
        }
#define DB_DEFINE_SET_USER(name, table)                                                     \
        int name(struct db *db, const char *key, const json_t *obj, struct ferry_error *err) \
        {                                                                                   \
                return db_object_set_user(db, &(table), key, obj, err);                     \
        }
#define DB_DEFINE_DELETE(name, table)                                                       \
        int name(struct db *db, const char *key, struct ferry_error *err)                   \
        {                                                                                   \
                return db_object_delete(db, &(table), key, err);                            \
        }

/* The tables, defined by their repository files. */
extern const struct db_table db_table_sources;
extern const struct db_table db_table_targets;
extern const struct db_table db_table_instances;
extern const struct db_table db_table_networks;
extern const struct db_table db_table_batches;
extern const struct db_table db_table_queue_entries;
extern const struct db_table db_table_warnings;
extern const struct db_table db_table_certificates;
extern const struct db_table db_table_artifacts;
extern const struct db_table db_table_hooks;

#endif
