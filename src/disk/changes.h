/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Change lists: the areas of a disk that changed since an earlier copy
 * (VMware change block tracking), which a delta copy reads instead of the
 * whole disk.  Two JSON forms are accepted:
 *
 *     [{"start": 0, "length": 65536}, {"start": 1048576, "length": 4096}]
 *
 * and the lab's vSphere simulator change file (tests/lab/vcsim/README.md):
 *
 *     {"change_id": "…", "since": "…",
 *      "areas": [{"start": 0, "length": 65536}], "allocated": [...]}
 *
 * of which only "areas" matters here.  Areas may come in any order but
 * must not overlap, and each needs a length of at least 1; areas that
 * touch are merged.
 */
#ifndef FERRY_DISK_CHANGES_H
#define FERRY_DISK_CHANGES_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "disk/ranges.h"

/* The largest change list file read: 64 MiB (about a million areas). */
#define DISK_CHANGES_FILE_MAX (64u << 20)

/* Hex SHA-256 and its NUL. */
#define DISK_CHANGES_DIGEST_SIZE 65

/*
 * Parse a change list.  Errors name the area by its index:
 * "Area 3 overlaps area 2 ([0, 65536) and [4096, 8192))".  *ret is
 * replaced on success only.
 */
int disk_changes_parse(const char *text, size_t len, struct disk_ranges *ret, struct ferry_error *err);

/* Read and parse the file at path; errors start with "Change list 'PATH'". */
int disk_changes_load(const char *path, struct disk_ranges *ret, struct ferry_error *err);

/* -ERANGE with "Area [S, E) of the change list ends beyond the end of the
 * N-byte source" unless every area lies within [0, size). */
int disk_changes_check_size(const struct disk_ranges *changes, uint64_t size, struct ferry_error *err);

/* A fingerprint of the (normalised) list, so that a checkpoint can tell
 * whether it was written for the same changes: hex SHA-256.  -ENOMEM. */
int disk_changes_digest(const struct disk_ranges *changes, char ret[static DISK_CHANGES_DIGEST_SIZE]);

#endif
