/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The trust store of ferryd's HTTPS API: trusted client certificates and
 * the one-time trust tokens that add them.
 *
 * A certificate is {"fingerprint", "name", "certificate" (PEM), ...},
 * keyed by fingerprint (the caller normalizes it: common/fingerprint.h);
 * it comes back with created_at.  Lists are ordered by name, then
 * fingerprint.
 *
 * A trust token is stored as the SHA-256 (hex) of its secret, never the
 * secret itself, with a name (unique among pending tokens) and an expiry.
 * Timestamps are RFC 3339 UTC with six fraction digits.
 */
#ifndef FERRY_DB_CERTIFICATE_H
#define FERRY_DB_CERTIFICATE_H

#include <jansson.h>
#include <stdint.h>

#include "common/error.h"
#include "db/db.h"

/* -EEXIST "Certificate 'f' already exists"; -EINVAL without fingerprint, name or certificate. */
int db_certificate_add(struct db *db, const json_t *certificate, struct ferry_error *err);
/* -ENOENT "Certificate 'f' not found". */
int db_certificate_get(struct db *db, const char *fingerprint, json_t **ret, struct ferry_error *err);
int db_certificate_list(struct db *db, json_t **ret, struct ferry_error *err);
int db_certificate_delete(struct db *db, const char *fingerprint, struct ferry_error *err);

/*
 * A pending token named name that expires at expires_at_usec (microseconds
 * since the epoch).  -EEXIST "Trust token 'x' already exists" (for the
 * name, or for the secret).
 */
int db_trust_token_create(struct db *db, const char *name, const char *secret_sha256, int64_t expires_at_usec,
                          struct ferry_error *err);

/* [{"name", "expires_at", "created_at"}] ordered by name, expired ones included; never the secret. */
int db_trust_token_list(struct db *db, json_t **ret, struct ferry_error *err);

/*
 * Use a token: find it by secret_sha256 and delete it, so that it works
 * once.  *ret_name (free() it) is its name.  -ENOENT "Unknown trust token";
 * -ETIMEDOUT "Trust token 'x' has expired" (and it is deleted).
 */
int db_trust_token_consume(struct db *db, const char *secret_sha256, char **ret_name, struct ferry_error *err);

/* Revoke: -ENOENT "Trust token 'x' not found". */
int db_trust_token_delete(struct db *db, const char *name, struct ferry_error *err);

/* Delete the tokens that have expired; returns how many. */
int db_trust_token_purge_expired(struct db *db, struct ferry_error *err);

#endif
