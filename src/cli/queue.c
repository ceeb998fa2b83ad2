/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry queue list|show: /1.0/queue.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"

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
        COLUMN("NAME", "name"),
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

static int queue_action(struct cli *cli, const char *uuid, const char *action, const char *done)
{
        _cleanup_free_ char *path = cli_path("/1.0/queue", uuid, action);
        _cleanup_free_ char *name = NULL, *status = NULL, *message = NULL;
        _cleanup_json_ json_t *entry = NULL;
        int r;

        if (!path)
                return log_error_errno(ENOMEM, "Out of memory");
        r = cli_run_operation(cli, path, &entry);
        if (r < 0)
                return r;
        name = format_sanitize(json_string_value(json_object_get(entry, "name")) ?: uuid);
        status = format_sanitize(json_string_value(json_object_get(entry, "status")) ?: "");
        message = format_sanitize(json_string_value(json_object_get(entry, "status_message")) ?: "");
        if (!name || !status || !message)
                return log_error_errno(ENOMEM, "Out of memory");
        if (*message && !streq(message, status))
                printf("Queue entry of %s %s: %s: %s\n", name, done, status, message);
        else
                printf("Queue entry of %s %s: %s\n", name, done, status);
        return 0;
}

static int queue_retry(struct cli *cli, int argc, char *argv[])
{
        (void) argc;
        return queue_action(cli, argv[1], "/:retry", "retried");
}

static int queue_cancel(struct cli *cli, int argc, char *argv[])
{
        (void) argc;
        return queue_action(cli, argv[1], "/:cancel", "canceled");
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
        {
                .name = "retry",
                .args = "INSTANCE-UUID",
                .summary = "Retry a Blocked, Error, Canceled or Conflict entry",
                .description =
                        "Evaluate the entry's restrictions and placement again (so an override, a\n"
                        "mapping or a scriptlet fix takes effect) and queue it as Waiting, or Blocked\n"
                        "with the reason.  A Finished or Error batch runs again.",
                .min_args = 1,
                .max_args = 1,
                .run = queue_retry,
                .options = cli_no_options,
                .examples = "ferry instance override edit 4210a5c4-9c4e-4d83-b1a0-0c1a6b4b5e01\n"
                            "ferry queue retry 4210a5c4-9c4e-4d83-b1a0-0c1a6b4b5e01",
        },
        {
                .name = "cancel",
                .args = "INSTANCE-UUID",
                .summary = "Cancel a queue entry",
                .description =
                        "Cancel the migration of one instance: what ferry created on its target is\n"
                        "removed and the entry becomes Canceled ('ferry queue retry' queues it\n"
                        "again).  A Finished entry cannot be canceled.",
                .min_args = 1,
                .max_args = 1,
                .run = queue_cancel,
                .options = cli_no_options,
                .examples = "ferry queue cancel 4210a5c4-9c4e-4d83-b1a0-0c1a6b4b5e01",
        },
        {}
};
