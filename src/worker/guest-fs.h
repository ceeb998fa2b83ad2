/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Files inside a guest's root file system, mounted (or a plain directory
 * in tests).  Every path is resolved with openat2(RESOLVE_IN_ROOT), so
 * that a guest's absolute symlink (/etc/os-release → /usr/lib/os-release,
 * or something hostile) stays inside the guest and never reaches the
 * worker's own files.  Writes are atomic (a temporary file in the same
 * directory, fsync()ed, renamed over the old one), owned by root:root
 * when the worker runs as root.
 *
 * Paths are guest paths: "/etc/fstab" or "etc/fstab" alike.
 */
#ifndef FERRY_WORKER_GUEST_FS_H
#define FERRY_WORKER_GUEST_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

/* The most a guest configuration file may hold for ferry to read it. */
#define GUEST_FS_READ_MAX ((size_t) 1 << 20)

/* open() of a guest path, with O_CLOEXEC|O_NOCTTY added: an fd, or a negative errno. */
int guest_fs_open(int root_fd, const char *path, int flags, mode_t mode);

/* Does the path exist (following symlinks inside the guest)? */
bool guest_fs_exists(int root_fd, const char *path);

/* Is the path a symlink itself (not followed)? */
bool guest_fs_is_symlink(int root_fd, const char *path);

/* The file's content, NUL-terminated (free() it); -ENOENT when absent.
 * Errors: "Cannot read '/etc/fstab' in the guest: <why>". */
int guest_fs_read(int root_fd, const char *path, char **ret, struct ferry_error *err);

/* Create the directory and its parents (mode 0755, root:root). */
int guest_fs_mkdir_p(int root_fd, const char *path, struct ferry_error *err);

/* Replace path (its directory is created) with data, mode as given. */
int guest_fs_write_atomic(int root_fd, const char *path, const char *data, mode_t mode, struct ferry_error *err);

/* Make path a symlink to target (created with its directory; an existing
 * file or link at path is replaced). */
int guest_fs_symlink(int root_fd, const char *target, const char *path, struct ferry_error *err);

/* Remove a file or symlink: 1 removed, 0 was not there. */
int guest_fs_unlink(int root_fd, const char *path, struct ferry_error *err);

/* The names in a guest directory matching the shell pattern, sorted, in a
 * NULL-terminated array (free each, then the array); an empty array when
 * the directory does not exist. */
int guest_fs_list(int root_fd, const char *dir, const char *pattern, char ***ret, struct ferry_error *err);
void guest_fs_list_free(char **list);

#endif
