/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry batch add|list|show|edit|remove|info: /1.0/batches.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/yaml.h"
#include "model/model.h"

static const struct column batch_columns[] = {
        COLUMN("NAME", "name"),
        COLUMN("STATUS", "status"),
        COLUMN("INCLUDE EXPRESSION", "include_expression"),
        COLUMN("TARGET", "defaults.placement.target"),
        COLUMN("PROJECT", "defaults.placement.target_project"),
        COLUMN_AS("WINDOWS", "migration_windows", COLUMN_COUNT),
};

static const struct cli_option batch_add_options[] = {
        { "window", 'w', "NAME,START,END[,CAPACITY]", "A migration window, times in RFC 3339 (repeat for several)" },
        { "target", 0, "TARGET", "Default target of the batch's instances" },
        { "project", 0, "PROJECT", "Default Incus project" },
        { "pool", 0, "POOL", "Default Incus storage pool" },
        { "profile", 0, "PROFILE", "Incus profile to apply (repeat for several)" },
        { "placement-scriptlet", 0, "FILE", "Lua placement scriptlet to read from FILE" },
        { "file", 0, "FILE", "Read the batch as YAML from FILE ('-' for stdin); options override it" },
        {}
};

static const struct cli_option batch_list_options[] = {
        CLI_OPTION_FORMAT,
        {}
};

static const char batch_edit_header[] =
        "### This is a YAML representation of a batch.  Lines starting with '#' are ignored.\n"
        "###\n"
        "### Editable: include_expression, migration_windows (name, start, end, lockout,\n"
        "### capacity), constraints (name, include_expression, max_concurrent_instances,\n"
        "### min_instance_boot_time), defaults.placement (target, target_project,\n"
        "### storage_pool, profiles) and config (placement_scriptlet, rerun_scriptlets,\n"
        "### post_migration_retries, background_sync_interval, final_background_sync_limit,\n"
        "### instance_restriction_overrides).  name and status are read-only.\n"
        "###\n"
        "### A window looks like:\n"
        "###   migration_windows:\n"
        "###   - name: sat-night\n"
        "###     start: '2026-11-28T22:00:00Z'\n"
        "###     end: '2026-11-29T04:00:00Z'\n"
        "###     capacity: 20\n";

/* "NAME,START,END[,CAPACITY]" */
static int window_from_option(const char *value, json_t **ret)
{
        _cleanup_free_ char *copy = strdup(value);
        _cleanup_json_ json_t *w = NULL;
        char *fields[5] = {}, *p, *end;
        size_t n = 0;
        long long capacity;

        if (!copy)
                return log_error_errno(ENOMEM, "Out of memory");
        for (p = copy; n < ELEMENTSOF(fields); n++) {
                fields[n] = p;
                p = strchr(p, ',');
                if (!p) {
                        n++;
                        break;
                }
                *p++ = '\0';
        }
        if (n < 3 || n > 4 || p || !*fields[0] || !*fields[1] || !*fields[2])
                return log_error_errno(EINVAL, "Invalid --window '%s': use NAME,START,END[,CAPACITY]", value);

        w = json_object();
        if (!w || cli_json_set_string(w, "name", fields[0], "--window") < 0 ||
            cli_json_set_string(w, "start", fields[1], "--window") < 0 ||
            cli_json_set_string(w, "end", fields[2], "--window") < 0)
                return -EINVAL;
        if (n == 4) {
                errno = 0;
                capacity = strtoll(fields[3], &end, 10);
                if (!*fields[3] || *end || errno == ERANGE)
                        return log_error_errno(EINVAL, "Invalid --window '%s': the capacity '%s' is not an integer",
                                               value, fields[3]);
                if (cli_json_set(w, "capacity", json_integer(capacity)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(w);
        return 0;
}

static int batch_apply_options(struct cli *cli, json_t *batch)
{
        char *const *windows = cli_args_get_all(cli->args, "window", NULL);
        char *const *profiles = cli_args_get_all(cli->args, "profile", NULL);
        const char *scriptlet = cli_args_get(cli->args, "placement-scriptlet");
        json_t *defaults, *placement, *list;
        int r;

        if (*windows) {
                list = json_array();
                if (cli_json_set(batch, "migration_windows", list) < 0)
                        return -ENOMEM;
                for (char *const *w = windows; *w; w++) {
                        json_t *window = NULL;

                        r = window_from_option(*w, &window);
                        if (r < 0)
                                return r;
                        if (json_array_append_new(list, window) < 0)
                                return log_error_errno(ENOMEM, "Out of memory");
                }
        }

        if (cli_args_has(cli->args, "target") || cli_args_has(cli->args, "project") ||
            cli_args_has(cli->args, "pool") || *profiles) {
                defaults = cli_json_child(batch, "defaults");
                placement = defaults ? cli_json_child(defaults, "placement") : NULL;
                if (!placement)
                        return -ENOMEM;
                if ((r = cli_json_set_option(cli, placement, "target", "target")) < 0 ||
                    (r = cli_json_set_option(cli, placement, "target_project", "project")) < 0 ||
                    (r = cli_json_set_option(cli, placement, "storage_pool", "pool")) < 0)
                        return r;
                if (*profiles) {
                        list = json_array();
                        if (cli_json_set(placement, "profiles", list) < 0)
                                return -ENOMEM;
                        for (char *const *p = profiles; *p; p++) {
                                json_t *s = json_string(*p);

                                if (!s)
                                        return log_error_errno(EINVAL, "Invalid --profile: not valid UTF-8");
                                if (json_array_append_new(list, s) < 0)
                                        return log_error_errno(ENOMEM, "Out of memory");
                        }
                }
        }

        if (scriptlet) {
                _cleanup_free_ char *text = NULL;
                json_t *config;

                r = cli_read_file(scriptlet, &text, NULL);
                if (r < 0)
                        return r;
                config = cli_json_child(batch, "config");
                if (!config || cli_json_set_string(config, "placement_scriptlet", text, "--placement-scriptlet") < 0)
                        return -EINVAL;
        }
        return 0;
}

/* A batch from YAML text; where names "--file 'x'" or "stdin" for messages. */
static int batch_from_yaml(const char *text, size_t len, const char *where, json_t **ret)
{
        _cleanup_json_ json_t *v = NULL;
        struct ferry_error err = {};
        int r;

        r = yaml_parse_to_json(text, len, &v, &err);
        if (r < 0) {
                ferry_error_prefix(&err, "Invalid batch in %s", where);
                return cli_log_error(&err);
        }
        if (!json_is_object(v))
                return log_error_errno(EINVAL, "Invalid batch in %s: not a mapping of fields", where);
        *ret = TAKE_PTR(v);
        return 0;
}

static int batch_add(struct cli *cli, int argc, char *argv[])
{
        _cleanup_json_ json_t *batch = NULL;
        _cleanup_free_ char *text = NULL, *where = NULL, *answer = NULL;
        const char *name = argv[1], *file = cli_args_get(cli->args, "file");
        const char *existing;
        size_t len = 0;
        int r;

        /* Where the batch comes from: --file, YAML piped in, or the options alone. */
        if (!file && argc < 3 && !cli_is_interactive()) {
                r = cli_read_file("-", &text, &len);
                if (r < 0)
                        return r;
                if (len > 0)
                        where = strdup("stdin");
        } else if (file) {
                r = cli_read_file(file, &text, &len);
                if (r < 0)
                        return r;
                where = streq(file, "-") ? strdup("stdin") : strjoin("'", file, "'", NULL);
        }
        if (text && len > 0) {
                if (!where)
                        return log_error_errno(ENOMEM, "Out of memory");
                r = batch_from_yaml(text, len, where, &batch);
                if (r < 0)
                        return r;
        } else
                batch = json_object();
        if (!batch)
                return log_error_errno(ENOMEM, "Out of memory");

        existing = json_string_value(json_object_get(batch, "name"));
        if (existing && !streq(existing, name))
                return log_error_errno(EINVAL, "The batch in %s is named '%s', not '%s'", where, existing, name);
        if (cli_json_set_string(batch, "name", name, "NAME") < 0)
                return -EINVAL;
        if (argc > 2 && cli_json_set_string(batch, "include_expression", argv[2], "EXPRESSION") < 0)
                return -EINVAL;

        r = batch_apply_options(cli, batch);
        if (r < 0)
                return r;

        if (!json_object_get(batch, "include_expression")) {
                if (!cli_is_interactive())
                        return log_error_errno(EINVAL, "Missing EXPRESSION (or a YAML batch with --file or on stdin)");
                r = cli_prompt("Include expression (e.g. location matches 'web' and cpus <= 8): ", &answer);
                if (r < 0 || (r = cli_json_set_string(batch, "include_expression", answer, "expression")) < 0)
                        return r;
        }

        r = cli_send(cli, "POST", "/1.0/batches", batch);
        if (r < 0)
                return r;
        printf("Batch %s added\n", name);
        return 0;
}

static int batch_list(struct cli *cli, int argc, char *argv[])
{
        (void) argc;
        (void) argv;
        return cli_list(cli, "/1.0/batches", NULL, batch_columns, ELEMENTSOF(batch_columns));
}

static int batch_show(struct cli *cli, int argc, char *argv[])
{
        _cleanup_free_ char *path = cli_path("/1.0/batches", argv[1], NULL);

        (void) argc;
        return path ? cli_show(cli, path) : -ENOMEM;
}

static int batch_edit(struct cli *cli, int argc, char *argv[])
{
        _cleanup_free_ char *path = cli_path("/1.0/batches", argv[1], NULL);

        (void) argc;
        return path ? cli_edit(cli, path, batch_edit_header) : -ENOMEM;
}

static int batch_remove(struct cli *cli, int argc, char *argv[])
{
        (void) argc;
        return cli_remove(cli, "/1.0/batches", "Batch", argv[1]);
}

/* Server text for the terminal; "" when missing.  free() it. */
static char *clean_text(const json_t *v)
{
        return format_sanitize(json_string_value(v) ?: "");
}

static void print_instance_reason(const char *what, const json_t *item, const char *key)
{
        _cleanup_free_ char *name = clean_text(json_object_get(item, "name"));
        _cleanup_free_ char *reason = clean_text(json_object_get(item, key));

        if (name && reason)
                printf("  %s %s: %s\n", what, name, reason);
}

/* POST /1.0/batches/NAME/<action> and wait: *ret_metadata its result. */
static int batch_action(struct cli *cli, const char *name, const char *action, json_t **ret_metadata)
{
        _cleanup_free_ char *path = cli_path("/1.0/batches", name, action);

        if (!path)
                return log_error_errno(ENOMEM, "Out of memory");
        return cli_run_operation(cli, path, ret_metadata);
}

static int batch_start(struct cli *cli, int argc, char *argv[])
{
        _cleanup_json_ json_t *md = NULL;
        const json_t *item;
        size_t i;
        int r;

        (void) argc;
        r = batch_action(cli, argv[1], "/:start", &md);
        if (r < 0)
                return r;
        if (!json_object_get(md, "queued")) {
                printf("Batch %s running again\n", argv[1]);
                return 0;
        }
        printf("Batch %s started: %lld queued (%lld waiting, %lld blocked), %zu skipped\n", argv[1],
               json_integer_value(json_object_get(md, "queued")), json_integer_value(json_object_get(md, "waiting")),
               json_integer_value(json_object_get(md, "blocked")), json_array_size(json_object_get(md, "skipped")));
        json_array_foreach(json_object_get(md, "entries"), i, item)
                if (streq_ptr(json_string_value(json_object_get(item, "status")), "Blocked"))
                        print_instance_reason("Blocked", item, "status_message");
        json_array_foreach(json_object_get(md, "skipped"), i, item)
                print_instance_reason("Skipped", item, "reason");
        return 0;
}

static int batch_stop(struct cli *cli, int argc, char *argv[])
{
        _cleanup_json_ json_t *md = NULL;
        int r;

        (void) argc;
        r = batch_action(cli, argv[1], "/:stop", &md);
        if (r < 0)
                return r;
        printf("Batch %s stopped: no new migration step starts until 'ferry batch start %s'\n", argv[1], argv[1]);
        return 0;
}

static int batch_reset(struct cli *cli, int argc, char *argv[])
{
        _cleanup_json_ json_t *md = NULL;
        int r;

        (void) argc;
        r = batch_action(cli, argv[1], "/:reset", &md);
        if (r < 0)
                return r;
        printf("Batch %s reset to Defined: %lld queue entries removed, %lld finished kept\n", argv[1],
               json_integer_value(json_object_get(md, "removed")), json_integer_value(json_object_get(md, "kept")));
        return 0;
}

/* Text from the server, made safe for the terminal. */
static int append_clean(struct strbuf *out, const json_t *v)
{
        _cleanup_free_ char *clean = format_sanitize(json_string_value(v) ?: "");

        return clean ? strbuf_append(out, clean) : -ENOMEM;
}

static int print_summary(const json_t *batch, size_t n_instances)
{
        _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
        const json_t *placement = json_object_get(json_object_get(batch, "defaults"), "placement");
        const json_t *windows = json_object_get(batch, "migration_windows");
        const char *target = json_string_value(json_object_get(placement, "target"));
        int r = 0;
        size_t i;
        json_t *w;

        r |= strbuf_append(&out, "Name: ") | append_clean(&out, json_object_get(batch, "name"));
        r |= strbuf_append(&out, "\nStatus: ") | append_clean(&out, json_object_get(batch, "status"));
        r |= strbuf_append(&out, "\nInclude expression: ") |
             append_clean(&out, json_object_get(batch, "include_expression"));
        if (target && *target) {
                r |= strbuf_append(&out, "\nTarget: ") | append_clean(&out, json_object_get(placement, "target"));
                r |= strbuf_append(&out, " (project '") |
                     append_clean(&out, json_object_get(placement, "target_project"));
                r |= strbuf_append(&out, "', pool '") | append_clean(&out, json_object_get(placement, "storage_pool"));
                r |= strbuf_append(&out, "')");
        }
        r |= strbuf_appendf(&out, "\nMigration windows: %zu\n", json_array_size(windows));
        json_array_foreach (windows, i, w) {
                json_t *capacity = json_object_get(w, "capacity");

                r |= strbuf_append(&out, "  ") | append_clean(&out, json_object_get(w, "name"));
                r |= strbuf_append(&out, ": ") | append_clean(&out, json_object_get(w, "start"));
                r |= strbuf_append(&out, " to ") | append_clean(&out, json_object_get(w, "end"));
                if (json_is_integer(capacity))
                        r |= strbuf_appendf(&out, " (capacity %" JSON_INTEGER_FORMAT ")", json_integer_value(capacity));
                r |= strbuf_append(&out, "\n");
        }
        r |= strbuf_appendf(&out, "Instances: %zu\n", n_instances);
        if (r < 0)
                return log_error_errno(ENOMEM, "Out of memory");
        fputs(strbuf_str(&out), stdout);
        return 0;
}

static const struct column placement_columns[] = {
        COLUMN("INSTANCE", "name"),
        COLUMN("PLACEMENT", "status"),
        COLUMN("TARGET", "target"),
        COLUMN("PROJECT", "project"),
        COLUMN("POOLS", "pools"),
        COLUMN("NETWORKS", "networks"),
        COLUMN("DETAIL", "detail"),
};

/* Ask for the placement dry run and wait for its operation; its metadata in *ret. */
static int placement_dry_run(struct client *c, const char *name, json_t **ret, struct ferry_error *err)
{
        _cleanup_free_ char *path = cli_path("/1.0/batches", name, "/placement"), *op_path = NULL;
        _cleanup_json_ json_t *envelope = NULL;
        const char *id;
        int r;

        if (!path)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = client_request_envelope(c, "GET", path, NULL, 0, &envelope, err);
        if (r < 0)
                return r;
        if (!streq_ptr(json_string_value(json_object_get(envelope, "type")), "async")) {
                json_t *md = NULL;

                r = client_envelope_metadata(envelope, "GET", path, &md, err);
                json_decref(md);
                return r < 0 ? r : ferry_error_set(err, -EBADMSG, "ferryd answered GET %s without an operation", path);
        }
        id = json_string_value(json_object_get(json_object_get(envelope, "metadata"), "id"));
        op_path = id ? cli_path("/1.0/operations", id, NULL) : NULL;
        if (!op_path)
                return ferry_error_set(err, -EBADMSG, "ferryd started a dry run without an operation id");
        for (;;) {
                _cleanup_json_ json_t *op = NULL;
                struct timespec ts = { .tv_nsec = 100 * 1000 * 1000 };
                const char *status;

                r = client_request(c, "GET", op_path, NULL, &op, err);
                if (r < 0)
                        return r;
                status = json_string_value(json_object_get(op, "status"));
                if (streq_ptr(status, "Success")) {
                        *ret = json_incref(json_object_get(op, "metadata"));
                        return 0;
                }
                if (!streq_ptr(status, "Running"))
                        return ferry_error_set(err, -EIO, "Placement dry run failed: %s",
                                               json_string_value(json_object_get(op, "err")) ?: "?");
                nanosleep(&ts, NULL);
        }
}

/* One row of the placement table from one dry-run result. */
static json_t *placement_row(const json_t *result)
{
        const json_t *p = json_object_get(result, "placement"), *item;
        _cleanup_strbuf_ struct strbuf pools = STRBUF_INIT, nets = STRBUF_INIT;
        const char *status = json_string_value(json_object_get(result, "status")) ?: "";
        const char *detail = json_string_value(json_object_get(result, streq(status, "Blocked") ? "reason" : "error"));
        size_t i;

        json_array_foreach(json_object_get(p, "disks"), i, item)
                if (strbuf_appendf(&pools, "%s%s=%s", i ? ", " : "", json_string_value(json_object_get(item, "name")),
                                   json_string_value(json_object_get(item, "pool"))) < 0)
                        return NULL;
        json_array_foreach(json_object_get(p, "nics"), i, item) {
                const char *vlan = json_string_value(json_object_get(item, "vlan"));

                if (strbuf_appendf(&nets, "%s%s=%s (%s%s%s)", i ? ", " : "",
                                   json_string_value(json_object_get(item, "hardware_address")),
                                   json_string_value(json_object_get(item, "network")),
                                   json_string_value(json_object_get(item, "nictype")), vlan && *vlan ? ", vlan " : "",
                                   vlan && *vlan ? vlan : "") < 0)
                        return NULL;
        }
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "name",
                         json_string_value(json_object_get(result, "name")) ?: "", "status", status, "target",
                         json_string_value(json_object_get(p, "target")) ?: "", "project",
                         json_string_value(json_object_get(p, "target_project")) ?: "", "pools", strbuf_str(&pools),
                         "networks", strbuf_str(&nets), "detail", detail ?: "");
}

static int print_placement(const json_t *dry_run, enum output_format format)
{
        _cleanup_json_ json_t *rows = json_array();
        const json_t *result;
        size_t i;

        if (!rows)
                return log_error_errno(ENOMEM, "Out of memory");
        json_array_foreach(json_object_get(dry_run, "instances"), i, result)
                if (json_array_append_new(rows, placement_row(result)) < 0)
                        return log_error_errno(ENOMEM, "Out of memory");
        printf("Placement: %lld placed, %lld blocked, %lld failed, %lld skipped\n",
               (long long) json_integer_value(json_object_get(dry_run, "placed")),
               (long long) json_integer_value(json_object_get(dry_run, "blocked")),
               (long long) json_integer_value(json_object_get(dry_run, "failed")),
               (long long) json_integer_value(json_object_get(dry_run, "skipped")));
        return cli_print_list(rows, placement_columns, ELEMENTSOF(placement_columns), format, NULL);
}

static int batch_info(struct cli *cli, int argc, char *argv[])
{
        _cleanup_client_ struct client *c = NULL;
        _cleanup_json_ json_t *batch = NULL, *instances = NULL, *both = NULL, *placement = NULL;
        _cleanup_free_ char *path = NULL, *instances_path = NULL, *text = NULL;
        struct ferry_error err = {};
        enum output_format format;
        int r;

        (void) argc;
        r = cli_output_format(cli, &format);
        if (r != 0)
                return r;
        path = cli_path("/1.0/batches", argv[1], NULL);
        instances_path = cli_path("/1.0/batches", argv[1], "/instances?recursion=1");
        if (!path || !instances_path)
                return -ENOMEM;

        r = cli_connect(cli, &c);
        if (r < 0)
                return r;
        r = client_request(c, "GET", path, NULL, &batch, &err);
        if (r >= 0)
                r = client_request(c, "GET", instances_path, NULL, &instances, &err);
        if (r >= 0 && format != OUTPUT_FORMAT_CSV)
                r = placement_dry_run(c, argv[1], &placement, &err);
        if (r < 0)
                return cli_log_error(&err);
        if (!json_is_array(instances))
                return log_error_errno(EBADMSG, "The answer of ferryd to GET %s is not a list", instances_path);

        if (format == OUTPUT_FORMAT_JSON || format == OUTPUT_FORMAT_YAML) {
                both = json_pack("{s:O,s:O,s:O}", "batch", batch, "instances", instances, "placement", placement);
                if (!both)
                        return log_error_errno(ENOMEM, "Out of memory");
                if (format == OUTPUT_FORMAT_YAML)
                        r = json_to_yaml(both, &text);
                else {
                        _cleanup_free_ char *line = json_dumps(both, JSON_COMPACT);

                        text = line ? strjoin(line, "\n", NULL) : NULL;
                        r = text ? 0 : -ENOMEM;
                }
                if (r < 0)
                        return log_error_errno(r, "Failed to format the answer: %m");
                fputs(text, stdout);
                return 0;
        }

        /* CSV is the instances alone, so that it stays CSV. */
        if (format != OUTPUT_FORMAT_CSV) {
                r = print_summary(batch, json_array_size(instances));
                if (r < 0)
                        return r;
        }
        r = cli_print_list(instances, cli_instance_columns, cli_instance_n_columns, format,
                           model_instance_effective);
        if (r < 0 || format == OUTPUT_FORMAT_CSV)
                return r;
        fputs("\n", stdout);
        return print_placement(placement, format);
}

const struct cli_command cli_batch_commands[] = {
        {
                .name = "add",
                .args = "NAME [EXPRESSION]",
                .summary = "Add a batch",
                .description =
                        "Add a batch of the instances that EXPRESSION selects (see docs/expressions.md).\n"
                        "The whole batch can come as YAML, from --file or on stdin (when stdin is\n"
                        "not a terminal and no EXPRESSION is given), with the same fields that\n"
                        "'ferry batch show' prints; options override what the YAML says.",
                .min_args = 1,
                .max_args = 2,
                .run = batch_add,
                .options = batch_add_options,
                .examples = "ferry batch add wave1 \"location matches 'web' and cpus <= 8\" \\\n"
                            "    --window sat-night,2026-11-28T22:00:00Z,2026-11-29T04:00:00Z,20 \\\n"
                            "    --target incus1 --project default --pool default --profile default\n"
                            "ferry batch add wave2 'os_type == \"linux\"' --placement-scriptlet place.lua\n"
                            "ferry batch add wave3 --file wave3.yaml\n"
                            "ferry batch show wave1 | sed 's/wave1/wave4/' | ferry batch add wave4",
        },
        {
                .name = "list",
                .args = "",
                .summary = "List batches",
                .description = "List the batches.  Columns: NAME, STATUS, INCLUDE EXPRESSION, TARGET, PROJECT,\n"
                               "WINDOWS (how many).",
                .run = batch_list,
                .options = batch_list_options,
                .examples = "ferry batch list\nferry batch list -f yaml",
        },
        {
                .name = "show",
                .args = "NAME",
                .summary = "Show a batch as YAML",
                .description = "Show a batch as YAML.",
                .min_args = 1,
                .max_args = 1,
                .run = batch_show,
                .options = cli_no_options,
                .examples = "ferry batch show wave1",
        },
        {
                .name = "edit",
                .args = "NAME",
                .summary = "Edit a batch as YAML",
                .description =
                        "Open the batch as YAML in $EDITOR (or $VISUAL, or vi) and save what comes\n"
                        "back.  A change ferryd refuses re-opens the editor with the reason.  When\n"
                        "stdin is not a terminal, the YAML on stdin replaces the batch.",
                .min_args = 1,
                .max_args = 1,
                .run = batch_edit,
                .options = cli_no_options,
                .examples = "ferry batch edit wave1\n"
                            "ferry batch show wave1 | sed 's/cpus <= 8/cpus <= 16/' | ferry batch edit wave1",
        },
        {
                .name = "remove",
                .args = "NAME",
                .summary = "Remove a batch",
                .description = "Remove a batch.",
                .min_args = 1,
                .max_args = 1,
                .run = batch_remove,
                .options = cli_no_options,
                .examples = "ferry batch remove wave1",
        },
        {
                .name = "start",
                .args = "NAME",
                .summary = "Start a batch: queue its instances for migration",
                .description =
                        "Start a Defined batch: every instance its expression selects is queued, as\n"
                        "Waiting (placed: target, project, pools, networks) or Blocked (a restriction\n"
                        "or a failed placement; the message says what to change, then use\n"
                        "'ferry queue retry').  Instances whose migration is disabled or that another\n"
                        "batch queued are skipped.  At least one instance must be queued, and at\n"
                        "least one migration window must not have ended (or there are none).\n"
                        "A Stopped batch runs again with the entries it has.",
                .min_args = 1,
                .max_args = 1,
                .run = batch_start,
                .options = cli_no_options,
                .examples = "ferry batch start wave1\nferry queue list",
        },
        {
                .name = "stop",
                .args = "NAME",
                .summary = "Stop a running batch",
                .description = "Stop a Running batch: no new migration step starts for its entries until it\n"
                               "is started again.  Entries keep their state.",
                .min_args = 1,
                .max_args = 1,
                .run = batch_stop,
                .options = cli_no_options,
                .examples = "ferry batch stop wave1\nferry batch start wave1",
        },
        {
                .name = "reset",
                .args = "NAME",
                .summary = "Reset a batch to Defined",
                .description =
                        "Reset a Stopped, Finished or Error batch to Defined: what ferry created on\n"
                        "targets for its unfinished entries is removed and those entries go.  Finished\n"
                        "entries stay as the record of migrated VMs, so they are never queued twice.\n"
                        "Refused while an entry is at work: stop the batch and wait, or cancel it.",
                .min_args = 1,
                .max_args = 1,
                .run = batch_reset,
                .options = cli_no_options,
                .examples = "ferry batch stop wave1\nferry batch reset wave1",
        },
        {
                .name = "info",
                .args = "NAME",
                .summary = "Show a batch, the instances it selects and where they would go",
                .description =
                        "Show a summary of the batch and the instances its expression selects now,\n"
                        "in the columns of 'ferry instance list', then a placement dry run: for\n"
                        "each instance, where its placement scriptlet, the batch defaults and the\n"
                        "network mappings put it, or why it is blocked or cannot be placed.  With\n"
                        "-f json or yaml, one object with 'batch', 'instances' and 'placement'\n"
                        "(GET /1.0/batches/NAME/placement); with -f csv, the instances alone.",
                .min_args = 1,
                .max_args = 1,
                .run = batch_info,
                .options = batch_list_options,
                .examples = "ferry batch info wave1\nferry batch info wave1 -f csv",
        },
        {}
};
