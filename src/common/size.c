/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/size.h"
#include "common/strbuf.h"

static const struct {
        const char *suffix;
        unsigned shift;
} size_suffixes[] = {
        { "", 0 },   { "B", 0 },
        { "K", 10 }, { "k", 10 }, { "KB", 10 }, { "kB", 10 }, { "KiB", 10 },
        { "M", 20 }, { "MB", 20 }, { "MiB", 20 },
        { "G", 30 }, { "GB", 30 }, { "GiB", 30 },
        { "T", 40 }, { "TB", 40 }, { "TiB", 40 },
        { "P", 50 }, { "PB", 50 }, { "PiB", 50 },
        { "E", 60 }, { "EB", 60 }, { "EiB", 60 },
};

int size_parse(const char *s, uint64_t *ret_bytes)
{
        uint64_t whole = 0, frac_num = 0, frac_den = 1, bytes;
        const char *p = s;
        unsigned shift = 0;
        bool found = false;

        if (!s || *p < '0' || *p > '9')
                return -EINVAL;

        for (; *p >= '0' && *p <= '9'; p++) {
                if (whole > (UINT64_MAX - (uint64_t) (*p - '0')) / 10)
                        return -ERANGE;
                whole = whole * 10 + (uint64_t) (*p - '0');
        }
        if (*p == '.') {
                p++;
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                /* Up to 18 digits count; more cannot change a byte count
                 * below 2^64 by a whole byte once multiplied by 2^60. */
                for (; *p >= '0' && *p <= '9'; p++)
                        if (frac_den < UINT64_C(1000000000000000000)) {
                                frac_num = frac_num * 10 + (uint64_t) (*p - '0');
                                frac_den *= 10;
                        }
        }

        for (size_t i = 0; i < ELEMENTSOF(size_suffixes); i++)
                if (streq(p, size_suffixes[i].suffix)) {
                        shift = size_suffixes[i].shift;
                        found = true;
                        break;
                }
        if (!found)
                return -EINVAL;

        if (shift > 0 && whole > (UINT64_MAX >> shift))
                return -ERANGE;
        bytes = whole << shift;
        if (frac_num > 0) {
                /* frac_num / frac_den < 1, so the product fits in 128 bits. */
                unsigned __int128 extra = ((unsigned __int128) frac_num << shift) / frac_den;

                if (extra > UINT64_MAX - bytes)
                        return -ERANGE;
                bytes += (uint64_t) extra;
        }

        *ret_bytes = bytes;
        return 0;
}

int size_format(uint64_t bytes, char *buf, size_t size)
{
        static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        char tmp[SIZE_FORMAT_MAX];
        unsigned u = 0;
        int n;

        if (bytes < 1024)
                n = snprintf(tmp, sizeof tmp, "%u B", (unsigned) bytes);
        else {
                /* Tenths, rounded down, so that a size never looks bigger than it is. */
                while (u + 1 < ELEMENTSOF(units) && bytes >> (10 * (u + 2)) > 0)
                        u++;
                unsigned __int128 tenths = ((unsigned __int128) bytes * 10) >> (10 * (u + 1));
                n = snprintf(tmp, sizeof tmp, "%u.%u %s", (unsigned) (tenths / 10), (unsigned) (tenths % 10),
                             units[u]);
        }
        if (n < 0 || (size_t) n >= size)
                return -ENOBUFS;
        memcpy(buf, tmp, (size_t) n + 1);
        return 0;
}
