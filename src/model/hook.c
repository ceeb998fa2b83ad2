/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An event hook (DESIGN §7): a named Lua script whose on_event(event) runs
 * for the lifecycle events it lists, off the API threads.  "runs" is
 * ferryd's record of its last runs, read-only here.
 */
#include <string.h>

#include "common/strbuf.h"
#include "model/model.h"

/* Scripts are source text; this bounds what one hook keeps in the database. */
#define HOOK_SCRIPT_MAX (256 * 1024)

/* An event action ("batch-created", "instance-started") or "*" for all. */
static int hook_check_event(const char *path, const json_t *value, json_t **ret_value, struct ferry_error *err)
{
        const char *s = json_string_value(value);

        (void) ret_value;
        if (streq(s, "*"))
                return 0;
        if (!*s || strlen(s) > 63 || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(s) || *s == '-')
                return ferry_error_set(err, -EINVAL,
                                       "Field '%s' must be an event action like 'batch-created' (lower-case "
                                       "letters, digits and '-') or '*', not '%s'",
                                       path, s);
        return 0;
}

static int hook_check_script(const char *path, const json_t *value, json_t **ret_value, struct ferry_error *err)
{
        (void) ret_value;
        if (json_string_length(value) == 0)
                return ferry_error_set(err, -EINVAL, "Field '%s' must not be empty", path);
        if (json_string_length(value) > HOOK_SCRIPT_MAX)
                return ferry_error_set(err, -EINVAL, "Field '%s' is longer than %d bytes", path, HOOK_SCRIPT_MAX);
        return 0;
}

static const struct model_field event = { "", MODEL_STRING, .check = hook_check_event };

static const struct model_field hook_fields[] = {
        { "name", MODEL_STRING, MODEL_REQUIRED | MODEL_IMMUTABLE, .check = model_check_name },
        { "description", MODEL_STRING, .default_json = "\"\"" },
        { "events", MODEL_ARRAY, MODEL_REQUIRED, .item = &event, .max_items = 100 },
        { "script", MODEL_STRING, MODEL_REQUIRED, .check = hook_check_script },
        { "enabled", MODEL_BOOL, .default_json = "true" },
        { "runs", MODEL_OBJECT, MODEL_READ_ONLY, .default_json = "{}" },
        MODEL_FIELDS_TIMESTAMPS,
        {}
};

static int hook_check(const json_t *obj, struct ferry_error *err)
{
        if (json_array_size(json_object_get(obj, "events")) == 0)
                return ferry_error_set(err, -EINVAL, "Field 'events' must list at least one event action");
        return 0;
}

const struct model_schema model_hook_schema = {
        .name = "hook",
        .fields = hook_fields,
        .check = hook_check,
};
