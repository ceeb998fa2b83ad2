/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Durations ("1h30m", "500ms") and RFC 3339 timestamps, in microseconds.
 * Knows nothing of ferry.
 */
#ifndef FERRY_COMMON_DURATION_H
#define FERRY_COMMON_DURATION_H

#include <stddef.h>
#include <stdint.h>

#define USEC_PER_MSEC UINT64_C(1000)
#define USEC_PER_SEC UINT64_C(1000000)
#define USEC_PER_MINUTE (UINT64_C(60) * USEC_PER_SEC)
#define USEC_PER_HOUR (UINT64_C(60) * USEC_PER_MINUTE)
#define USEC_PER_DAY (UINT64_C(24) * USEC_PER_HOUR)

/* Big enough for any duration_format() or timestamp_format_rfc3339() result. */
#define DURATION_FORMAT_MAX 32
#define TIMESTAMP_RFC3339_MAX 40

/*
 * Parse a sequence of numbers with units, summed, like Go's
 * time.ParseDuration: "1h30m", "90s", "500ms", "1d" (24h), "1.5h".
 * Units are ms, s, m, h, d; every number needs one, except a lone "0".
 * No signs and no whitespace.  A fraction is truncated to the microsecond.
 * Returns -EINVAL for malformed input, -ERANGE when it does not fit.
 */
int duration_parse(const char *s, uint64_t *ret_usec);

/*
 * The canonical form, largest units first and zero units left out:
 * "1d2h", "1h30m", "45s", "250ms", "0s"; a sub-millisecond rest becomes a
 * fraction of ms ("1.5ms").  duration_parse() reads it back exactly.
 * Returns -ENOBUFS if size is too small (DURATION_FORMAT_MAX always fits).
 */
int duration_format(uint64_t usec, char *buf, size_t size);

/*
 * Parse "2026-11-24T10:00:00Z", "2026-11-24T12:00:00+02:00" or with a
 * fraction "2026-11-24T10:00:00.250Z" into microseconds since the epoch.
 * Years 0000-9999; fractions below the microsecond are truncated.
 * Returns -EINVAL for anything else.
 */
int timestamp_parse_rfc3339(const char *s, int64_t *ret_usec);

/*
 * Format in UTC with "Z"; the fraction is written only when non-zero,
 * without trailing zeros.  Returns -ERANGE outside years 0000-9999 and
 * -ENOBUFS if size is too small (TIMESTAMP_RFC3339_MAX always fits).
 */
int timestamp_format_rfc3339(int64_t usec, char *buf, size_t size);

/* The time of day (CLOCK_REALTIME) in microseconds since the epoch. */
int64_t timestamp_now_usec(void);

/* timestamp_format_rfc3339() of now; "" if the clock is outside 0000-9999. */
void timestamp_now_rfc3339(char buf[static TIMESTAMP_RFC3339_MAX]);

#endif
