/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Uploads that Incus spools to disk before it stores them:
 *
 *  - a custom block volume from a backup tarball (DESIGN §5, sink 3, the
 *    fallback when the migration push cannot be used):
 *    `POST /1.0/storage-pools/P/volumes/custom?project=X` with
 *    `Content-Type: application/octet-stream`, `X-Incus-name: V` and an
 *    uncompressed tar stream of `backup/index.yaml` (what `incus storage
 *    volume export` writes: name, backend, pool, type custom, the volume
 *    with content_type block and its size) and `backup/volume.img`;
 *  - an ISO image as a custom volume with content_type iso (the worker's
 *    and the driver ISOs): the same POST with `X-Incus-type: iso` and the
 *    file itself as the body.
 *
 * Both stream: the tarball is written by a thread into a socket pair as
 * libcurl sends it, from a reader callback (incus_push_read_fn), with one
 * buffer in flight; its length is known beforehand (tar headers, the data
 * padded to 512 bytes, two zero blocks), so nothing is spooled by ferry.
 */
#ifndef FERRY_TARGET_INCUS_BACKUP_H
#define FERRY_TARGET_INCUS_BACKUP_H

#include <stdint.h>

#include "common/error.h"
#include "target/incus/client.h"
#include "target/incus/volume.h"

#define INCUS_TAR_BLOCK 512

/*
 * One ustar header block for a regular file (mode 0644 or 0600, owner
 * root, mtime) of size bytes; sizes from 8 GiB on use GNU's base-256
 * size field, as GNU tar and Go's archive/tar read it.  name must fit the
 * 100-byte name field: -ENAMETOOLONG otherwise.
 */
int incus_tar_header(char block[static INCUS_TAR_BLOCK], const char *name, uint64_t size, unsigned mode,
                     int64_t mtime);

/* Bytes of the tar stream incus_volume_import() sends for an index of
 * index_len bytes and a disk of size bytes. */
uint64_t incus_backup_tar_size(uint64_t index_len, uint64_t size);

/* backup/index.yaml for custom block volume name of size bytes in pool
 * (driver backend) and project (free() it).  NULL on ENOMEM. */
char *incus_backup_index(const char *name, const char *project, const char *pool, const char *backend,
                         uint64_t size);

struct incus_import_options {
        const char *project;    /* NULL: default */
        const char *pool;
        const char *volume;     /* must not exist */
        uint64_t size;          /* bytes read() delivers, the volume's size */
        int timeout_s;          /* for Incus to unpack and store it; 0: 3600 s */
};

/*
 * Create custom block volume o->volume from read (as for
 * incus_volume_push()) through a backup tarball.  Incus rounds the volume
 * up to whole 4 KiB blocks: an odd-sized disk is followed by zeros.
 * Errors carry Incus's message ("Storage volume already exists"), or the
 * reader's, prefixed "Cannot import volume 'v' from a backup: ".
 */
int incus_volume_import(struct incus_client *c, const struct incus_import_options *o, incus_push_read_fn read,
                        void *userdata, struct ferry_error *err);

/*
 * Upload size bytes of fd (read sequentially from its position) as the
 * ISO volume name (custom, content_type iso) in pool and project.
 */
int incus_iso_upload(struct incus_client *c, const char *project, const char *pool, const char *name, int fd,
                     uint64_t size, struct ferry_error *err);

#endif
