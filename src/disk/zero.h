/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Finding zeros in data read from a source, so that the copy engine writes
 * them as holes (or zero ranges) instead of as data.
 */
#ifndef FERRY_DISK_ZERO_H
#define FERRY_DISK_ZERO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether all len bytes of buf are zero (true for len 0). */
bool disk_is_zero(const void *buf, size_t len);

/*
 * The length of the run at the start of buf (len bytes, holding the disk
 * bytes from offset on) made of whole blocks that are all zero, or of
 * whole blocks that are not; *ret_zero says which.  Blocks are the
 * multiples of block (> 0) on the disk, clipped to buf, so the run ends at
 * a multiple of block or at len.  Returns 0 only for len 0.
 */
size_t disk_zero_run(const void *buf, size_t len, uint64_t offset, size_t block, bool *ret_zero);

#endif
