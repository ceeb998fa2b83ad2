/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small HTTP client on libcurl for the peers ferry talks to: Incus over
 * its unix socket or HTTPS with a client certificate, vCenter's SOAP
 * endpoint, and ferryd itself.
 *
 * TLS trust is either the system CAs or one pinned server certificate,
 * given as the SHA-256 fingerprint of its DER encoding (what Incus and
 * `ferry remote` call a fingerprint).  A pinned certificate is checked
 * during the handshake, before anything is sent; a mismatch fails with
 * -EPERM and records the fingerprint the server presented, so the caller
 * can ask the admin to confirm it.
 */
#ifndef FERRY_COMMON_HTTP_H
#define FERRY_COMMON_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/fingerprint.h"
#include "common/macros.h"

struct http_client_config {
        /* "https://host:port", "http://host:port" or "unix:///path/to/socket". */
        const char *endpoint;
        /* PEM files for TLS client authentication, or NULL. */
        const char *client_cert;
        const char *client_key;
        /* Trust exactly this server certificate (hex SHA-256, colons
         * allowed), or NULL to verify against the system CAs. */
        const char *pinned_fingerprint;
        /* 0 means the defaults: 10 s to connect, no overall limit. */
        long connect_timeout_ms;
        long timeout_ms;
        /* Keep cookies across requests (SOAP sessions). */
        bool cookies;
};

struct http_response {
        long status;
        char *body;             /* NUL-terminated, may contain NULs before body_len */
        size_t body_len;
        char *content_type;     /* NULL if the server sent none */
        char *etag;             /* the ETag header as sent (quotes kept), NULL if none */
};

/*
 * Bodies too large to hold in memory, for http_request_transfer().  Start
 * from HTTP_TRANSFER_INIT: a descriptor of -EBADF means "not used".
 */
struct http_transfer {
        /* Send upload_size bytes read from upload_fd, from its current
         * position, as the request body (with a Content-Length). */
        int upload_fd;
        uint64_t upload_size;
        /* Write the body of a 2xx answer to download_fd instead of
         * ret->body; any other answer (an error envelope) still lands in
         * ret->body. */
        int download_fd;
        /* Called as bytes move (done of total; total is 0 when a download
         * does not announce its length), then once at the end.  May be NULL. */
        void (*progress)(uint64_t done, uint64_t total, void *userdata);
        void *userdata;
};

#define HTTP_TRANSFER_INIT { .upload_fd = -EBADF, .download_fd = -EBADF }

struct http_client;

/* Returns NULL and fills err on bad configuration. */
struct http_client *http_client_new(const struct http_client_config *config, struct ferry_error *err);
void http_client_free(struct http_client *c);

/*
 * Perform one request.  path is appended to the endpoint ("/1.0?x=y").
 * body may be NULL.  headers is a NULL-terminated list of "Name: value"
 * lines or NULL.  Any HTTP status is a success here: callers interpret it.
 * Transport and TLS failures return a negative errno with err filled:
 * -EPERM for an untrusted certificate, -ETIMEDOUT, -ECONNREFUSED, -EIO.
 */
int http_request(struct http_client *c, const char *method, const char *path,
                 const char *content_type, const void *body, size_t body_len,
                 const char *const *headers, struct http_response *ret, struct ferry_error *err);

/*
 * http_request() with the request body streamed from a descriptor and/or
 * the answer's body streamed to one.  A body that cannot be read, or an
 * answer that cannot be written, fails with the errno of read()/write()
 * and "Cannot read the request body: <why>" or "Cannot write the answer
 * of <method> <url>: <why>"; an upload_fd that ends early fails with -EIO.
 * What was already written to download_fd stays there.
 */
int http_request_transfer(struct http_client *c, const char *method, const char *path,
                          const char *content_type, const struct http_transfer *transfer,
                          const char *const *headers, struct http_response *ret, struct ferry_error *err);

/* The fingerprint of the certificate the server presented on the last
 * TLS connection, or NULL.  Valid until the next request or free. */
const char *http_client_peer_fingerprint(const struct http_client *c);

/* 20 hex pairs, 19 colons and the NUL. */
#define HTTP_SHA1_THUMBPRINT_SIZE 60

/* The same certificate's SHA-1 as VMware writes thumbprints ("AA:BB:...",
 * what VDDK checks), or NULL.  Valid like the fingerprint. */
const char *http_client_peer_sha1_thumbprint(const struct http_client *c);

void http_response_done(struct http_response *r);

/*
 * From now on, requests made by the calling thread (any client) end with
 * -ECANCELED "<METHOD> <url> was canceled" within about a second of *flag
 * turning true, connecting included.  NULL turns it off.  For job threads
 * that must stop when the daemon does.
 */
void http_set_thread_cancel(const atomic_bool *flag);

DEFINE_CLEANUP_FUNC(struct http_client, http_client_free);
#define _cleanup_http_client_ _cleanup_(http_client_free_p)

#endif
