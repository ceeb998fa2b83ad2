/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Disk access shared by the source drivers (DESIGN §5): datastore paths
 * and their local mounts, NBD URI templates, and the NBD servers ferry
 * starts (qemu-nbd, nbdkit) on a unix socket.
 *
 *     r = source_datastore_map(mounts, "[ds1] web/web.vmdk", &path, &err);
 *     r = source_qemu_nbd_argv(path, sock, &argv, &err);
 *     r = source_disk_serve(argv, sock, log, 10000, &disk, &err);
 *     ... read disk->uri with libnbd ...
 *     source_disk_free(disk);
 */
#ifndef FERRY_SOURCE_DISK_H
#define FERRY_SOURCE_DISK_H

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"
#include "source/source.h"

/*
 * Split a datastore path "[ds1] dir/file.vmdk" into "ds1" and
 * "dir/file.vmdk" (free both).  -EINVAL "Invalid datastore path 'x':
 * expected '[datastore] path'" otherwise.
 */
int source_datastore_path_split(const char *backing, char **ret_datastore, char **ret_path,
                                struct ferry_error *err);

/*
 * The local file of a datastore path through mounts ({"ds1": "/mnt/ds1"}).
 * -ENOENT "Datastore 'ds2' has no mount in disk_access.datastore_mounts";
 * -EINVAL for a path that climbs out of its mount ("..").
 */
int source_datastore_map(const json_t *mounts, const char *backing, char **ret_path, struct ferry_error *err);

/* One placeholder of an NBD URI template: {name} becomes value. */
struct source_uri_var {
        const char *name;
        const char *value;
};

/*
 * Expand an NBD URI template.  "{name}" is replaced by the variable's value,
 * percent-encoded except for the unreserved characters and '/'; "{{" and
 * "}}" are literal braces.  -EINVAL "Unknown placeholder '{x}' in the NBD
 * URI template" or "Unterminated placeholder in the NBD URI template".
 */
int source_uri_template_expand(const char *tmpl, const struct source_uri_var *vars, size_t n_vars, char **ret,
                               struct ferry_error *err);

/* NULL-terminated argument vectors, freed with source_argv_free(). */
void source_argv_free(char **argv);
DEFINE_CLEANUP_FUNC(char *, source_argv_free);
#define _cleanup_argv_ _cleanup_(source_argv_free_p)

/* "qemu-nbd --read-only --format=vmdk ... --socket=SOCK -- VMDK": serves a VMDK descriptor and its chain. */
int source_qemu_nbd_argv(const char *vmdk, const char *socket_path, char ***ret_argv, struct ferry_error *err);

/*
 * Start argv (argv[0] looked up in PATH) with stdin from /dev/null and its
 * output in log_path, killed with SIGTERM when the calling thread ends,
 * and wait up to timeout_ms for socket_path to accept connections.  The
 * disk's uri is "nbd+unix:///?socket=<socket_path>".  A server that exits
 * first fails with -EIO "'<argv[0]>' exited with status N: <its last
 * output line>"; one that never listens with -ETIMEDOUT.
 */
int source_disk_serve(char *const argv[], const char *socket_path, const char *log_path, int timeout_ms,
                      struct source_disk **ret, struct ferry_error *err);

/* A disk that ferry serves nothing for: just a URI. */
int source_disk_new_uri(const char *uri, struct source_disk **ret, struct ferry_error *err);

/* Stop the server (SIGTERM, SIGKILL after 5 s), remove its socket and log, free; NULL is fine. */
void source_disk_free(struct source_disk *d);
DEFINE_CLEANUP_FUNC(struct source_disk, source_disk_free);
#define _cleanup_source_disk_ _cleanup_(source_disk_free_p)

#endif
