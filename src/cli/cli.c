/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/yaml.h"

const struct cli_option cli_no_options[] = { {} };

int cli_log_error(const struct ferry_error *err)
{
        return log_error_errno(err->code ?: -EIO, "%s", ferry_error_message(err));
}

int cli_connect(struct cli *cli, struct client **ret)
{
        struct ferry_error err = {};
        int r;

        r = cli_remote_connect(cli, ret, &err);
        if (r < 0)
                return cli_log_error(&err);
        return 0;
}

bool cli_is_interactive(void)
{
        return isatty(STDIN_FILENO);
}

char *cli_path(const char *collection, const char *name, const char *suffix)
{
        _cleanup_free_ char *escaped = format_url_escape(name);
        char *path;

        path = escaped ? strjoin(collection, "/", escaped, suffix ?: "", NULL) : NULL;
        if (!path)
                log_error_errno(ENOMEM, "Out of memory");
        return path;
}

int cli_output_format(struct cli *cli, enum output_format *ret)
{
        const char *value = cli->args ? cli_args_get(cli->args, "format") : NULL;
        enum output_format f;

        if (!value) {
                *ret = OUTPUT_FORMAT_TABLE;
                return 0;
        }
        f = output_format_from_string(value);
        if (f < 0)
                return cli_usage_error(cli, "Invalid format '%s': use table, compact, csv, json or yaml", value);
        *ret = f;
        return 0;
}

static int print_text(const char *text)
{
        if (fputs(text, stdout) < 0)
                return log_error_errno(errno ?: EIO, "Failed to write the output: %m");
        return 0;
}

int cli_print_list(const json_t *list, const struct column *columns, size_t n_columns, enum output_format format,
                   cli_view_fn view)
{
        _cleanup_json_ json_t *rows = NULL;
        _cleanup_free_ char *text = NULL;
        int r;

        if (view && format != OUTPUT_FORMAT_JSON && format != OUTPUT_FORMAT_YAML) {
                size_t i;
                json_t *obj;

                rows = json_array();
                if (!rows)
                        return log_error_errno(ENOMEM, "Out of memory");
                json_array_foreach (list, i, obj)
                        if (json_array_append_new(rows, view(obj)) < 0)
                                return log_error_errno(ENOMEM, "Out of memory");
                list = rows;
        }

        r = format_list(list, columns, n_columns, format, &text);
        if (r < 0)
                return log_error_errno(r, "Failed to format the list: %m");
        return print_text(text);
}

int cli_list_with_view(struct cli *cli, const char *collection, const char *filter, const struct column *columns,
                       size_t n_columns, cli_view_fn view)
{
        _cleanup_client_ struct client *c = NULL;
        _cleanup_json_ json_t *list = NULL;
        _cleanup_free_ char *path = NULL, *escaped = NULL;
        struct ferry_error err = {};
        enum output_format format;
        int r;

        r = cli_output_format(cli, &format);
        if (r != 0)
                return r;

        if (filter) {
                escaped = format_url_escape(filter);
                if (!escaped)
                        return log_error_errno(ENOMEM, "Out of memory");
        }
        path = strjoin(collection, "?recursion=1", escaped ? "&filter=" : "", escaped ?: "", NULL);
        if (!path)
                return log_error_errno(ENOMEM, "Out of memory");

        r = cli_connect(cli, &c);
        if (r < 0)
                return r;
        r = client_request(c, "GET", path, NULL, &list, &err);
        if (r < 0)
                return cli_log_error(&err);
        if (!json_is_array(list))
                return log_error_errno(EBADMSG, "The answer of ferryd to GET %s is not a list", path);

        return cli_print_list(list, columns, n_columns, format, view);
}

int cli_list(struct cli *cli, const char *collection, const char *filter, const struct column *columns,
             size_t n_columns)
{
        return cli_list_with_view(cli, collection, filter, columns, n_columns, NULL);
}

int cli_show(struct cli *cli, const char *path)
{
        _cleanup_client_ struct client *c = NULL;
        _cleanup_json_ json_t *obj = NULL;
        _cleanup_free_ char *text = NULL;
        struct ferry_error err = {};
        int r;

        r = cli_connect(cli, &c);
        if (r < 0)
                return r;
        r = client_request(c, "GET", path, NULL, &obj, &err);
        if (r < 0)
                return cli_log_error(&err);

        r = json_to_yaml(obj, &text);
        if (r < 0)
                return log_error_errno(r, "Failed to format the answer as YAML: %m");
        return print_text(text);
}

int cli_send(struct cli *cli, const char *method, const char *path, const json_t *body)
{
        _cleanup_client_ struct client *c = NULL;
        _cleanup_json_ json_t *metadata = NULL;
        struct ferry_error err = {};
        int r;

        r = cli_connect(cli, &c);
        if (r < 0)
                return r;
        r = client_request(c, method, path, body, &metadata, &err);
        if (r < 0)
                return cli_log_error(&err);
        return 0;
}

int cli_remove(struct cli *cli, const char *collection, const char *what, const char *name)
{
        _cleanup_free_ char *path = cli_path(collection, name, NULL);
        int r;

        if (!path)
                return log_error_errno(ENOMEM, "Out of memory");
        r = cli_send(cli, "DELETE", path, NULL);
        if (r < 0)
                return r;
        printf("%s %s removed\n", what, name);
        return 0;
}

int cli_read_file(const char *path, char **ret, size_t *ret_len)
{
        _cleanup_strbuf_ struct strbuf buf = STRBUF_INIT;
        _cleanup_close_ int opened = -EBADF;
        bool use_stdin = streq(path, "-");
        int fd;
        char *s;

        if (use_stdin)
                fd = STDIN_FILENO;
        else {
                opened = open(path, O_RDONLY | O_CLOEXEC);
                if (opened < 0)
                        return log_error_errno(errno, "Cannot open '%s': %m", path);
                fd = opened;
        }

        for (;;) {
                char chunk[65536];
                ssize_t n = read(fd, chunk, sizeof chunk);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(errno, "Cannot read '%s': %m", use_stdin ? "stdin" : path);
                }
                if (n == 0)
                        break;
                if (strbuf_append_len(&buf, chunk, (size_t) n) < 0)
                        return log_error_errno(ENOMEM, "Out of memory");
        }

        if (ret_len)
                *ret_len = buf.len;
        s = strbuf_steal(&buf);
        if (!s)
                return log_error_errno(ENOMEM, "Out of memory");
        *ret = s;
        return 0;
}

int cli_option_int(struct cli *cli, const char *name, json_int_t *ret, bool *ret_given)
{
        const char *value = cli_args_get(cli->args, name);
        char *end;
        long long v;

        if (!value) {
                if (ret_given)
                        *ret_given = false;
                return 0;
        }
        errno = 0;
        v = strtoll(value, &end, 10);
        if (!*value || *end || errno == ERANGE)
                return log_error_errno(EINVAL, "Invalid --%s '%s': not an integer", name, value);
        *ret = (json_int_t) v;
        if (ret_given)
                *ret_given = true;
        return 0;
}

int cli_json_set(json_t *obj, const char *key, json_t *value)
{
        if (!value || json_object_set_new(obj, key, value) < 0)
                return log_error_errno(ENOMEM, "Out of memory");
        return 0;
}

int cli_json_set_string(json_t *obj, const char *key, const char *value, const char *what)
{
        json_t *s = json_string(value);

        if (!s)
                return log_error_errno(EINVAL, "Invalid %s: not valid UTF-8", what);
        return cli_json_set(obj, key, s);
}

json_t *cli_json_child(json_t *obj, const char *key)
{
        json_t *child = json_object_get(obj, key);

        if (json_is_object(child))
                return child;
        child = json_object();
        if (!child || json_object_set_new(obj, key, child) < 0) {
                log_error_errno(ENOMEM, "Out of memory");
                return NULL;
        }
        return child;
}

int cli_json_set_option(struct cli *cli, json_t *obj, const char *key, const char *option)
{
        _cleanup_free_ char *what = NULL;
        const char *value = cli_args_get(cli->args, option);
        int r;

        if (!value)
                return 0;
        what = strjoin("--", option, NULL);
        if (!what)
                return log_error_errno(ENOMEM, "Out of memory");
        r = cli_json_set_string(obj, key, value, what);
        return r < 0 ? r : 1;
}

int cli_json_set_int_option(struct cli *cli, json_t *obj, const char *key, const char *option)
{
        json_int_t v;
        bool given;
        int r;

        r = cli_option_int(cli, option, &v, &given);
        if (r < 0 || !given)
                return r;
        r = cli_json_set(obj, key, json_integer(v));
        return r < 0 ? r : 1;
}
