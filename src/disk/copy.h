/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The copy engine: copies a disk from an NBD source to a sink.
 *
 *     struct disk_copy_options o = {
 *             .source = { .uri = "nbd+unix:///?socket=/run/src.sock" },
 *             .sink = sink,                   (sink_open())
 *             .checkpoint_path = "disk0.ckpt",
 *             .verify = true,
 *     };
 *     struct disk_copy_result res;
 *
 *     r = disk_copy(&o, &res, &err);
 *
 * What it does:
 * - asks the server which ranges read as zeros ("base:allocation" block
 *   status) and reads only the rest; a server without that context is
 *   read in full.  Data it read that is all zeros (in blocks of 64 KiB)
 *   is written as zeros too: holes in a file, discards or zero-outs on a
 *   block device.  A fresh file sink is all holes, so zeros cost nothing;
 * - with a change list (a delta), copies only those ranges, onto a sink
 *   that holds the previous copy;
 * - opens up to `connections` connections when the server allows several
 *   (multi-conn), one thread each, with up to `requests` reads of at most
 *   `chunk_size` bytes in flight per connection; each thread writes what
 *   it read;
 * - retries a read that fails with EIO after a delay that doubles each
 *   time (100 ms, 200 ms, ... at most 5 s), up to read_attempts attempts;
 *   any other failure stops the copy, and the error names the offset;
 * - with a checkpoint file, records the finished ranges every few seconds
 *   (and when it stops, also on errors) once the sink has made them
 *   durable, and skips them when started again;
 * - with verify, compares source and sink afterwards chunk by chunk by
 *   SHA-256 and fails naming the first offset where they differ.
 *
 * Memory: the read buffers are allocated once and bounded by
 *     connections x requests x (chunk_size + 4 KiB)
 * (4 x 16 x 1 MiB = 64 MiB by default; disk_copy() refuses more than
 * DISK_COPY_BUFFER_MAX); verify uses 2 x chunk_size per connection
 * instead.  Besides that it keeps the list of ranges left and done, which
 * grows with the number of holes and changed areas, not with the disk.
 *
 * A sink without random writes (a stream) gets one connection and the
 * disk strictly in order; it cannot take a delta, a checkpoint or verify.
 */
#ifndef FERRY_DISK_COPY_H
#define FERRY_DISK_COPY_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "disk/progress.h"
#include "disk/ranges.h"
#include "disk/sink.h"
#include "disk/source.h"

#define DISK_COPY_DEFAULT_CONNECTIONS 4u
#define DISK_COPY_MAX_CONNECTIONS 16u
#define DISK_COPY_DEFAULT_REQUESTS 16u
#define DISK_COPY_MAX_REQUESTS 64u
#define DISK_COPY_DEFAULT_CHUNK_SIZE ((size_t) 1 << 20)
#define DISK_COPY_MIN_CHUNK_SIZE ((size_t) 4096)
#define DISK_COPY_MAX_CHUNK_SIZE ((size_t) 32 << 20)     /* what NBD servers take in one read */
#define DISK_COPY_BUFFER_MAX ((uint64_t) 1 << 30)        /* connections x requests x chunk_size */
#define DISK_COPY_DEFAULT_READ_ATTEMPTS 6u
#define DISK_COPY_DEFAULT_RETRY_DELAY_USEC 100000u
#define DISK_COPY_MAX_RETRY_DELAY_USEC 5000000u
#define DISK_COPY_DEFAULT_CHECKPOINT_USEC 5000000u
#define DISK_COPY_DEFAULT_PROGRESS_USEC 250000u

struct disk_copy_options {
        struct disk_source source;
        struct sink *sink;                      /* borrowed, not started yet */
        const struct disk_ranges *changes;      /* a delta's changed areas; NULL: the whole disk */
        const char *checkpoint_path;            /* NULL: no checkpoint */
        uint64_t checkpoint_interval_usec;      /* 0: DISK_COPY_DEFAULT_CHECKPOINT_USEC */
        unsigned connections;                   /* 0: default; 1 when the server has no multi-conn */
        unsigned requests;                      /* in flight per connection; 0: default */
        size_t chunk_size;                      /* largest read, a multiple of 4096; 0: default */
        unsigned read_attempts;                 /* per read, for EIO; 0: default */
        uint64_t retry_delay_usec;              /* before the first retry; 0: default */
        bool verify;                            /* compare source and sink afterwards */
        bool flush;                             /* make the sink durable before returning */
        disk_progress_fn progress;              /* NULL: none */
        void *userdata;
        uint64_t progress_interval_usec;        /* 0: DISK_COPY_DEFAULT_PROGRESS_USEC */
        const volatile sig_atomic_t *cancel;    /* stop (saving the checkpoint) once non-zero */
};

struct disk_copy_result {
        uint64_t size;                  /* of the source */
        uint64_t bytes_total;           /* the work: the disk, or the changed areas */
        uint64_t bytes_skipped;         /* of that, done by an earlier run (checkpoint) */
        uint64_t bytes_read;            /* read from the source (not counting retries and verify) */
        uint64_t bytes_written;         /* written to the sink as data */
        uint64_t bytes_zeroed;          /* written as zeros or holes, or left as holes */
        uint64_t read_retries;
        unsigned connections;           /* used */
        bool multi_conn;                /* the server allows several connections */
        bool extents;                   /* the server has base:allocation block status */
        bool verified;                  /* verify ran and found source and sink equal */
        double seconds;                 /* wall time, verify included */
};

/*
 * Copy as described above.  Errors (ferry_error) say what failed, where and
 * why: "Cannot read the source at offset 1048576 (1048576 bytes) after 6
 * attempts: Input/output error", "Cannot write to 'disk.img' at offset
 * 4194304 (65536 bytes): No space left on device", "Verification failed:
 * 'disk.img' differs from the source at offset 5242880".  -ECANCELED when
 * *cancel stopped it.  ret is written on success only.
 */
int disk_copy(const struct disk_copy_options *o, struct disk_copy_result *ret, struct ferry_error *err);

#endif
