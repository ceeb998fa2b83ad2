/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One event follower per registered target: a thread that follows the
 * target's `/1.0/events` (incus_events_follow(): reconnects with backoff
 * up to 30 s) with its own database connection, so that the target's
 * inventory stays current without polling:
 *   - on every (re)connection it reads the inventory again (events may
 *     have been missed while disconnected) and stores it;
 *   - a lifecycle event about a project, network, storage pool, profile
 *     or cluster member reads and stores it again;
 *   - an instance lifecycle event ("instance-created", "instance-started",
 *     ...) is handed to ferryd's event hub as a lifecycle event whose
 *     metadata is Incus's with "target": NAME (and "project") added.
 * Operation events are never forwarded or logged: they carry websocket
 * secrets.
 *
 * Threads are started and stopped by the daemon (on create, sync, change
 * and delete of a target); every function is safe from any thread.  The
 * event loop calls target_followers_take_events() after a wake-up and
 * emits what it gets.
 */
#ifndef FERRY_DAEMON_TARGET_EVENTS_H
#define FERRY_DAEMON_TARGET_EVENTS_H

#include <stdbool.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"

struct target_identity;
struct target_followers;

/* id must outlive the followers; wake(userdata) is called from the
 * follower threads when there are events to take. */
int target_followers_new(const char *db_path, const struct target_identity *id, void (*wake)(void *userdata),
                         void *userdata, struct target_followers **ret, struct ferry_error *err);
/* Stop and join every follower.  NULL is fine. */
void target_followers_free(struct target_followers *tf);
DEFINE_CLEANUP_FUNC(struct target_followers, target_followers_free);

/* Follow target name, restarting its follower if there is one (its
 * configuration is read again). */
int target_followers_start(struct target_followers *tf, const char *name, struct ferry_error *err);
/* Stop following target name (without waiting for the thread); nothing if not followed. */
void target_followers_stop(struct target_followers *tf, const char *name);
/* Whether target name is followed. */
bool target_followers_has(struct target_followers *tf, const char *name);

/* The lifecycle metadata to emit since the last call (a new array), and
 * join the threads that ended.  NULL on ENOMEM. */
json_t *target_followers_take_events(struct target_followers *tf);

#endif
