/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Placement (DESIGN §7): where one instance of a batch goes.  The batch's
 * config.placement_scriptlet, when set, defines placement(instance, batch)
 * and calls builtins to say what it wants; that intent is laid over the
 * batch's defaults.placement and the source networks' mappings, and the
 * result is checked against the chosen target's inventory.  Pure: all the
 * data comes in as JSON, nothing is read or written elsewhere.
 *
 * The result, stored later as a queue entry's placement:
 *
 *     {"target": "incus1", "target_project": "lab", "member": "",
 *      "storage_pool": "default", "profiles": ["default"],
 *      "disks": [{"name": "Hard disk 1", "pool": "default"}],
 *      "nics": [{"hardware_address": "00:50:56:01:00:01", "source_network": "lan-100",
 *                "network": "labbr0", "nictype": "managed", "vlan": ""}],
 *      "config": {"user.owner": "team-web"}}
 *
 * Builtins (docs/scriptlets.md): set_target(name), set_project(name),
 * set_member(name), set_pool(disk_name | "*", pool),
 * set_network(hwaddr, network [, nictype [, vlan]]), set_profiles({...}),
 * set_config(key, value), fail(reason), targets(), and the sandbox's
 * print/log_info/log_warn/log_error.
 *
 * What the script sees: instance is the instance with its overrides laid
 * over the synced values (model_instance_effective()), plus "synced" (the
 * values as the source reported them) and, per NIC, the source network's
 * "network_name", "network_vlan" and "network_type"; batch is the batch
 * as stored; targets() returns a fresh copy, keyed by target name, of
 * each target's inventory with its "name": nothing the script does to it
 * reaches ferry.
 */
#ifndef FERRY_SCRIPTLET_PLACEMENT_H
#define FERRY_SCRIPTLET_PLACEMENT_H

#include <jansson.h>

#include "common/error.h"
#include "scriptlet/sandbox.h"

struct placement_input {
        const json_t *instance;         /* as stored: synced values and "overrides" */
        const json_t *batch;            /* as stored */
        const json_t *targets;          /* array of target objects, "inventory" included */
        const json_t *networks;         /* array of source networks, "mappings" included */
};

enum {
        PLACEMENT_PLACED = 0,
        PLACEMENT_BLOCKED = 1,
};

/* set_config() takes these keys: user.*, limits.*, snapshots.* and a few boot.* ones. */
bool placement_config_key_allowed(const char *key);

/*
 * Place one instance.  limits gives the sandbox's limits (NULL: defaults;
 * name and log are set here).  Returns PLACEMENT_PLACED with *ret the
 * placement, PLACEMENT_BLOCKED with *ret {"reason": "..."} when the script
 * called fail(), or a negative errno with err filled: the script's errors
 * and limits (sandbox.h), and what the merge or the inventory refuses:
 *   "No target for instance 'web1': the batch's defaults name none and the scriptlet set none"
 *   "Target 'incus9' (from the scriptlet) does not exist; ferry knows targets 'incus1'"
 *   "Target 'incus1' has no inventory yet: wait for its first sync"
 *   "Project 'prod' (from the scriptlet) is not on target 'incus1', which has projects 'default', 'lab'"
 *   "Storage pool 'fast' (for disk 'Hard disk 2', from the scriptlet) is not on target 'incus1', which has pools 'default'"
 *   "NIC 00:50:56:01:00:01 (source network 'lan-100'): the scriptlet wants a managed NIC on 'eth0', but on target 'incus1' 'eth0' is an unmanaged physical interface"
 * log (may be NULL), an array, gets {"level", "message"} for each line
 * the script logged, whatever the outcome.
 */
int placement_compute(const struct placement_input *in, const struct scriptlet_options *limits, json_t *log,
                      json_t **ret, struct ferry_error *err);

#endif
