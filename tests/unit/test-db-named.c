/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The repositories of named objects, each test run over all four: sources,
 * targets, batches and artifacts (src/db/object.c through source.c,
 * target.c, batch.c, artifact.c).
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
#include "db/batch.h"
#include "db/source.h"
#include "db/target.h"

struct named {
        const char *what;      /* as messages start */
        const char *column;    /* a field with its own column, besides name */
        const char *optional;  /* a field the sample has and may lack */
        json_t *(*sample)(const char *name);
        int (*create)(struct db *db, const json_t *obj, struct ferry_error *err);
        int (*get)(struct db *db, const char *name, json_t **ret, struct ferry_error *err);
        int (*list)(struct db *db, json_t **ret, struct ferry_error *err);
        int (*update)(struct db *db, const char *name, const json_t *obj, struct ferry_error *err);
        int (*delete)(struct db *db, const char *name, struct ferry_error *err);
};

static json_t *sample_artifact(const char *name)
{
        json_t *v = json_from("{\"type\": \"vddk\", \"description\": \"VDDK 8.0.2\","
                              " \"file\": {\"size\": 1048576, \"sha256\": \"9f86d081884c7d65\","
                              "          \"uploaded_at\": \"2026-11-24T10:00:00.000000Z\"}}");

        assert_int_equal(json_object_set_new(v, "name", json_string(name)), 0);
        return v;
}

static const struct named named[] = {
        { "Source", "type", "properties", sample_source, db_source_create, db_source_get, db_source_list, db_source_update,
          db_source_delete },
        { "Target", "type", "inventory", sample_target, db_target_create, db_target_get, db_target_list, db_target_update,
          db_target_delete },
        { "Batch", "status", "migration_windows", sample_batch, db_batch_create, db_batch_get, db_batch_list, db_batch_update, db_batch_delete },
        { "Artifact", "type", "description", sample_artifact, db_artifact_create, db_artifact_get, db_artifact_list, db_artifact_update,
          db_artifact_delete },
};

/* "<What> '<name>' <rest>"; free() it. */
static char *message(const struct named *n, const char *name, const char *rest)
{
        char *m = strjoin(n->what, " '", name, "' ", rest, NULL);

        assert_non_null(m);
        return m;
}

static void create(struct db *db, const struct named *n, const char *name)
{
        _cleanup_json_ json_t *obj = n->sample(name);
        struct ferry_error err = {};

        assert_ok(n->create(db, obj, &err), &err);
}

static json_t *get(struct db *db, const struct named *n, const char *name)
{
        struct ferry_error err = {};
        json_t *obj = NULL;

        assert_ok(n->get(db, name, &obj, &err), &err);
        return obj;
}

static void assert_missing(struct db *db, const struct named *n, const char *name)
{
        _cleanup_free_ char *m = message(n, name, "not found");
        struct ferry_error err = {};
        json_t *obj = NULL;

        assert_error(n->get(db, name, &obj, &err), &err, -ENOENT, m);
        assert_null(obj);
}

static void test_create_then_get_returns_the_object_with_its_timestamps(void **state)
{
        struct db_test *t = *state;

        for (size_t i = 0; i < ELEMENTSOF(named); i++) {
                _cleanup_json_ json_t *obj = named[i].sample("one"), *stored = NULL, *bare = NULL;
                int64_t created;

                print_message("%s\n", named[i].what);
                create(t->db, &named[i], "one");
                stored = get(t->db, &named[i], "one");
                bare = json_without_timestamps(stored);
                assert_json_equal(bare, obj);
                assert_int_equal(timestamp_parse_rfc3339(string_at(stored, "created_at"), &created), 0);
                assert_string_equal(string_at(stored, "updated_at"), string_at(stored, "created_at"));
        }
}

static void test_write_only_secrets_are_stored_and_returned(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *source = NULL, *target = NULL;

        create(t->db, &named[0], "vc01");
        create(t->db, &named[1], "incus1");
        source = get(t->db, &named[0], "vc01");
        target = get(t->db, &named[1], "incus1");
        assert_string_equal(string_at(json_object_get(source, "properties"), "password"), "s3cret");
        assert_string_equal(string_at(json_object_get(target, "properties"), "trust_token"), "token-secret");
}

static void test_list_returns_whole_objects_ordered_by_name(void **state)
{
        struct db_test *t = *state;

        for (size_t i = 0; i < ELEMENTSOF(named); i++) {
                static const char *const names[] = { "b", "c", "a" };
                _cleanup_json_ json_t *list = NULL;
                struct ferry_error err = {};

                print_message("%s\n", named[i].what);
                for (size_t j = 0; j < ELEMENTSOF(names); j++)
                        create(t->db, &named[i], names[j]);
                assert_ok(named[i].list(t->db, &list, &err), &err);
                assert_int_equal(json_array_size(list), 3);
                for (size_t j = 0; j < 3; j++) {
                        _cleanup_json_ json_t *stored = get(t->db, &named[i], names[(j + 2) % 3]);

                        assert_json_equal(json_array_get(list, j), stored);
                }
        }
}

static void test_list_of_nothing_is_an_empty_array(void **state)
{
        struct db_test *t = *state;

        for (size_t i = 0; i < ELEMENTSOF(named); i++) {
                _cleanup_json_ json_t *list = NULL;
                struct ferry_error err = {};

                assert_ok(named[i].list(t->db, &list, &err), &err);
                assert_true(json_is_array(list));
                assert_int_equal(json_array_size(list), 0);
        }
}

static void test_update_replaces_the_object_and_keeps_created_at(void **state)
{
        struct db_test *t = *state;

        for (size_t i = 0; i < ELEMENTSOF(named); i++) {
                _cleanup_json_ json_t *before = NULL, *changed = NULL, *after = NULL, *bare = NULL;
                struct ferry_error err = {};

                print_message("%s\n", named[i].what);
                create(t->db, &named[i], "one");
                before = get(t->db, &named[i], "one");
                changed = named[i].sample("one");
                assert_int_equal(json_object_set_new(changed, "comment", json_string("edited")), 0);
                assert_int_equal(json_object_set_new(changed, named[i].column, json_string("changed")), 0);
                assert_int_equal(json_object_del(changed, named[i].optional), 0);

                assert_ok(named[i].update(t->db, "one", changed, &err), &err);
                after = get(t->db, &named[i], "one");
                bare = json_without_timestamps(after);
                assert_json_equal(bare, changed);
                assert_string_equal(string_at(after, "created_at"), string_at(before, "created_at"));
                assert_true(strcmp(string_at(after, "updated_at"), string_at(before, "updated_at")) >= 0);
        }
}

static void test_update_with_another_name_renames(void **state)
{
        struct db_test *t = *state;

        for (size_t i = 0; i < ELEMENTSOF(named); i++) {
                _cleanup_json_ json_t *before = NULL, *renamed = named[i].sample("two"), *after = NULL;
                struct ferry_error err = {};

                print_message("%s\n", named[i].what);
                create(t->db, &named[i], "one");
                before = get(t->db, &named[i], "one");
                assert_ok(named[i].update(t->db, "one", renamed, &err), &err);
                assert_missing(t->db, &named[i], "one");
                after = get(t->db, &named[i], "two");
                assert_string_equal(string_at(after, "created_at"), string_at(before, "created_at"));
        }
}

static void test_renaming_onto_an_existing_name_is_refused(void **state)
{
        struct db_test *t = *state;

        for (size_t i = 0; i < ELEMENTSOF(named); i++) {
                _cleanup_json_ json_t *renamed = named[i].sample("two"), *before = NULL, *after = NULL;
                _cleanup_free_ char *m = message(&named[i], "two", "already exists");
                struct ferry_error err = {};

                create(t->db, &named[i], "one");
                create(t->db, &named[i], "two");
                before = get(t->db, &named[i], "one");
                assert_error(named[i].update(t->db, "one", renamed, &err), &err, -EEXIST, m);
                after = get(t->db, &named[i], "one");
                assert_json_equal(after, before);
        }
}

static void test_update_of_a_missing_object_is_not_found(void **state)
{
        struct db_test *t = *state;

        for (size_t i = 0; i < ELEMENTSOF(named); i++) {
                _cleanup_json_ json_t *obj = named[i].sample("ghost");
                _cleanup_free_ char *m = message(&named[i], "ghost", "not found");
                struct ferry_error err = {};

                assert_error(named[i].update(t->db, "ghost", obj, &err), &err, -ENOENT, m);
                assert_missing(t->db, &named[i], "ghost");
        }
}

static void test_creating_a_name_twice_is_refused(void **state)
{
        struct db_test *t = *state;

        for (size_t i = 0; i < ELEMENTSOF(named); i++) {
                _cleanup_json_ json_t *obj = named[i].sample("one"), *before = NULL, *after = NULL;
                _cleanup_free_ char *m = message(&named[i], "one", "already exists");
                struct ferry_error err = {};

                create(t->db, &named[i], "one");
                before = get(t->db, &named[i], "one");
                assert_int_equal(json_object_set_new(obj, "comment", json_string("second")), 0);
                assert_error(named[i].create(t->db, obj, &err), &err, -EEXIST, m);
                after = get(t->db, &named[i], "one");
                assert_json_equal(after, before);
        }
}

static void test_get_of_a_missing_name_is_not_found(void **state)
{
        struct db_test *t = *state;

        for (size_t i = 0; i < ELEMENTSOF(named); i++)
                assert_missing(t->db, &named[i], "ghost");
}

static void test_delete_removes_the_object_once(void **state)
{
        struct db_test *t = *state;

        for (size_t i = 0; i < ELEMENTSOF(named); i++) {
                _cleanup_free_ char *m = message(&named[i], "one", "not found");
                _cleanup_json_ json_t *list = NULL;
                struct ferry_error err = {};

                create(t->db, &named[i], "one");
                create(t->db, &named[i], "two");
                assert_ok(named[i].delete(t->db, "one", &err), &err);
                assert_missing(t->db, &named[i], "one");
                assert_error(named[i].delete(t->db, "one", &err), &err, -ENOENT, m);
                assert_ok(named[i].list(t->db, &list, &err), &err);
                assert_int_equal(json_array_size(list), 1);
        }
}

static void test_objects_without_a_valid_name_are_refused(void **state)
{
        struct db_test *t = *state;

        for (size_t i = 0; i < ELEMENTSOF(named); i++) {
                _cleanup_json_ json_t *nameless = named[i].sample("x"), *numbered = named[i].sample("x"),
                                      *array = json_array();
                _cleanup_free_ char *not_object = strjoin(named[i].what, " must be a JSON object", NULL);
                _cleanup_json_ json_t *list = NULL;
                struct ferry_error err = {};

                assert_int_equal(json_object_del(nameless, "name"), 0);
                assert_int_equal(json_object_set_new(numbered, "name", json_integer(7)), 0);
                assert_error(named[i].create(t->db, nameless, &err), &err, -EINVAL, "Missing required field 'name'");
                assert_error(named[i].create(t->db, numbered, &err), &err, -EINVAL, "Field 'name' must be a string");
                assert_error(named[i].create(t->db, array, &err), &err, -EINVAL, not_object);
                assert_ok(named[i].list(t->db, &list, &err), &err);
                assert_int_equal(json_array_size(list), 0);
        }
}

static void test_timestamps_in_the_input_are_ignored(void **state)
{
        struct db_test *t = *state;

        for (size_t i = 0; i < ELEMENTSOF(named); i++) {
                _cleanup_json_ json_t *obj = named[i].sample("one"), *stored = NULL;
                struct ferry_error err = {};

                assert_int_equal(json_object_set_new(obj, "created_at", json_string("2000-01-01T00:00:00Z")), 0);
                assert_int_equal(json_object_set_new(obj, "updated_at", json_string("2000-01-01T00:00:00Z")), 0);
                assert_ok(named[i].create(t->db, obj, &err), &err);
                stored = get(t->db, &named[i], "one");
                assert_true(strcmp(string_at(stored, "created_at"), "2020") > 0);
                assert_true(strcmp(string_at(stored, "updated_at"), "2020") > 0);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define DB_TEST(f) cmocka_unit_test_setup_teardown(f, db_test_setup, db_test_teardown)
                DB_TEST(test_create_then_get_returns_the_object_with_its_timestamps),
                DB_TEST(test_write_only_secrets_are_stored_and_returned),
                DB_TEST(test_list_returns_whole_objects_ordered_by_name),
                DB_TEST(test_list_of_nothing_is_an_empty_array),
                DB_TEST(test_update_replaces_the_object_and_keeps_created_at),
                DB_TEST(test_update_with_another_name_renames),
                DB_TEST(test_renaming_onto_an_existing_name_is_refused),
                DB_TEST(test_update_of_a_missing_object_is_not_found),
                DB_TEST(test_creating_a_name_twice_is_refused),
                DB_TEST(test_get_of_a_missing_name_is_not_found),
                DB_TEST(test_delete_removes_the_object_once),
                DB_TEST(test_objects_without_a_valid_name_are_refused),
                DB_TEST(test_timestamps_in_the_input_are_ignored),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
