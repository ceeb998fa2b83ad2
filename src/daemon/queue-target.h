/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Incus side of a queue entry (DESIGN §4, §5): what the queue
 * engine's "Creating" step makes on the target, and what cancel, reset and
 * a rollback after a crash remove again.
 *
 * Per entry ferry makes, in placement.target_project of placement.target:
 *   - the VM, named queue_target_instance_name(), stopped, with
 *     user.ferry.instance_uuid = the source VM's UUID (its mark);
 *   - one custom block volume per disk after the first, named
 *     "<instance name>-<disk slug>", with the same mark in its config.
 * What it also sets up is shared and stays: ferry's profiles in the
 * project, and the projects and bridges of network mappings with
 * "create": true.
 *
 *     _cleanup_json_ json_t *created = NULL;
 *
 *     r = queue_target_create(db, &id, QUEUE_TARGET_PROFILES_DIR, entry, &worker, &created, &err);
 *     ... store created in the entry ...
 *     r = queue_target_remove(db, &id, entry, created, &err);   // cancel, reset, rollback
 *
 * Both block on Incus: call them on a job thread with its own database
 * connection.
 */
#ifndef FERRY_DAEMON_QUEUE_TARGET_H
#define FERRY_DAEMON_QUEUE_TARGET_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "common/error.h"
#include "target/incus/instance.h"

struct db;
struct target_identity;

/* Where `make install` puts incus-profiles/ (set by src/daemon/CMakeLists.txt). */
#ifndef QUEUE_TARGET_PROFILES_DIR
#define QUEUE_TARGET_PROFILES_DIR "/usr/local/share/ferry/incus-profiles"
#endif

/* The config key that marks what ferry made for an instance. */
#define QUEUE_TARGET_MARK_KEY "user.ferry.instance_uuid"

/* Incus instance names: 1 to 63 letters, digits and '-'. */
#define QUEUE_TARGET_NAME_MAX 63

/* What the worker of a warm migration needs (all borrowed). */
struct queue_worker_settings {
        const char *endpoint;           /* ferryd's HTTPS address: user.ferry.endpoint */
        const char *fingerprint;        /* ferryd's certificate SHA-256: user.ferry.fingerprint */
        const char *token;              /* the entry's worker secret: user.ferry.token */
        const char *volume;             /* the worker image (a custom block volume); NULL: none attached */
        const char *pool;               /* its pool; NULL: the root disk's */
};

/*
 * The Incus name for instance (as stored: synced values and "overrides"):
 * overrides.name when set, which must then be a valid Incus name already;
 * else the VM's name made valid: every run of characters other than ASCII
 * letters and digits becomes one '-', anything before the first letter is
 * dropped, it is cut to 63 characters and loses trailing '-' ("Web
 * 01_prod" → "Web-01-prod").  -EINVAL "Instance 'u' has no name Incus can
 * take: set overrides.name" when nothing is left, "Instance 'u':
 * overrides.name 'x' is not a name Incus can take (1 to 63 letters,
 * digits and '-', starting with a letter, not ending with '-')".
 */
int queue_target_instance_name(const json_t *instance, char ret[static QUEUE_TARGET_NAME_MAX + 1],
                               struct ferry_error *err);

/* Whether name is one Incus takes for an instance (the rules above). */
bool queue_target_name_is_valid(const char *name);

/*
 * A VM spec and everything it points to.  vm is what incus_vm_create()
 * takes; its strings and arrays are owned here (copies), valid until
 * queue_vm_spec_done().
 */
struct queue_vm_spec {
        struct incus_vm_spec vm;
        char name[QUEUE_TARGET_NAME_MAX + 1];
        const char *project;            /* placement.target_project */
        const char *member;             /* placement.member; NULL: Incus's choice */

        /* Owned storage behind vm's pointers. */
        json_t *instance;               /* the effective instance */
        json_t *placement;              /* a copy of the placement */
        json_t *profiles;               /* array of names */
        json_t *ferry_config;           /* user.ferry.* keys (without the prefix) */
        json_t *extra_config;           /* placement.config */
        json_t *volume_config;          /* the mark of the volumes */
        struct incus_vm_disk *disks;
        char **disk_devices;            /* n_disks device names */
        char **disk_volumes;            /* n_disks volume names */
        struct incus_vm_nic *nics;
        const char **profile_names;     /* NULL-terminated, from profiles */
};

/*
 * Fill ret from instance (as stored) and placement (placement_compute()'s
 * result), for a warm migration with worker's settings or (worker NULL) a
 * cold one:
 *   - name: queue_target_instance_name();
 *   - root disk: the instance's first disk, its capacity, its pool from
 *     placement.disks (by disk name), else placement.storage_pool;
 *   - every other disk: a custom block volume "<name>-<disk slug>" (the
 *     disk's name in lower case, runs of other characters as '-'; a
 *     repeated slug gets "-<n>") of the disk's capacity, attached as a
 *     device named by the slug;
 *   - NICs: placement.nics in order, as eth0, eth1, ...: nictype, network,
 *     vlan, the source MAC kept;
 *   - cpus, memory, architecture, description, secure_boot, legacy_boot,
 *     tpm, os, os_version (as image.release) of the effective instance;
 *     volatile.uuid = the instance's UUID;
 *   - profiles: placement.profiles;
 *   - config: user.ferry.instance_uuid (the mark), with a worker also
 *     user.ferry.endpoint, .fingerprint, .token and .uuid, and the worker
 *     volume attached; placement.config laid over the rest;
 *   - the volumes get the mark in their config.
 * Errors (-EINVAL) name what is wrong: "Instance 'web01' has no disks",
 * "Disk 'disk1' of instance 'web01' cannot be migrated: <reason>", "Disk
 * 'disk1' of instance 'web01' is shared with other VMs: ferry cannot
 * migrate shared disks", "Disk 'disk1' of instance 'web01' has no
 * capacity", "Instance 'web01' has no storage pool for disk 'disk1' in its
 * placement", "Placement of instance 'web01' names no target project",
 * "NIC 1 of the placement of instance 'web01' has no network", "NIC
 * 00:50:56:01:00:01 of instance 'web01' has an unknown NIC type 'vxlan'",
 * "Placement of instance 'web01': config key 'k' is not a string", the
 * name errors above, and incus_vm_payload()'s (the spec is checked with
 * it).
 */
int queue_vm_spec_build(const json_t *instance, const json_t *placement, const struct queue_worker_settings *worker,
                        struct queue_vm_spec *ret, struct ferry_error *err);

/* Add profile name (copied) to the VM's profiles unless it has it. */
int queue_vm_spec_add_profile(struct queue_vm_spec *spec, const char *name, struct ferry_error *err);

/*
 * What incus_vm_create() will make for spec: {"target": target, "project",
 * "instance", "volumes": [{"pool", "name"}]}.  A new object; NULL on ENOMEM.
 */
json_t *queue_vm_spec_created(const struct queue_vm_spec *spec, const char *target);

void queue_vm_spec_done(struct queue_vm_spec *spec);

/*
 * The "Creating" step of entry (a queue entry with "instance_uuid" and
 * "placement"): load the instance and placement.target from db, connect
 * with id, and in this order
 *   1. refuse (-EEXIST) when an instance or one of the volumes ferry would
 *      make exists and does not carry this instance's mark:
 *      "Instance 'web01' already exists in project 'lab' of target
 *      'incus1' and ferry did not make it for instance 'u': delete or
 *      rename it in Incus, or set overrides.name of instance 'u'";
 *      what does carry the mark (left by an earlier attempt) is removed;
 *   2. install the profiles of profiles_dir (its NAME.yaml files; NULL:
 *      none) into the project, the projects and bridges of the NICs'
 *      network mappings with "create": true (bridges with no addresses);
 *   3. create the VM (queue_vm_spec_build(), plus profile ferry-vm and,
 *      with a worker, ferry-worker when profiles_dir has them) stopped.
 * *ret_created gets queue_vm_spec_created()'s record, to store in the
 * entry for queue_target_remove().  On failure nothing of 1 or 3 is left
 * on the target and err carries Incus's message, prefixed "Target
 * 'incus1'"; an unreachable target fails with "Cannot reach target
 * 'incus1' (<endpoint>): <why>".
 */
int queue_target_create(struct db *db, const struct target_identity *id, const char *profiles_dir,
                        const json_t *entry, const struct queue_worker_settings *worker, json_t **ret_created,
                        struct ferry_error *err);

/*
 * Remove what created (queue_target_create()'s record; NULL: what it
 * would make for entry now) lists: the instance, stopped first (forced)
 * when it runs, then the volumes.  Only what carries entry's mark is
 * touched; what is missing or someone else's is skipped, so calling it
 * again is fine.  Returns how many objects it deleted.
 */
int queue_target_remove(struct db *db, const struct target_identity *id, const json_t *entry, const json_t *created,
                        struct ferry_error *err);

#endif
