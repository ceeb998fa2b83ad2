/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The repositories of synced objects, each test run over both: instances
 * with their overrides and networks with their mappings (src/db/object.c
 * through instance.c and network.c), and what deleting or renaming their
 * source does to them.
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
#include "db/instance.h"
#include "db/network.h"
#include "db/source.h"

struct synced {
        const char *what;  /* as messages start */
        const char *user;  /* the field the admin sets */
        json_t *(*sample)(const char *uuid, const char *source);
        int (*put)(struct db *db, const json_t *obj, struct ferry_error *err);
        int (*get)(struct db *db, const char *uuid, json_t **ret, struct ferry_error *err);
        int (*list)(struct db *db, const char *source, json_t **ret, struct ferry_error *err);
        int (*set_user)(struct db *db, const char *uuid, const json_t *value, struct ferry_error *err);
        int (*delete)(struct db *db, const char *uuid, struct ferry_error *err);
};

static json_t *sample_vm(const char *uuid, const char *source)
{
        return sample_instance(uuid, source, uuid);
}

static const struct synced synced[] = {
        { "Instance", "overrides", sample_vm, db_instance_put, db_instance_get, db_instance_list,
          db_instance_set_overrides, db_instance_delete },
        { "Network", "mappings", sample_network, db_network_put, db_network_get, db_network_list,
          db_network_set_mappings, db_network_delete },
};

static void create_source(struct db *db, const char *name)
{
        _cleanup_json_ json_t *source = sample_source(name);
        struct ferry_error err = {};

        assert_ok(db_source_create(db, source, &err), &err);
}

static void put(struct db *db, const struct synced *s, const char *uuid, const char *source)
{
        _cleanup_json_ json_t *obj = s->sample(uuid, source);
        struct ferry_error err = {};

        assert_ok(s->put(db, obj, &err), &err);
}

static json_t *get(struct db *db, const struct synced *s, const char *uuid)
{
        struct ferry_error err = {};
        json_t *obj = NULL;

        assert_ok(s->get(db, uuid, &obj, &err), &err);
        return obj;
}

static void set_user(struct db *db, const struct synced *s, const char *uuid, const char *json)
{
        _cleanup_json_ json_t *value = json_from(json);
        struct ferry_error err = {};

        assert_ok(s->set_user(db, uuid, value, &err), &err);
}

/* The uuids of a list, space-separated; free() it. */
static char *list_uuids(struct db *db, const struct synced *s, const char *source)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        _cleanup_json_ json_t *list = NULL;
        struct ferry_error err = {};
        json_t *obj;
        size_t i;

        assert_ok(s->list(db, source, &list, &err), &err);
        json_array_foreach(list, i, obj)
                assert_int_equal(strbuf_appendf(&sb, "%s%s", i ? " " : "",
                                                json_string_value(json_object_get(obj, "uuid"))),
                                 0);
        return strbuf_steal(&sb);
}

static char *message(const char *what, const char *key, const char *rest)
{
        char *m = strjoin(what, " '", key, "' ", rest, NULL);

        assert_non_null(m);
        return m;
}

static void test_put_inserts_and_get_adds_source_and_empty_user_field(void **state)
{
        struct db_test *t = *state;

        create_source(t->db, "vc01");
        for (size_t i = 0; i < ELEMENTSOF(synced); i++) {
                _cleanup_json_ json_t *obj = synced[i].sample("u-1", "vc01"), *stored = NULL, *bare = NULL;
                struct ferry_error err = {};

                print_message("%s\n", synced[i].what);
                assert_int_equal(synced[i].put(t->db, obj, &err), 1);
                stored = get(t->db, &synced[i], "u-1");
                bare = json_without_timestamps(stored);
                assert_int_equal(json_object_set_new(obj, synced[i].user, json_object()), 0);
                assert_json_equal(bare, obj);
                assert_non_null(json_object_get(stored, "created_at"));
        }
}

static void test_put_again_replaces_synced_fields_and_keeps_the_user_field(void **state)
{
        struct db_test *t = *state;

        create_source(t->db, "vc01");
        for (size_t i = 0; i < ELEMENTSOF(synced); i++) {
                _cleanup_json_ json_t *changed = synced[i].sample("u-1", "vc01"), *before = NULL, *after = NULL,
                                      *expected = NULL;
                struct ferry_error err = {};

                print_message("%s\n", synced[i].what);
                put(t->db, &synced[i], "u-1", "vc01");
                set_user(t->db, &synced[i], "u-1", "{\"comment\": \"keep me\", \"cpus\": 8}");
                before = get(t->db, &synced[i], "u-1");

                assert_int_equal(json_object_set_new(changed, "location", json_string("/dc2/moved")), 0);
                assert_int_equal(json_object_set_new(changed, "synced_again", json_true()), 0);
                assert_int_equal(json_object_set_new(changed, synced[i].user, json_object()), 0); /* ignored */
                assert_int_equal(synced[i].put(t->db, changed, &err), 0);

                after = get(t->db, &synced[i], "u-1");
                expected = json_deep_copy(changed);
                assert_int_equal(json_object_set(expected, synced[i].user, json_object_get(before, synced[i].user)),
                                 0);
                assert_int_equal(json_object_set(expected, "created_at", json_object_get(before, "created_at")), 0);
                assert_int_equal(json_object_set(expected, "updated_at", json_object_get(after, "updated_at")), 0);
                assert_json_equal(after, expected);
        }
}

static void test_setting_the_user_field_to_an_empty_object_clears_it(void **state)
{
        struct db_test *t = *state;

        create_source(t->db, "vc01");
        for (size_t i = 0; i < ELEMENTSOF(synced); i++) {
                _cleanup_json_ json_t *stored = NULL, *empty = json_object();

                put(t->db, &synced[i], "u-1", "vc01");
                set_user(t->db, &synced[i], "u-1", "{\"comment\": \"x\"}");
                set_user(t->db, &synced[i], "u-1", "{}");
                stored = get(t->db, &synced[i], "u-1");
                assert_json_equal(json_object_get(stored, synced[i].user), empty);
        }
}

static void test_the_user_field_must_be_an_object(void **state)
{
        struct db_test *t = *state;

        create_source(t->db, "vc01");
        for (size_t i = 0; i < ELEMENTSOF(synced); i++) {
                _cleanup_json_ json_t *text = json_string("x");
                _cleanup_free_ char *m = strjoin("Field '", synced[i].user, "' must be an object", NULL);
                struct ferry_error err = {};

                put(t->db, &synced[i], "u-1", "vc01");
                assert_error(synced[i].set_user(t->db, "u-1", text, &err), &err, -EINVAL, m);
        }
}

static void test_missing_uuids_are_not_found(void **state)
{
        struct db_test *t = *state;

        for (size_t i = 0; i < ELEMENTSOF(synced); i++) {
                _cleanup_free_ char *m = message(synced[i].what, "ghost", "not found");
                _cleanup_json_ json_t *empty = json_object();
                struct ferry_error err = {};
                json_t *obj = NULL;

                assert_error(synced[i].get(t->db, "ghost", &obj, &err), &err, -ENOENT, m);
                assert_error(synced[i].set_user(t->db, "ghost", empty, &err), &err, -ENOENT, m);
                assert_error(synced[i].delete(t->db, "ghost", &err), &err, -ENOENT, m);
        }
}

static void test_put_of_an_unknown_source_is_refused(void **state)
{
        struct db_test *t = *state;

        for (size_t i = 0; i < ELEMENTSOF(synced); i++) {
                _cleanup_json_ json_t *obj = synced[i].sample("u-1", "nope");
                _cleanup_free_ char *uuids = NULL;
                struct ferry_error err = {};

                assert_error(synced[i].put(t->db, obj, &err), &err, -ENOENT, "Source 'nope' not found");
                uuids = list_uuids(t->db, &synced[i], NULL);
                assert_string_equal(uuids, "");
        }
}

static void test_put_of_a_uuid_another_source_has_is_refused(void **state)
{
        struct db_test *t = *state;

        create_source(t->db, "vc01");
        create_source(t->db, "vc02");
        for (size_t i = 0; i < ELEMENTSOF(synced); i++) {
                _cleanup_json_ json_t *obj = synced[i].sample("u-1", "vc02"), *stored = NULL;
                _cleanup_free_ char *m = message(synced[i].what, "u-1", "already belongs to source 'vc01'");
                struct ferry_error err = {};

                put(t->db, &synced[i], "u-1", "vc01");
                assert_error(synced[i].put(t->db, obj, &err), &err, -EEXIST, m);
                stored = get(t->db, &synced[i], "u-1");
                assert_string_equal(json_string_value(json_object_get(stored, "source")), "vc01");
        }
}

static void test_put_without_a_required_field_is_refused(void **state)
{
        struct db_test *t = *state;

        create_source(t->db, "vc01");
        for (size_t i = 0; i < ELEMENTSOF(synced); i++) {
                _cleanup_json_ json_t *obj = synced[i].sample("u-1", "vc01");
                struct ferry_error err = {};

                assert_int_equal(json_object_del(obj, "location"), 0);
                assert_error(synced[i].put(t->db, obj, &err), &err, -EINVAL, "Missing required field 'location'");
        }
}

static void test_list_orders_by_source_then_location_and_filters_by_source(void **state)
{
        struct db_test *t = *state;

        create_source(t->db, "vc02");
        create_source(t->db, "vc01");
        for (size_t i = 0; i < ELEMENTSOF(synced); i++) {
                _cleanup_free_ char *all = NULL, *vc02 = NULL;
                _cleanup_json_ json_t *list = NULL;
                struct ferry_error err = {};

                print_message("%s\n", synced[i].what);
                put(t->db, &synced[i], "c", "vc02");
                put(t->db, &synced[i], "b", "vc01");
                put(t->db, &synced[i], "a", "vc02");
                all = list_uuids(t->db, &synced[i], NULL);
                vc02 = list_uuids(t->db, &synced[i], "vc02");
                /* Networks share one location here: uuid decides. */
                assert_string_equal(all, "b a c");
                assert_string_equal(vc02, "a c");
                assert_error(synced[i].list(t->db, "nope", &list, &err), &err, -ENOENT, "Source 'nope' not found");
        }
}

static void test_delete_removes_one(void **state)
{
        struct db_test *t = *state;

        create_source(t->db, "vc01");
        for (size_t i = 0; i < ELEMENTSOF(synced); i++) {
                _cleanup_free_ char *uuids = NULL;
                struct ferry_error err = {};

                put(t->db, &synced[i], "a", "vc01");
                put(t->db, &synced[i], "b", "vc01");
                assert_ok(synced[i].delete(t->db, "a", &err), &err);
                uuids = list_uuids(t->db, &synced[i], NULL);
                assert_string_equal(uuids, "b");
        }
}

static void test_deleting_a_source_deletes_its_instances_and_networks(void **state)
{
        struct db_test *t = *state;
        struct ferry_error err = {};

        create_source(t->db, "vc01");
        create_source(t->db, "vc02");
        for (size_t i = 0; i < ELEMENTSOF(synced); i++) {
                put(t->db, &synced[i], "a", "vc01");
                put(t->db, &synced[i], "b", "vc01");
                put(t->db, &synced[i], "c", "vc02");
        }
        assert_ok(db_source_delete(t->db, "vc01", &err), &err);
        for (size_t i = 0; i < ELEMENTSOF(synced); i++) {
                _cleanup_free_ char *uuids = list_uuids(t->db, &synced[i], NULL);

                assert_string_equal(uuids, "c");
        }
}

static void test_renaming_a_source_shows_in_its_instances_and_networks(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *renamed = sample_source("vc03");
        struct ferry_error err = {};

        create_source(t->db, "vc01");
        for (size_t i = 0; i < ELEMENTSOF(synced); i++)
                put(t->db, &synced[i], "a", "vc01");
        assert_ok(db_source_update(t->db, "vc01", renamed, &err), &err);
        for (size_t i = 0; i < ELEMENTSOF(synced); i++) {
                _cleanup_json_ json_t *stored = get(t->db, &synced[i], "a");
                _cleanup_free_ char *uuids = list_uuids(t->db, &synced[i], "vc03");

                assert_string_equal(json_string_value(json_object_get(stored, "source")), "vc03");
                assert_string_equal(uuids, "a");
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define DB_TEST(f) cmocka_unit_test_setup_teardown(f, db_test_setup, db_test_teardown)
                DB_TEST(test_put_inserts_and_get_adds_source_and_empty_user_field),
                DB_TEST(test_put_again_replaces_synced_fields_and_keeps_the_user_field),
                DB_TEST(test_setting_the_user_field_to_an_empty_object_clears_it),
                DB_TEST(test_the_user_field_must_be_an_object),
                DB_TEST(test_missing_uuids_are_not_found),
                DB_TEST(test_put_of_an_unknown_source_is_refused),
                DB_TEST(test_put_of_a_uuid_another_source_has_is_refused),
                DB_TEST(test_put_without_a_required_field_is_refused),
                DB_TEST(test_list_orders_by_source_then_location_and_filters_by_source),
                DB_TEST(test_delete_removes_one),
                DB_TEST(test_deleting_a_source_deletes_its_instances_and_networks),
                DB_TEST(test_renaming_a_source_shows_in_its_instances_and_networks),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
