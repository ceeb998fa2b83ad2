/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferryd's event stream seen from the client: one websocket to
 * GET /1.0/events, served by a libwebsockets client loop of its own, each
 * message handed to a callback as a JSON object.  The request carries no
 * Sec-WebSocket-Protocol header, like Incus clients.
 *
 *     r = event_stream_run(&(struct event_stream_config) {
 *                     .socket_path = "/var/lib/ferry/unix.socket",
 *                     .path = "/1.0/events?type=lifecycle",
 *             }, print_event, NULL, &err);
 *
 * ferryd is reached on its unix socket, or over HTTPS like a remote of
 * the REST client: TLS with a client certificate, and the server
 * certificate pinned by its SHA-256 fingerprint (no CA, no host name
 * check: the fingerprint is the trust).
 */
#ifndef FERRY_CLI_EVENT_STREAM_H
#define FERRY_CLI_EVENT_STREAM_H

#include <jansson.h>

#include "common/error.h"
#include "common/fingerprint.h"

/* A larger message from ferryd ends the stream: ferryd's own events are
 * a few KiB at most. */
#define EVENT_STREAM_MESSAGE_MAX (16u * 1024 * 1024)

struct event_stream_config {
        /* Either ferryd's unix socket ... */
        const char *socket_path;
        /* ... or its HTTPS address, "https://host:port" ("[::1]:8443" for
         * IPv6), with the server certificate's fingerprint (required) and
         * the client certificate and key (PEM files). */
        const char *https_addr;
        const char *fingerprint;
        const char *cert_path;
        const char *key_path;

        const char *path;               /* "/1.0/events" and its query string */
};

/*
 * Called with each event (borrowed for the call).  Returns 0 to go on, a
 * positive number to stop the stream (event_stream_run() returns 0), or
 * a negative errno to fail it (event_stream_run() returns it, err
 * untouched: the callback reports its own failure).
 */
typedef int (*event_stream_fn)(json_t *event, void *userdata);

/*
 * Open the stream and call fn until it says stop, until SIGINT or SIGTERM
 * arrives (both return 0; they are blocked in the calling thread from the
 * call on and stay blocked), or until the stream fails:
 *   -ECONNREFUSED  no websocket came up: ferryd cannot be reached, or it
 *                  answered the upgrade with an HTTP error (err names the
 *                  status; a plain GET of the same path gets its message)
 *   -ECONNRESET    ferryd ended the stream (it stopped, or dropped this
 *                  listener); err has its close reason, if it sent one
 *   -EPERM         the HTTPS server's certificate is not the pinned one:
 *                  "Server certificate fingerprint 'X' does not match the
 *                  trusted fingerprint 'Y'"
 *   -EBADMSG       a message is not a JSON object, or is too large
 *   -EINVAL        a bad https_addr or fingerprint
 */
int event_stream_run(const struct event_stream_config *config, event_stream_fn fn, void *userdata,
                     struct ferry_error *err);

#endif
