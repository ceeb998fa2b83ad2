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
#include "common/http.h"
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
 *   -ENOENT, -EINVAL, -EPERM, -EEXIST, -ESTALE, -EFBIG, -EREMOTEIO
 *                       ferryd answered with an error envelope (404, 400,
 *                       403, 409, 412, 413, anything else); err holds its
 *                       message
 *   -EBADMSG            the answer is not a ferryd envelope
 */
int client_request(struct client *c, const char *method, const char *path, const json_t *body,
                   json_t **ret_metadata, struct ferry_error *err);

/*
 * client_request() that also sends "If-Match: <if_match>" (unless NULL)
 * and returns the answer's ETag, quotes kept, in *ret_etag (free() it;
 * NULL when ferryd sent none; ret_etag may be NULL).  A stale if_match
 * fails with -ESTALE.
 */
int client_request_etag(struct client *c, const char *method, const char *path, const json_t *body,
                        const char *if_match, json_t **ret_metadata, char **ret_etag, struct ferry_error *err);

/*
 * Send body (raw JSON text, not checked here; may be NULL) and return the
 * whole envelope, whatever its type: `ferry query`.  Fails as
 * client_request() does, except that an error envelope is a success here.
 */
int client_request_envelope(struct client *c, const char *method, const char *path, const char *body,
                            size_t body_len, json_t **ret_envelope, struct ferry_error *err);

/*
 * The metadata of a sync envelope (a new reference), or the error of an
 * error envelope in err, with the codes of client_request().
 */
int client_envelope_metadata(const json_t *envelope, const char *method, const char *path, json_t **ret_metadata,
                             struct ferry_error *err);

/*
 * A request whose body comes from transfer->upload_fd (sent as
 * application/octet-stream) and/or whose 2xx answer goes to
 * transfer->download_fd (then *ret_metadata is JSON null); any other
 * answer is an envelope, handled as client_request() does.  headers are
 * extra "Name: value" lines (NULL-terminated, may be NULL).  ret_metadata
 * may be NULL.  A descriptor that cannot be read or written fails with
 * its errno and says so.
 */
int client_transfer(struct client *c, const char *method, const char *path, const struct http_transfer *transfer,
                    const char *const *headers, json_t **ret_metadata, struct ferry_error *err);

#endif
