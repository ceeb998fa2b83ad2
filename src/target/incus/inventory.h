/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A target's inventory (DESIGN §3): what placement and the network
 * mappings choose from, read from Incus and stored as the target's
 * read-only `inventory` object:
 *
 *     {
 *       "server": {"version": "6.0.4", "name": "node1", "clustered": false,
 *                  "restricted": false},
 *       "projects": [{"name": "lab", "description": "",
 *                     "features": {"images": false, "networks": false, "profiles": true,
 *                                  "storage.volumes": true, ...},
 *                     "restrictions": {"restricted": "true", "restricted.networks.access": "br0"}}],
 *       "networks": [{"name": "labbr0", "project": "default", "type": "bridge", "managed": true,
 *                     "parent": "", "vlan": "", "vlan_capable": true, "status": "Created",
 *                     "description": ""}],
 *       "storage_pools": [{"name": "default", "driver": "dir", "status": "Created",
 *                          "space": {"used": 123, "total": 456}, "description": ""}],
 *       "profiles": [{"name": "default", "project": "lab", "description": ""}],
 *       "cluster_members": [{"name": "node1", "status": "Online", "message": "",
 *                            "groups": ["default"], "failure_domain": "default",
 *                            "roles": [], "architecture": "x86_64"}]
 *     }
 *
 * Projects carry their `features.*` config as booleans and their
 * `restricted*` config as it is.  Networks and profiles are listed once
 * per project that has its own (features.networks / features.profiles);
 * projects without them share the default project's.  vlan_capable says
 * whether a NIC on it can take `vlan` / `vlan.tagged` (bridges, macvlan,
 * physical and SR-IOV parents; not OVN).  A standalone server has no
 * cluster members.  Lists are ordered by (project,) name.
 */
#ifndef FERRY_TARGET_INCUS_INVENTORY_H
#define FERRY_TARGET_INCUS_INVENTORY_H

#include "common/error.h"
#include "target/incus/client.h"

/*
 * Read the whole inventory (a new object in ret).  A restricted
 * certificate sees, and lists, only its projects and what they hold; its
 * storage pools are those its projects' profiles use (Incus 6.0 does not
 * list pools to it).
 */
int incus_inventory_read(struct incus_client *c, json_t **ret, struct ferry_error *err);

/* Whether a NIC on a network of this type can carry VLANs (see above). */
bool incus_network_type_vlan_capable(const char *type);

/*
 * The inventory entries built from Incus's own objects (pure, for tests):
 * a project, a network (of project), a storage pool (space from its
 * /resources, may be NULL), a cluster member.  NULL on out of memory.
 */
json_t *incus_inventory_project(const json_t *project);
json_t *incus_inventory_network(const json_t *network, const char *project);
json_t *incus_inventory_storage_pool(const json_t *pool, const json_t *resources);
json_t *incus_inventory_cluster_member(const json_t *member);

#endif
