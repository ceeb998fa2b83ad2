/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "common/macros.h"
#include "expr/types.h"

const struct type type_any = { .kind = TYPE_ANY, .name = "any" };
const struct type type_nil = { .kind = TYPE_NIL, .name = "nil" };
const struct type type_bool = { .kind = TYPE_BOOL, .name = "bool" };
const struct type type_int = { .kind = TYPE_INT, .name = "int" };
const struct type type_float = { .kind = TYPE_FLOAT, .name = "float" };
const struct type type_string = { .kind = TYPE_STRING, .name = "string" };

const struct type type_array_any = { .kind = TYPE_ARRAY, .name = "array", .elem = &type_any };
static const struct type type_array_bool = { .kind = TYPE_ARRAY, .name = "array", .elem = &type_bool };
static const struct type type_array_int = { .kind = TYPE_ARRAY, .name = "array", .elem = &type_int };
static const struct type type_array_float = { .kind = TYPE_ARRAY, .name = "array", .elem = &type_float };
static const struct type type_array_string = { .kind = TYPE_ARRAY, .name = "array", .elem = &type_string };

static const struct type type_config = { .kind = TYPE_MAP, .name = "map", .elem = &type_string };

#define OBJECT_TYPE(n, f, list, is_open)                                                           \
        { .kind = TYPE_OBJECT, .name = n, .fields = f, .n_fields = ELEMENTSOF(f), .open = is_open, \
          .field_list = list }

static const struct type_field disk_fields[] = {
        { "name", &type_string },
        { "capacity", &type_int },
        { "shared", &type_bool },
        { "supported", &type_bool },
        { "change_tracking", &type_bool },
};
static const struct type type_disk =
        OBJECT_TYPE("disk", disk_fields, "name, capacity, shared, supported, change_tracking", false);
static const struct type type_array_disk = { .kind = TYPE_ARRAY, .name = "array", .elem = &type_disk };

static const struct type_field nic_fields[] = {
        { "hardware_address", &type_string },
        { "network", &type_string },
        { "ipv4_address", &type_string },
        { "ipv6_address", &type_string },
};
static const struct type type_nic =
        OBJECT_TYPE("nic", nic_fields, "hardware_address, network, ipv4_address, ipv6_address", false);
static const struct type type_array_nic = { .kind = TYPE_ARRAY, .name = "array", .elem = &type_nic };

/* Snapshots carry more than their name, depending on the source. */
static const struct type_field snapshot_fields[] = {
        { "name", &type_string },
};
static const struct type type_snapshot = OBJECT_TYPE("snapshot", snapshot_fields, "name", true);
static const struct type type_array_snapshot = { .kind = TYPE_ARRAY, .name = "array", .elem = &type_snapshot };

static const struct type_field instance_fields[] = {
        { "uuid", &type_string },
        { "source", &type_string },
        { "location", &type_string },
        { "name", &type_string },
        { "description", &type_string },
        { "cpus", &type_int },
        { "memory", &type_int },
        { "architecture", &type_string },
        { "os", &type_string },
        { "os_version", &type_string },
        { "os_type", &type_string },
        { "secure_boot", &type_bool },
        { "legacy_boot", &type_bool },
        { "tpm", &type_bool },
        { "running", &type_bool },
        { "background_import", &type_bool },
        { "config", &type_config },
        { "disks", &type_array_disk },
        { "nics", &type_array_nic },
        { "snapshots", &type_array_snapshot },
};
static const struct type type_instance = OBJECT_TYPE(
        "instance", instance_fields,
        "uuid, source, location, name, description, cpus, memory, architecture, os, os_version, "
        "os_type, secure_boot, legacy_boot, tpm, running, background_import, config, disks, nics, snapshots",
        false);

/* A network's VLAN is a number, or a string for trunks: not known before evaluation. */
static const struct type_field network_fields[] = {
        { "uuid", &type_string },
        { "source", &type_string },
        { "location", &type_string },
        { "type", &type_string },
        { "vlan", &type_any },
        { "name", &type_string },
};
static const struct type type_network =
        OBJECT_TYPE("network", network_fields, "uuid, source, location, type, vlan, name", false);

_Static_assert(ELEMENTSOF(instance_fields) <= SCHEMA_FIELDS_MAX, "one bit per field");
_Static_assert(ELEMENTSOF(network_fields) <= SCHEMA_FIELDS_MAX, "one bit per field");

const struct type *schema_type(enum expr_schema schema)
{
        switch (schema) {
        case EXPR_SCHEMA_INSTANCE:
                return &type_instance;
        case EXPR_SCHEMA_NETWORK:
                return &type_network;
        default:
                return NULL;
        }
}

const struct type_field *type_find_field(const struct type *t, const char *name, size_t len)
{
        for (size_t i = 0; i < t->n_fields; i++)
                if (strlen(t->fields[i].name) == len && memcmp(t->fields[i].name, name, len) == 0)
                        return &t->fields[i];
        return NULL;
}

const struct type *type_array_of(const struct type *elem)
{
        static const struct type *const arrays[] = {
                &type_array_bool, &type_array_int,  &type_array_float,   &type_array_string,
                &type_array_disk, &type_array_nic, &type_array_snapshot,
        };

        for (size_t i = 0; i < ELEMENTSOF(arrays); i++)
                if (arrays[i]->elem == elem)
                        return arrays[i];
        return &type_array_any;
}
