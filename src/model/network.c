/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A source network and how it maps onto each target's networks.
 */
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "model/model.h"

static const char *const nictypes[] = { "managed", "bridged", "macvlan", "physical", NULL };

/* "" (untagged), "10" or "10,20,30" (tagged), each 1-4094. */
static int network_check_vlan(const char *path, const json_t *value, json_t **ret_value,
                              struct ferry_error *err)
{
        const char *s = json_string_value(value);

        (void) ret_value;

        if (!*s)
                return 0;

        for (const char *p = s;;) {
                char *end;
                long id;

                if (*p < '0' || *p > '9')
                        goto bad;
                id = strtol(p, &end, 10);
                if (id < 1 || id > 4094)
                        goto bad;
                if (*end == '\0')
                        return 0;
                if (*end != ',')
                        goto bad;
                p = end + 1;
        }
bad:
        return ferry_error_set(err, -EINVAL,
                               "Field '%s' must be a VLAN id from 1 to 4094 or a comma-separated list of them, not '%s'",
                               path, s);
}

static const struct model_field mapping_fields[] = {
        { "network", MODEL_STRING, MODEL_REQUIRED, .check = model_check_name },
        { "nictype", MODEL_STRING, .choices = nictypes, .default_json = "\"managed\"" },
        { "vlan", MODEL_STRING, .check = network_check_vlan, .default_json = "\"\"" },
        { "project", MODEL_STRING, .check = model_check_name },
        /* Create the project and, for "managed", the network as a bridge
         * when the target lacks them (incus_network_mapping_ensure()). */
        { .name = "create", .type = MODEL_BOOL },
        {}
};

static const struct model_field mapping = { "", MODEL_OBJECT, .fields = mapping_fields };

static const struct model_field network_fields[] = {
        { .name = "uuid", .type = MODEL_STRING, .flags = MODEL_READ_ONLY },
        { .name = "source", .type = MODEL_STRING, .flags = MODEL_READ_ONLY },
        { .name = "location", .type = MODEL_STRING, .flags = MODEL_READ_ONLY },
        { .name = "name", .type = MODEL_STRING, .flags = MODEL_READ_ONLY },
        { .name = "type", .type = MODEL_STRING, .flags = MODEL_READ_ONLY },
        { .name = "vlan", .type = MODEL_STRING, .flags = MODEL_READ_ONLY },
        { "mappings", MODEL_MAP, .item = &mapping, .default_json = "{}", .max_items = 1000 },
        MODEL_FIELDS_TIMESTAMPS,
        {}
};

/* Mapping keys are target names, or "*" for every target without its own. */
static int network_check(const json_t *obj, struct ferry_error *err)
{
        const char *key;
        json_t *v;

        json_object_foreach(json_object_get(obj, "mappings"), key, v)
                if (!streq(key, "*") && !model_name_is_valid(key))
                        return ferry_error_set(err, -EINVAL,
                                               "Field 'mappings' has a key '%s' that is neither a target name nor '*'",
                                               key);
        return 0;
}

const struct model_schema model_network_schema = {
        .name = "network",
        .fields = network_fields,
        .check = network_check,
};
