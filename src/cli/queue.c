/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry queue list|show: /1.0/queue.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

/* "1.00GiB/16.00GiB (6%)": bytes copied of all disks, from progress[].done and .total. */
static int render_progress(const json_t *entry, char **ret)
{
        char done_text[FORMAT_SIZE_MAX], total_text[FORMAT_SIZE_MAX];
        uint64_t done = 0, total = 0;
        json_t *disk;
        size_t i;

        json_array_foreach (json_object_get(entry, "progress"), i, disk) {
                json_t *d = json_object_get(disk, "done"), *t = json_object_get(disk, "total");

                if (json_is_integer(d) && json_integer_value(d) > 0)
                        done += (uint64_t) json_integer_value(d);
                if (json_is_integer(t) && json_integer_value(t) > 0)
                        total += (uint64_t) json_integer_value(t);
        }
        if (total == 0) {
                *ret = strdup("");
                return *ret ? 0 : -ENOMEM;
        }
        format_size(done, done_text);
        format_size(total, total_text);
        return asprintf(ret, "%s/%s (%u%%)", done_text, total_text,
                        (unsigned) (done >= total ? 100 : done * 100 / total)) < 0
                       ? -ENOMEM
                       : 0;
}

static const struct column queue_columns[] = {
        COLUMN("INSTANCE", "instance_uuid"),
        COLUMN("BATCH", "batch"),
        COLUMN("STATUS", "status"),
        COLUMN("STAGE", "import_stage"),
        COLUMN("WINDOW", "migration_window"),
        { .header = "PROGRESS", .render = render_progress },
        COLUMN("MESSAGE", "status_message"),
};

static const struct cli_option queue_list_options[] = {
        CLI_OPTION_FORMAT,
        {}
};

static int queue_list(struct cli *cli, int argc, char *argv[])
{
        (void) argc;
        (void) argv;
        return cli_list(cli, "/1.0/queue", NULL, queue_columns, ELEMENTSOF(queue_columns));
}

static int queue_show(struct cli *cli, int argc, char *argv[])
{
        _cleanup_free_ char *path = cli_path("/1.0/queue", argv[1], NULL);

        (void) argc;
        return path ? cli_show(cli, path) : -ENOMEM;
}

const struct cli_command cli_queue_commands[] = {
        {
                .name = "list",
                .args = "",
                .summary = "List queue entries",
                .description = "List the migration queue: one entry per instance of a started batch.\n"
                               "Columns: INSTANCE, BATCH, STATUS, STAGE, WINDOW, PROGRESS (bytes copied of\n"
                               "all disks), MESSAGE.",
                .run = queue_list,
                .options = queue_list_options,
                .examples = "ferry queue list\nferry queue list -f json",
        },
        {
                .name = "show",
                .args = "INSTANCE-UUID",
                .summary = "Show a queue entry as YAML",
                .description = "Show one queue entry, with its placement and progress, as YAML.",
                .min_args = 1,
                .max_args = 1,
                .run = queue_show,
                .options = cli_no_options,
                .examples = "ferry queue show 4210a5c4-9c4e-4d83-b1a0-0c1a6b4b5e01",
        },
        {}
};
