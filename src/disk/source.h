/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NBD source of a copy: a server reached by URI, or a command started
 * for each connection that serves NBD on the socket it is handed (systemd
 * socket activation: nbdkit, qemu-nbd).  Every connection asks for the
 * "base:allocation" metadata context, so that the copy can skip holes when
 * the server offers it.
 */
#ifndef FERRY_DISK_SOURCE_H
#define FERRY_DISK_SOURCE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libnbd.h>

#include "common/error.h"
#include "common/macros.h"
#include "disk/ranges.h"

DEFINE_CLEANUP_FUNC(struct nbd_handle, nbd_close);
#define _cleanup_nbd_ _cleanup_(nbd_close_p)

/* Exactly one of the two is set. */
struct disk_source {
        const char *uri;        /* nbd://, nbds://, nbd+unix://, nbd+vsock://... */
        char *const *argv;      /* a command, NULL-terminated; argv[0] is looked up in PATH */
};

/* How messages name the source: "'nbd://host/disk'" or "'qemu-nbd --read-only …'"
 * (quotes included).  Free the result; NULL with errno = ENOMEM. */
char *disk_source_describe(const struct disk_source *src);

/*
 * Open one connection to the source, ready for reads.  timeout_usec 0
 * waits as long as the connection takes; otherwise a connection whose
 * handshake has not finished by then is dropped with -ETIMEDOUT (a server
 * that takes one client at a time leaves the next one waiting forever).
 * A non-zero *cancel (cancel may be NULL) gives up with -ECANCELED.
 * Errors: "Cannot connect to the source '…': <libnbd's reason>".
 */
int disk_source_connect(const struct disk_source *src, uint64_t timeout_usec, const volatile sig_atomic_t *cancel,
                        struct nbd_handle **ret, struct ferry_error *err);

/* Whether the connection has "base:allocation" block status. */
bool disk_source_has_extents(struct nbd_handle *nbd);

/*
 * Add to *zero the parts of [start, start + length) that the server says
 * read as zeros (LIBNBD_STATE_ZERO), asking as often as it takes.  Errors
 * carry libnbd's reason; on error *zero may hold some of the answer, all
 * of it right.
 */
int disk_source_zero_ranges(struct nbd_handle *nbd, uint64_t start, uint64_t length, struct disk_ranges *zero,
                            struct ferry_error *err);

/* libnbd's message without the name of the call it starts with, for users. */
const char *disk_source_reason(const char *message);

/* The errno of libnbd's last error on this thread, EIO if it has none. */
int disk_source_errno(void);

#endif
