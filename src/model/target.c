/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An Incus target: where VMs go (DESIGN §3).  Its inventory is synced from
 * Incus and read-only here.
 */
#include <string.h>

#include "common/strbuf.h"
#include "common/trust-token.h"
#include "model/model.h"

static const char *const target_types[] = { "incus", NULL };
static const char *const connectivity_states[] = {
        "Unknown", "OK", "Cannot connect", "TLS error", "Confirm TLS fingerprint", "Authentication error",
        "Not registered", NULL
};

/* https://host[:port] like any URL, or unix:///absolute/path/to/unix.socket. */
static int target_check_endpoint(const char *path, const json_t *value, json_t **ret_value,
                                 struct ferry_error *err)
{
        const char *s = json_string_value(value);

        if (startswith(s, "unix://")) {
                if (s[strlen("unix://")] != '/')
                        return ferry_error_set(err, -EINVAL,
                                               "Field '%s' must name an absolute socket path: 'unix:///var/lib/incus/unix.socket'",
                                               path);
                return 0;
        }
        if (!startswith(s, "https://"))
                return ferry_error_set(err, -EINVAL, "Field '%s' must be an https:// URL or a unix:// socket, not '%s'",
                                       path, s);
        return model_check_url(path, value, ret_value, err);
}

/* An Incus trust token is checked when it arrives, not when ferryd first uses it. */
static int target_check_trust_token(const char *path, const json_t *value, json_t **ret_value,
                                    struct ferry_error *err)
{
        _cleanup_trust_token_ struct trust_token *t = NULL;
        int r;

        (void) ret_value;
        r = trust_token_decode(json_string_value(value), &t, err);
        if (r < 0)
                return ferry_error_prefix(err, "Field '%s'", path);
        return 0;
}

static const struct model_field target_project_name = { .type = MODEL_STRING };

static const struct model_field target_properties_fields[] = {
        { "endpoint", MODEL_STRING, MODEL_REQUIRED, .check = target_check_endpoint },
        { .name = "trust_token", .type = MODEL_STRING, .flags = MODEL_WRITE_ONLY, .check = target_check_trust_token },
        { "trusted_server_certificate_fingerprint", MODEL_STRING, .check = model_check_fingerprint,
          .default_json = "\"\"" },
        { "connectivity_status", MODEL_STRING, MODEL_READ_ONLY, .choices = connectivity_states,
          .default_json = "\"" MODEL_CONNECTIVITY_UNKNOWN "\"" },
        { "import_limit", MODEL_INT, .min = 1, .max = 1000000, .default_json = "50" },
        { "create_limit", MODEL_INT, .min = 1, .max = 1000000, .default_json = "10" },
        { "connection_timeout", MODEL_STRING, .check = model_check_duration, .default_json = "\"30s\"" },
        /* Set by registration: the projects a restricted certificate may use, [] when not restricted. */
        { "restricted_projects", MODEL_ARRAY, MODEL_READ_ONLY, .item = &target_project_name, .default_json = "[]" },
        {}
};

static const struct model_field target_fields[] = {
        { "name", MODEL_STRING, MODEL_REQUIRED | MODEL_IMMUTABLE, .check = model_check_name },
        { "type", MODEL_STRING, MODEL_REQUIRED | MODEL_IMMUTABLE, .choices = target_types },
        { "properties", MODEL_OBJECT, MODEL_REQUIRED, .fields = target_properties_fields },
        { "inventory", MODEL_OBJECT, MODEL_READ_ONLY, .default_json = "{}" },
        MODEL_FIELDS_TIMESTAMPS,
        {}
};

const struct model_schema model_target_schema = {
        .name = "target",
        .fields = target_fields,
};
