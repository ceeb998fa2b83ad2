/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry target add|list|show|update|remove: /1.0/targets.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"

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
        TARGET_PROPERTY_OPTIONS,
        {}
};

static const struct cli_option target_update_options[] = {
        TARGET_PROPERTY_OPTIONS,
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
        return 0;
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
        _cleanup_free_ char *path = cli_path("/1.0/targets", argv[1], NULL);

        (void) argc;
        return path ? cli_show(cli, path) : -ENOMEM;
}

static int target_remove(struct cli *cli, int argc, char *argv[])
{
        _cleanup_free_ char *path = cli_path("/1.0/targets", argv[1], NULL);
        int r;

        (void) argc;
        if (!path)
                return -ENOMEM;
        r = cli_send(cli, "DELETE", path, NULL);
        if (r < 0)
                return r;
        printf("Target %s removed\n", argv[1]);
        return 0;
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
                        "write-only: ferryd never shows it.",
                .min_args = 1,
                .max_args = 2,
                .run = target_add,
                .options = target_add_options,
                .examples = "ferry target add incus1 https://incus1.example.org:8443 --token \"$TOKEN\"\n"
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
                .description = "Show a target and its synced inventory as YAML (never its trust token).",
                .min_args = 1,
                .max_args = 1,
                .run = target_show,
                .options = cli_no_options,
                .examples = "ferry target show incus1",
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
