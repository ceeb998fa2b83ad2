/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VMware source driver against the lab's vSphere simulator: sessions,
 * trust, paged retrieval, the inventory checked against the lab's model
 * file, and the operations a warm migration needs, each verified through
 * the simulator's own state.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "lab.h"
#include "source/source.h"
#include "source/vmware/client.h"
#include "source/vmware/inventory.h"
#include "source/vmware/vmware.h"

static json_t *model;

static json_t *source_json(const char *password, const char *fingerprint)
{
        json_t *s = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:[]}}", "name", "lab", "type", "vmware",
                              "properties", "endpoint", lab_env("LAB_VCSIM_URL"), "username",
                              lab_env("LAB_VCSIM_USERNAME"), "password", password,
                              "trusted_server_certificate_fingerprint", fingerprint, "datacenters");

        assert_non_null(s);
        return s;
}

static struct source *connect_ok(void)
{
        _cleanup_json_ json_t *src = source_json(lab_env("LAB_VCSIM_PASSWORD"), lab_env("LAB_VCSIM_FINGERPRINT"));
        struct source_connect_result res;
        struct ferry_error err = {};
        struct source *s = NULL;

        if (vmware_source_ops.connect(src, &s, &res, &err) < 0)
                fail_msg("connect: %s", err.message);
        assert_string_equal(res.status, SOURCE_STATUS_OK);
        return s;
}

static void test_connect_with_the_pinned_certificate_is_ok(void **state)
{
        struct source *s;

        (void) state;
        s = connect_ok();
        assert_non_null(vmware_client_service(vmware_source_client(s)));
        assert_string_equal(vmware_client_peer_fingerprint(vmware_source_client(s)), lab_env("LAB_VCSIM_FINGERPRINT"));
        assert_ptr_equal(source_ops_find("vmware"), &vmware_source_ops);
        vmware_source_ops.disconnect(s);
}

static void test_wrong_password_is_an_authentication_error(void **state)
{
        _cleanup_json_ json_t *src = source_json("wrong & <password>", lab_env("LAB_VCSIM_FINGERPRINT"));
        struct source_connect_result res;
        struct ferry_error err = {};
        struct source *s = NULL;

        (void) state;
        assert_int_equal(vmware_source_ops.connect(src, &s, &res, &err), -EACCES);
        assert_null(s);
        assert_string_equal(res.status, SOURCE_STATUS_AUTH_ERROR);
        assert_true(startswith(err.message, "Authentication error: "));
}

static void test_unpinned_self_signed_certificate_asks_to_confirm_its_fingerprint(void **state)
{
        _cleanup_json_ json_t *src = source_json(lab_env("LAB_VCSIM_PASSWORD"), "");
        struct source_connect_result res;
        struct ferry_error err = {};
        struct source *s = NULL;
        char want[256];

        (void) state;
        assert_int_equal(vmware_source_ops.connect(src, &s, &res, &err), -EPERM);
        assert_string_equal(res.status, SOURCE_STATUS_CONFIRM_FINGERPRINT);
        assert_string_equal(res.fingerprint, lab_env("LAB_VCSIM_FINGERPRINT"));
        snprintf(want, sizeof(want), "The server's TLS certificate is not trusted: if its fingerprint '%s' is right",
                 lab_env("LAB_VCSIM_FINGERPRINT"));
        assert_true(startswith(err.message, want));
}

static void test_another_pinned_fingerprint_asks_to_confirm_the_servers(void **state)
{
        _cleanup_json_ json_t *src = source_json(lab_env("LAB_VCSIM_PASSWORD"),
                                                 "0000000000000000000000000000000000000000000000000000000000000000");
        struct source_connect_result res;
        struct ferry_error err = {};
        struct source *s = NULL;

        (void) state;
        assert_int_equal(vmware_source_ops.connect(src, &s, &res, &err), -EPERM);
        assert_string_equal(res.status, SOURCE_STATUS_CONFIRM_FINGERPRINT);
        assert_string_equal(res.fingerprint, lab_env("LAB_VCSIM_FINGERPRINT"));
}

static void test_closed_port_cannot_connect(void **state)
{
        _cleanup_json_ json_t *src = source_json("x", "");
        struct source_connect_result res;
        struct ferry_error err = {};
        struct source *s = NULL;

        (void) state;
        json_object_set_new(json_object_get(src, "properties"), "endpoint", json_string("https://127.0.0.1:9/sdk"));
        assert_int_equal(vmware_source_ops.connect(src, &s, &res, &err), -ECONNREFUSED);
        assert_string_equal(res.status, SOURCE_STATUS_CANNOT_CONNECT);
        assert_true(startswith(err.message, "Cannot connect to "));
}

/* Count the objects of each type: paged or not, the same objects come back. */
static void test_small_pages_return_the_same_objects(void **state)
{
        struct source *s = connect_ok();
        struct vmware_client *c = vmware_source_client(s);
        struct vmware_objects all = {}, paged = {};
        struct ferry_error err = {};
        size_t vms = 0;

        (void) state;
        if (vmware_client_retrieve(c, vmware_inventory_specs, vmware_inventory_n_specs, 0, &all, &err) < 0)
                fail_msg("%s", err.message);
        if (vmware_client_retrieve(c, vmware_inventory_specs, vmware_inventory_n_specs, 3, &paged, &err) < 0)
                fail_msg("%s", err.message);
        assert_int_equal(paged.n, all.n);
        assert_int_equal(vmware_client_last_pages(c), (all.n + 2) / 3);
        for (size_t i = 0; i < paged.n; i++) {
                assert_non_null(vmware_objects_find(&all, paged.items[i].moref));
                vms += streq(paged.items[i].type, "VirtualMachine");
        }
        assert_int_equal(vms, lab_env_u64("LAB_VCSIM_VM_COUNT"));
        vmware_objects_done(&all);
        vmware_objects_done(&paged);
        vmware_source_ops.disconnect(s);
}

static void test_an_ended_session_logs_in_again(void **state)
{
        struct source *s = connect_ok();
        struct vmware_client *c = vmware_source_client(s);
        struct vmware_objects objs = {};
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(vmware_client_logout(c, &err), 0);
        if (vmware_client_retrieve(c, vmware_inventory_specs, 1, 0, &objs, &err) < 0)
                fail_msg("%s", err.message);
        assert_int_equal(objs.n, lab_env_u64("LAB_VCSIM_VM_COUNT"));
        vmware_objects_done(&objs);
        vmware_source_ops.disconnect(s);
}

static const json_t *find_by(const json_t *array, const char *key, const char *value)
{
        size_t i;
        json_t *v;

        json_array_foreach(array, i, v)
                if (streq_ptr(json_string_value(json_object_get(v, key)), value))
                        return v;
        return NULL;
}

static const char *model_str(const json_t *o, const char *key, const char *def)
{
        const char *s = json_string_value(json_object_get(o, key));

        return s ? s : def;
}

static bool model_bool(const json_t *o, const char *key, bool def)
{
        const json_t *v = json_object_get(o, key);

        return v ? json_is_true(v) : def;
}

static void check_vm(const json_t *dc, const json_t *mvm, const json_t *vm, const json_t *networks)
{
        const char *name = model_str(mvm, "name", ""), *power = model_str(mvm, "power_state", "poweredOn");
        bool running = streq(power, "poweredOn"), tools = model_bool(mvm, "tools_running", false);
        const json_t *mdisks = json_object_get(mvm, "disks"), *mnics = json_object_get(mvm, "nics");
        char location[512];
        const char *expected_os;
        size_t i;
        json_t *md, *mn, *attr;
        const char *key;

        snprintf(location, sizeof(location), "/%s/vm/%s/%s", model_str(dc, "name", ""), model_str(mvm, "folder", ""),
                 name);
        assert_string_equal(json_string_value(json_object_get(vm, "location")), location);
        assert_string_equal(json_string_value(json_object_get(vm, "name")), name);
        assert_string_equal(json_string_value(json_object_get(vm, "source")), "lab");
        if (json_object_get(mvm, "instance_uuid"))
                assert_string_equal(json_string_value(json_object_get(vm, "uuid")), model_str(mvm, "instance_uuid", ""));
        assert_int_equal(json_integer_value(json_object_get(vm, "cpus")), json_integer_value(json_object_get(mvm, "cpus")));
        assert_int_equal(json_integer_value(json_object_get(vm, "memory")),
                         json_integer_value(json_object_get(mvm, "memory_mib")) * 1024 * 1024);
        /* The guest's name while tools report, else the configured one. */
        expected_os = model_str(mvm, "guest_full_name", "");
        (void) tools;
        assert_string_equal(json_string_value(json_object_get(vm, "os")), expected_os);
        assert_int_equal(json_is_true(json_object_get(vm, "legacy_boot")), !streq(model_str(mvm, "firmware", "bios"), "efi"));
        assert_int_equal(json_is_true(json_object_get(vm, "secure_boot")), model_bool(mvm, "secure_boot", false));
        assert_int_equal(json_is_true(json_object_get(vm, "tpm")), model_bool(mvm, "vtpm", false));
        assert_int_equal(json_is_true(json_object_get(vm, "running")), running);
        assert_int_equal(json_is_true(json_object_get(vm, "background_import")), model_bool(mvm, "change_tracking", false));
        assert_string_equal(json_string_value(json_object_get(vm, "description")), model_str(mvm, "annotation", ""));

        json_object_foreach(json_object_get(mvm, "custom_attributes"), key, attr) {
                char k[128];

                snprintf(k, sizeof(k), "custom.%s", key);
                assert_string_equal(json_string_value(json_object_get(json_object_get(vm, "config"), k)),
                                    json_string_value(attr));
        }
        assert_true(startswith(json_string_value(json_object_get(json_object_get(vm, "config"), "resource_pool")),
                               "/"));

        assert_int_equal(json_array_size(json_object_get(vm, "disks")), json_array_size(mdisks));
        json_array_foreach(mdisks, i, md) {
                const json_t *d = json_array_get(json_object_get(vm, "disks"), i);
                const char *mode = model_str(md, "mode", "persistent"), *sharing = model_str(md, "sharing", "sharingNone");
                bool supported = !startswith(mode, "independent") && streq(sharing, "sharingNone");
                char backing[256];

                snprintf(backing, sizeof(backing), i == 0 ? "[%s] %s/%s.vmdk" : "[%s] %s/%s_%zu.vmdk",
                         model_str(md, "datastore", json_string_value(json_array_get(json_object_get(dc, "datastores"), 0))),
                         name, name, i);
                if (json_object_get(mvm, "datastore") && !json_object_get(md, "datastore"))
                        snprintf(backing, sizeof(backing), i == 0 ? "[%s] %s/%s.vmdk" : "[%s] %s/%s_%zu.vmdk",
                                 model_str(mvm, "datastore", ""), name, name, i);
                assert_int_equal(json_integer_value(json_object_get(d, "capacity")),
                                 json_integer_value(json_object_get(md, "capacity_mib")) * 1024 * 1024);
                assert_string_equal(json_string_value(json_object_get(d, "backing")), backing);
                assert_int_equal(json_integer_value(json_object_get(d, "device_key")), 2000 + (int) i);
                assert_int_equal(json_is_true(json_object_get(d, "supported")), supported);
                assert_int_equal(json_is_true(json_object_get(d, "shared")), !streq(sharing, "sharingNone"));
                assert_int_equal(json_is_true(json_object_get(d, "change_tracking")),
                                 model_bool(mvm, "change_tracking", false) && !startswith(mode, "independent"));
                if (!supported)
                        assert_true(strlen(json_string_value(json_object_get(d, "unsupported_reason"))) > 0);
        }

        assert_int_equal(json_array_size(json_object_get(vm, "nics")), json_array_size(mnics));
        json_array_foreach(mnics, i, mn) {
                const json_t *n = json_array_get(json_object_get(vm, "nics"), i);
                const json_t *net = find_by(networks, "uuid", json_string_value(json_object_get(n, "network")));
                bool reports = running && tools && json_object_get(mn, "ip");

                assert_string_equal(json_string_value(json_object_get(n, "hardware_address")), model_str(mn, "mac", ""));
                assert_non_null(net);
                assert_string_equal(json_string_value(json_object_get(net, "name")), model_str(mn, "network", ""));
                assert_string_equal(json_string_value(json_object_get(n, "ipv4_address")),
                                    reports ? model_str(mn, "ip", "") : "");
        }
}

static void test_inventory_matches_the_lab_model(void **state)
{
        struct source *s = connect_ok();
        struct source_inventory inv = {};
        struct ferry_error err = {};
        size_t i, j, vms = 0, nets = 0;
        json_t *dc, *mvm, *mnet;

        (void) state;
        if (vmware_source_ops.sync_inventory(s, &inv, &err) < 0)
                fail_msg("sync: %s", err.message);

        json_array_foreach(json_object_get(model, "datacenters"), i, dc) {
                const char *dcname = model_str(dc, "name", "");
                json_t *dvs, *pg;
                char location[256];
                const json_t *net;

                json_array_foreach(json_object_get(dc, "vms"), j, mvm) {
                        char loc[512];
                        const json_t *vm;

                        snprintf(loc, sizeof(loc), "/%s/vm/%s/%s", dcname, model_str(mvm, "folder", ""),
                                 model_str(mvm, "name", ""));
                        vm = find_by(inv.instances, "location", loc);
                        if (!vm)
                                fail_msg("VM '%s' is missing", loc);
                        check_vm(dc, mvm, vm, inv.networks);
                        vms++;
                }

                /* Standard portgroups with their VLAN, and every datacenter's "VM Network". */
                snprintf(location, sizeof(location), "/%s/network/VM Network", dcname);
                assert_non_null(net = find_by(inv.networks, "location", location));
                assert_string_equal(json_string_value(json_object_get(net, "type")), "standard");
                nets++;
                json_array_foreach(json_object_get(dc, "networks"), j, mnet) {
                        char vlan[16];

                        snprintf(location, sizeof(location), "/%s/network/%s", dcname, model_str(mnet, "name", ""));
                        net = find_by(inv.networks, "location", location);
                        if (!net)
                                fail_msg("Network '%s' is missing", location);
                        snprintf(vlan, sizeof(vlan), "%lld", (long long) json_integer_value(json_object_get(mnet, "vlan")));
                        assert_string_equal(json_string_value(json_object_get(net, "type")), "standard");
                        assert_string_equal(json_string_value(json_object_get(net, "vlan")), vlan);
                        nets++;
                }
                json_array_foreach(json_object_get(dc, "dvswitches"), j, dvs) {
                        size_t k;

                        json_array_foreach(json_object_get(dvs, "portgroups"), k, pg) {
                                _cleanup_strbuf_ struct strbuf vlan = STRBUF_INIT;
                                size_t t;
                                json_t *r;

                                snprintf(location, sizeof(location), "/%s/network/%s", dcname, model_str(pg, "name", ""));
                                net = find_by(inv.networks, "location", location);
                                if (!net)
                                        fail_msg("Portgroup '%s' is missing", location);
                                assert_string_equal(json_string_value(json_object_get(net, "type")), "distributed");
                                if (json_object_get(pg, "trunk"))
                                        json_array_foreach(json_object_get(pg, "trunk"), t, r)
                                                strbuf_appendf(&vlan, "%s%lld-%lld", t ? "," : "",
                                                               (long long) json_integer_value(json_object_get(r, "start")),
                                                               (long long) json_integer_value(json_object_get(r, "end")));
                                else
                                        strbuf_appendf(&vlan, "%lld", (long long) json_integer_value(json_object_get(pg, "vlan")));
                                assert_string_equal(json_string_value(json_object_get(net, "vlan")), strbuf_str(&vlan));
                                nets++;
                        }
                }
        }
        assert_int_equal(json_array_size(inv.instances), vms);
        assert_int_equal(json_array_size(inv.networks), nets);

        source_inventory_done(&inv);
        vmware_source_ops.disconnect(s);
}

static void test_only_the_chosen_datacenters_are_synced(void **state)
{
        _cleanup_json_ json_t *src = source_json(lab_env("LAB_VCSIM_PASSWORD"), lab_env("LAB_VCSIM_FINGERPRINT"));
        const json_t *dc = json_array_get(json_object_get(model, "datacenters"), 1);
        struct source_connect_result res;
        struct source_inventory inv = {};
        struct ferry_error err = {};
        struct source *s = NULL;
        size_t i;
        json_t *vm;

        (void) state;
        json_array_append_new(json_object_get(json_object_get(src, "properties"), "datacenters"),
                              json_string(model_str(dc, "name", "")));
        if (vmware_source_ops.connect(src, &s, &res, &err) < 0 || vmware_source_ops.sync_inventory(s, &inv, &err) < 0)
                fail_msg("%s", err.message);
        assert_int_equal(json_array_size(inv.instances), json_array_size(json_object_get(dc, "vms")));
        json_array_foreach(inv.instances, i, vm)
                assert_string_equal(json_string_value(json_object_get(vm, "datacenter")), model_str(dc, "name", ""));
        source_inventory_done(&inv);
        vmware_source_ops.disconnect(s);
}

static int setup(void **state)
{
        json_error_t e;

        (void) state;
        model = json_load_file(LAB_VCSIM_MODEL, 0, &e);
        if (!model)
                fail_msg("Cannot read %s: %s", LAB_VCSIM_MODEL, e.text);
        return 0;
}

static int teardown(void **state)
{
        (void) state;
        json_decref(model);
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_connect_with_the_pinned_certificate_is_ok),
                cmocka_unit_test(test_wrong_password_is_an_authentication_error),
                cmocka_unit_test(test_unpinned_self_signed_certificate_asks_to_confirm_its_fingerprint),
                cmocka_unit_test(test_another_pinned_fingerprint_asks_to_confirm_the_servers),
                cmocka_unit_test(test_closed_port_cannot_connect),
                cmocka_unit_test(test_small_pages_return_the_same_objects),
                cmocka_unit_test(test_an_ended_session_logs_in_again),
                cmocka_unit_test(test_inventory_matches_the_lab_model),
                cmocka_unit_test(test_only_the_chosen_datacenters_are_synced),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
