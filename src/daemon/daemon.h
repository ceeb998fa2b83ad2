/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferryd as a whole: its data directory, the lock that makes it the only
 * ferryd using that directory, and the event loop serving the REST API on
 * <data dir>/unix.socket.  API handlers get the struct daemon and read its
 * fields directly.
 */
#ifndef FERRY_DAEMON_DAEMON_H
#define FERRY_DAEMON_DAEMON_H

#include <pthread.h>
#include <sys/types.h>

#include <jansson.h>

#include "common/error.h"
#include "common/fingerprint.h"
#include "common/macros.h"
#include "daemon/targets.h"

#define DAEMON_DEFAULT_DATA_DIR "/var/lib/ferry"
#define DAEMON_SOCKET_NAME "unix.socket"
#define DAEMON_LOCK_NAME "ferryd.lock"
#define DAEMON_DB_NAME "ferry.db"
#define DAEMON_TMP_NAME "tmp"           /* uploads in progress; emptied at start */
#define DAEMON_ARTIFACTS_NAME "artifacts"
#define DAEMON_SERVER_CERT_NAME "server.crt"   /* the HTTPS identity, made on first start */
#define DAEMON_SERVER_KEY_NAME "server.key"

struct config;
struct db;
struct event_hub;
struct server;
struct jobs;
struct hooks;
struct event_subscription;

struct daemon_config {
        const char *data_dir;   /* created 0700 if missing */
        const struct config *config;    /* the config file (daemon/config.h), NULL: defaults */
};

struct daemon {
        char *data_dir;         /* absolute, resolved */
        char *socket_path;      /* <data_dir>/unix.socket */
        char *lock_path;        /* <data_dir>/ferryd.lock, holds our pid */
        int lock_fd;            /* flock()ed while we run */
        pid_t pid;
        struct db *db;          /* the event loop thread's connection */
        struct event_hub *events;
        struct server *server;
        char *server_cert_pem;  /* <data_dir>/server.crt: what HTTPS clients see */
        char server_fingerprint[FINGERPRINT_HEX_SIZE];
        char *https_address;    /* canonical "127.0.0.1:8443", NULL without HTTPS */
        json_t *trusted;        /* fingerprint -> name: the certificates table, cached */
        struct jobs *jobs;      /* the job thread: source syncs (jobs.h) */
        struct target_identity target_identity;        /* ferry's client certificate towards targets */
        struct target_followers *target_followers;     /* Incus events per target (target-events.h) */
        struct hooks *hooks;    /* the hook thread (hooks.h) */
        struct event_subscription *hooks_subscription; /* lifecycle events for the hooks */
        pthread_mutex_t posted_lock;
        json_t *posted;         /* lifecycle events posted by other threads, for the loop to emit */
};

/*
 * Take over the data directory and start listening.  Fails with err
 * filled when the directory cannot be created, when another ferryd holds
 * it (-EBUSY) or when something else answers on the socket (-EADDRINUSE).
 * A socket file nobody answers on is a leftover and is replaced.  The
 * server certificate and key are loaded, or generated on first start;
 * with core.https_address set, HTTPS is served there too.
 */
int daemon_new(const struct daemon_config *config, struct daemon **ret, struct ferry_error *err);

/*
 * Serve until SIGTERM or SIGINT.  Returns the signal number that stopped
 * the daemon, or a negative errno with err filled.
 */
int daemon_run(struct daemon *d, struct ferry_error *err);

/* Wake the event loop from any thread (jobs and target followers have news). */
void daemon_wake(void *userdata);

/*
 * From any thread: queue lifecycle events ({"action", "source",
 * "context"} each, copied) for the event loop to emit, with requestor
 * {"protocol": protocol, "username": username}; wakes the loop.
 */
void daemon_post_lifecycle(struct daemon *d, const json_t *events, const char *protocol, const char *username);

/* On the event loop: emit what was posted. */
void daemon_dispatch_posted(struct daemon *d);

/* Stop listening, remove the socket file and release the lock.  NULL is fine. */
void daemon_free(struct daemon *d);

DEFINE_CLEANUP_FUNC(struct daemon, daemon_free);
#define _cleanup_daemon_ _cleanup_(daemon_free_p)

#endif
