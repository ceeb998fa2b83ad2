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

int fileio_read(const char *path, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        struct stat st;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;

        buf = malloc(max + 1);
        if (!buf)
                return -ENOMEM;

        for (;;) {
                ssize_t n = read(fd, buf + len, max + 1 - len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > max)
                        return -EFBIG;
        }

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

int fileio_read_checked(const char *path, size_t max, char **ret, size_t *ret_len, struct ferry_error *err)
{
        int r;

        r = fileio_read(path, max, ret, ret_len);
        if (r == -EFBIG)
                return ferry_error_set(err, r, "'%s' is larger than %zu bytes", path, max);
        if (r < 0)
                return ferry_error_set(err, r, "Cannot read '%s': %m", path);
        return 0;
}

int fileio_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct ferry_error *err)
{
        _cleanup_free_ char *tmp = NULL, *dir_copy = NULL;
        _cleanup_close_ int fd = -EBADF, dir_fd = -EBADF;
        int r;

        tmp = strjoin(path, ".tmp-XXXXXX", NULL);
        dir_copy = strdup(path);
        if (!tmp || !dir_copy)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return ferry_error_set(err, -errno, "Failed to write '%s': %m", path);

        /* mkostemp() made it 0600: set the mode before any data goes in. */
        if (fchmod(fd, mode) < 0) {
                r = -errno;
                goto fail;
        }
        r = write_all(fd, data, len);
        if (r < 0)
                goto fail;
        if (fsync(fd) < 0) {
                r = -errno;
                goto fail;
        }
        if (rename(tmp, path) < 0) {
                r = -errno;
                goto fail;
        }

        /* Make the rename itself durable; failing here changes nothing
         * about what readers see. */
        dir_fd = open(dirname(dir_copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd >= 0)
                (void) fsync(dir_fd);
        return 0;

fail:
        (void) unlink(tmp);
        return ferry_error_set(err, r, "Failed to write '%s': %m", path);
}
