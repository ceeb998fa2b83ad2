/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Byte counts as people write them ("4M", "1.5GiB", "65536") and as
 * programs print them ("1.5 GiB").  Knows nothing of ferry.
 *
 * Suffixes are binary whatever their spelling: K, KiB, k and KB all mean
 * 1024 bytes; M, G, T, P and E likewise.  B alone means bytes.
 */
#ifndef FERRY_COMMON_SIZE_H
#define FERRY_COMMON_SIZE_H

#include <stddef.h>
#include <stdint.h>

#define KIB (UINT64_C(1) << 10)
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)

/* Big enough for any size_format() result: "1023.9 EiB" and a NUL. */
#define SIZE_FORMAT_MAX 16

/*
 * Parse a byte count: digits, an optional fraction, an optional suffix.
 * "4M", "4MiB", "0.5G", "512", "512B".  No sign, no whitespace.  A fraction
 * of a byte is truncated.  Returns -EINVAL for malformed input and -ERANGE
 * for a count above UINT64_MAX.
 */
int size_parse(const char *s, uint64_t *ret_bytes);

/*
 * Format with one decimal in the largest binary unit that keeps the number
 * at or above 1: "0 B", "512 B", "1.0 KiB", "1.5 GiB".  Returns -ENOBUFS if
 * size is too small (SIZE_FORMAT_MAX always fits).
 */
int size_format(uint64_t bytes, char *buf, size_t size);

#endif
