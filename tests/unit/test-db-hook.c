/* SPDX-License-Identifier: Apache-2.0 */
/*
 * src/db/hook.c: event hooks and the record of their runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "common/json.h"
#include "db-test.h"
#include "db/hook.h"

static json_t *sample_hook(const char *name)
{
        json_t *h = json_from("{\"name\": \"x\", \"description\": \"\", \"events\": [\"batch-created\"],"
                              " \"script\": \"function on_event(e) end\", \"enabled\": true}");

        json_object_set_new(h, "name", json_string(name));
        return h;
}

static void test_a_hook_comes_back_as_stored_with_empty_runs(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *h = sample_hook("h1"), *got = NULL, *bare = NULL, *expected = NULL;
        struct ferry_error err = {};

        assert_ok(db_hook_create(t->db, h, &err), &err);
        assert_ok(db_hook_get(t->db, "h1", &got, &err), &err);
        bare = json_without_timestamps(got);
        expected = json_deep_copy(h);
        json_object_set_new(expected, "runs", json_object());
        assert_json_equal(bare, expected);
}

static void test_runs_are_kept_newest_first_and_capped(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *h = sample_hook("h1"), *got = NULL;
        struct ferry_error err = {};
        const json_t *last;

        assert_ok(db_hook_create(t->db, h, &err), &err);
        for (int i = 0; i < DB_HOOK_RUNS_KEPT + 3; i++) {
                _cleanup_json_ json_t *run = json_pack("{s:i}", "n", i);

                assert_ok(db_hook_record_run(t->db, "h1", run, &err), &err);
        }
        assert_ok(db_hook_get(t->db, "h1", &got, &err), &err);
        last = json_object_get(json_object_get(got, "runs"), "last");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(got, "runs"), "count")),
                         DB_HOOK_RUNS_KEPT + 3);
        assert_int_equal(json_array_size(last), DB_HOOK_RUNS_KEPT);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(last, 0), "n")), DB_HOOK_RUNS_KEPT + 2);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(last, DB_HOOK_RUNS_KEPT - 1), "n")), 3);
}

static void test_an_update_keeps_the_runs(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *h = sample_hook("h1"), *run = json_pack("{s:s}", "status", "Success"), *got = NULL;
        struct ferry_error err = {};

        assert_ok(db_hook_create(t->db, h, &err), &err);
        assert_ok(db_hook_record_run(t->db, "h1", run, &err), &err);
        json_object_set_new(h, "description", json_string("changed"));
        json_object_set_new(h, "runs", json_object());
        assert_ok(db_hook_update(t->db, "h1", h, &err), &err);
        assert_ok(db_hook_get(t->db, "h1", &got, &err), &err);
        assert_string_equal(string_at(got, "description"), "changed");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(got, "runs"), "count")), 1);
}

static void test_recording_a_run_of_a_missing_hook_fails(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *run = json_object();
        struct ferry_error err = {};

        assert_error(db_hook_record_run(t->db, "nope", run, &err), &err, -ENOENT, "Hook 'nope' not found");
}

static void test_hooks_are_deleted_by_name(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *h = sample_hook("h1"), *got = NULL;
        struct ferry_error err = {};

        assert_ok(db_hook_create(t->db, h, &err), &err);
        assert_error(db_hook_create(t->db, h, &err), &err, -EEXIST, "Hook 'h1' already exists");
        assert_ok(db_hook_delete(t->db, "h1", &err), &err);
        assert_error(db_hook_get(t->db, "h1", &got, &err), &err, -ENOENT, "Hook 'h1' not found");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_a_hook_comes_back_as_stored_with_empty_runs, db_test_setup,
                                                db_test_teardown),
                cmocka_unit_test_setup_teardown(test_runs_are_kept_newest_first_and_capped, db_test_setup,
                                                db_test_teardown),
                cmocka_unit_test_setup_teardown(test_an_update_keeps_the_runs, db_test_setup, db_test_teardown),
                cmocka_unit_test_setup_teardown(test_recording_a_run_of_a_missing_hook_fails, db_test_setup,
                                                db_test_teardown),
                cmocka_unit_test_setup_teardown(test_hooks_are_deleted_by_name, db_test_setup, db_test_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
