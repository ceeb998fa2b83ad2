/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A source VM.  Sync writes everything but the overrides, which are the
 * admin's: any property the admin knows better (the OS a guest agent could
 * not report, a smaller memory size), plus switches for the queue.
 */
#include <string.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "model/model.h"

static const struct model_field override_config_value = { .name = "", .type = MODEL_STRING };

static const struct model_field instance_override_fields[] = {
        { "name", MODEL_STRING, .check = model_check_name },
        { .name = "description", .type = MODEL_STRING },
        { "cpus", MODEL_INT, .min = 1, .max = 4096 },
        { "memory", MODEL_INT, .min = 1024 * 1024, .max = INT64_C(1) << 50 },
        { .name = "architecture", .type = MODEL_STRING },
        { .name = "os", .type = MODEL_STRING },
        { .name = "os_version", .type = MODEL_STRING },
        { .name = "os_type", .type = MODEL_STRING },
        { .name = "secure_boot", .type = MODEL_BOOL },
        { .name = "legacy_boot", .type = MODEL_BOOL },
        { .name = "tpm", .type = MODEL_BOOL },
        { "config", MODEL_MAP, .item = &override_config_value },
        { .name = "disable_migration", .type = MODEL_BOOL },
        { .name = "ignore_restrictions", .type = MODEL_BOOL },
        { .name = "comment", .type = MODEL_STRING },
        {}
};

const struct model_schema model_instance_override_schema = {
        .name = "instance override",
        .fields = instance_override_fields,
};

/* Overrides that steer ferry rather than describe the VM. */
static bool override_is_switch(const char *key)
{
        return streq(key, "disable_migration") || streq(key, "ignore_restrictions") || streq(key, "comment");
}

json_t *model_instance_effective(const json_t *instance)
{
        _cleanup_json_ json_t *out = json_deep_copy(instance);
        const json_t *overrides = json_object_get(instance, "overrides");
        const char *key;
        json_t *v;

        if (!out)
                return NULL;

        json_object_foreach((json_t *) overrides, key, v) {
                if (override_is_switch(key))
                        continue;
                if (streq(key, "config")) {
                        /* Config keys merge: an override sets or replaces single keys. */
                        json_t *config = json_object_get(out, "config");

                        if (!json_is_object(config)) {
                                config = json_object();
                                if (!config || json_object_set_new(out, "config", config) < 0)
                                        return NULL;
                        }
                        if (json_object_update(config, v) < 0)
                                return NULL;
                        continue;
                }
                if (json_object_set(out, key, v) < 0)
                        return NULL;
        }
        return TAKE_PTR(out);
}
