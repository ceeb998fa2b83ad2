/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/strbuf.h"
#include "db/db-internal.h"
#include "db/schema.h"

#define DB_BUSY_TIMEOUT_MSEC 5000

int db_error(struct db *db, bool deleting, struct ferry_error *err)
{
        int rc = sqlite3_extended_errcode(db->conn), sys;
        const char *msg = sqlite3_errmsg(db->conn);

        switch (rc) {
        case SQLITE_CONSTRAINT_UNIQUE:
        case SQLITE_CONSTRAINT_PRIMARYKEY:
                return ferry_error_set(err, -EEXIST, "Database error: %s", msg);
        case SQLITE_CONSTRAINT_FOREIGNKEY:
                return ferry_error_set(err, deleting ? -EBUSY : -ENOENT, "Database error: %s", msg);
        }

        switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return ferry_error_set(err, -EBUSY, "Database '%s' is busy: %s", db->path, msg);
        case SQLITE_NOMEM:
                return ferry_error_set(err, -ENOMEM, "Database error: %s", msg);
        case SQLITE_FULL:
                return ferry_error_set(err, -ENOSPC, "Database error: %s", msg);
        case SQLITE_READONLY:
                return ferry_error_set(err, -EROFS, "Database error: %s", msg);
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
                return ferry_error_set(err, -EIO, "Database '%s' is not a SQLite database or is damaged: %s",
                                       db->path, msg);
        case SQLITE_CANTOPEN:
                sys = sqlite3_system_errno(db->conn);
                return ferry_error_set(err, sys > 0 ? -sys : -EIO, "Cannot open database '%s': %s", db->path,
                                       msg);
        }
        return ferry_error_set(err, -EIO, "Database error: %s", msg);
}

int db_prepare(struct db *db, const char *sql, sqlite3_stmt **ret, struct ferry_error *err)
{
        sqlite3_stmt *stmt = NULL;

        if (sqlite3_prepare_v2(db->conn, sql, -1, &stmt, NULL) != SQLITE_OK)
                return db_error(db, false, err);
        *ret = stmt;
        return 0;
}

int db_step(struct db *db, sqlite3_stmt *stmt, struct ferry_error *err)
{
        switch (sqlite3_step(stmt)) {
        case SQLITE_ROW:
                return 1;
        case SQLITE_DONE:
                return 0;
        default:
                return db_error(db, startswith(sqlite3_sql(stmt), "DELETE"), err);
        }
}

int db_queryv(struct db *db, sqlite3_stmt **ret, struct ferry_error *err, const char *sql, const char *types,
              va_list ap)
{
        _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
        int index = 1, r;

        r = db_prepare(db, sql, &stmt, err);
        for (const char *type = types ? types : ""; *type && r >= 0; type++, index++)
                switch (*type) {
                case 't':
                        r = db_bind_text(db, stmt, index, va_arg(ap, const char *), err);
                        break;
                case 'i':
                        r = db_bind_int64(db, stmt, index, va_arg(ap, int64_t), err);
                        break;
                default:
                        abort(); /* a bug in the caller */
                }
        if (r >= 0)
                r = db_step(db, stmt, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(stmt);
        return r;
}

int db_query(struct db *db, sqlite3_stmt **ret, struct ferry_error *err, const char *sql, const char *types, ...)
{
        va_list ap;
        int r;

        va_start(ap, types);
        r = db_queryv(db, ret, err, sql, types, ap);
        va_end(ap);
        return r;
}

int db_exec(struct db *db, const char *sql, struct ferry_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
        int r;

        r = db_query(db, &stmt, err, sql, NULL);
        while (r > 0)
                r = db_step(db, stmt, err);
        return r;
}

int db_bind_text(struct db *db, sqlite3_stmt *stmt, int index, const char *text, struct ferry_error *err)
{
        if (sqlite3_bind_text(stmt, index, text, -1, SQLITE_TRANSIENT) != SQLITE_OK)
                return db_error(db, false, err);
        return 0;
}

int db_bind_int64(struct db *db, sqlite3_stmt *stmt, int index, int64_t value, struct ferry_error *err)
{
        if (sqlite3_bind_int64(stmt, index, value) != SQLITE_OK)
                return db_error(db, false, err);
        return 0;
}

int db_bind_json(struct db *db, sqlite3_stmt *stmt, int index, const json_t *value, struct ferry_error *err)
{
        _cleanup_free_ char *text = NULL;

        text = json_dumps(value, JSON_COMPACT);
        if (!text)
                return ferry_error_set(err, -ENOMEM, "Cannot encode JSON for the database");
        return db_bind_text(db, stmt, index, text, err);
}

const char *db_column_text(sqlite3_stmt *stmt, int column)
{
        const unsigned char *text = sqlite3_column_text(stmt, column);

        return text ? (const char *) text : "";
}

int db_column_json(sqlite3_stmt *stmt, int column, const char *what, const char *key, json_t **ret,
                   struct ferry_error *err)
{
        const char *text = (const char *) sqlite3_column_text(stmt, column);
        json_error_t jerr;
        json_t *v = NULL;

        if (!text)
                return ferry_error_set(err, -EIO, "Stored %s '%s' is damaged: column '%s' is empty", what, key,
                                       sqlite3_column_name(stmt, column));
        v = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
        if (!v)
                return ferry_error_set(err, -EIO, "Stored %s '%s' is damaged: %s", what, key, jerr.text);
        if (!json_is_object(v)) {
                json_decref(v);
                return ferry_error_set(err, -EIO, "Stored %s '%s' is damaged: column '%s' is not an object",
                                       what, key, sqlite3_column_name(stmt, column));
        }
        *ret = v;
        return 0;
}

int64_t db_now_usec(void)
{
        return timestamp_now_usec();
}

int db_timestamp(int64_t usec, char ret[static DB_TIMESTAMP_SIZE])
{
        int64_t frac = usec % (int64_t) USEC_PER_SEC;
        char seconds[TIMESTAMP_RFC3339_MAX];
        size_t len;
        int r;

        if (frac < 0)
                frac += (int64_t) USEC_PER_SEC;
        /* Whole seconds come back as "YYYY-MM-DDTHH:MM:SSZ": put the fraction before the Z. */
        r = timestamp_format_rfc3339(usec - frac, seconds, sizeof seconds);
        if (r < 0)
                return r;
        len = strlen(seconds) - 1;
        if (len + sizeof(".000000Z") > DB_TIMESTAMP_SIZE)
                return -ERANGE;
        memcpy(ret, seconds, len);
        (void) snprintf(ret + len, DB_TIMESTAMP_SIZE - len, ".%06" PRId64 "Z", frac);
        return 0;
}

void db_timestamp_now(char ret[static DB_TIMESTAMP_SIZE])
{
        /* The clock of a running system is always within years 0000-9999. */
        if (db_timestamp(db_now_usec(), ret) < 0)
                strcpy(ret, "1970-01-01T00:00:00.000000Z");
}

int db_end(struct db *db, int r, struct ferry_error *err)
{
        int c;

        if (r < 0) {
                db_rollback(db);
                return r;
        }
        c = db_commit(db, err);
        return c < 0 ? c : r;
}

int db_begin(struct db *db, struct ferry_error *err)
{
        int r;

        if (db->tx_depth > 0) {
                /* SQLite rolls back on its own after some failures (disk full, I/O). */
                if (sqlite3_get_autocommit(db->conn))
                        return ferry_error_set(err, -ECANCELED,
                                               "Transaction rolled back after an earlier failure");
                db->tx_depth++;
                return 0;
        }

        r = db_exec(db, "BEGIN IMMEDIATE", err);
        if (r < 0)
                return r;
        db->tx_depth = 1;
        db->tx_failed = false;
        return 0;
}

int db_commit(struct db *db, struct ferry_error *err)
{
        int r;

        if (db->tx_depth == 0)
                return ferry_error_set(err, -EINVAL, "No transaction to commit");

        if (db->tx_failed || sqlite3_get_autocommit(db->conn)) {
                db_rollback(db);
                db->tx_failed = db->tx_depth > 0;
                return ferry_error_set(err, -ECANCELED, "Transaction rolled back after an earlier failure");
        }
        if (db->tx_depth > 1) {
                db->tx_depth--;
                return 0;
        }

        r = db_exec(db, "COMMIT", err);
        if (r < 0) {
                db_rollback(db);
                return r;
        }
        db->tx_depth = 0;
        return 0;
}

void db_rollback(struct db *db)
{
        if (!db || db->tx_depth == 0)
                return;
        if (--db->tx_depth > 0) {
                db->tx_failed = true;
                return;
        }
        db->tx_failed = false;
        if (!sqlite3_get_autocommit(db->conn))
                (void) sqlite3_exec(db->conn, "ROLLBACK", NULL, NULL, NULL);
}

/* Integer result of a query without parameters that returns one row. */
static int db_query_int(struct db *db, const char *sql, int64_t *ret, struct ferry_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
        int r;

        r = db_query(db, &stmt, err, sql, NULL);
        if (r < 0)
                return r;
        if (r == 0)
                return ferry_error_set(err, -EIO, "Database error: no result for '%s'", sql);
        *ret = sqlite3_column_int64(stmt, 0);
        return 0;
}

/* The version in the table `schema`, 0 for a new (empty) database. */
static int db_read_schema_version(struct db *db, int *ret, struct ferry_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
        int64_t version = 0;
        int r;

        /* One statement, one snapshot: another process may be creating the tables right now. */
        r = db_query(db, &stmt, err,
                     "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema'),"
                     " (SELECT count(*) FROM sqlite_master)",
                     NULL);
        if (r < 0)
                return r;
        if (r > 0 && sqlite3_column_int64(stmt, 0) == 0) {
                if (sqlite3_column_int64(stmt, 1) > 0)
                        return ferry_error_set(err, -EIO,
                                               "Database '%s' is not a ferry database: it has tables but no schema version",
                                               db->path);
                *ret = 0;
                return 0;
        }

        r = db_query_int(db, "SELECT coalesce(max(version), 0) FROM schema", &version, err);
        if (r < 0)
                return r;
        if (version <= 0 || version > INT32_MAX)
                return ferry_error_set(err, -EIO, "Database '%s' is damaged: schema version %" PRId64, db->path,
                                       version);
        *ret = (int) version;
        return 0;
}

static int db_apply_migration(struct db *db, const struct db_migration *m, struct ferry_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
        char now[DB_TIMESTAMP_SIZE];
        int r;

        for (const char *const *step = m->steps; *step; step++) {
                r = db_exec(db, *step, err);
                if (r < 0)
                        return ferry_error_prefix(err, "Database '%s', migration %d (%s)", db->path, m->version,
                                                  m->description);
        }

        db_timestamp_now(now);
        r = db_query(db, &stmt, err, "INSERT INTO schema (version, applied_at) VALUES (?, ?)", "it",
                     (int64_t) m->version, now);
        if (r < 0)
                return r;
        log_debug("Database '%s' migrated to version %d (%s)", db->path, m->version, m->description);
        return 0;
}

/*
 * One migration per transaction, reading the version inside it: another
 * process migrating the same file at the same time waits, then sees the
 * new version.  An up-to-date database (every open but the first after an
 * upgrade) is only read: no write lock.
 */
static int db_migrate(struct db *db, int target, struct ferry_error *err)
{
        int version = 0, r;

        r = db_read_schema_version(db, &version, err);
        while (r >= 0) {
                if (version > db_schema_latest())
                        return ferry_error_set(err, -EPROTO,
                                               "Database '%s' has schema version %d, newer than this ferry (%d): upgrade ferry",
                                               db->path, version, db_schema_latest());
                if (version >= target) {
                        db->schema_version = version;
                        return 0;
                }

                r = db_begin(db, err);
                if (r < 0)
                        return r;
                r = db_read_schema_version(db, &version, err);
                if (r >= 0 && version < target && version < db_schema_latest()) {
                        r = db_apply_migration(db, db_schema_migration(version + 1), err);
                        version++;
                }
                r = db_end(db, r, err);
        }
        return r;
}

/*
 * Switching a new file to WAL takes an exclusive lock, and when two
 * connections switch at once SQLite answers one with SQLITE_BUSY at once
 * (waiting would deadlock): retry for as long as the busy timeout.
 */
static int db_use_wal(struct db *db, struct ferry_error *err)
{
        const struct timespec pause = { .tv_nsec = 10 * 1000 * 1000 };

        for (unsigned waited_msec = 0;; waited_msec += 10) {
                _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
                int r;

                r = db_query(db, &stmt, err, "PRAGMA journal_mode = WAL", NULL);
                if (r == -EBUSY && waited_msec < DB_BUSY_TIMEOUT_MSEC) {
                        (void) nanosleep(&pause, NULL);
                        continue;
                }
                if (r < 0)
                        return r;
                /* The PRAGMA answers with the mode it is in. */
                if (r == 0 || strcasecmp(db_column_text(stmt, 0), "wal") != 0)
                        return ferry_error_set(err, -EIO,
                                               "Database '%s' cannot use write-ahead logging (journal mode '%s')",
                                               db->path, r > 0 ? db_column_text(stmt, 0) : "");
                return 0;
        }
}

static int db_configure(struct db *db, struct ferry_error *err)
{
        int64_t foreign_keys = 0;
        int r;

        (void) sqlite3_extended_result_codes(db->conn, 1);
        (void) sqlite3_busy_timeout(db->conn, DB_BUSY_TIMEOUT_MSEC);

        r = db_use_wal(db, err);
        if (r < 0)
                return r;

        /*
         * NORMAL: in WAL mode a commit is in the log before db_commit()
         * returns, so it survives a crash (kill -9) of ferryd; only a
         * power cut can lose the last commits, never corrupt the file.
         * FULL would fsync every commit: 20 to 50 times slower here, and
         * API writes run on the event loop.  db_set_durable() is for the
         * connections whose commits must survive a power cut.
         */
        r = db_exec(db, "PRAGMA synchronous = NORMAL", err);
        if (r < 0)
                return r;
        r = db_exec(db, "PRAGMA foreign_keys = ON", err);
        if (r < 0)
                return r;
        r = db_query_int(db, "PRAGMA foreign_keys", &foreign_keys, err);
        if (r < 0)
                return r;
        if (foreign_keys != 1)
                return ferry_error_set(err, -EOPNOTSUPP, "This SQLite does not enforce foreign keys");
        return 0;
}

int db_open_at_version(const char *path, int version, struct db **ret, struct ferry_error *err)
{
        _cleanup_db_ struct db *db = NULL;
        int fd, r;

        if (!path || !*path)
                return ferry_error_set(err, -EINVAL, "No database path");
        if (version < 1 || version > db_schema_latest())
                return ferry_error_set(err, -EINVAL, "No schema version %d", version);

        /*
         * SQLite would create the file with mode 0644; its -wal and -shm
         * files copy the mode.  Close before SQLite opens: closing any
         * descriptor of the file drops the process's POSIX locks on it.
         */
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return ferry_error_set(err, -errno, "Cannot open database '%s': %m", path);
        (void) close(fd);

        db = calloc(1, sizeof *db);
        if (!db)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        db->path = strdup(path);
        if (!db->path)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        /* Even a failed open allocates the handle, which db_close() frees. */
        if (sqlite3_open_v2(path, &db->conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
                if (!db->conn)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                return db_error(db, false, err);
        }

        r = db_configure(db, err);
        if (r < 0)
                return r;
        r = db_migrate(db, version, err);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(db);
        return 0;
}

int db_open(const char *path, struct db **ret, struct ferry_error *err)
{
        return db_open_at_version(path, db_schema_latest(), ret, err);
}

void db_close(struct db *db)
{
        if (!db)
                return;
        if (db->tx_depth > 0) {
                db->tx_depth = 1;
                db_rollback(db);
        }
        (void) sqlite3_close(db->conn);
        free(db->path);
        free(db);
}

int db_set_durable(struct db *db, bool durable, struct ferry_error *err)
{
        if (db->tx_depth > 0)
                return ferry_error_set(err, -EBUSY, "Cannot change durability inside a transaction");
        return db_exec(db, durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL", err);
}

int db_schema_version(struct db *db)
{
        return db->schema_version;
}
