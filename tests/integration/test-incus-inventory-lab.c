/* SPDX-License-Identifier: Apache-2.0 */
/* The inventory of the lab's incusd: its project, pool, bridge and
 * profiles, and objects made with the incus CLI showing up. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/strbuf.h"
#include "lab.h"
#include "proc.h"
#include "target/incus/inventory.h"

static struct incus_client *unix_client(void)
{
        _cleanup_free_ char *endpoint = strjoin("unix://", lab_env("LAB_INCUS_SOCKET"), NULL);
        struct ferry_error err = {};
        struct incus_client *c;

        assert_non_null(endpoint);
        c = incus_client_new(&(struct incus_client_config) { .endpoint = endpoint }, &err);
        if (!c)
                fail_msg("%s", err.message);
        return c;
}

static json_t *read_inventory(void)
{
        _cleanup_incus_client_ struct incus_client *c = unix_client();
        struct ferry_error err = {};
        json_t *inv = NULL;

        if (incus_inventory_read(c, &inv, &err) < 0)
                fail_msg("%s", err.message);
        return inv;
}

/* The entry of list whose name (and project, if not NULL) match, or NULL. */
static json_t *find(json_t *inv, const char *list, const char *name, const char *project)
{
        json_t *e;
        size_t i;

        json_array_foreach(json_object_get(inv, list), i, e)
                if (streq(json_string_value(json_object_get(e, "name")), name) &&
                    (!project || streq_ptr(json_string_value(json_object_get(e, "project")), project)))
                        return e;
        return NULL;
}

static void incus_cli(const char *a1, const char *a2, const char *a3, const char *a4, const char *a5)
{
        _cleanup_free_ char *env = strjoin("INCUS_DIR=", lab_env("LAB_INCUS_DIR"), NULL);
        _cleanup_free_ char *out = NULL;

        assert_non_null(env);
        out = proc_run_stdout(0, (char *const[]) { "/usr/bin/env", env, "incus", (char *) a1, (char *) a2, (char *) a3,
                                                   (char *) a4, (char *) a5, NULL });
}

static void test_inventory_lists_the_lab_project_with_its_features(void **state)
{
        _cleanup_json_ json_t *inv = read_inventory();
        json_t *lab, *def;

        (void) state;
        lab = find(inv, "projects", lab_env("LAB_INCUS_PROJECT"), NULL);
        assert_non_null(lab);
        assert_true(json_is_false(json_object_get(json_object_get(lab, "features"), "images")));
        assert_true(json_is_true(json_object_get(json_object_get(lab, "features"), "profiles")));
        def = find(inv, "projects", "default", NULL);
        assert_non_null(def);
        assert_true(json_is_false(json_object_get(json_object_get(inv, "server"), "restricted")));
        assert_true(startswith(json_string_value(json_object_get(json_object_get(inv, "server"), "version")), "6."));
}

static void test_inventory_lists_the_pool_with_driver_and_space(void **state)
{
        _cleanup_json_ json_t *inv = read_inventory();
        json_t *pool, *space;

        (void) state;
        pool = find(inv, "storage_pools", lab_env("LAB_INCUS_POOL"), NULL);
        assert_non_null(pool);
        assert_string_equal(json_string_value(json_object_get(pool, "driver")), "dir");
        space = json_object_get(pool, "space");
        assert_true(json_integer_value(json_object_get(space, "total")) > 0);
        assert_true(json_integer_value(json_object_get(space, "used")) <=
                    json_integer_value(json_object_get(space, "total")));
}

static void test_inventory_lists_the_bridge_once_as_managed_and_vlan_capable(void **state)
{
        _cleanup_json_ json_t *inv = read_inventory();
        json_t *br, *e;
        size_t i, count = 0;

        (void) state;
        br = find(inv, "networks", lab_env("LAB_INCUS_BRIDGE"), "default");
        assert_non_null(br);
        assert_string_equal(json_string_value(json_object_get(br, "type")), "bridge");
        assert_true(json_is_true(json_object_get(br, "managed")));
        assert_true(json_is_true(json_object_get(br, "vlan_capable")));
        /* The lab project has no networks of its own: listed once. */
        json_array_foreach(json_object_get(inv, "networks"), i, e)
                count += streq(json_string_value(json_object_get(e, "name")), lab_env("LAB_INCUS_BRIDGE"));
        assert_int_equal(count, 1);
}

static void test_inventory_lists_profiles_per_project(void **state)
{
        _cleanup_json_ json_t *inv = read_inventory();

        (void) state;
        assert_non_null(find(inv, "profiles", "default", "default"));
        assert_non_null(find(inv, "profiles", "default", lab_env("LAB_INCUS_PROJECT")));
}

static void test_standalone_server_has_no_cluster_members(void **state)
{
        _cleanup_json_ json_t *inv = read_inventory();

        (void) state;
        assert_true(json_is_array(json_object_get(inv, "cluster_members")));
        assert_int_equal(json_array_size(json_object_get(inv, "cluster_members")), 0);
        assert_true(json_is_false(json_object_get(json_object_get(inv, "server"), "clustered")));
}

static void test_objects_made_with_the_cli_appear(void **state)
{
        _cleanup_json_ json_t *inv = NULL;

        (void) state;
        incus_cli("project", "create", "ferry-inv", "-c", "features.networks=true");
        incus_cli("profile", "create", "ferry-inv-profile", "--project", "ferry-inv");
        incus_cli("network", "create", "ferryinv0", "--type=bridge", "ipv4.address=none");
        incus_cli("network", "set", "ferryinv0", "ipv6.address=none", NULL);

        inv = read_inventory();
        assert_non_null(find(inv, "projects", "ferry-inv", NULL));
        assert_true(json_is_true(json_object_get(json_object_get(find(inv, "projects", "ferry-inv", NULL), "features"),
                                                 "networks")));
        assert_non_null(find(inv, "profiles", "ferry-inv-profile", "ferry-inv"));
        assert_non_null(find(inv, "networks", "ferryinv0", "default"));

        incus_cli("network", "delete", "ferryinv0", NULL, NULL);
        incus_cli("profile", "delete", "ferry-inv-profile", "--project", "ferry-inv");
        incus_cli("project", "delete", "ferry-inv", NULL, NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_inventory_lists_the_lab_project_with_its_features),
                cmocka_unit_test(test_inventory_lists_the_pool_with_driver_and_space),
                cmocka_unit_test(test_inventory_lists_the_bridge_once_as_managed_and_vlan_capable),
                cmocka_unit_test(test_inventory_lists_profiles_per_project),
                cmocka_unit_test(test_standalone_server_has_no_cluster_members),
                cmocka_unit_test(test_objects_made_with_the_cli_appear),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
