/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/strbuf.h"
#include "disk/sink.h"

int sink_init(struct sink *s, const struct sink_ops *ops, const char *name)
{
        *s = (struct sink) { .ops = ops, .align = 1 };
        s->name = strdup(name);
        return s->name ? 0 : -ENOMEM;
}

void sink_done(struct sink *s)
{
        free(s->name);
        free(s->id);
        s->name = s->id = NULL;
}

void sink_free(struct sink *s)
{
        if (s)
                s->ops->free(s);
}

int sink_open(const char *path, const struct sink_open_options *o, struct sink **ret, struct ferry_error *err)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        if (streq(path, "-")) {
                if (o && o->direct)
                        return ferry_error_set(err, -EINVAL,
                                               "--direct needs a file or block device, not standard output");
                fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        return ferry_error_set(err, -errno, "Cannot use standard output: %m");
                r = sink_stream_new("standard output", fd, true, ret, err);
                if (r >= 0)
                        TAKE_FD(fd);
                return r;
        }

        if (stat(path, &st) < 0) {
                if (errno != ENOENT)
                        return ferry_error_set(err, -errno, "Cannot open '%s': %m", path);
        } else if (S_ISDIR(st.st_mode))
                return ferry_error_set(err, -EISDIR, "'%s' is a directory", path);
        else if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
                if (o && o->direct)
                        return ferry_error_set(err, -EINVAL, "--direct needs a file or block device, not the stream '%s'",
                                               path);
                fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        return ferry_error_set(err, -errno, "Cannot open '%s': %m", path);
                r = sink_stream_new(path, fd, true, ret, err);
                if (r >= 0)
                        TAKE_FD(fd);
                return r;
        } else if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
                return ferry_error_set(err, -EINVAL, "'%s' is neither a file, a block device nor a stream", path);

        return sink_file_new(path, o && o->direct, ret, err);
}
