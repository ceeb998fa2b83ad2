/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry network list|show|edit: /1.0/networks.
 */
#include <errno.h>

#include "cli/cli.h"

static const struct column network_columns[] = {
        COLUMN("UUID", "uuid"),
        COLUMN("SOURCE", "source"),
        COLUMN("LOCATION", "location"),
        COLUMN("TYPE", "type"),
        COLUMN("VLAN", "vlan"),
        COLUMN_AS("MAPPED FOR", "mappings", COLUMN_KEYS),
};

static const struct cli_option network_list_options[] = {
        CLI_OPTION_FORMAT,
        {}
};

static const char network_edit_header[] =
        "### A source network as YAML.  Lines starting with '#' are ignored.\n"
        "###\n"
        "### Only 'mappings' can be changed: per target name (or '*' for any target),\n"
        "### the Incus network, its nictype (managed, bridged, macvlan or physical),\n"
        "### vlan ('' for none, one id 1-4094, or a comma-separated list) and project.\n"
        "### For example:\n"
        "###   mappings:\n"
        "###     incus1:\n"
        "###       network: incusbr0\n"
        "###       nictype: managed\n"
        "###       vlan: ''\n"
        "###       project: default\n";

static int network_list(struct cli *cli, int argc, char *argv[])
{
        return cli_list(cli, "/1.0/networks", argc > 1 ? argv[1] : NULL, network_columns,
                        ELEMENTSOF(network_columns));
}

static int network_show(struct cli *cli, int argc, char *argv[])
{
        _cleanup_free_ char *path = cli_path("/1.0/networks", argv[1], NULL);

        (void) argc;
        return path ? cli_show(cli, path) : -ENOMEM;
}

static int network_edit(struct cli *cli, int argc, char *argv[])
{
        _cleanup_free_ char *path = cli_path("/1.0/networks", argv[1], NULL);

        (void) argc;
        return path ? cli_edit(cli, path, network_edit_header) : -ENOMEM;
}

const struct cli_command cli_network_commands[] = {
        {
                .name = "list",
                .args = "[FILTER]",
                .summary = "List source networks",
                .description = "List the networks that source syncs found.  FILTER is an expression over\n"
                               "the network's fields.  Columns: UUID, SOURCE, LOCATION, TYPE, VLAN, MAPPED FOR\n"
                               "(the targets that have a mapping).",
                .min_args = 0,
                .max_args = 1,
                .run = network_list,
                .options = network_list_options,
                .examples = "ferry network list\nferry network list \"type == 'distributed'\" -f csv",
        },
        {
                .name = "show",
                .args = "UUID",
                .summary = "Show a source network as YAML",
                .description = "Show a source network and its mappings as YAML.",
                .min_args = 1,
                .max_args = 1,
                .run = network_show,
                .options = cli_no_options,
                .examples = "ferry network show 6f0b8f5e-2d0b-4cc5-9b57-1d5a8f3c2e10",
        },
        {
                .name = "edit",
                .args = "UUID",
                .summary = "Map a source network to Incus networks",
                .description =
                        "Open the network as YAML in $EDITOR (or $VISUAL, or vi); only 'mappings'\n"
                        "is saved.  A change ferryd refuses re-opens the editor with the reason.\n"
                        "When stdin is not a terminal, the YAML on stdin is saved.",
                .min_args = 1,
                .max_args = 1,
                .run = network_edit,
                .options = cli_no_options,
                .examples = "ferry network edit 6f0b8f5e-2d0b-4cc5-9b57-1d5a8f3c2e10\n"
                            "printf 'mappings:\\n  incus1:\\n    network: incusbr0\\n' | ferry network edit UUID",
        },
        {}
};
