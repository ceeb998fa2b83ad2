/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A batch: which VMs move together, when (migration windows), under what
 * limits (constraints), and where to by default.
 */
#include <string.h>

#include "common/duration.h"
#include "common/strbuf.h"
#include "model/model.h"

/* Expressions are checked by the expression compiler (src/expr); here only
 * their size is bounded. */
#define BATCH_EXPRESSION_MAX (64 * 1024)

static int batch_check_expression(const char *path, const json_t *value, json_t **ret_value,
                                  struct ferry_error *err)
{
        (void) ret_value;

        if (json_string_length(value) == 0)
                return ferry_error_set(err, -EINVAL, "Field '%s' must not be empty", path);
        if (json_string_length(value) > BATCH_EXPRESSION_MAX)
                return ferry_error_set(err, -EINVAL, "Field '%s' is longer than %d bytes", path, BATCH_EXPRESSION_MAX);
        return 0;
}

/* A lockout is optional: "" means none. */
static int batch_check_lockout(const char *path, const json_t *value, json_t **ret_value,
                               struct ferry_error *err)
{
        if (json_string_length(value) == 0)
                return 0;
        return model_check_timestamp(path, value, ret_value, err);
}

static const struct model_field window_fields[] = {
        { "name", MODEL_STRING, MODEL_REQUIRED, .check = model_check_name },
        { "start", MODEL_STRING, MODEL_REQUIRED, .check = model_check_timestamp },
        { "end", MODEL_STRING, MODEL_REQUIRED, .check = model_check_timestamp },
        { "lockout", MODEL_STRING, .check = batch_check_lockout, .default_json = "\"\"" },
        { "capacity", MODEL_INT, .min = 1, .max = 1000000 },
        {}
};

static const struct model_field constraint_fields[] = {
        { "name", MODEL_STRING, MODEL_REQUIRED, .check = model_check_name },
        { "include_expression", MODEL_STRING, MODEL_REQUIRED, .check = batch_check_expression },
        { "max_concurrent_instances", MODEL_INT, .min = 1, .max = 1000000 },
        { "min_instance_boot_time", MODEL_STRING, .check = model_check_duration },
        {}
};

static const struct model_field window = { "", MODEL_OBJECT, .fields = window_fields };
static const struct model_field constraint = { "", MODEL_OBJECT, .fields = constraint_fields };
static const struct model_field profile = { "", MODEL_STRING, .check = model_check_name };

static const struct model_field placement_fields[] = {
        { "target", MODEL_STRING, .check = model_check_name },
        { "target_project", MODEL_STRING, .check = model_check_name, .default_json = "\"default\"" },
        { "storage_pool", MODEL_STRING, .check = model_check_name },
        { "profiles", MODEL_ARRAY, .item = &profile, .default_json = "[\"default\"]", .max_items = 100 },
        {}
};

static const struct model_field defaults_fields[] = {
        { "placement", MODEL_OBJECT, .fields = placement_fields },
        {}
};

static const struct model_field restriction_overrides_fields[] = {
        { "allow_unknown_os", MODEL_BOOL, .default_json = "false" },
        { "allow_no_ipv4", MODEL_BOOL, .default_json = "false" },
        { "allow_no_background_import", MODEL_BOOL, .default_json = "false" },
        {}
};

static const struct model_field config_fields[] = {
        { "placement_scriptlet", MODEL_STRING, .default_json = "\"\"" },
        { "rerun_scriptlets", MODEL_BOOL, .default_json = "false" },
        { "post_migration_retries", MODEL_INT, .min = 0, .max = 100, .default_json = "3" },
        { "background_sync_interval", MODEL_STRING, .check = model_check_duration, .default_json = "\"10m\"" },
        { "final_background_sync_limit", MODEL_STRING, .check = model_check_duration,
          .default_json = "\"10m\"" },
        { "instance_restriction_overrides", MODEL_OBJECT, .fields = restriction_overrides_fields },
        {}
};

static const char *const batch_states[] = { "Defined", "Running", "Stopped", "Finished", "Error", NULL };

static const struct model_field batch_fields[] = {
        { "name", MODEL_STRING, MODEL_REQUIRED | MODEL_IMMUTABLE, .check = model_check_name },
        { "include_expression", MODEL_STRING, MODEL_REQUIRED, .check = batch_check_expression },
        { "status", MODEL_STRING, MODEL_READ_ONLY, .choices = batch_states, .default_json = "\"Defined\"" },
        { "status_message", MODEL_STRING, MODEL_READ_ONLY, .default_json = "\"\"" },
        { "migration_windows", MODEL_ARRAY, .item = &window, .default_json = "[]", .max_items = 1000 },
        { "constraints", MODEL_ARRAY, .item = &constraint, .default_json = "[]", .max_items = 100 },
        { "defaults", MODEL_OBJECT, .fields = defaults_fields },
        { "config", MODEL_OBJECT, .fields = config_fields },
        MODEL_FIELDS_TIMESTAMPS,
        {}
};

/* Names within one list are unique: windows and constraints are referred
 * to by name (queue entries name their window). */
static int batch_check_unique_names(const json_t *list, const char *field, struct ferry_error *err)
{
        size_t i, j;

        for (i = 0; i < json_array_size(list); i++)
                for (j = 0; j < i; j++) {
                        const char *a = json_string_value(json_object_get(json_array_get(list, i), "name"));
                        const char *b = json_string_value(json_object_get(json_array_get(list, j), "name"));

                        if (streq(a, b))
                                return ferry_error_set(err, -EINVAL, "Field '%s[%zu].name' repeats the name '%s'",
                                                       field, i, a);
                }
        return 0;
}

static int batch_check_window(const json_t *w, size_t i, struct ferry_error *err)
{
        const char *lockout = json_string_value(json_object_get(w, "lockout"));
        int64_t start, end, lock;

        /* The schema has parsed them already. */
        (void) timestamp_parse_rfc3339(json_string_value(json_object_get(w, "start")), &start);
        (void) timestamp_parse_rfc3339(json_string_value(json_object_get(w, "end")), &end);

        if (end <= start)
                return ferry_error_set(err, -EINVAL,
                                       "Field 'migration_windows[%zu].end' must be after its start", i);
        if (lockout && *lockout) {
                (void) timestamp_parse_rfc3339(lockout, &lock);
                if (lock < start || lock >= end)
                        return ferry_error_set(err, -EINVAL,
                                               "Field 'migration_windows[%zu].lockout' must be between the window's "
                                               "start and end",
                                               i);
        }
        return 0;
}

static int batch_check(const json_t *obj, struct ferry_error *err)
{
        const json_t *windows = json_object_get(obj, "migration_windows"), *w;
        size_t i;
        int r;

        json_array_foreach(windows, i, w) {
                r = batch_check_window(w, i, err);
                if (r < 0)
                        return r;
        }

        r = batch_check_unique_names(windows, "migration_windows", err);
        if (r < 0)
                return r;
        return batch_check_unique_names(json_object_get(obj, "constraints"), "constraints", err);
}

const struct model_schema model_batch_schema = {
        .name = "batch",
        .fields = batch_fields,
        .check = batch_check,
};
