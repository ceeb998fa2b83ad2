/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What ferry sets up in a target before VMs arrive: its profiles
 * (incus-profiles/NAME.yaml) in each project it migrates into, and the
 * projects and bridge networks a network mapping asks ferry to create.
 *
 *     _cleanup_json_ json_t *profiles = NULL;
 *
 *     r = incus_profiles_load("/usr/share/ferry/incus-profiles", &profiles, err);
 *     r = incus_profiles_ensure(c, "lab", profiles, err);
 *
 * The ensure calls create what is missing, bring what differs back to
 * what ferry wants and leave what matches alone; they return
 * INCUS_ENSURE_UNCHANGED, _CREATED or _UPDATED.  An update is a PUT under
 * If-Match with the ETag of what was compared: an edit in between fails
 * with -ESTALE and Incus's message instead of being overwritten unseen.
 */
#ifndef FERRY_TARGET_INCUS_PROVISION_H
#define FERRY_TARGET_INCUS_PROVISION_H

#include <stdbool.h>

#include <jansson.h>

#include "common/error.h"
#include "target/incus/client.h"

enum {
        INCUS_ENSURE_UNCHANGED = 0,
        INCUS_ENSURE_CREATED = 1,
        INCUS_ENSURE_UPDATED = 2,
};

/*
 * A profile as ferry wants it, from YAML text (what `incus profile edit`
 * shows): {"description": "...", "config": {"k": "v"}, "devices":
 * {"d": {"k": "v"}}}; a "name" must be name.  Config and device values
 * must be strings; plain YAML numbers and booleans are taken as their
 * text.  Errors (-EINVAL) start with "Profile 'name': " and say what is
 * wrong: "config key 'limits.cpu' is not a string", "unknown field
 * 'colour'", ...
 */
int incus_profile_parse(const char *name, const char *yaml, size_t len, json_t **ret, struct ferry_error *err);

/* Every <dir>/NAME.yaml as profile NAME: {"NAME": profile, ...}.  A bad
 * file fails the whole load, naming the file. */
int incus_profiles_load(const char *dir, json_t **ret, struct ferry_error *err);

/* Make profile name in project (NULL: default) what profile (as parsed above) says. */
int incus_profile_ensure(struct incus_client *c, const char *project, const char *name, const json_t *profile,
                         struct ferry_error *err);

/* incus_profile_ensure() for each of profiles ({"NAME": profile}); INCUS_ENSURE_UPDATED if any changed. */
int incus_profiles_ensure(struct incus_client *c, const char *project, const json_t *profiles,
                          struct ferry_error *err);

/* Create project name (Incus's default features) unless it exists. */
int incus_project_ensure(struct incus_client *c, const char *name, const char *description,
                         struct ferry_error *err);

/*
 * Create the managed bridge network name in project (NULL: default) with
 * config ({"ipv4.address": "none", ...}; NULL: Incus's defaults) unless a
 * network of that name exists; an existing one that is no bridge fails
 * with -EEXIST "Network 'n' exists and is a 'macvlan' network, not a bridge".
 */
int incus_bridge_ensure(struct incus_client *c, const char *project, const char *name, const json_t *config,
                        struct ferry_error *err);

/*
 * What a network mapping (docs/rest-api.md: {"network", "nictype",
 * "vlan", "project", "create"}) needs on the target: with "create": true,
 * its project (if it names one) and, for nictype "managed", its network
 * as a bridge with bridge_config.  Nothing without "create".  Returns the
 * highest of the ensure results.
 */
int incus_network_mapping_ensure(struct incus_client *c, const json_t *mapping, const json_t *bridge_config,
                                 struct ferry_error *err);

#endif
