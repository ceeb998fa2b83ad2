/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The two protobuf messages of Incus's migration protocol that a block
 * volume push needs (internal/migration/migrate.proto), encoded and
 * decoded by hand: MigrationHeader (fs = 1, volumeSize = 11) and
 * MigrationControl (success = 1, message = 2).  Decoding skips fields it
 * does not know, as protobuf readers do.
 */
#ifndef FERRY_TARGET_INCUS_MIGRATION_H
#define FERRY_TARGET_INCUS_MIGRATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* MigrationFSType BLOCK_AND_RSYNC: raw bytes for block volumes. */
#define INCUS_MIGRATION_FS_BLOCK_AND_RSYNC 4

/* A tag, a varint of at most 10 bytes, twice. */
#define INCUS_MIGRATION_HEADER_MAX 24

struct incus_migration_header {
        int64_t fs;             /* -1 when absent */
        int64_t volume_size;    /* -1 when absent */
        bool refresh;
};

/*
 * MigrationHeader{fs: BLOCK_AND_RSYNC, volumeSize: size}: the bytes
 * 08 04 58 <varint size>.  volumeSize is always sent: Incus 6.0.4 crashes
 * on a block push without it.  Returns the length written to out.
 */
size_t incus_migration_header_encode(uint64_t volume_size, uint8_t out[static INCUS_MIGRATION_HEADER_MAX]);

/* -EBADMSG "Invalid migration header from Incus: <why>" on malformed input. */
int incus_migration_header_decode(const void *buf, size_t len, struct incus_migration_header *ret,
                                  struct ferry_error *err);

/*
 * MigrationControl{success, message}; free() *ret.  message may be NULL.
 */
int incus_migration_control_encode(bool success, const char *message, uint8_t **ret, size_t *ret_len);

/* *ret_message (free() it) is NULL when the message has none.
 * -EBADMSG "Invalid migration control message from Incus: <why>". */
int incus_migration_control_decode(const void *buf, size_t len, bool *ret_success, char **ret_message,
                                   struct ferry_error *err);

#endif
