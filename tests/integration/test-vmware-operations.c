/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The operations a warm migration needs, against the lab's vSphere
 * simulator, each checked through what the simulator then reports.  Every
 * test puts the VM back as the model has it, for the tests that follow.
 */
#include <errno.h>
#include <inttypes.h>
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
#include "source/vmware/vmware.h"

#define TIMEOUT_S 30

static json_t *model;

static struct source *connect_lab(void)
{
        _cleanup_json_ json_t *src = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s}}", "name", "lab", "type", "vmware",
                                               "properties", "endpoint", lab_env("LAB_VCSIM_URL"), "username",
                                               lab_env("LAB_VCSIM_USERNAME"), "password",
                                               lab_env("LAB_VCSIM_PASSWORD"),
                                               "trusted_server_certificate_fingerprint",
                                               lab_env("LAB_VCSIM_FINGERPRINT"));
        struct source_connect_result res;
        struct ferry_error err = {};
        struct source *s = NULL;

        if (vmware_source_ops.connect(src, &s, &res, &err) < 0)
                fail_msg("connect: %s", err.message);
        return s;
}

/* The instance named name as the simulator reports it now (a new reference). */
static json_t *instance(struct source *s, const char *name)
{
        struct source_inventory inv = {};
        struct ferry_error err = {};
        json_t *found = NULL, *vm;
        size_t i;

        if (vmware_source_ops.sync_inventory(s, &inv, &err) < 0)
                fail_msg("sync: %s", err.message);
        json_array_foreach(inv.instances, i, vm)
                if (streq_ptr(json_string_value(json_object_get(vm, "name")), name))
                        found = json_incref(vm);
        source_inventory_done(&inv);
        if (!found)
                fail_msg("No VM '%s' in the simulator", name);
        return found;
}

static const char *uuid_of(const json_t *vm)
{
        return json_string_value(json_object_get(vm, "uuid"));
}

/* The first VM of the model for which pred holds. */
static const json_t *model_vm(bool (*pred)(const json_t *vm))
{
        size_t i, j;
        json_t *dc, *vm;

        json_array_foreach(json_object_get(model, "datacenters"), i, dc)
                json_array_foreach(json_object_get(dc, "vms"), j, vm)
                        if (pred(vm))
                                return vm;
        fail_msg("The lab model has no VM this test needs");
        return NULL;
}

static const char *mstr(const json_t *o, const char *key)
{
        const char *v = json_string_value(json_object_get(o, key));

        return v ? v : "";
}

static bool on_with_tools(const json_t *vm)
{
        return (!json_object_get(vm, "power_state") || streq(mstr(vm, "power_state"), "poweredOn")) &&
               json_is_true(json_object_get(vm, "tools_running"));
}

static bool on_without_tools(const json_t *vm)
{
        return (!json_object_get(vm, "power_state") || streq(mstr(vm, "power_state"), "poweredOn")) &&
               !json_is_true(json_object_get(vm, "tools_running"));
}

static bool cbt_off(const json_t *vm)
{
        return !json_is_true(json_object_get(vm, "change_tracking")) && json_array_size(json_object_get(vm, "disks")) > 0;
}

static bool on_with_cbt(const json_t *vm)
{
        return on_with_tools(vm) && json_is_true(json_object_get(vm, "change_tracking"));
}

static void test_guest_shutdown_powers_off_and_power_on_restores(void **state)
{
        struct source *s = connect_lab();
        const char *name = mstr(model_vm(on_with_tools), "name");
        _cleanup_json_ json_t *before = instance(s, name), *off = NULL, *on = NULL;
        struct ferry_error err = {};

        (void) state;
        assert_true(json_is_true(json_object_get(before, "running")));
        if (vmware_source_ops.power_off(s, uuid_of(before), TIMEOUT_S, &err) < 0)
                fail_msg("%s", err.message);
        off = instance(s, name);
        assert_false(json_is_true(json_object_get(off, "running")));
        assert_string_equal(mstr(json_object_get(off, "config"), "vmware.power_state"), "poweredOff");
        /* Off already: nothing to do. */
        assert_int_equal(vmware_source_ops.power_off(s, uuid_of(before), TIMEOUT_S, &err), 0);

        if (vmware_source_ops.power_on(s, uuid_of(before), TIMEOUT_S, &err) < 0)
                fail_msg("%s", err.message);
        on = instance(s, name);
        assert_true(json_is_true(json_object_get(on, "running")));
        vmware_source_ops.disconnect(s);
}

static void test_without_tools_power_off_falls_back_to_a_hard_power_off(void **state)
{
        struct source *s = connect_lab();
        const char *name = mstr(model_vm(on_without_tools), "name");
        _cleanup_json_ json_t *before = instance(s, name), *off = NULL;
        struct ferry_error err = {};

        (void) state;
        assert_true(json_is_true(json_object_get(before, "running")));
        if (vmware_source_ops.power_off(s, uuid_of(before), TIMEOUT_S, &err) < 0)
                fail_msg("%s", err.message);
        off = instance(s, name);
        assert_false(json_is_true(json_object_get(off, "running")));
        if (vmware_source_ops.power_on(s, uuid_of(before), TIMEOUT_S, &err) < 0)
                fail_msg("%s", err.message);
        vmware_source_ops.disconnect(s);
}

static void test_unknown_vm_is_named_in_the_error(void **state)
{
        struct source *s = connect_lab();
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(vmware_source_ops.power_on(s, "50000000-0000-0000-0000-00000000dead", TIMEOUT_S, &err),
                         -ENOENT);
        assert_string_equal(err.message, "No virtual machine with instance uuid '50000000-0000-0000-0000-00000000dead'");
        vmware_source_ops.disconnect(s);
}

static void test_snapshot_is_created_with_the_disks_change_id_and_removed(void **state)
{
        struct source *s = connect_lab();
        const char *name = mstr(model_vm(on_with_cbt), "name");
        _cleanup_json_ json_t *before = instance(s, name), *with = NULL, *after = NULL;
        _cleanup_free_ char *snap = NULL, *snap_id = NULL, *vm_id = NULL;
        const json_t *disk0 = json_array_get(json_object_get(before, "disks"), 0);
        int64_t key = json_integer_value(json_object_get(disk0, "device_key"));
        const json_t *snaps;
        struct ferry_error err = {};

        (void) state;
        if (vmware_source_ops.snapshot_create(s, uuid_of(before), "ferry-test", false, TIMEOUT_S, &snap, &err) < 0)
                fail_msg("%s", err.message);
        assert_true(startswith(snap, "snapshot-"));
        with = instance(s, name);
        snaps = json_object_get(with, "snapshots");
        assert_int_equal(json_array_size(snaps), json_array_size(json_object_get(before, "snapshots")) + 1);
        assert_string_equal(mstr(json_array_get(snaps, json_array_size(snaps) - 1), "moref"), snap);
        assert_string_equal(mstr(json_array_get(snaps, json_array_size(snaps) - 1), "name"), "ferry-test");

        /* The snapshot keeps the changeId the disk had; the VM's disk moved on. */
        if (vmware_source_ops.disk_change_id(s, uuid_of(before), snap, key, &snap_id, &err) < 0)
                fail_msg("%s", err.message);
        assert_string_equal(snap_id, mstr(disk0, "change_id"));
        if (vmware_source_ops.disk_change_id(s, uuid_of(before), NULL, key, &vm_id, &err) < 0)
                fail_msg("%s", err.message);
        assert_string_not_equal(vm_id, snap_id);
        assert_string_equal(vm_id, mstr(json_array_get(json_object_get(with, "disks"), 0), "change_id"));

        if (vmware_source_ops.snapshot_remove(s, uuid_of(before), snap, TIMEOUT_S, &err) < 0)
                fail_msg("%s", err.message);
        after = instance(s, name);
        assert_int_equal(json_array_size(json_object_get(after, "snapshots")),
                         json_array_size(json_object_get(before, "snapshots")));

        /* Gone now. */
        assert_int_equal(vmware_source_ops.snapshot_remove(s, uuid_of(before), snap, TIMEOUT_S, &err), -ENOENT);
        assert_true(startswith(err.message, "vSphere call 'RemoveSnapshot_Task' failed: "));
        vmware_source_ops.disconnect(s);
}

/* ReconfigVM_Task turning CBT off again, to leave the VM as the model has it. */
static void cbt_off_again(struct source *s, const char *uuid)
{
        struct vmware_client *c = vmware_source_client(s);
        _cleanup_free_ char *moref = NULL, *body = NULL;
        _cleanup_xmldoc_ xmlDoc *doc = NULL;
        struct ferry_error err = {};

        if (vmware_find_vm(c, uuid, &moref, &err) < 0)
                fail_msg("%s", err.message);
        assert_true(asprintf(&body, "<vim25:_this type=\"VirtualMachine\">%s</vim25:_this><vim25:spec>"
                                    "<vim25:changeTrackingEnabled>false</vim25:changeTrackingEnabled></vim25:spec>",
                             moref) > 0);
        if (vmware_client_call(c, "ReconfigVM_Task", body, &doc, &err) < 0 ||
            vmware_task_wait(c, xml_path_text(soap_body_response(doc), "returnval"), TIMEOUT_S, NULL, &err) < 0)
                fail_msg("%s", err.message);
}

static void test_cbt_enable_gives_every_disk_a_change_id(void **state)
{
        struct source *s = connect_lab();
        const char *name = mstr(model_vm(cbt_off), "name");
        _cleanup_json_ json_t *before = instance(s, name), *after = NULL, *restored = NULL;
        struct ferry_error err = {};
        size_t i;
        json_t *d;

        (void) state;
        assert_false(json_is_true(json_object_get(before, "background_import")));
        if (vmware_source_ops.cbt_enable(s, uuid_of(before), TIMEOUT_S, &err) < 0)
                fail_msg("%s", err.message);
        after = instance(s, name);
        assert_true(json_is_true(json_object_get(after, "background_import")));
        json_array_foreach(json_object_get(after, "disks"), i, d) {
                assert_true(json_is_true(json_object_get(d, "change_tracking")));
                assert_true(strchr(mstr(d, "change_id"), '/') != NULL);
        }

        cbt_off_again(s, uuid_of(before));
        restored = instance(s, name);
        assert_false(json_is_true(json_object_get(restored, "background_import")));
        vmware_source_ops.disconnect(s);
}

/* 4500 changed blocks come back whole although one answer holds at most 2000. */
static void test_changed_areas_are_read_page_after_page_to_the_end_of_the_disk(void **state)
{
        struct source *s = connect_lab();
        const char *name = mstr(model_vm(on_with_cbt), "name");
        _cleanup_json_ json_t *vm = instance(s, name);
        const json_t *disk0 = json_array_get(json_object_get(vm, "disks"), 0);
        uint64_t capacity = (uint64_t) json_integer_value(json_object_get(disk0, "capacity"));
        _cleanup_free_ char *dir = NULL, *path = NULL;
        _cleanup_free_ struct source_extent *ext = NULL;
        struct ferry_error err = {};
        size_t n = 0, areas = 4500;
        FILE *f;

        (void) state;
        if (capacity < areas * 8192)
                fail_msg("Disk 0 of '%s' is too small for %zu areas", name, areas);
        assert_non_null(dir = strjoin(lab_env("LAB_VCSIM_CHANGES"), "/", name, NULL));
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                fail_msg("Cannot create '%s': %s", dir, strerror(errno));
        assert_non_null(path = strjoin(dir, "/disk0.json", NULL));
        assert_non_null(f = fopen(path, "we"));
        fputs("{\"areas\": [", f);
        for (size_t a = 0; a < areas; a++)
                fprintf(f, "%s{\"start\": %zu, \"length\": 4096}", a ? "," : "", a * 8192);
        fputs("]}\n", f);
        assert_int_equal(fclose(f), 0);

        if (vmware_source_ops.changed_areas(s, uuid_of(vm), NULL, json_integer_value(json_object_get(disk0, "device_key")),
                                            capacity, mstr(disk0, "change_id"), &ext, &n, &err) < 0) {
                unlink(path);
                fail_msg("%s", err.message);
        }
        unlink(path);
        assert_int_equal(n, areas);
        /* 2000 + 2000 + 500: exactly three pages. */
        assert_int_equal(vmware_source_changed_areas_calls(s), 3);
        for (size_t a = 0; a < n; a++) {
                assert_int_equal(ext[a].start, a * 8192);
                assert_int_equal(ext[a].length, 4096);
        }
        vmware_source_ops.disconnect(s);
}

static void test_changed_areas_with_a_malformed_change_id_name_the_argument(void **state)
{
        struct source *s = connect_lab();
        const char *name = mstr(model_vm(on_with_cbt), "name");
        _cleanup_json_ json_t *vm = instance(s, name);
        const json_t *disk0 = json_array_get(json_object_get(vm, "disks"), 0);
        struct source_extent *ext = NULL;
        struct ferry_error err = {};
        size_t n = 0;

        (void) state;
        assert_int_equal(vmware_source_ops.changed_areas(s, uuid_of(vm), NULL,
                                                         json_integer_value(json_object_get(disk0, "device_key")),
                                                         (uint64_t) json_integer_value(json_object_get(disk0, "capacity")),
                                                         "not-a-change-id", &ext, &n, &err),
                         -EINVAL);
        assert_null(ext);
        assert_true(startswith(err.message, "vSphere call 'QueryChangedDiskAreas' failed: invalid argument 'changeId'"));
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
                cmocka_unit_test(test_guest_shutdown_powers_off_and_power_on_restores),
                cmocka_unit_test(test_without_tools_power_off_falls_back_to_a_hard_power_off),
                cmocka_unit_test(test_unknown_vm_is_named_in_the_error),
                cmocka_unit_test(test_snapshot_is_created_with_the_disks_change_id_and_removed),
                cmocka_unit_test(test_cbt_enable_gives_every_disk_a_change_id),
                cmocka_unit_test(test_changed_areas_are_read_page_after_page_to_the_end_of_the_disk),
                cmocka_unit_test(test_changed_areas_with_a_malformed_change_id_name_the_argument),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
