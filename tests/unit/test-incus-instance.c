/* SPDX-License-Identifier: Apache-2.0 */
/* The VM creation payload: one rule per test, every refusal's message. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "target/incus/instance.h"

#define UUID "4a3c5e0e-0000-4000-8000-000000000001"

static struct incus_vm_spec base(void)
{
        return (struct incus_vm_spec) {
                .name = "web01",
                .uuid = UUID,
                .pool = "default",
                .root_size = UINT64_C(16) << 30,
                .cpus = 2,
                .memory = UINT64_C(4) << 30,
        };
}

static json_t *payload(const struct incus_vm_spec *spec)
{
        struct ferry_error err = {};
        json_t *v = NULL;

        if (incus_vm_payload(spec, &v, &err) < 0)
                fail_msg("%s", err.message);
        return v;
}

static void assert_refused(const struct incus_vm_spec *spec, const char *message)
{
        struct ferry_error err = {};
        json_t *v = NULL;

        assert_int_equal(incus_vm_payload(spec, &v, &err), -EINVAL);
        assert_null(v);
        assert_string_equal(err.message, message);
}

static const char *config(json_t *v, const char *key)
{
        return json_string_value(json_object_get(json_object_get(v, "config"), key));
}

static json_t *device(json_t *v, const char *name)
{
        return json_object_get(json_object_get(v, "devices"), name);
}

static const char *dev_str(json_t *v, const char *dev, const char *key)
{
        return json_string_value(json_object_get(device(v, dev), key));
}

static void test_vm_is_created_empty_with_limits_and_source_uuid(void **state)
{
        struct incus_vm_spec s = base();
        _cleanup_json_ json_t *v = payload(&s);

        (void) state;
        assert_string_equal(json_string_value(json_object_get(v, "name")), "web01");
        assert_string_equal(json_string_value(json_object_get(v, "type")), "virtual-machine");
        assert_string_equal(json_string_value(json_object_get(json_object_get(v, "source"), "type")), "none");
        assert_string_equal(config(v, "limits.cpu"), "2");
        assert_string_equal(config(v, "limits.memory"), "4GiB");
        assert_string_equal(config(v, "volatile.uuid"), UUID);
        assert_string_equal(config(v, "security.secureboot"), "false");
        assert_null(config(v, "security.csm"));
        /* No profiles given: Incus's default applies. */
        assert_null(json_object_get(v, "profiles"));
}

static void test_root_disk_has_pool_size_and_bus(void **state)
{
        struct incus_vm_spec s = base();
        _cleanup_json_ json_t *v = NULL;

        (void) state;
        s.root_size = 10000003;
        s.root_bus = "nvme";
        v = payload(&s);
        assert_string_equal(dev_str(v, "root", "type"), "disk");
        assert_string_equal(dev_str(v, "root", "path"), "/");
        assert_string_equal(dev_str(v, "root", "pool"), "default");
        assert_string_equal(dev_str(v, "root", "size"), "10000003B");
        assert_string_equal(dev_str(v, "root", "io.bus"), "nvme");
        assert_null(dev_str(v, "root", "boot.priority"));
}

static void test_memory_that_is_not_whole_gibibytes_uses_a_smaller_unit(void **state)
{
        struct incus_vm_spec s = base();
        _cleanup_json_ json_t *v = NULL;

        (void) state;
        s.memory = UINT64_C(1536) << 20;
        v = payload(&s);
        assert_string_equal(config(v, "limits.memory"), "1536MiB");
}

static void test_extra_disks_are_custom_volumes(void **state)
{
        const struct incus_vm_disk disks[] = {
                { .name = "disk1", .volume = "web01-disk1" },
                { .name = "disk2", .volume = "web01-disk2", .pool = "fast", .bus = "virtio-blk" },
        };
        struct incus_vm_spec s = base();
        _cleanup_json_ json_t *v = NULL;

        (void) state;
        s.disks = disks;
        s.n_disks = 2;
        v = payload(&s);
        assert_string_equal(dev_str(v, "disk1", "type"), "disk");
        assert_string_equal(dev_str(v, "disk1", "source"), "web01-disk1");
        assert_string_equal(dev_str(v, "disk1", "pool"), "default");
        assert_null(dev_str(v, "disk1", "path"));
        assert_string_equal(dev_str(v, "disk2", "pool"), "fast");
        assert_string_equal(dev_str(v, "disk2", "io.bus"), "virtio-blk");
}

static void test_managed_nic_names_the_network_and_no_nictype(void **state)
{
        const struct incus_vm_nic nics[] = {
                { .nictype = INCUS_NICTYPE_MANAGED, .network = "labbr0", .hwaddr = "00:50:56:aa:bb:cc" },
        };
        struct incus_vm_spec s = base();
        _cleanup_json_ json_t *v = NULL;

        (void) state;
        s.nics = nics;
        s.n_nics = 1;
        v = payload(&s);
        assert_string_equal(dev_str(v, "eth0", "type"), "nic");
        assert_string_equal(dev_str(v, "eth0", "network"), "labbr0");
        assert_string_equal(dev_str(v, "eth0", "hwaddr"), "00:50:56:aa:bb:cc");
        assert_string_equal(dev_str(v, "eth0", "name"), "eth0");
        assert_null(dev_str(v, "eth0", "nictype"));
        assert_null(dev_str(v, "eth0", "parent"));
}

static void test_bridged_nic_has_nictype_and_parent_and_no_network(void **state)
{
        const struct incus_vm_nic nics[] = {
                { .nictype = INCUS_NICTYPE_BRIDGED, .network = "br0", .vlan = "10" },
        };
        struct incus_vm_spec s = base();
        _cleanup_json_ json_t *v = NULL;

        (void) state;
        s.nics = nics;
        s.n_nics = 1;
        v = payload(&s);
        assert_string_equal(dev_str(v, "eth0", "nictype"), "bridged");
        assert_string_equal(dev_str(v, "eth0", "parent"), "br0");
        assert_string_equal(dev_str(v, "eth0", "vlan"), "10");
        assert_null(dev_str(v, "eth0", "vlan.tagged"));
        assert_null(dev_str(v, "eth0", "network"));
}

static void test_vlan_list_becomes_tagged_vlans(void **state)
{
        const struct incus_vm_nic nics[] = {
                { .nictype = INCUS_NICTYPE_BRIDGED, .network = "br0", .vlan = "10,20,30" },
                { .nictype = INCUS_NICTYPE_MANAGED, .network = "labbr0", .vlan = "40,50" },
        };
        struct incus_vm_spec s = base();
        _cleanup_json_ json_t *v = NULL;

        (void) state;
        s.nics = nics;
        s.n_nics = 2;
        v = payload(&s);
        assert_string_equal(dev_str(v, "eth0", "vlan.tagged"), "10,20,30");
        assert_null(dev_str(v, "eth0", "vlan"));
        assert_string_equal(dev_str(v, "eth1", "vlan.tagged"), "40,50");
        assert_string_equal(dev_str(v, "eth1", "network"), "labbr0");
}

static void test_macvlan_and_physical_nics_take_one_vlan(void **state)
{
        const struct incus_vm_nic nics[] = {
                { .nictype = INCUS_NICTYPE_MACVLAN, .network = "eth1", .vlan = "42", .name = "lan" },
                { .nictype = INCUS_NICTYPE_PHYSICAL, .network = "enp5s0" },
        };
        struct incus_vm_spec s = base();
        _cleanup_json_ json_t *v = NULL;

        (void) state;
        s.nics = nics;
        s.n_nics = 2;
        v = payload(&s);
        assert_string_equal(dev_str(v, "lan", "nictype"), "macvlan");
        assert_string_equal(dev_str(v, "lan", "parent"), "eth1");
        assert_string_equal(dev_str(v, "lan", "vlan"), "42");
        assert_string_equal(dev_str(v, "lan", "name"), "lan");
        assert_string_equal(dev_str(v, "eth1", "nictype"), "physical");
        assert_string_equal(dev_str(v, "eth1", "parent"), "enp5s0");
        assert_null(dev_str(v, "eth1", "vlan"));
}

static void test_macvlan_with_tagged_vlans_is_refused(void **state)
{
        const struct incus_vm_nic nics[] = { { .nictype = INCUS_NICTYPE_MACVLAN, .network = "eth1", .vlan = "10,20" } };
        const struct incus_vm_nic phys[] = { { .nictype = INCUS_NICTYPE_PHYSICAL, .network = "eth2", .vlan = "1,2" } };
        struct incus_vm_spec s = base();

        (void) state;
        s.nics = nics;
        s.n_nics = 1;
        assert_refused(&s, "NIC 'eth0' of instance 'web01': a macvlan NIC carries one VLAN, not '10,20'");
        s.nics = phys;
        assert_refused(&s, "NIC 'eth0' of instance 'web01': a physical NIC carries one VLAN, not '1,2'");
}

static void test_bad_vlan_text_is_refused(void **state)
{
        const struct incus_vm_nic nics[] = { { .nictype = INCUS_NICTYPE_BRIDGED, .network = "br0", .vlan = "5,x" } };
        const struct incus_vm_nic big[] = { { .nictype = INCUS_NICTYPE_BRIDGED, .network = "br0", .vlan = "4095" } };
        struct incus_vm_spec s = base();

        (void) state;
        s.nics = nics;
        s.n_nics = 1;
        assert_refused(&s, "NIC 'eth0' of instance 'web01' has an invalid VLAN list '5,x'");
        s.nics = big;
        assert_refused(&s, "NIC 'eth0' of instance 'web01' has an invalid VLAN list '4095'");
}

static void test_nic_without_network_is_refused(void **state)
{
        const struct incus_vm_nic nics[] = { { .nictype = INCUS_NICTYPE_MANAGED, .network = "" } };
        struct incus_vm_spec s = base();

        (void) state;
        s.nics = nics;
        s.n_nics = 1;
        assert_refused(&s, "NIC 1 of instance 'web01' has no network");
}

static void test_bad_mac_is_refused(void **state)
{
        const struct incus_vm_nic nics[] = { { .nictype = INCUS_NICTYPE_MANAGED, .network = "n", .hwaddr = "zz" } };
        struct incus_vm_spec s = base();

        (void) state;
        s.nics = nics;
        s.n_nics = 1;
        assert_refused(&s, "NIC 'eth0' of instance 'web01' has an invalid MAC address 'zz'");
}

static void test_secure_boot_and_legacy_boot_set_firmware_flags(void **state)
{
        struct incus_vm_spec s = base();
        _cleanup_json_ json_t *uefi = NULL, *bios = NULL;

        (void) state;
        s.secure_boot = true;
        uefi = payload(&s);
        assert_string_equal(config(uefi, "security.secureboot"), "true");
        assert_null(config(uefi, "security.csm"));

        s.secure_boot = false;
        s.legacy_boot = true;
        bios = payload(&s);
        assert_string_equal(config(bios, "security.secureboot"), "false");
        assert_string_equal(config(bios, "security.csm"), "true");
}

static void test_secure_boot_with_legacy_boot_is_refused(void **state)
{
        struct incus_vm_spec s = base();

        (void) state;
        s.secure_boot = true;
        s.legacy_boot = true;
        assert_refused(&s, "Instance 'web01' cannot have both secure boot and legacy BIOS boot");
}

static void test_tpm_os_and_profiles_are_carried(void **state)
{
        static const char *const profiles[] = { "default", "ferry-vm", NULL };
        struct incus_vm_spec s = base();
        _cleanup_json_ json_t *v = NULL;

        (void) state;
        s.tpm = true;
        s.os = "Ubuntu";
        s.os_release = "22.04";
        s.profiles = profiles;
        s.description = "Migrated by ferry";
        v = payload(&s);
        assert_string_equal(dev_str(v, "vtpm", "type"), "tpm");
        assert_string_equal(config(v, "image.os"), "Ubuntu");
        assert_string_equal(config(v, "image.release"), "22.04");
        assert_int_equal(json_array_size(json_object_get(v, "profiles")), 2);
        assert_string_equal(json_string_value(json_array_get(json_object_get(v, "profiles"), 1)), "ferry-vm");
        assert_string_equal(json_string_value(json_object_get(v, "description")), "Migrated by ferry");
}

static void test_empty_profile_list_means_no_profiles(void **state)
{
        static const char *const none[] = { NULL };
        struct incus_vm_spec s = base();
        _cleanup_json_ json_t *v = NULL;

        (void) state;
        s.profiles = none;
        v = payload(&s);
        assert_true(json_is_array(json_object_get(v, "profiles")));
        assert_int_equal(json_array_size(json_object_get(v, "profiles")), 0);
}

static void test_ferry_config_becomes_user_ferry_keys(void **state)
{
        struct incus_vm_spec s = base();
        _cleanup_json_ json_t *cfg = json_pack("{s:s, s:s}", "endpoint", "https://10.0.0.1:8443", "token", "t0k");
        _cleanup_json_ json_t *bad = json_pack("{s:i}", "port", 8443);
        _cleanup_json_ json_t *v = NULL;

        (void) state;
        s.ferry_config = cfg;
        v = payload(&s);
        assert_string_equal(config(v, "user.ferry.endpoint"), "https://10.0.0.1:8443");
        assert_string_equal(config(v, "user.ferry.token"), "t0k");

        s.ferry_config = bad;
        assert_refused(&s, "Instance 'web01': config key 'port' is not a string");
}

static void test_extra_config_is_set_as_given_over_the_computed_keys(void **state)
{
        struct incus_vm_spec s = base();
        _cleanup_json_ json_t *extra = json_pack("{s:s, s:s}", "user.owner", "team-web", "limits.cpu", "4");
        _cleanup_json_ json_t *v = NULL;

        (void) state;
        s.extra_config = extra;
        v = payload(&s);
        assert_string_equal(config(v, "user.owner"), "team-web");
        assert_string_equal(config(v, "limits.cpu"), "4");
        /* What it does not name stays as computed. */
        assert_string_equal(config(v, "limits.memory"), "4GiB");
}

static void test_extra_config_that_is_not_a_string_is_refused(void **state)
{
        struct incus_vm_spec s = base();
        _cleanup_json_ json_t *extra = json_pack("{s:b}", "boot.autostart", 1);

        (void) state;
        s.extra_config = extra;
        assert_refused(&s, "Instance 'web01': config key 'boot.autostart' is not a string");
}

static void test_extra_config_cannot_set_ferry_or_volatile_keys(void **state)
{
        struct incus_vm_spec s = base();
        _cleanup_json_ json_t *ferry = json_pack("{s:s}", "user.ferry.token", "stolen");
        _cleanup_json_ json_t *vol = json_pack("{s:s}", "volatile.uuid", UUID);

        (void) state;
        s.extra_config = ferry;
        assert_refused(&s, "Instance 'web01': config key 'user.ferry.token' is ferry's own and cannot be set");
        s.extra_config = vol;
        assert_refused(&s, "Instance 'web01': config key 'volatile.uuid' is ferry's own and cannot be set");
}

static void test_worker_volume_boots_before_the_root_disk(void **state)
{
        struct incus_vm_spec s = base();
        _cleanup_json_ json_t *v = NULL;

        (void) state;
        s.worker_volume = "ferry-worker-image";
        v = payload(&s);
        assert_string_equal(dev_str(v, "ferry-worker", "source"), "ferry-worker-image");
        assert_string_equal(dev_str(v, "ferry-worker", "pool"), "default");
        assert_string_equal(dev_str(v, "ferry-worker", "boot.priority"), "20");
        assert_string_equal(dev_str(v, "root", "boot.priority"), "10");
}

static void test_missing_parts_are_refused_by_name(void **state)
{
        const struct incus_vm_disk novol[] = { { .name = "disk1" } };
        const struct incus_vm_disk twice[] = { { .name = "eth0", .volume = "v" } };
        const struct incus_vm_nic nics[] = { { .nictype = INCUS_NICTYPE_MANAGED, .network = "n" } };
        struct incus_vm_spec s;

        (void) state;
        s = base();
        s.name = NULL;
        assert_refused(&s, "Instance name is missing");
        s = base();
        s.pool = NULL;
        assert_refused(&s, "Instance 'web01' has no root disk pool");
        s = base();
        s.root_size = 0;
        assert_refused(&s, "Instance 'web01' needs a root disk size");
        s = base();
        s.uuid = "not-a-uuid";
        assert_refused(&s, "Instance 'web01' has an invalid UUID 'not-a-uuid'");
        s = base();
        s.disks = novol;
        s.n_disks = 1;
        assert_refused(&s, "Disk 'disk1' of instance 'web01' has no volume");
        s.disks = twice;
        s.nics = nics;
        s.n_nics = 1;
        assert_refused(&s, "Instance 'web01' has two devices named 'eth0'");
}

static void test_nictype_names_round_trip(void **state)
{
        (void) state;
        for (int t = 0; t < _INCUS_NICTYPE_MAX; t++)
                assert_int_equal(incus_nictype_from_string(incus_nictype_to_string(t)), t);
        assert_int_equal(incus_nictype_from_string("ovn"), _INCUS_NICTYPE_INVALID);
        assert_null(incus_nictype_to_string(_INCUS_NICTYPE_MAX));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_vm_is_created_empty_with_limits_and_source_uuid),
                cmocka_unit_test(test_root_disk_has_pool_size_and_bus),
                cmocka_unit_test(test_memory_that_is_not_whole_gibibytes_uses_a_smaller_unit),
                cmocka_unit_test(test_extra_disks_are_custom_volumes),
                cmocka_unit_test(test_managed_nic_names_the_network_and_no_nictype),
                cmocka_unit_test(test_bridged_nic_has_nictype_and_parent_and_no_network),
                cmocka_unit_test(test_vlan_list_becomes_tagged_vlans),
                cmocka_unit_test(test_macvlan_and_physical_nics_take_one_vlan),
                cmocka_unit_test(test_macvlan_with_tagged_vlans_is_refused),
                cmocka_unit_test(test_bad_vlan_text_is_refused),
                cmocka_unit_test(test_nic_without_network_is_refused),
                cmocka_unit_test(test_bad_mac_is_refused),
                cmocka_unit_test(test_secure_boot_and_legacy_boot_set_firmware_flags),
                cmocka_unit_test(test_secure_boot_with_legacy_boot_is_refused),
                cmocka_unit_test(test_tpm_os_and_profiles_are_carried),
                cmocka_unit_test(test_empty_profile_list_means_no_profiles),
                cmocka_unit_test(test_ferry_config_becomes_user_ferry_keys),
                cmocka_unit_test(test_extra_config_is_set_as_given_over_the_computed_keys),
                cmocka_unit_test(test_extra_config_that_is_not_a_string_is_refused),
                cmocka_unit_test(test_extra_config_cannot_set_ferry_or_volatile_keys),
                cmocka_unit_test(test_worker_volume_boots_before_the_root_disk),
                cmocka_unit_test(test_missing_parts_are_refused_by_name),
                cmocka_unit_test(test_nictype_names_round_trip),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
