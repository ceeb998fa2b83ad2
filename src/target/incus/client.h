/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A client of the Incus REST API: ferry's HTTP client (common/http.h) over
 * `unix://` or HTTPS with ferry's client certificate and a pinned server
 * fingerprint, plus what every Incus call shares: the envelope, `?project=`
 * and `?target=`, ETags, and operations.
 *
 *     struct incus_response resp = {};
 *
 *     r = incus_call(c, &(struct incus_request) {
 *                            .method = "GET", .path = "/1.0/profiles?recursion=1", .project = "lab",
 *                    }, &resp, err);
 *     if (r < 0)
 *             return r;              // err holds Incus's own message
 *
 * An error envelope becomes a negative errno chosen from its HTTP code
 * (404 -ENOENT, 403 -EACCES, 409 -EEXIST, 412 -ESTALE, 400 -EINVAL, 501
 * -EOPNOTSUPP, 503 -EAGAIN, anything else -EIO) with Incus's message as
 * the error text, unchanged.  Transport failures carry http.h's errors.
 *
 * A client is used by one thread at a time.
 */
#ifndef FERRY_TARGET_INCUS_CLIENT_H
#define FERRY_TARGET_INCUS_CLIENT_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/json.h"
#include "common/macros.h"

struct incus_client_config {
        /* "https://host:8443" or "unix:///var/lib/incus/unix.socket". */
        const char *endpoint;
        /* PEM files of ferry's TLS identity; NULL for unix:// or to call
         * as an untrusted client (registration). */
        const char *client_cert;
        const char *client_key;
        /* The server certificate's SHA-256 (hex, colons allowed); required
         * for https:// (Incus certificates are self-signed). */
        const char *server_fingerprint;
        /* 0: 10 s to connect; 0: no overall limit on one request (waits on
         * operations are bounded by their own timeout). */
        long connect_timeout_ms;
        long timeout_ms;
};

enum incus_response_type {
        INCUS_RESPONSE_SYNC,
        INCUS_RESPONSE_ASYNC,
        _INCUS_RESPONSE_TYPE_MAX,
        _INCUS_RESPONSE_TYPE_INVALID = -EINVAL,
};

struct incus_response {
        enum incus_response_type type;
        long http_status;
        long status_code;       /* Incus's: 200 Success, 100 Operation created */
        json_t *metadata;       /* owned; JSON null when the envelope had none */
        char *operation;        /* async: "/1.0/operations/<uuid>", else NULL */
        char *etag;             /* the ETag header, NULL if none */
};

void incus_response_done(struct incus_response *r);

struct incus_request {
        const char *method;
        /* "/1.0/..." with its segments escaped (incus_escape()); may carry
         * a query of its own ("?recursion=1"). */
        const char *path;
        const char *project;    /* NULL: no ?project= (Incus's "default") */
        const char *target;     /* NULL: no ?target= (cluster member) */
        const json_t *body;     /* sent as application/json; NULL: no body */
        const char *if_match;   /* ETag for If-Match, NULL: none */
};

/*
 * Turn an answer into a response: a sync or async envelope fills ret; an
 * error envelope fails as described above; anything that is not an Incus
 * envelope fails with -EBADMSG "Unexpected answer from Incus (HTTP <n>):
 * <why>".  ret is written only on success.
 */
int incus_envelope_parse(long http_status, const char *body, size_t len, struct incus_response *ret,
                         struct ferry_error *err);

/* The errno for an Incus error's HTTP code (see above). */
int incus_errno_from_http_status(long http_status);

/*
 * Percent-encode s for one path segment or query value (RFC 3986
 * unreserved characters stay).  free() the result; NULL and errno on
 * failure.
 */
char *incus_escape(const char *s);

/*
 * path followed by "?project=P" and "&target=T" (escaped, "?" or "&" as
 * path needs) for the non-NULL, non-empty ones.  free() the result; NULL
 * and errno on failure.
 */
char *incus_url_build(const char *path, const char *project, const char *target);

/* Returns NULL and fills err on bad configuration. */
struct incus_client *incus_client_new(const struct incus_client_config *config, struct ferry_error *err);
void incus_client_free(struct incus_client *c);
DEFINE_CLEANUP_FUNC(struct incus_client, incus_client_free);
#define _cleanup_incus_client_ _cleanup_(incus_client_free_p)

/* The configuration it was made with; strings borrowed for the client's
 * lifetime. */
const struct incus_client_config *incus_client_get_config(const struct incus_client *c);

/* The fingerprint the server presented on the last TLS handshake, NULL on
 * unix:// or before one; valid until the next call. */
const char *incus_client_peer_fingerprint(const struct incus_client *c);

/* One call; see above.  ret is written only on success. */
int incus_call(struct incus_client *c, const struct incus_request *req, struct incus_response *ret,
               struct ferry_error *err);

/* GET path in project and hand back the metadata (a new reference). */
int incus_get(struct incus_client *c, const char *path, const char *project, json_t **ret_metadata,
              struct ferry_error *err);

/*
 * Wait for an operation ("/1.0/operations/<id>" or the bare id) to end,
 * at most timeout_s seconds, with `/wait?timeout=`.  On success the
 * operation object (status "Success") is handed back in ret_operation
 * (may be NULL).  A failed operation fails with its "err" text (-EIO, or
 * the errno of the HTTP code the failure carries); one still running at
 * the deadline with -ETIMEDOUT "Operation '<id>' did not finish within N
 * seconds".  When cancel is not NULL it is checked about every second; once
 * it reads true the operation is cancelled (incus_operation_cancel()) and
 * the wait fails with -ECANCELED "Operation '<id>' was cancelled".
 */
int incus_operation_wait(struct incus_client *c, const char *operation, int timeout_s,
                         const atomic_bool *cancel, json_t **ret_operation, struct ferry_error *err);

/* DELETE the operation: Incus cancels it if it can. */
int incus_operation_cancel(struct incus_client *c, const char *operation, struct ferry_error *err);

/*
 * incus_call() and, for an async answer, incus_operation_wait(): the
 * usual way to create or delete something.  ret_operation as above.
 */
int incus_call_wait(struct incus_client *c, const struct incus_request *req, int timeout_s,
                    const atomic_bool *cancel, json_t **ret_operation, struct ferry_error *err);

/*
 * Stream the 2xx answer of GET path (a backup export, say) into fd.  An
 * error envelope fails as incus_call() does.
 */
int incus_download(struct incus_client *c, const char *path, const char *project, int fd,
                   struct ferry_error *err);

/*
 * POST (or PUT) size bytes read from fd to path in project as
 * application/octet-stream, with the extra headers (NULL-terminated
 * "Name: value" lines, may be NULL), and wait up to timeout_s for the
 * operation it starts.  fd is read sequentially with read(): a pipe or a
 * socket is fine.  ret_operation as incus_operation_wait().
 */
int incus_upload(struct incus_client *c, const char *method, const char *path, const char *project,
                 const char *const *headers, int fd, uint64_t size, int timeout_s, json_t **ret_operation,
                 struct ferry_error *err);

#endif
