/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry monitor: print ferryd's events as they happen (GET /1.0/events).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/event-stream.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/yaml.h"

enum monitor_format {
        MONITOR_FORMAT_PRETTY,  /* one line per event */
        MONITOR_FORMAT_JSON,    /* one compact JSON object per line */
        MONITOR_FORMAT_YAML,    /* one YAML document per event */
        _MONITOR_FORMAT_MAX,
        _MONITOR_FORMAT_INVALID = -EINVAL,
};

static const char *const monitor_format_table[_MONITOR_FORMAT_MAX] = {
        [MONITOR_FORMAT_PRETTY] = "pretty",
        [MONITOR_FORMAT_JSON] = "json",
        [MONITOR_FORMAT_YAML] = "yaml",
};

const struct cli_option cli_monitor_options[] = {
        { "type", 0, "TYPES", "Only these event types, comma-separated: lifecycle, operation, logging (default: all)" },
        { "format", 'f', "FORMAT", "Output format: pretty (default), json or yaml" },
        { "count", 0, "N", "Exit after N events" },
        {}
};

struct monitor {
        const char *types;              /* --type as given, NULL for every type */
        enum monitor_format format;
        uint64_t count;                 /* --count: stop after that many events; 0: never */
        uint64_t seen;
};

/* Terminal-safe text from ferryd (format_sanitize()): an event cannot
 * move the cursor or forge a line. */
static int monitor_append_sanitized(struct strbuf *sb, const char *s)
{
        _cleanup_free_ char *clean = format_sanitize(s ?: "");

        if (!clean)
                return -ENOMEM;
        return strbuf_append(sb, clean);
}

static const char *monitor_string(const json_t *obj, const char *key)
{
        return json_string_value(json_object_get(obj, key)) ?: "";
}

/* "TIMESTAMP TYPE ..." with what matters for each type. */
static int monitor_format_pretty(const json_t *event, char **ret)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        _cleanup_free_ char *rest = NULL;
        const json_t *metadata = json_object_get(event, "metadata");
        const char *type = monitor_string(event, "type");
        const char *key;
        json_t *value;
        int r;

        r = monitor_append_sanitized(&sb, monitor_string(event, "timestamp"));
        if (r >= 0)
                r = strbuf_append(&sb, " ");
        if (r >= 0)
                r = monitor_append_sanitized(&sb, type);
        if (r < 0)
                return r;

        if (streq(type, "lifecycle")) {
                r = strbuf_append(&sb, " ");
                if (r >= 0)
                        r = monitor_append_sanitized(&sb, monitor_string(metadata, "action"));
                if (r >= 0)
                        r = strbuf_append(&sb, " ");
                if (r >= 0)
                        r = monitor_append_sanitized(&sb, monitor_string(metadata, "source"));
        } else if (streq(type, "logging")) {
                r = strbuf_append(&sb, " ");
                if (r >= 0)
                        r = monitor_append_sanitized(&sb, monitor_string(metadata, "level"));
                if (r >= 0)
                        r = strbuf_append(&sb, " ");
                if (r >= 0)
                        r = monitor_append_sanitized(&sb, monitor_string(metadata, "message"));
                json_object_foreach((json_t *) json_object_get(metadata, "context"), key, value) {
                        _cleanup_free_ char *text = json_is_string(value) ? NULL : json_dump_compact(value);

                        if (r >= 0)
                                r = strbuf_append(&sb, " ");
                        if (r >= 0)
                                r = monitor_append_sanitized(&sb, key);
                        if (r >= 0)
                                r = strbuf_append(&sb, "=");
                        if (r >= 0)
                                r = monitor_append_sanitized(&sb, text ?: json_string_value(value));
                }
        } else if (streq(type, "operation")) {
                r = strbuf_append(&sb, " ");
                if (r >= 0)
                        r = monitor_append_sanitized(&sb, monitor_string(metadata, "id"));
                if (r >= 0)
                        r = strbuf_append(&sb, " ");
                if (r >= 0)
                        r = monitor_append_sanitized(&sb, monitor_string(metadata, "status"));
                if (r >= 0)
                        r = strbuf_append(&sb, " ");
                if (r >= 0)
                        r = monitor_append_sanitized(&sb, monitor_string(metadata, "description"));
        } else if (metadata) {
                /* A type this client does not know: its metadata as it is. */
                rest = json_dump_compact(metadata);
                if (!rest)
                        return -ENOMEM;
                r = strbuf_append(&sb, " ");
                if (r >= 0)
                        r = monitor_append_sanitized(&sb, rest);
        }
        if (r >= 0)
                r = strbuf_append(&sb, "\n");
        if (r < 0)
                return r;

        *ret = strbuf_steal(&sb);
        return *ret ? 0 : -ENOMEM;
}

static int monitor_format_event(const json_t *event, enum monitor_format format, char **ret)
{
        _cleanup_free_ char *text = NULL;
        char *s;
        int r;

        switch (format) {
        case MONITOR_FORMAT_PRETTY:
                return monitor_format_pretty(event, ret);

        case MONITOR_FORMAT_JSON:
                text = json_dump_compact(event);
                if (!text)
                        return -ENOMEM;
                s = strjoin(text, "\n", NULL);
                break;

        case MONITOR_FORMAT_YAML:
                r = json_to_yaml(event, &text);
                if (r < 0)
                        return r;
                s = strjoin("---\n", text, NULL);
                break;

        default:
                return -EINVAL;
        }
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int monitor_print_event(json_t *event, void *userdata)
{
        struct monitor *m = userdata;
        _cleanup_free_ char *text = NULL;
        int r;

        r = monitor_format_event(event, m->format, &text);
        if (r < 0)
                return log_error_errno(r, "Failed to format an event: %m");

        /* Each event as soon as it arrives, also into a pipe. */
        if (fputs(text, stdout) < 0 || fflush(stdout) != 0)
                return log_error_errno(errno ?: EIO, "Failed to write the output: %m");

        m->seen++;
        return m->count > 0 && m->seen >= m->count ? 1 : 0;
}

static int monitor_parse_count(const char *s, uint64_t *ret)
{
        char *end;
        uint64_t n;

        if (!*s || *s == '-' || *s == '+')
                return -EINVAL;
        errno = 0;
        n = strtoull(s, &end, 10);
        if (errno != 0 || *end || n == 0)
                return -EINVAL;
        *ret = n;
        return 0;
}

/* The options; CLI_EXIT_USAGE after saying what is wrong. */
static int monitor_parse_options(struct cli *cli, struct monitor *m)
{
        const char *format = cli_args_get(cli->args, "format");
        const char *count = cli_args_get(cli->args, "count");
        int f;

        m->types = cli_args_get(cli->args, "type");

        if (format) {
                f = string_table_lookup(monitor_format_table, _MONITOR_FORMAT_MAX, format);
                if (f < 0)
                        return cli_usage_error(cli, "Invalid format '%s': use pretty, json or yaml", format);
                m->format = f;
        }

        if (count && monitor_parse_count(count, &m->count) < 0)
                return cli_usage_error(cli, "Invalid --count '%s': must be a number of at least 1", count);
        return 0;
}

/*
 * The websocket did not come up.  A plain GET of the same path goes
 * through the same checks in ferryd and answers with an error envelope,
 * whose message says why (an unknown type, an untrusted client); if it
 * cannot connect either, the REST client says why better than lws does.
 */
static int monitor_explain_failure(struct cli *cli, const char *path, const struct ferry_error *stream_err)
{
        _cleanup_client_ struct client *c = NULL;
        _cleanup_json_ json_t *metadata = NULL;
        struct ferry_error err = {};
        int r;

        r = cli_remote_connect(cli, &c, &err);
        if (r >= 0)
                r = client_request(c, "GET", path, NULL, &metadata, &err);
        if (r < 0)
                return cli_log_error(&err);
        return cli_log_error(stream_err);
}

int cli_monitor(struct cli *cli, int argc, char *argv[])
{
        _cleanup_free_ char *escaped = NULL, *path = NULL;
        _cleanup_(cli_remote_done) struct cli_remote remote = {};
        struct monitor m = {};
        struct ferry_error err = {};
        int r;

        (void) argc;
        (void) argv;

        r = monitor_parse_options(cli, &m);
        if (r != 0)
                return r;

        if (m.types) {
                escaped = format_url_escape(m.types);
                path = escaped ? strjoin("/1.0/events?type=", escaped, NULL) : NULL;
        } else
                path = strdup("/1.0/events");
        if (!path)
                return log_error_errno(ENOMEM, "Out of memory");

        r = cli_remote_resolve(cli, &remote, &err);
        if (r < 0)
                return cli_log_error(&err);
        r = event_stream_run(&(struct event_stream_config) {
                                     .socket_path = remote.socket_path,
                                     .https_addr = remote.addr,
                                     .fingerprint = remote.socket_path ? NULL : remote.fingerprint,
                                     .cert_path = remote.cert_path,
                                     .key_path = remote.key_path,
                                     .path = path,
                             },
                             monitor_print_event, &m, &err);
        if (r == -ECONNREFUSED)
                return monitor_explain_failure(cli, path, &err);
        if (r < 0 && err.code < 0)
                return cli_log_error(&err);
        return r;       /* 0, or a failure monitor_print_event() reported */
}
