/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A blocking websocket client of Incus on libwebsockets, for the migration
 * push protocol (`/1.0/operations/ID/websocket?secret=…`).  Each
 * connection has its own libwebsockets context, serviced only inside the
 * calls below, from the calling thread: nothing runs in the background,
 * so it belongs on a job thread, never on ferryd's event loop.
 *
 * Reaches the same endpoints as the REST client with the same trust: a
 * `unix://` socket, or `https://` with ferry's client certificate and the
 * server certificate pinned by fingerprint (checked during the handshake,
 * before the request carrying the secret is sent).
 */
#ifndef FERRY_TARGET_INCUS_WEBSOCKET_H
#define FERRY_TARGET_INCUS_WEBSOCKET_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "common/macros.h"
#include "target/incus/client.h"

struct incus_ws;

/*
 * Connect to path on config's endpoint within timeout_ms.  Errors:
 * -ECONNREFUSED "Cannot open websocket '<path without query>': <why>",
 * -EPERM for a server certificate that does not match the pin,
 * -ETIMEDOUT.  The query (which carries secrets) never appears in errors.
 */
int incus_ws_connect(const struct incus_client_config *config, const char *path, int timeout_ms,
                     struct incus_ws **ret, struct ferry_error *err);

/* Send one message (binary or text; len may be 0), waiting until it is
 * handed to the kernel.  -EPIPE once the peer closed. */
int incus_ws_send(struct incus_ws *ws, bool binary, const void *buf, size_t len, int timeout_ms,
                  struct ferry_error *err);

/*
 * Receive the next whole message, waiting up to timeout_ms (0: only what
 * has arrived already).  Returns 1 with the message (free() *ret_buf), 0
 * when none came in time, -EPIPE "… closed" when the peer closed first.
 */
int incus_ws_recv(struct incus_ws *ws, int timeout_ms, char **ret_buf, size_t *ret_len, bool *ret_binary,
                  struct ferry_error *err);

/*
 * Close with status 1011 (unexpected condition) instead of a normal
 * closure, waiting up to timeout_ms for it to go out: Incus reads a normal
 * closure as the end of the data, this as a failure.
 */
void incus_ws_abort(struct incus_ws *ws, int timeout_ms);

/* Whether the peer has closed the connection (messages it sent before may
 * still be waiting in incus_ws_recv()). */
bool incus_ws_closed(const struct incus_ws *ws);

/* Close (a normal closure, without waiting for the peer) and free. */
void incus_ws_free(struct incus_ws *ws);
DEFINE_CLEANUP_FUNC(struct incus_ws, incus_ws_free);
#define _cleanup_incus_ws_ _cleanup_(incus_ws_free_p)

#endif
