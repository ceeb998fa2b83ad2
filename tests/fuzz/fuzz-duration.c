/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz duration and RFC 3339 timestamp parsing (batch windows, sync
 * intervals), and check that what parses formats and parses back equal. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/duration.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char buf[64], out[TIMESTAMP_RFC3339_MAX];
        uint64_t usec, again;
        int64_t ts, ts_again;

        if (size >= sizeof(buf))
                return 0;
        memcpy(buf, data, size);
        buf[size] = '\0';

        if (duration_parse(buf, &usec) >= 0) {
                if (duration_format(usec, out, sizeof(out)) < 0)
                        abort();
                if (duration_parse(out, &again) < 0 || again != usec)
                        abort();
        }
        if (timestamp_parse_rfc3339(buf, &ts) >= 0 &&
            timestamp_format_rfc3339(ts, out, sizeof(out)) >= 0) {
                if (timestamp_parse_rfc3339(out, &ts_again) < 0 || ts_again != ts)
                        abort();
        }
        return 0;
}
