/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Trust tokens in Incus's format: the base64 text of a JSON object
 *
 *     {"client_name": "laptop", "fingerprint": "<server certificate SHA-256>",
 *      "addresses": ["10.0.0.1:8443"], "secret": "<64 hex digits>",
 *      "expires_at": "2026-11-24T11:00:00Z"}
 *
 * An admin of the server creates one for a new client; the client pins
 * the server's certificate by the fingerprint in it and proves, by
 * sending the secret once over TLS with its own certificate, that the
 * admin meant it.  The server keeps only trust_token_secret_hash() of the
 * secret.  ferryd makes these for ferry, and Incus makes the same kind for
 * ferry's targets.  Knows nothing of ferry.
 */
#ifndef FERRY_COMMON_TRUST_TOKEN_H
#define FERRY_COMMON_TRUST_TOKEN_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "common/fingerprint.h"
#include "common/macros.h"

#define TRUST_TOKEN_SECRET_BYTES 32
/* The secret as lower-case hex, and the NUL. */
#define TRUST_TOKEN_SECRET_HEX_SIZE (2 * TRUST_TOKEN_SECRET_BYTES + 1)
/* Hex SHA-256 of a secret, and the NUL. */
#define TRUST_TOKEN_HASH_HEX_SIZE 65

struct trust_token {
        char *client_name;
        char fingerprint[FINGERPRINT_HEX_SIZE];         /* the server's certificate */
        char **addresses;                               /* NULL-terminated, "host:port" */
        char secret[TRUST_TOKEN_SECRET_HEX_SIZE];
        int64_t expires_at;                             /* µs since the epoch; 0: never */
};

void trust_token_free(struct trust_token *t);
DEFINE_CLEANUP_FUNC(struct trust_token, trust_token_free);
#define _cleanup_trust_token_ _cleanup_(trust_token_free_p)

/* TRUST_TOKEN_SECRET_BYTES random bytes from the system's CSPRNG, as hex. */
int trust_token_secret_new(char ret[static TRUST_TOKEN_SECRET_HEX_SIZE]);

/* Whether s has the form of a bare secret (64 hex digits, either case). */
bool trust_token_is_secret(const char *s);

/* Hex SHA-256 of the secret's lower-case text: what a server stores. */
int trust_token_secret_hash(const char *secret, char ret[static TRUST_TOKEN_HASH_HEX_SIZE]);

/*
 * The token text: unpadded base64url (RFC 4648 §5) of the compact JSON,
 * safe on a command line.  expires_at 0 is written as Go's zero time,
 * as Incus does.  free() the result.  -EINVAL for an empty client name
 * or an invalid fingerprint or secret, -ENOMEM.
 */
int trust_token_encode(const struct trust_token *t, char **ret);

/*
 * Read a token made by trust_token_encode() or by Incus (standard base64
 * with padding); surrounding white space is ignored, unknown fields too.
 * Errors (-EINVAL) start with "Invalid trust token: ", then say what is
 * wrong: "not base64", "not JSON", "Missing required field 'secret'", ...
 */
int trust_token_decode(const char *text, struct trust_token **ret, struct ferry_error *err);

#endif
