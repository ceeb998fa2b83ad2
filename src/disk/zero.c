/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "disk/zero.h"

bool disk_is_zero(const void *buf, size_t len)
{
        const unsigned char *p = buf;
        size_t head = len < 16 ? len : 16;

        /* Check a short head byte by byte; then the buffer is all zero
         * exactly when it equals itself shifted by 16 bytes, which lets
         * memcmp() do the work at full speed. */
        for (size_t i = 0; i < head; i++)
                if (p[i] != 0)
                        return false;
        return len <= 16 || memcmp(p, p + 16, len - 16) == 0;
}

size_t disk_zero_run(const void *buf, size_t len, uint64_t offset, size_t block, bool *ret_zero)
{
        const unsigned char *p = buf;
        size_t pos = 0;
        bool zero = false;

        while (pos < len) {
                size_t n = block - (size_t) ((offset + pos) % block);
                bool z;

                if (n > len - pos)
                        n = len - pos;
                z = disk_is_zero(p + pos, n);
                if (pos == 0)
                        zero = z;
                else if (z != zero)
                        break;
                pos += n;
        }
        *ret_zero = zero;
        return pos;
}
