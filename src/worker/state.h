/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's state directory (ferry-worker agent --state-dir, default
 * /var/lib/ferry-worker), on the worker's own disk, so that a command
 * survives a crash or a reboot of the worker:
 *
 *   command.json                   the command in progress, as ferryd sent it;
 *                                  there until ferryd has its final update
 *   DISK.full.ckpt                 checkpoint of a full import of DISK
 *   DISK.delta-DIGEST.ckpt         of a delta: DIGEST is the start of the change
 *                                  list's digest (disk_changes_digest())
 *
 * A restarted agent runs command.json again, and the copy engine goes on
 * from the checkpoints.  A command that completed removes its
 * checkpoints once ferryd has its result; finalize removes any left.
 */
#ifndef FERRY_WORKER_STATE_H
#define FERRY_WORKER_STATE_H

#include <jansson.h>

#include "common/error.h"
#include "model/worker-command.h"

#define WORKER_STATE_DEFAULT_DIR "/var/lib/ferry-worker"
#define WORKER_STATE_COMMAND "command.json"
#define WORKER_STATE_COMMAND_MAX (64u << 20)

/* Create dir (mode 0700) if it is missing. */
int worker_state_prepare(const char *dir, struct ferry_error *err);

/* The command in progress: 1 and *ret_command (and its JSON), or 0 when
 * there is none.  A file that is not a valid command is -EINVAL: "State
 * file 'PATH' is damaged: …". */
int worker_state_load(const char *dir, struct worker_command **ret_command, json_t **ret_json,
                      struct ferry_error *err);

/* Record command (with its "id") as in progress, atomically. */
int worker_state_save(const char *dir, const json_t *command, struct ferry_error *err);

/* No command in progress any more. */
int worker_state_clear(const char *dir, struct ferry_error *err);

/*
 * Where disk d of import c keeps its checkpoint: d->checkpoint if the
 * command names one, else in dir as above.  changes_digest: the change
 * list's for a delta, NULL for a full import.  NULL with errno on ENOMEM.
 */
char *worker_state_checkpoint_path(const char *dir, const struct worker_disk *d, const char *changes_digest);

/* Remove every *.ckpt file in dir; returns how many, or a negative errno. */
int worker_state_remove_checkpoints(const char *dir, struct ferry_error *err);

#endif
