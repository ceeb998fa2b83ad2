/* SPDX-License-Identifier: Apache-2.0 */
/* Inventory entries built from Incus's objects (the reads themselves are
 * tested against incusd in tests/integration/test-incus-inventory-lab.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "target/incus/inventory.h"

static json_t *parse(const char *text)
{
        json_t *v = json_loads(text, 0, NULL);

        assert_non_null(v);
        return v;
}

static void assert_json_equal(json_t *actual, const char *expected_text)
{
        _cleanup_json_ json_t *expected = parse(expected_text);
        _cleanup_free_ char *a = json_dumps(actual, JSON_SORT_KEYS | JSON_COMPACT);
        _cleanup_free_ char *e = json_dumps(expected, JSON_SORT_KEYS | JSON_COMPACT);

        assert_string_equal(a, e);
}

static void test_project_features_become_booleans_and_restrictions_stay(void **state)
{
        _cleanup_json_ json_t *in = NULL, *out = NULL;

        (void) state;
        in = parse("{\"name\":\"lab\",\"description\":\"Lab\",\"config\":{\"features.images\":\"false\","
                   "\"features.profiles\":\"true\",\"restricted\":\"true\",\"restricted.networks.access\":\"br0\","
                   "\"limits.cpu\":\"8\"},\"used_by\":[]}");
        out = incus_inventory_project(in);
        assert_json_equal(out, "{\"name\":\"lab\",\"description\":\"Lab\",\"features\":{\"images\":false,"
                               "\"profiles\":true},\"restrictions\":{\"restricted\":\"true\","
                               "\"restricted.networks.access\":\"br0\"}}");
}

static void test_managed_bridge_is_vlan_capable(void **state)
{
        _cleanup_json_ json_t *in = NULL, *out = NULL;

        (void) state;
        in = parse("{\"name\":\"labbr0\",\"type\":\"bridge\",\"managed\":true,\"status\":\"Created\","
                   "\"config\":{\"ipv4.address\":\"none\"},\"description\":\"\"}");
        out = incus_inventory_network(in, "default");
        assert_json_equal(out, "{\"name\":\"labbr0\",\"project\":\"default\",\"type\":\"bridge\",\"managed\":true,"
                               "\"parent\":\"\",\"vlan\":\"\",\"vlan_capable\":true,\"status\":\"Created\","
                               "\"description\":\"\"}");
}

static void test_macvlan_network_keeps_parent_and_vlan(void **state)
{
        _cleanup_json_ json_t *in = NULL, *out = NULL;

        (void) state;
        in = parse("{\"name\":\"dmz\",\"type\":\"macvlan\",\"managed\":true,\"status\":\"Created\","
                   "\"config\":{\"parent\":\"eth1\",\"vlan\":\"42\"}}");
        out = incus_inventory_network(in, "prod");
        assert_string_equal(json_string_value(json_object_get(out, "parent")), "eth1");
        assert_string_equal(json_string_value(json_object_get(out, "vlan")), "42");
        assert_string_equal(json_string_value(json_object_get(out, "project")), "prod");
        assert_true(json_is_true(json_object_get(out, "vlan_capable")));
}

static void test_ovn_and_loopback_are_not_vlan_capable(void **state)
{
        (void) state;
        assert_false(incus_network_type_vlan_capable("ovn"));
        assert_false(incus_network_type_vlan_capable("loopback"));
        assert_false(incus_network_type_vlan_capable(NULL));
        assert_true(incus_network_type_vlan_capable("physical"));
        assert_true(incus_network_type_vlan_capable("sriov"));
}

static void test_unmanaged_interface_is_listed_unmanaged(void **state)
{
        _cleanup_json_ json_t *in = NULL, *out = NULL;

        (void) state;
        in = parse("{\"name\":\"eth0\",\"type\":\"physical\",\"managed\":false}");
        out = incus_inventory_network(in, "default");
        assert_true(json_is_false(json_object_get(out, "managed")));
        assert_string_equal(json_string_value(json_object_get(out, "status")), "");
}

static void test_storage_pool_gets_its_space(void **state)
{
        _cleanup_json_ json_t *in = NULL, *res = NULL, *out = NULL;

        (void) state;
        in = parse("{\"name\":\"default\",\"driver\":\"zfs\",\"status\":\"Created\",\"config\":{}}");
        res = parse("{\"space\":{\"used\":1024,\"total\":1073741824},\"inodes\":{}}");
        out = incus_inventory_storage_pool(in, res);
        assert_json_equal(out, "{\"name\":\"default\",\"driver\":\"zfs\",\"status\":\"Created\","
                               "\"space\":{\"used\":1024,\"total\":1073741824},\"description\":\"\"}");
}

static void test_storage_pool_without_resources_has_null_space(void **state)
{
        _cleanup_json_ json_t *in = NULL, *out = NULL;

        (void) state;
        in = parse("{\"name\":\"remote\",\"driver\":\"ceph\"}");
        out = incus_inventory_storage_pool(in, NULL);
        assert_true(json_is_null(json_object_get(out, "space")));
}

static void test_cluster_member_keeps_status_groups_and_failure_domain(void **state)
{
        _cleanup_json_ json_t *in = NULL, *out = NULL;

        (void) state;
        in = parse("{\"server_name\":\"node2\",\"status\":\"Evacuated\",\"message\":\"Unavailable due to maintenance\","
                   "\"groups\":[\"default\",\"gpu\"],\"failure_domain\":\"rack2\",\"roles\":[\"database\"],"
                   "\"architecture\":\"x86_64\",\"url\":\"https://10.0.0.2:8443\"}");
        out = incus_inventory_cluster_member(in);
        assert_json_equal(out, "{\"name\":\"node2\",\"status\":\"Evacuated\",\"message\":\"Unavailable due to "
                               "maintenance\",\"groups\":[\"default\",\"gpu\"],\"failure_domain\":\"rack2\","
                               "\"roles\":[\"database\"],\"architecture\":\"x86_64\"}");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_project_features_become_booleans_and_restrictions_stay),
                cmocka_unit_test(test_managed_bridge_is_vlan_capable),
                cmocka_unit_test(test_macvlan_network_keeps_parent_and_vlan),
                cmocka_unit_test(test_ovn_and_loopback_are_not_vlan_capable),
                cmocka_unit_test(test_unmanaged_interface_is_listed_unmanaged),
                cmocka_unit_test(test_storage_pool_gets_its_space),
                cmocka_unit_test(test_storage_pool_without_resources_has_null_space),
                cmocka_unit_test(test_cluster_member_keeps_status_groups_and_failure_domain),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
