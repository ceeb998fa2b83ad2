/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry source add|list|show|update|remove: /1.0/sources.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"

static const struct column source_columns[] = {
        COLUMN("NAME", "name"),
        COLUMN("TYPE", "type"),
        COLUMN("ENDPOINT", "properties.endpoint"),
        COLUMN("USERNAME", "properties.username"),
        COLUMN("DISK ACCESS", "properties.disk_access.mode"),
        COLUMN("IMPORT LIMIT", "properties.import_limit"),
        COLUMN("CONNECTIVITY", "properties.connectivity_status"),
};

/* The options add and update share. */
#define SOURCE_PROPERTY_OPTIONS                                                                               \
        { "endpoint", 0, "URL", "The SDK endpoint, https://vcenter.example.org/sdk (or ENDPOINT)" },           \
        { "username", 'u', "USER", "The account ferry logs in with" },                                        \
        { "password", 'p', "PASSWORD", "Its password (prefer --password-stdin: arguments are visible)" },     \
        { "password-stdin", 0, NULL, "Read the password from the first line of stdin" },                      \
        { "fingerprint", 0, "SHA256", "Trust exactly this server certificate (SHA-256, colons allowed)" },    \
        { "import-limit", 0, "N", "At most N disk imports at a time from this source (default 50)" },         \
        { "datacenter", 0, "DC", "Only sync this datacenter (repeat for several; '' for all)" },              \
        { "disk-access", 0, "MODE", "How disks are read: vddk (default), datastore or nbd" },                 \
        { "datastore-mount", 0, "DS=PATH", "Datastore DS is mounted at PATH (repeat; DS= removes one)" },     \
        { "nbd-uri-template", 0, "URI", "NBD URI template for --disk-access nbd" }

static const struct cli_option source_add_options[] = {
        { "type", 't', "TYPE", "Source type (default: vmware)" },
        { "wait", 'w', NULL, "Wait for the first sync and say how it went" },
        SOURCE_PROPERTY_OPTIONS,
        {}
};

static const struct cli_option source_update_options[] = {
        SOURCE_PROPERTY_OPTIONS,
        {}
};

static const struct cli_option source_sync_options[] = {
        { "no-wait", 0, NULL, "Start the sync and return at once" },
        {}
};

static const struct cli_option source_list_options[] = {
        CLI_OPTION_FORMAT,
        {}
};

/* --password or --password-stdin; NULL in *ret when neither was given. */
static int password_from_options(struct cli *cli, char **ret)
{
        const char *p = cli_args_get(cli->args, "password");

        *ret = NULL;
        if (p && cli_args_has(cli->args, "password-stdin"))
                return log_error_errno(EINVAL, "Give --password or --password-stdin, not both");
        if (cli_args_has(cli->args, "password-stdin"))
                return cli_read_secret_line(ret);
        if (p) {
                *ret = strdup(p);
                if (!*ret)
                        return log_error_errno(ENOMEM, "Out of memory");
        }
        return 0;
}

/* properties.disk_access from --disk-access, --datastore-mount, --nbd-uri-template. */
static int disk_access_from_options(struct cli *cli, json_t *props, bool create)
{
        char *const *mounts = cli_args_get_all(cli->args, "datastore-mount", NULL);
        const char *mode = cli_args_get(cli->args, "disk-access");
        const char *uri = cli_args_get(cli->args, "nbd-uri-template");
        json_t *access, *map;
        int r;

        if (!mode && !*mounts && !uri)
                return 0;
        access = cli_json_child(props, "disk_access");
        if (!access)
                return -ENOMEM;

        /* On add, mounts or a URI say which mode is meant. */
        if (!mode && create)
                mode = *mounts ? "datastore" : "nbd";
        if (mode) {
                r = cli_json_set_string(access, "mode", mode, "--disk-access");
                if (r < 0)
                        return r;
        }
        if (uri) {
                r = cli_json_set_string(access, "uri_template", uri, "--nbd-uri-template");
                if (r < 0)
                        return r;
        }

        if (!*mounts)
                return 0;
        map = cli_json_child(access, "datastore_mounts");
        if (!map)
                return -ENOMEM;
        for (char *const *m = mounts; *m; m++) {
                _cleanup_free_ char *ds = NULL;
                const char *eq = strchr(*m, '=');

                if (!eq || eq == *m)
                        return log_error_errno(EINVAL, "Invalid --datastore-mount '%s': use DATASTORE=PATH", *m);
                ds = strndup(*m, (size_t) (eq - *m));
                if (!ds)
                        return log_error_errno(ENOMEM, "Out of memory");
                /* "ds1=" removes ds1 (a JSON merge patch null); on add it is just left out. */
                if (!eq[1]) {
                        if (create)
                                json_object_del(map, ds);
                        else if (cli_json_set(map, ds, json_null()) < 0)
                                return -ENOMEM;
                        continue;
                }
                r = cli_json_set_string(map, ds, eq + 1, "--datastore-mount");
                if (r < 0)
                        return r;
        }
        return 0;
}

static int datacenters_from_options(struct cli *cli, json_t *props)
{
        size_t n;
        char *const *dcs = cli_args_get_all(cli->args, "datacenter", &n);
        json_t *list;

        if (n == 0)
                return 0;
        list = json_array();
        if (cli_json_set(props, "datacenters", list) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_t *s;

                if (!*dcs[i])
                        continue;       /* '' alone: all datacenters */
                s = json_string(dcs[i]);
                if (!s)
                        return log_error_errno(EINVAL, "Invalid --datacenter: not valid UTF-8");
                if (json_array_append_new(list, s) < 0)
                        return log_error_errno(ENOMEM, "Out of memory");
        }
        return 0;
}

/* Every property option into props. */
static int properties_from_options(struct cli *cli, json_t *props, bool create)
{
        _cleanup_free_ char *password = NULL;
        int r;

        r = password_from_options(cli, &password);
        if (r < 0)
                return r;
        if (password && (r = cli_json_set_string(props, "password", password, "password")) < 0)
                return r;

        if ((r = cli_json_set_option(cli, props, "endpoint", "endpoint")) < 0 ||
            (r = cli_json_set_option(cli, props, "username", "username")) < 0 ||
            (r = cli_json_set_option(cli, props, "trusted_server_certificate_fingerprint", "fingerprint")) < 0 ||
            (r = cli_json_set_int_option(cli, props, "import_limit", "import-limit")) < 0)
                return r;

        if ((r = datacenters_from_options(cli, props)) < 0 || (r = disk_access_from_options(cli, props, create)) < 0)
                return r;
        return 0;
}

/* What a successful sync did. */
static void report_sync(const char *name, const json_t *md)
{
        printf("Source %s synced: %lld instances added, %lld updated, %lld removed; "
               "%lld networks added, %lld updated, %lld removed\n",
               name, json_integer_value(json_object_get(md, "instances_added")),
               json_integer_value(json_object_get(md, "instances_updated")),
               json_integer_value(json_object_get(md, "instances_removed")),
               json_integer_value(json_object_get(md, "networks_added")),
               json_integer_value(json_object_get(md, "networks_updated")),
               json_integer_value(json_object_get(md, "networks_removed")));
}

static const struct cli_sync_kind source_sync_kind = {
        .collection = "/1.0/sources",
        .resource_type = "sources",
        .what = "source",
        .title = "Source",
        .report = report_sync,
};

static int source_sync(struct cli *cli, int argc, char *argv[])
{
        (void) argc;
        return cli_sync(cli, &source_sync_kind, argv[1]);
}

static int source_add(struct cli *cli, int argc, char *argv[])
{
        _cleanup_json_ json_t *body = NULL;
        _cleanup_free_ char *answer = NULL, *password = NULL;
        const char *name = argv[1], *type = cli_args_get(cli->args, "type") ?: "vmware";
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

        r = properties_from_options(cli, props, true);
        if (r < 0)
                return r;
        if (argc > 2 && (r = cli_json_set_string(props, "endpoint", argv[2], "ENDPOINT")) < 0)
                return r;

        /* What is still missing: ask a person, refuse a script. */
        if (!json_object_get(props, "endpoint")) {
                if (!interactive)
                        return log_error_errno(EINVAL, "Missing --endpoint");
                r = cli_prompt("Endpoint (https://vcenter.example.org/sdk): ", &answer);
                if (r < 0 || (r = cli_json_set_string(props, "endpoint", answer, "endpoint")) < 0)
                        return r;
        }
        if (streq(type, "vmware") && !json_object_get(props, "username")) {
                if (!interactive)
                        return log_error_errno(EINVAL, "Missing --username");
                free(answer);
                answer = NULL;
                r = cli_prompt("Username: ", &answer);
                if (r < 0 || (r = cli_json_set_string(props, "username", answer, "username")) < 0)
                        return r;
        }
        if (streq(type, "vmware") && !json_object_get(props, "password") && interactive) {
                r = cli_prompt_secret("Password: ", &password);
                if (r < 0)
                        return r;
                if (*password && (r = cli_json_set_string(props, "password", password, "password")) < 0)
                        return r;
        }

        r = cli_send(cli, "POST", "/1.0/sources", body);
        if (r < 0)
                return r;
        printf("Source %s added\n", name);
        if (!cli_args_has(cli->args, "wait"))
                return 0;
        return cli_wait_first_sync(cli, &source_sync_kind, name);
}

static int source_update(struct cli *cli, int argc, char *argv[])
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

        r = properties_from_options(cli, props, false);
        if (r < 0)
                return r;
        if (json_object_size(props) == 0)
                return cli_usage_error(cli, "Nothing to update: give at least one option");

        path = cli_path("/1.0/sources", argv[1], NULL);
        if (!path)
                return -ENOMEM;
        r = cli_send(cli, "PATCH", path, body);
        if (r < 0)
                return r;
        printf("Source %s updated\n", argv[1]);
        return 0;
}

static int source_list(struct cli *cli, int argc, char *argv[])
{
        (void) argc;
        (void) argv;
        return cli_list(cli, "/1.0/sources", NULL, source_columns, ELEMENTSOF(source_columns));
}

static int source_show(struct cli *cli, int argc, char *argv[])
{
        _cleanup_free_ char *path = cli_path("/1.0/sources", argv[1], NULL);

        (void) argc;
        return path ? cli_show(cli, path) : -ENOMEM;
}

static int source_remove(struct cli *cli, int argc, char *argv[])
{
        (void) argc;
        return cli_remove(cli, "/1.0/sources", "Source", argv[1]);
}

const struct cli_command cli_source_commands[] = {
        {
                .name = "add",
                .args = "NAME [ENDPOINT]",
                .summary = "Add a source",
                .description =
                        "Add a VMware vCenter or ESXi host as a source.  On a terminal, ferry asks\n"
                        "for the endpoint, user name and password when they are not given; in a\n"
                        "script, a missing endpoint or user name is an error.  The password is\n"
                        "write-only: ferryd never shows it again.  ferryd syncs the new source at\n"
                        "once; --wait waits for that sync and fails if it did (an untrusted\n"
                        "certificate, a wrong password), naming what to fix.",
                .min_args = 1,
                .max_args = 2,
                .run = source_add,
                .options = source_add_options,
                .examples =
                        "ferry source add vc01 https://vc01.example.org/sdk --username admin@vsphere.local\n"
                        "ferry source add vc01 https://vc01.example.org/sdk -u admin --fingerprint SHA256 --wait\n"
                        "echo \"$PASSWORD\" | ferry source add vc01 https://vc01.example.org/sdk \\\n"
                        "    --username admin@vsphere.local --password-stdin --datacenter dc1 \\\n"
                        "    --disk-access datastore --datastore-mount ds1=/mnt/ds1",
        },
        {
                .name = "list",
                .args = "",
                .summary = "List sources",
                .description = "List the sources.  Columns: NAME, TYPE, ENDPOINT, USERNAME, DISK ACCESS,\n"
                               "IMPORT LIMIT, CONNECTIVITY.",
                .run = source_list,
                .options = source_list_options,
                .examples = "ferry source list\nferry source list -f csv\nferry source list --format yaml",
        },
        {
                .name = "show",
                .args = "NAME",
                .summary = "Show a source as YAML",
                .description = "Show everything ferryd knows about a source, as YAML (never its password).",
                .min_args = 1,
                .max_args = 1,
                .run = source_show,
                .options = cli_no_options,
                .examples = "ferry source show vc01",
        },
        {
                .name = "update",
                .args = "NAME",
                .summary = "Change properties of a source",
                .description = "Change the properties given as options and keep the others (a PATCH).\n"
                               "--datacenter replaces the whole list; --datastore-mount DS=PATH adds or\n"
                               "replaces one mount and DS= removes it.",
                .min_args = 1,
                .max_args = 1,
                .run = source_update,
                .options = source_update_options,
                .examples = "ferry source update vc01 --import-limit 20\n"
                            "ferry source update vc01 --password-stdin < password.txt\n"
                            "ferry source update vc01 --datastore-mount ds2=/mnt/ds2",
        },
        {
                .name = "sync",
                .args = "NAME",
                .summary = "Sync a source's inventory now",
                .description = "Read the source's VMs and networks now and store what changed, then say\n"
                               "how many were added, updated and removed.  A source that cannot be\n"
                               "reached keeps its inventory; its CONNECTIVITY says why (confirm a new\n"
                               "certificate with 'ferry source update NAME --fingerprint SHA256').",
                .min_args = 1,
                .max_args = 1,
                .run = source_sync,
                .options = source_sync_options,
                .examples = "ferry source sync vc01\nferry source sync vc01 --no-wait",
        },
        {
                .name = "remove",
                .args = "NAME",
                .summary = "Remove a source",
                .description = "Remove a source.  ferryd refuses while something still uses it.",
                .min_args = 1,
                .max_args = 1,
                .run = source_remove,
                .options = cli_no_options,
                .examples = "ferry source remove vc01",
        },
        {}
};
