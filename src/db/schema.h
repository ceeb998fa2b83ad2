/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The database schema as an ordered list of migrations.  Migration N brings
 * a database from version N-1 to N; db_open() applies the missing ones, each
 * in one transaction together with its row in the table `schema`.  Never
 * edit a migration that has shipped: add the next one.
 *
 * The SQL stays plain (no PRAGMA user_version, no SQLite-only functions) so
 * that the same schema can run on dqlite.
 */
#ifndef FERRY_DB_SCHEMA_H
#define FERRY_DB_SCHEMA_H

struct db_migration {
        int version;
        const char *description;
        const char *const *steps;  /* SQL statements, NULL-terminated */
};

/* The version this code brings databases to. */
int db_schema_latest(void);

/* Migration to version (1..db_schema_latest()), or NULL. */
const struct db_migration *db_schema_migration(int version);

#endif
