/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sinks: where the copy engine writes a disk.  Each kind is one
 * static const struct sink_ops; a sink's state struct embeds struct sink
 * first.  Kinds today:
 *
 *   file          a regular file, written sparse (holes via
 *                 fallocate(PUNCH_HOLE)); random writes
 *   block device  holes via fallocate(PUNCH_HOLE) (the kernel's
 *                 write-zeroes with unmap), else BLKZEROOUT, else written
 *                 zeros; random writes
 *   stream        a pipe, standard output or a character device: bytes in
 *                 disk order, zeros written out; no random writes
 *
 * and the Incus volume push sink (DESIGN §5) fits the stream contract.
 *
 * Threads: a sink with random_writes gets write() and zero() from several
 * threads at once, for ranges that never overlap while in flight; the
 * other callbacks come from one thread with no write() or zero() running.
 * A sink without random_writes gets every call from one thread.
 */
#ifndef FERRY_DISK_SINK_H
#define FERRY_DISK_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/macros.h"

struct sink;

struct sink_ops {
        const char *type;       /* "file", "block device", "stream": for messages */

        /*
         * True: write() and zero() may come for any range in any order.
         * False: they come in disk order, each byte of [0, size) exactly
         * once, from one thread; the engine then copies with one
         * connection, and refuses deltas and checkpoints.
         */
        bool random_writes;

        /*
         * Called once before any write with the source size.  keep says
         * the sink already holds an earlier copy of this disk that the
         * copy only updates (a delta, a resumed copy): it must then hold
         * exactly size bytes (a block device: at least).  Without keep the
         * sink is (re)made size bytes long; a sink that then reads as zeros
         * sets s->zeroed.  Sets s->size.
         */
        int (*start)(struct sink *s, uint64_t size, bool keep, struct ferry_error *err);

        /*
         * Write len bytes of buf at offset.  buf is aligned like offset
         * ((uintptr_t) buf % s->align == offset % s->align), so that a sink
         * doing direct I/O can write the aligned middle straight from it.
         */
        int (*write)(struct sink *s, const void *buf, size_t len, uint64_t offset, struct ferry_error *err);

        /* Make [offset, offset + len) read as zeros, as holes where the
         * sink can. */
        int (*zero)(struct sink *s, uint64_t offset, uint64_t len, struct ferry_error *err);

        /* Make everything written so far durable (a checkpoint will say it
         * is there).  NULL: nothing to do. */
        int (*flush)(struct sink *s, struct ferry_error *err);

        /* After the last write of a complete copy (a stream checks that it
         * got every byte; the push sink ends the transfer).  NULL: nothing. */
        int (*finish)(struct sink *s, struct ferry_error *err);

        /* Read back len bytes at offset, for --verify.  NULL: the sink
         * cannot be read. */
        int (*read)(struct sink *s, void *buf, size_t len, uint64_t offset, struct ferry_error *err);

        /* 1 if [offset, offset + len) is known to read as zeros without
         * reading it (a hole), 0 if it has to be read.  NULL: always 0. */
        int (*reads_as_zero)(struct sink *s, uint64_t offset, uint64_t len);

        /* Release everything, including s. */
        void (*free)(struct sink *s);
};

struct sink {
        const struct sink_ops *ops;
        char *name;             /* as the user gave it, for messages */
        char *id;               /* what a checkpoint records: the canonical path; NULL for streams */
        uint64_t size;          /* the source size once started */
        size_t align;           /* see write(); 1 without direct I/O */
        bool zeroed;            /* reads as all zeros since start(): zero() may be skipped */
};

struct sink_open_options {
        bool direct;            /* O_DIRECT for files and block devices */
};

/*
 * Open the sink at path: "-" is standard output (a stream); an existing
 * block device, character device or FIFO is used as it is; anything else
 * is a regular file, which start() creates (mode 0666 & ~umask) if it is
 * missing, so that a copy failing before it starts leaves nothing.  Errors:
 * "Cannot open 'PATH': …", "'PATH' is a directory", "--direct needs a
 * file or block device, not the stream 'PATH'".
 */
int sink_open(const char *path, const struct sink_open_options *o, struct sink **ret, struct ferry_error *err);

void sink_free(struct sink *s);
DEFINE_CLEANUP_FUNC(struct sink, sink_free);
#define _cleanup_sink_ _cleanup_(sink_free_p)

/* Fill in the base struct: name copied, id NULL, align 1.  -ENOMEM. */
int sink_init(struct sink *s, const struct sink_ops *ops, const char *name);

/* Release what sink_init() allocated (for the free callbacks). */
void sink_done(struct sink *s);

/* The kinds, for sink_open() and their tests.  The stream sink writes to
 * fd, and closes it when freed if close_fd; on failure fd is left alone. */
int sink_file_new(const char *path, bool direct, struct sink **ret, struct ferry_error *err);
int sink_stream_new(const char *name, int fd, bool close_fd, struct sink **ret, struct ferry_error *err);

#endif
