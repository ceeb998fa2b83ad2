/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Incus instances for migrated VMs: the creation payload, built by a pure
 * function from a placement (DESIGN §5, "Warm migration"), and the calls
 * that create, read, update (with ETag), change the state of and delete
 * an instance.
 *
 * Payload rules:
 *   - "type": "virtual-machine", "source": {"type": "none"}: the disks are
 *     filled by ferry, not from an image;
 *   - root disk: device "root" {type disk, path /, pool, size, io.bus};
 *   - other disks: custom block volumes attached as devices named after
 *     the disk {type disk, pool, source: volume, io.bus};
 *   - NICs: managed networks as {network: N} and never a nictype; bridged,
 *     macvlan and physical as {nictype, parent} and never a network; a
 *     single VLAN as "vlan", a list as "vlan.tagged" (bridged and managed
 *     only: macvlan and physical parents carry one VLAN); hwaddr kept;
 *   - config: limits.cpu, limits.memory, security.secureboot,
 *     security.csm (legacy BIOS boot: secure boot off), volatile.uuid (the
 *     source VM's UUID), image.os/image.release, user.ferry.<key> for the
 *     worker's settings, then extra_config (a placement's keys) over them;
 *   - a TPM device when the source had one;
 *   - the worker volume, if any, as device "ferry-worker" with a boot
 *     priority above the root disk's.
 */
#ifndef FERRY_TARGET_INCUS_INSTANCE_H
#define FERRY_TARGET_INCUS_INSTANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "target/incus/client.h"

enum incus_nictype {
        INCUS_NICTYPE_MANAGED,  /* a managed network: network=NAME */
        INCUS_NICTYPE_BRIDGED,  /* an existing bridge: nictype=bridged parent=NAME */
        INCUS_NICTYPE_MACVLAN,  /* nictype=macvlan parent=NAME */
        INCUS_NICTYPE_PHYSICAL, /* nictype=physical parent=NAME (passed through) */
        _INCUS_NICTYPE_MAX,
        _INCUS_NICTYPE_INVALID = -EINVAL,
};

/* "managed", "bridged", "macvlan", "physical" (as network mappings say). */
const char *incus_nictype_to_string(enum incus_nictype t);
enum incus_nictype incus_nictype_from_string(const char *s);

struct incus_vm_nic {
        const char *name;               /* device name; NULL: "eth<index>" */
        const char *hwaddr;             /* the source MAC, NULL to let Incus pick */
        enum incus_nictype nictype;
        const char *network;            /* the network (managed) or parent interface */
        const char *vlan;               /* NULL/"": none; "10": one VLAN; "10,20": tagged VLANs */
};

struct incus_vm_disk {
        const char *name;               /* device name */
        const char *pool;               /* NULL: the root disk's pool */
        const char *volume;             /* the custom block volume */
        uint64_t size;                  /* >0: incus_vm_create() makes the volume first */
        const char *bus;                /* io.bus, NULL: Incus's default */
};

struct incus_vm_spec {
        const char *name;
        const char *description;
        const char *uuid;               /* the source VM's: volatile.uuid; NULL: Incus picks */
        const char *architecture;       /* NULL: the server's */

        const char *pool;               /* root disk */
        uint64_t root_size;             /* bytes, like the source's first disk */
        const char *root_bus;           /* io.bus of the root disk, NULL: default */
        const struct incus_vm_disk *disks;
        size_t n_disks;
        const struct incus_vm_nic *nics;
        size_t n_nics;

        unsigned cpus;                  /* 0: no limit set */
        uint64_t memory;                /* bytes; 0: no limit set */
        bool secure_boot;
        bool legacy_boot;               /* BIOS: security.csm, no secure boot */
        bool tpm;

        const char *os;                 /* image.os, NULL: none */
        const char *os_release;         /* image.release, NULL: none */
        const char *const *profiles;    /* NULL-terminated; NULL: Incus's default */
        const json_t *ferry_config;     /* {"key": "value"} → user.ferry.key; NULL: none */
        /* {"key": "value"} set as given, over the keys above (a placement's
         * limits.cpu wins over cpus); user.ferry.* and volatile.* are
         * refused: they are ferry's.  NULL: none. */
        const json_t *extra_config;
        /* Config of the volumes incus_vm_create() makes ({"user.k": "v"}),
         * so that they can be recognised later; NULL: none. */
        const json_t *volume_config;
        const char *worker_volume;      /* NULL: no worker attached */
        const char *worker_pool;        /* NULL: the root disk's pool */
};

/*
 * The POST /1.0/instances body for spec (a new object in ret).  Bad specs
 * fail with -EINVAL and a message naming the part:
 *   "Instance name is missing", "Instance 'x' has no root disk pool",
 *   "Instance 'x' needs a root disk size", "Instance 'x' cannot have both
 *   secure boot and legacy BIOS boot", "Instance 'x' has an invalid UUID
 *   'u'", "NIC 1 of instance 'x' has no network", "NIC 'eth0' of
 *   instance 'x' has an invalid VLAN list '5,x'", "NIC 'eth0' of instance
 *   'x': a macvlan NIC carries one VLAN, not '10,20'", "NIC 'eth0' of
 *   instance 'x' has an invalid MAC address 'zz'", "Disk 'd' of instance
 *   'x' has no volume", "Instance 'x' has two devices named 'd'",
 *   "Instance 'x': config key 'k' is not a string", "Instance 'x': config
 *   key 'user.ferry.k' is ferry's own and cannot be set".
 */
int incus_vm_payload(const struct incus_vm_spec *spec, json_t **ret, struct ferry_error *err);

/*
 * Create the VM of spec in project (on cluster member target, NULL:
 * Incus's choice): the disks' volumes that have a size first, then the
 * instance; wait for the operation.  If anything fails, what this call
 * made is deleted again and the error carries Incus's message, prefixed
 * "Cannot create instance 'x': ".
 */
int incus_vm_create(struct incus_client *c, const char *project, const char *target,
                    const struct incus_vm_spec *spec, struct ferry_error *err);

/* The instance object and its ETag (free() it; may be NULL). */
int incus_instance_get(struct incus_client *c, const char *project, const char *name, json_t **ret,
                       char **ret_etag, struct ferry_error *err);

/* GET …/state: status, processes, network. */
int incus_instance_get_state(struct incus_client *c, const char *project, const char *name, json_t **ret,
                             struct ferry_error *err);

/* PUT …/state {"action": "start"|"stop"|"restart", "force", "timeout"} and wait. */
int incus_instance_set_state(struct incus_client *c, const char *project, const char *name, const char *action,
                             bool force, int timeout_s, struct ferry_error *err);

/* PUT the whole instance (what GET gave, changed) under If-Match etag
 * (NULL: unconditional); -ESTALE with Incus's message when it changed. */
int incus_instance_update(struct incus_client *c, const char *project, const char *name, const json_t *instance,
                          const char *etag, struct ferry_error *err);

int incus_instance_delete(struct incus_client *c, const char *project, const char *name, struct ferry_error *err);

#endif
