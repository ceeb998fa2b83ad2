/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS certificate fingerprints as Incus shows them: the lower-case hex
 * SHA-256 of the certificate's DER encoding.  Knows nothing of ferry.
 */
#ifndef FERRY_COMMON_FINGERPRINT_H
#define FERRY_COMMON_FINGERPRINT_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

#include "common/error.h"

/* 64 hex digits and the NUL. */
#define FINGERPRINT_HEX_SIZE 65

/*
 * Fingerprint of the first CERTIFICATE block in PEM text; other blocks
 * (a private key, say) before it are skipped.  Errors carry OpenSSL's
 * reason: "Invalid PEM data: bad base64 decode".  ret is written only on
 * success.
 */
int fingerprint_from_pem(const char *pem, size_t len, char ret[static FINGERPRINT_HEX_SIZE],
                         struct ferry_error *err);

/* The same for a file: "Failed to read certificate '<path>': <errno text>". */
int fingerprint_from_pem_file(const char *path, char ret[static FINGERPRINT_HEX_SIZE],
                              struct ferry_error *err);

/* Fingerprint of a parsed certificate (a TLS peer's, say). */
int fingerprint_from_x509(X509 *cert, char ret[static FINGERPRINT_HEX_SIZE]);

/* Fingerprint of exactly one DER-encoded certificate. */
int fingerprint_from_der(const void *der, size_t len, char ret[static FINGERPRINT_HEX_SIZE],
                         struct ferry_error *err);

/*
 * Accept 64 hex digits in either case, bare or as 32 ':'-separated pairs
 * ("98:3B:4F:..." as openssl x509 -fingerprint prints), and write the
 * lower-case bare form.  -EINVAL for anything else.
 */
int fingerprint_normalize(const char *in, char ret[static FINGERPRINT_HEX_SIZE]);

/* Whether a and b are valid fingerprints of the same certificate; NULL is never equal. */
bool fingerprint_equal(const char *a, const char *b);

#endif
