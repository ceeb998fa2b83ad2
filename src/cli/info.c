/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry info: GET /1.0, shown as YAML.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "common/json.h"
#include "common/log.h"
#include "common/yaml.h"

int cli_info(struct cli *cli, int argc, char *argv[])
{
        _cleanup_client_ struct client *c = NULL;
        _cleanup_json_ json_t *metadata = NULL;
        _cleanup_free_ char *text = NULL;
        struct ferry_error err = {};
        int r;

        (void) argc;
        (void) argv;

        r = cli_connect(cli, &c);
        if (r < 0)
                return r;

        r = client_request(c, "GET", "/1.0", NULL, &metadata, &err);
        if (r < 0)
                return log_error_errno(r, "%s", ferry_error_message(&err));

        r = json_to_yaml(metadata, &text);
        if (r < 0)
                return log_error_errno(r, "Failed to format the server information: %m");

        fputs(text, stdout);
        return 0;
}
