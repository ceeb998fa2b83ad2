/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CLI's connection to ferryd: one HTTP request per call over the unix
 * socket, answers unwrapped from their Incus-style envelope.  Errors come
 * back in a struct ferry_error whose message is ready to show the user.
 */
#ifndef FERRY_CLI_CLIENT_H
#define FERRY_CLI_CLIENT_H

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"

struct client;

/* Nothing is sent yet: a missing ferryd shows on the first request. */
int client_new(const char *socket_path, struct client **ret, struct ferry_error *err);
void client_free(struct client *c);

DEFINE_CLEANUP_FUNC(struct client, client_free);
#define _cleanup_client_ _cleanup_(client_free_p)

/*
 * Send method path (body may be NULL) and return the metadata of a sync
 * answer in *ret_metadata (a new reference; JSON null when there is none).
 * Fails with:
 *   -ECONNREFUSED       ferryd cannot be reached, for whatever reason
 *                       ("Cannot connect to ferryd at '<path>': No such
 *                       file or directory. Is ferryd running?")
 *   -ENOENT, -EINVAL, -EPERM, -EEXIST, -EREMOTEIO
 *                       ferryd answered with an error envelope (404, 400,
 *                       403, 409, anything else); err holds its message
 *   -EBADMSG            the answer is not a ferryd envelope
 */
int client_request(struct client *c, const char *method, const char *path, const json_t *body,
                   json_t **ret_metadata, struct ferry_error *err);

#endif
