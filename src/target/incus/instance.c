/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "target/incus/instance.h"
#include "target/incus/volume.h"

/* Boot order when the worker is attached: it boots first. */
#define BOOT_PRIORITY_ROOT "10"
#define BOOT_PRIORITY_WORKER "20"

static const char *const nictype_table[_INCUS_NICTYPE_MAX] = {
        [INCUS_NICTYPE_MANAGED] = "managed",
        [INCUS_NICTYPE_BRIDGED] = "bridged",
        [INCUS_NICTYPE_MACVLAN] = "macvlan",
        [INCUS_NICTYPE_PHYSICAL] = "physical",
};

const char *incus_nictype_to_string(enum incus_nictype t)
{
        return t >= 0 && t < _INCUS_NICTYPE_MAX ? nictype_table[t] : NULL;
}

enum incus_nictype incus_nictype_from_string(const char *s)
{
        return s ? string_table_lookup(nictype_table, _INCUS_NICTYPE_MAX, s) : _INCUS_NICTYPE_INVALID;
}

static int oom(struct ferry_error *err)
{
        return ferry_error_set(err, -ENOMEM, "Out of memory");
}

/* Sizes as Incus prints them: the largest unit that divides exactly. */
static void format_size(uint64_t bytes, char *out, size_t size)
{
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        size_t u = 0;

        while (u + 1 < ELEMENTSOF(units) && bytes >= 1024 && bytes % 1024 == 0) {
                bytes /= 1024;
                u++;
        }
        snprintf(out, size, "%" PRIu64 "%s", bytes, units[u]);
}

static bool uuid_is_valid(const char *s)
{
        static const char pattern[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

        if (strlen(s) != sizeof(pattern) - 1)
                return false;
        for (size_t i = 0; pattern[i]; i++)
                if (pattern[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char) s[i]))
                        return false;
        return true;
}

static bool mac_is_valid(const char *s)
{
        if (strlen(s) != 17)
                return false;
        for (size_t i = 0; i < 17; i++)
                if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char) s[i]))
                        return false;
        return true;
}

/* 1 for one VLAN, 2 for a list, 0 for none, -EINVAL for bad text. */
static int vlan_kind(const char *vlan)
{
        int count = 0;

        if (!vlan || !*vlan)
                return 0;
        for (const char *p = vlan;;) {
                char *end;
                long id;

                if (*p < '0' || *p > '9')
                        return -EINVAL;
                id = strtol(p, &end, 10);
                if (id < 1 || id > 4094)
                        return -EINVAL;
                count++;
                if (*end == '\0')
                        break;
                if (*end != ',')
                        return -EINVAL;
                p = end + 1;
        }
        return count == 1 ? 1 : 2;
}

static int set_str(json_t *obj, const char *key, const char *value, struct ferry_error *err)
{
        return json_object_set_new(obj, key, json_string(value)) < 0 ? oom(err) : 0;
}

static int add_device(json_t *devices, const char *instance, const char *name, json_t *device,
                      struct ferry_error *err)
{
        if (!device)
                return oom(err);
        if (json_object_get(devices, name)) {
                json_decref(device);
                return ferry_error_set(err, -EINVAL, "Instance '%s' has two devices named '%s'", instance, name);
        }
        return json_object_set_new(devices, name, device) < 0 ? oom(err) : 0;
}

static int nic_device(const struct incus_vm_spec *spec, size_t index, const char *devname, json_t **ret,
                      struct ferry_error *err)
{
        const struct incus_vm_nic *nic = &spec->nics[index];
        _cleanup_json_ json_t *dev = json_pack("{s:s}", "type", "nic");
        const char *type = incus_nictype_to_string(nic->nictype);
        int kind;

        if (!dev)
                return oom(err);
        if (!type)
                return ferry_error_set(err, -EINVAL, "NIC '%s' of instance '%s' has an unknown NIC type", devname,
                                       spec->name);
        if (!nic->network || !*nic->network)
                return ferry_error_set(err, -EINVAL, "NIC %zu of instance '%s' has no network", index + 1, spec->name);

        kind = vlan_kind(nic->vlan);
        if (kind < 0)
                return ferry_error_set(err, -EINVAL, "NIC '%s' of instance '%s' has an invalid VLAN list '%s'", devname,
                                       spec->name, nic->vlan);
        if (kind == 2 && (nic->nictype == INCUS_NICTYPE_MACVLAN || nic->nictype == INCUS_NICTYPE_PHYSICAL))
                return ferry_error_set(err, -EINVAL, "NIC '%s' of instance '%s': a %s NIC carries one VLAN, not '%s'",
                                       devname, spec->name, type, nic->vlan);

        if (nic->nictype == INCUS_NICTYPE_MANAGED) {
                if (set_str(dev, "network", nic->network, err) < 0)
                        return -ENOMEM;
        } else if (set_str(dev, "nictype", type, err) < 0 || set_str(dev, "parent", nic->network, err) < 0)
                return -ENOMEM;

        if (kind == 1 && set_str(dev, "vlan", nic->vlan, err) < 0)
                return -ENOMEM;
        if (kind == 2 && set_str(dev, "vlan.tagged", nic->vlan, err) < 0)
                return -ENOMEM;

        if (nic->hwaddr) {
                if (!mac_is_valid(nic->hwaddr))
                        return ferry_error_set(err, -EINVAL, "NIC '%s' of instance '%s' has an invalid MAC address '%s'",
                                               devname, spec->name, nic->hwaddr);
                if (set_str(dev, "hwaddr", nic->hwaddr, err) < 0)
                        return -ENOMEM;
        }
        if (set_str(dev, "name", devname, err) < 0)
                return -ENOMEM;

        *ret = TAKE_PTR(dev);
        return 0;
}

static int build_config(const struct incus_vm_spec *spec, json_t *config, struct ferry_error *err)
{
        char text[64];
        const char *key;
        json_t *value;

        if (spec->cpus > 0) {
                snprintf(text, sizeof(text), "%u", spec->cpus);
                if (set_str(config, "limits.cpu", text, err) < 0)
                        return -ENOMEM;
        }
        if (spec->memory > 0) {
                format_size(spec->memory, text, sizeof(text));
                if (set_str(config, "limits.memory", text, err) < 0)
                        return -ENOMEM;
        }
        if (set_str(config, "security.secureboot", spec->secure_boot ? "true" : "false", err) < 0)
                return -ENOMEM;
        if (spec->legacy_boot && set_str(config, "security.csm", "true", err) < 0)
                return -ENOMEM;
        if (spec->uuid && set_str(config, "volatile.uuid", spec->uuid, err) < 0)
                return -ENOMEM;
        if (spec->os && *spec->os && set_str(config, "image.os", spec->os, err) < 0)
                return -ENOMEM;
        if (spec->os_release && *spec->os_release && set_str(config, "image.release", spec->os_release, err) < 0)
                return -ENOMEM;

        json_object_foreach((json_t *) spec->ferry_config, key, value) {
                _cleanup_free_ char *full = NULL;

                if (!json_is_string(value))
                        return ferry_error_set(err, -EINVAL, "Instance '%s': config key '%s' is not a string",
                                               spec->name, key);
                full = strjoin("user.ferry.", key, NULL);
                if (!full || set_str(config, full, json_string_value(value), err) < 0)
                        return oom(err);
        }

        json_object_foreach((json_t *) spec->extra_config, key, value) {
                if (!json_is_string(value))
                        return ferry_error_set(err, -EINVAL, "Instance '%s': config key '%s' is not a string",
                                               spec->name, key);
                if (startswith(key, "user.ferry.") || startswith(key, "volatile."))
                        return ferry_error_set(err, -EINVAL,
                                               "Instance '%s': config key '%s' is ferry's own and cannot be set",
                                               spec->name, key);
                if (set_str(config, key, json_string_value(value), err) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int incus_vm_payload(const struct incus_vm_spec *spec, json_t **ret, struct ferry_error *err)
{
        _cleanup_json_ json_t *body = NULL, *config = NULL, *devices = NULL;
        char size[32];
        json_t *root;
        int r;

        if (!spec->name || !*spec->name)
                return ferry_error_set(err, -EINVAL, "Instance name is missing");
        if (!spec->pool || !*spec->pool)
                return ferry_error_set(err, -EINVAL, "Instance '%s' has no root disk pool", spec->name);
        if (spec->root_size == 0)
                return ferry_error_set(err, -EINVAL, "Instance '%s' needs a root disk size", spec->name);
        if (spec->secure_boot && spec->legacy_boot)
                return ferry_error_set(err, -EINVAL, "Instance '%s' cannot have both secure boot and legacy BIOS boot",
                                       spec->name);
        if (spec->uuid && !uuid_is_valid(spec->uuid))
                return ferry_error_set(err, -EINVAL, "Instance '%s' has an invalid UUID '%s'", spec->name, spec->uuid);

        config = json_object();
        devices = json_object();
        if (!config || !devices)
                return oom(err);
        r = build_config(spec, config, err);
        if (r < 0)
                return r;

        format_size(spec->root_size, size, sizeof(size));
        root = json_pack("{s:s, s:s, s:s, s:s}", "type", "disk", "path", "/", "pool", spec->pool, "size", size);
        if (root && spec->root_bus && set_str(root, "io.bus", spec->root_bus, err) < 0)
                return -ENOMEM;
        if (root && spec->worker_volume && set_str(root, "boot.priority", BOOT_PRIORITY_ROOT, err) < 0)
                return -ENOMEM;
        r = add_device(devices, spec->name, "root", root, err);
        if (r < 0)
                return r;

        for (size_t i = 0; i < spec->n_disks; i++) {
                const struct incus_vm_disk *d = &spec->disks[i];
                json_t *dev;

                if (!d->name || !*d->name)
                        return ferry_error_set(err, -EINVAL, "Disk %zu of instance '%s' has no name", i + 1, spec->name);
                if (!d->volume || !*d->volume)
                        return ferry_error_set(err, -EINVAL, "Disk '%s' of instance '%s' has no volume", d->name,
                                               spec->name);
                dev = json_pack("{s:s, s:s, s:s}", "type", "disk", "pool", d->pool ? d->pool : spec->pool, "source",
                                d->volume);
                if (dev && d->bus && set_str(dev, "io.bus", d->bus, err) < 0) {
                        json_decref(dev);
                        return -ENOMEM;
                }
                r = add_device(devices, spec->name, d->name, dev, err);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < spec->n_nics; i++) {
                char fallback[32];
                const char *devname = spec->nics[i].name;
                json_t *dev = NULL;

                if (!devname) {
                        snprintf(fallback, sizeof(fallback), "eth%zu", i);
                        devname = fallback;
                }
                r = nic_device(spec, i, devname, &dev, err);
                if (r < 0)
                        return r;
                r = add_device(devices, spec->name, devname, dev, err);
                if (r < 0)
                        return r;
        }

        if (spec->tpm) {
                r = add_device(devices, spec->name, "vtpm", json_pack("{s:s}", "type", "tpm"), err);
                if (r < 0)
                        return r;
        }
        if (spec->worker_volume) {
                r = add_device(devices, spec->name, "ferry-worker",
                               json_pack("{s:s, s:s, s:s, s:s}", "type", "disk", "pool",
                                         spec->worker_pool ? spec->worker_pool : spec->pool, "source",
                                         spec->worker_volume, "boot.priority", BOOT_PRIORITY_WORKER),
                               err);
                if (r < 0)
                        return r;
        }

        body = json_pack("{s:s, s:s, s:{s:s}, s:O, s:O}", "name", spec->name, "type", "virtual-machine", "source",
                         "type", "none", "config", config, "devices", devices);
        if (!body)
                return oom(err);
        if (spec->description && set_str(body, "description", spec->description, err) < 0)
                return -ENOMEM;
        if (spec->architecture && set_str(body, "architecture", spec->architecture, err) < 0)
                return -ENOMEM;
        if (spec->profiles) {
                json_t *profiles = json_array();

                if (!profiles || json_object_set_new(body, "profiles", profiles) < 0)
                        return oom(err);
                for (const char *const *p = spec->profiles; *p; p++)
                        if (json_array_append_new(profiles, json_string(*p)) < 0)
                                return oom(err);
        }

        *ret = TAKE_PTR(body);
        return 0;
}

static char *instance_path(const char *name, const char *suffix)
{
        _cleanup_free_ char *n = incus_escape(name);

        return n ? strjoin("/1.0/instances/", n, suffix ? suffix : "", NULL) : NULL;
}

int incus_vm_create(struct incus_client *c, const char *project, const char *target,
                    const struct incus_vm_spec *spec, struct ferry_error *err)
{
        _cleanup_json_ json_t *body = NULL;
        size_t made = 0;
        int r;

        r = incus_vm_payload(spec, &body, err);
        if (r < 0)
                return r;

        for (; made < spec->n_disks; made++) {
                const struct incus_vm_disk *d = &spec->disks[made];

                if (d->size == 0)
                        continue;
                r = incus_volume_create_block_config(c, project, d->pool ? d->pool : spec->pool, d->volume, d->size,
                                                     spec->volume_config, err);
                if (r < 0) {
                        ferry_error_prefix(err, "Cannot create volume '%s' for instance '%s'", d->volume, spec->name);
                        goto undo;
                }
        }

        r = incus_call_wait(c, &(struct incus_request) { .method = "POST", .path = "/1.0/instances",
                                                         .project = project, .target = target, .body = body },
                            600, NULL, NULL, err);
        if (r < 0) {
                struct ferry_error ignored = {};
                _cleanup_json_ json_t *left = NULL;

                ferry_error_prefix(err, "Cannot create instance '%s'", spec->name);
                /* Incus normally reverts a failed create; make sure. */
                if (incus_instance_get(c, project, spec->name, &left, NULL, &ignored) >= 0)
                        (void) incus_instance_delete(c, project, spec->name, &ignored);
                goto undo;
        }
        return 0;

undo:
        while (made > 0) {
                const struct incus_vm_disk *d = &spec->disks[--made];
                struct ferry_error ignored = {};

                if (d->size > 0)
                        (void) incus_volume_delete(c, project, d->pool ? d->pool : spec->pool, d->volume, &ignored);
        }
        return r;
}

int incus_instance_get(struct incus_client *c, const char *project, const char *name, json_t **ret,
                       char **ret_etag, struct ferry_error *err)
{
        _cleanup_free_ char *path = instance_path(name, NULL);
        struct incus_response resp = {};
        int r;

        if (!path)
                return oom(err);
        r = incus_call(c, &(struct incus_request) { .method = "GET", .path = path, .project = project }, &resp, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(resp.metadata);
        if (ret_etag)
                *ret_etag = TAKE_PTR(resp.etag);
        incus_response_done(&resp);
        return 0;
}

int incus_instance_get_state(struct incus_client *c, const char *project, const char *name, json_t **ret,
                             struct ferry_error *err)
{
        _cleanup_free_ char *path = instance_path(name, "/state");

        if (!path)
                return oom(err);
        return incus_get(c, path, project, ret, err);
}

int incus_instance_set_state(struct incus_client *c, const char *project, const char *name, const char *action,
                             bool force, int timeout_s, struct ferry_error *err)
{
        _cleanup_free_ char *path = instance_path(name, "/state");
        _cleanup_json_ json_t *body = json_pack("{s:s, s:b, s:i}", "action", action, "force", force, "timeout",
                                                timeout_s > 0 ? timeout_s : -1);

        if (!path || !body)
                return oom(err);
        return incus_call_wait(c, &(struct incus_request) { .method = "PUT", .path = path, .project = project, .body = body },
                               timeout_s > 0 ? timeout_s + 30 : 600, NULL, NULL, err);
}

int incus_instance_update(struct incus_client *c, const char *project, const char *name, const json_t *instance,
                          const char *etag, struct ferry_error *err)
{
        _cleanup_free_ char *path = instance_path(name, NULL);

        if (!path)
                return oom(err);
        return incus_call_wait(c,
                               &(struct incus_request) { .method = "PUT", .path = path, .project = project,
                                                         .body = instance, .if_match = etag },
                               600, NULL, NULL, err);
}

int incus_instance_delete(struct incus_client *c, const char *project, const char *name, struct ferry_error *err)
{
        _cleanup_free_ char *path = instance_path(name, NULL);

        if (!path)
                return oom(err);
        return incus_call_wait(c, &(struct incus_request) { .method = "DELETE", .path = path, .project = project }, 600,
                               NULL, NULL, err);
}
