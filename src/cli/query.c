/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry query: one raw request to the REST API, like `incus query`.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"

const struct cli_option cli_query_options[] = {
        { "request", 'X', "METHOD", "HTTP method: GET (default; POST with --data), PUT, PATCH, DELETE..." },
        { "data", 'd', "JSON", "Request body, sent as it is ('-' reads it from stdin)" },
        { "raw", 0, NULL, "Print the whole answer envelope, not just its metadata" },
        {}
};

static int print_json(const json_t *v)
{
        _cleanup_free_ char *text = NULL;

        if (json_is_null(v))
                return 0;
        text = json_dumps(v, JSON_INDENT(4) | JSON_ENCODE_ANY);
        if (!text)
                return log_error_errno(ENOMEM, "Out of memory");
        printf("%s\n", text);
        return 0;
}

int cli_query(struct cli *cli, int argc, char *argv[])
{
        _cleanup_client_ struct client *c = NULL;
        _cleanup_json_ json_t *envelope = NULL, *metadata = NULL;
        _cleanup_free_ char *method = NULL, *data = NULL;
        const char *path = argv[1], *data_option = cli_args_get(cli->args, "data");
        const char *method_option = cli_args_get(cli->args, "request");
        struct ferry_error err = {};
        size_t len = 0;
        int r;

        (void) argc;
        if (path[0] != '/')
                return cli_usage_error(cli, "The path must start with '/': '%s'", path);

        method = strdup(method_option ?: data_option ? "POST" : "GET");
        if (!method)
                return log_error_errno(ENOMEM, "Out of memory");
        if (!*method)
                return cli_usage_error(cli, "The method must not be empty");
        for (char *m = method; *m; m++) {
                if (!isalpha((unsigned char) *m))
                        return cli_usage_error(cli, "Invalid method '%s'", method_option);
                *m = (char) toupper((unsigned char) *m);
        }

        if (data_option) {
                if (streq(data_option, "-")) {
                        r = cli_read_file("-", &data, &len);
                        if (r < 0)
                                return r;
                } else {
                        data = strdup(data_option);
                        if (!data)
                                return log_error_errno(ENOMEM, "Out of memory");
                        len = strlen(data);
                }
        }

        r = cli_connect(cli, &c);
        if (r < 0)
                return r;
        r = client_request_envelope(c, method, path, data, len, &envelope, &err);
        if (r < 0)
                return cli_log_error(&err);

        if (cli_args_has(cli->args, "raw")) {
                r = print_json(envelope);
                if (r < 0)
                        return r;
        }
        r = client_envelope_metadata(envelope, method, path, &metadata, &err);
        if (r < 0)
                return cli_log_error(&err);
        if (!cli_args_has(cli->args, "raw"))
                return print_json(metadata);
        return 0;
}
