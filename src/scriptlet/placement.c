/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "model/model.h"
#include "scriptlet/placement.h"

/* Bounds of what set_config() may collect. */
#define CONFIG_KEYS_MAX 256
#define CONFIG_VALUE_MAX (64 * 1024)

static const char *const nictypes[] = { "managed", "bridged", "macvlan", "physical", NULL };

struct placement_ctx {
        const struct placement_input *in;
        const json_t *instance;         /* effective */
        json_t *intent;                 /* what the script asked for */
        json_t *log;
};

/* --- small helpers --------------------------------------------------------------------- */

static const char *str(const json_t *obj, const char *key)
{
        const char *s = json_string_value(json_object_get(obj, key));

        return s ? s : "";
}

static const json_t *find_named(const json_t *array, const char *field, const char *name)
{
        const json_t *item;
        size_t i;

        json_array_foreach(array, i, item)
                if (streq(str(item, field), name))
                        return item;
        return NULL;
}

/* "'a', 'b'" of the field of each element (that has project, if given); "none" for none. */
static char *name_list(const json_t *array, const char *field, const char *project)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        const json_t *item;
        size_t i;

        json_array_foreach(array, i, item) {
                if (project && !streq(str(item, "project"), project))
                        continue;
                if (strbuf_appendf(&sb, "%s'%s'", sb.len ? ", " : "", str(item, field)) < 0)
                        return NULL;
        }
        if (sb.len == 0 && strbuf_append(&sb, "none") < 0)
                return NULL;
        return strbuf_steal(&sb);
}

static int oom(struct ferry_error *err)
{
        return ferry_error_set(err, -ENOMEM, "Out of memory");
}

static int arg_string(const json_t *args, size_t i, const char *what, bool required, const char **ret,
                      struct ferry_error *err)
{
        const json_t *v = json_array_get(args, i);

        if (!v || json_is_null(v)) {
                if (required)
                        return ferry_error_set(err, -EINVAL, "%s is missing", what);
                return 0;
        }
        if (!json_is_string(v))
                return ferry_error_set(err, -EINVAL, "%s must be a string", what);
        *ret = json_string_value(v);
        return 1;
}

static int arg_name(const json_t *args, size_t i, const char *what, const char **ret, struct ferry_error *err)
{
        int r = arg_string(args, i, what, true, ret, err);

        if (r < 0)
                return r;
        if (!model_name_is_valid(*ret))
                return ferry_error_set(err, -EINVAL, "%s '%s' is not a valid name", what, *ret);
        return 0;
}

static int intent_set(struct placement_ctx *c, const char *key, json_t *value, struct ferry_error *err)
{
        if (!value || json_object_set_new(c->intent, key, value) < 0)
                return oom(err);
        return 0;
}

/* The intent's sub-object key, created on first use. */
static json_t *intent_object(struct placement_ctx *c, const char *key)
{
        json_t *o = json_object_get(c->intent, key);

        if (o)
                return o;
        o = json_object();
        if (!o || json_object_set_new(c->intent, key, o) < 0)
                return NULL;
        return o;
}

/* "10", "10,20": each 1-4094.  "" is fine too (untagged). */
static bool vlan_is_valid(const char *s)
{
        if (!*s)
                return true;
        for (const char *p = s;;) {
                char *end;
                long id;

                if (*p < '0' || *p > '9')
                        return false;
                id = strtol(p, &end, 10);
                if (id < 1 || id > 4094)
                        return false;
                if (*end == '\0')
                        return true;
                if (*end != ',')
                        return false;
                p = end + 1;
        }
}

/* --- builtins -------------------------------------------------------------------------- */

static int builtin_set_named(struct placement_ctx *c, const json_t *args, const char *key, const char *what,
                             struct ferry_error *err)
{
        const char *name;
        int r;

        r = arg_name(args, 0, what, &name, err);
        if (r < 0)
                return r;
        return intent_set(c, key, json_string(name), err);
}

static int builtin_set_target(struct scriptlet *s, void *userdata, const json_t *args, json_t **ret,
                              struct ferry_error *err)
{
        (void) s, (void) ret;
        return builtin_set_named(userdata, args, "target", "Target", err);
}

static int builtin_set_project(struct scriptlet *s, void *userdata, const json_t *args, json_t **ret,
                               struct ferry_error *err)
{
        (void) s, (void) ret;
        return builtin_set_named(userdata, args, "target_project", "Project", err);
}

static int builtin_set_member(struct scriptlet *s, void *userdata, const json_t *args, json_t **ret,
                              struct ferry_error *err)
{
        (void) s, (void) ret;
        return builtin_set_named(userdata, args, "member", "Cluster member", err);
}

static const json_t *instance_disk(const json_t *instance, const char *name)
{
        return find_named(json_object_get(instance, "disks"), "name", name);
}

static int builtin_set_pool(struct scriptlet *s, void *userdata, const json_t *args, json_t **ret,
                            struct ferry_error *err)
{
        struct placement_ctx *c = userdata;
        const char *disk, *pool;
        json_t *disks;
        int r;

        (void) s, (void) ret;
        r = arg_string(args, 0, "Disk name", true, &disk, err);
        if (r < 0)
                return r;
        r = arg_name(args, 1, "Storage pool", &pool, err);
        if (r < 0)
                return r;
        if (streq(disk, "*"))
                return intent_set(c, "storage_pool", json_string(pool), err);
        if (!instance_disk(c->instance, disk)) {
                _cleanup_free_ char *names = name_list(json_object_get(c->instance, "disks"), "name", NULL);

                return ferry_error_set(err, -EINVAL, "Instance '%s' has no disk '%s' (its disks: %s; '*' means all)",
                                       str(c->instance, "name"), disk, names ? names : "?");
        }
        disks = intent_object(c, "disks");
        if (!disks || json_object_set_new(disks, disk, json_string(pool)) < 0)
                return oom(err);
        return 0;
}

static const json_t *instance_nic(const json_t *instance, const char *hwaddr)
{
        const json_t *nic;
        size_t i;

        json_array_foreach(json_object_get(instance, "nics"), i, nic)
                if (strcasecmp(str(nic, "hardware_address"), hwaddr) == 0)
                        return nic;
        return NULL;
}

static int builtin_set_network(struct scriptlet *s, void *userdata, const json_t *args, json_t **ret,
                               struct ferry_error *err)
{
        struct placement_ctx *c = userdata;
        const char *hwaddr, *network, *nictype = "managed", *vlan = "";
        const json_t *nic, *v;
        char vlan_buf[32];
        json_t *nics;
        int r;

        (void) s, (void) ret;
        r = arg_string(args, 0, "Hardware address", true, &hwaddr, err);
        if (r < 0)
                return r;
        r = arg_name(args, 1, "Network", &network, err);
        if (r < 0)
                return r;
        r = arg_string(args, 2, "NIC type", false, &nictype, err);
        if (r < 0)
                return r;
        if (string_table_lookup(nictypes, ELEMENTSOF(nictypes) - 1, nictype) < 0)
                return ferry_error_set(err, -EINVAL,
                                       "NIC type '%s' is not one of 'managed', 'bridged', 'macvlan', 'physical'",
                                       nictype);
        v = json_array_get(args, 3);
        if (json_is_integer(v)) {
                snprintf(vlan_buf, sizeof(vlan_buf), "%lld", (long long) json_integer_value(v));
                vlan = vlan_buf;
        } else {
                r = arg_string(args, 3, "VLAN", false, &vlan, err);
                if (r < 0)
                        return ferry_error_set(err, -EINVAL, "VLAN must be a number or a string like '10,20'");
        }
        if (!vlan_is_valid(vlan))
                return ferry_error_set(err, -EINVAL,
                                       "VLAN '%s' is not a VLAN id from 1 to 4094 or a comma-separated list of them",
                                       vlan);

        nic = instance_nic(c->instance, hwaddr);
        if (!nic) {
                _cleanup_free_ char *names = name_list(json_object_get(c->instance, "nics"), "hardware_address", NULL);

                return ferry_error_set(err, -EINVAL, "Instance '%s' has no NIC '%s' (its NICs: %s)",
                                       str(c->instance, "name"), hwaddr, names ? names : "?");
        }
        nics = intent_object(c, "nics");
        if (!nics || json_object_set_new(nics, str(nic, "hardware_address"),
                                         json_pack("{s:s, s:s, s:s}", "network", network, "nictype", nictype,
                                                   "vlan", vlan)) < 0)
                return oom(err);
        return 0;
}

static int builtin_set_profiles(struct scriptlet *s, void *userdata, const json_t *args, json_t **ret,
                                struct ferry_error *err)
{
        struct placement_ctx *c = userdata;
        const json_t *list = json_array_get(args, 0), *p;
        size_t i;

        (void) s, (void) ret;
        if (json_is_object(list) && json_object_size(list) == 0)
                return intent_set(c, "profiles", json_array(), err);   /* {} is an empty list too */
        if (!json_is_array(list))
                return ferry_error_set(err, -EINVAL, "Profiles must be a list of names, like {'default', 'vm'}");
        if (json_array_size(list) > 100)
                return ferry_error_set(err, -EINVAL, "At most 100 profiles, not %zu", json_array_size(list));
        json_array_foreach(list, i, p)
                if (!json_is_string(p) || !model_name_is_valid(json_string_value(p)))
                        return ferry_error_set(err, -EINVAL, "Profile %zu is not a valid name", i + 1);
        return intent_set(c, "profiles", json_deep_copy(list), err);
}

bool placement_config_key_allowed(const char *key)
{
        static const char *const prefixes[] = { "user.", "limits.", "snapshots." };
        static const char *const keys[] = { "boot.autostart", "boot.autostart.delay", "boot.autostart.priority",
                                            "boot.host_shutdown_timeout", "boot.stop.priority", "cluster.evacuate" };

        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
                if (startswith(key, prefixes[i]) && key[strlen(prefixes[i])])
                        return true;
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (streq(key, keys[i]))
                        return true;
        return false;
}

static int builtin_set_config(struct scriptlet *s, void *userdata, const json_t *args, json_t **ret,
                              struct ferry_error *err)
{
        struct placement_ctx *c = userdata;
        const json_t *v = json_array_get(args, 1);
        _cleanup_free_ char *text = NULL;
        const char *key;
        json_t *config;
        int r;

        (void) s, (void) ret;
        r = arg_string(args, 0, "Config key", true, &key, err);
        if (r < 0)
                return r;
        if (!placement_config_key_allowed(key))
                return ferry_error_set(err, -EPERM,
                                       "Config key '%s' is not one a scriptlet may set: use user.*, limits.*, "
                                       "snapshots.*, boot.autostart*, boot.host_shutdown_timeout, "
                                       "boot.stop.priority or cluster.evacuate",
                                       key);
        if (json_is_string(v))
                text = strdup(json_string_value(v));
        else if (json_is_integer(v) || json_is_real(v) || json_is_boolean(v))
                text = json_dumps(v, JSON_ENCODE_ANY);
        else
                return ferry_error_set(err, -EINVAL, "The value of '%s' must be a string, number or boolean", key);
        if (!text)
                return oom(err);
        if (strlen(text) > CONFIG_VALUE_MAX)
                return ferry_error_set(err, -E2BIG, "The value of '%s' is longer than %d bytes", key, CONFIG_VALUE_MAX);

        config = intent_object(c, "config");
        if (!config)
                return oom(err);
        if (!json_object_get(config, key) && json_object_size(config) >= CONFIG_KEYS_MAX)
                return ferry_error_set(err, -E2BIG, "At most %d config keys", CONFIG_KEYS_MAX);
        if (json_object_set_new(config, key, json_string(text)) < 0)
                return oom(err);
        return 0;
}

static int builtin_fail(struct scriptlet *s, void *userdata, const json_t *args, json_t **ret,
                        struct ferry_error *err)
{
        const json_t *v = json_array_get(args, 0);
        char reason[FERRY_ERROR_MESSAGE_MAX];

        (void) userdata, (void) ret;
        snprintf(reason, sizeof(reason), "%s",
                 json_is_string(v) && json_string_length(v) ? json_string_value(v) : "The scriptlet called fail()");
        utf8_trim_partial(reason);
        scriptlet_stop(s, reason);
        return ferry_error_set(err, -ECANCELED, "%s", reason);
}

static int builtin_targets(struct scriptlet *s, void *userdata, const json_t *args, json_t **ret,
                           struct ferry_error *err)
{
        struct placement_ctx *c = userdata;
        _cleanup_json_ json_t *out = json_object();
        const json_t *t;
        size_t i;

        (void) s, (void) args;
        if (!out)
                return oom(err);
        json_array_foreach(c->in->targets, i, t) {
                json_t *inv = json_deep_copy(json_object_get(t, "inventory"));

                if (!inv)
                        inv = json_object();
                if (!inv || json_object_set_new(inv, "name", json_string(str(t, "name"))) < 0 ||
                    json_object_set_new(out, str(t, "name"), inv) < 0)
                        return oom(err);
        }
        *ret = TAKE_PTR(out);
        return 0;
}

static const struct scriptlet_builtin placement_builtins[] = {
        { "set_target", builtin_set_target },
        { "set_project", builtin_set_project },
        { "set_member", builtin_set_member },
        { "set_pool", builtin_set_pool },
        { "set_network", builtin_set_network },
        { "set_profiles", builtin_set_profiles },
        { "set_config", builtin_set_config },
        { "fail", builtin_fail },
        { "targets", builtin_targets },
        {}
};

/* --- the script's view ----------------------------------------------------------------- */

static const json_t *source_network(const struct placement_input *in, const char *uuid)
{
        return find_named(in->networks, "uuid", uuid);
}

static json_t *script_instance(const struct placement_input *in)
{
        _cleanup_json_ json_t *view = model_instance_effective(in->instance);
        json_t *synced, *nic;
        size_t i;

        if (!view)
                return NULL;
        synced = json_deep_copy(in->instance);
        if (!synced)
                return NULL;
        json_object_del(synced, "overrides");
        if (json_object_set_new(view, "synced", synced) < 0)
                return NULL;

        json_array_foreach(json_object_get(view, "nics"), i, nic) {
                const json_t *net = source_network(in, str(nic, "network"));

                if (!net)
                        continue;
                if (json_object_set_new(nic, "network_name", json_string(str(net, "name"))) < 0 ||
                    json_object_set_new(nic, "network_vlan", json_string(str(net, "vlan"))) < 0 ||
                    json_object_set_new(nic, "network_type", json_string(str(net, "type"))) < 0)
                        return NULL;
        }
        return TAKE_PTR(view);
}

static void collect_log(enum log_level level, const char *message, void *userdata)
{
        struct placement_ctx *c = userdata;
        static const char *const names[] = { "error", "warning", "info", "debug" };

        if (c->log)
                (void) json_array_append_new(c->log, json_pack("{s:s, s:s}", "level",
                                                               level >= 0 && level < 4 ? names[level] : "info",
                                                               "message", message));
}

static int run_script(struct placement_ctx *c, const char *source, const struct scriptlet_options *limits,
                      struct ferry_error *err)
{
        _cleanup_scriptlet_ struct scriptlet *s = NULL;
        _cleanup_json_ json_t *view = NULL;
        struct scriptlet_options o = limits ? *limits : (struct scriptlet_options) {};
        const json_t *args[2];
        int r;

        o.name = str(c->in->batch, "name");
        o.log = collect_log;
        o.log_userdata = c;

        view = script_instance(c->in);
        if (!view)
                return oom(err);
        c->instance = view;

        r = scriptlet_new(&o, &s, err);
        if (r < 0)
                return r;
        r = scriptlet_add_builtins(s, NULL, placement_builtins, c, err);
        if (r < 0)
                return r;
        r = scriptlet_load(s, source, strlen(source), err);
        if (r == -ECANCELED)
                return PLACEMENT_BLOCKED;
        if (r < 0)
                return r;
        args[0] = view;
        args[1] = c->in->batch;
        r = scriptlet_call(s, "placement", args, 2, NULL, err);
        c->instance = c->in->instance;
        if (r == -ECANCELED)
                return PLACEMENT_BLOCKED;
        return r;
}

/* --- merge and validation -------------------------------------------------------------- */

struct choice {
        const char *value;
        const char *origin;     /* "the scriptlet", "the batch defaults", ... */
};

static struct choice choose(const json_t *intent, const char *key, const json_t *defaults, const char *dkey,
                            const char *fallback)
{
        const char *v = json_string_value(json_object_get(intent, key));

        if (v)
                return (struct choice) { v, "the scriptlet" };
        v = json_string_value(json_object_get(defaults, dkey));
        if (v && *v)
                return (struct choice) { v, "the batch defaults" };
        return (struct choice) { fallback, "ferry's default" };
}

/* The project whose networks or profiles a project uses (features.networks/profiles). */
static const char *scope_project(const json_t *project, const char *feature)
{
        if (json_is_true(json_object_get(json_object_get(project, "features"), feature)))
                return str(project, "name");
        return "default";
}

static const json_t *find_network(const json_t *inventory, const char *name, const char *project)
{
        const json_t *n, *any = NULL;
        size_t i;

        json_array_foreach(json_object_get(inventory, "networks"), i, n) {
                if (!streq(str(n, "name"), name))
                        continue;
                if (streq(str(n, "project"), project))
                        return n;
                /* Host interfaces are not in any project. */
                if (!json_is_true(json_object_get(n, "managed")) && !any)
                        any = n;
        }
        return any;
}

static const char *network_kind(const json_t *n, char *buf, size_t size)
{
        snprintf(buf, size, "%s %s %s", json_is_true(json_object_get(n, "managed")) ? "a managed" : "an unmanaged",
                 str(n, "type"), json_is_true(json_object_get(n, "managed")) ? "network" : "interface");
        return buf;
}

static int check_nic(const char *target, const json_t *inventory, const char *net_project, const json_t *nic,
                     const char *origin, struct ferry_error *err)
{
        const char *hw = str(nic, "hardware_address"), *source = str(nic, "source_network");
        const char *network = str(nic, "network"), *nictype = str(nic, "nictype"), *vlan = str(nic, "vlan");
        const json_t *n = find_network(inventory, network, net_project);
        bool managed;
        char kind[96];

        if (!n) {
                _cleanup_free_ char *names = name_list(json_object_get(inventory, "networks"), "name", net_project);

                return ferry_error_set(err, -EINVAL,
                                       "NIC %s (source network '%s'): network '%s' (from %s) is not on target '%s' "
                                       "in project '%s', which has networks %s",
                                       hw, source, network, origin, target, net_project, names ? names : "?");
        }
        managed = json_is_true(json_object_get(n, "managed"));
        network_kind(n, kind, sizeof(kind));

        if (streq(nictype, "managed") && !managed)
                return ferry_error_set(err, -EINVAL,
                                       "NIC %s (source network '%s'): %s wants a managed NIC on '%s', but on target "
                                       "'%s' '%s' is %s: use nictype 'bridged', 'macvlan' or 'physical'",
                                       hw, source, origin, network, target, network, kind);
        if (streq(nictype, "bridged") && (managed || !streq(str(n, "type"), "bridge")))
                return ferry_error_set(err, -EINVAL,
                                       "NIC %s (source network '%s'): %s wants a bridged NIC on '%s', but on target "
                                       "'%s' '%s' is %s: bridged NICs need an unmanaged bridge%s",
                                       hw, source, origin, network, target, network, kind,
                                       managed ? " (use nictype 'managed')" : "");
        if ((streq(nictype, "macvlan") || streq(nictype, "physical")) && managed)
                return ferry_error_set(err, -EINVAL,
                                       "NIC %s (source network '%s'): %s wants a %s NIC on '%s', but on target '%s' "
                                       "'%s' is %s: use nictype 'managed'",
                                       hw, source, origin, nictype, network, target, network, kind);
        if (*vlan && !json_is_true(json_object_get(n, "vlan_capable")))
                return ferry_error_set(err, -EINVAL,
                                       "NIC %s (source network '%s'): %s wants VLAN '%s' on '%s', but on target '%s' "
                                       "'%s' is %s that cannot carry VLANs",
                                       hw, source, origin, vlan, network, target, network, kind);
        if (strchr(vlan, ',') && (streq(nictype, "macvlan") || streq(nictype, "physical")))
                return ferry_error_set(err, -EINVAL,
                                       "NIC %s (source network '%s'): %s wants tagged VLANs '%s' on a %s NIC, which "
                                       "carries one VLAN: use nictype 'bridged' or 'managed'",
                                       hw, source, origin, vlan, nictype);
        return 0;
}

/* The NIC as the scriptlet set it, else as its source network's mapping for target says. */
static int build_nic(struct placement_ctx *c, const char *target, const json_t *nic, json_t **ret,
                     const char **ret_origin, struct ferry_error *err)
{
        const char *hw = str(nic, "hardware_address");
        const json_t *net = source_network(c->in, str(nic, "network"));
        const char *source = net ? str(net, "name") : str(nic, "network");
        const json_t *set = NULL, *mappings, *m;
        const char *key;
        json_t *v;

        json_object_foreach(json_object_get(c->intent, "nics"), key, v)
                if (strcasecmp(key, hw) == 0)
                        set = v;
        if (set) {
                *ret = json_pack("{s:s, s:s, s:s, s:s, s:s}", "hardware_address", hw, "source_network", source,
                                 "network", str(set, "network"), "nictype", str(set, "nictype"), "vlan",
                                 str(set, "vlan"));
                *ret_origin = "the scriptlet";
                return *ret ? 0 : oom(err);
        }

        if (!net)
                return ferry_error_set(err, -EINVAL,
                                       "NIC %s of instance '%s' is on a network ferry does not know ('%s') and the "
                                       "scriptlet set none for it",
                                       hw, str(c->in->instance, "name"), str(nic, "network"));
        mappings = json_object_get(net, "mappings");
        m = json_object_get(mappings, target);
        *ret_origin = "the network mapping";
        if (!m) {
                m = json_object_get(mappings, "*");
                *ret_origin = "the network mapping for '*'";
        }
        if (!m || !*str(m, "network"))
                return ferry_error_set(err, -EINVAL,
                                       "NIC %s of instance '%s': source network '%s' has no mapping with a network "
                                       "for target '%s' and the scriptlet set none",
                                       hw, str(c->in->instance, "name"), source, target);
        *ret = json_pack("{s:s, s:s, s:s, s:s, s:s}", "hardware_address", hw, "source_network", source, "network",
                         str(m, "network"), "nictype", *str(m, "nictype") ? str(m, "nictype") : "managed", "vlan",
                         str(m, "vlan"));
        if (*ret && *str(m, "project") && json_object_set_new(*ret, "project", json_string(str(m, "project"))) < 0)
                return oom(err);
        return *ret ? 0 : oom(err);
}

static int check_pool(const char *target, const json_t *inventory, const char *pool, const char *disk,
                      const char *origin, struct ferry_error *err)
{
        _cleanup_free_ char *names = NULL;
        const json_t *pools = json_object_get(inventory, "storage_pools");

        if (find_named(pools, "name", pool))
                return 0;
        names = name_list(pools, "name", NULL);
        if (disk)
                return ferry_error_set(err, -EINVAL,
                                       "Storage pool '%s' (for disk '%s', from %s) is not on target '%s', which has "
                                       "pools %s",
                                       pool, disk, origin, target, names ? names : "?");
        return ferry_error_set(err, -EINVAL, "Storage pool '%s' (from %s) is not on target '%s', which has pools %s",
                               pool, origin, target, names ? names : "?");
}

static int check_member(const char *target, const json_t *inventory, struct choice member, struct ferry_error *err)
{
        const json_t *members = json_object_get(inventory, "cluster_members"), *m;
        _cleanup_free_ char *names = NULL;

        if (json_array_size(members) == 0)
                return ferry_error_set(err, -EINVAL,
                                       "Cluster member '%s' (from %s): target '%s' is a single server, not a cluster",
                                       member.value, member.origin, target);
        m = find_named(members, "name", member.value);
        if (!m) {
                names = name_list(members, "name", NULL);
                return ferry_error_set(err, -EINVAL,
                                       "Cluster member '%s' (from %s) is not in target '%s', whose members are %s",
                                       member.value, member.origin, target, names ? names : "?");
        }
        if (!streq(str(m, "status"), "Online"))
                return ferry_error_set(err, -EINVAL, "Cluster member '%s' (from %s) of target '%s' is '%s', not 'Online'",
                                       member.value, member.origin, target, str(m, "status"));
        return 0;
}

static int merge_and_check(struct placement_ctx *c, json_t **ret, struct ferry_error *err)
{
        const json_t *defaults = json_object_get(json_object_get(c->in->batch, "defaults"), "placement");
        const char *name = str(c->in->instance, "name");
        _cleanup_json_ json_t *out = NULL, *disks = json_array(), *nics = json_array(), *profiles = NULL;
        const json_t *target_obj, *inventory, *project_obj, *item, *config;
        struct choice target, project, pool, member;
        const char *profiles_origin = "the scriptlet", *net_project, *profile_project;
        size_t i;
        int r;

        if (!disks || !nics)
                return oom(err);

        target = choose(c->intent, "target", defaults, "target", NULL);
        if (!target.value)
                return ferry_error_set(err, -EINVAL,
                                       "No target for instance '%s': the batch's defaults name none and the "
                                       "scriptlet set none",
                                       name);
        target_obj = find_named(c->in->targets, "name", target.value);
        if (!target_obj) {
                _cleanup_free_ char *names = name_list(c->in->targets, "name", NULL);

                return ferry_error_set(err, -EINVAL, "Target '%s' (from %s) does not exist; ferry knows targets %s",
                                       target.value, target.origin, names ? names : "?");
        }
        inventory = json_object_get(target_obj, "inventory");
        if (!json_is_array(json_object_get(inventory, "projects")))
                return ferry_error_set(err, -EINVAL, "Target '%s' has no inventory yet: wait for its first sync",
                                       target.value);

        project = choose(c->intent, "target_project", defaults, "target_project", "default");
        project_obj = find_named(json_object_get(inventory, "projects"), "name", project.value);
        if (!project_obj) {
                _cleanup_free_ char *names = name_list(json_object_get(inventory, "projects"), "name", NULL);

                return ferry_error_set(err, -EINVAL, "Project '%s' (from %s) is not on target '%s', which has projects %s",
                                       project.value, project.origin, target.value, names ? names : "?");
        }
        net_project = scope_project(project_obj, "networks");
        profile_project = scope_project(project_obj, "profiles");

        member = choose(c->intent, "member", NULL, NULL, "");
        if (*member.value) {
                r = check_member(target.value, inventory, member, err);
                if (r < 0)
                        return r;
        }

        pool = choose(c->intent, "storage_pool", defaults, "storage_pool", NULL);
        if (!pool.value)
                return ferry_error_set(err, -EINVAL,
                                       "No storage pool for instance '%s': the batch's defaults name none and the "
                                       "scriptlet set none (set_pool('*', pool))",
                                       name);
        r = check_pool(target.value, inventory, pool.value, NULL, pool.origin, err);
        if (r < 0)
                return r;

        json_array_foreach(json_object_get(c->in->instance, "disks"), i, item) {
                const char *disk = str(item, "name");
                const char *p = json_string_value(json_object_get(json_object_get(c->intent, "disks"), disk));

                if (json_is_false(json_object_get(item, "supported")))
                        continue;       /* stays behind: the sync warned about it */
                if (p) {
                        r = check_pool(target.value, inventory, p, disk, "the scriptlet", err);
                        if (r < 0)
                                return r;
                }
                if (json_array_append_new(disks, json_pack("{s:s, s:s}", "name", disk, "pool", p ? p : pool.value)) < 0)
                        return oom(err);
        }

        profiles = json_deep_copy(json_object_get(c->intent, "profiles"));
        if (!profiles) {
                profiles = json_deep_copy(json_object_get(defaults, "profiles"));
                profiles_origin = "the batch defaults";
        }
        if (!profiles) {
                profiles = json_pack("[s]", "default");
                profiles_origin = "ferry's default";
        }
        if (!profiles)
                return oom(err);
        json_array_foreach(profiles, i, item) {
                const json_t *p;
                size_t j;
                bool found = false;

                json_array_foreach(json_object_get(inventory, "profiles"), j, p)
                        if (streq(str(p, "name"), json_string_value(item)) && streq(str(p, "project"), profile_project))
                                found = true;
                if (!found) {
                        _cleanup_free_ char *names = name_list(json_object_get(inventory, "profiles"), "name",
                                                               profile_project);

                        return ferry_error_set(err, -EINVAL,
                                               "Profile '%s' (from %s) is not in project '%s' of target '%s', which "
                                               "has profiles %s",
                                               json_string_value(item), profiles_origin, profile_project, target.value,
                                               names ? names : "?");
                }
        }

        json_array_foreach(json_object_get(c->in->instance, "nics"), i, item) {
                _cleanup_json_ json_t *nic = NULL;
                const char *origin = NULL;

                r = build_nic(c, target.value, item, &nic, &origin, err);
                if (r < 0)
                        return r;
                r = check_nic(target.value, inventory, *str(nic, "project") ? str(nic, "project") : net_project, nic,
                              origin ?: "the network mapping", err);
                if (r < 0)
                        return r;
                if (json_array_append(nics, nic) < 0)
                        return oom(err);
        }

        config = json_object_get(c->intent, "config");
        out = json_pack("{s:s, s:s, s:s, s:s, s:O, s:O, s:O, s:o}", "target", target.value, "target_project",
                        project.value, "member", member.value, "storage_pool", pool.value, "profiles", profiles,
                        "disks", disks, "nics", nics, "config", config ? json_deep_copy(config) : json_object());
        if (!out)
                return oom(err);
        *ret = TAKE_PTR(out);
        return 0;
}

int placement_compute(const struct placement_input *in, const struct scriptlet_options *limits, json_t *log,
                      json_t **ret, struct ferry_error *err)
{
        _cleanup_json_ json_t *intent = json_object(), *result = NULL;
        struct placement_ctx c = { .in = in, .instance = in->instance, .log = log };
        const char *source = str(json_object_get(in->batch, "config"), "placement_scriptlet");
        int r;

        if (!intent)
                return oom(err);
        c.intent = intent;

        if (*source) {
                struct ferry_error run_err = {};

                r = run_script(&c, source, limits, &run_err);
                c.instance = in->instance;
                if (r == PLACEMENT_BLOCKED) {
                        result = json_pack("{s:s}", "reason", ferry_error_message(&run_err));
                        if (!result)
                                return oom(err);
                        *ret = TAKE_PTR(result);
                        return PLACEMENT_BLOCKED;
                }
                if (r < 0) {
                        *err = run_err;
                        return r;
                }
        }

        r = merge_and_check(&c, &result, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(result);
        return PLACEMENT_PLACED;
}
