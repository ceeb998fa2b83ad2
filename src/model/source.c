/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A source hypervisor: where VMs come from (DESIGN §3).
 */
#include <string.h>

#include "common/strbuf.h"
#include "model/model.h"

static const char *const source_types[] = { "vmware", NULL };
static const char *const disk_access_modes[] = { "vddk", "datastore", "nbd", NULL };
static const char *const connectivity_states[] = {
        "Unknown", "OK", "Cannot connect", "TLS error", "Confirm TLS fingerprint", "Authentication error", NULL
};

static int source_check_nbd_uri(const char *path, const json_t *value, json_t **ret_value,
                                struct ferry_error *err)
{
        const char *s = json_string_value(value);

        (void) ret_value;

        if (!startswith(s, "nbd://") && !startswith(s, "nbd+unix://") && !startswith(s, "nbds://"))
                return ferry_error_set(err, -EINVAL, "Field '%s' must be an nbd://, nbds:// or nbd+unix:// URI, not '%s'",
                                       path, s);
        return 0;
}

static const struct model_field source_datacenter = { .name = "", .type = MODEL_STRING };
static const struct model_field source_mount = { "", MODEL_STRING, .check = model_check_absolute_path };

static const struct model_field source_disk_access_fields[] = {
        { "mode", MODEL_STRING, .choices = disk_access_modes, .default_json = "\"vddk\"" },
        { "datastore_mounts", MODEL_MAP, .item = &source_mount, .default_json = "{}" },
        { "uri_template", MODEL_STRING, .check = source_check_nbd_uri },
        {}
};

static const struct model_field source_properties_fields[] = {
        { "endpoint", MODEL_STRING, MODEL_REQUIRED, .check = model_check_url },
        { .name = "username", .type = MODEL_STRING, .flags = MODEL_REQUIRED },
        { .name = "password", .type = MODEL_STRING, .flags = MODEL_WRITE_ONLY },
        { "trusted_server_certificate_fingerprint", MODEL_STRING, .check = model_check_fingerprint,
          .default_json = "\"\"" },
        { "connectivity_status", MODEL_STRING, MODEL_READ_ONLY, .choices = connectivity_states,
          .default_json = "\"" MODEL_CONNECTIVITY_UNKNOWN "\"" },
        { "import_limit", MODEL_INT, .min = 1, .max = 1000000, .default_json = "50" },
        { "datacenters", MODEL_ARRAY, .item = &source_datacenter, .default_json = "[]" },
        { "disk_access", MODEL_OBJECT, .fields = source_disk_access_fields },
        {}
};

static const struct model_field source_fields[] = {
        { "name", MODEL_STRING, MODEL_REQUIRED | MODEL_IMMUTABLE, .check = model_check_name },
        { "type", MODEL_STRING, MODEL_REQUIRED | MODEL_IMMUTABLE, .choices = source_types },
        { "properties", MODEL_OBJECT, MODEL_REQUIRED, .fields = source_properties_fields },
        MODEL_FIELDS_TIMESTAMPS,
        {}
};

static int source_check(const json_t *obj, struct ferry_error *err)
{
        const json_t *access = json_object_get(json_object_get(obj, "properties"), "disk_access");
        const char *mode = json_string_value(json_object_get(access, "mode"));

        if (streq_ptr(mode, "datastore") && json_object_size(json_object_get(access, "datastore_mounts")) == 0)
                return ferry_error_set(err, -EINVAL,
                                       "Field 'properties.disk_access.datastore_mounts' must map at least one "
                                       "datastore to a mount point when the mode is 'datastore'");
        if (streq_ptr(mode, "nbd") && !json_object_get(access, "uri_template"))
                return ferry_error_set(err, -EINVAL,
                                       "Field 'properties.disk_access.uri_template' is required when the mode is 'nbd'");
        return 0;
}

const struct model_schema model_source_schema = {
        .name = "source",
        .fields = source_fields,
        .check = source_check,
};
