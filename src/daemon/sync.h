/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Source sync: ask a source's driver for its inventory and store it, in
 * one transaction, changing only what changed.  Runs on a job thread with
 * that thread's own database connection (jobs.h), never on the event loop.
 */
#ifndef FERRY_DAEMON_SYNC_H
#define FERRY_DAEMON_SYNC_H

#include <jansson.h>

#include "common/error.h"
#include "source/source.h"

struct db;

struct sync_stats {
        unsigned instances_added;
        unsigned instances_updated;
        unsigned instances_unchanged;
        unsigned instances_removed;
        unsigned instances_vanished;    /* gone from the source, kept for their queue entry */
        unsigned networks_added;
        unsigned networks_updated;
        unsigned networks_removed;
        unsigned warnings;
};

/*
 * Store inv as the inventory of source, in one transaction:
 *  - instances and networks are written only when their synced fields
 *    differ from the stored ones; overrides and mappings are kept; a new
 *    network gets its default_mapping as mappings;
 *  - instances the source no longer has are deleted, unless a queue entry
 *    holds them: those get "vanished": true;
 *  - networks the source no longer has are deleted;
 *  - each of inv's warnings is raised (counted again if it exists); the
 *    uuids of those raised for the first time are appended to
 *    new_warnings (an array; may be NULL);
 *  - the source's connectivity_status becomes "OK".
 * Nothing is stored when anything fails.
 */
int sync_apply_inventory(struct db *db, const char *source, const struct source_inventory *inv,
                         json_t *new_warnings, struct sync_stats *ret_stats, struct ferry_error *err);

/*
 * Sync source name: connect with its driver, read the inventory and apply
 * it.  When the source cannot be reached, its connectivity_status says why
 * ("Authentication error", "Confirm TLS fingerprint", ...), a warning is
 * raised for it, nothing else changes, and the error is returned.
 * *ret_summary (may be NULL) gets the counts as a JSON object.
 */
int sync_source(struct db *db, const char *name, json_t **ret_summary, struct ferry_error *err);

#endif
