/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry warning list|show|ack: /1.0/warnings.
 */
#include <errno.h>
#include <stdio.h>

#include "cli/cli.h"
#include "common/json.h"
#include "common/log.h"

static const struct column warning_columns[] = {
        COLUMN("UUID", "uuid"),
        COLUMN("TYPE", "type"),
        COLUMN("STATUS", "status"),
        COLUMN("SCOPE", "scope.scope"),
        COLUMN("ENTITY TYPE", "scope.entity_type"),
        COLUMN("ENTITY", "scope.entity"),
        COLUMN("COUNT", "count"),
        COLUMN("LAST SEEN", "last_seen"),
};

static const struct cli_option warning_list_options[] = {
        CLI_OPTION_FORMAT,
        {}
};

static int warning_list(struct cli *cli, int argc, char *argv[])
{
        (void) argc;
        (void) argv;
        return cli_list(cli, "/1.0/warnings", NULL, warning_columns, ELEMENTSOF(warning_columns));
}

static int warning_show(struct cli *cli, int argc, char *argv[])
{
        _cleanup_free_ char *path = cli_path("/1.0/warnings", argv[1], NULL);

        (void) argc;
        return path ? cli_show(cli, path) : -ENOMEM;
}

static int warning_ack(struct cli *cli, int argc, char *argv[])
{
        _cleanup_free_ char *path = cli_path("/1.0/warnings", argv[1], NULL);
        _cleanup_json_ json_t *body = json_pack("{s:s}", "status", "acknowledged");
        int r;

        (void) argc;
        if (!path || !body)
                return log_error_errno(ENOMEM, "Out of memory");
        r = cli_send(cli, "PATCH", path, body);
        if (r < 0)
                return r;
        printf("Warning %s acknowledged\n", argv[1]);
        return 0;
}

const struct cli_command cli_warning_commands[] = {
        {
                .name = "list",
                .args = "",
                .summary = "List warnings",
                .description = "List the warnings.  Columns: UUID, TYPE, STATUS, SCOPE, ENTITY TYPE, ENTITY,\n"
                               "COUNT, LAST SEEN.",
                .run = warning_list,
                .options = warning_list_options,
                .examples = "ferry warning list\nferry warning list -f yaml",
        },
        {
                .name = "show",
                .args = "UUID",
                .summary = "Show a warning as YAML",
                .description = "Show a warning and its messages as YAML.",
                .min_args = 1,
                .max_args = 1,
                .run = warning_show,
                .options = cli_no_options,
                .examples = "ferry warning show 0c2f6d0e-7f2c-4d4e-9d3c-2a1c5b7e9f00",
        },
        {
                .name = "ack",
                .args = "UUID",
                .summary = "Acknowledge a warning",
                .description = "Mark a warning as acknowledged.  It stays listed, with status\n"
                               "'acknowledged'.",
                .min_args = 1,
                .max_args = 1,
                .run = warning_ack,
                .options = cli_no_options,
                .examples = "ferry warning ack 0c2f6d0e-7f2c-4d4e-9d3c-2a1c5b7e9f00",
        },
        {}
};
