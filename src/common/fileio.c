/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/macros.h"
#include "common/strbuf.h"

int read_file_all(const char *path, size_t max, char **ret, size_t *ret_len, struct ferry_error *err)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, alloc = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return ferry_error_set(err, -errno, "Cannot read '%s': %m", path);

        for (;;) {
                ssize_t n;

                if (alloc - len < 2) {
                        size_t na = alloc ? alloc * 2 : 4096;
                        char *p;

                        if (na > max + 2)
                                na = max + 2;
                        if (na <= alloc)
                                return ferry_error_set(err, -EFBIG, "'%s' is larger than %zu bytes", path, max);
                        p = realloc(buf, na);
                        if (!p)
                                return ferry_error_set(err, -ENOMEM, "Out of memory reading '%s'", path);
                        buf = p;
                        alloc = na;
                }
                n = read(fd, buf + len, alloc - len - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return ferry_error_set(err, -errno, "Cannot read '%s': %m", path);
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > max)
                        return ferry_error_set(err, -EFBIG, "'%s' is larger than %zu bytes", path, max);
        }

        if (!buf) {
                buf = strdup("");
                if (!buf)
                        return ferry_error_set(err, -ENOMEM, "Out of memory reading '%s'", path);
        } else
                buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
        const char *p = data;

        while (len > 0) {
                ssize_t n = write(fd, p, len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

int write_file_atomic(const char *path, const void *data, size_t len, struct ferry_error *err)
{
        _cleanup_free_ char *tmp = NULL, *dir_copy = NULL;
        _cleanup_close_ int fd = -EBADF, dir_fd = -EBADF;
        int r;

        tmp = strjoin(path, ".tmp.XXXXXX", NULL);
        dir_copy = strdup(path);
        if (!tmp || !dir_copy)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return ferry_error_set(err, -errno, "Cannot write '%s': %m", path);

        r = write_all(fd, data, len);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return ferry_error_set(err, r, "Cannot write '%s': %m", path);
        }

        /* The rename is durable once the directory is. */
        dir_fd = open(dirname(dir_copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0 || fsync(dir_fd) < 0)
                return ferry_error_set(err, -errno, "Cannot write '%s': %m", path);
        return 0;
}
