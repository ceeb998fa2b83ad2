/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/cli.h"
#include "common/log.h"

int cli_connect(struct cli *cli, struct client **ret)
{
        struct ferry_error err = {};
        int r;

        r = client_new(cli->socket_path, ret, &err);
        if (r < 0)
                return log_error_errno(r, "%s", ferry_error_message(&err));
        return 0;
}
