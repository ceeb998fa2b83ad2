/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry hook add|list|show|remove: /1.0/hooks, Lua scripts whose
 * on_event(event) runs for the lifecycle events they list.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"

/* A field of the newest run, "" when the hook never ran. */
static int render_last(const json_t *hook, const char *field, char **ret)
{
        const json_t *last = json_array_get(json_object_get(json_object_get(hook, "runs"), "last"), 0);
        const char *v = json_string_value(json_object_get(last, field));

        *ret = strdup(v ? v : "");
        return *ret ? 0 : -ENOMEM;
}

static int render_last_started(const json_t *hook, char **ret)
{
        return render_last(hook, "started_at", ret);
}

static int render_last_status(const json_t *hook, char **ret)
{
        return render_last(hook, "status", ret);
}

static int render_last_error(const json_t *hook, char **ret)
{
        return render_last(hook, "error", ret);
}

static const struct column hook_columns[] = {
        COLUMN("NAME", "name"),
        COLUMN("EVENTS", "events"),
        COLUMN_AS("ENABLED", "enabled", COLUMN_YES_NO),
        COLUMN("RUNS", "runs.count"),
        { .header = "LAST RUN", .render = render_last_started },
        { .header = "LAST STATUS", .render = render_last_status },
        { .header = "LAST ERROR", .render = render_last_error },
};

static const struct cli_option hook_add_options[] = {
        { "events", 'e', "ACTION,...", "The event actions to run for, comma-separated ('*' for all)" },
        { "description", 'd', "TEXT", "What the hook is for" },
        { "disabled", 0, NULL, "Store the hook without running it" },
        {}
};

static const struct cli_option hook_list_options[] = {
        CLI_OPTION_FORMAT,
        {}
};

static int hook_add(struct cli *cli, int argc, char *argv[])
{
        _cleanup_json_ json_t *hook = NULL, *events = json_array();
        _cleanup_free_ char *script = NULL, *list = NULL;
        const char *events_arg = cli_args_get(cli->args, "events");
        const char *description = cli_args_get(cli->args, "description");
        size_t len;
        int r;

        (void) argc;
        if (!events_arg)
                return cli_usage_error(cli, "--events is required: the event actions the hook runs for");
        if (!events)
                return log_error_errno(ENOMEM, "Out of memory");
        list = strdup(events_arg);
        if (!list)
                return log_error_errno(ENOMEM, "Out of memory");
        for (char *save = NULL, *e = strtok_r(list, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
                while (*e == ' ')
                        e++;
                if (*e && json_array_append_new(events, json_string(e)) < 0)
                        return log_error_errno(EINVAL, "Invalid --events: not valid UTF-8");
        }

        r = cli_read_file(argv[2], &script, &len);
        if (r < 0)
                return r;
        hook = json_pack("{s:s, s:O, s:b}", "name", argv[1], "events", events, "enabled",
                         !cli_args_has(cli->args, "disabled"));
        if (!hook)
                return log_error_errno(ENOMEM, "Out of memory");
        if (cli_json_set_string(hook, "script", script, "script file") < 0)
                return -EINVAL;
        if (description && cli_json_set_string(hook, "description", description, "--description") < 0)
                return -EINVAL;
        r = cli_send(cli, "POST", "/1.0/hooks", hook);
        if (r < 0)
                return r;
        printf("Hook %s added\n", argv[1]);
        return 0;
}

static int hook_list(struct cli *cli, int argc, char *argv[])
{
        (void) argc;
        (void) argv;
        return cli_list(cli, "/1.0/hooks", NULL, hook_columns, ELEMENTSOF(hook_columns));
}

static int hook_show(struct cli *cli, int argc, char *argv[])
{
        _cleanup_free_ char *path = cli_path("/1.0/hooks", argv[1], NULL);

        (void) argc;
        return path ? cli_show(cli, path) : -ENOMEM;
}

static int hook_remove(struct cli *cli, int argc, char *argv[])
{
        (void) argc;
        return cli_remove(cli, "/1.0/hooks", "Hook", argv[1]);
}

const struct cli_command cli_hook_commands[] = {
        {
                .name = "add",
                .args = "NAME FILE",
                .summary = "Add an event hook from a Lua file",
                .description =
                        "Store the Lua script in FILE ('-' for stdin) as hook NAME.  It must define\n"
                        "on_event(event); ferryd runs it for each lifecycle event whose action is in\n"
                        "--events, one run at a time, and keeps a record of the last runs.  The\n"
                        "script is checked when it is saved (docs/scriptlets.md).",
                .min_args = 2,
                .max_args = 2,
                .run = hook_add,
                .options = hook_add_options,
                .examples = "ferry hook add next-batch scriptlets/hooks/next-batch.lua --events batch-finished\n"
                            "ferry hook add notify notify.lua --events 'batch-created,instance-override-updated'",
        },
        {
                .name = "list",
                .args = "",
                .summary = "List event hooks",
                .description = "List the hooks.  Columns: NAME, EVENTS, ENABLED, RUNS, LAST RUN, LAST STATUS,\n"
                               "LAST ERROR.",
                .run = hook_list,
                .options = hook_list_options,
                .examples = "ferry hook list\nferry hook list -f yaml",
        },
        {
                .name = "show",
                .args = "NAME",
                .summary = "Show a hook, its script and its last runs, as YAML",
                .description = "Show a hook as YAML: its events, script, and under 'runs' how many times it\n"
                               "ran and the last runs, newest first, with their outcome, error and log.",
                .min_args = 1,
                .max_args = 1,
                .run = hook_show,
                .options = cli_no_options,
                .examples = "ferry hook show next-batch",
        },
        {
                .name = "remove",
                .args = "NAME",
                .summary = "Remove a hook",
                .description = "Remove a hook.  A run in progress finishes.",
                .min_args = 1,
                .max_args = 1,
                .run = hook_remove,
                .options = cli_no_options,
                .examples = "ferry hook remove next-batch",
        },
        {}
};
