/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/macros.h"
#include "lab.h"

const char *lab_env(const char *name)
{
        const char *v = getenv(name);

        if (!v || !*v)
                fail_msg("%s is not set: the lab is not up. Run the integration tests with "
                         "'make check' or 'tests/lab/lab run ctest --test-dir build -L integration'",
                         name);
        return v;
}

uint64_t lab_env_u64(const char *name)
{
        const char *v = lab_env(name);
        char *end;
        uint64_t n;

        errno = 0;
        n = strtoull(v, &end, 10);
        if (errno || end == v || *end)
                fail_msg("%s='%s' is not a number", name, v);
        return n;
}

char *lab_read_file(const char *path, size_t *ret_len)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, alloc = 0, n;
        FILE *f = fopen(path, "re");

        if (!f)
                fail_msg("Cannot open '%s': %s", path, strerror(errno));
        do {
                if (alloc - len < 4096) {
                        char *p = realloc(buf, alloc + 65536);
                        if (!p)
                                fail_msg("Out of memory reading '%s'", path);
                        buf = p;
                        alloc += 65536;
                }
                n = fread(buf + len, 1, alloc - len - 1, f);
                len += n;
        } while (n > 0);
        if (ferror(f))
                fail_msg("Cannot read '%s'", path);
        fclose(f);
        buf[len] = '\0';
        if (ret_len)
                *ret_len = len;
        return TAKE_PTR(buf);
}
