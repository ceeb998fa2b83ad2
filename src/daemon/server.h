/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The event loop (DESIGN §8): one libwebsockets context, served by the
 * thread that calls server_run().  It listens on ferryd's unix socket
 * and, when configured, on an HTTPS address; it reads each HTTP request
 * (body included), has api_handle() answer it and
 * writes the answer back without blocking.
 *
 * SIGTERM and SIGINT stop the loop.  server_new() blocks them in the
 * calling thread and receives them through a signalfd watched by the same
 * loop, so call it before starting any other thread (threads inherit the
 * mask) and unblock them in children before exec().  They stay blocked
 * after server_free(): a second SIGTERM during shutdown must not kill the
 * process halfway.
 */
#ifndef FERRY_DAEMON_SERVER_H
#define FERRY_DAEMON_SERVER_H

#include "common/error.h"
#include "common/macros.h"

struct daemon;
struct server;

/*
 * Listen on socket_path (mode 0660), replacing any file there: the caller
 * has made sure that nobody else uses it.  d is handed to the API
 * handlers and must outlive the server.
 */
int server_new(struct daemon *d, const char *socket_path, struct server **ret, struct ferry_error *err);

/*
 * Also serve HTTPS on host:port (host: an IP literal, "" for every
 * address) with the PEM certificate and key at cert_path and key_path:
 * TLS 1.2 or later, HTTP/1.1, a client certificate asked for but not
 * required.  Any client certificate is accepted during the handshake;
 * each request then carries its fingerprint, and api_handle() decides by
 * the trust store.  Errors: "Cannot listen on
 * 127.0.0.1:8443: Address already in use".
 */
int server_listen_https(struct server *s, const char *host, int port, const char *cert_path, const char *key_path,
                        struct ferry_error *err);

/* Serve until a stop signal arrives; return its number, or a negative
 * errno with err filled if the loop fails. */
int server_run(struct server *s, struct ferry_error *err);

/* Wake the loop from another thread: it then reports finished jobs
 * (api_operations_dispatch()).  Safe from any thread. */
void server_wake(struct server *s);

/* Close every connection and remove the socket file.  NULL is fine. */
void server_free(struct server *s);

DEFINE_CLEANUP_FUNC(struct server, server_free);
#define _cleanup_server_ _cleanup_(server_free_p)

#endif
