/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/yaml.h"
#include "target/incus/provision.h"

#define PROFILE_FILE_MAX (1024 * 1024)
/* Creating a profile, project or network is quick; an operation, if any, gets this long. */
#define ENSURE_TIMEOUT_S 60

static void names_free(char ***names)
{
        for (char **p = *names; p && *p; p++)
                free(*p);
        free(*names);
}

/* A config value as Incus stores it: a string; YAML's plain numbers and booleans as their text. */
static json_t *config_value(const json_t *v)
{
        char buf[32];

        if (json_is_string(v))
                return json_incref((json_t *) v);
        if (json_is_boolean(v))
                return json_string(json_is_true(v) ? "true" : "false");
        if (json_is_integer(v)) {
                snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                return json_string(buf);
        }
        return NULL;
}

/* {"k": "v"} from a YAML map; what names it for messages. */
static int string_map(const char *profile, const char *what, const json_t *in, json_t **ret, struct ferry_error *err)
{
        _cleanup_json_ json_t *out = json_object();
        const char *key;
        json_t *v;

        if (!out)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        if (in && !json_is_null(in) && !json_is_object(in))
                return ferry_error_set(err, -EINVAL, "Profile '%s': %s must be a map", profile, what);
        json_object_foreach((json_t *) in, key, v) {
                json_t *s = config_value(v);

                if (!s)
                        return ferry_error_set(err, -EINVAL, "Profile '%s': %s key '%s' is not a string", profile,
                                               what, key);
                if (json_object_set_new(out, key, s) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        *ret = TAKE_PTR(out);
        return 0;
}

int incus_profile_parse(const char *name, const char *yaml, size_t len, json_t **ret, struct ferry_error *err)
{
        static const char *const fields[] = { "name", "description", "config", "devices", NULL };
        _cleanup_json_ json_t *doc = NULL, *config = NULL, *devices = json_object();
        const json_t *description, *in_devices;
        const char *key;
        json_t *v;
        int r;

        if (!devices)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = yaml_parse_to_json(yaml, len, &doc, err);
        if (r < 0)
                return ferry_error_prefix(err, "Profile '%s'", name);
        if (json_is_null(doc)) {
                json_decref(doc);
                doc = json_object();
                if (!doc)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        if (!json_is_object(doc))
                return ferry_error_set(err, -EINVAL, "Profile '%s': not a map", name);
        json_object_foreach(doc, key, v) {
                bool known = false;

                for (const char *const *f = fields; *f && !known; f++)
                        known = streq(*f, key);
                if (!known)
                        return ferry_error_set(err, -EINVAL, "Profile '%s': unknown field '%s'", name, key);
        }
        v = json_object_get(doc, "name");
        if (v && !streq_ptr(json_string_value(v), name))
                return ferry_error_set(err, -EINVAL, "Profile '%s': its name field says '%s'", name,
                                       json_is_string(v) ? json_string_value(v) : "(not a string)");
        description = json_object_get(doc, "description");
        if (description && !json_is_string(description) && !json_is_null(description))
                return ferry_error_set(err, -EINVAL, "Profile '%s': description is not a string", name);

        r = string_map(name, "config", json_object_get(doc, "config"), &config, err);
        if (r < 0)
                return r;
        in_devices = json_object_get(doc, "devices");
        if (in_devices && !json_is_null(in_devices) && !json_is_object(in_devices))
                return ferry_error_set(err, -EINVAL, "Profile '%s': devices must be a map", name);
        json_object_foreach((json_t *) in_devices, key, v) {
                _cleanup_free_ char *what = strjoin("device '", key, "'", NULL);
                json_t *device = NULL;

                if (!what)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                r = string_map(name, what, v, &device, err);
                if (r < 0)
                        return r;
                if (!json_is_string(json_object_get(device, "type"))) {
                        json_decref(device);
                        return ferry_error_set(err, -EINVAL, "Profile '%s': device '%s' has no type", name, key);
                }
                if (json_object_set_new(devices, key, device) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }

        *ret = json_pack("{s:s, s:O, s:O}", "description", json_string_value(description) ?: "", "config", config,
                         "devices", devices);
        if (!*ret)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        return 0;
}

static int compare_names(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int incus_profiles_load(const char *dir, json_t **ret, struct ferry_error *err)
{
        _cleanup_json_ json_t *profiles = json_object();
        _cleanup_(names_free) char **names = NULL;
        size_t n = 0, alloc = 0;
        struct dirent *de;
        DIR *d;
        int r = 0;

        if (!profiles)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        d = opendir(dir);
        if (!d)
                return ferry_error_set(err, -errno, "Cannot open the profile directory '%s': %m", dir);
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);

                if (de->d_name[0] == '.' || len <= strlen(".yaml") || !endswith(de->d_name, ".yaml"))
                        continue;
                if (n + 2 > alloc) {
                        char **grown = realloc(names, (alloc = alloc ? alloc * 2 : 8) * sizeof(*names));

                        if (!grown) {
                                r = ferry_error_set(err, -ENOMEM, "Out of memory");
                                break;
                        }
                        names = grown;
                }
                names[n] = strndup(de->d_name, len - strlen(".yaml"));
                if (!names[n]) {
                        r = ferry_error_set(err, -ENOMEM, "Out of memory");
                        break;
                }
                names[++n] = NULL;
        }
        closedir(d);
        if (r < 0)
                return r;
        if (n > 1)
                qsort(names, n, sizeof(*names), compare_names);

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path = strjoin(dir, "/", names[i], ".yaml", NULL), *text = NULL;
                json_t *profile = NULL;
                size_t len;

                if (!path)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                r = fileio_read(path, PROFILE_FILE_MAX, &text, &len);
                if (r < 0) {
                        errno = -r;
                        return ferry_error_set(err, r, "Cannot read '%s': %m", path);
                }
                r = incus_profile_parse(names[i], text, len, &profile, err);
                if (r < 0)
                        return ferry_error_prefix(err, "'%s'", path);
                if (json_object_set_new(profiles, names[i], profile) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        *ret = TAKE_PTR(profiles);
        return 0;
}

static char *object_path(const char *collection, const char *name)
{
        _cleanup_free_ char *escaped = incus_escape(name);

        return escaped ? strjoin(collection, "/", escaped, NULL) : NULL;
}

/* Whether Incus's profile (or its missing parts) already is what ferry wants. */
static bool profile_matches(const json_t *current, const json_t *wanted)
{
        static const char *const parts[] = { "config", "devices" };
        const char *desc = json_string_value(json_object_get(current, "description")) ?: "";

        if (!streq(desc, json_string_value(json_object_get(wanted, "description")) ?: ""))
                return false;
        for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
                const json_t *have = json_object_get(current, parts[i]);
                const json_t *want = json_object_get(wanted, parts[i]);
                bool have_empty = !have || json_is_null(have) || json_object_size(have) == 0;

                if (have_empty ? json_object_size(want) != 0 : !json_equal(have, want))
                        return false;
        }
        return true;
}

int incus_profile_ensure(struct incus_client *c, const char *project, const char *name, const json_t *profile,
                         struct ferry_error *err)
{
        _cleanup_free_ char *path = object_path("/1.0/profiles", name);
        _cleanup_json_ json_t *body = NULL;
        struct incus_response resp = {};
        int r;

        if (!path)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = incus_call(c, &(struct incus_request) { .method = "GET", .path = path, .project = project }, &resp, err);
        if (r == -ENOENT) {
                ferry_error_clear(err);
                body = json_deep_copy(profile);
                if (!body || json_object_set_new(body, "name", json_string(name)) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                r = incus_call_wait(c,
                                    &(struct incus_request) { .method = "POST", .path = "/1.0/profiles",
                                                              .project = project, .body = body },
                                    ENSURE_TIMEOUT_S, NULL, NULL, err);
                if (r < 0)
                        return ferry_error_prefix(err, "Cannot create profile '%s'", name);
                return INCUS_ENSURE_CREATED;
        }
        if (r < 0)
                return ferry_error_prefix(err, "Cannot read profile '%s'", name);

        if (profile_matches(resp.metadata, profile)) {
                incus_response_done(&resp);
                return INCUS_ENSURE_UNCHANGED;
        }
        r = incus_call_wait(c,
                            &(struct incus_request) { .method = "PUT", .path = path, .project = project,
                                                      .body = profile, .if_match = resp.etag },
                            ENSURE_TIMEOUT_S, NULL, NULL, err);
        incus_response_done(&resp);
        if (r < 0)
                return ferry_error_prefix(err, "Cannot update profile '%s'", name);
        return INCUS_ENSURE_UPDATED;
}

int incus_profiles_ensure(struct incus_client *c, const char *project, const json_t *profiles,
                          struct ferry_error *err)
{
        int result = INCUS_ENSURE_UNCHANGED;
        const char *name;
        json_t *profile;

        json_object_foreach((json_t *) profiles, name, profile) {
                int r = incus_profile_ensure(c, project, name, profile, err);

                if (r < 0)
                        return r;
                if (r != INCUS_ENSURE_UNCHANGED)
                        result = INCUS_ENSURE_UPDATED;
        }
        return result;
}

int incus_project_ensure(struct incus_client *c, const char *name, const char *description,
                         struct ferry_error *err)
{
        _cleanup_free_ char *path = object_path("/1.0/projects", name);
        _cleanup_json_ json_t *current = NULL, *body = NULL;
        int r;

        if (!path)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = incus_get(c, path, NULL, &current, err);
        if (r >= 0)
                return INCUS_ENSURE_UNCHANGED;
        if (r != -ENOENT)
                return ferry_error_prefix(err, "Cannot read project '%s'", name);
        ferry_error_clear(err);

        body = json_pack("{s:s, s:s}", "name", name, "description", description ? description : "");
        if (!body)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = incus_call_wait(c, &(struct incus_request) { .method = "POST", .path = "/1.0/projects", .body = body },
                            ENSURE_TIMEOUT_S, NULL, NULL, err);
        if (r < 0)
                return ferry_error_prefix(err, "Cannot create project '%s'", name);
        return INCUS_ENSURE_CREATED;
}

int incus_bridge_ensure(struct incus_client *c, const char *project, const char *name, const json_t *config,
                        struct ferry_error *err)
{
        _cleanup_free_ char *path = object_path("/1.0/networks", name);
        _cleanup_json_ json_t *current = NULL, *body = NULL;
        const char *type;
        int r;

        if (!path)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = incus_get(c, path, project, &current, err);
        if (r >= 0) {
                type = json_string_value(json_object_get(current, "type")) ?: "";
                if (!streq(type, "bridge"))
                        return ferry_error_set(err, -EEXIST, "Network '%s' exists and is a '%s' network, not a bridge",
                                               name, type);
                return INCUS_ENSURE_UNCHANGED;
        }
        if (r != -ENOENT)
                return ferry_error_prefix(err, "Cannot read network '%s'", name);
        ferry_error_clear(err);

        body = json_pack("{s:s, s:s, s:O?, s:s}", "name", name, "type", "bridge", "config", config, "description",
                         "Created by ferry for a network mapping");
        if (!body)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = incus_call_wait(c,
                            &(struct incus_request) { .method = "POST", .path = "/1.0/networks", .project = project,
                                                      .body = body },
                            ENSURE_TIMEOUT_S, NULL, NULL, err);
        if (r < 0)
                return ferry_error_prefix(err, "Cannot create network '%s'", name);
        return INCUS_ENSURE_CREATED;
}

int incus_network_mapping_ensure(struct incus_client *c, const json_t *mapping, const json_t *bridge_config,
                                 struct ferry_error *err)
{
        const char *network = json_string_value(json_object_get(mapping, "network"));
        const char *nictype = json_string_value(json_object_get(mapping, "nictype")) ?: "managed";
        const char *project = json_string_value(json_object_get(mapping, "project"));
        int result = INCUS_ENSURE_UNCHANGED, r;

        if (!json_is_true(json_object_get(mapping, "create")))
                return INCUS_ENSURE_UNCHANGED;
        if (!network || !*network)
                return ferry_error_set(err, -EINVAL, "The network mapping names no network");

        if (project && *project) {
                r = incus_project_ensure(c, project, "Created by ferry for a network mapping", err);
                if (r < 0)
                        return r;
                result = r;
        }
        if (streq(nictype, "managed")) {
                r = incus_bridge_ensure(c, project && *project ? project : NULL, network, bridge_config, err);
                if (r < 0)
                        return r;
                if (r > result)
                        result = r;
        }
        return result;
}
