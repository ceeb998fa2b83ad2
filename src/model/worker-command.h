/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worker protocol (docs/rest-api.md, "Worker endpoints"): the commands
 * ferryd hands to a ferry-worker agent and the updates the agent sends
 * back.  Both sides validate with this module, so that a command ferryd
 * accepted is one the worker can run, and an update the worker builds is
 * one ferryd takes.
 *
 * A command:
 *
 *     {"id": 3, "command": "import", "mode": "full",
 *      "disks": [{"name": "disk0", "source": "nbd://proxy/disk0",
 *                 "sink": "/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_disk0"}]}
 *     {"id": 4, "command": "import", "mode": "delta",
 *      "disks": [{"name": "disk0", "source": "…", "sink": "…",
 *                 "changes": [{"start": 0, "length": 65536}]}]}
 *     {"id": 5, "command": "finalize", "sha256": true,
 *      "disks": [{"name": "disk0", "sink": "…"}]}
 *     {"id": 6, "command": "post-import", "os_type": "linux",
 *      "disks": [{"name": "disk0", "sink": "…"}],
 *      "nics": [{"hardware_address": "00:50:56:01:00:01"}]}
 *
 * An update:
 *
 *     {"id": 3, "status": "running", "message": "Importing disk0 (full): …",
 *      "progress": [{"disk": "disk0", "done": 1048576, "total": 2097152, "rate": 5.2e8}]}
 *     {"id": 3, "status": "done", "result": {"disks": [...]}}
 *     {"id": 3, "status": "failed", "message": "Cannot read the source at …"}
 */
#ifndef FERRY_MODEL_WORKER_COMMAND_H
#define FERRY_MODEL_WORKER_COMMAND_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"

#define WORKER_MAX_DISKS 64
/* The most arguments a source command may have. */
#define WORKER_SOURCE_ARGV_MAX 64
#define WORKER_DISK_NAME_MAX 63
#define WORKER_MESSAGE_MAX 1024
#define WORKER_MAX_NICS 64

enum worker_command_type {
        WORKER_COMMAND_IMPORT,          /* copy disks from their NBD sources, full or delta */
        WORKER_COMMAND_FINALIZE,        /* flush the sinks, drop checkpoints, optionally checksum */
        WORKER_COMMAND_POST_IMPORT,     /* guest fixes on the imported disks (worker/post-import.h) */
        _WORKER_COMMAND_TYPE_MAX,
        _WORKER_COMMAND_TYPE_INVALID = -EINVAL,
};

enum worker_import_mode {
        WORKER_IMPORT_FULL,
        WORKER_IMPORT_DELTA,
        _WORKER_IMPORT_MODE_MAX,
        _WORKER_IMPORT_MODE_INVALID = -EINVAL,
};

enum worker_os_type {
        WORKER_OS_LINUX,
        WORKER_OS_WINDOWS,
        _WORKER_OS_TYPE_MAX,
        _WORKER_OS_TYPE_INVALID = -EINVAL,
};

enum worker_update_status {
        WORKER_UPDATE_RUNNING,
        WORKER_UPDATE_DONE,
        WORKER_UPDATE_FAILED,
        _WORKER_UPDATE_STATUS_MAX,
        _WORKER_UPDATE_STATUS_INVALID = -EINVAL,
};

/* "import", "finalize", "post-import"; "full", "delta"; "linux",
 * "windows"; "running", "done", "failed".  Static strings; NULL /
 * -EINVAL for anything else. */
const char *worker_command_type_to_string(enum worker_command_type t);
enum worker_command_type worker_command_type_from_string(const char *s);
const char *worker_import_mode_to_string(enum worker_import_mode m);
enum worker_import_mode worker_import_mode_from_string(const char *s);
const char *worker_update_status_to_string(enum worker_update_status s);
enum worker_update_status worker_update_status_from_string(const char *s);
const char *worker_os_type_to_string(enum worker_os_type t);
enum worker_os_type worker_os_type_from_string(const char *s);

struct worker_disk {
        char *name;             /* [A-Za-z0-9][A-Za-z0-9._-]*, unique in the command */
        char *source;           /* import: an NBD URI, or NULL with source_argv; NULL otherwise */
        char **source_argv;     /* import: an NBD server to start with socket activation
                                 * (nbdkit vddk …, qemu-nbd …), NULL-terminated; or NULL */
        char *sink;             /* an absolute path: a block device or a file */
        char *changes;          /* delta: the change list as compact JSON text; NULL otherwise */
        char *checkpoint;       /* import: an absolute path, or NULL for the worker's state dir */
};

/* post-import: a NIC of the VM, whose MAC the migration keeps. */
struct worker_nic {
        char *hardware_address; /* "00:50:56:01:00:01", lower case */
};

struct worker_command {
        int64_t id;             /* 0 when the JSON had none (not queued yet) */
        enum worker_command_type type;
        enum worker_import_mode mode;   /* import only */
        bool sha256;            /* finalize: report each sink's SHA-256 */
        enum worker_os_type os_type;    /* post-import only */
        struct worker_disk *disks;
        size_t n_disks;
        struct worker_nic *nics;        /* post-import: may be none */
        size_t n_nics;
};

void worker_command_free(struct worker_command *c);
DEFINE_CLEANUP_FUNC(struct worker_command, worker_command_free);
#define _cleanup_worker_command_ _cleanup_(worker_command_free_p)

/*
 * Validate a command and return it parsed.  need_id: "id" (at least 1) is
 * required, as on the worker's side; otherwise it must be absent, as when
 * a command is queued.  Errors (-EINVAL, or -ERANGE for numbers) name the
 * field: "Unknown command 'reboot' (import, finalize, post-import)",
 * "Field 'os_type' must be 'linux' or 'windows', not 'bsd'", "NIC 0:
 * 'hardware_address' '00:50' is not a MAC address", "Disk 1: field
 * 'name' is required", "Disk 'disk0': source 'x' is not an NBD URI",
 * "Disk 'disk0': a full import takes no 'changes'", "Disk name 'disk0'
 * appears twice".
 */
int worker_command_parse(const json_t *obj, bool need_id, struct worker_command **ret, struct ferry_error *err);

/* An update, validated; the pointers are borrowed from the JSON object. */
struct worker_update {
        int64_t id;
        enum worker_update_status status;
        const char *message;    /* NULL if absent */
        json_t *progress;       /* [{"disk", "done", "total", "rate"}], NULL if absent */
        json_t *result;         /* an object, NULL if absent */
};

/*
 * Validate an update.  Errors name the field: "Field 'status' must be one
 * of running, done, failed", "Progress 0: 'done' is larger than 'total'",
 * "Field 'message' is longer than 1024 bytes".
 */
int worker_update_parse(const json_t *obj, struct worker_update *ret, struct ferry_error *err);

#endif
