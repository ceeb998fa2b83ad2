/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "target/incus/inventory.h"
#include "target/incus/trust.h"

static const char *str_or_empty(const json_t *obj, const char *key)
{
        const char *s = json_string_value(json_object_get(obj, key));

        return s ? s : "";
}

/* Incus config values are strings: "true", "1", "yes", "on" are true. */
static bool config_true(const char *s)
{
        return s && (streq(s, "true") || streq(s, "1") || streq(s, "yes") || streq(s, "on"));
}

bool incus_network_type_vlan_capable(const char *type)
{
        static const char *const capable[] = { "bridge", "macvlan", "physical", "sriov" };

        for (size_t i = 0; type && i < ELEMENTSOF(capable); i++)
                if (streq(type, capable[i]))
                        return true;
        return false;
}

json_t *incus_inventory_project(const json_t *project)
{
        _cleanup_json_ json_t *out = NULL, *features = NULL, *restrictions = NULL;
        json_t *config = json_object_get(project, "config"), *value;
        const char *key;

        features = json_object();
        restrictions = json_object();
        if (!features || !restrictions)
                return NULL;
        json_object_foreach(config, key, value) {
                const char *s = json_string_value(value);

                if (!s)
                        continue;
                if (startswith(key, "features.")) {
                        if (json_object_set_new(features, key + strlen("features."), json_boolean(config_true(s))) < 0)
                                return NULL;
                } else if (startswith(key, "restricted")) {
                        if (json_object_set_new(restrictions, key, json_string(s)) < 0)
                                return NULL;
                }
        }

        out = json_pack("{s:s, s:s, s:O, s:O}", "name", str_or_empty(project, "name"), "description",
                        str_or_empty(project, "description"), "features", features, "restrictions", restrictions);
        return TAKE_PTR(out);
}

json_t *incus_inventory_network(const json_t *network, const char *project)
{
        json_t *config = json_object_get(network, "config");
        const char *type = str_or_empty(network, "type");
        const char *parent = json_string_value(json_object_get(config, "parent"));
        const char *vlan = json_string_value(json_object_get(config, "vlan"));

        return json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:b, s:s, s:s}", "name", str_or_empty(network, "name"),
                         "project", project, "type", type, "managed", json_is_true(json_object_get(network, "managed")),
                         "parent", parent ? parent : "", "vlan", vlan ? vlan : "", "vlan_capable",
                         incus_network_type_vlan_capable(type), "status", str_or_empty(network, "status"),
                         "description", str_or_empty(network, "description"));
}

json_t *incus_inventory_storage_pool(const json_t *pool, const json_t *resources)
{
        json_t *space = json_object_get(resources, "space");
        json_t *space_out = json_is_object(space)
                                    ? json_pack("{s:I, s:I}", "used",
                                                (json_int_t) json_integer_value(json_object_get(space, "used")),
                                                "total", (json_int_t) json_integer_value(json_object_get(space, "total")))
                                    : json_null();

        if (!space_out)
                return NULL;
        return json_pack("{s:s, s:s, s:s, s:o, s:s}", "name", str_or_empty(pool, "name"), "driver",
                         str_or_empty(pool, "driver"), "status", str_or_empty(pool, "status"), "space", space_out,
                         "description", str_or_empty(pool, "description"));
}

static json_t *string_array_copy(const json_t *a)
{
        json_t *out = json_array(), *v;
        size_t i;

        if (!out)
                return NULL;
        json_array_foreach(a, i, v)
                if (json_is_string(v) && json_array_append(out, v) < 0) {
                        json_decref(out);
                        return NULL;
                }
        return out;
}

json_t *incus_inventory_cluster_member(const json_t *member)
{
        json_t *groups = string_array_copy(json_object_get(member, "groups"));
        json_t *roles = string_array_copy(json_object_get(member, "roles"));

        if (!groups || !roles) {
                json_decref(groups);
                json_decref(roles);
                return NULL;
        }
        return json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:s}", "name", str_or_empty(member, "server_name"), "status",
                         str_or_empty(member, "status"), "message", str_or_empty(member, "message"), "groups", groups,
                         "failure_domain", str_or_empty(member, "failure_domain"), "roles", roles, "architecture",
                         str_or_empty(member, "architecture"));
}

static int oom(struct ferry_error *err)
{
        return ferry_error_set(err, -ENOMEM, "Out of memory");
}

/* GET path?recursion=1 in project: a list of objects. */
static int get_list(struct incus_client *c, const char *path, const char *project, json_t **ret,
                    struct ferry_error *err)
{
        _cleanup_free_ char *full = strjoin(path, "?recursion=1", NULL);
        json_t *list = NULL;
        int r;

        if (!full)
                return oom(err);
        r = incus_get(c, full, project, &list, err);
        if (r < 0)
                return ferry_error_prefix(err, "Cannot list %s", path + strlen("/1.0/"));
        if (!json_is_array(list)) {
                json_decref(list);
                return ferry_error_set(err, -EBADMSG, "Unexpected answer from Incus: %s is not a list", path);
        }
        *ret = list;
        return 0;
}

static int read_projects(struct incus_client *c, json_t *inv, json_t **ret_raw, struct ferry_error *err)
{
        _cleanup_json_ json_t *list = NULL, *out = json_array();
        json_t *p;
        size_t i;
        int r;

        if (!out)
                return oom(err);
        r = get_list(c, "/1.0/projects", NULL, &list, err);
        if (r < 0)
                return r;
        json_array_foreach(list, i, p)
                if (json_array_append_new(out, incus_inventory_project(p)) < 0)
                        return oom(err);
        if (json_object_set(inv, "projects", out) < 0)
                return oom(err);
        *ret_raw = TAKE_PTR(list);
        return 0;
}

/*
 * The projects that have their own objects of a kind (features.<feature>),
 * and "default" (which always does) if it is visible.
 */
static bool project_has_own(const json_t *project, const char *feature)
{
        const char *name = str_or_empty(project, "name");
        _cleanup_free_ char *key = strjoin("features.", feature, NULL);

        if (streq(name, "default"))
                return true;
        return key && config_true(json_string_value(json_object_get(json_object_get(project, "config"), key)));
}

static int read_per_project(struct incus_client *c, const json_t *projects, const char *feature, const char *path,
                            json_t *out, json_t *(*convert)(const json_t *obj, const char *project),
                            struct ferry_error *err)
{
        json_t *project;
        size_t i;
        int r;

        json_array_foreach(projects, i, project) {
                _cleanup_json_ json_t *list = NULL;
                const char *name = str_or_empty(project, "name");
                json_t *obj;
                size_t j;

                if (!project_has_own(project, feature))
                        continue;
                r = get_list(c, path, name, &list, err);
                if (r == -EACCES)
                        continue;       /* a restricted certificate may not see this project's */
                if (r < 0)
                        return r;
                json_array_foreach(list, j, obj)
                        if (json_array_append_new(out, convert(obj, name)) < 0)
                                return oom(err);
        }
        return 0;
}

static json_t *convert_profile(const json_t *profile, const char *project)
{
        return json_pack("{s:s, s:s, s:s}", "name", str_or_empty(profile, "name"), "project", project, "description",
                         str_or_empty(profile, "description"));
}

/* The pool's entry, with its space when Incus tells it. */
static int append_pool(struct incus_client *c, const json_t *pool, json_t *out, struct ferry_error *err)
{
        _cleanup_free_ char *escaped = incus_escape(str_or_empty(pool, "name")), *path = NULL;
        _cleanup_json_ json_t *resources = NULL;
        struct ferry_error ignored = {};

        if (!escaped || !(path = strjoin("/1.0/storage-pools/", escaped, "/resources", NULL)))
                return oom(err);
        /* Space is a nicety: a pool whose usage cannot be read is
         * still listed, with "space": null. */
        (void) incus_get(c, path, NULL, &resources, &ignored);
        return json_array_append_new(out, incus_inventory_storage_pool(pool, resources)) < 0 ? oom(err) : 0;
}

/*
 * Incus 6.0 refuses to list storage pools to a restricted certificate
 * ("Certificate is restricted") but shows each pool its projects use: find
 * them in the disk devices of the visible projects' profiles.
 */
static int read_storage_pools_restricted(struct incus_client *c, const json_t *projects, json_t *out,
                                         struct ferry_error *err)
{
        _cleanup_json_ json_t *names = json_object();
        const char *name;
        json_t *project, *v;
        size_t i;
        int r;

        if (!names)
                return oom(err);
        json_array_foreach(projects, i, project) {
                _cleanup_json_ json_t *profiles = NULL;
                json_t *profile;
                size_t j;

                r = get_list(c, "/1.0/profiles", str_or_empty(project, "name"), &profiles, err);
                if (r == -EACCES)
                        continue;
                if (r < 0)
                        return r;
                json_array_foreach(profiles, j, profile) {
                        const char *key;
                        json_t *device;

                        json_object_foreach(json_object_get(profile, "devices"), key, device) {
                                const char *pool = json_string_value(json_object_get(device, "pool"));

                                if (streq_ptr(json_string_value(json_object_get(device, "type")), "disk") && pool &&
                                    *pool && json_object_set_new(names, pool, json_true()) < 0)
                                        return oom(err);
                        }
                }
        }
        json_object_foreach(names, name, v) {
                _cleanup_free_ char *escaped = incus_escape(name), *path = NULL;
                _cleanup_json_ json_t *pool = NULL;

                if (!escaped || !(path = strjoin("/1.0/storage-pools/", escaped, NULL)))
                        return oom(err);
                r = incus_get(c, path, NULL, &pool, err);
                if (r == -ENOENT || r == -EACCES)
                        continue;
                if (r < 0)
                        return ferry_error_prefix(err, "Cannot read storage pool '%s'", name);
                r = append_pool(c, pool, out, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int read_storage_pools(struct incus_client *c, bool restricted, const json_t *projects, json_t *inv,
                              struct ferry_error *err)
{
        _cleanup_json_ json_t *list = NULL, *out = json_array();
        json_t *pool;
        size_t i;
        int r;

        if (!out)
                return oom(err);
        r = get_list(c, "/1.0/storage-pools", NULL, &list, err);
        if (r < 0 && restricted) {
                ferry_error_clear(err);
                r = read_storage_pools_restricted(c, projects, out, err);
                if (r < 0)
                        return r;
        } else if (r < 0)
                return r;
        json_array_foreach(list, i, pool) {
                r = append_pool(c, pool, out, err);
                if (r < 0)
                        return r;
        }
        return json_object_set(inv, "storage_pools", out) < 0 ? oom(err) : 0;
}

static int read_cluster_members(struct incus_client *c, bool clustered, json_t *inv, struct ferry_error *err)
{
        _cleanup_json_ json_t *list = NULL, *out = json_array();
        json_t *member;
        size_t i;
        int r;

        if (!out)
                return oom(err);
        if (clustered) {
                r = get_list(c, "/1.0/cluster/members", NULL, &list, err);
                if (r < 0 && r != -EACCES)
                        return r;
                json_array_foreach(list, i, member)
                        if (json_array_append_new(out, incus_inventory_cluster_member(member)) < 0)
                                return oom(err);
        }
        return json_object_set(inv, "cluster_members", out) < 0 ? oom(err) : 0;
}

static int compare_by_project_and_name(const void *a, const void *b)
{
        const json_t *x = *(const json_t *const *) a, *y = *(const json_t *const *) b;
        int r = strcmp(str_or_empty(x, "project"), str_or_empty(y, "project"));

        return r ? r : strcmp(str_or_empty(x, "name"), str_or_empty(y, "name"));
}

/* Sort a JSON array of objects in place by (project, name). */
static int sort_list(json_t *a)
{
        size_t n = json_array_size(a);
        _cleanup_free_ json_t **items = NULL;

        if (n < 2)
                return 0;
        items = calloc(n, sizeof(*items));
        if (!items)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                items[i] = json_incref(json_array_get(a, i));
        qsort(items, n, sizeof(*items), compare_by_project_and_name);
        json_array_clear(a);
        for (size_t i = 0; i < n; i++)
                if (json_array_append_new(a, items[i]) < 0) {
                        for (size_t j = i + 1; j < n; j++)
                                json_decref(items[j]);
                        return -ENOMEM;
                }
        return 0;
}

int incus_inventory_read(struct incus_client *c, json_t **ret, struct ferry_error *err)
{
        _cleanup_(incus_trust_status_done) struct incus_trust_status status = {};
        _cleanup_json_ json_t *inv = json_object(), *projects = NULL, *networks = json_array(),
                              *profiles = json_array(), *server = NULL;
        int r;

        if (!inv || !networks || !profiles)
                return oom(err);

        r = incus_trust_get_status(c, &status, err);
        if (r < 0)
                return r;
        if (!status.trusted)
                return ferry_error_set(err, -EACCES, "Incus does not trust ferry's certificate");
        server = json_pack("{s:s, s:s, s:b, s:b}", "version", status.server_version ? status.server_version : "",
                           "name", status.server_name ? status.server_name : "", "clustered", status.clustered,
                           "restricted", status.restricted);
        if (!server || json_object_set(inv, "server", server) < 0)
                return oom(err);

        r = read_projects(c, inv, &projects, err);
        if (r < 0)
                return r;
        r = read_per_project(c, projects, "networks", "/1.0/networks", networks, incus_inventory_network, err);
        if (r < 0)
                return r;
        r = read_per_project(c, projects, "profiles", "/1.0/profiles", profiles, convert_profile, err);
        if (r < 0)
                return r;
        r = read_storage_pools(c, status.restricted, projects, inv, err);
        if (r < 0)
                return r;
        r = read_cluster_members(c, status.clustered, inv, err);
        if (r < 0)
                return r;

        if (sort_list(json_object_get(inv, "projects")) < 0 || sort_list(networks) < 0 || sort_list(profiles) < 0 ||
            sort_list(json_object_get(inv, "storage_pools")) < 0 || sort_list(json_object_get(inv, "cluster_members")) < 0 ||
            json_object_set(inv, "networks", networks) < 0 || json_object_set(inv, "profiles", profiles) < 0)
                return oom(err);

        *ret = TAKE_PTR(inv);
        return 0;
}
