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
        json_t *metadata, *environment, *addresses;

        if (gethostname(hostname, sizeof(hostname) - 1) < 0)
                return -errno;

        addresses = api_https_addresses(d);
        if (!addresses)
                return -ENOMEM;

        /* What any client may know: how to pin this server.  The rest is
         * for trusted clients, as in Incus. */
        if (req->requestor.trusted)
                environment = json_pack("{s:o, s:s?, s:s, s:s, s:s, s:I}",
                                        "addresses", addresses,
                                        "certificate", d->server_cert_pem,
                                        "certificate_fingerprint", d->server_fingerprint,
                                        "server_name", hostname,
                                        "data_dir", d->data_dir,
                                        "pid", (json_int_t) d->pid);
        else
                environment = json_pack("{s:o, s:s?, s:s}",
                                        "addresses", addresses,
                                        "certificate", d->server_cert_pem,
                                        "certificate_fingerprint", d->server_fingerprint);
        if (!environment)
                return -ENOMEM;

        metadata = json_pack("{s:s, s:s, s:s, s:s, s:[s], s:s?, s:[], s:o}",
                             "api_version", "1.0",
                             "api_status", "development",
                             "server_version", FERRY_VERSION,
                             "auth", req->requestor.trusted ? "trusted" : "untrusted",
                             "auth_methods", "tls",
                             "auth_user_name", req->requestor.username,
                             "api_extensions",
                             "environment", environment);
        if (!metadata)
                return -ENOMEM;
        return api_response_sync(ret, metadata);
}
