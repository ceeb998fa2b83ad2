/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registering ferry with an Incus server, the way `incus remote add` does:
 * an admin runs `incus config trust add ferry` (optionally `--restricted
 * --projects p1,p2`) and hands ferry the token; ferry, with its own TLS
 * identity (common/tls-cert.h makes one) and the server certificate pinned
 * by the fingerprint the token carries (common/trust-token.h decodes it),
 * sends `POST /1.0/certificates {"trust_token": TOKEN}` and checks that
 * the server now says `auth: trusted`.
 *
 * A certificate restricted to projects can only see those: the status
 * says so, with the projects, so that ferry reports "restricted to
 * projects a, b" instead of failing later with Incus's bare "not
 * authorized".
 */
#ifndef FERRY_TARGET_INCUS_TRUST_H
#define FERRY_TARGET_INCUS_TRUST_H

#include <stdbool.h>

#include "common/error.h"
#include "common/fingerprint.h"
#include "target/incus/client.h"

struct incus_trust_status {
        bool trusted;                   /* auth: trusted */
        bool restricted;                /* limited to the projects below */
        char **projects;                /* NULL-terminated names ferry may use; NULL when not restricted */
        char *server_version;           /* environment.server_version, NULL if hidden */
        char *server_name;              /* environment.server_name, NULL if hidden */
        bool clustered;                 /* environment.server_clustered */
        char server_fingerprint[FINGERPRINT_HEX_SIZE];  /* the pinned one; "" on unix:// */
};

void incus_trust_status_done(struct incus_trust_status *s);

/*
 * How c's identity stands with the server: GET /1.0, and for a trusted
 * client the projects it can see (restricted when GET /1.0 hides the
 * server configuration from it, as Incus does for restricted
 * certificates).  ret is written only on success.
 */
int incus_trust_get_status(struct incus_client *c, struct incus_trust_status *ret, struct ferry_error *err);

/*
 * Register the client certificate of config (config->endpoint https://,
 * config->server_fingerprint from the token, client_cert/client_key ferry's
 * identity) with the token text, then check the result.  A client that is
 * already trusted is not registered again.  Errors:
 *   -EACCES "Incus refused the trust token: <Incus's reason>" (a used,
 *           expired or revoked token: "No matching certificate add operation found")
 *   -EACCES "Incus accepted the trust token but does not trust ferry's certificate"
 *   and the client's errors (-EPERM for a fingerprint that does not match).
 * ret (may be NULL) gets the status afterwards.
 */
int incus_trust_register(const struct incus_client_config *config, const char *token,
                         struct incus_trust_status *ret, struct ferry_error *err);

#endif
