/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Queue entries (src/db/queue.c) and the rules they impose on what they
 * refer to: an entry's instance, batch and target cannot be deleted.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "db-test.h"
#include "db/batch.h"
#include "db/instance.h"
#include "db/queue.h"
#include "db/source.h"
#include "db/target.h"

static json_t *get(struct db *db, const char *uuid)
{
        struct ferry_error err = {};
        json_t *entry = NULL;

        assert_ok(db_queue_get(db, uuid, &entry, &err), &err);
        return entry;
}

static void add_instance(struct db *db, const char *uuid)
{
        _cleanup_json_ json_t *instance = sample_instance(uuid, "vc01", uuid);
        struct ferry_error err = {};

        assert_ok(db_instance_put(db, instance, &err), &err);
}

static void add_batch(struct db *db, const char *name)
{
        _cleanup_json_ json_t *batch = sample_batch(name);
        struct ferry_error err = {};

        assert_ok(db_batch_create(db, batch, &err), &err);
}

static void add_entry(struct db *db, const char *uuid, const char *batch)
{
        _cleanup_json_ json_t *entry = sample_queue_entry(uuid, batch, "incus1");
        struct ferry_error err = {};

        assert_ok(db_queue_create(db, entry, &err), &err);
}

/* The instance uuids of a queue list, space-separated; free() it. */
static char *list_uuids(struct db *db, const char *batch)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        _cleanup_json_ json_t *list = NULL;
        struct ferry_error err = {};
        json_t *entry;
        size_t i;

        assert_ok(db_queue_list(db, batch, &list, &err), &err);
        json_array_foreach(list, i, entry)
                assert_int_equal(strbuf_appendf(&sb, "%s%s", i ? " " : "",
                                                json_string_value(json_object_get(entry, "instance_uuid"))),
                                 0);
        return strbuf_steal(&sb);
}

static void test_create_then_get_returns_the_entry_with_its_references(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *expected = sample_queue_entry("i-1", "wave1", "incus1"), *stored = NULL,
                              *bare = NULL;

        db_test_add_queued_instance(t->db);
        stored = get(t->db, "i-1");
        bare = json_without_timestamps(stored);
        assert_json_equal(bare, expected);
        assert_non_null(json_object_get(stored, "created_at"));
}

static void test_an_entry_without_a_target_yet_keeps_its_placement_as_given(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *empty = sample_queue_entry("i-2", "wave1", ""), *none = NULL, *stored = NULL,
                              *bare = NULL;
        struct ferry_error err = {};

        db_test_add_queued_instance(t->db);
        add_instance(t->db, "i-2");
        add_instance(t->db, "i-3");
        assert_ok(db_queue_create(t->db, empty, &err), &err);
        stored = get(t->db, "i-2");
        bare = json_without_timestamps(stored);
        assert_json_equal(bare, empty);

        none = json_from("{\"instance_uuid\": \"i-3\", \"batch\": \"wave1\", \"status\": \"Blocked\"}");
        assert_ok(db_queue_create(t->db, none, &err), &err);
        json_decref(stored);
        json_decref(bare);
        stored = get(t->db, "i-3");
        bare = json_without_timestamps(stored);
        assert_json_equal(bare, none);
}

static void test_entries_must_refer_to_existing_objects(void **state)
{
        struct db_test *t = *state;
        static const struct {
                const char *uuid, *batch, *target, *message;
        } cases[] = {
                { "nope", "wave1", "incus1", "Instance 'nope' not found" },
                { "i-2", "nope", "incus1", "Batch 'nope' not found" },
                { "i-2", "wave1", "nope", "Target 'nope' not found" },
        };

        db_test_add_queued_instance(t->db);
        add_instance(t->db, "i-2");
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_json_ json_t *entry = sample_queue_entry(cases[i].uuid, cases[i].batch, cases[i].target);
                _cleanup_free_ char *uuids = NULL;
                struct ferry_error err = {};

                assert_error(db_queue_create(t->db, entry, &err), &err, -ENOENT, cases[i].message);
                uuids = list_uuids(t->db, NULL);
                assert_string_equal(uuids, "i-1");
        }
}

static void test_an_instance_is_queued_once(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *again = sample_queue_entry("i-1", "wave1", "incus1");
        struct ferry_error err = {};

        db_test_add_queued_instance(t->db);
        assert_error(db_queue_create(t->db, again, &err), &err, -EEXIST, "Queue entry 'i-1' already exists");
}

static void test_list_filters_by_batch_in_queue_order(void **state)
{
        struct db_test *t = *state;
        _cleanup_free_ char *all = NULL, *wave2 = NULL;
        _cleanup_json_ json_t *list = NULL;
        struct ferry_error err = {};

        db_test_add_queued_instance(t->db);
        add_batch(t->db, "wave2");
        add_instance(t->db, "i-3");
        add_instance(t->db, "i-2");
        add_entry(t->db, "i-3", "wave2");
        add_entry(t->db, "i-2", "wave2");
        all = list_uuids(t->db, NULL);
        wave2 = list_uuids(t->db, "wave2");
        assert_string_equal(all, "i-1 i-3 i-2");
        assert_string_equal(wave2, "i-3 i-2");
        assert_error(db_queue_list(t->db, "nope", &list, &err), &err, -ENOENT, "Batch 'nope' not found");
}

static void test_update_records_a_transition_and_keeps_created_at(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *before = NULL, *changed = NULL, *after = NULL, *bare = NULL;
        struct ferry_error err = {};

        db_test_add_queued_instance(t->db);
        before = get(t->db, "i-1");
        changed = json_from("{\"instance_uuid\": \"i-1\", \"batch\": \"wave1\", \"status\": \"Idle\","
                            " \"import_stage\": \"final\", \"placement\": {\"target\": \"incus1\"},"
                            " \"progress\": [{\"disk\": \"disk0\", \"bytes_done\": 10737418240}]}");
        assert_ok(db_queue_update(t->db, "i-1", changed, &err), &err);
        after = get(t->db, "i-1");
        bare = json_without_timestamps(after);
        assert_json_equal(bare, changed);
        assert_json_equal(json_object_get(after, "created_at"), json_object_get(before, "created_at"));
}

static void test_missing_entries_are_not_found(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *entry = sample_queue_entry("i-1", "wave1", "incus1");
        struct ferry_error err = {};
        json_t *none = NULL;

        assert_error(db_queue_get(t->db, "i-1", &none, &err), &err, -ENOENT, "Queue entry 'i-1' not found");
        assert_error(db_queue_update(t->db, "i-1", entry, &err), &err, -ENOENT, "Queue entry 'i-1' not found");
        assert_error(db_queue_delete(t->db, "i-1", &err), &err, -ENOENT, "Queue entry 'i-1' not found");
        db_test_add_queued_instance(t->db);
        assert_ok(db_queue_delete(t->db, "i-1", &err), &err);
        assert_error(db_queue_get(t->db, "i-1", &none, &err), &err, -ENOENT, "Queue entry 'i-1' not found");
        assert_null(none);
}

static void test_what_an_entry_refers_to_cannot_be_deleted(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *before = NULL, *after = NULL;
        struct ferry_error err = {};

        db_test_add_queued_instance(t->db);
        before = get(t->db, "i-1");
        assert_error(db_source_delete(t->db, "vc01", &err), &err, -EBUSY, "Source 'vc01' is used by batch 'wave1'");
        assert_error(db_target_delete(t->db, "incus1", &err), &err, -EBUSY,
                     "Target 'incus1' is used by batch 'wave1'");
        assert_error(db_batch_delete(t->db, "wave1", &err), &err, -EBUSY,
                     "Batch 'wave1' is used by the queue entry of instance 'i-1'");
        assert_error(db_instance_delete(t->db, "i-1", &err), &err, -EBUSY, "Instance 'i-1' is used by batch 'wave1'");
        after = get(t->db, "i-1");
        assert_json_equal(after, before);
}

static void test_once_the_entry_is_gone_its_references_can_be_deleted(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *instances = NULL;
        struct ferry_error err = {};

        db_test_add_queued_instance(t->db);
        assert_ok(db_queue_delete(t->db, "i-1", &err), &err);
        assert_ok(db_batch_delete(t->db, "wave1", &err), &err);
        assert_ok(db_target_delete(t->db, "incus1", &err), &err);
        assert_ok(db_source_delete(t->db, "vc01", &err), &err);
        assert_ok(db_instance_list(t->db, NULL, &instances, &err), &err);
        assert_int_equal(json_array_size(instances), 0);
}

static void test_renamed_batches_and_targets_show_in_entries(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *batch = sample_batch("wave9"), *target = sample_target("incus9"), *entry = NULL;
        struct ferry_error err = {};

        db_test_add_queued_instance(t->db);
        assert_ok(db_batch_update(t->db, "wave1", batch, &err), &err);
        assert_ok(db_target_update(t->db, "incus1", target, &err), &err);
        entry = get(t->db, "i-1");
        assert_string_equal(json_string_value(json_object_get(entry, "batch")), "wave9");
        assert_string_equal(json_string_value(json_object_get(json_object_get(entry, "placement"), "target")),
                            "incus9");
}

static void test_queueing_a_batch_in_one_transaction_stores_all_or_none(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *good = sample_queue_entry("i-2", "wave1", "incus1"),
                              *bad = sample_queue_entry("i-3", "wave1", "nope");
        _cleanup_free_ char *uuids = NULL;
        struct ferry_error err = {};

        db_test_add_queued_instance(t->db);
        add_instance(t->db, "i-2");
        add_instance(t->db, "i-3");
        assert_ok(db_begin(t->db, &err), &err);
        assert_ok(db_queue_create(t->db, good, &err), &err);
        assert_error(db_queue_create(t->db, bad, &err), &err, -ENOENT, "Target 'nope' not found");
        db_rollback(t->db);
        uuids = list_uuids(t->db, NULL);
        assert_string_equal(uuids, "i-1");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define DB_TEST(f) cmocka_unit_test_setup_teardown(f, db_test_setup, db_test_teardown)
                DB_TEST(test_create_then_get_returns_the_entry_with_its_references),
                DB_TEST(test_an_entry_without_a_target_yet_keeps_its_placement_as_given),
                DB_TEST(test_entries_must_refer_to_existing_objects),
                DB_TEST(test_an_instance_is_queued_once),
                DB_TEST(test_list_filters_by_batch_in_queue_order),
                DB_TEST(test_update_records_a_transition_and_keeps_created_at),
                DB_TEST(test_missing_entries_are_not_found),
                DB_TEST(test_what_an_entry_refers_to_cannot_be_deleted),
                DB_TEST(test_once_the_entry_is_gone_its_references_can_be_deleted),
                DB_TEST(test_renamed_batches_and_targets_show_in_entries),
                DB_TEST(test_queueing_a_batch_in_one_transaction_stores_all_or_none),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
