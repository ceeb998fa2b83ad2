/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checkpoints: what a copy has finished, kept in a small JSON file so that
 * a copy restarted after a crash (or kill -9) continues where it stopped.
 *
 *     {"ferry_disk_checkpoint": 1,
 *      "source_size": 2147483648,
 *      "changes_sha256": "9f86…",            (deltas only)
 *      "sink": "/var/lib/ferry/disk0.img",
 *      "done": [{"start": 0, "length": 1073741824}]}
 *
 * The file is replaced atomically (write_file_atomic()), and the copy
 * engine writes it only after the sink has made the data it lists durable,
 * so "done" never claims more than the sink holds.  A checkpoint belongs to
 * one source size, one change list (or a full copy) and one sink:
 * disk_checkpoint_check() refuses any other.
 */
#ifndef FERRY_DISK_CHECKPOINT_H
#define FERRY_DISK_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "disk/changes.h"
#include "disk/ranges.h"

#define DISK_CHECKPOINT_VERSION 1

/* The largest checkpoint file read: 64 MiB. */
#define DISK_CHECKPOINT_FILE_MAX (64u << 20)

struct disk_checkpoint {
        uint64_t source_size;
        char changes_sha256[DISK_CHANGES_DIGEST_SIZE]; /* "" for a full copy */
        char *sink;                                     /* the sink's name; NULL if not recorded */
        struct disk_ranges done;                        /* within [0, source_size) */
};

#define DISK_CHECKPOINT_INIT { .source_size = 0, .changes_sha256 = "", .sink = NULL, .done = DISK_RANGES_INIT }

void disk_checkpoint_done(struct disk_checkpoint *c);
#define _cleanup_disk_checkpoint_ _cleanup_(disk_checkpoint_done)

/*
 * Parse checkpoint text.  Errors say what is wrong: "Not a ferry
 * checkpoint (no 'ferry_disk_checkpoint' field)", "Unsupported checkpoint
 * version 2 (this ferry reads version 1)", "Done range 3 overlaps or
 * touches done range 2", "Done range 1 ends beyond the source size".  *ret
 * is replaced on success only.
 */
int disk_checkpoint_parse(const char *text, size_t len, struct disk_checkpoint *ret, struct ferry_error *err);

/* Read and parse the file at path.  -ENOENT (with a message) when there is
 * none; other errors start with "Checkpoint 'PATH'". */
int disk_checkpoint_load(const char *path, struct disk_checkpoint *ret, struct ferry_error *err);

/* The JSON text of c (free() it); NULL with errno = ENOMEM. */
char *disk_checkpoint_format(const struct disk_checkpoint *c);

/* Atomically replace the file at path with c. */
int disk_checkpoint_save(const char *path, const struct disk_checkpoint *c, struct ferry_error *err);

/*
 * Whether c may be continued by a copy of a size-byte source onto sink,
 * full (changes_sha256 "") or a delta.  Errors (-ESTALE) name both sides:
 * "Checkpoint 'PATH' is for a 2147483648-byte source, not this
 * 1073741824-byte one".  path is only used in messages.
 */
int disk_checkpoint_check(const struct disk_checkpoint *c, const char *path, uint64_t size,
                          const char *changes_sha256, const char *sink, struct ferry_error *err);

#endif
