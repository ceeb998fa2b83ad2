/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Artifacts' file record (src/db/artifact.c): nested fields kept in their
 * own columns.  The rest of the artifact repository is in test-db-named.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/duration.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "db-test.h"
#include "db/artifact.h"
#include "db/db-internal.h"

#define SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void create(struct db *db, const char *json)
{
        _cleanup_json_ json_t *artifact = json_from(json);
        struct ferry_error err = {};

        assert_ok(db_artifact_create(db, artifact, &err), &err);
}

static json_t *get(struct db *db, const char *name)
{
        struct ferry_error err = {};
        json_t *artifact = NULL;

        assert_ok(db_artifact_get(db, name, &artifact, &err), &err);
        return artifact;
}

/* "size sha256 uploaded_at" from the file columns, "NULL" for each SQL NULL; free() it. */
static char *file_columns(struct db *db, const char *name)
{
        _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
        struct ferry_error err = {};
        const char *v[3];
        char *text;

        assert_ok(db_prepare(db, "SELECT file_size, file_sha256, file_uploaded_at FROM artifacts WHERE name = ?",
                             &stmt, &err),
                  &err);
        assert_ok(db_bind_text(db, stmt, 1, name, &err), &err);
        assert_int_equal(db_step(db, stmt, &err), 1);
        for (int i = 0; i < 3; i++)
                v[i] = sqlite3_column_type(stmt, i) == SQLITE_NULL ? "NULL" : db_column_text(stmt, i);
        text = strjoin(v[0], " ", v[1], " ", v[2], NULL);
        assert_non_null(text);
        return text;
}

static void test_an_artifact_before_upload_has_a_null_file(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *stored = NULL;
        _cleanup_free_ char *columns = NULL;

        create(t->db, "{\"name\": \"vddk\", \"type\": \"vddk\", \"description\": \"\", \"file\": null}");
        stored = get(t->db, "vddk");
        assert_true(json_is_null(json_object_get(stored, "file")));
        columns = file_columns(t->db, "vddk");
        assert_string_equal(columns, "NULL NULL NULL");
}

static void test_set_file_records_size_checksum_and_upload_time(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *stored = NULL;
        _cleanup_free_ char *columns = NULL, *expected = NULL;
        struct ferry_error err = {};
        const char *uploaded_at;
        json_t *file;
        int64_t usec;

        create(t->db, "{\"name\": \"vddk\", \"type\": \"vddk\", \"description\": \"VDDK\", \"file\": null}");
        assert_ok(db_artifact_set_file(t->db, "vddk", 52428800, SHA256, &err), &err);
        stored = get(t->db, "vddk");
        file = json_object_get(stored, "file");
        assert_int_equal(json_integer_value(json_object_get(file, "size")), 52428800);
        assert_string_equal(json_string_value(json_object_get(file, "sha256")), SHA256);
        uploaded_at = json_string_value(json_object_get(file, "uploaded_at"));
        assert_int_equal(timestamp_parse_rfc3339(uploaded_at, &usec), 0);
        assert_int_equal(json_object_size(file), 3);
        assert_string_equal(json_string_value(json_object_get(stored, "description")), "VDDK");

        columns = file_columns(t->db, "vddk");
        expected = strjoin("52428800 " SHA256 " ", uploaded_at, NULL);
        assert_string_equal(columns, expected);
}

static void test_set_file_without_checksum_forgets_the_file(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *stored = NULL;
        _cleanup_free_ char *columns = NULL;
        struct ferry_error err = {};

        create(t->db, "{\"name\": \"iso\", \"type\": \"virtio-win\"}");
        assert_ok(db_artifact_set_file(t->db, "iso", 10, SHA256, &err), &err);
        assert_ok(db_artifact_set_file(t->db, "iso", 0, NULL, &err), &err);
        stored = get(t->db, "iso");
        assert_true(json_is_null(json_object_get(stored, "file")));
        columns = file_columns(t->db, "iso");
        assert_string_equal(columns, "NULL NULL NULL");
}

static void test_set_file_of_a_missing_artifact_is_not_found(void **state)
{
        struct db_test *t = *state;
        struct ferry_error err = {};

        assert_error(db_artifact_set_file(t->db, "ghost", 1, SHA256, &err), &err, -ENOENT,
                     "Artifact 'ghost' not found");
        assert_error(db_artifact_set_file(t->db, "ghost", -1, SHA256, &err), &err, -EINVAL,
                     "File size must not be negative");
}

static void test_mistyped_file_fields_are_refused(void **state)
{
        struct db_test *t = *state;
        static const struct {
                const char *json, *message;
        } cases[] = {
                { "{\"name\": \"a\", \"type\": \"other\", \"file\": {\"size\": \"big\"}}",
                  "Field 'file.size' must be an integer" },
                { "{\"name\": \"a\", \"type\": \"other\", \"file\": {\"sha256\": 5}}",
                  "Field 'file.sha256' must be a string" },
                { "{\"name\": \"a\", \"type\": \"other\", \"file\": \"x\"}", "Field 'file' must be an object" },
                { "{\"name\": \"a\"}", "Missing required field 'type'" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_json_ json_t *artifact = json_from(cases[i].json), *list = NULL;
                struct ferry_error err = {};

                assert_error(db_artifact_create(t->db, artifact, &err), &err, -EINVAL, cases[i].message);
                assert_ok(db_artifact_list(t->db, &list, &err), &err);
                assert_int_equal(json_array_size(list), 0);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define DB_TEST(f) cmocka_unit_test_setup_teardown(f, db_test_setup, db_test_teardown)
                DB_TEST(test_an_artifact_before_upload_has_a_null_file),
                DB_TEST(test_set_file_records_size_checksum_and_upload_time),
                DB_TEST(test_set_file_without_checksum_forgets_the_file),
                DB_TEST(test_set_file_of_a_missing_artifact_is_not_found),
                DB_TEST(test_mistyped_file_fields_are_refused),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
