/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry target add|list|show|update|remove: /1.0/targets.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/yaml.h"

static const struct column target_columns[] = {
        COLUMN("NAME", "name"),
        COLUMN("TYPE", "type"),
        COLUMN("ENDPOINT", "properties.endpoint"),
        COLUMN("IMPORT LIMIT", "properties.import_limit"),
        COLUMN("CREATE LIMIT", "properties.create_limit"),
        COLUMN("TIMEOUT", "properties.connection_timeout"),
        COLUMN("CONNECTIVITY", "properties.connectivity_status"),
};

#define TARGET_PROPERTY_OPTIONS                                                                                \
        { "endpoint", 0, "URL", "https://host:8443 or unix:///var/lib/incus/unix.socket (or ENDPOINT)" },      \
        { "token", 0, "TOKEN", "Incus trust token (incus config trust add ferry), used once" },               \
        { "token-stdin", 0, NULL, "Read the trust token from the first line of stdin" },                      \
        { "fingerprint", 0, "SHA256", "Trust exactly this server certificate (SHA-256, colons allowed)" },    \
        { "import-limit", 0, "N", "At most N disk imports at a time into this target (default 50)" },         \
        { "create-limit", 0, "N", "At most N instance creations at a time (default 10)" },                    \
        { "connection-timeout", 0, "DURATION", "Timeout of Incus API calls, e.g. 30s or 2m (default 30s)" }

static const struct cli_option target_add_options[] = {
        { "type", 't', "TYPE", "Target type (default: incus)" },
        { "wait", 'w', NULL, "Wait for the registration and the first inventory, and say how they went" },
        TARGET_PROPERTY_OPTIONS,
        {}
};

static const struct cli_option target_update_options[] = {
        TARGET_PROPERTY_OPTIONS,
        {}
};

static const struct cli_option target_sync_options[] = {
        { "no-wait", 0, NULL, "Start the sync and return at once" },
        {}
};

static const struct cli_option target_show_options[] = {
        { "raw", 0, NULL, "Show the inventory as stored instead of one line per object" },
        {}
};

static const struct cli_option target_list_options[] = {
        CLI_OPTION_FORMAT,
        {}
};

static int properties_from_options(struct cli *cli, json_t *props)
{
        const char *token = cli_args_get(cli->args, "token");
        _cleanup_free_ char *line = NULL;
        int r;

        if (token && cli_args_has(cli->args, "token-stdin"))
                return log_error_errno(EINVAL, "Give --token or --token-stdin, not both");
        if (cli_args_has(cli->args, "token-stdin")) {
                r = cli_read_secret_line(&line);
                if (r < 0)
                        return r;
                token = line;
        }
        if (token && (r = cli_json_set_string(props, "trust_token", token, "trust token")) < 0)
                return r;

        if ((r = cli_json_set_option(cli, props, "endpoint", "endpoint")) < 0 ||
            (r = cli_json_set_option(cli, props, "trusted_server_certificate_fingerprint", "fingerprint")) < 0 ||
            (r = cli_json_set_option(cli, props, "connection_timeout", "connection-timeout")) < 0 ||
            (r = cli_json_set_int_option(cli, props, "import_limit", "import-limit")) < 0 ||
            (r = cli_json_set_int_option(cli, props, "create_limit", "create-limit")) < 0)
                return r;
        return 0;
}


/* What a successful sync did: registration, restrictions, inventory counts. */
static void report_sync(const char *name, const json_t *md)
{
        const json_t *restricted = json_object_get(md, "restricted_projects"), *p;
        size_t i;

        if (json_is_true(json_object_get(md, "registered")))
                printf("Registered with target %s\n", name);
        if (json_array_size(restricted) > 0) {
                printf("Target %s restricts ferry to projects:", name);
                json_array_foreach(restricted, i, p)
                        printf("%s %s", i ? "," : "", json_string_value(p));
                printf("\n");
        }
        printf("Target %s synced: %lld projects, %lld networks, %lld storage pools, %lld profiles, "
               "%lld cluster members\n",
               name, json_integer_value(json_object_get(md, "projects")),
               json_integer_value(json_object_get(md, "networks")),
               json_integer_value(json_object_get(md, "storage_pools")),
               json_integer_value(json_object_get(md, "profiles")),
               json_integer_value(json_object_get(md, "cluster_members")));
}

static const struct cli_sync_kind target_sync_kind = {
        .collection = "/1.0/targets",
        .resource_type = "targets",
        .what = "target",
        .title = "Target",
        .report = report_sync,
};

static int target_sync(struct cli *cli, int argc, char *argv[])
{
        (void) argc;
        return cli_sync(cli, &target_sync_kind, argv[1]);
}

static const char *str(const json_t *obj, const char *key)
{
        return json_string_value(json_object_get(obj, key)) ?: "";
}

static void human_bytes(json_int_t n, char *buf, size_t size)
{
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
        double v = (double) n;
        size_t u = 0;

        while (v >= 1024 && u + 1 < ELEMENTSOF(units)) {
                v /= 1024;
                u++;
        }
        snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/* Append a line built from fmt to list; NULL-safe for a failed allocation. */
static int add_line(json_t *list, struct strbuf *sb)
{
        char *text = strbuf_steal(sb);
        int r;

        if (!text)
                return -ENOMEM;
        r = json_array_append_new(list, json_string(text));
        free(text);
        return r < 0 ? -ENOMEM : 0;
}

static int summarise_projects(const json_t *projects, json_t *out)
{
        size_t i;
        json_t *p;

        json_array_foreach(projects, i, p) {
                _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
                const json_t *features = json_object_get(p, "features");
                const json_t *restrictions = json_object_get(p, "restrictions");
                const char *key;
                json_t *v;
                bool any = false;

                strbuf_append(&sb, str(p, "name"));
                json_object_foreach((json_t *) features, key, v)
                        if (json_is_true(v)) {
                                strbuf_appendf(&sb, "%s%s", any ? ", " : " (own ", key);
                                any = true;
                        }
                if (any)
                        strbuf_append(&sb, ")");
                if (streq_ptr(json_string_value(json_object_get(restrictions, "restricted")), "true"))
                        strbuf_append(&sb, ", restricted");
                if (add_line(out, &sb) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int summarise_networks(const json_t *networks, json_t *out)
{
        size_t i;
        json_t *n;

        json_array_foreach(networks, i, n) {
                _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;

                strbuf_appendf(&sb, "%s (%s, %s%s%s%s) in project %s", str(n, "name"), str(n, "type"),
                               json_is_true(json_object_get(n, "managed")) ? "managed" : "unmanaged",
                               json_is_true(json_object_get(n, "vlan_capable")) ? ", VLAN-capable" : "",
                               *str(n, "parent") ? ", parent " : "", str(n, "parent"), str(n, "project"));
                if (add_line(out, &sb) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int summarise_pools(const json_t *pools, json_t *out)
{
        size_t i;
        json_t *p;

        json_array_foreach(pools, i, p) {
                _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
                const json_t *space = json_object_get(p, "space");

                strbuf_appendf(&sb, "%s (%s, %s", str(p, "name"), str(p, "driver"), str(p, "status"));
                if (json_is_integer(json_object_get(space, "total"))) {
                        char used[32], total[32];

                        human_bytes(json_integer_value(json_object_get(space, "used")), used, sizeof(used));
                        human_bytes(json_integer_value(json_object_get(space, "total")), total, sizeof(total));
                        strbuf_appendf(&sb, ", %s of %s used", used, total);
                }
                strbuf_append(&sb, ")");
                if (add_line(out, &sb) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int summarise_profiles(const json_t *profiles, json_t *out)
{
        size_t i;
        json_t *p;

        json_array_foreach(profiles, i, p) {
                _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;

                strbuf_appendf(&sb, "%s in project %s", str(p, "name"), str(p, "project"));
                if (add_line(out, &sb) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int summarise_members(const json_t *members, json_t *out)
{
        size_t i;
        json_t *m;

        json_array_foreach(members, i, m) {
                _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
                const json_t *groups = json_object_get(m, "groups");
                size_t j;
                json_t *g;

                strbuf_appendf(&sb, "%s (%s", str(m, "name"), str(m, "status"));
                json_array_foreach(groups, j, g)
                        strbuf_appendf(&sb, "%s%s", j ? ", " : "; groups ", json_string_value(g) ?: "");
                if (*str(m, "failure_domain"))
                        strbuf_appendf(&sb, "; failure domain %s", str(m, "failure_domain"));
                strbuf_append(&sb, ")");
                if (add_line(out, &sb) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* The inventory as one line per object, grouped: what an admin reads. */
static json_t *inventory_summary(const json_t *inv)
{
        static const struct {
                const char *key;
                int (*fn)(const json_t *list, json_t *out);
        } parts[] = {
                { "projects", summarise_projects },
                { "networks", summarise_networks },
                { "storage_pools", summarise_pools },
                { "profiles", summarise_profiles },
                { "cluster_members", summarise_members },
        };
        _cleanup_json_ json_t *out = json_object();
        const json_t *server = json_object_get(inv, "server");

        if (!out)
                return NULL;
        if (server) {
                _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;

                strbuf_appendf(&sb, "Incus %s on %s, %s%s", str(server, "version"), str(server, "name"),
                               json_is_true(json_object_get(server, "clustered")) ? "clustered" : "standalone",
                               json_is_true(json_object_get(server, "restricted")) ? ", restricted certificate"
                                                                                    : "");
                if (json_object_set_new(out, "server", json_string(strbuf_str(&sb))) < 0)
                        return NULL;
        }
        for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
                json_t *list = json_array();

                if (!list || json_object_set_new(out, parts[i].key, list) < 0)
                        return NULL;
                if (parts[i].fn(json_object_get(inv, parts[i].key), list) < 0)
                        return NULL;
        }
        return TAKE_PTR(out);
}

static int target_add(struct cli *cli, int argc, char *argv[])
{
        _cleanup_json_ json_t *body = NULL;
        _cleanup_free_ char *answer = NULL, *token = NULL;
        const char *name = argv[1], *type = cli_args_get(cli->args, "type") ?: "incus", *endpoint;
        bool interactive = cli_is_interactive();
        json_t *props;
        int r;

        if (argc > 2 && cli_args_has(cli->args, "endpoint"))
                return cli_usage_error(cli, "Give the endpoint once: as ENDPOINT or with --endpoint");

        body = json_object();
        if (!body || cli_json_set_string(body, "name", name, "NAME") < 0 ||
            cli_json_set_string(body, "type", type, "--type") < 0)
                return -EINVAL;
        props = cli_json_child(body, "properties");
        if (!props)
                return -ENOMEM;

        r = properties_from_options(cli, props);
        if (r < 0)
                return r;
        if (argc > 2 && (r = cli_json_set_string(props, "endpoint", argv[2], "ENDPOINT")) < 0)
                return r;

        if (!json_object_get(props, "endpoint")) {
                if (!interactive)
                        return log_error_errno(EINVAL, "Missing --endpoint");
                r = cli_prompt("Endpoint (https://incus.example.org:8443 or unix:///var/lib/incus/unix.socket): ",
                               &answer);
                if (r < 0 || (r = cli_json_set_string(props, "endpoint", answer, "endpoint")) < 0)
                        return r;
        }

        /* A new HTTPS target needs to trust ferry: ask for a token unless the admin pinned a certificate. */
        endpoint = json_string_value(json_object_get(props, "endpoint"));
        if (interactive && startswith(endpoint, "https://") && !json_object_get(props, "trust_token") &&
            !json_object_get(props, "trusted_server_certificate_fingerprint")) {
                r = cli_prompt_secret("Trust token (from 'incus config trust add', empty if ferry is trusted): ",
                                      &token);
                if (r < 0)
                        return r;
                if (*token && (r = cli_json_set_string(props, "trust_token", token, "trust token")) < 0)
                        return r;
        }

        r = cli_send(cli, "POST", "/1.0/targets", body);
        if (r < 0)
                return r;
        printf("Target %s added\n", name);
        if (!cli_args_has(cli->args, "wait"))
                return 0;
        return cli_wait_first_sync(cli, &target_sync_kind, name);
}

static int target_update(struct cli *cli, int argc, char *argv[])
{
        _cleanup_json_ json_t *body = NULL;
        _cleanup_free_ char *path = NULL;
        json_t *props;
        int r;

        (void) argc;
        body = json_object();
        props = body ? cli_json_child(body, "properties") : NULL;
        if (!props)
                return log_error_errno(ENOMEM, "Out of memory");

        r = properties_from_options(cli, props);
        if (r < 0)
                return r;
        if (json_object_size(props) == 0)
                return cli_usage_error(cli, "Nothing to update: give at least one option");

        path = cli_path("/1.0/targets", argv[1], NULL);
        if (!path)
                return -ENOMEM;
        r = cli_send(cli, "PATCH", path, body);
        if (r < 0)
                return r;
        printf("Target %s updated\n", argv[1]);
        return 0;
}

static int target_list(struct cli *cli, int argc, char *argv[])
{
        (void) argc;
        (void) argv;
        return cli_list(cli, "/1.0/targets", NULL, target_columns, ELEMENTSOF(target_columns));
}

static int target_show(struct cli *cli, int argc, char *argv[])
{
        _cleanup_free_ char *path = cli_path("/1.0/targets", argv[1], NULL), *text = NULL;
        _cleanup_client_ struct client *c = NULL;
        _cleanup_json_ json_t *obj = NULL;
        struct ferry_error err = {};
        json_t *summary;
        int r;

        (void) argc;
        if (!path)
                return log_error_errno(ENOMEM, "Out of memory");
        if (cli_args_has(cli->args, "raw"))
                return cli_show(cli, path);
        r = cli_connect(cli, &c);
        if (r < 0)
                return r;
        r = client_request(c, "GET", path, NULL, &obj, &err);
        if (r < 0)
                return cli_log_error(&err);
        summary = inventory_summary(json_object_get(obj, "inventory"));
        if (!summary || json_object_set_new(obj, "inventory", summary) < 0)
                return log_error_errno(ENOMEM, "Out of memory");
        r = json_to_yaml(obj, &text);
        if (r < 0)
                return log_error_errno(r, "Failed to format the answer as YAML: %m");
        fputs(text, stdout);
        return fflush(stdout) == 0 ? 0 : log_error_errno(errno, "Failed to write the answer: %m");
}

static int target_remove(struct cli *cli, int argc, char *argv[])
{
        (void) argc;
        return cli_remove(cli, "/1.0/targets", "Target", argv[1]);
}

const struct cli_command cli_target_commands[] = {
        {
                .name = "add",
                .args = "NAME [ENDPOINT]",
                .summary = "Add an Incus target",
                .description =
                        "Add an Incus server or cluster as a target.  For an HTTPS endpoint, give\n"
                        "a trust token made with 'incus config trust add ferry': ferryd uses it\n"
                        "once to register its client certificate.  On a terminal, ferry asks for\n"
                        "the endpoint and the token when they are not given.  The token is\n"
                        "write-only: ferryd never shows it.  ferryd registers and reads the\n"
                        "inventory in the background; --wait waits for that and reports it.",
                .min_args = 1,
                .max_args = 2,
                .run = target_add,
                .options = target_add_options,
                .examples = "ferry target add incus1 https://incus1.example.org:8443 --token \"$TOKEN\" --wait\n"
                            "ferry target add local unix:///var/lib/incus/unix.socket\n"
                            "ferry target add incus2 https://10.0.0.2:8443 --token-stdin --create-limit 5 \\\n"
                            "    --connection-timeout 2m < token.txt",
        },
        {
                .name = "list",
                .args = "",
                .summary = "List targets",
                .description = "List the targets.  Columns: NAME, TYPE, ENDPOINT, IMPORT LIMIT, CREATE LIMIT,\n"
                               "TIMEOUT, CONNECTIVITY.",
                .run = target_list,
                .options = target_list_options,
                .examples = "ferry target list\nferry target list -f json",
        },
        {
                .name = "show",
                .args = "NAME",
                .summary = "Show a target as YAML",
                .description = "Show a target and its synced inventory as YAML (never its trust token):\n"
                               "the Incus server, then one line per project, network, storage pool,\n"
                               "profile and cluster member.  --raw shows the inventory as stored\n"
                               "(GET /1.0/targets/NAME/inventory has it too).",
                .min_args = 1,
                .max_args = 1,
                .run = target_show,
                .options = target_show_options,
                .examples = "ferry target show incus1\nferry target show incus1 --raw",
        },
        {
                .name = "sync",
                .args = "NAME",
                .summary = "Register with a target and read its inventory again",
                .description = "Use a trust token the target still holds, then read the target's projects,\n"
                               "networks, storage pools, profiles and cluster members.  ferryd keeps the\n"
                               "inventory current from Incus's events; this is for after an outage or a\n"
                               "new token.  Waits for the sync unless --no-wait is given.",
                .min_args = 1,
                .max_args = 1,
                .run = target_sync,
                .options = target_sync_options,
                .examples = "ferry target sync incus1\nferry target sync incus1 --no-wait",
        },
        {
                .name = "update",
                .args = "NAME",
                .summary = "Change properties of a target",
                .description = "Change the properties given as options and keep the others (a PATCH).",
                .min_args = 1,
                .max_args = 1,
                .run = target_update,
                .options = target_update_options,
                .examples = "ferry target update incus1 --create-limit 4\n"
                            "ferry target update incus1 --connection-timeout 1m",
        },
        {
                .name = "remove",
                .args = "NAME",
                .summary = "Remove a target",
                .description = "Remove a target.  ferryd refuses while something still uses it.",
                .min_args = 1,
                .max_args = 1,
                .run = target_remove,
                .options = cli_no_options,
                .examples = "ferry target remove incus1",
        },
        {}
};
