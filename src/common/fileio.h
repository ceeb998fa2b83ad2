/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Whole-file reads and atomic whole-file writes, for the small state and
 * input files programs keep (JSON lists, checkpoints).  Knows nothing of
 * ferry.
 */
#ifndef FERRY_COMMON_FILEIO_H
#define FERRY_COMMON_FILEIO_H

#include <stddef.h>

#include "common/error.h"

/*
 * Read the whole file at path into a NUL-terminated allocation (free()
 * it); *ret_len (if not NULL) gets its length without the NUL.  Errors:
 * "Cannot read '<path>': <errno text>", and -EFBIG "'<path>' is larger
 * than <max> bytes".
 */
int read_file_all(const char *path, size_t max, char **ret, size_t *ret_len, struct ferry_error *err);

/*
 * Replace the file at path by data, so that a reader (or a restart after
 * a crash) sees either the old or the new contents, never a mix: write a
 * temporary file next to it, fsync() it, rename() it over path and fsync()
 * the directory.  The file gets mode 0600.  Errors: "Cannot write
 * '<path>': <errno text>"; the temporary file is removed on failure.
 */
int write_file_atomic(const char *path, const void *data, size_t len, struct ferry_error *err);

#endif
