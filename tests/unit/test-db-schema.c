/* SPDX-License-Identifier: Apache-2.0 */
/*
 * src/db/schema.c and the migration runner in db.c: new databases, the
 * upgrade from the first schema, and databases ferry must refuse.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "db-test.h"
#include "db/artifact.h"
#include "db/batch.h"
#include "db/certificate.h"
#include "db/db-internal.h"
#include "db/instance.h"
#include "db/network.h"
#include "db/queue.h"
#include "db/schema.h"
#include "db/source.h"
#include "db/target.h"
#include "db/warning.h"

/* "version applied_at" of every row of the table schema, one per line; free() it. */
static char *schema_rows(struct db *db)
{
        _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        struct ferry_error err = {};
        int r;

        assert_ok(db_prepare(db, "SELECT version, applied_at FROM schema ORDER BY version", &stmt, &err), &err);
        while ((r = db_step(db, stmt, &err)) > 0)
                assert_int_equal(strbuf_appendf(&sb, "%lld %s\n", sqlite3_column_int64(stmt, 0),
                                                db_column_text(stmt, 1)),
                                 0);
        assert_ok(r, &err);
        return strbuf_steal(&sb);
}

static void write_file(const char *path, const void *data, size_t size)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, size), (ssize_t) size);
        assert_int_equal(close(fd), 0);
}

static void test_migrations_are_numbered_from_one_without_gaps(_unused_ void **state)
{
        assert_true(db_schema_latest() >= 3);
        assert_null(db_schema_migration(0));
        assert_null(db_schema_migration(db_schema_latest() + 1));
        for (int v = 1; v <= db_schema_latest(); v++) {
                const struct db_migration *m = db_schema_migration(v);

                assert_non_null(m);
                assert_int_equal(m->version, v);
                assert_non_null(m->steps[0]);
        }
}

static void test_a_new_database_gets_every_migration_once(void **state)
{
        struct db_test *t = *state;
        _cleanup_free_ char *rows = NULL, *again = NULL;
        struct ferry_error err = {};
        int versions = 0;

        assert_int_equal(db_schema_version(t->db), db_schema_latest());
        rows = schema_rows(t->db);
        for (const char *line = rows; *line; line = strchr(line, '\n') + 1) {
                char applied_at[64];
                int64_t usec;
                int v;

                assert_int_equal(sscanf(line, "%d %63s", &v, applied_at), 2);
                assert_int_equal(v, ++versions);
                assert_int_equal(timestamp_parse_rfc3339(applied_at, &usec), 0);
        }
        assert_int_equal(versions, db_schema_latest());

        db_close(t->db);
        assert_ok(db_open(t->path, &t->db, &err), &err);
        again = schema_rows(t->db);
        assert_string_equal(again, rows);
}

/* Rows of every table of version 1, stored by the first schema. */
static void store_version_1_rows(struct db *db)
{
        _cleanup_free_ char *uuid = NULL;
        struct ferry_error err = {};

        db_test_add_queued_instance(db);
        {
                _cleanup_json_ json_t *network = sample_network("n-1", "vc01");

                assert_ok(db_network_put(db, network, &err), &err);
        }
        assert_ok(db_warning_raise(db, "sync", "source", "vc01", "Cannot connect", "Connection refused", &uuid, &err),
                  &err);
}

/* Everything version 1 holds, as the repositories return it. */
static json_t *version_1_contents(struct db *db)
{
        json_t *sources = NULL, *targets = NULL, *batches = NULL, *instances = NULL, *networks = NULL,
               *queue = NULL, *warnings = NULL, *all;
        struct ferry_error err = {};

        assert_ok(db_source_list(db, &sources, &err), &err);
        assert_ok(db_target_list(db, &targets, &err), &err);
        assert_ok(db_batch_list(db, &batches, &err), &err);
        assert_ok(db_instance_list(db, NULL, &instances, &err), &err);
        assert_ok(db_network_list(db, NULL, &networks, &err), &err);
        assert_ok(db_queue_list(db, NULL, &queue, &err), &err);
        assert_ok(db_warning_list(db, &warnings, &err), &err);
        all = json_pack("{sososososososo}", "sources", sources, "targets", targets, "batches", batches, "instances",
                        instances, "networks", networks, "queue", queue, "warnings", warnings);
        assert_non_null(all);
        return all;
}

static void test_upgrade_from_the_first_schema_keeps_rows_and_adds_tables(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *before = NULL, *after = NULL, *list = NULL, *artifact = NULL, *certificate = NULL;
        struct ferry_error err = {};

        assert_ok(db_open_at_version(t->path, 1, &t->db, &err), &err);
        assert_int_equal(db_schema_version(t->db), 1);
        assert_error(db_certificate_list(t->db, &list, &err), &err, -EIO,
                     "Database error: no such table: certificates");
        store_version_1_rows(t->db);
        before = version_1_contents(t->db);
        db_close(t->db);

        assert_ok(db_open(t->path, &t->db, &err), &err);
        assert_int_equal(db_schema_version(t->db), db_schema_latest());
        after = version_1_contents(t->db);
        assert_json_equal(after, before);
        assert_int_equal(json_array_size(json_object_get(after, "queue")), 1);

        /* Foreign keys still hold across the upgrade. */
        assert_error(db_source_delete(t->db, "vc01", &err), &err, -EBUSY, "Source 'vc01' is used by batch 'wave1'");

        /* The tables of versions 2 and 3 work. */
        certificate = json_from("{\"fingerprint\": \"ab12\", \"name\": \"admin\", \"certificate\": \"PEM\"}");
        assert_ok(db_certificate_add(t->db, certificate, &err), &err);
        assert_ok(db_trust_token_create(t->db, "laptop", "0123abcd", db_now_usec() + 3600 * 1000000LL, &err), &err);
        artifact = json_from("{\"name\": \"vddk\", \"type\": \"vddk\", \"description\": \"\", \"file\": null}");
        assert_ok(db_artifact_create(t->db, artifact, &err), &err);
}

static void test_a_database_newer_than_the_code_is_refused(void **state)
{
        struct db_test *t = *state;
        _cleanup_free_ char *sql = NULL, *message = NULL;
        struct ferry_error err = {};
        char newer[64];

        assert_ok(db_open(t->path, &t->db, &err), &err);
        (void) snprintf(newer, sizeof newer, "%d", db_schema_latest() + 1);
        sql = strjoin("INSERT INTO schema (version, applied_at) VALUES (", newer, ", '2030-01-01T00:00:00.000000Z')",
                      NULL);
        assert_ok(db_exec(t->db, sql, &err), &err);
        db_close(t->db);
        t->db = NULL;

        (void) snprintf(newer, sizeof newer, "%d, newer than this ferry (%d)", db_schema_latest() + 1,
                        db_schema_latest());
        message = strjoin("Database '", t->path, "' has schema version ", newer, ": upgrade ferry", NULL);
        assert_error(db_open(t->path, &t->db, &err), &err, -EPROTO, message);
        assert_null(t->db);
}

static void test_a_file_of_random_bytes_is_refused_clearly(void **state)
{
        struct db_test *t = *state;
        _cleanup_free_ char *message = NULL;
        struct ferry_error err = {};
        uint8_t noise[65536];
        uint32_t x = 2463534242u;

        /* xorshift32: the same "random" bytes every run. */
        for (size_t i = 0; i < sizeof noise; i++) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                noise[i] = (uint8_t) x;
        }
        write_file(t->path, noise, sizeof noise);

        message = strjoin("Database '", t->path, "' is not a SQLite database or is damaged: file is not a database",
                          NULL);
        assert_error(db_open(t->path, &t->db, &err), &err, -EIO, message);
        assert_null(t->db);
}

static void test_a_sqlite_database_of_another_program_is_refused(void **state)
{
        struct db_test *t = *state;
        _cleanup_free_ char *message = NULL;
        struct ferry_error err = {};
        sqlite3 *other = NULL;

        assert_int_equal(sqlite3_open(t->path, &other), SQLITE_OK);
        assert_int_equal(sqlite3_exec(other, "CREATE TABLE notes (text TEXT)", NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_close(other), SQLITE_OK);

        message = strjoin("Database '", t->path, "' is not a ferry database: it has tables but no schema version",
                          NULL);
        assert_error(db_open(t->path, &t->db, &err), &err, -EIO, message);
}

static void test_db_open_at_version_refuses_unknown_versions(void **state)
{
        struct db_test *t = *state;
        struct ferry_error err = {};

        assert_error(db_open_at_version(t->path, 0, &t->db, &err), &err, -EINVAL, "No schema version 0");
        assert_error(db_open_at_version(t->path, 1000, &t->db, &err), &err, -EINVAL, "No schema version 1000");
        assert_null(t->db);
}

static void test_processes_opening_a_new_database_together_all_succeed(void **state)
{
        struct db_test *t = *state;
        _cleanup_free_ char *rows = NULL;
        struct ferry_error err = {};
        pid_t pids[4];
        int lines = 0;

        for (size_t i = 0; i < ELEMENTSOF(pids); i++) {
                pids[i] = fork();
                assert_true(pids[i] >= 0);
                if (pids[i] == 0) {
                        struct db *db = NULL;

                        if (db_open(t->path, &db, &err) < 0) {
                                fprintf(stderr, "%s\n", err.message);
                                _exit(1);
                        }
                        db_close(db);
                        _exit(0);
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(pids); i++) {
                int status;

                assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
                assert_true(WIFEXITED(status));
                assert_int_equal(WEXITSTATUS(status), 0);
        }

        assert_ok(db_open(t->path, &t->db, &err), &err);
        rows = schema_rows(t->db);
        for (const char *c = rows; *c; c++)
                lines += *c == '\n';
        assert_int_equal(lines, db_schema_latest());
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_migrations_are_numbered_from_one_without_gaps),
                cmocka_unit_test_setup_teardown(test_a_new_database_gets_every_migration_once, db_test_setup,
                                                db_test_teardown),
#define UNOPENED(f) cmocka_unit_test_setup_teardown(f, db_test_setup_unopened, db_test_teardown)
                UNOPENED(test_upgrade_from_the_first_schema_keeps_rows_and_adds_tables),
                UNOPENED(test_a_database_newer_than_the_code_is_refused),
                UNOPENED(test_a_file_of_random_bytes_is_refused_clearly),
                UNOPENED(test_a_sqlite_database_of_another_program_is_refused),
                UNOPENED(test_db_open_at_version_refuses_unknown_versions),
                UNOPENED(test_processes_opening_a_new_database_together_all_succeed),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
