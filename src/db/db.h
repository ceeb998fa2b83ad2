/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferryd's state: one SQLite database (WAL, foreign keys on, synchronous
 * NORMAL, 5 s busy timeout) whose schema is brought up to date by ordered
 * migrations when it is opened.  The repositories (source.h, target.h,
 * instance.h, network.h, batch.h, queue.h, warning.h, artifact.h,
 * certificate.h) store and return objects in the JSON shape of
 * docs/rest-api.md, write-only secrets included: stripping them is the
 * API's job.
 *
 *     _cleanup_db_ struct db *db = NULL;
 *
 *     r = db_open("/var/lib/ferry/ferry.db", &db, &err);
 *     if (r < 0)
 *             return r;
 *     r = db_begin(db, &err);
 *     ...  several repository calls, each its own transaction or nested ...
 *     r = r < 0 ? (db_rollback(db), r) : db_commit(db, &err);
 *
 * A struct db is one connection: use it from one thread at a time; every
 * thread opens its own.  Every repository function that changes several
 * rows does so in one transaction, so a crash leaves either all or none.
 */
#ifndef FERRY_DB_DB_H
#define FERRY_DB_DB_H

#include <stdbool.h>

#include "common/error.h"
#include "common/macros.h"

struct db;

/*
 * Open (creating it with mode 0600 if needed) the database at path and
 * apply the pending migrations, each in its own transaction.  Errors:
 * -EPROTO "Database '<path>' has schema version 7, newer than this ferry
 * (3)", -EIO "Database '<path>' is not a SQLite database or is damaged: ..."
 * or "... is not a ferry database ...", and the errno of a file that cannot
 * be opened or created.
 */
int db_open(const char *path, struct db **ret, struct ferry_error *err);

/* Roll back an open transaction and close; NULL is fine. */
void db_close(struct db *db);
DEFINE_CLEANUP_FUNC(struct db, db_close);
#define _cleanup_db_ _cleanup_(db_close_p)

/* The schema version the database is at (the latest the code knows after db_open()). */
int db_schema_version(struct db *db);

/*
 * Commits survive a crash of the process in any case.  durable: also a
 * power cut (synchronous FULL: one fsync per commit, 1-3 ms here); not
 * durable (the default): a power cut may lose the last commits.  Not
 * inside a transaction (-EBUSY).
 */
int db_set_durable(struct db *db, bool durable, struct ferry_error *err);

/*
 * Transactions.  db_begin() starts one with BEGIN IMMEDIATE (so it waits
 * for the write lock up to the busy timeout, then fails with -EBUSY) or,
 * inside one, only counts; db_commit() commits when the outermost level
 * ends.  db_rollback() of an inner level marks the whole transaction
 * failed: it is rolled back when the outermost level ends, and that
 * db_commit() returns -ECANCELED "Transaction rolled back after an earlier
 * failure".  Pair every successful db_begin() with one db_commit() or one
 * db_rollback(); db_rollback() without a transaction does nothing.
 */
int db_begin(struct db *db, struct ferry_error *err);
int db_commit(struct db *db, struct ferry_error *err);
void db_rollback(struct db *db);

#endif
