/* SPDX-License-Identifier: Apache-2.0 */
/*
 * From vSphere property sets to ferry's objects: a pure function over the
 * objects a retrieval returned (client.h), so that it is tested without a
 * server.  Instances and networks come out in the JSON shape of
 * docs/rest-api.md; problems that make an instance partial or not
 * migratable come out as warnings for the sync to raise.
 */
#ifndef FERRY_SOURCE_VMWARE_INVENTORY_H
#define FERRY_SOURCE_VMWARE_INVENTORY_H

#include <jansson.h>

#include "common/error.h"
#include "source/vmware/client.h"

/* What a sync asks of the server: the types and properties the mapping reads. */
extern const struct vmware_property_spec vmware_inventory_specs[];
extern const size_t vmware_inventory_n_specs;

struct vmware_inventory_options {
        const char *source;             /* the source's name, set as "source" */
        const char *server_uuid;        /* vCenter's instance uuid: makes network uuids unique */
        const json_t *datacenters;      /* array of names to keep, or NULL/[] for all */
        const xmlNode *custom_fields;   /* CustomFieldsManager.field (ArrayOfCustomFieldDef), or NULL */
};

/* Warning types the inventory raises (the warning's "type"). */
#define VMWARE_WARNING_UNKNOWN_OS "Could not determine instance OS"
#define VMWARE_WARNING_NO_CBT "Change block tracking disabled"
#define VMWARE_WARNING_UNSUPPORTED_DISK "Unsupported disk"

/*
 * Map objs to ferry objects.  *ret_instances and *ret_networks are arrays
 * sorted by location; *ret_warnings is an array of {"entity_type",
 * "entity", "type", "message"}.  Fails only on malformed answers
 * (-EBADMSG naming the object) and ENOMEM.
 */
int vmware_inventory_build(const struct vmware_objects *objs, const struct vmware_inventory_options *options,
                           json_t **ret_instances, json_t **ret_networks, json_t **ret_warnings,
                           struct ferry_error *err);

/*
 * Guesses from what vSphere says of a guest: os_type "linux", "windows" or
 * "" and a distribution ("ubuntu", "debian", "centos", "rhel", "sles",
 * "windows", ... or "").  Any argument may be NULL.
 */
const char *vmware_guess_os_type(const char *guest_family, const char *guest_id, const char *full_name);
const char *vmware_guess_distribution(const char *guest_id, const char *full_name);

/* The version in a guest's full name: "7" of "CentOS 7 (64-bit)", "" if none.  Free it. */
char *vmware_guess_os_version(const char *full_name);

/* A stable uuid for a managed object of one server: the same inputs give the same uuid. */
void vmware_object_uuid(const char *server_uuid, const char *moref, char ret[static 37]);

#endif
