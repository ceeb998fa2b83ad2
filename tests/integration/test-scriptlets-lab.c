/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The placement scriptlets ferry ships (the .lua files of scriptlets/placement), run
 * against the lab: the instances and networks are what ferry's own VMware
 * sync stores from the lab's vSphere simulator (tests/lab/vcsim/model.json),
 * the target inventory is what ferry reads from the lab's incusd.  Each
 * script gets a CONFIG naming the lab's projects, pools and bridge, the
 * way an admin sets it for their site.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/fileio.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "daemon/sync.h"
#include "db/db.h"
#include "db/instance.h"
#include "db/network.h"
#include "db/source.h"
#include "lab.h"
#include "proc.h"
#include "scriptlet/placement.h"
#include "target/incus/inventory.h"

#ifndef SCRIPTLETS_DIR
#error "SCRIPTLETS_DIR must name the source tree's scriptlets/"
#endif

#define LARGE_POOL "ferry-test-large"

struct lab {
        char *dir;
        json_t *instances, *networks, *targets;
};

static void incus_cli(char *const *args)
{
        _cleanup_free_ char *env = strjoin("INCUS_DIR=", lab_env("LAB_INCUS_DIR"), NULL);
        char *argv[16] = { (char *) "/usr/bin/env", env, (char *) "incus" };
        _cleanup_free_ char *out = NULL;
        size_t n = 3;

        for (size_t i = 0; args[i]; i++)
                argv[n++] = args[i];
        argv[n] = NULL;
        out = proc_run_stdout(0, argv);
}

static json_t *read_inventory(void)
{
        _cleanup_free_ char *endpoint = strjoin("unix://", lab_env("LAB_INCUS_SOCKET"), NULL);
        _cleanup_incus_client_ struct incus_client *c = NULL;
        struct ferry_error err = {};
        json_t *inv = NULL;

        c = incus_client_new(&(struct incus_client_config) { .endpoint = endpoint }, &err);
        if (!c || incus_inventory_read(c, &inv, &err) < 0)
                fail_msg("%s", err.message);
        return inv;
}

static int setup(void **state)
{
        struct lab *l = calloc(1, sizeof(*l));
        _cleanup_free_ char *path = NULL;
        _cleanup_db_ struct db *db = NULL;
        _cleanup_json_ json_t *source = NULL, *inventory = NULL, *mapping = NULL;
        struct ferry_error err = {};
        json_t *net;
        size_t i;

        l->dir = tmpdir_new();
        assert_true(asprintf(&path, "%s/ferry.db", l->dir) > 0);
        assert_int_equal(db_open(path, &db, &err), 0);

        /* ferry's own sync of the lab's vSphere. */
        source = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s}}", "name", "vc01", "type", "vmware", "properties",
                           "endpoint", lab_env("LAB_VCSIM_URL"), "username", lab_env("LAB_VCSIM_USERNAME"),
                           "password", lab_env("LAB_VCSIM_PASSWORD"), "trusted_server_certificate_fingerprint",
                           lab_env("LAB_VCSIM_FINGERPRINT"));
        assert_int_equal(db_source_create(db, source, &err), 0);
        if (sync_source(db, "vc01", NULL, &err) < 0)
                fail_msg("sync: %s", err.message);

        /* Every portgroup maps to the lab's bridge unless a script says otherwise. */
        assert_int_equal(db_network_list(db, NULL, &l->networks, &err), 0);
        mapping = json_pack("{s:{s:s, s:s}}", "*", "network", lab_env("LAB_INCUS_BRIDGE"), "nictype", "managed");
        json_array_foreach(l->networks, i, net) {
                assert_int_equal(db_network_set_mappings(db, json_string_value(json_object_get(net, "uuid")), mapping,
                                                         &err),
                                 0);
                json_object_set(net, "mappings", mapping);
        }
        assert_int_equal(db_instance_list(db, NULL, &l->instances, &err), 0);
        assert_int_equal(json_array_size(l->instances), lab_env_u64("LAB_VCSIM_VM_COUNT"));

        /* A second pool, for the placement by disk size. */
        incus_cli((char *const[]) { (char *) "storage", (char *) "create", (char *) LARGE_POOL, (char *) "dir", NULL });
        inventory = read_inventory();
        l->targets = json_pack("[{s:s, s:s, s:O}]", "name", "lab", "type", "incus", "inventory", inventory);
        *state = l;
        return 0;
}

static int teardown(void **state)
{
        struct lab *l = *state;

        incus_cli((char *const[]) { (char *) "storage", (char *) "delete", (char *) LARGE_POOL, NULL });
        json_decref(l->instances);
        json_decref(l->networks);
        json_decref(l->targets);
        tmpdir_remove(l->dir);
        free(l->dir);
        free(l);
        return 0;
}

/* CONFIG followed by the shipped script. */
static char *script(const char *file, const char *config)
{
        _cleanup_free_ char *path = strjoin(SCRIPTLETS_DIR, "/placement/", file, NULL), *text = NULL;
        size_t len;
        char *all;

        assert_int_equal(fileio_read(path, 1024 * 1024, &text, &len), 0);
        all = strjoin("CONFIG = ", config, "\n", text, NULL);
        assert_non_null(all);
        return all;
}

/* Placement of every instance: {name: {"status", "placement" | "reason" | "error"}}. */
static json_t *place_all(struct lab *l, const char *source)
{
        _cleanup_json_ json_t *batch = json_pack("{s:s, s:{s:{s:s, s:s}}, s:{s:s}}", "name", "lab-batch", "defaults",
                                                 "placement", "target", "lab", "storage_pool",
                                                 lab_env("LAB_INCUS_POOL"), "config", "placement_scriptlet", source);
        json_t *out = json_object(), *instance;
        size_t i;

        json_array_foreach(l->instances, i, instance) {
                struct placement_input in = { .instance = instance, .batch = batch, .targets = l->targets,
                                              .networks = l->networks };
                struct ferry_error err = {};
                json_t *result = NULL;
                int r = placement_compute(&in, NULL, NULL, &result, &err);
                const char *name = json_string_value(json_object_get(instance, "name"));

                if (r == PLACEMENT_PLACED)
                        json_object_set_new(out, name, json_pack("{s:s, s:o}", "status", "Placed", "placement", result));
                else if (r == PLACEMENT_BLOCKED)
                        json_object_set_new(out, name, json_pack("{s:s, s:O}", "status", "Blocked", "reason",
                                                                 json_object_get(result, "reason"))),
                                json_decref(result);
                else
                        json_object_set_new(out, name, json_pack("{s:s, s:s}", "status", "Error", "error", err.message));
        }
        return out;
}

static const json_t *placed(const json_t *all, const char *name)
{
        const json_t *r = json_object_get(all, name);

        if (!streq_ptr(json_string_value(json_object_get(r, "status")), "Placed")) {
                _cleanup_free_ char *text = json_dumps(r, 0);

                fail_msg("%s is not placed: %s", name, text ? text : "?");
        }
        return json_object_get(r, "placement");
}

static const char *blocked(const json_t *all, const char *name)
{
        const json_t *r = json_object_get(all, name);

        if (!streq_ptr(json_string_value(json_object_get(r, "status")), "Blocked")) {
                _cleanup_free_ char *text = json_dumps(r, 0);

                fail_msg("%s is not blocked: %s", name, text ? text : "?");
        }
        return json_string_value(json_object_get(r, "reason"));
}

static const char *s(const json_t *v, const char *key)
{
        return json_string_value(json_object_get(v, key));
}

static void test_os_family_sends_windows_to_its_project(void **state)
{
        _cleanup_free_ char *src = NULL;
        _cleanup_json_ json_t *all = NULL;
        char config[512];

        snprintf(config, sizeof(config),
                 "{families = {windows = {project = '%s', pool = '%s', profiles = {'default'}},"
                 " linux = {project = 'default', pool = '%s'}}}",
                 lab_env("LAB_INCUS_PROJECT"), LARGE_POOL, lab_env("LAB_INCUS_POOL"));
        src = script("os-family.lua", config);
        all = place_all(*state, src);

        for (const char *const *w = (const char *const[]) { "win2016-sql", "win2016-dc", "win2022-app", NULL }; *w;
             w++) {
                assert_string_equal(s(placed(all, *w), "target_project"), lab_env("LAB_INCUS_PROJECT"));
                assert_string_equal(s(placed(all, *w), "storage_pool"), LARGE_POOL);
                assert_string_equal(s(json_object_get(placed(all, *w), "config"), "user.ferry.os_family"), "windows");
        }
        for (const char *const *w = (const char *const[]) { "ubuntu2404", "centos7-web", "debian12-db", "rhel9-api",
                                                            "ubuntu2204-cache", NULL };
             *w; w++) {
                assert_string_equal(s(placed(all, *w), "target_project"), "default");
                assert_string_equal(s(placed(all, *w), "storage_pool"), lab_env("LAB_INCUS_POOL"));
        }
        assert_string_equal(blocked(all, "appliance-blackbox"),
                            "OS of 'appliance-blackbox' is unknown: set an os_type override");
}

static void test_folder_or_attribute_picks_the_project(void **state)
{
        _cleanup_free_ char *src = NULL;
        _cleanup_json_ json_t *all = NULL;
        char config[512];

        snprintf(config, sizeof(config),
                 "{rules = {{attribute = 'owner', value = 'team-data', project = '%s'},"
                 " {folder = '/dc-west/vm/Legacy', project = '%s'}}, default_project = 'default'}",
                 lab_env("LAB_INCUS_PROJECT"), lab_env("LAB_INCUS_PROJECT"));
        src = script("folder-or-tag.lua", config);
        all = place_all(*state, src);

        /* Custom attribute owner=team-data in model.json. */
        assert_string_equal(s(placed(all, "debian12-db"), "target_project"), lab_env("LAB_INCUS_PROJECT"));
        assert_string_equal(s(placed(all, "win2016-sql"), "target_project"), lab_env("LAB_INCUS_PROJECT"));
        /* The Legacy folder of dc-west. */
        assert_string_equal(s(placed(all, "legacy-unknown"), "target_project"), lab_env("LAB_INCUS_PROJECT"));
        /* Neither. */
        assert_string_equal(s(placed(all, "ubuntu2404"), "target_project"), "default");
        assert_string_equal(s(placed(all, "win2022-app"), "target_project"), "default");
}

static void test_disk_size_puts_big_disks_on_the_large_pool(void **state)
{
        _cleanup_free_ char *src = NULL;
        _cleanup_json_ json_t *all = NULL;
        char config[256];
        const json_t *disks;

        snprintf(config, sizeof(config), "{large_bytes = 64 * 1024 * 1024, large_pool = '%s', small_pool = '%s'}",
                 LARGE_POOL, lab_env("LAB_INCUS_POOL"));
        src = script("disk-size.lua", config);
        all = place_all(*state, src);

        /* debian12-db: 64, 128 and 32 MiB. */
        disks = json_object_get(placed(all, "debian12-db"), "disks");
        assert_int_equal(json_array_size(disks), 3);
        assert_string_equal(s(json_array_get(disks, 0), "pool"), LARGE_POOL);
        assert_string_equal(s(json_array_get(disks, 1), "pool"), LARGE_POOL);
        assert_string_equal(s(json_array_get(disks, 2), "pool"), lab_env("LAB_INCUS_POOL"));
        assert_string_equal(s(placed(all, "debian12-db"), "storage_pool"), LARGE_POOL);
        /* win2016-sql: 96 and 48 MiB; the independent 16 MiB disk stays behind. */
        disks = json_object_get(placed(all, "win2016-sql"), "disks");
        assert_int_equal(json_array_size(disks), 2);
        assert_string_equal(s(json_array_get(disks, 0), "pool"), LARGE_POOL);
        assert_string_equal(s(json_array_get(disks, 1), "pool"), lab_env("LAB_INCUS_POOL"));
        /* centos8-app: one 16 MiB disk. */
        assert_string_equal(s(placed(all, "centos8-app"), "storage_pool"), lab_env("LAB_INCUS_POOL"));
}

static const json_t *nic_of(const json_t *placement, const char *hwaddr)
{
        const json_t *nic;
        size_t i;

        json_array_foreach(json_object_get(placement, "nics"), i, nic)
                if (streq(s(nic, "hardware_address"), hwaddr))
                        return nic;
        fail_msg("no NIC %s", hwaddr);
        return NULL;
}

static void test_portgroup_vlan_carries_the_vlans(void **state)
{
        _cleanup_free_ char *src = NULL;
        _cleanup_json_ json_t *all = NULL;
        _cleanup_(strbuf_done) struct strbuf expected = STRBUF_INIT;
        char config[256];

        snprintf(config, sizeof(config), "{bridge = '%s', nictype = 'managed', networks = {}, max_tagged = 128}",
                 lab_env("LAB_INCUS_BRIDGE"));
        src = script("portgroup-vlan.lua", config);
        all = place_all(*state, src);

        /* dvpg-app-200: one VLAN. */
        assert_string_equal(s(nic_of(placed(all, "ubuntu2404"), "00:50:56:01:00:01"), "vlan"), "200");
        assert_string_equal(s(nic_of(placed(all, "ubuntu2404"), "00:50:56:01:00:01"), "network"),
                            lab_env("LAB_INCUS_BRIDGE"));
        /* lan-100: a standard portgroup with VLAN 100. */
        assert_string_equal(s(nic_of(placed(all, "centos7-web"), "00:50:56:01:00:02"), "vlan"), "100");
        /* VM Network: none. */
        assert_string_equal(s(nic_of(placed(all, "appliance-blackbox"), "00:50:56:01:00:06"), "vlan"), "");
        /* dvpg-trunk-west: 1000-1099, tagged. */
        for (int id = 1000; id <= 1099; id++)
                assert_int_equal(strbuf_appendf(&expected, "%s%d", id > 1000 ? "," : "", id), 0);
        assert_string_equal(s(nic_of(placed(all, "rhel9-api"), "00:50:56:02:00:02"), "vlan"), strbuf_str(&expected));
        /* dvpg-trunk-east: 300-399 and 500-510 are 111 VLANs: fine with 128. */
        assert_int_equal(strlen(s(nic_of(placed(all, "win2016-sql"), "00:50:56:01:00:04"), "vlan")),
                         100 * 4 - 1 + 11 * 4);
}

static void test_portgroup_vlan_blocks_wide_trunks(void **state)
{
        _cleanup_free_ char *src = NULL;
        _cleanup_json_ json_t *all = NULL;
        char config[256];

        snprintf(config, sizeof(config), "{bridge = '%s', nictype = 'managed', networks = {}, max_tagged = 64}",
                 lab_env("LAB_INCUS_BRIDGE"));
        src = script("portgroup-vlan.lua", config);
        all = place_all(*state, src);
        assert_string_equal(blocked(all, "win2016-sql"),
                            "NIC 00:50:56:01:00:04 of 'win2016-sql' trunks more than 64 VLANs (300-399,500-510): map "
                            "its portgroup by hand");
}

/* The FNV-1a hash the script uses, to know where each instance should go. */
static uint32_t fnv1a(const char *s)
{
        uint32_t h = 2166136261u;

        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * 16777619u;
        return h;
}

static void test_spread_members_uses_online_members_evenly(void **state)
{
        struct lab *l = *state;
        _cleanup_json_ json_t *all = NULL;
        _cleanup_free_ char *src = script("spread-members.lua", "nil");
        json_t *inventory = json_object_get(json_array_get(l->targets, 0), "inventory"), *instance;
        const char *online[] = { "m1", "m3" };
        int used[2] = {};
        size_t i;

        /* The lab's incusd is a single server: give its inventory three members. */
        json_object_set_new(inventory, "cluster_members",
                            json_pack("[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]", "name", "m3", "status", "Online", "name",
                                      "m2", "status", "Offline", "name", "m1", "status", "Online"));
        all = place_all(l, src);
        json_object_set_new(inventory, "cluster_members", json_array());

        json_array_foreach(l->instances, i, instance) {
                const char *name = s(instance, "name");
                uint32_t want = fnv1a(s(instance, "uuid")) % 2;

                assert_string_equal(s(placed(all, name), "member"), online[want]);
                used[want]++;
        }
        assert_true(used[0] > 0 && used[1] > 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_os_family_sends_windows_to_its_project),
                cmocka_unit_test(test_folder_or_attribute_picks_the_project),
                cmocka_unit_test(test_disk_size_puts_big_disks_on_the_large_pool),
                cmocka_unit_test(test_portgroup_vlan_carries_the_vlans),
                cmocka_unit_test(test_portgroup_vlan_blocks_wide_trunks),
                cmocka_unit_test(test_spread_members_uses_online_members_evenly),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
