/* SPDX-License-Identifier: Apache-2.0 */
/*
 * src/db/db.c: opening, connection settings, transactions, error
 * translation and timestamps.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "db-test.h"
#include "db/db-internal.h"
#include "db/source.h"

/* The first column of the one row sql returns, as text; free() it. */
static char *query_text(struct db *db, const char *sql)
{
        _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
        struct ferry_error err = {};
        char *text;

        assert_ok(db_prepare(db, sql, &stmt, &err), &err);
        assert_int_equal(db_step(db, stmt, &err), 1);
        text = strdup(db_column_text(stmt, 0));
        assert_non_null(text);
        return text;
}

static int count_sources(struct db *db)
{
        _cleanup_json_ json_t *list = NULL;
        struct ferry_error err = {};

        assert_ok(db_source_list(db, &list, &err), &err);
        return (int) json_array_size(list);
}

static void create_source(struct db *db, const char *name)
{
        _cleanup_json_ json_t *source = sample_source(name);
        struct ferry_error err = {};

        assert_ok(db_source_create(db, source, &err), &err);
}

static void assert_mode_0600(const char *path, const char *suffix)
{
        _cleanup_free_ char *file = strjoin(path, suffix, NULL);
        struct stat st;

        assert_non_null(file);
        assert_int_equal(stat(file, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_db_open_creates_files_only_their_owner_can_read(void **state)
{
        struct db_test *t = *state;

        create_source(t->db, "vc01");
        assert_mode_0600(t->path, "");
        assert_mode_0600(t->path, "-wal");
        assert_mode_0600(t->path, "-shm");
}

static void test_db_open_sets_wal_normal_sync_foreign_keys_and_busy_timeout(void **state)
{
        struct db_test *t = *state;
        static const struct {
                const char *pragma, *value;
        } cases[] = {
                { "PRAGMA journal_mode", "wal" },
                { "PRAGMA synchronous", "1" },  /* NORMAL */
                { "PRAGMA foreign_keys", "1" },
                { "PRAGMA busy_timeout", "5000" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *value = query_text(t->db, cases[i].pragma);

                print_message("%s\n", cases[i].pragma);
                assert_string_equal(value, cases[i].value);
        }
}

static void test_a_durable_connection_syncs_every_commit(void **state)
{
        struct db_test *t = *state;
        _cleanup_free_ char *full = NULL, *normal = NULL;
        struct ferry_error err = {};

        assert_ok(db_set_durable(t->db, true, &err), &err);
        full = query_text(t->db, "PRAGMA synchronous");
        assert_string_equal(full, "2");
        assert_ok(db_set_durable(t->db, false, &err), &err);
        normal = query_text(t->db, "PRAGMA synchronous");
        assert_string_equal(normal, "1");

        assert_ok(db_begin(t->db, &err), &err);
        assert_error(db_set_durable(t->db, true, &err), &err, -EBUSY, "Cannot change durability inside a transaction");
        assert_ok(db_commit(t->db, &err), &err);
}

static void test_db_open_names_a_path_it_cannot_create(_unused_ void **state)
{
        struct db *db = (struct db *) 0x1;
        struct ferry_error err = {};

        assert_error(db_open("/nonexistent-ferry-dir/ferry.db", &db, &err), &err, -ENOENT,
                     "Cannot open database '/nonexistent-ferry-dir/ferry.db': No such file or directory");
        assert_ptr_equal(db, (struct db *) 0x1);
}

static void test_db_open_refuses_an_empty_path(_unused_ void **state)
{
        struct db *db = NULL;
        struct ferry_error err = {};

        assert_error(db_open("", &db, &err), &err, -EINVAL, "No database path");
}

static void test_db_close_accepts_null(_unused_ void **state)
{
        db_close(NULL);
}

static void test_nested_commit_shows_nothing_until_the_outermost_commits(void **state)
{
        struct db_test *t = *state;
        _cleanup_db_ struct db *reader = NULL;
        struct ferry_error err = {};

        assert_ok(db_open(t->path, &reader, &err), &err);
        assert_ok(db_begin(t->db, &err), &err);
        assert_ok(db_begin(t->db, &err), &err);
        create_source(t->db, "vc01");
        assert_ok(db_commit(t->db, &err), &err);
        assert_int_equal(count_sources(reader), 0);
        assert_ok(db_commit(t->db, &err), &err);
        assert_int_equal(count_sources(reader), 1);
}

static void test_outer_rollback_discards_what_inner_levels_committed(void **state)
{
        struct db_test *t = *state;
        struct ferry_error err = {};

        assert_ok(db_begin(t->db, &err), &err);
        create_source(t->db, "vc01");      /* its own level inside ours */
        create_source(t->db, "vc02");
        db_rollback(t->db);
        assert_int_equal(count_sources(t->db), 0);
}

static void test_inner_rollback_makes_the_outer_commit_fail(void **state)
{
        struct db_test *t = *state;
        struct ferry_error err = {};

        assert_ok(db_begin(t->db, &err), &err);
        create_source(t->db, "vc01");
        assert_ok(db_begin(t->db, &err), &err);
        db_rollback(t->db);
        assert_error(db_commit(t->db, &err), &err, -ECANCELED, "Transaction rolled back after an earlier failure");
        assert_int_equal(count_sources(t->db), 0);

        /* The connection is usable again. */
        create_source(t->db, "vc02");
        assert_int_equal(count_sources(t->db), 1);
}

static void test_a_failed_repository_call_spoils_the_enclosing_transaction(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *source = sample_source("vc01");
        struct ferry_error err = {};

        assert_ok(db_begin(t->db, &err), &err);
        assert_ok(db_source_create(t->db, source, &err), &err);
        assert_error(db_source_create(t->db, source, &err), &err, -EEXIST, "Source 'vc01' already exists");
        assert_error(db_commit(t->db, &err), &err, -ECANCELED, "Transaction rolled back after an earlier failure");
        assert_int_equal(count_sources(t->db), 0);
}

static void test_commit_without_begin_is_refused(void **state)
{
        struct db_test *t = *state;
        struct ferry_error err = {};

        assert_error(db_commit(t->db, &err), &err, -EINVAL, "No transaction to commit");
        db_rollback(t->db); /* nothing to roll back: no effect */
}

static void test_a_second_writer_gets_ebusy_after_the_busy_timeout(void **state)
{
        struct db_test *t = *state;
        _cleanup_free_ char *message = NULL;
        _cleanup_db_ struct db *other = NULL;
        struct ferry_error err = {};

        assert_ok(db_open(t->path, &other, &err), &err);
        assert_int_equal(sqlite3_busy_timeout(other->conn, 50), SQLITE_OK);
        assert_ok(db_begin(t->db, &err), &err);
        message = strjoin("Database '", t->path, "' is busy: database is locked", NULL);
        assert_error(db_begin(other, &err), &err, -EBUSY, message);
        assert_ok(db_commit(t->db, &err), &err);
        assert_ok(db_begin(other, &err), &err);
        assert_ok(db_commit(other, &err), &err);
}

static void test_db_close_rolls_back_an_open_transaction(void **state)
{
        struct db_test *t = *state;
        struct ferry_error err = {};

        assert_ok(db_begin(t->db, &err), &err);
        create_source(t->db, "vc01");
        db_close(t->db);
        t->db = NULL;
        assert_ok(db_open(t->path, &t->db, &err), &err);
        assert_int_equal(count_sources(t->db), 0);
}

static void test_db_timestamp_always_writes_six_fraction_digits(_unused_ void **state)
{
        static const struct {
                int64_t usec;
                const char *text;
        } cases[] = {
                { 0, "1970-01-01T00:00:00.000000Z" },
                { 1500000, "1970-01-01T00:00:01.500000Z" },
                { -1, "1969-12-31T23:59:59.999999Z" },
                { INT64_C(1795514400123456), "2026-11-24T10:00:00.123456Z" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char text[DB_TIMESTAMP_SIZE];

                assert_int_equal(db_timestamp(cases[i].usec, text), 0);
                assert_string_equal(text, cases[i].text);
        }
}

static void test_db_timestamp_text_order_is_time_order(_unused_ void **state)
{
        static const int64_t usecs[] = { 999999, 1000000, 1000001, 1500000, 10000000, 60000000 };

        for (size_t i = 1; i < ELEMENTSOF(usecs); i++) {
                char a[DB_TIMESTAMP_SIZE], b[DB_TIMESTAMP_SIZE];

                assert_int_equal(db_timestamp(usecs[i - 1], a), 0);
                assert_int_equal(db_timestamp(usecs[i], b), 0);
                assert_true(strcmp(a, b) < 0);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define DB_TEST(f) cmocka_unit_test_setup_teardown(f, db_test_setup, db_test_teardown)
                DB_TEST(test_db_open_creates_files_only_their_owner_can_read),
                DB_TEST(test_db_open_sets_wal_normal_sync_foreign_keys_and_busy_timeout),
                DB_TEST(test_a_durable_connection_syncs_every_commit),
                cmocka_unit_test(test_db_open_names_a_path_it_cannot_create),
                cmocka_unit_test(test_db_open_refuses_an_empty_path),
                cmocka_unit_test(test_db_close_accepts_null),
                DB_TEST(test_nested_commit_shows_nothing_until_the_outermost_commits),
                DB_TEST(test_outer_rollback_discards_what_inner_levels_committed),
                DB_TEST(test_inner_rollback_makes_the_outer_commit_fail),
                DB_TEST(test_a_failed_repository_call_spoils_the_enclosing_transaction),
                DB_TEST(test_commit_without_begin_is_refused),
                DB_TEST(test_a_second_writer_gets_ebusy_after_the_busy_timeout),
                DB_TEST(test_db_close_rolls_back_an_open_transaction),
                cmocka_unit_test(test_db_timestamp_always_writes_six_fraction_digits),
                cmocka_unit_test(test_db_timestamp_text_order_is_time_order),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
