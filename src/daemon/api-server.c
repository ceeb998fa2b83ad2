/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET / and GET /1.0: what this server is.
 */
#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include "daemon/api.h"
#include "daemon/daemon.h"

int api_root_get(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        json_t *versions;

        (void) d;
        (void) req;

        versions = json_pack("[s]", "/1.0");
        if (!versions)
                return -ENOMEM;
        return api_response_sync(ret, versions);
}

int api_server_get(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        char hostname[HOST_NAME_MAX + 1] = {};
        json_t *metadata;

        if (gethostname(hostname, sizeof(hostname) - 1) < 0)
                return -errno;

        metadata = json_pack("{s:s, s:s, s:s, s:s, s:[], s:{s:s, s:s, s:I}}",
                             "api_version", "1.0",
                             "api_status", "development",
                             "server_version", FERRY_VERSION,
                             "auth", req->requestor.trusted ? "trusted" : "untrusted",
                             "api_extensions",
                             "environment",
                             "server_name", hostname,
                             "data_dir", d->data_dir,
                             "pid", (json_int_t) d->pid);
        if (!metadata)
                return -ENOMEM;
        return api_response_sync(ret, metadata);
}
