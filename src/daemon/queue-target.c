/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/strbuf.h"
#include "daemon/queue-target.h"
#include "daemon/targets.h"
#include "db/instance.h"
#include "db/network.h"
#include "db/target.h"
#include "model/model.h"
#include "target/incus/provision.h"
#include "target/incus/volume.h"

/* ferry's profiles, as named in incus-profiles/. */
#define PROFILE_VM "ferry-vm"
#define PROFILE_WORKER "ferry-worker"

static int oom(struct ferry_error *err)
{
        return ferry_error_set(err, -ENOMEM, "Out of memory");
}

static const char *str(const json_t *obj, const char *key)
{
        return json_string_value(json_object_get(obj, key));
}

static bool is_ascii_letter(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_ascii_alnum(char c)
{
        return is_ascii_letter(c) || (c >= '0' && c <= '9');
}

/* --- names ------------------------------------------------------------------------------ */

bool queue_target_name_is_valid(const char *name)
{
        size_t n = name ? strlen(name) : 0;

        if (n == 0 || n > QUEUE_TARGET_NAME_MAX || !is_ascii_letter(name[0]) || name[n - 1] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_ascii_alnum(name[i]) && name[i] != '-')
                        return false;
        return true;
}

/*
 * Keep ASCII letters and digits, turn every run of anything else into one
 * separator, start at the first letter when letters_first, stop at max
 * characters, and drop a separator at the end.
 */
static void slugify(const char *in, char sep, bool letters_first, bool lower, char *out, size_t max)
{
        bool gap = false;
        size_t n = 0;

        for (const char *p = in; *p && n < max; p++) {
                char c = *p;

                if (!is_ascii_alnum(c)) {
                        gap = true;
                        continue;
                }
                if (n == 0 && letters_first && !is_ascii_letter(c))
                        continue;
                if (gap && n > 0)
                        out[n++] = sep;
                gap = false;
                if (n < max)
                        out[n++] = lower && c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
        }
        while (n > 0 && out[n - 1] == sep)
                n--;
        out[n] = '\0';
}

int queue_target_instance_name(const json_t *instance, char ret[static QUEUE_TARGET_NAME_MAX + 1],
                               struct ferry_error *err)
{
        const char *uuid = str(instance, "uuid") ?: "";
        const char *override = str(json_object_get(instance, "overrides"), "name");
        const char *name = str(instance, "name");
        char buf[QUEUE_TARGET_NAME_MAX + 1];

        if (override && *override) {
                if (!queue_target_name_is_valid(override))
                        return ferry_error_set(err, -EINVAL,
                                               "Instance '%s': overrides.name '%s' is not a name Incus can take "
                                               "(1 to %d letters, digits and '-', starting with a letter, not "
                                               "ending with '-')",
                                               uuid, override, QUEUE_TARGET_NAME_MAX);
                memcpy(ret, override, strlen(override) + 1);
                return 0;
        }

        slugify(name ? name : "", '-', true, false, buf, QUEUE_TARGET_NAME_MAX);
        if (!*buf)
                return ferry_error_set(err, -EINVAL, "Instance '%s' has no name Incus can take: set overrides.name",
                                       name && *name ? name : uuid);
        memcpy(ret, buf, sizeof(buf));
        return 0;
}

/* --- the spec --------------------------------------------------------------------------- */

void queue_vm_spec_done(struct queue_vm_spec *spec)
{
        if (!spec)
                return;
        for (size_t i = 0; spec->disk_devices && i < spec->vm.n_disks; i++)
                free(spec->disk_devices[i]);
        for (size_t i = 0; spec->disk_volumes && i < spec->vm.n_disks; i++)
                free(spec->disk_volumes[i]);
        free(spec->disk_devices);
        free(spec->disk_volumes);
        free(spec->disks);
        free(spec->nics);
        free(spec->profile_names);
        json_decref(spec->instance);
        json_decref(spec->placement);
        json_decref(spec->profiles);
        json_decref(spec->ferry_config);
        json_decref(spec->extra_config);
        json_decref(spec->volume_config);
        *spec = (struct queue_vm_spec) {};
}

static int profile_names_rebuild(struct queue_vm_spec *spec, struct ferry_error *err)
{
        size_t n = json_array_size(spec->profiles), i;
        const char **names = calloc(n + 1, sizeof(*names));
        json_t *p;

        if (!names)
                return oom(err);
        json_array_foreach(spec->profiles, i, p)
                names[i] = json_string_value(p);
        free(spec->profile_names);
        spec->profile_names = names;
        spec->vm.profiles = names;
        return 0;
}

int queue_vm_spec_add_profile(struct queue_vm_spec *spec, const char *name, struct ferry_error *err)
{
        size_t i;
        json_t *p;

        if (!spec->profiles) {
                /* None named: Incus would have used "default"; keep it. */
                spec->profiles = json_pack("[s]", "default");
                if (!spec->profiles)
                        return oom(err);
        }
        json_array_foreach(spec->profiles, i, p)
                if (streq(json_string_value(p), name))
                        return 0;
        if (json_array_append_new(spec->profiles, json_string(name)) < 0)
                return oom(err);
        return profile_names_rebuild(spec, err);
}

/* The pool placement gives disk: its own, else the placement's default. */
static const char *disk_pool(const json_t *placement, const char *disk)
{
        size_t i;
        json_t *d;

        json_array_foreach(json_object_get(placement, "disks"), i, d)
                if (streq_ptr(str(d, "name"), disk) && str(d, "pool") && *str(d, "pool"))
                        return str(d, "pool");
        return str(placement, "storage_pool") && *str(placement, "storage_pool") ? str(placement, "storage_pool")
                                                                                : NULL;
}

static int check_disk(const char *vm, const json_t *disk, struct ferry_error *err)
{
        const char *name = str(disk, "name");
        const char *reason = str(disk, "unsupported_reason");
        json_t *capacity = json_object_get(disk, "capacity");

        if (json_is_true(json_object_get(disk, "shared")))
                return ferry_error_set(err, -EINVAL,
                                       "Disk '%s' of instance '%s' is shared with other VMs: ferry cannot migrate "
                                       "shared disks",
                                       name, vm);
        if (json_is_false(json_object_get(disk, "supported")))
                return ferry_error_set(err, -EINVAL, "Disk '%s' of instance '%s' cannot be migrated: %s", name, vm,
                                       reason && *reason ? reason : "the source marks it unsupported");
        if (!json_is_integer(capacity) || json_integer_value(capacity) <= 0)
                return ferry_error_set(err, -EINVAL, "Disk '%s' of instance '%s' has no capacity", name, vm);
        return 0;
}

/* Device names ferry or its profiles use besides the disks'. */
static bool device_name_taken(const struct queue_vm_spec *spec, size_t n_disks, const char *name)
{
        static const char *const reserved[] = { "root", "vtpm", "ferry-worker", "agent" };

        for (size_t i = 0; i < ELEMENTSOF(reserved); i++)
                if (streq(name, reserved[i]))
                        return true;
        if (startswith(name, "eth") && name[3] && strspn(name + 3, "0123456789") == strlen(name + 3))
                return true;
        for (size_t i = 0; i < n_disks; i++)
                if (streq(spec->disk_devices[i], name))
                        return true;
        return false;
}

static int build_disks(struct queue_vm_spec *spec, const json_t *disks, struct ferry_error *err)
{
        size_t n = json_array_size(disks);
        const json_t *root = json_array_get(disks, 0);

        if (n == 0)
                return ferry_error_set(err, -EINVAL, "Instance '%s' has no disks", spec->name);
        for (size_t i = 0; i < n; i++) {
                int r = check_disk(spec->name, json_array_get(disks, i), err);

                if (r < 0)
                        return r;
        }

        spec->vm.pool = disk_pool(spec->placement, str(root, "name"));
        if (!spec->vm.pool)
                return ferry_error_set(err, -EINVAL, "Instance '%s' has no storage pool for disk '%s' in its placement",
                                       spec->name, str(root, "name"));
        spec->vm.root_size = (uint64_t) json_integer_value(json_object_get(root, "capacity"));

        spec->disks = calloc(n, sizeof(*spec->disks));
        spec->disk_devices = calloc(n, sizeof(char *));
        spec->disk_volumes = calloc(n, sizeof(char *));
        if (!spec->disks || !spec->disk_devices || !spec->disk_volumes)
                return oom(err);

        for (size_t i = 1; i < n; i++) {
                const json_t *d = json_array_get(disks, i);
                struct incus_vm_disk *out = &spec->disks[i - 1];
                char slug[QUEUE_TARGET_NAME_MAX + 1], *device;

                slugify(str(d, "name") ?: "", '-', false, true, slug, QUEUE_TARGET_NAME_MAX - 8);
                if (!*slug)
                        snprintf(slug, sizeof(slug), "disk%zu", i);
                if (device_name_taken(spec, i - 1, slug)) {
                        size_t len = strlen(slug);

                        snprintf(slug + len, sizeof(slug) - len, "-%zu", i);
                }
                device = strdup(slug);
                spec->disk_devices[i - 1] = device;
                spec->vm.n_disks = i;   /* what queue_vm_spec_done() frees */
                spec->disk_volumes[i - 1] = strjoin(spec->name, "-", slug, NULL);
                if (!device || !spec->disk_volumes[i - 1])
                        return oom(err);

                out->name = device;
                out->volume = spec->disk_volumes[i - 1];
                out->size = (uint64_t) json_integer_value(json_object_get(d, "capacity"));
                out->pool = disk_pool(spec->placement, str(d, "name"));
                if (!out->pool)
                        return ferry_error_set(err, -EINVAL,
                                               "Instance '%s' has no storage pool for disk '%s' in its placement",
                                               spec->name, str(d, "name"));
        }
        spec->vm.disks = spec->disks;
        return 0;
}

static int build_nics(struct queue_vm_spec *spec, struct ferry_error *err)
{
        const json_t *nics = json_object_get(spec->placement, "nics");
        size_t n = json_array_size(nics), i;
        json_t *nic;

        if (n == 0)
                return 0;
        spec->nics = calloc(n, sizeof(*spec->nics));
        if (!spec->nics)
                return oom(err);
        json_array_foreach(nics, i, nic) {
                struct incus_vm_nic *out = &spec->nics[i];
                const char *hw = str(nic, "hardware_address"), *type = str(nic, "nictype");

                out->hwaddr = hw && *hw ? hw : NULL;
                out->network = str(nic, "network");
                out->vlan = str(nic, "vlan");
                out->nictype = type && *type ? incus_nictype_from_string(type) : INCUS_NICTYPE_MANAGED;
                if (!out->network || !*out->network)
                        return ferry_error_set(err, -EINVAL, "NIC %zu of the placement of instance '%s' has no network",
                                               i + 1, spec->name);
                if (out->nictype < 0)
                        return ferry_error_set(err, -EINVAL, "NIC %s of instance '%s' has an unknown NIC type '%s'",
                                               hw && *hw ? hw : "?", spec->name, type);
        }
        spec->vm.nics = spec->nics;
        spec->vm.n_nics = n;
        return 0;
}

static int build_config(struct queue_vm_spec *spec, const char *uuid, const struct queue_worker_settings *worker,
                        struct ferry_error *err)
{
        const json_t *config = json_object_get(spec->placement, "config");
        const char *key;
        json_t *v;

        json_object_foreach((json_t *) config, key, v)
                if (!json_is_string(v))
                        return ferry_error_set(err, -EINVAL, "Placement of instance '%s': config key '%s' is not a string",
                                               spec->name, key);
        spec->extra_config = config ? json_deep_copy(config) : json_object();
        spec->ferry_config = json_pack("{s:s}", "instance_uuid", uuid);
        spec->volume_config = json_pack("{s:s}", QUEUE_TARGET_MARK_KEY, uuid);
        if (!spec->extra_config || !spec->ferry_config || !spec->volume_config)
                return oom(err);

        if (worker) {
                const struct {
                        const char *key, *value;
                } keys[] = {
                        { "endpoint", worker->endpoint },
                        { "fingerprint", worker->fingerprint },
                        { "token", worker->token },
                        { "uuid", uuid },
                };

                for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                        if (!keys[i].value || !*keys[i].value)
                                return ferry_error_set(err, -EINVAL, "The worker settings for instance '%s' lack its %s",
                                                       spec->name, keys[i].key);
                        if (json_object_set_new(spec->ferry_config, keys[i].key, json_string(keys[i].value)) < 0)
                                return oom(err);
                }
                spec->vm.worker_volume = worker->volume;
                spec->vm.worker_pool = worker->pool;
        }
        spec->vm.ferry_config = spec->ferry_config;
        spec->vm.extra_config = spec->extra_config;
        spec->vm.volume_config = spec->volume_config;
        return 0;
}

static int build_profiles(struct queue_vm_spec *spec, struct ferry_error *err)
{
        const json_t *profiles = json_object_get(spec->placement, "profiles");
        size_t i;
        json_t *p;

        if (!json_is_array(profiles))
                return 0;
        json_array_foreach(profiles, i, p)
                if (!json_is_string(p))
                        return ferry_error_set(err, -EINVAL, "Placement of instance '%s': profile %zu is not a string",
                                               spec->name, i + 1);
        spec->profiles = json_deep_copy(profiles);
        if (!spec->profiles)
                return oom(err);
        return profile_names_rebuild(spec, err);
}

static int build(struct queue_vm_spec *spec, const json_t *instance, const json_t *placement,
                 const struct queue_worker_settings *worker, struct ferry_error *err)
{
        _cleanup_json_ json_t *payload = NULL;
        const char *uuid = str(instance, "uuid"), *member, *arch, *desc;
        json_t *v;
        int r;

        if (!uuid || !*uuid)
                return ferry_error_set(err, -EINVAL, "Instance has no UUID");
        r = queue_target_instance_name(instance, spec->name, err);
        if (r < 0)
                return r;
        spec->vm.name = spec->name;

        spec->instance = model_instance_effective(instance);
        spec->placement = json_deep_copy(placement);
        if (!spec->instance || !spec->placement)
                return oom(err);

        spec->project = str(spec->placement, "target_project");
        if (!spec->project || !*spec->project)
                return ferry_error_set(err, -EINVAL, "Placement of instance '%s' names no target project", spec->name);
        member = str(spec->placement, "member");
        spec->member = member && *member ? member : NULL;

        r = build_disks(spec, json_object_get(spec->instance, "disks"), err);
        if (r < 0)
                return r;
        r = build_nics(spec, err);
        if (r < 0)
                return r;
        r = build_config(spec, uuid, worker, err);
        if (r < 0)
                return r;
        r = build_profiles(spec, err);
        if (r < 0)
                return r;

        spec->vm.uuid = str(spec->instance, "uuid");
        desc = str(spec->instance, "description");
        spec->vm.description = desc && *desc ? desc : NULL;
        arch = str(spec->instance, "architecture");
        spec->vm.architecture = arch && *arch ? arch : NULL;
        v = json_object_get(spec->instance, "cpus");
        spec->vm.cpus = json_is_integer(v) && json_integer_value(v) > 0 ? (unsigned) json_integer_value(v) : 0;
        v = json_object_get(spec->instance, "memory");
        spec->vm.memory = json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t) json_integer_value(v) : 0;
        spec->vm.secure_boot = json_is_true(json_object_get(spec->instance, "secure_boot"));
        spec->vm.legacy_boot = json_is_true(json_object_get(spec->instance, "legacy_boot"));
        spec->vm.tpm = json_is_true(json_object_get(spec->instance, "tpm"));
        spec->vm.os = str(spec->instance, "os");
        spec->vm.os_release = str(spec->instance, "os_version");

        /* Everything incus_vm_payload() refuses, refused now. */
        return incus_vm_payload(&spec->vm, &payload, err);
}

int queue_vm_spec_build(const json_t *instance, const json_t *placement, const struct queue_worker_settings *worker,
                        struct queue_vm_spec *ret, struct ferry_error *err)
{
        struct queue_vm_spec spec = {};
        int r;

        r = build(&spec, instance, placement, worker, err);
        if (r < 0) {
                queue_vm_spec_done(&spec);
                return r;
        }
        *ret = spec;
        /* The struct moved: point vm at its own name again. */
        ret->vm.name = ret->name;
        return 0;
}

json_t *queue_vm_spec_created(const struct queue_vm_spec *spec, const char *target)
{
        _cleanup_json_ json_t *volumes = json_array(), *out = NULL;

        if (!volumes)
                return NULL;
        for (size_t i = 0; i < spec->vm.n_disks; i++) {
                const struct incus_vm_disk *d = &spec->vm.disks[i];

                if (d->size > 0 && json_array_append_new(volumes, json_pack("{s:s, s:s}", "pool",
                                                                            d->pool ? d->pool : spec->vm.pool,
                                                                            "name", d->volume)) < 0)
                        return NULL;
        }
        out = json_pack("{s:s, s:s, s:s, s:O}", "target", target, "project", spec->project, "instance", spec->name,
                        "volumes", volumes);
        return TAKE_PTR(out);
}

/* --- the target ------------------------------------------------------------------------- */

struct target_conn {
        json_t *target;
        struct incus_client *client;
        const char *name;
};

static void target_conn_done(struct target_conn *t)
{
        incus_client_free(t->client);
        json_decref(t->target);
        *t = (struct target_conn) {};
}

/* Load target name, connect with id and check Incus answers. */
static int target_conn_open(struct db *db, const struct target_identity *id, const char *name, struct target_conn *ret,
                            struct ferry_error *err)
{
        struct incus_client_config config = {};
        _cleanup_json_ json_t *server = NULL;
        struct target_conn t = {};
        int r;

        r = db_target_get(db, name, &t.target, err);
        if (r < 0)
                return r;
        t.name = str(t.target, "name");
        r = target_client_config(t.target, id, &config, err);
        if (r < 0)
                goto fail;
        t.client = incus_client_new(&config, err);
        if (!t.client) {
                r = -errno;
                goto fail;
        }
        r = incus_get(t.client, "/1.0", NULL, &server, err);
        if (r < 0) {
                ferry_error_prefix(err, "Cannot reach target '%s' (%s)", t.name, config.endpoint);
                goto fail;
        }
        *ret = t;
        return 0;
fail:
        target_conn_done(&t);
        return r;
}

static bool carries_mark(const json_t *obj, const char *uuid)
{
        return streq_ptr(str(json_object_get(obj, "config"), QUEUE_TARGET_MARK_KEY), uuid);
}

/* Stop (if it runs) and delete instance name when it carries uuid's mark: 1 deleted, 0 not there or not ours. */
static int instance_remove_if_ours(struct target_conn *t, const char *project, const char *name, const char *uuid,
                                   struct ferry_error *err)
{
        _cleanup_json_ json_t *inst = NULL, *state = NULL;
        int r;

        r = incus_instance_get(t->client, project, name, &inst, NULL, err);
        if (r == -ENOENT) {
                ferry_error_clear(err);
                return 0;
        }
        if (r < 0)
                return ferry_error_prefix(err, "Target '%s'", t->name);
        if (!carries_mark(inst, uuid)) {
                log_debug("Leaving instance '%s' in project '%s' of target '%s' alone: ferry did not make it for '%s'",
                          name, project, t->name, uuid);
                return 0;
        }
        r = incus_instance_get_state(t->client, project, name, &state, err);
        if (r < 0)
                return ferry_error_prefix(err, "Target '%s'", t->name);
        if (!streq_ptr(str(state, "status"), "Stopped")) {
                r = incus_instance_set_state(t->client, project, name, "stop", true, 0, err);
                if (r < 0)
                        return ferry_error_prefix(err, "Target '%s': cannot stop instance '%s'", t->name, name);
        }
        r = incus_instance_delete(t->client, project, name, err);
        if (r == -ENOENT) {
                ferry_error_clear(err);
                return 0;
        }
        if (r < 0)
                return ferry_error_prefix(err, "Target '%s': cannot delete instance '%s'", t->name, name);
        log_debug("Deleted instance '%s' in project '%s' of target '%s'", name, project, t->name);
        return 1;
}

static int volume_remove_if_ours(struct target_conn *t, const char *project, const char *pool, const char *name,
                                 const char *uuid, struct ferry_error *err)
{
        _cleanup_json_ json_t *vol = NULL;
        int r;

        r = incus_volume_get(t->client, project, pool, name, &vol, err);
        if (r == -ENOENT) {
                ferry_error_clear(err);
                return 0;
        }
        if (r < 0)
                return ferry_error_prefix(err, "Target '%s'", t->name);
        if (!carries_mark(vol, uuid)) {
                log_debug("Leaving volume '%s' in pool '%s' of target '%s' alone: ferry did not make it for '%s'", name,
                          pool, t->name, uuid);
                return 0;
        }
        r = incus_volume_delete(t->client, project, pool, name, err);
        if (r == -ENOENT) {
                ferry_error_clear(err);
                return 0;
        }
        if (r < 0)
                return ferry_error_prefix(err, "Target '%s': cannot delete volume '%s' in pool '%s'", t->name, name,
                                          pool);
        log_debug("Deleted volume '%s' in pool '%s' of target '%s'", name, pool, t->name);
        return 1;
}

/* Refuse what is someone else's under the names spec uses; remove what an earlier attempt left. */
static int clear_the_way(struct target_conn *t, const struct queue_vm_spec *spec, const char *uuid,
                         struct ferry_error *err)
{
        _cleanup_json_ json_t *inst = NULL;
        int r;

        r = incus_instance_get(t->client, spec->project, spec->name, &inst, NULL, err);
        if (r >= 0 && !carries_mark(inst, uuid))
                return ferry_error_set(err, -EEXIST,
                                       "Instance '%s' already exists in project '%s' of target '%s' and ferry did not "
                                       "make it for instance '%s': delete or rename it in Incus, or set "
                                       "overrides.name of instance '%s'",
                                       spec->name, spec->project, t->name, uuid, uuid);
        if (r < 0 && r != -ENOENT)
                return ferry_error_prefix(err, "Target '%s'", t->name);
        ferry_error_clear(err);

        for (size_t i = 0; i < spec->vm.n_disks; i++) {
                const struct incus_vm_disk *d = &spec->vm.disks[i];
                _cleanup_json_ json_t *vol = NULL;

                r = incus_volume_get(t->client, spec->project, d->pool, d->volume, &vol, err);
                if (r >= 0 && !carries_mark(vol, uuid))
                        return ferry_error_set(err, -EEXIST,
                                               "Volume '%s' already exists in pool '%s' of project '%s' on target '%s' "
                                               "and ferry did not make it for instance '%s': delete or rename it in "
                                               "Incus, or set overrides.name of instance '%s'",
                                               d->volume, d->pool, spec->project, t->name, uuid, uuid);
                if (r < 0 && r != -ENOENT)
                        return ferry_error_prefix(err, "Target '%s'", t->name);
                ferry_error_clear(err);
        }

        /* Ours, from an attempt that did not get to record it: start afresh. */
        r = instance_remove_if_ours(t, spec->project, spec->name, uuid, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < spec->vm.n_disks; i++) {
                r = volume_remove_if_ours(t, spec->project, spec->vm.disks[i].pool, spec->vm.disks[i].volume, uuid, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The mapping of the source network of the instance's NIC hwaddr for target, if it asks ferry to create. */
static int nic_mapping(struct db *db, const json_t *instance, const char *hwaddr, const char *target,
                       json_t **ret, struct ferry_error *err)
{
        _cleanup_json_ json_t *network = NULL;
        const json_t *mappings, *m;
        const char *uuid = NULL;
        size_t i;
        json_t *nic;
        int r;

        *ret = NULL;
        json_array_foreach(json_object_get(instance, "nics"), i, nic)
                if (hwaddr && str(nic, "hardware_address") && strcasecmp(str(nic, "hardware_address"), hwaddr) == 0)
                        uuid = str(nic, "network");
        if (!uuid || !*uuid)
                return 0;
        r = db_network_get(db, uuid, &network, err);
        if (r == -ENOENT) {
                ferry_error_clear(err);
                return 0;
        }
        if (r < 0)
                return r;
        mappings = json_object_get(network, "mappings");
        m = json_object_get(mappings, target) ?: json_object_get(mappings, "*");
        if (m && json_is_true(json_object_get(m, "create"))) {
                *ret = json_deep_copy(m);
                if (!*ret)
                        return oom(err);
        }
        return 0;
}

static int ensure_networks(struct db *db, struct target_conn *t, const struct queue_vm_spec *spec,
                           const json_t *instance, struct ferry_error *err)
{
        /* Bridges for migrated VMs carry their own addressing: no NAT, no DHCP. */
        _cleanup_json_ json_t *bridge = json_pack("{s:s, s:s}", "ipv4.address", "none", "ipv6.address", "none");

        if (!bridge)
                return oom(err);
        for (size_t i = 0; i < spec->vm.n_nics; i++) {
                const struct incus_vm_nic *nic = &spec->vm.nics[i];
                _cleanup_json_ json_t *mapping = NULL;
                int r;

                r = nic_mapping(db, instance, nic->hwaddr, t->name, &mapping, err);
                if (r < 0)
                        return r;
                /* Only a mapping the placement followed (a scriptlet may have chosen another network). */
                if (!mapping || !streq_ptr(str(mapping, "network"), nic->network))
                        continue;
                r = incus_network_mapping_ensure(t->client, mapping, bridge, err);
                if (r < 0)
                        return ferry_error_prefix(err, "Target '%s'", t->name);
        }
        return 0;
}

static int entry_fields(const json_t *entry, const char **ret_uuid, const json_t **ret_placement,
                        const char **ret_target, struct ferry_error *err)
{
        const char *uuid = str(entry, "instance_uuid");
        const json_t *placement = json_object_get(entry, "placement");
        const char *target = str(placement, "target");

        if (!uuid || !*uuid)
                return ferry_error_set(err, -EINVAL, "Queue entry has no instance_uuid");
        if (!json_is_object(placement))
                return ferry_error_set(err, -EINVAL, "Queue entry '%s' has no placement", uuid);
        if (!target || !*target)
                return ferry_error_set(err, -EINVAL, "Queue entry '%s' has no target in its placement", uuid);
        *ret_uuid = uuid;
        *ret_placement = placement;
        *ret_target = target;
        return 0;
}

int queue_target_create(struct db *db, const struct target_identity *id, const char *profiles_dir,
                        const json_t *entry, const struct queue_worker_settings *worker, json_t **ret_created,
                        struct ferry_error *err)
{
        _cleanup_json_ json_t *instance = NULL, *profiles = NULL, *created = NULL;
        struct queue_vm_spec spec = {};
        struct target_conn t = {};
        const json_t *placement;
        const char *uuid, *target;
        int r;

        r = entry_fields(entry, &uuid, &placement, &target, err);
        if (r < 0)
                return r;
        r = db_instance_get(db, uuid, &instance, err);
        if (r < 0)
                return r;
        r = queue_vm_spec_build(instance, placement, worker, &spec, err);
        if (r < 0)
                return r;

        if (profiles_dir) {
                r = incus_profiles_load(profiles_dir, &profiles, err);
                if (r < 0)
                        goto out;
                if (json_object_get(profiles, PROFILE_VM))
                        r = queue_vm_spec_add_profile(&spec, PROFILE_VM, err);
                if (r >= 0 && worker && json_object_get(profiles, PROFILE_WORKER))
                        r = queue_vm_spec_add_profile(&spec, PROFILE_WORKER, err);
                if (r < 0)
                        goto out;
        }
        created = queue_vm_spec_created(&spec, target);
        if (!created) {
                r = oom(err);
                goto out;
        }

        r = target_conn_open(db, id, target, &t, err);
        if (r < 0)
                goto out;
        r = clear_the_way(&t, &spec, uuid, err);
        if (r < 0)
                goto out;
        r = ensure_networks(db, &t, &spec, instance, err);
        if (r < 0)
                goto out;
        if (profiles) {
                r = incus_profiles_ensure(t.client, spec.project, profiles, err);
                if (r < 0) {
                        ferry_error_prefix(err, "Target '%s'", t.name);
                        goto out;
                }
        }

        log_debug("Creating instance '%s' in project '%s' of target '%s' for '%s'", spec.name, spec.project, t.name,
                  uuid);
        r = incus_vm_create(t.client, spec.project, spec.member, &spec.vm, err);
        if (r < 0) {
                ferry_error_prefix(err, "Target '%s'", t.name);
                goto out;
        }
        *ret_created = TAKE_PTR(created);
        r = 0;
out:
        target_conn_done(&t);
        queue_vm_spec_done(&spec);
        return r;
}

int queue_target_remove(struct db *db, const struct target_identity *id, const json_t *entry, const json_t *created,
                        struct ferry_error *err)
{
        _cleanup_json_ json_t *derived = NULL;
        const char *uuid = str(entry, "instance_uuid"), *target, *project, *name;
        struct target_conn t = {};
        int r, deleted = 0;
        size_t i;
        json_t *vol;

        if (!uuid || !*uuid)
                return ferry_error_set(err, -EINVAL, "Queue entry has no instance_uuid");
        if (!created) {
                _cleanup_json_ json_t *instance = NULL;
                struct queue_vm_spec spec = {};
                const json_t *placement;

                r = entry_fields(entry, &uuid, &placement, &target, err);
                if (r < 0)
                        return r;
                r = db_instance_get(db, uuid, &instance, err);
                if (r < 0)
                        return r;
                r = queue_vm_spec_build(instance, placement, NULL, &spec, err);
                if (r < 0)
                        return r;
                derived = queue_vm_spec_created(&spec, target);
                queue_vm_spec_done(&spec);
                if (!derived)
                        return oom(err);
                created = derived;
        }

        target = str(created, "target");
        project = str(created, "project");
        name = str(created, "instance");
        if (!target || !*target || !project || !name)
                return ferry_error_set(err, -EINVAL,
                                       "The record of what ferry created for queue entry '%s' lacks its target, "
                                       "project or instance",
                                       uuid);

        r = target_conn_open(db, id, target, &t, err);
        if (r < 0)
                return r;
        r = *name ? instance_remove_if_ours(&t, project, name, uuid, err) : 0;
        if (r < 0)
                goto out;
        deleted += r;
        json_array_foreach(json_object_get(created, "volumes"), i, vol) {
                const char *pool = str(vol, "pool"), *vname = str(vol, "name");

                if (!pool || !vname) {
                        r = ferry_error_set(err, -EINVAL,
                                            "Volume %zu in the record of what ferry created for queue entry '%s' "
                                            "lacks its pool or name",
                                            i + 1, uuid);
                        goto out;
                }
                r = volume_remove_if_ours(&t, project, pool, vname, uuid, err);
                if (r < 0)
                        goto out;
                deleted += r;
        }
        r = deleted;
out:
        target_conn_done(&t);
        return r;
}
