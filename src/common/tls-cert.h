/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Self-signed TLS identities, made the way Incus makes its own: an ECDSA
 * P-384 key and an X.509 v3 certificate signed by it with SHA-384, valid
 * for ten years, usable both as a server and as a client certificate.
 * Nobody checks these against a CA: peers trust each other by the
 * certificate's SHA-256 fingerprint (common/fingerprint.h).  ferryd uses
 * one for its HTTPS listener, ferry one to identify itself to remotes.
 * Knows nothing of ferry beyond the organization name it writes.
 *
 *     _cleanup_free_ char *pem = NULL;
 *
 *     r = tls_cert_load_or_generate("/var/lib/ferry/server.crt", "/var/lib/ferry/server.key",
 *                                   hostname, &pem, &generated, &err);
 *
 * Private keys are written with mode 0600 and are never returned by the
 * loader: only the certificate comes back.
 */
#ifndef FERRY_COMMON_TLS_CERT_H
#define FERRY_COMMON_TLS_CERT_H

#include <stdbool.h>

#include "common/error.h"

#define TLS_CERT_VALIDITY_DAYS 3650
/* X.509 limits a common name to 64 characters; longer ones are cut. */
#define TLS_CERT_COMMON_NAME_MAX 64

/*
 * A new key and a certificate for it: subject and issuer "O=ferry,
 * CN=<common_name>", subject alternative names DNS:<common_name> (when it
 * is a host name), DNS:localhost, IP:127.0.0.1 and IP:::1, extended key
 * usage serverAuth and clientAuth, a random 127-bit serial number, valid
 * from now for TLS_CERT_VALIDITY_DAYS.  Both are PEM text (free() them);
 * the key is PKCS #8.  common_name must be non-empty.
 */
int tls_cert_generate(const char *common_name, char **ret_cert_pem, char **ret_key_pem, struct ferry_error *err);

/*
 * Load the certificate at cert_path after checking that the key at
 * key_path belongs to it; when neither file exists, generate a pair with
 * tls_cert_generate() and write it atomically (key 0600, certificate
 * 0644; the directory must exist).  One file without the other is an
 * error, not something to overwrite: "'<cert>' exists but '<key>' does
 * not".  ret_cert_pem (may be NULL) gets the certificate's PEM text,
 * ret_generated (may be NULL) whether the pair is new.
 */
int tls_cert_load_or_generate(const char *cert_path, const char *key_path, const char *common_name,
                              char **ret_cert_pem, bool *ret_generated, struct ferry_error *err);

#endif
