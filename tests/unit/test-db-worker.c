/* SPDX-License-Identifier: Apache-2.0 */
/* src/db/worker.c: worker secrets and the command queue of a queue entry. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/json.h"
#include "db-test.h"
#include "db/queue.h"
#include "db/worker.h"

#define HASH_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HASH_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define FINALIZE "{\"command\": \"finalize\", \"disks\": [{\"name\": \"disk0\", \"sink\": \"/dev/sdb\"}]}"

static int setup(void **state)
{
        struct db_test *t;
        int r = db_test_setup(state);

        if (r < 0)
                return r;
        t = *state;
        db_test_add_queued_instance(t->db);
        return 0;
}

static int64_t add(struct db *db, const char *text)
{
        _cleanup_json_ json_t *c = json_from(text);
        struct ferry_error err = {};
        int64_t id = 0;

        assert_ok(db_worker_command_add(db, "i-1", c, &id, &err), &err);
        return id;
}

static void test_a_secret_matches_only_its_own_hash_and_entry(void **state)
{
        struct db_test *t = *state;
        struct ferry_error err = {};

        assert_int_equal(db_worker_secret_check(t->db, "i-1", HASH_A, &err), 0);
        assert_ok(db_worker_secret_set(t->db, "i-1", HASH_A, &err), &err);
        assert_int_equal(db_worker_secret_check(t->db, "i-1", HASH_A, &err), 1);
        assert_int_equal(db_worker_secret_check(t->db, "i-1", HASH_B, &err), 0);
        assert_int_equal(db_worker_secret_check(t->db, "i-2", HASH_A, &err), 0);
        assert_int_equal(db_worker_secret_check(t->db, "", HASH_A, &err), 0);
        assert_int_equal(db_worker_secret_check(t->db, "i-1", NULL, &err), 0);
}

static void test_a_new_secret_replaces_the_old_one(void **state)
{
        struct db_test *t = *state;
        struct ferry_error err = {};

        assert_ok(db_worker_secret_set(t->db, "i-1", HASH_A, &err), &err);
        assert_ok(db_worker_secret_set(t->db, "i-1", HASH_B, &err), &err);
        assert_int_equal(db_worker_secret_check(t->db, "i-1", HASH_A, &err), 0);
        assert_int_equal(db_worker_secret_check(t->db, "i-1", HASH_B, &err), 1);
}

static void test_a_secret_needs_an_entry_and_a_hash(void **state)
{
        struct db_test *t = *state;
        struct ferry_error err = {};

        assert_error(db_worker_secret_set(t->db, "i-2", HASH_A, &err), &err, -ENOENT, "Queue entry 'i-2' not found");
        assert_error(db_worker_secret_set(t->db, "i-1", "secret", &err), &err, -EINVAL,
                     "A worker secret is stored as its hex SHA-256");
}

static void test_commands_come_in_order_and_the_running_one_again(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *c1 = NULL, *again = NULL, *c2 = NULL, *none = NULL;
        struct ferry_error err = {};
        int64_t first, second;

        first = add(t->db, FINALIZE);
        second = add(t->db, "{\"command\": \"finalize\", \"sha256\": true, \"disks\": []}");
        assert_true(second > first);

        assert_ok(db_worker_command_next(t->db, "i-1", &c1, &err), &err);
        assert_int_equal(json_integer_value(json_object_get(c1, "id")), first);
        assert_string_equal(string_at(c1, "command"), "finalize");
        /* A worker that asks again (it restarted) gets the same one. */
        assert_ok(db_worker_command_next(t->db, "i-1", &again, &err), &err);
        assert_json_equal(again, c1);

        assert_int_equal(db_worker_command_set_status(t->db, "i-1", first, "done", NULL, NULL, &err), 1);
        assert_ok(db_worker_command_next(t->db, "i-1", &c2, &err), &err);
        assert_int_equal(json_integer_value(json_object_get(c2, "id")), second);
        assert_int_equal(db_worker_command_set_status(t->db, "i-1", second, "failed", "Cannot open", NULL, &err), 1);
        assert_ok(db_worker_command_next(t->db, "i-1", &none, &err), &err);
        assert_null(none);
}

static void test_the_list_shows_status_message_and_result(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *list = NULL, *next = NULL, *result = json_from("{\"disks\": [{\"name\": \"disk0\"}]}");
        struct ferry_error err = {};
        json_t *c;
        int64_t id;

        id = add(t->db, FINALIZE);
        assert_ok(db_worker_command_list(t->db, "i-1", &list, &err), &err);
        c = json_array_get(list, 0);
        assert_string_equal(string_at(c, "status"), "pending");
        assert_true(json_is_null(json_object_get(c, "result")));
        json_decref(TAKE_PTR(list));

        assert_ok(db_worker_command_next(t->db, "i-1", &next, &err), &err);
        assert_int_equal(db_worker_command_set_status(t->db, "i-1", id, "running", "Flushing disk0", NULL, &err), 0);
        assert_int_equal(db_worker_command_set_status(t->db, "i-1", id, "done", NULL, result, &err), 1);
        assert_ok(db_worker_command_list(t->db, "i-1", &list, &err), &err);
        c = json_array_get(list, 0);
        assert_int_equal(json_integer_value(json_object_get(c, "id")), id);
        assert_string_equal(string_at(c, "status"), "done");
        assert_string_equal(string_at(c, "message"), "Flushing disk0");
        assert_json_equal(json_object_get(c, "result"), result);
        assert_string_equal(string_at(json_object_get(c, "command"), "command"), "finalize");
        assert_non_null(json_object_get(c, "created_at"));
}

static void test_a_finished_command_does_not_change_but_takes_a_repeat(void **state)
{
        struct db_test *t = *state;
        struct ferry_error err = {};
        int64_t id = add(t->db, FINALIZE);

        assert_int_equal(db_worker_command_set_status(t->db, "i-1", id, "done", NULL, NULL, &err), 1);
        assert_int_equal(db_worker_command_set_status(t->db, "i-1", id, "done", NULL, NULL, &err), 0);
        assert_error(db_worker_command_set_status(t->db, "i-1", id, "failed", "late", NULL, &err), &err, -EBUSY,
                     "Worker command 1 has already finished (done)");
        assert_error(db_worker_command_set_status(t->db, "i-1", id + 1, "done", NULL, NULL, &err), &err, -ENOENT,
                     "Worker command 2 of queue entry 'i-1' not found");
}

static void test_commands_go_with_their_queue_entry(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *list = NULL, *entry = sample_queue_entry("i-1", "wave1", "incus1");
        struct ferry_error err = {};

        add(t->db, FINALIZE);
        assert_ok(db_worker_secret_set(t->db, "i-1", HASH_A, &err), &err);
        assert_ok(db_queue_delete(t->db, "i-1", &err), &err);
        assert_error(db_worker_command_list(t->db, "i-1", &list, &err), &err, -ENOENT, "Queue entry 'i-1' not found");
        assert_int_equal(db_worker_secret_check(t->db, "i-1", HASH_A, &err), 0);
        assert_ok(db_queue_create(t->db, entry, &err), &err);
        assert_ok(db_worker_command_list(t->db, "i-1", &list, &err), &err);
        assert_int_equal(json_array_size(list), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_a_secret_matches_only_its_own_hash_and_entry, setup,
                                                db_test_teardown),
                cmocka_unit_test_setup_teardown(test_a_new_secret_replaces_the_old_one, setup, db_test_teardown),
                cmocka_unit_test_setup_teardown(test_a_secret_needs_an_entry_and_a_hash, setup, db_test_teardown),
                cmocka_unit_test_setup_teardown(test_commands_come_in_order_and_the_running_one_again, setup,
                                                db_test_teardown),
                cmocka_unit_test_setup_teardown(test_the_list_shows_status_message_and_result, setup,
                                                db_test_teardown),
                cmocka_unit_test_setup_teardown(test_a_finished_command_does_not_change_but_takes_a_repeat, setup,
                                                db_test_teardown),
                cmocka_unit_test_setup_teardown(test_commands_go_with_their_queue_entry, setup, db_test_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
