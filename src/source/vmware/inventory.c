/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "source/vmware/inventory.h"

static const char *const vm_paths[] = {
        "name", "parent", "config", "guest", "runtime.powerState", "snapshot", "customValue", "availableField",
        "resourcePool", NULL
};
static const char *const entity_paths[] = { "name", "parent", NULL };
static const char *const host_paths[] = { "name", "parent", "config.network.portgroup", NULL };
static const char *const portgroup_paths[] = { "name", "parent", "config", "tag", NULL };
static const char *const dvs_paths[] = { "name", "parent", "config.uplinkPortgroup", NULL };

const struct vmware_property_spec vmware_inventory_specs[] = {
        { "VirtualMachine", vm_paths },
        { "Folder", entity_paths },
        { "Datacenter", entity_paths },
        { "ComputeResource", entity_paths },
        { "ResourcePool", entity_paths },
        { "HostSystem", host_paths },
        { "Network", entity_paths },
        { "DistributedVirtualPortgroup", portgroup_paths },
        { "DistributedVirtualSwitch", dvs_paths },
};
const size_t vmware_inventory_n_specs = ELEMENTSOF(vmware_inventory_specs);

/* --- guesses ------------------------------------------------------------------------ */

static bool contains_ci(const char *s, const char *needle)
{
        return s && strcasestr(s, needle);
}

const char *vmware_guess_distribution(const char *guest_id, const char *full_name)
{
        static const struct {
                const char *needle;
                const char *distribution;
        } table[] = {
                { "ubuntu", "ubuntu" },   { "debian", "debian" },     { "centos", "centos" },
                { "rhel", "rhel" },       { "red hat", "rhel" },      { "sles", "sles" },
                { "suse", "sles" },       { "rocky", "rocky" },       { "alma", "almalinux" },
                { "oracle", "oracle" },   { "fedora", "fedora" },     { "photon", "photon" },
                { "amazonlinux", "amazon" }, { "freebsd", "freebsd" }, { "win", "windows" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (contains_ci(full_name, table[i].needle) || contains_ci(guest_id, table[i].needle))
                        return table[i].distribution;
        return "";
}

const char *vmware_guess_os_type(const char *guest_family, const char *guest_id, const char *full_name)
{
        const char *distribution;

        if (streq_ptr(guest_family, "windowsGuest"))
                return "windows";
        if (streq_ptr(guest_family, "linuxGuest"))
                return "linux";
        if ((guest_id && startswith(guest_id, "win")) || contains_ci(full_name, "windows"))
                return "windows";
        if (contains_ci(full_name, "linux") || contains_ci(guest_id, "linux"))
                return "linux";
        distribution = vmware_guess_distribution(guest_id, full_name);
        if (*distribution && !streq(distribution, "windows") && !streq(distribution, "freebsd"))
                return "linux";
        return "";
}

char *vmware_guess_os_version(const char *full_name)
{
        const char *p = full_name;

        while (p && *p) {
                size_t n = 0;

                if (!isdigit((unsigned char) *p) || (p > full_name && isalnum((unsigned char) p[-1]))) {
                        p++;
                        continue;
                }
                while (isdigit((unsigned char) p[n]) || (p[n] == '.' && isdigit((unsigned char) p[n + 1])))
                        n++;
                if (!startswith(p + n, "-bit"))
                        return strndup(p, n);
                p += n;
        }
        return strdup("");
}

void vmware_object_uuid(const char *server_uuid, const char *moref, char ret[static 37])
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();

        memset(md, 0, sizeof(md));
        if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1) {
                EVP_DigestUpdate(ctx, "ferry-vmware:", 13);
                EVP_DigestUpdate(ctx, server_uuid ? server_uuid : "", strlen(server_uuid ? server_uuid : ""));
                EVP_DigestUpdate(ctx, ":", 1);
                EVP_DigestUpdate(ctx, moref, strlen(moref));
                EVP_DigestFinal_ex(ctx, md, &len);
        }
        EVP_MD_CTX_free(ctx);
        md[6] = (unsigned char) ((md[6] & 0x0f) | 0x50);     /* version 5 style: name-based */
        md[8] = (unsigned char) ((md[8] & 0x3f) | 0x80);     /* RFC 4122 variant */
        snprintf(ret, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", md[0], md[1],
                 md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10], md[11], md[12], md[13], md[14],
                 md[15]);
}

/* --- the object index ---------------------------------------------------------------- */

struct index {
        const struct vmware_object **sorted;
        size_t n;
};

static int cmp_object(const void *a, const void *b)
{
        const struct vmware_object *const *x = a, *const *y = b;

        return strcmp((*x)->moref, (*y)->moref);
}

static int index_build(const struct vmware_objects *objs, struct index *ret)
{
        ret->sorted = calloc(objs->n ? objs->n : 1, sizeof(*ret->sorted));
        if (!ret->sorted)
                return -ENOMEM;
        for (size_t i = 0; i < objs->n; i++)
                ret->sorted[i] = &objs->items[i];
        ret->n = objs->n;
        qsort(ret->sorted, ret->n, sizeof(*ret->sorted), cmp_object);
        return 0;
}

static const struct vmware_object *index_find(const struct index *idx, const char *moref)
{
        struct vmware_object key = { .moref = moref };
        const struct vmware_object *kp = &key, *const *found;

        if (!moref)
                return NULL;
        found = bsearch(&kp, idx->sorted, idx->n, sizeof(*idx->sorted), cmp_object);
        return found ? *found : NULL;
}

/*
 * The inventory path of o: the names from the datacenter down, "/dc/vm/folder/name".
 * The root folder (the one without a parent) is left out.  *ret_datacenter
 * (may be NULL) gets the datacenter's name, borrowed, or NULL.
 */
static char *entity_path(const struct index *idx, const struct vmware_object *o, const char **ret_datacenter)
{
        const char *names[64];
        const char *datacenter = NULL;
        size_t n = 0;
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;

        while (o && n < ELEMENTSOF(names)) {
                const char *parent = xml_text(vmware_object_prop(o, "parent"));

                if (!parent || !*parent)
                        break;  /* the root folder */
                if (streq(o->type, "Datacenter"))
                        datacenter = vmware_object_prop_text(o, "name");
                names[n++] = vmware_object_prop_text(o, "name");
                o = index_find(idx, parent);
        }
        for (size_t i = n; i > 0; i--)
                if (strbuf_appendf(&sb, "/%s", names[i - 1] ? names[i - 1] : "?") < 0)
                        return NULL;
        if (ret_datacenter)
                *ret_datacenter = datacenter;
        return strbuf_steal(&sb);
}

static bool datacenter_wanted(const struct vmware_inventory_options *options, const char *datacenter)
{
        size_t i;
        json_t *v;

        if (!options->datacenters || json_array_size(options->datacenters) == 0)
                return true;
        json_array_foreach(options->datacenters, i, v)
                if (streq_ptr(json_string_value(v), datacenter))
                        return true;
        return false;
}

/* --- networks ------------------------------------------------------------------------- */

/* "300-399,500-510" of a trunk, or "" for none. */
static char *trunk_ranges(const xmlNode *vlan, bool expand)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;

        for (xmlNode *r = xml_child(vlan, "vlanId"); r; r = xml_next_same(r)) {
                int64_t start = 0, end = 0;

                if (xml_int(xml_child(r, "start"), &start) <= 0 || xml_int(xml_child(r, "end"), &end) <= 0)
                        continue;
                if (expand) {
                        for (int64_t id = start < 1 ? 1 : start; id <= end && id <= 4094; id++)
                                if (strbuf_appendf(&sb, "%s%lld", sb.len ? "," : "", (long long) id) < 0)
                                        return NULL;
                } else if (start == end) {
                        if (strbuf_appendf(&sb, "%s%lld", sb.len ? "," : "", (long long) start) < 0)
                                return NULL;
                } else if (strbuf_appendf(&sb, "%s%lld-%lld", sb.len ? "," : "", (long long) start,
                                          (long long) end) < 0)
                        return NULL;
        }
        return strbuf_steal(&sb);
}

/* A name Incus accepts for the default mapping: letters, digits, '-', '_' and '.'. */
static char *mapping_name(const char *name)
{
        char *s = strdup(*name ? name : "network");

        if (!s)
                return NULL;
        for (char *p = s; *p; p++)
                if (!isalnum((unsigned char) *p) && *p != '-' && *p != '_' && *p != '.')
                        *p = '-';
        if (!isalnum((unsigned char) s[0]))
                s[0] = 'n';
        if (strlen(s) > 63)
                s[63] = '\0';
        return s;
}

static bool portgroup_is_uplink(const struct vmware_object *pg, const struct vmware_objects *objs)
{
        bool uplink = false;

        if (xml_bool(xml_path(vmware_object_prop(pg, "config"), "uplink"), &uplink) > 0 && uplink)
                return true;
        for (xmlNode *t = xml_child(vmware_object_prop(pg, "tag"), "Tag"); t; t = xml_next_same(t))
                if (streq_ptr(xml_path_text(t, "key"), "SYSTEM/DVS.UPLINKPG"))
                        return true;
        for (size_t i = 0; i < objs->n; i++) {
                const xmlNode *ups = vmware_object_prop(&objs->items[i], "config.uplinkPortgroup");

                for (xmlNode *u = ups ? ups->children : NULL; u; u = u->next)
                        if (u->type == XML_ELEMENT_NODE && streq_ptr(xml_text(u), pg->moref))
                                return true;
        }
        return false;
}

/* The VLAN of a standard portgroup, from the portgroup lists of the hosts in its datacenter. */
static int64_t standard_vlan(const struct index *idx, const struct vmware_objects *objs, const char *name,
                             const char *datacenter)
{
        for (size_t i = 0; i < objs->n; i++) {
                const struct vmware_object *h = &objs->items[i];
                const char *dc = NULL;
                _cleanup_free_ char *path = NULL;
                xmlNode *pgs;

                if (!streq(h->type, "HostSystem"))
                        continue;
                pgs = vmware_object_prop(h, "config.network.portgroup");
                if (!pgs)
                        continue;
                path = entity_path(idx, h, &dc);
                if (!streq_ptr(dc, datacenter))
                        continue;
                for (xmlNode *pg = xml_child(pgs, "HostPortGroup"); pg; pg = xml_next_same(pg)) {
                        int64_t vlan = 0;

                        if (streq_ptr(xml_path_text(pg, "spec/name"), name) &&
                            xml_int(xml_path(pg, "spec/vlanId"), &vlan) > 0)
                                return vlan;
                }
        }
        return 0;
}

static int build_network(const struct index *idx, const struct vmware_objects *objs, const struct vmware_object *o,
                         const struct vmware_inventory_options *options, json_t *networks, struct ferry_error *err)
{
        _cleanup_free_ char *location = NULL, *vlan = NULL, *mapped = NULL, *map_vlan = NULL;
        _cleanup_json_ json_t *net = NULL, *mapping = NULL;
        const char *name = vmware_object_prop_text(o, "name"), *datacenter = NULL, *nictype = "managed";
        bool distributed = streq(o->type, "DistributedVirtualPortgroup");
        char uuid[37];

        if (!name)
                return ferry_error_set(err, -EBADMSG, "Network '%s' has no name", o->moref);
        if (distributed && portgroup_is_uplink(o, objs))
                return 0;
        location = entity_path(idx, o, &datacenter);
        if (!location)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        if (!datacenter_wanted(options, datacenter))
                return 0;

        if (distributed) {
                xmlNode *v = xml_path(vmware_object_prop(o, "config"), "defaultPortConfig/vlan");
                const char *vt = xml_xsi_type(v);
                int64_t id = 0;

                if (streq_ptr(vt, "VmwareDistributedVirtualSwitchTrunkVlanSpec")) {
                        vlan = trunk_ranges(v, false);
                        map_vlan = trunk_ranges(v, true);
                } else if (xml_int(xml_child(v, "vlanId"), &id) > 0 && id > 0) {
                        if (asprintf(&vlan, "%lld", (long long) id) < 0)
                                vlan = NULL;
                        map_vlan = vlan ? strdup(vlan) : NULL;
                } else {
                        vlan = strdup("");
                        map_vlan = strdup("");
                }
                nictype = "physical";
        } else {
                int64_t id = standard_vlan(idx, objs, name, datacenter);

                if (id > 0 && id < 4095) {
                        if (asprintf(&vlan, "%lld", (long long) id) < 0)
                                vlan = NULL;
                } else
                        vlan = strdup("");
                map_vlan = strdup("");
        }
        mapped = mapping_name(name);
        if (!vlan || !map_vlan || !mapped)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        vmware_object_uuid(options->server_uuid, o->moref, uuid);
        mapping = json_pack("{s:{s:s, s:s, s:s}}", "*", "network", distributed ? "" : mapped, "nictype", nictype,
                            "vlan", map_vlan);
        net = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O*}", "uuid", uuid, "source", options->source,
                        "location", location, "name", name, "type", distributed ? "distributed" : "standard", "vlan",
                        vlan, "moref", o->moref, "datacenter", datacenter ? datacenter : "", "default_mapping",
                        mapping);
        if (!net)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        if (distributed) {
                /* Distributed portgroups map to a physical NIC with the VLAN (an uplink
                 * named by the admin); there is no sensible default parent. */
                json_object_del(json_object_get(json_object_get(net, "default_mapping"), "*"), "network");
        }
        return json_array_append_new(networks, TAKE_PTR(net)) < 0 ? ferry_error_set(err, -ENOMEM, "Out of memory")
                                                                   : 0;
}

/* --- instances ------------------------------------------------------------------------ */

static int warn(json_t *warnings, const char *uuid, const char *type, const char *fmt, ...) _printf_(4, 5);
static int warn(json_t *warnings, const char *uuid, const char *type, const char *fmt, ...)
{
        _cleanup_free_ char *message = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&message, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return json_array_append_new(warnings, json_pack("{s:s, s:s, s:s, s:s}", "entity_type", "instance", "entity",
                                                         uuid, "type", type, "message", message));
}

static const char *controller_kind(const char *xsi_type)
{
        static const struct {
                const char *type, *kind;
        } table[] = {
                { "ParaVirtualSCSIController", "pvscsi" },   { "VirtualLsiLogicController", "lsilogic" },
                { "VirtualLsiLogicSASController", "lsilogic-sas" }, { "VirtualBusLogicController", "buslogic" },
                { "VirtualAHCIController", "sata" },          { "VirtualIDEController", "ide" },
                { "VirtualNVMEController", "nvme" },
        };

        for (size_t i = 0; xsi_type && i < ELEMENTSOF(table); i++)
                if (streq(xsi_type, table[i].type))
                        return table[i].kind;
        return "";
}

static const char *nic_kind(const char *xsi_type)
{
        if (!xsi_type)
                return "";
        if (startswith(xsi_type, "Virtual"))
                xsi_type += strlen("Virtual");
        if (streq(xsi_type, "Vmxnet3"))
                return "vmxnet3";
        if (streq(xsi_type, "E1000"))
                return "e1000";
        if (streq(xsi_type, "E1000e"))
                return "e1000e";
        if (streq(xsi_type, "Vmxnet2"))
                return "vmxnet2";
        if (streq(xsi_type, "Vmxnet"))
                return "vmxnet";
        if (streq(xsi_type, "PCNet32"))
                return "pcnet32";
        if (streq(xsi_type, "SriovEthernetCard"))
                return "sriov";
        return "";
}

static bool is_nic_type(const char *t)
{
        return t && (streq(t, "VirtualVmxnet3") || streq(t, "VirtualE1000") || streq(t, "VirtualE1000e") ||
                     streq(t, "VirtualVmxnet2") || streq(t, "VirtualVmxnet") || streq(t, "VirtualPCNet32") ||
                     streq(t, "VirtualSriovEthernetCard") || streq(t, "VirtualVmxnet3Vrdma"));
}

/* Why a disk cannot be migrated, or NULL when it can. */
static const char *disk_unsupported_reason(const char *backing_type, const char *mode, const char *sharing,
                                           bool *ret_shared)
{
        *ret_shared = sharing && !streq(sharing, "sharingNone");
        if (streq_ptr(backing_type, "VirtualDiskRawDiskMappingVer1BackingInfo") ||
            streq_ptr(backing_type, "VirtualDiskRawDiskVer2BackingInfo") ||
            streq_ptr(backing_type, "VirtualDiskPartitionedRawDiskVer2BackingInfo"))
                return "raw device mappings (RDM) cannot be migrated";
        if (mode && startswith(mode, "independent"))
                return "independent disks are not part of snapshots and cannot be migrated";
        if (*ret_shared)
                return "shared (multi-writer) disks cannot be migrated";
        if (backing_type && !endswith(backing_type, "BackingInfo"))
                return "the disk's backing is unknown";
        return NULL;
}

static int add_snapshots(json_t *list, const xmlNode *node)
{
        for (xmlNode *s = xml_child(node, "rootSnapshotList") ? xml_child(node, "rootSnapshotList")
                                                              : xml_child(node, "childSnapshotList");
             s; s = xml_next_same(s)) {
                const char *name = xml_path_text(s, "name"), *ref = xml_path_text(s, "snapshot"),
                           *created = xml_path_text(s, "createTime"), *desc = xml_path_text(s, "description");
                int r;

                r = json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s}", "name", name ? name : "", "moref",
                                                          ref ? ref : "", "created_at", created ? created : "",
                                                          "description", desc ? desc : ""));
                if (r < 0)
                        return -ENOMEM;
                r = add_snapshots(list, s);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The guest's addresses of the NIC with this key or MAC. */
static void guest_addresses(const xmlNode *guest, int64_t key, const char *mac, const char **ret_v4,
                            const char **ret_v6)
{
        *ret_v4 = "";
        *ret_v6 = "";
        for (xmlNode *n = xml_child(guest, "net"); n; n = xml_next_same(n)) {
                int64_t id = -1;

                (void) xml_int(xml_child(n, "deviceConfigId"), &id);
                if (id != key && !(mac && streq_ptr(xml_path_text(n, "macAddress"), mac)))
                        continue;
                for (xmlNode *a = xml_child(n, "ipAddress"); a; a = xml_next_same(a)) {
                        const char *ip = xml_text(a);

                        if (!ip || !*ip)
                                continue;
                        if (strchr(ip, ':')) {
                                if (!**ret_v6 && !startswith(ip, "fe80"))
                                        *ret_v6 = ip;
                        } else if (!**ret_v4)
                                *ret_v4 = ip;
                }
                return;
        }
}

struct vm_build {
        const struct index *idx;
        const struct vmware_inventory_options *options;
        json_t *warnings;
};

static int build_instance(const struct vm_build *b, const struct vmware_object *o, json_t *instances,
                          struct ferry_error *err)
{
        _cleanup_free_ char *location = NULL, *os_version = NULL, *pool_path = NULL;
        _cleanup_json_ json_t *vm = NULL, *disks = NULL, *nics = NULL, *snapshots = NULL, *config = NULL;
        xmlNode *cfg = vmware_object_prop(o, "config"), *guest = vmware_object_prop(o, "guest"), *hw;
        const char *name = vmware_object_prop_text(o, "name"), *datacenter = NULL, *uuid, *os, *guest_id,
                   *firmware, *power;
        int64_t cpus = 0, memory_mb = 0;
        bool template = false, secure_boot = false, cbt = false, tpm = false;
        const struct vmware_object *pool;
        size_t disk_index = 0;

        if (!name)
                return ferry_error_set(err, -EBADMSG, "Virtual machine '%s' has no name", o->moref);
        if (!cfg)
                return 0;       /* still being created, or inaccessible: nothing to say yet */
        if (xml_bool(xml_child(cfg, "template"), &template) > 0 && template)
                return 0;

        location = entity_path(b->idx, o, &datacenter);
        if (!location)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        if (!datacenter_wanted(b->options, datacenter))
                return 0;

        uuid = xml_path_text(cfg, "instanceUuid");
        if (!uuid || !*uuid)
                uuid = xml_path_text(cfg, "uuid");
        if (!uuid || !*uuid)
                return ferry_error_set(err, -EBADMSG, "Virtual machine '%s' has no instance uuid", location);

        hw = xml_child(cfg, "hardware");
        if (xml_int(xml_child(hw, "numCPU"), &cpus) < 0 || xml_int(xml_child(hw, "memoryMB"), &memory_mb) < 0)
                return ferry_error_set(err, -EBADMSG, "Virtual machine '%s' has malformed hardware", location);

        os = xml_path_text(guest, "guestFullName");
        if (!os || !*os)
                os = xml_path_text(cfg, "guestFullName");
        if (!os)
                os = "";
        guest_id = xml_path_text(guest, "guestId");
        if (!guest_id || !*guest_id)
                guest_id = xml_path_text(cfg, "guestId");
        os_version = vmware_guess_os_version(os);
        firmware = xml_path_text(cfg, "firmware");
        (void) xml_bool(xml_path(cfg, "bootOptions/efiSecureBootEnabled"), &secure_boot);
        (void) xml_bool(xml_child(cfg, "changeTrackingEnabled"), &cbt);
        power = vmware_object_prop_text(o, "runtime.powerState");

        disks = json_array();
        nics = json_array();
        snapshots = json_array();
        config = json_object();
        if (!disks || !nics || !snapshots || !config || !os_version)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        for (xmlNode *d = xml_child(hw, "device"); d; d = xml_next_same(d)) {
                const char *t = xml_xsi_type(d);
                int64_t key = 0;

                (void) xml_int(xml_child(d, "key"), &key);
                if (streq_ptr(t, "VirtualTPM")) {
                        tpm = true;
                } else if (streq_ptr(t, "VirtualDisk")) {
                        xmlNode *backing = xml_child(d, "backing");
                        const char *bt = xml_xsi_type(backing), *file = xml_path_text(backing, "fileName"),
                                   *mode = xml_path_text(backing, "diskMode"),
                                   *sharing = xml_path_text(backing, "sharing"),
                                   *change_id = xml_path_text(backing, "changeId"), *reason, *controller = "";
                        int64_t capacity = 0, kb = 0, ctrl_key = -1;
                        bool shared;
                        char disk_name[32];

                        if (xml_int(xml_child(d, "capacityInBytes"), &capacity) <= 0 &&
                            xml_int(xml_child(d, "capacityInKB"), &kb) > 0)
                                capacity = kb * 1024;
                        (void) xml_int(xml_child(d, "controllerKey"), &ctrl_key);
                        for (xmlNode *c = xml_child(hw, "device"); c; c = xml_next_same(c)) {
                                int64_t ck = -2;

                                if (xml_int(xml_child(c, "key"), &ck) > 0 && ck == ctrl_key) {
                                        controller = controller_kind(xml_xsi_type(c));
                                        break;
                                }
                        }
                        reason = disk_unsupported_reason(bt, mode, sharing, &shared);
                        snprintf(disk_name, sizeof(disk_name), "disk%zu", disk_index++);
                        if (json_array_append_new(
                                    disks, json_pack("{s:s, s:I, s:b, s:b, s:b, s:s, s:I, s:s, s:s, s:s, s:s, s:s}",
                                                     "name", disk_name, "capacity", (json_int_t) capacity, "shared",
                                                     shared, "supported", reason == NULL, "change_tracking",
                                                     cbt && change_id && *change_id &&
                                                             !(mode && startswith(mode, "independent")),
                                                     "backing", file ? file : "",
                                                     "device_key", (json_int_t) key, "controller", controller,
                                                     "mode", mode ? mode : "", "change_id",
                                                     change_id ? change_id : "", "label",
                                                     xml_path_text(d, "deviceInfo/label")
                                                             ? xml_path_text(d, "deviceInfo/label")
                                                             : "",
                                                     "unsupported_reason", reason ? reason : "")) < 0)
                                return ferry_error_set(err, -ENOMEM, "Out of memory");
                        if (reason && warn(b->warnings, uuid, VMWARE_WARNING_UNSUPPORTED_DISK,
                                           "Disk '%s' (%s) of '%s' cannot be migrated: %s", disk_name,
                                           file ? file : "?", location, reason) < 0)
                                return ferry_error_set(err, -ENOMEM, "Out of memory");
                } else if (is_nic_type(t)) {
                        xmlNode *backing = xml_child(d, "backing");
                        const char *bt = xml_xsi_type(backing), *mac = xml_path_text(d, "macAddress"), *net_ref = NULL,
                                   *v4, *v6;
                        char net_uuid[37] = "";
                        bool connected = true;

                        if (streq_ptr(bt, "VirtualEthernetCardDistributedVirtualPortBackingInfo"))
                                net_ref = xml_path_text(backing, "port/portgroupKey");
                        else
                                net_ref = xml_path_text(backing, "network");
                        if (net_ref && *net_ref)
                                vmware_object_uuid(b->options->server_uuid, net_ref, net_uuid);
                        (void) xml_bool(xml_path(d, "connectable/startConnected"), &connected);
                        guest_addresses(guest, key, mac, &v4, &v6);
                        if (json_array_append_new(nics, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:b}",
                                                                  "hardware_address", mac ? mac : "", "network",
                                                                  net_uuid, "ipv4_address", v4, "ipv6_address", v6,
                                                                  "type", nic_kind(t), "device_key",
                                                                  (json_int_t) key, "connected", connected)) < 0)
                                return ferry_error_set(err, -ENOMEM, "Out of memory");
                }
        }

        if (add_snapshots(snapshots, vmware_object_prop(o, "snapshot")) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        /* config: custom attributes by name, the resource pool, what vSphere calls the guest. */
        for (xmlNode *cv = xml_child(vmware_object_prop(o, "customValue"), "CustomFieldValue"); cv;
             cv = xml_next_same(cv)) {
                const char *key = xml_path_text(cv, "key"), *value = xml_path_text(cv, "value"), *field = NULL;

                /* The server's definitions, else those the VM lists. */
                for (xmlNode *f = xml_child(b->options->custom_fields, "CustomFieldDef"); f && !field;
                     f = xml_next_same(f))
                        if (streq_ptr(xml_path_text(f, "key"), key))
                                field = xml_path_text(f, "name");
                for (xmlNode *f = xml_child(vmware_object_prop(o, "availableField"), "CustomFieldDef"); f && !field;
                     f = xml_next_same(f))
                        if (streq_ptr(xml_path_text(f, "key"), key))
                                field = xml_path_text(f, "name");
                if (field && value) {
                        _cleanup_free_ char *k = strjoin("custom.", field, NULL);

                        if (!k || json_object_set_new(config, k, json_string(value)) < 0)
                                return ferry_error_set(err, -ENOMEM, "Out of memory");
                }
        }
        pool = index_find(b->idx, vmware_object_prop_text(o, "resourcePool"));
        if (pool) {
                pool_path = entity_path(b->idx, pool, NULL);
                if (!pool_path || json_object_set_new(config, "resource_pool", json_string(pool_path)) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        if (json_object_set_new(config, "vmware.moref", json_string(o->moref)) < 0 ||
            json_object_set_new(config, "vmware.guest_id", json_string(guest_id ? guest_id : "")) < 0 ||
            json_object_set_new(config, "vmware.hardware_version",
                                json_string(xml_path_text(cfg, "version") ? xml_path_text(cfg, "version") : "")) < 0 ||
            json_object_set_new(config, "vmware.power_state", json_string(power ? power : "")) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        vm = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:b}",
                       "uuid", uuid, "source", b->options->source, "location", location, "name", name,
                       "datacenter", datacenter ? datacenter : "", "description",
                       xml_path_text(cfg, "annotation") ? xml_path_text(cfg, "annotation") : "", "cpus",
                       (json_int_t) cpus, "memory", (json_int_t) memory_mb * 1024 * 1024, "architecture",
                       guest_id && strcasestr(guest_id, "arm64") ? "aarch64" : "x86_64", "os", os, "os_version",
                       os_version, "os_type",
                       vmware_guess_os_type(xml_path_text(guest, "guestFamily"), guest_id, os), "distribution",
                       vmware_guess_distribution(guest_id, os), "secure_boot", secure_boot, "legacy_boot",
                       !streq_ptr(firmware, "efi"), "tpm", tpm, "running", streq_ptr(power, "poweredOn"),
                       "background_import", cbt);
        if (!vm || json_object_set(vm, "config", config) < 0 || json_object_set(vm, "disks", disks) < 0 ||
            json_object_set(vm, "nics", nics) < 0 || json_object_set(vm, "snapshots", snapshots) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        if (!*os && warn(b->warnings, uuid, VMWARE_WARNING_UNKNOWN_OS,
                         "Could not determine instance OS, check if guest agent is running ('%s')", location) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        if (!cbt && warn(b->warnings, uuid, VMWARE_WARNING_NO_CBT,
                         "Change block tracking is disabled on '%s': only a cold migration is possible", location) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        return json_array_append_new(instances, TAKE_PTR(vm)) < 0 ? ferry_error_set(err, -ENOMEM, "Out of memory")
                                                                  : 0;
}

static int cmp_location(const void *a, const void *b)
{
        const json_t *const *x = a, *const *y = b;
        int c = strcmp(json_string_value(json_object_get(*x, "location")),
                       json_string_value(json_object_get(*y, "location")));

        return c ? c : strcmp(json_string_value(json_object_get(*x, "uuid")),
                              json_string_value(json_object_get(*y, "uuid")));
}

static json_t *sorted_by_location(const json_t *array)
{
        size_t n = json_array_size(array);
        _cleanup_free_ json_t **items = calloc(n ? n : 1, sizeof(*items));
        json_t *out = json_array();

        if (!items || !out) {
                json_decref(out);
                return NULL;
        }
        for (size_t i = 0; i < n; i++)
                items[i] = json_array_get(array, i);
        qsort(items, n, sizeof(*items), cmp_location);
        for (size_t i = 0; i < n; i++)
                if (json_array_append(out, items[i]) < 0) {
                        json_decref(out);
                        return NULL;
                }
        return out;
}

int vmware_inventory_build(const struct vmware_objects *objs, const struct vmware_inventory_options *options,
                           json_t **ret_instances, json_t **ret_networks, json_t **ret_warnings,
                           struct ferry_error *err)
{
        _cleanup_json_ json_t *instances = json_array(), *networks = json_array(), *warnings = json_array();
        _cleanup_json_ json_t *sorted_instances = NULL, *sorted_networks = NULL;
        _cleanup_free_ const struct vmware_object **sorted = NULL;
        struct index idx = {};
        struct vm_build b = { .idx = &idx, .options = options, .warnings = warnings };
        int r;

        if (!instances || !networks || !warnings || index_build(objs, &idx) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        sorted = idx.sorted;

        for (size_t i = 0; i < objs->n; i++) {
                const struct vmware_object *o = &objs->items[i];

                if (streq(o->type, "VirtualMachine"))
                        r = build_instance(&b, o, instances, err);
                else if (streq(o->type, "Network") || streq(o->type, "DistributedVirtualPortgroup") ||
                         streq(o->type, "OpaqueNetwork"))
                        r = build_network(&idx, objs, o, options, networks, err);
                else
                        r = 0;
                if (r < 0)
                        return r;
        }

        sorted_instances = sorted_by_location(instances);
        sorted_networks = sorted_by_location(networks);
        if (!sorted_instances || !sorted_networks)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        *ret_instances = TAKE_PTR(sorted_instances);
        *ret_networks = TAKE_PTR(sorted_networks);
        *ret_warnings = TAKE_PTR(warnings);
        return 0;
}
