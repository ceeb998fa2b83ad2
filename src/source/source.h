/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Source drivers: where VMs come from.  Each source type is one
 * static const struct source_ops, listed in the registry (source.c);
 * an operation a type cannot do is a NULL callback.  A driver's state
 * struct embeds struct source first.
 *
 *     const struct source_ops *ops = source_ops_find("vmware");
 *     struct source_connect_result res = {};
 *
 *     r = ops->connect(source_json, &s, &res, &err);
 *     if (r < 0)
 *             store res.status ("Authentication error", ...) and err's message;
 *     r = ops->sync_inventory(s, &inv, &err);
 *     ops->disconnect(s);
 *
 * Drivers never include daemon code; they log at debug level only.
 */
#ifndef FERRY_SOURCE_SOURCE_H
#define FERRY_SOURCE_SOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "common/error.h"
#include "common/fingerprint.h"
#include "common/macros.h"

/* The connectivity states (DESIGN §3, model/source.c). */
#define SOURCE_STATUS_OK "OK"
#define SOURCE_STATUS_CANNOT_CONNECT "Cannot connect"
#define SOURCE_STATUS_TLS_ERROR "TLS error"
#define SOURCE_STATUS_CONFIRM_FINGERPRINT "Confirm TLS fingerprint"
#define SOURCE_STATUS_AUTH_ERROR "Authentication error"

struct source_ops;

struct source {
        const struct source_ops *ops;
};

struct source_connect_result {
        const char *status;                        /* one of SOURCE_STATUS_*, static */
        char fingerprint[FINGERPRINT_HEX_SIZE];    /* the server's certificate ("" if unknown) */
};

/* What a sync found, in the JSON shapes of docs/rest-api.md. */
struct source_inventory {
        json_t *instances;      /* array of instances, "source" set */
        json_t *networks;       /* array of networks, "source" set, each with "default_mapping" */
        json_t *warnings;       /* array of {"entity_type", "entity", "type", "message"} */
};

void source_inventory_done(struct source_inventory *inv);

/* One changed extent of a disk, in bytes. */
struct source_extent {
        uint64_t start;
        uint64_t length;
};

/*
 * Which disk to read (DESIGN §5): the disk with device_key of the synced
 * instance, as it is now or as it was in a snapshot.
 */
struct source_disk_spec {
        const json_t *instance;         /* the synced instance: "uuid", "name", "location", "disks" */
        int64_t device_key;
        const char *snapshot;           /* the snapshot's id (a moref for VMware), or NULL: the current disk */
        const char *runtime_dir;        /* an existing private directory for sockets and secrets */
        const char *vddk_libdir;        /* disk_access vddk: the unpacked VDDK (holds lib64/), else NULL */
};

/* An open disk: an NBD export and, when ferry started one, its server. */
struct source_disk {
        char *uri;                      /* "nbd+unix:///?socket=/run/ferry/x.sock", "nbd://host/export" */
        pid_t pid;                      /* the server ferry started for it, 0 if none */
        char *socket_path;              /* removed when closed */
        char *log_path;                 /* the server's output, removed when closed */
};

struct source_ops {
        const char *type;                       /* "vmware" */

        /*
         * Open a session with the source described by source (its REST
         * object, password included).  Always fills *res; on failure
         * res->status says what the admin must fix and err why.
         */
        int (*connect)(const json_t *source, struct source **ret, struct source_connect_result *res,
                       struct ferry_error *err);
        /* Close the session and free; NULL is fine. */
        void (*disconnect)(struct source *s);

        int (*sync_inventory)(struct source *s, struct source_inventory *ret, struct ferry_error *err);

        /* Power: vm is the instance uuid.  power_off asks the guest first, waits
         * up to timeout_s, then powers off hard. */
        int (*power_on)(struct source *s, const char *vm, int timeout_s, struct ferry_error *err);
        int (*power_off)(struct source *s, const char *vm, int timeout_s, struct ferry_error *err);

        /* A snapshot without memory; *ret_snapshot (free() it) names it for the calls below. */
        int (*snapshot_create)(struct source *s, const char *vm, const char *name, bool quiesce, int timeout_s,
                               char **ret_snapshot, struct ferry_error *err);
        int (*snapshot_remove)(struct source *s, const char *vm, const char *snapshot, int timeout_s,
                               struct ferry_error *err);

        /* Turn change block tracking on for the VM and each of its disks. */
        int (*cbt_enable)(struct source *s, const char *vm, int timeout_s, struct ferry_error *err);

        /* The changeId of the disk with device_key in snapshot (free() it). */
        int (*disk_change_id)(struct source *s, const char *vm, const char *snapshot, int64_t device_key,
                              char **ret_change_id, struct ferry_error *err);

        /* Every extent changed since change_id ("*": every allocated extent), to the end of the disk. */
        int (*changed_areas)(struct source *s, const char *vm, const char *snapshot, int64_t device_key,
                             uint64_t capacity, const char *change_id, struct source_extent **ret_extents,
                             size_t *ret_n, struct ferry_error *err);

        /*
         * Serve one disk over NBD as the source's disk_access says (vddk,
         * datastore, nbd) and return where to read it.  A server ferry starts
         * dies with the calling thread (PR_SET_PDEATHSIG): open disks on a
         * long-lived thread.  Close with disk_close(), on any thread.
         */
        int (*disk_open)(struct source *s, const struct source_disk_spec *spec, struct source_disk **ret,
                         struct ferry_error *err);
        /* Stop the disk's server (if any) and free; NULL is fine. */
        void (*disk_close)(struct source_disk *d);
};

/* The driver for type ("vmware"), or NULL. */
const struct source_ops *source_ops_find(const char *type);

#endif
