/* SPDX-License-Identifier: Apache-2.0 */
/* src/daemon/sync.c: storing a source's inventory, in one transaction, only what changed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/json.h"
#include "daemon/sync.h"
#include "db-test.h"
#include "db/instance.h"
#include "db/network.h"
#include "db/source.h"
#include "db/warning.h"

/* An inventory of vc01: instances i-1 (web01) and i-2 (db01), one network with a default mapping. */
static void inventory(struct source_inventory *inv)
{
        *inv = (struct source_inventory) {
                .instances = json_array(),
                .networks = json_array(),
                .warnings = json_from("[{\"entity_type\": \"instance\", \"entity\": \"i-2\", \"type\": "
                                      "\"Could not determine instance OS\", \"message\": \"Could not determine "
                                      "instance OS, check if guest agent is running\"}]"),
        };
        json_array_append_new(inv->instances, sample_instance("i-1", "vc01", "web01"));
        json_array_append_new(inv->instances, sample_instance("i-2", "vc01", "db01"));
        json_array_append_new(inv->networks,
                              json_from("{\"uuid\": \"n-1\", \"source\": \"vc01\", \"location\": \"/dc1/network/lan\","
                                        "\"name\": \"lan\", \"type\": \"standard\", \"vlan\": \"10\","
                                        "\"default_mapping\": {\"*\": {\"network\": \"lan\", \"nictype\": \"managed\","
                                        "\"vlan\": \"\"}}}"));
}

static void add_source(struct db *db)
{
        _cleanup_json_ json_t *src = sample_source("vc01");
        struct ferry_error err = {};

        assert_ok(db_source_create(db, src, &err), &err);
}

static void apply(struct db *db, const struct source_inventory *inv, struct sync_stats *st)
{
        struct ferry_error err = {};

        assert_ok(sync_apply_inventory(db, "vc01", inv, NULL, st, &err), &err);
}

static void test_first_sync_adds_everything_and_marks_the_source_ok(void **state)
{
        struct db_test *t = *state;
        struct source_inventory inv;
        struct sync_stats st;
        _cleanup_json_ json_t *list = NULL, *src = NULL, *net = NULL;
        struct ferry_error err = {};

        add_source(t->db);
        inventory(&inv);
        apply(t->db, &inv, &st);
        assert_int_equal(st.instances_added, 2);
        assert_int_equal(st.networks_added, 1);
        assert_int_equal(st.warnings, 1);
        assert_ok(db_instance_list(t->db, "vc01", &list, &err), &err);
        assert_int_equal(json_array_size(list), 2);
        assert_ok(db_source_get(t->db, "vc01", &src, &err), &err);
        assert_string_equal(string_at(json_object_get(src, "properties"), "connectivity_status"), "OK");
        assert_ok(db_network_get(t->db, "n-1", &net, &err), &err);
        assert_string_equal(string_at(json_object_get(json_object_get(net, "mappings"), "*"), "network"), "lan");
        assert_null(json_object_get(net, "default_mapping"));
        source_inventory_done(&inv);
}

static void test_same_inventory_again_changes_nothing(void **state)
{
        struct db_test *t = *state;
        struct source_inventory inv;
        struct sync_stats st;
        _cleanup_json_ json_t *before = NULL, *after = NULL;
        struct ferry_error err = {};

        add_source(t->db);
        inventory(&inv);
        apply(t->db, &inv, &st);
        assert_ok(db_instance_get(t->db, "i-1", &before, &err), &err);
        apply(t->db, &inv, &st);
        assert_int_equal(st.instances_added + st.instances_updated + st.instances_removed, 0);
        assert_int_equal(st.instances_unchanged, 2);
        assert_int_equal(st.networks_added + st.networks_updated + st.networks_removed, 0);
        assert_ok(db_instance_get(t->db, "i-1", &after, &err), &err);
        assert_string_equal(string_at(before, "updated_at"), string_at(after, "updated_at"));
        source_inventory_done(&inv);
}

static void test_a_changed_vm_is_updated_and_keeps_its_overrides(void **state)
{
        struct db_test *t = *state;
        struct source_inventory inv;
        struct sync_stats st;
        _cleanup_json_ json_t *overrides = json_from("{\"os\": \"Debian 12\"}"), *vm = NULL;
        struct ferry_error err = {};

        add_source(t->db);
        inventory(&inv);
        apply(t->db, &inv, &st);
        assert_ok(db_instance_set_overrides(t->db, "i-1", overrides, &err), &err);
        json_object_set_new(json_array_get(inv.instances, 0), "cpus", json_integer(8));
        apply(t->db, &inv, &st);
        assert_int_equal(st.instances_updated, 1);
        assert_int_equal(st.instances_unchanged, 1);
        assert_ok(db_instance_get(t->db, "i-1", &vm, &err), &err);
        assert_int_equal(json_integer_value(json_object_get(vm, "cpus")), 8);
        assert_json_equal(json_object_get(vm, "overrides"), overrides);
        source_inventory_done(&inv);
}

static void test_a_vanished_vm_is_deleted_unless_a_batch_holds_it(void **state)
{
        struct db_test *t = *state;
        struct source_inventory inv;
        struct sync_stats st;
        _cleanup_json_ json_t *kept = NULL, *gone = NULL;
        struct ferry_error err = {};

        db_test_add_queued_instance(t->db);    /* vc01 with i-1 queued in wave1 */
        inventory(&inv);
        apply(t->db, &inv, &st);
        json_array_clear(inv.instances);
        apply(t->db, &inv, &st);
        assert_int_equal(st.instances_removed, 1);
        assert_int_equal(st.instances_vanished, 1);
        assert_ok(db_instance_get(t->db, "i-1", &kept, &err), &err);
        assert_true(json_is_true(json_object_get(kept, "vanished")));
        assert_error(db_instance_get(t->db, "i-2", &gone, &err), &err, -ENOENT, "Instance 'i-2' not found");

        /* Back again: no longer vanished. */
        json_decref(kept);
        kept = NULL;
        json_array_append_new(inv.instances, sample_instance("i-1", "vc01", "web01"));
        apply(t->db, &inv, &st);
        assert_ok(db_instance_get(t->db, "i-1", &kept, &err), &err);
        assert_null(json_object_get(kept, "vanished"));
        source_inventory_done(&inv);
}

static void test_a_known_network_keeps_the_admins_mapping(void **state)
{
        struct db_test *t = *state;
        struct source_inventory inv;
        struct sync_stats st;
        _cleanup_json_ json_t *mine = json_from("{\"incus1\": {\"network\": \"br0\", \"nictype\": \"bridged\", "
                                                "\"vlan\": \"10\"}}"),
                              *net = NULL;
        struct ferry_error err = {};

        add_source(t->db);
        inventory(&inv);
        apply(t->db, &inv, &st);
        assert_ok(db_network_set_mappings(t->db, "n-1", mine, &err), &err);
        json_object_set_new(json_array_get(inv.networks, 0), "vlan", json_string("11"));
        apply(t->db, &inv, &st);
        assert_int_equal(st.networks_updated, 1);
        assert_ok(db_network_get(t->db, "n-1", &net, &err), &err);
        assert_string_equal(string_at(net, "vlan"), "11");
        assert_json_equal(json_object_get(net, "mappings"), mine);
        source_inventory_done(&inv);
}

static void test_warnings_are_counted_once_per_sync(void **state)
{
        struct db_test *t = *state;
        struct source_inventory inv;
        struct sync_stats st;
        _cleanup_json_ json_t *warnings = NULL;
        struct ferry_error err = {};

        add_source(t->db);
        inventory(&inv);
        apply(t->db, &inv, &st);
        apply(t->db, &inv, &st);
        assert_ok(db_warning_list(t->db, &warnings, &err), &err);
        assert_int_equal(json_array_size(warnings), 1);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(warnings, 0), "count")), 2);
        source_inventory_done(&inv);
}

static void test_a_failure_stores_nothing(void **state)
{
        struct db_test *t = *state;
        struct source_inventory inv;
        _cleanup_json_ json_t *other = sample_source("vc02"), *list = NULL, *nets = NULL, *theirs = NULL;
        struct ferry_error err = {};

        add_source(t->db);
        assert_ok(db_source_create(t->db, other, &err), &err);
        theirs = sample_instance("i-2", "vc02", "db01");
        assert_ok(db_instance_put(t->db, theirs, &err), &err);
        inventory(&inv);
        assert_error(sync_apply_inventory(t->db, "vc01", &inv, NULL, NULL, &err), &err, -EEXIST,
                     "Storing the inventory of source 'vc01': Instance 'i-2' already belongs to source 'vc02'");
        assert_ok(db_instance_list(t->db, "vc01", &list, &err), &err);
        assert_int_equal(json_array_size(list), 0);
        assert_ok(db_network_list(t->db, "vc01", &nets, &err), &err);
        assert_int_equal(json_array_size(nets), 0);
        source_inventory_done(&inv);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_first_sync_adds_everything_and_marks_the_source_ok, db_test_setup,
                                                db_test_teardown),
                cmocka_unit_test_setup_teardown(test_same_inventory_again_changes_nothing, db_test_setup,
                                                db_test_teardown),
                cmocka_unit_test_setup_teardown(test_a_changed_vm_is_updated_and_keeps_its_overrides, db_test_setup,
                                                db_test_teardown),
                cmocka_unit_test_setup_teardown(test_a_vanished_vm_is_deleted_unless_a_batch_holds_it, db_test_setup,
                                                db_test_teardown),
                cmocka_unit_test_setup_teardown(test_a_known_network_keeps_the_admins_mapping, db_test_setup,
                                                db_test_teardown),
                cmocka_unit_test_setup_teardown(test_warnings_are_counted_once_per_sync, db_test_setup,
                                                db_test_teardown),
                cmocka_unit_test_setup_teardown(test_a_failure_stores_nothing, db_test_setup, db_test_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
