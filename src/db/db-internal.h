/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the repository files of src/db share: the connection, statement
 * helpers that translate SQLite errors into struct ferry_error once, JSON
 * columns and timestamps.  Not for use outside src/db (and its tests).
 */
#ifndef FERRY_DB_DB_INTERNAL_H
#define FERRY_DB_DB_INTERNAL_H

#include <jansson.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/duration.h"
#include "common/error.h"
#include "common/macros.h"
#include "db/db.h"

struct db {
        sqlite3 *conn;
        char *path;
        int schema_version;
        unsigned tx_depth;   /* nesting level of db_begin() */
        bool tx_failed;      /* an inner level rolled back: the outermost rolls back */
};

static inline void sqlite3_finalize_void(sqlite3_stmt *stmt)
{
        (void) sqlite3_finalize(stmt);
}
DEFINE_CLEANUP_FUNC(sqlite3_stmt, sqlite3_finalize_void);
#define _cleanup_stmt_ _cleanup_(sqlite3_finalize_void_p)

/*
 * The error of the last failed call on db's connection as a negative errno
 * and message: a UNIQUE or PRIMARY KEY constraint is -EEXIST; a FOREIGN KEY
 * constraint -EBUSY when deleting (the row is in use), -ENOENT otherwise
 * (what it refers to is missing); busy or locked -EBUSY; out of memory
 * -ENOMEM; disk full -ENOSPC; read-only -EROFS; anything else -EIO.  The
 * message is "Database error: <sqlite3_errmsg>" or says which of those.
 */
int db_error(struct db *db, bool deleting, struct ferry_error *err);

/* Prepare one statement; SQL is trusted (ours). */
int db_prepare(struct db *db, const char *sql, sqlite3_stmt **ret, struct ferry_error *err);

/*
 * Prepare sql, bind its parameters in order, one per letter of types (NULL
 * for none): 't' a const char * (NULL binds SQL NULL), 'i' an int64_t
 * (pass exactly that type), and run the first step.  Returns 1 with a row,
 * 0 when done, and *ret (finalize it) in both cases; a negative errno
 * otherwise.
 */
int db_query(struct db *db, sqlite3_stmt **ret, struct ferry_error *err, const char *sql, const char *types, ...);
int db_queryv(struct db *db, sqlite3_stmt **ret, struct ferry_error *err, const char *sql, const char *types,
              va_list ap);

/* Step: 1 with a row, 0 when done, a negative errno (db_error()) on failure. */
int db_step(struct db *db, sqlite3_stmt *stmt, struct ferry_error *err);

/* Run SQL statements that return no rows. */
int db_exec(struct db *db, const char *sql, struct ferry_error *err);

/* Bind helpers: 0 or a negative errno; text is copied by SQLite. */
int db_bind_text(struct db *db, sqlite3_stmt *stmt, int index, const char *text, struct ferry_error *err);
int db_bind_int64(struct db *db, sqlite3_stmt *stmt, int index, int64_t value, struct ferry_error *err);
int db_bind_json(struct db *db, sqlite3_stmt *stmt, int index, const json_t *value, struct ferry_error *err);

/*
 * The JSON text of a column, parsed.  A column that is not JSON (a damaged
 * row) is -EIO "Stored <what> '<key>' is damaged: <why>".
 */
int db_column_json(sqlite3_stmt *stmt, int column, const char *what, const char *key, json_t **ret,
                   struct ferry_error *err);

/* Column text, never NULL ("" for SQL NULL); borrowed until the next step. */
const char *db_column_text(sqlite3_stmt *stmt, int column);

/*
 * End the level started by db_begin(): commit if r >= 0, roll back
 * otherwise.  Returns r, or the commit's error.  The idiom:
 *
 *     r = db_begin(db, err);
 *     if (r < 0)
 *             return r;
 *     r = work(db, err);
 *     return db_end(db, r, err);
 */
int db_end(struct db *db, int r, struct ferry_error *err);

/*
 * Now, or usec, as RFC 3339 UTC with exactly six fraction digits
 * ("2026-11-24T10:00:00.000000Z"): fixed width, so that text order is time
 * order in SQL.
 */
#define DB_TIMESTAMP_SIZE 32
int db_timestamp(int64_t usec, char ret[static DB_TIMESTAMP_SIZE]);
int64_t db_now_usec(void);
void db_timestamp_now(char ret[static DB_TIMESTAMP_SIZE]);

/* For tests: open and migrate only up to version (1..db_schema_latest()). */
int db_open_at_version(const char *path, int version, struct db **ret, struct ferry_error *err);

#endif
