/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Targets as ferryd runs them: ferry's own TLS identity towards Incus,
 * registration with a trust token, and the target's inventory in the
 * database.  Everything here that calls Incus blocks: it runs on a job
 * thread (jobs.h) or a target's event follower (target-events.h), each
 * with its own database connection, never on the event loop.
 *
 * A sync of target "lab" (POST /1.0/targets/lab/sync, and after every
 * create or change of its endpoint or token) does, in order:
 *   1. https:// with a trust_token: decode it, register ferry's client
 *      certificate with the fingerprint the token carries pinned
 *      (incus_trust_register()), then store that fingerprint as
 *      trusted_server_certificate_fingerprint and drop the token (it is
 *      used once);
 *      https:// without one: check that Incus trusts ferry already;
 *      unix://: nothing to register;
 *   2. read the inventory and store it with connectivity_status "OK" and
 *      restricted_projects (the projects a restricted certificate may
 *      use; [] when not restricted).
 * A failure stores a connectivity_status that says why ("Cannot
 * connect", "TLS error", "Authentication error", "Not registered") and
 * keeps the previous inventory.
 */
#ifndef FERRY_DAEMON_TARGETS_H
#define FERRY_DAEMON_TARGETS_H

#include <stdbool.h>

#include <jansson.h>

#include "common/error.h"
#include "common/fingerprint.h"
#include "target/incus/client.h"

struct db;

/* Made on first start with common/tls-cert.h, next to the server's. */
#define TARGETS_CLIENT_CERT_NAME "target-client.crt"
#define TARGETS_CLIENT_KEY_NAME "target-client.key"

/* ferry's identity towards its targets: the same for every target. */
struct target_identity {
        char *cert_path;
        char *key_path;
        char fingerprint[FINGERPRINT_HEX_SIZE];
};

/* Load <data_dir>/target-client.{crt,key}, generating them the first time. */
int target_identity_load(const char *data_dir, struct target_identity *ret, struct ferry_error *err);
void target_identity_done(struct target_identity *id);

/*
 * The client configuration for a stored target (strings borrowed from
 * target and id, valid while both are): unix:// without certificates;
 * https:// with ferry's identity and the stored fingerprint, which must
 * be set (-EACCES "Target 'x' is not registered: ...").
 */
int target_client_config(const json_t *target, const struct target_identity *id,
                         struct incus_client_config *ret, struct ferry_error *err);

/* Whether events can be followed now: unix://, or https:// with a pinned
 * fingerprint and no token waiting to be used. */
bool target_is_registered(const json_t *target);

/*
 * Store inventory (and connectivity "OK", and restricted_projects when not
 * NULL: an array of names) as target name's, in one transaction, writing
 * only when something changed.  *ret_changed (may be NULL) says whether it
 * did.  -ENOENT when the target is gone.
 */
int target_store_inventory(struct db *db, const char *name, const json_t *inventory,
                           const json_t *restricted_projects, bool *ret_changed, struct ferry_error *err);

/* Store connectivity_status (a failure's) for target name; errors are only logged. */
void target_store_status(struct db *db, const char *name, const char *status);

/* The connectivity_status for an error of the Incus client (its errno). */
const char *target_status_from_errno(int r);

/*
 * Sync target name as described above.  *ret_summary (may be NULL) gets
 * {"registered": bool, "restricted_projects": [...], "projects": n,
 * "networks": n, "storage_pools": n, "profiles": n, "cluster_members": n}.
 */
int target_sync(struct db *db, const struct target_identity *id, const char *name, json_t **ret_summary,
                struct ferry_error *err);

#endif
