/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Whole small files: read one into memory, or replace one atomically
 * (a temporary file next to it, fsync()ed, then rename()d over it), so
 * that a reader never sees half of a certificate, a key or a config file.
 * Knows nothing of ferry.
 */
#ifndef FERRY_COMMON_FILEIO_H
#define FERRY_COMMON_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

/*
 * Read the whole file at path, at most max bytes, into a NUL-terminated
 * allocation (free() it).  Returns 0, or a negative errno: that of
 * open()/read(), -EISDIR for a directory, -EFBIG past max.
 */
int fileio_read(const char *path, size_t max, char **ret, size_t *ret_len);

/*
 * fileio_read() for files a user names (change lists, checkpoints), with
 * the message ready to show: "Cannot read '<path>': <why>" or
 * "'<path>' is larger than <max> bytes".
 */
int fileio_read_checked(const char *path, size_t max, char **ret, size_t *ret_len, struct ferry_error *err);

/*
 * Replace path with data, created with mode (umask not applied): either
 * the old content or the new one is there, whatever happens.  The
 * directory must exist.  Errors: "Failed to write '<path>': <why>".
 */
int fileio_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct ferry_error *err);

#endif
