/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Instances in the lab's incusd: VM creation reaches Incus and its
 * refusal on this machine comes back clearly with nothing left behind;
 * read, update with ETags and delete on an empty container.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/strbuf.h"
#include "lab.h"
#include "target/incus/instance.h"
#include "target/incus/volume.h"

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

static void test_vm_refusal_reaches_the_caller_and_nothing_is_left(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = unix_client();
        _cleanup_json_ json_t *vol = NULL, *inst = NULL, *profiles = NULL;
        const struct incus_vm_disk disks[] = {
                { .name = "disk1", .volume = "ferry-vm-disk1", .size = 64 << 20 },
        };
        const struct incus_vm_nic nics[] = {
                { .nictype = INCUS_NICTYPE_MANAGED, .network = lab_env("LAB_INCUS_BRIDGE"),
                  .hwaddr = "00:16:3e:00:00:01" },
        };
        const char *const profile_list[] = { "default", NULL };
        struct incus_vm_spec spec = {
                .name = "ferry-vm",
                .uuid = "4a3c5e0e-0000-4000-8000-0000000000aa",
                .pool = lab_env("LAB_INCUS_POOL"),
                .root_size = 1 << 30,
                .disks = disks,
                .n_disks = 1,
                .nics = nics,
                .n_nics = 1,
                .cpus = 1,
                .memory = 512 << 20,
                .profiles = profile_list,
        };
        const char *project = lab_env("LAB_INCUS_PROJECT");
        struct ferry_error err = {};
        size_t n_profiles;

        (void) state;
        assert_int_equal(incus_get(c, "/1.0/profiles", project, &profiles, &err), 0);
        n_profiles = json_array_size(profiles);

        assert_true(incus_vm_create(c, project, NULL, &spec, &err) < 0);
        assert_true(startswith(err.message, "Cannot create instance 'ferry-vm': "));
        assert_non_null(strstr(err.message, "Instance type \"virtual-machine\" is not supported"));

        assert_int_equal(incus_instance_get(c, project, "ferry-vm", &inst, NULL, &err), -ENOENT);
        assert_int_equal(incus_volume_get(c, project, lab_env("LAB_INCUS_POOL"), "ferry-vm-disk1", &vol, &err), -ENOENT);
        json_decref(profiles);
        profiles = NULL;
        assert_int_equal(incus_get(c, "/1.0/profiles", project, &profiles, &err), 0);
        assert_int_equal(json_array_size(profiles), n_profiles);
}

static void test_vm_with_bad_spec_never_reaches_incus(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = unix_client();
        _cleanup_json_ json_t *vol = NULL;
        const struct incus_vm_disk disks[] = { { .name = "disk1", .volume = "ferry-bad-disk1", .size = 1 << 20 } };
        struct incus_vm_spec spec = {
                .name = "ferry-bad",
                .pool = lab_env("LAB_INCUS_POOL"),
                .root_size = 1 << 30,
                .disks = disks,
                .n_disks = 1,
                .secure_boot = true,
                .legacy_boot = true,
        };
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(incus_vm_create(c, lab_env("LAB_INCUS_PROJECT"), NULL, &spec, &err), -EINVAL);
        assert_string_equal(err.message, "Instance 'ferry-bad' cannot have both secure boot and legacy BIOS boot");
        assert_int_equal(incus_volume_get(c, lab_env("LAB_INCUS_PROJECT"), lab_env("LAB_INCUS_POOL"), "ferry-bad-disk1",
                                          &vol, &err),
                         -ENOENT);
}

static void test_instance_update_honours_etags_and_delete_removes(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = unix_client();
        _cleanup_json_ json_t *body = NULL, *inst = NULL, *again = NULL, *st = NULL, *gone = NULL;
        _cleanup_free_ char *etag = NULL, *etag2 = NULL;
        const char *project = lab_env("LAB_INCUS_PROJECT");
        struct ferry_error err = {};

        (void) state;
        body = json_pack("{s:s, s:s, s:{s:s}}", "name", "ferry-ct", "type", "container", "source", "type", "none");
        if (incus_call_wait(c, &(struct incus_request) { .method = "POST", .path = "/1.0/instances", .project = project,
                                                         .body = body },
                            60, NULL, NULL, &err) < 0)
                fail_msg("%s", err.message);

        if (incus_instance_get(c, project, "ferry-ct", &inst, &etag, &err) < 0)
                fail_msg("%s", err.message);
        assert_non_null(etag);
        if (incus_instance_get_state(c, project, "ferry-ct", &st, &err) < 0)
                fail_msg("%s", err.message);
        assert_string_equal(json_string_value(json_object_get(st, "status")), "Stopped");

        /* Incus's instance ETag covers config, devices, profiles and
         * architecture (not the description). */
        json_object_set_new(json_object_get(inst, "config"), "user.ferry.step", json_string("first"));
        if (incus_instance_update(c, project, "ferry-ct", inst, etag, &err) < 0)
                fail_msg("%s", err.message);
        if (incus_instance_get(c, project, "ferry-ct", &again, &etag2, &err) < 0)
                fail_msg("%s", err.message);
        assert_string_equal(json_string_value(json_object_get(json_object_get(again, "config"), "user.ferry.step")),
                            "first");

        /* The old ETag is stale now. */
        json_object_set_new(json_object_get(inst, "config"), "user.ferry.step", json_string("second"));
        assert_int_equal(incus_instance_update(c, project, "ferry-ct", inst, etag, &err), -ESTALE);
        assert_non_null(strstr(err.message, "ETag"));

        if (incus_instance_delete(c, project, "ferry-ct", &err) < 0)
                fail_msg("%s", err.message);
        assert_int_equal(incus_instance_get(c, project, "ferry-ct", &gone, NULL, &err), -ENOENT);
        assert_non_null(strstr(err.message, "Instance not found"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_vm_refusal_reaches_the_caller_and_nothing_is_left),
                cmocka_unit_test(test_vm_with_bad_spec_never_reaches_incus),
                cmocka_unit_test(test_instance_update_honours_etags_and_delete_removes),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
