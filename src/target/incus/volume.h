/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Custom storage volumes: create, delete, look up, export, and feed one
 * with data through the migration push protocol (DESIGN §5, sink 2).
 *
 * A push is a stream: bytes in disk order, each exactly once, from one
 * thread.  It is what the copy engine's stream sink contract asks (a
 * struct sink_ops wrapper maps start(size, keep) to incus_push_begin()
 * with refresh = keep, write() to incus_push_write() after checking the
 * offset, zero() to incus_push_write_zeros(), finish() to
 * incus_push_finish() and free() to incus_push_free()):
 *
 *     r = incus_push_begin(c, &(struct incus_push_options) {
 *                                  .project = "lab", .pool = "default", .volume = "web01-disk1",
 *                                  .size = size }, &push, err);
 *     while (...)
 *             r = incus_push_write(push, buf, n, err);
 *     r = incus_push_finish(push, err);
 *     incus_push_free(push);
 *
 * On the wire: `POST /1.0/storage-pools/P/volumes/custom?project=X` with
 * a push migration source answers an operation with the secrets `control`
 * and `fs`; both websockets are opened; ferry sends
 * MigrationHeader{BLOCK_AND_RSYNC, volumeSize} on control and reads the
 * server's; the data goes on fs as binary messages, then one empty text
 * message ends it; control answers MigrationControl{success}.
 */
#ifndef FERRY_TARGET_INCUS_VOLUME_H
#define FERRY_TARGET_INCUS_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "target/incus/client.h"

/* Create an empty custom block volume of size bytes. */
int incus_volume_create_block(struct incus_client *c, const char *project, const char *pool, const char *name,
                              uint64_t size, struct ferry_error *err);

/* The same with config keys ({"user.k": "v"}, string values) set on the
 * new volume from the start; NULL: none. */
int incus_volume_create_block_config(struct incus_client *c, const char *project, const char *pool,
                                     const char *name, uint64_t size, const json_t *config,
                                     struct ferry_error *err);

/* Delete a custom volume; -ENOENT "Storage pool volume not found" if absent. */
int incus_volume_delete(struct incus_client *c, const char *project, const char *pool, const char *name,
                        struct ferry_error *err);

/* The volume object (a new reference). */
int incus_volume_get(struct incus_client *c, const char *project, const char *pool, const char *name,
                     json_t **ret, struct ferry_error *err);

/*
 * Export the volume through the backup API into fd as Incus's tarball
 * (backup/index.yaml, backup/volume.img for block volumes), uncompressed;
 * the backup made for it is deleted afterwards.
 */
int incus_volume_export(struct incus_client *c, const char *project, const char *pool, const char *name, int fd,
                        struct ferry_error *err);

struct incus_push_options {
        const char *project;    /* NULL: default */
        const char *pool;
        const char *volume;
        uint64_t size;          /* bytes that will be pushed; the volume gets this size */
        /* Overwrite the existing volume of that name in place (the
         * volume must exist and keep its size); else it must not exist. */
        bool refresh;
        /* For connecting and for each message: 0 means 30 s. */
        int timeout_s;
        /* For Incus to finish writing after the last byte: 0 means 600 s. */
        int finish_timeout_s;
};

struct incus_push;

/* Start a push: the volume exists (empty, or old data with refresh) once
 * this returns.  Errors carry Incus's message ("Storage volume already
 * exists" without refresh). */
int incus_push_begin(struct incus_client *c, const struct incus_push_options *o, struct incus_push **ret,
                     struct ferry_error *err);

/* The next len bytes.  Writing past size fails with -EFBIG. */
int incus_push_write(struct incus_push *p, const void *buf, size_t len, struct ferry_error *err);

/* The next len bytes, all zero (Incus writes them as holes). */
int incus_push_write_zeros(struct incus_push *p, uint64_t len, struct ferry_error *err);

/* Bytes pushed so far. */
uint64_t incus_push_offset(const struct incus_push *p);

/*
 * After exactly size bytes: end the stream and wait until Incus has
 * written and recorded the volume.  Fewer bytes: -EIO "Pushed N of M
 * bytes of volume 'V'" (and the push is aborted).  An Incus failure
 * carries its message.
 */
int incus_push_finish(struct incus_push *p, struct ferry_error *err);

/* Free; a push that did not finish is aborted first: Incus fails the
 * operation and removes the volume it created (not one refreshed). */
void incus_push_free(struct incus_push *p);
DEFINE_CLEANUP_FUNC(struct incus_push, incus_push_free);
#define _cleanup_incus_push_ _cleanup_(incus_push_free_p)

/*
 * A whole push from a reader: read(userdata, buf, len, offset) fills buf
 * with the bytes at offset and returns how many (0 only at the end), or a
 * negative errno with err filled.  No spooling: one buffer in flight.
 */
typedef ssize_t (*incus_push_read_fn)(void *userdata, void *buf, size_t len, uint64_t offset,
                                      struct ferry_error *err);

int incus_volume_push(struct incus_client *c, const struct incus_push_options *o, incus_push_read_fn read,
                      void *userdata, struct ferry_error *err);

#endif
