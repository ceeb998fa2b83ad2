/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry instance list|show and ferry instance override show|edit|remove:
 * /1.0/instances.
 */
#include <errno.h>
#include <stdio.h>

#include "cli/cli.h"
#include "common/log.h"
#include "model/model.h"

const struct column cli_instance_columns[] = {
        COLUMN("NAME", "name"),
        COLUMN("UUID", "uuid"),
        COLUMN("SOURCE", "source"),
        COLUMN("LOCATION", "location"),
        COLUMN("OS", "os"),
        COLUMN("CPUS", "cpus"),
        COLUMN_AS("MEMORY", "memory", COLUMN_SIZE),
        COLUMN_AS("DISKS", "disks[].capacity", COLUMN_SIZE_SUM),
        COLUMN_AS("RUNNING", "running", COLUMN_YES_NO),
};
const size_t cli_instance_n_columns = ELEMENTSOF(cli_instance_columns);

static const struct cli_option instance_list_options[] = {
        CLI_OPTION_FORMAT,
        {}
};

static const char override_edit_header[] =
        "### The overrides of one instance, as YAML.  Lines starting with '#' are ignored.\n"
        "###\n"
        "### Overrides win over what the source sync found.  Any of: name, description,\n"
        "### cpus, memory (bytes), architecture, os, os_version, os_type, secure_boot,\n"
        "### legacy_boot, tpm, config (a map of strings), and disable_migration (bool),\n"
        "### ignore_restrictions (bool), comment (string).  For example:\n"
        "###   cpus: 4\n"
        "###   disable_migration: true\n"
        "###   comment: moved by hand\n";

static int instance_list(struct cli *cli, int argc, char *argv[])
{
        return cli_list_with_view(cli, "/1.0/instances", argc > 1 ? argv[1] : NULL, cli_instance_columns,
                                  cli_instance_n_columns, model_instance_effective);
}

static int instance_show(struct cli *cli, int argc, char *argv[])
{
        _cleanup_free_ char *path = cli_path("/1.0/instances", argv[1], NULL);

        (void) argc;
        return path ? cli_show(cli, path) : -ENOMEM;
}

static int override_show(struct cli *cli, int argc, char *argv[])
{
        _cleanup_free_ char *path = cli_path("/1.0/instances", argv[1], "/override");

        (void) argc;
        return path ? cli_show(cli, path) : -ENOMEM;
}

static int override_edit(struct cli *cli, int argc, char *argv[])
{
        _cleanup_free_ char *path = cli_path("/1.0/instances", argv[1], "/override");

        (void) argc;
        return path ? cli_edit(cli, path, override_edit_header) : -ENOMEM;
}

static int override_remove(struct cli *cli, int argc, char *argv[])
{
        _cleanup_free_ char *path = cli_path("/1.0/instances", argv[1], "/override");
        int r;

        (void) argc;
        if (!path)
                return -ENOMEM;
        r = cli_send(cli, "DELETE", path, NULL);
        if (r < 0)
                return r;
        printf("Overrides of instance %s removed\n", argv[1]);
        return 0;
}

static const struct cli_command instance_override_commands[] = {
        {
                .name = "show",
                .args = "UUID",
                .summary = "Show the overrides of an instance as YAML",
                .description = "Show what the admin set over the synced values of an instance.",
                .min_args = 1,
                .max_args = 1,
                .run = override_show,
                .options = cli_no_options,
                .examples = "ferry instance override show 4210a5c4-9c4e-4d83-b1a0-0c1a6b4b5e01",
        },
        {
                .name = "edit",
                .args = "UUID",
                .summary = "Edit the overrides of an instance as YAML",
                .description =
                        "Open the overrides as YAML in $EDITOR (or $VISUAL, or vi) and save what\n"
                        "comes back.  A change ferryd refuses re-opens the editor with the reason.\n"
                        "When stdin is not a terminal, the YAML on stdin replaces the overrides.",
                .min_args = 1,
                .max_args = 1,
                .run = override_edit,
                .options = cli_no_options,
                .examples = "ferry instance override edit 4210a5c4-9c4e-4d83-b1a0-0c1a6b4b5e01\n"
                            "printf 'cpus: 4\\ncomment: more CPUs on Incus\\n' | ferry instance override edit UUID",
        },
        {
                .name = "remove",
                .args = "UUID",
                .summary = "Remove all overrides of an instance",
                .description = "Remove the overrides: the synced values apply again.",
                .min_args = 1,
                .max_args = 1,
                .run = override_remove,
                .options = cli_no_options,
                .examples = "ferry instance override remove 4210a5c4-9c4e-4d83-b1a0-0c1a6b4b5e01",
        },
        {}
};

const struct cli_command cli_instance_commands[] = {
        {
                .name = "list",
                .args = "[FILTER]",
                .summary = "List instances, optionally those an expression selects",
                .description =
                        "List the instances (source VMs).  FILTER is an expression, as in batches\n"
                        "(see docs/expressions.md).  Columns: NAME, UUID, SOURCE, LOCATION, OS, CPUS,\n"
                        "MEMORY, DISKS (their total size), RUNNING; they show the overrides where\n"
                        "there are any ('ferry instance show' has both).",
                .min_args = 0,
                .max_args = 1,
                .run = instance_list,
                .options = instance_list_options,
                .examples = "ferry instance list\n"
                            "ferry instance list \"location matches 'web' and cpus >= 2\"\n"
                            "ferry instance list -f csv 'running'",
        },
        {
                .name = "show",
                .args = "UUID",
                .summary = "Show an instance as YAML",
                .description = "Show an instance, its synced values and its overrides, as YAML.",
                .min_args = 1,
                .max_args = 1,
                .run = instance_show,
                .options = cli_no_options,
                .examples = "ferry instance show 4210a5c4-9c4e-4d83-b1a0-0c1a6b4b5e01",
        },
        {
                .name = "override",
                .summary = "Show, edit or remove the overrides of an instance",
                .description = "Overrides are the admin's values for an instance; they win over synced ones.",
                .subcommands = instance_override_commands,
        },
        {}
};
