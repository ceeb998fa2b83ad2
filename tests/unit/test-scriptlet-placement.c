/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Placement: the scriptlet's intent over the batch defaults and network
 * mappings, checked against a target inventory shaped like the lab's
 * incusd (a managed bridge labbr0, project lab with its own profiles), an
 * unmanaged interface, an OVN network and a cluster target.
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
#include "scriptlet/placement.h"

static const char targets_json[] =
        "[{\"name\": \"incus1\", \"type\": \"incus\", \"inventory\": {"
        "  \"server\": {\"version\": \"6.0.4\", \"name\": \"lab\", \"clustered\": false, \"restricted\": false},"
        "  \"projects\": [{\"name\": \"default\", \"features\": {\"networks\": true, \"profiles\": true}},"
        "                {\"name\": \"lab\", \"features\": {\"images\": false, \"networks\": false, \"profiles\": true}}],"
        "  \"networks\": [{\"name\": \"labbr0\", \"project\": \"default\", \"type\": \"bridge\", \"managed\": true,"
        "                  \"vlan_capable\": true},"
        "                {\"name\": \"ovn1\", \"project\": \"default\", \"type\": \"ovn\", \"managed\": true,"
        "                  \"vlan_capable\": false},"
        "                {\"name\": \"eth0\", \"project\": \"default\", \"type\": \"physical\", \"managed\": false,"
        "                  \"vlan_capable\": true}],"
        "  \"storage_pools\": [{\"name\": \"default\", \"driver\": \"dir\"}, {\"name\": \"fast\", \"driver\": \"dir\"}],"
        "  \"profiles\": [{\"name\": \"default\", \"project\": \"default\"}, {\"name\": \"windows\", \"project\": \"default\"},"
        "                {\"name\": \"default\", \"project\": \"lab\"}],"
        "  \"cluster_members\": []}},"
        " {\"name\": \"cluster1\", \"type\": \"incus\", \"inventory\": {"
        "  \"projects\": [{\"name\": \"default\", \"features\": {\"networks\": true, \"profiles\": true}}],"
        "  \"networks\": [{\"name\": \"br0\", \"project\": \"default\", \"type\": \"bridge\", \"managed\": true,"
        "                  \"vlan_capable\": true}],"
        "  \"storage_pools\": [{\"name\": \"ceph\", \"driver\": \"ceph\"}],"
        "  \"profiles\": [{\"name\": \"default\", \"project\": \"default\"}],"
        "  \"cluster_members\": [{\"name\": \"n1\", \"status\": \"Online\"}, {\"name\": \"n2\", \"status\": \"Offline\"}]}},"
        " {\"name\": \"fresh\", \"type\": \"incus\", \"inventory\": {}}]";

static const char networks_json[] =
        "[{\"uuid\": \"net-lan\", \"name\": \"lan-100\", \"type\": \"standard\", \"vlan\": \"100\","
        "  \"mappings\": {\"*\": {\"network\": \"labbr0\", \"nictype\": \"managed\", \"vlan\": \"\"},"
        "               \"cluster1\": {\"network\": \"br0\", \"nictype\": \"managed\", \"vlan\": \"100\"}}},"
        " {\"uuid\": \"net-app\", \"name\": \"dvpg-app-200\", \"type\": \"distributed\", \"vlan\": \"200\","
        "  \"mappings\": {\"*\": {\"nictype\": \"physical\", \"vlan\": \"200\"},"
        "               \"incus1\": {\"network\": \"eth0\", \"nictype\": \"macvlan\", \"vlan\": \"200\"}}}]";

static const char instance_json[] =
        "{\"uuid\": \"4216a1b2-0001\", \"source\": \"vc01\", \"name\": \"web1\", \"location\": \"/dc/vm/Linux/web1\","
        " \"os\": \"Ubuntu\", \"os_version\": \"24.04\", \"cpus\": 2, \"memory\": 2147483648,"
        " \"config\": {\"tag.env\": \"prod\"},"
        " \"disks\": [{\"name\": \"Hard disk 1\", \"capacity\": 68719476736, \"supported\": true},"
        "           {\"name\": \"Hard disk 2\", \"capacity\": 1099511627776, \"supported\": true},"
        "           {\"name\": \"Hard disk 3\", \"capacity\": 1073741824, \"supported\": false}],"
        " \"nics\": [{\"hardware_address\": \"00:50:56:01:00:01\", \"network\": \"net-lan\"},"
        "          {\"hardware_address\": \"00:50:56:01:00:02\", \"network\": \"net-app\"}],"
        " \"overrides\": {\"os\": \"Debian\", \"comment\": \"checked by hand\"}}";

struct fixture {
        json_t *targets, *networks, *instance, *batch, *log;
};

static json_t *parse(const char *text)
{
        json_t *v = NULL;
        struct ferry_error err = {};

        if (json_parse_strict(text, strlen(text), &v, &err) < 0)
                fail_msg("%s", err.message);
        return v;
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        f->targets = parse(targets_json);
        f->networks = parse(networks_json);
        f->instance = parse(instance_json);
        f->batch = parse("{\"name\": \"wave1\", \"include_expression\": \"true\","
                         " \"defaults\": {\"placement\": {\"target\": \"incus1\", \"target_project\": \"default\","
                         "                               \"storage_pool\": \"default\", \"profiles\": [\"default\"]}},"
                         " \"config\": {\"placement_scriptlet\": \"\"}}");
        f->log = json_array();
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        json_decref(f->targets);
        json_decref(f->networks);
        json_decref(f->instance);
        json_decref(f->batch);
        json_decref(f->log);
        free(f);
        return 0;
}

static void set_script(struct fixture *f, const char *script)
{
        json_object_set_new(json_object_get(f->batch, "config"), "placement_scriptlet", json_string(script));
}

static int place(struct fixture *f, json_t **ret, struct ferry_error *err)
{
        struct placement_input in = {
                .instance = f->instance, .batch = f->batch, .targets = f->targets, .networks = f->networks,
        };

        return placement_compute(&in, NULL, f->log, ret, err);
}

static json_t *place_ok(struct fixture *f)
{
        json_t *p = NULL;
        struct ferry_error err = {};
        int r = place(f, &p, &err);

        if (r != PLACEMENT_PLACED)
                fail_msg("placement failed (%d): %s", r, err.message);
        return p;
}

static void assert_place_fails(struct fixture *f, const char *script, const char *message)
{
        _cleanup_json_ json_t *p = NULL;
        struct ferry_error err = {};
        int r;

        if (script)
                set_script(f, script);
        r = place(f, &p, &err);
        if (r >= 0)
                fail_msg("placement succeeded, expected: %s", message);
        if (!streq(err.message, message))
                fail_msg("placement failed with:\n%s\nexpected:\n%s", err.message, message);
        assert_null(p);
}

static void assert_json(const json_t *v, const char *expected)
{
        _cleanup_json_ json_t *e = parse(expected);

        if (!json_equal(v, e)) {
                _cleanup_free_ char *text = json_dumps(v, JSON_SORT_KEYS);

                fail_msg("got %s\nexpected %s", text, expected);
        }
}

/* --- merging --------------------------------------------------------------------------- */

static void test_without_a_scriptlet_the_defaults_and_mappings_place(void **state)
{
        _cleanup_json_ json_t *p = place_ok(*state);

        /* The unsupported third disk stays behind. */
        assert_json(p, "{\"target\": \"incus1\", \"target_project\": \"default\", \"member\": \"\","
                       " \"storage_pool\": \"default\", \"profiles\": [\"default\"],"
                       " \"disks\": [{\"name\": \"Hard disk 1\", \"pool\": \"default\"},"
                       "            {\"name\": \"Hard disk 2\", \"pool\": \"default\"}],"
                       " \"nics\": [{\"hardware_address\": \"00:50:56:01:00:01\", \"source_network\": \"lan-100\","
                       "            \"network\": \"labbr0\", \"nictype\": \"managed\", \"vlan\": \"\"},"
                       "           {\"hardware_address\": \"00:50:56:01:00:02\", \"source_network\": \"dvpg-app-200\","
                       "            \"network\": \"eth0\", \"nictype\": \"macvlan\", \"vlan\": \"200\"}],"
                       " \"config\": {}}");
}

static void test_the_scriptlet_overrides_every_default(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *p = NULL;

        set_script(f, "function placement(instance, batch)\n"
                      "  set_target('incus1')\n"
                      "  set_project('lab')\n"
                      "  set_pool('*', 'fast')\n"
                      "  set_pool('Hard disk 2', 'default')\n"
                      "  set_network('00:50:56:01:00:02', 'labbr0', 'managed', '10,20')\n"
                      "  set_profiles({'default'})\n"
                      "  set_config('user.owner', 'team-web')\n"
                      "  set_config('limits.cpu', instance.cpus * 2)\n"
                      "end\n");
        p = place_ok(f);
        assert_json(p, "{\"target\": \"incus1\", \"target_project\": \"lab\", \"member\": \"\","
                       " \"storage_pool\": \"fast\", \"profiles\": [\"default\"],"
                       " \"disks\": [{\"name\": \"Hard disk 1\", \"pool\": \"fast\"},"
                       "            {\"name\": \"Hard disk 2\", \"pool\": \"default\"}],"
                       " \"nics\": [{\"hardware_address\": \"00:50:56:01:00:01\", \"source_network\": \"lan-100\","
                       "            \"network\": \"labbr0\", \"nictype\": \"managed\", \"vlan\": \"\"},"
                       "           {\"hardware_address\": \"00:50:56:01:00:02\", \"source_network\": \"dvpg-app-200\","
                       "            \"network\": \"labbr0\", \"nictype\": \"managed\", \"vlan\": \"10,20\"}],"
                       " \"config\": {\"user.owner\": \"team-web\", \"limits.cpu\": \"4\"}}");
}

static void test_mappings_for_the_chosen_target_win_over_star(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *p = NULL;

        set_script(f, "function placement(instance, batch)\n"
                      "  set_target('cluster1')\n  set_pool('*', 'ceph')\n"
                      "  set_network('00:50:56:01:00:02', 'br0')\n"
                      "end\n");
        p = place_ok(f);
        assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(p, "nics"), 0), "vlan")),
                            "100");
        assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(p, "nics"), 1), "nictype")),
                            "managed");
}

static void test_the_script_sees_overrides_synced_values_and_source_networks(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *p = NULL;

        set_script(f, "function placement(instance, batch)\n"
                      "  set_config('user.os', instance.os .. '/' .. instance.synced.os)\n"
                      "  set_config('user.comment', instance.overrides.comment)\n"
                      "  local nic = instance.nics[2]\n"
                      "  set_config('user.net', nic.network_name .. '@' .. nic.network_vlan .. ':' .. nic.network_type)\n"
                      "  set_config('user.batch', batch.name .. ':' .. batch.defaults.placement.target)\n"
                      "end\n");
        p = place_ok(f);
        assert_json(json_object_get(p, "config"),
                    "{\"user.os\": \"Debian/Ubuntu\", \"user.comment\": \"checked by hand\","
                    " \"user.net\": \"dvpg-app-200@200:distributed\", \"user.batch\": \"wave1:incus1\"}");
}

static void test_targets_returns_a_copy_of_each_inventory(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *p = NULL;

        set_script(f, "function placement(instance, batch)\n"
                      "  local t = targets()\n"
                      "  assert(t.incus1.name == 'incus1')\n"
                      "  assert(t.cluster1.cluster_members[2].status == 'Offline')\n"
                      "  t.incus1.storage_pools = nil\n"
                      "  assert(#targets().incus1.storage_pools == 2)\n"
                      "  set_config('user.pools', tostring(#targets().incus1.storage_pools))\n"
                      "end\n");
        p = place_ok(f);
        assert_string_equal(json_string_value(json_object_get(json_object_get(p, "config"), "user.pools")), "2");
}

static void test_fail_blocks_with_the_reason_and_keeps_the_log(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *p = NULL;
        struct ferry_error err = {};

        set_script(f, "function placement(instance, batch)\n"
                      "  log_info('looking at ' .. instance.name)\n"
                      "  pcall(fail, 'Owner must sign off on ' .. instance.name)\n"
                      "  set_target('nowhere')\n"
                      "end\n");
        assert_int_equal(place(f, &p, &err), PLACEMENT_BLOCKED);
        assert_json(p, "{\"reason\": \"Owner must sign off on web1\"}");
        assert_json(f->log, "[{\"level\": \"info\", \"message\": \"looking at web1\"}]");
}

static void test_a_cluster_member_must_be_online(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *p = NULL;

        set_script(f, "function placement(instance, batch)\n"
                      "  set_target('cluster1')\n  set_pool('*', 'ceph')\n  set_member('n1')\n"
                      "  set_network('00:50:56:01:00:02', 'br0')\n"
                      "end\n");
        p = place_ok(f);
        assert_string_equal(json_string_value(json_object_get(p, "member")), "n1");

        assert_place_fails(f,
                           "function placement(instance, batch)\n"
                           "  set_target('cluster1')\n  set_pool('*', 'ceph')\n  set_member('n2')\n"
                           "end\n",
                           "Cluster member 'n2' (from the scriptlet) of target 'cluster1' is 'Offline', not 'Online'");
        assert_place_fails(f,
                           "function placement(instance, batch)\n"
                           "  set_target('cluster1')\n  set_pool('*', 'ceph')\n  set_member('n9')\n"
                           "end\n",
                           "Cluster member 'n9' (from the scriptlet) is not in target 'cluster1', whose members are "
                           "'n1', 'n2'");
        assert_place_fails(f, "function placement(instance, batch)\n  set_member('n1')\nend\n",
                           "Cluster member 'n1' (from the scriptlet): target 'incus1' is a single server, not a "
                           "cluster");
}

/* --- what the inventory refuses -------------------------------------------------------- */

static void test_an_unknown_target_lists_the_known_ones(void **state)
{
        assert_place_fails(*state, "function placement(i, b) set_target('incus9') end",
                           "Target 'incus9' (from the scriptlet) does not exist; ferry knows targets 'incus1', "
                           "'cluster1', 'fresh'");
}

static void test_no_target_at_all_says_where_one_could_come_from(void **state)
{
        struct fixture *f = *state;

        json_object_del(json_object_get(json_object_get(f->batch, "defaults"), "placement"), "target");
        assert_place_fails(f, NULL,
                           "No target for instance 'web1': the batch's defaults name none and the scriptlet set none");
}

static void test_a_target_without_inventory_is_refused(void **state)
{
        assert_place_fails(*state, "function placement(i, b) set_target('fresh') end",
                           "Target 'fresh' has no inventory yet: wait for its first sync");
}

static void test_an_unknown_project_lists_the_target_projects(void **state)
{
        assert_place_fails(*state, "function placement(i, b) set_project('prod') end",
                           "Project 'prod' (from the scriptlet) is not on target 'incus1', which has projects "
                           "'default', 'lab'");
}

static void test_an_unknown_pool_names_the_disk_and_lists_the_pools(void **state)
{
        assert_place_fails(*state, "function placement(i, b) set_pool('Hard disk 2', 'ssd') end",
                           "Storage pool 'ssd' (for disk 'Hard disk 2', from the scriptlet) is not on target "
                           "'incus1', which has pools 'default', 'fast'");
}

static void test_an_unknown_default_pool_blames_the_defaults(void **state)
{
        struct fixture *f = *state;

        json_object_set_new(json_object_get(json_object_get(f->batch, "defaults"), "placement"), "storage_pool",
                            json_string("gone"));
        assert_place_fails(f, NULL,
                           "Storage pool 'gone' (from the batch defaults) is not on target 'incus1', which has pools "
                           "'default', 'fast'");
}

static void test_a_profile_of_another_project_is_refused(void **state)
{
        assert_place_fails(*state, "function placement(i, b) set_project('lab') set_profiles({'default', 'windows'}) end",
                           "Profile 'windows' (from the scriptlet) is not in project 'lab' of target 'incus1', which "
                           "has profiles 'default'");
}

static void test_a_managed_nic_on_a_host_interface_is_refused(void **state)
{
        assert_place_fails(*state, "function placement(i, b) set_network('00:50:56:01:00:01', 'eth0') end",
                           "NIC 00:50:56:01:00:01 (source network 'lan-100'): the scriptlet wants a managed NIC on "
                           "'eth0', but on target 'incus1' 'eth0' is an unmanaged physical interface: use nictype "
                           "'bridged', 'macvlan' or 'physical'");
}

static void test_a_vlan_on_an_ovn_network_is_refused(void **state)
{
        assert_place_fails(*state, "function placement(i, b) set_network('00:50:56:01:00:01', 'ovn1', 'managed', 200) end",
                           "NIC 00:50:56:01:00:01 (source network 'lan-100'): the scriptlet wants VLAN '200' on "
                           "'ovn1', but on target 'incus1' 'ovn1' is a managed ovn network that cannot carry VLANs");
}

static void test_tagged_vlans_on_macvlan_are_refused(void **state)
{
        assert_place_fails(*state,
                           "function placement(i, b) set_network('00:50:56:01:00:02', 'eth0', 'macvlan', '10,20') end",
                           "NIC 00:50:56:01:00:02 (source network 'dvpg-app-200'): the scriptlet wants tagged VLANs "
                           "'10,20' on a macvlan NIC, which carries one VLAN: use nictype 'bridged' or 'managed'");
}

static void test_a_macvlan_nic_on_a_managed_bridge_is_refused(void **state)
{
        assert_place_fails(*state,
                           "function placement(i, b) set_network('00:50:56:01:00:02', 'labbr0', 'macvlan') end",
                           "NIC 00:50:56:01:00:02 (source network 'dvpg-app-200'): the scriptlet wants a macvlan NIC "
                           "on 'labbr0', but on target 'incus1' 'labbr0' is a managed bridge network: use nictype "
                           "'managed'");
}

static void test_an_unknown_network_lists_the_project_networks(void **state)
{
        assert_place_fails(*state, "function placement(i, b) set_network('00:50:56:01:00:01', 'br9') end",
                           "NIC 00:50:56:01:00:01 (source network 'lan-100'): network 'br9' (from the scriptlet) is "
                           "not on target 'incus1' in project 'default', which has networks 'labbr0', 'ovn1', 'eth0'");
}

static void test_a_mapping_without_a_network_needs_the_scriptlet(void **state)
{
        struct fixture *f = *state;

        json_object_del(json_object_get(json_array_get(f->networks, 1), "mappings"), "incus1");
        assert_place_fails(f, NULL,
                           "NIC 00:50:56:01:00:02 of instance 'web1': source network 'dvpg-app-200' has no mapping "
                           "with a network for target 'incus1' and the scriptlet set none");
}

static void test_a_wrong_mapping_is_blamed_on_the_mapping(void **state)
{
        struct fixture *f = *state;

        json_object_set_new(json_object_get(json_object_get(json_array_get(f->networks, 0), "mappings"), "*"),
                            "network", json_string("eth0"));
        assert_place_fails(f, NULL,
                           "NIC 00:50:56:01:00:01 (source network 'lan-100'): the network mapping for '*' wants a "
                           "managed NIC on 'eth0', but on target 'incus1' 'eth0' is an unmanaged physical interface: "
                           "use nictype 'bridged', 'macvlan' or 'physical'");
}

/* --- what the builtins refuse, with the line ------------------------------------------- */

static void test_set_config_refuses_unsafe_keys(void **state)
{
        assert_place_fails(*state, "function placement(i, b)\n  set_config('raw.qemu', '-S')\nend\n",
                           "Scriptlet 'wave1' failed at line 2: set_config: Config key 'raw.qemu' is not one a "
                           "scriptlet may set: use user.*, limits.*, snapshots.*, boot.autostart*, "
                           "boot.host_shutdown_timeout, boot.stop.priority or cluster.evacuate");
        assert_true(placement_config_key_allowed("user.x"));
        assert_true(placement_config_key_allowed("limits.memory"));
        assert_false(placement_config_key_allowed("security.privileged"));
        assert_false(placement_config_key_allowed("user."));
        assert_false(placement_config_key_allowed("volatile.uuid"));
}

static void test_set_pool_of_an_unknown_disk_lists_the_disks(void **state)
{
        assert_place_fails(*state, "function placement(i, b)\n\n  set_pool('data', 'fast')\nend\n",
                           "Scriptlet 'wave1' failed at line 3: set_pool: Instance 'web1' has no disk 'data' (its "
                           "disks: 'Hard disk 1', 'Hard disk 2', 'Hard disk 3'; '*' means all)");
}

static void test_set_network_of_an_unknown_nic_lists_the_nics(void **state)
{
        assert_place_fails(*state, "function placement(i, b) set_network('aa:bb', 'labbr0') end",
                           "Scriptlet 'wave1' failed at line 1: set_network: Instance 'web1' has no NIC 'aa:bb' (its "
                           "NICs: '00:50:56:01:00:01', '00:50:56:01:00:02')");
}

static void test_set_network_checks_nictype_and_vlan(void **state)
{
        struct fixture *f = *state;

        assert_place_fails(f, "function placement(i, b) set_network('00:50:56:01:00:01', 'labbr0', 'sriov') end",
                           "Scriptlet 'wave1' failed at line 1: set_network: NIC type 'sriov' is not one of "
                           "'managed', 'bridged', 'macvlan', 'physical'");
        assert_place_fails(f, "function placement(i, b) set_network('00:50:56:01:00:01', 'labbr0', nil, '5000') end",
                           "Scriptlet 'wave1' failed at line 1: set_network: VLAN '5000' is not a VLAN id from 1 to "
                           "4094 or a comma-separated list of them");
}

static void test_set_target_wants_a_name(void **state)
{
        assert_place_fails(*state, "function placement(i, b) set_target('a b') end",
                           "Scriptlet 'wave1' failed at line 1: set_target: Target 'a b' is not a valid name");
        assert_place_fails(*state, "function placement(i, b) set_target() end",
                           "Scriptlet 'wave1' failed at line 1: set_target: Target is missing");
}

static void test_a_script_without_placement_is_an_error(void **state)
{
        assert_place_fails(*state, "function place(i, b) end",
                           "Scriptlet 'wave1' does not define a function 'placement'");
}

static void test_a_hostile_placement_hits_its_limit(void **state)
{
        assert_place_fails(*state, "function placement(i, b)\n  while true do end\nend\n",
                           "Scriptlet 'wave1' exceeded its instruction limit of 10000000, at line 2");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
                T(test_without_a_scriptlet_the_defaults_and_mappings_place),
                T(test_the_scriptlet_overrides_every_default),
                T(test_mappings_for_the_chosen_target_win_over_star),
                T(test_the_script_sees_overrides_synced_values_and_source_networks),
                T(test_targets_returns_a_copy_of_each_inventory),
                T(test_fail_blocks_with_the_reason_and_keeps_the_log),
                T(test_a_cluster_member_must_be_online),
                T(test_an_unknown_target_lists_the_known_ones),
                T(test_no_target_at_all_says_where_one_could_come_from),
                T(test_a_target_without_inventory_is_refused),
                T(test_an_unknown_project_lists_the_target_projects),
                T(test_an_unknown_pool_names_the_disk_and_lists_the_pools),
                T(test_an_unknown_default_pool_blames_the_defaults),
                T(test_a_profile_of_another_project_is_refused),
                T(test_a_managed_nic_on_a_host_interface_is_refused),
                T(test_a_vlan_on_an_ovn_network_is_refused),
                T(test_tagged_vlans_on_macvlan_are_refused),
                T(test_a_macvlan_nic_on_a_managed_bridge_is_refused),
                T(test_an_unknown_network_lists_the_project_networks),
                T(test_a_mapping_without_a_network_needs_the_scriptlet),
                T(test_a_wrong_mapping_is_blamed_on_the_mapping),
                T(test_set_config_refuses_unsafe_keys),
                T(test_set_pool_of_an_unknown_disk_lists_the_disks),
                T(test_set_network_of_an_unknown_nic_lists_the_nics),
                T(test_set_network_checks_nictype_and_vlan),
                T(test_set_target_wants_a_name),
                T(test_a_script_without_placement_is_an_error),
                T(test_a_hostile_placement_hits_its_limit),
#undef T
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
