/* SPDX-License-Identifier: Apache-2.0 */
/*
 * src/source/vmware/inventory.c: vSphere property sets to ferry's
 * instances, networks and warnings, from a small hand-written inventory.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/json.h"
#include "source/vmware/inventory.h"

#define XSI "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
#define PROP(name, type, body) "<propSet><name>" name "</name><val xsi:type=\"" type "\">" body "</val></propSet>"
#define REF(name, type, value) "<propSet><name>" name "</name><val xsi:type=\"ManagedObjectReference\" type=\"" type "\">" value "</val></propSet>"
#define STR(name, value) PROP(name, "xsd:string", value)
#define ENTITY(type, moref, name, ptype, parent) \
        "<objects><obj type=\"" type "\">" moref "</obj>" STR("name", name) REF("parent", ptype, parent) "</objects>"

static const char inventory_page1[] =
        "<?xml version=\"1.0\"?><soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" " XSI ">"
        "<soapenv:Body><RetrievePropertiesExResponse xmlns=\"urn:vim25\"><returnval>"
        "<objects><obj type=\"Folder\">group-d1</obj>" STR("name", "Datacenters") "</objects>"
        ENTITY("Datacenter", "datacenter-1", "dc1", "Folder", "group-d1")
        ENTITY("Datacenter", "datacenter-2", "dc2", "Folder", "group-d1")
        ENTITY("Folder", "group-v1", "vm", "Datacenter", "datacenter-1")
        ENTITY("Folder", "group-v2", "vm", "Datacenter", "datacenter-2")
        ENTITY("Folder", "group-n1", "network", "Datacenter", "datacenter-1")
        ENTITY("Folder", "group-h1", "host", "Datacenter", "datacenter-1")
        ENTITY("Folder", "folder-apps", "apps &amp; more", "Folder", "group-v1")
        ENTITY("ClusterComputeResource", "domain-c1", "cluster1", "Folder", "group-h1")
        ENTITY("ResourcePool", "resgroup-1", "Resources", "ClusterComputeResource", "domain-c1")
        "<objects><obj type=\"HostSystem\">host-1</obj>" STR("name", "esx1") REF("parent", "ClusterComputeResource", "domain-c1")
        PROP("config.network.portgroup", "ArrayOfHostPortGroup",
             "<HostPortGroup><spec><name>VM Network</name><vlanId>42</vlanId></spec></HostPortGroup>")
        "</objects>"
        ENTITY("Network", "network-1", "VM Network", "Folder", "group-n1")
        "<token>page2</token></returnval></RetrievePropertiesExResponse></soapenv:Body></soapenv:Envelope>";

static const char inventory_page2[] =
        "<?xml version=\"1.0\"?><soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" " XSI ">"
        "<soapenv:Body><ContinueRetrievePropertiesExResponse xmlns=\"urn:vim25\"><returnval>"
        "<objects><obj type=\"VmwareDistributedVirtualSwitch\">dvs-1</obj>" STR("name", "dvs1")
        REF("parent", "Folder", "group-n1")
        PROP("config.uplinkPortgroup", "ArrayOfManagedObjectReference",
             "<ManagedObjectReference type=\"DistributedVirtualPortgroup\">dvportgroup-9</ManagedObjectReference>")
        "</objects>"
        "<objects><obj type=\"DistributedVirtualPortgroup\">dvportgroup-9</obj>" STR("name", "dvs1-uplinks")
        REF("parent", "Folder", "group-n1") "</objects>"
        "<objects><obj type=\"DistributedVirtualPortgroup\">dvportgroup-10</obj>" STR("name", "trunk")
        REF("parent", "Folder", "group-n1")
        PROP("config", "DVPortgroupConfigInfo",
             "<key>dvportgroup-10</key><defaultPortConfig xsi:type=\"VMwareDVSPortSetting\"><vlan "
             "xsi:type=\"VmwareDistributedVirtualSwitchTrunkVlanSpec\"><vlanId><start>5</start><end>7</end></vlanId>"
             "<vlanId><start>9</start><end>9</end></vlanId></vlan></defaultPortConfig>")
        "</objects>"
        /* A VM with everything. */
        "<objects><obj type=\"VirtualMachine\">vm-1</obj>" STR("name", "web1") REF("parent", "Folder", "folder-apps")
        REF("resourcePool", "ResourcePool", "resgroup-1")
        PROP("runtime.powerState", "VirtualMachinePowerState", "poweredOn")
        PROP("config", "VirtualMachineConfigInfo",
             "<name>web1</name><guestFullName>Debian GNU/Linux 12 (64-bit)</guestFullName><version>vmx-19</version>"
             "<uuid>4200-bios</uuid><instanceUuid>5000-aaaa</instanceUuid><template>false</template>"
             "<guestId>debian12_64Guest</guestId><annotation>front &lt;end&gt;</annotation>"
             "<hardware><numCPU>4</numCPU><memoryMB>3072</memoryMB>"
             "<device xsi:type=\"ParaVirtualSCSIController\"><key>1000</key><busNumber>0</busNumber></device>"
             "<device xsi:type=\"VirtualDisk\"><key>2000</key><deviceInfo><label>Hard disk 1</label></deviceInfo>"
             "<backing xsi:type=\"VirtualDiskFlatVer2BackingInfo\"><fileName>[ds1] web1/web1.vmdk</fileName>"
             "<diskMode>persistent</diskMode><changeId>52 aa-bb/3</changeId><sharing>sharingNone</sharing></backing>"
             "<controllerKey>1000</controllerKey><unitNumber>0</unitNumber><capacityInKB>1024</capacityInKB>"
             "<capacityInBytes>1048576</capacityInBytes></device>"
             "<device xsi:type=\"VirtualDisk\"><key>2001</key>"
             "<backing xsi:type=\"VirtualDiskFlatVer2BackingInfo\"><fileName>[ds1] web1/web1_1.vmdk</fileName>"
             "<diskMode>independent_persistent</diskMode><changeId>52 aa-cc/1</changeId></backing>"
             "<controllerKey>1000</controllerKey><unitNumber>1</unitNumber><capacityInKB>2048</capacityInKB></device>"
             "<device xsi:type=\"VirtualDisk\"><key>2002</key>"
             "<backing xsi:type=\"VirtualDiskRawDiskMappingVer1BackingInfo\"><fileName>[ds1] web1/rdm.vmdk</fileName>"
             "<diskMode>persistent</diskMode></backing><controllerKey>1000</controllerKey><unitNumber>2</unitNumber>"
             "<capacityInBytes>4096</capacityInBytes></device>"
             "<device xsi:type=\"VirtualTPM\"><key>11000</key></device>"
             "<device xsi:type=\"VirtualVmxnet3\"><key>4000</key><backing "
             "xsi:type=\"VirtualEthernetCardNetworkBackingInfo\"><deviceName>VM Network</deviceName><network "
             "type=\"Network\">network-1</network></backing><connectable><startConnected>true</startConnected>"
             "</connectable><macAddress>00:50:56:00:00:01</macAddress></device>"
             "<device xsi:type=\"VirtualE1000e\"><key>4001</key><backing "
             "xsi:type=\"VirtualEthernetCardDistributedVirtualPortBackingInfo\"><port><switchUuid>x</switchUuid>"
             "<portgroupKey>dvportgroup-10</portgroupKey></port></backing><macAddress>00:50:56:00:00:02</macAddress>"
             "</device></hardware>"
             "<bootOptions><efiSecureBootEnabled>true</efiSecureBootEnabled></bootOptions>"
             "<changeTrackingEnabled>true</changeTrackingEnabled><firmware>efi</firmware>")
        PROP("guest", "GuestInfo",
             "<guestFamily>linuxGuest</guestFamily><guestFullName></guestFullName>"
             "<net><network>VM Network</network><ipAddress>fe80::1</ipAddress><ipAddress>2001:db8::5</ipAddress>"
             "<ipAddress>192.0.2.5</ipAddress><macAddress>00:50:56:00:00:01</macAddress>"
             "<deviceConfigId>4000</deviceConfigId></net>")
        PROP("snapshot", "VirtualMachineSnapshotInfo",
             "<currentSnapshot type=\"VirtualMachineSnapshot\">snapshot-2</currentSnapshot>"
             "<rootSnapshotList><snapshot type=\"VirtualMachineSnapshot\">snapshot-1</snapshot><name>before</name>"
             "<createTime>2026-01-01T00:00:00Z</createTime><childSnapshotList><snapshot "
             "type=\"VirtualMachineSnapshot\">snapshot-2</snapshot><name>after</name>"
             "<createTime>2026-01-02T00:00:00Z</createTime></childSnapshotList></rootSnapshotList>")
        PROP("customValue", "ArrayOfCustomFieldValue",
             "<CustomFieldValue xsi:type=\"CustomFieldStringValue\"><key>7</key><value>team-web</value></CustomFieldValue>")
        PROP("availableField", "ArrayOfCustomFieldDef", "<CustomFieldDef><key>7</key><name>owner</name></CustomFieldDef>")
        "</objects>"
        /* A VM that says nothing of its guest and has CBT off, in the other datacenter. */
        "<objects><obj type=\"VirtualMachine\">vm-2</obj>" STR("name", "blackbox") REF("parent", "Folder", "group-v2")
        PROP("runtime.powerState", "VirtualMachinePowerState", "poweredOff")
        PROP("config", "VirtualMachineConfigInfo",
             "<instanceUuid>5000-bbbb</instanceUuid><template>false</template><hardware><numCPU>1</numCPU>"
             "<memoryMB>512</memoryMB></hardware><changeTrackingEnabled>false</changeTrackingEnabled>"
             "<firmware>bios</firmware>")
        "</objects>"
        /* A template is no VM to migrate. */
        "<objects><obj type=\"VirtualMachine\">vm-3</obj>" STR("name", "tmpl") REF("parent", "Folder", "group-v1")
        PROP("config", "VirtualMachineConfigInfo",
             "<instanceUuid>5000-cccc</instanceUuid><template>true</template><hardware><numCPU>1</numCPU>"
             "<memoryMB>512</memoryMB></hardware>")
        "</objects>"
        "</returnval></ContinueRetrievePropertiesExResponse></soapenv:Body></soapenv:Envelope>";

struct built {
        struct vmware_objects objs;
        json_t *instances, *networks, *warnings;
};

static void build(struct built *b, const json_t *datacenters)
{
        const char *pages[] = { inventory_page1, inventory_page2 };
        struct ferry_error err = {};

        *b = (struct built) {};
        for (size_t i = 0; i < ELEMENTSOF(pages); i++) {
                xmlDoc *doc = NULL;
                const char *token = NULL;

                if (soap_parse("RetrievePropertiesEx", pages[i], strlen(pages[i]), &doc, &err) < 0 ||
                    vmware_objects_add_page(&b->objs, doc, &token, &err) < 0)
                        fail_msg("%s", err.message);
                if (i == 0)
                        assert_string_equal(token, "page2");
                else
                        assert_null(token);
        }
        if (vmware_inventory_build(&b->objs,
                                   &(struct vmware_inventory_options) {
                                           .source = "vc", .server_uuid = "vc-uuid", .datacenters = datacenters },
                                   &b->instances, &b->networks, &b->warnings, &err) < 0)
                fail_msg("%s", err.message);
}

static void built_done(struct built *b)
{
        vmware_objects_done(&b->objs);
        json_decref(b->instances);
        json_decref(b->networks);
        json_decref(b->warnings);
}

static const json_t *by(const json_t *array, const char *key, const char *value)
{
        size_t i;
        json_t *v;

        json_array_foreach(array, i, v)
                if (streq_ptr(json_string_value(json_object_get(v, key)), value))
                        return v;
        return NULL;
}

static const char *s(const json_t *o, const char *key)
{
        return json_string_value(json_object_get(o, key));
}

static bool t(const json_t *o, const char *key)
{
        return json_is_true(json_object_get(o, key));
}

static void test_pages_add_up_to_every_object(void **state)
{
        struct built b;

        (void) state;
        build(&b, NULL);
        assert_int_equal(b.objs.n, 18);
        assert_non_null(vmware_objects_find(&b.objs, "vm-2"));
        assert_string_equal(vmware_object_prop_text(vmware_objects_find(&b.objs, "vm-1"), "name"), "web1");
        built_done(&b);
}

static void test_vm_gets_its_inventory_path_size_and_firmware(void **state)
{
        struct built b;
        const json_t *vm;

        (void) state;
        build(&b, NULL);
        assert_int_equal(json_array_size(b.instances), 2);      /* the template is left out */
        vm = by(b.instances, "uuid", "5000-aaaa");
        assert_non_null(vm);
        assert_string_equal(s(vm, "location"), "/dc1/vm/apps & more/web1");
        assert_string_equal(s(vm, "source"), "vc");
        assert_string_equal(s(vm, "description"), "front <end>");
        assert_int_equal(json_integer_value(json_object_get(vm, "cpus")), 4);
        assert_int_equal(json_integer_value(json_object_get(vm, "memory")), INT64_C(3072) << 20);
        assert_true(t(vm, "secure_boot"));
        assert_false(t(vm, "legacy_boot"));
        assert_true(t(vm, "tpm"));
        assert_true(t(vm, "running"));
        assert_true(t(vm, "background_import"));
        built_done(&b);
}

static void test_os_falls_back_to_the_configured_guest(void **state)
{
        struct built b;
        const json_t *vm;

        (void) state;
        build(&b, NULL);
        vm = by(b.instances, "uuid", "5000-aaaa");
        assert_string_equal(s(vm, "os"), "Debian GNU/Linux 12 (64-bit)");
        assert_string_equal(s(vm, "os_version"), "12");
        assert_string_equal(s(vm, "os_type"), "linux");
        assert_string_equal(s(vm, "distribution"), "debian");
        built_done(&b);
}

static void test_independent_and_rdm_disks_are_unsupported_with_a_reason(void **state)
{
        struct built b;
        const json_t *disks, *d0, *d1, *d2;

        (void) state;
        build(&b, NULL);
        disks = json_object_get(by(b.instances, "uuid", "5000-aaaa"), "disks");
        assert_int_equal(json_array_size(disks), 3);
        d0 = json_array_get(disks, 0);
        d1 = json_array_get(disks, 1);
        d2 = json_array_get(disks, 2);
        assert_string_equal(s(d0, "name"), "disk0");
        assert_string_equal(s(d0, "backing"), "[ds1] web1/web1.vmdk");
        assert_string_equal(s(d0, "controller"), "pvscsi");
        assert_string_equal(s(d0, "change_id"), "52 aa-bb/3");
        assert_int_equal(json_integer_value(json_object_get(d0, "capacity")), 1048576);
        assert_int_equal(json_integer_value(json_object_get(d0, "device_key")), 2000);
        assert_true(t(d0, "supported"));
        assert_true(t(d0, "change_tracking"));
        assert_false(t(d0, "shared"));

        assert_int_equal(json_integer_value(json_object_get(d1, "capacity")), 2048 * 1024);
        assert_false(t(d1, "supported"));
        assert_false(t(d1, "change_tracking"));
        assert_string_equal(s(d1, "unsupported_reason"),
                            "independent disks are not part of snapshots and cannot be migrated");
        assert_false(t(d2, "supported"));
        assert_string_equal(s(d2, "unsupported_reason"), "raw device mappings (RDM) cannot be migrated");
        built_done(&b);
}

static void test_nics_name_their_network_and_the_guests_addresses(void **state)
{
        struct built b;
        const json_t *nics, *n0, *n1;

        (void) state;
        build(&b, NULL);
        nics = json_object_get(by(b.instances, "uuid", "5000-aaaa"), "nics");
        assert_int_equal(json_array_size(nics), 2);
        n0 = json_array_get(nics, 0);
        n1 = json_array_get(nics, 1);
        assert_string_equal(s(n0, "hardware_address"), "00:50:56:00:00:01");
        assert_string_equal(s(n0, "network"), s(by(b.networks, "name", "VM Network"), "uuid"));
        assert_string_equal(s(n0, "ipv4_address"), "192.0.2.5");
        assert_string_equal(s(n0, "ipv6_address"), "2001:db8::5");     /* not the link-local one */
        assert_string_equal(s(n0, "type"), "vmxnet3");
        assert_string_equal(s(n1, "network"), s(by(b.networks, "name", "trunk"), "uuid"));
        assert_string_equal(s(n1, "ipv4_address"), "");
        assert_string_equal(s(n1, "type"), "e1000e");
        built_done(&b);
}

static void test_snapshots_custom_attributes_and_pool_are_kept(void **state)
{
        struct built b;
        const json_t *vm, *snaps, *config;

        (void) state;
        build(&b, NULL);
        vm = by(b.instances, "uuid", "5000-aaaa");
        snaps = json_object_get(vm, "snapshots");
        assert_int_equal(json_array_size(snaps), 2);
        assert_string_equal(s(json_array_get(snaps, 0), "name"), "before");
        assert_string_equal(s(json_array_get(snaps, 1), "name"), "after");
        assert_string_equal(s(json_array_get(snaps, 1), "moref"), "snapshot-2");
        config = json_object_get(vm, "config");
        assert_string_equal(s(config, "custom.owner"), "team-web");
        assert_string_equal(s(config, "resource_pool"), "/dc1/host/cluster1/Resources");
        assert_string_equal(s(config, "vmware.moref"), "vm-1");
        built_done(&b);
}

static void test_networks_carry_their_vlan_and_uplinks_are_left_out(void **state)
{
        struct built b;
        const json_t *std, *trunk;

        (void) state;
        build(&b, NULL);
        assert_int_equal(json_array_size(b.networks), 2);
        assert_null(by(b.networks, "name", "dvs1-uplinks"));
        std = by(b.networks, "name", "VM Network");
        assert_string_equal(s(std, "location"), "/dc1/network/VM Network");
        assert_string_equal(s(std, "type"), "standard");
        assert_string_equal(s(std, "vlan"), "42");
        assert_string_equal(s(json_object_get(json_object_get(std, "default_mapping"), "*"), "network"),
                            "VM-Network");
        trunk = by(b.networks, "name", "trunk");
        assert_string_equal(s(trunk, "type"), "distributed");
        assert_string_equal(s(trunk, "vlan"), "5-7,9");
        assert_string_equal(s(json_object_get(json_object_get(trunk, "default_mapping"), "*"), "nictype"), "physical");
        assert_string_equal(s(json_object_get(json_object_get(trunk, "default_mapping"), "*"), "vlan"), "5,6,7,9");
        built_done(&b);
}

static void test_partial_and_unmigratable_vms_raise_warnings(void **state)
{
        struct built b;
        size_t i;
        json_t *w;
        int os = 0, cbt = 0, disk = 0;

        (void) state;
        build(&b, NULL);
        json_array_foreach(b.warnings, i, w) {
                if (streq(s(w, "type"), VMWARE_WARNING_UNKNOWN_OS)) {
                        assert_string_equal(s(w, "entity"), "5000-bbbb");
                        assert_string_equal(s(w, "message"), "Could not determine instance OS, check if guest agent "
                                                             "is running ('/dc2/vm/blackbox')");
                        os++;
                } else if (streq(s(w, "type"), VMWARE_WARNING_NO_CBT)) {
                        assert_string_equal(s(w, "entity"), "5000-bbbb");
                        cbt++;
                } else if (streq(s(w, "type"), VMWARE_WARNING_UNSUPPORTED_DISK)) {
                        assert_string_equal(s(w, "entity"), "5000-aaaa");
                        disk++;
                } else
                        fail_msg("Unexpected warning '%s'", s(w, "type"));
                assert_string_equal(s(w, "entity_type"), "instance");
        }
        assert_int_equal(os, 1);
        assert_int_equal(cbt, 1);
        assert_int_equal(disk, 2);
        built_done(&b);
}

static void test_only_the_chosen_datacenters_are_kept(void **state)
{
        _cleanup_json_ json_t *dcs = json_pack("[s]", "dc2");
        struct built b;

        (void) state;
        build(&b, dcs);
        assert_int_equal(json_array_size(b.instances), 1);
        assert_string_equal(s(json_array_get(b.instances, 0), "name"), "blackbox");
        assert_int_equal(json_array_size(b.networks), 0);
        built_done(&b);
}

static void test_guesses_from_guest_names(void **state)
{
        static const struct {
                const char *family, *id, *name, *os_type, *distribution, *version;
        } cases[] = {
                { NULL, "ubuntu64Guest", "Ubuntu Linux (64-bit)", "linux", "ubuntu", "" },
                { NULL, "centos7_64Guest", "CentOS 7 (64-bit)", "linux", "centos", "7" },
                { NULL, "rhel9_64Guest", "Red Hat Enterprise Linux 9 (64-bit)", "linux", "rhel", "9" },
                { NULL, "windows9Server64Guest", "Microsoft Windows Server 2016 (64-bit)", "windows", "windows",
                  "2016" },
                { "windowsGuest", NULL, NULL, "windows", "", "" },
                { NULL, "otherGuest64", "", "", "", "" },
                { NULL, NULL, "SUSE Linux Enterprise 15.4 (64-bit)", "linux", "sles", "15.4" },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *version = vmware_guess_os_version(cases[i].name);

                assert_string_equal(vmware_guess_os_type(cases[i].family, cases[i].id, cases[i].name), cases[i].os_type);
                assert_string_equal(vmware_guess_distribution(cases[i].id, cases[i].name), cases[i].distribution);
                assert_string_equal(version, cases[i].version);
        }
}

static void test_object_uuids_are_stable_and_per_server(void **state)
{
        char a[37], b[37], c[37];

        (void) state;
        vmware_object_uuid("vc1", "network-1", a);
        vmware_object_uuid("vc1", "network-1", b);
        vmware_object_uuid("vc2", "network-1", c);
        assert_string_equal(a, b);
        assert_string_not_equal(a, c);
        assert_int_equal(strlen(a), 36);
        assert_int_equal(a[14], '5');
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pages_add_up_to_every_object),
                cmocka_unit_test(test_vm_gets_its_inventory_path_size_and_firmware),
                cmocka_unit_test(test_os_falls_back_to_the_configured_guest),
                cmocka_unit_test(test_independent_and_rdm_disks_are_unsupported_with_a_reason),
                cmocka_unit_test(test_nics_name_their_network_and_the_guests_addresses),
                cmocka_unit_test(test_snapshots_custom_attributes_and_pool_are_kept),
                cmocka_unit_test(test_networks_carry_their_vlan_and_uplinks_are_left_out),
                cmocka_unit_test(test_partial_and_unmigratable_vms_raise_warnings),
                cmocka_unit_test(test_only_the_chosen_datacenters_are_kept),
                cmocka_unit_test(test_guesses_from_guest_names),
                cmocka_unit_test(test_object_uuids_are_stable_and_per_server),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
