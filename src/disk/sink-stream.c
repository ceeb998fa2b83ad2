/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stream sink: the disk in order, zeros written out, to a pipe,
 * standard output or a character device.  It shows what a sink without
 * random writes gets from the engine, as the Incus push sink will.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disk/sink.h"

#define ZERO_BUFFER_SIZE (1u << 20)

struct stream_sink {
        struct sink base;
        int fd;
        bool close_fd;
        uint64_t pos;           /* bytes written so far */
        void *zeros;
};

static struct stream_sink *stream_sink(struct sink *s)
{
        return (struct stream_sink *) s;
}

static int stream_write_all(struct stream_sink *t, const void *buf, size_t len, struct ferry_error *err)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t n = write(t->fd, p, len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return ferry_error_set(err, -errno, "Cannot write to '%s' at offset %" PRIu64 ": %m",
                                               t->base.name, t->pos);
                }
                p += n;
                len -= (size_t) n;
                t->pos += (uint64_t) n;
        }
        return 0;
}

static int stream_check_offset(struct stream_sink *t, uint64_t offset, struct ferry_error *err)
{
        if (offset != t->pos)
                return ferry_error_set(err, -EINVAL,
                                       "The stream '%s' got offset %" PRIu64 " while at %" PRIu64
                                       ": it takes the disk in order only",
                                       t->base.name, offset, t->pos);
        return 0;
}

static int stream_start(struct sink *s, uint64_t size, bool keep, struct ferry_error *err)
{
        struct stream_sink *t = stream_sink(s);

        if (keep)
                return ferry_error_set(err, -EINVAL,
                                       "The stream '%s' cannot take a delta or a resumed copy: it has no earlier copy",
                                       s->name);
        if (isatty(t->fd))
                return ferry_error_set(err, -EINVAL, "Refusing to write a disk image to the terminal '%s'", s->name);
        s->size = size;
        return 0;
}

static int stream_write(struct sink *s, const void *buf, size_t len, uint64_t offset, struct ferry_error *err)
{
        struct stream_sink *t = stream_sink(s);
        int r = stream_check_offset(t, offset, err);

        return r < 0 ? r : stream_write_all(t, buf, len, err);
}

static int stream_zero(struct sink *s, uint64_t offset, uint64_t len, struct ferry_error *err)
{
        struct stream_sink *t = stream_sink(s);
        int r = stream_check_offset(t, offset, err);

        while (r >= 0 && len > 0) {
                size_t n = len < ZERO_BUFFER_SIZE ? (size_t) len : ZERO_BUFFER_SIZE;

                r = stream_write_all(t, t->zeros, n, err);
                len -= n;
        }
        return r;
}

static int stream_finish(struct sink *s, struct ferry_error *err)
{
        struct stream_sink *t = stream_sink(s);

        if (t->pos != s->size)
                return ferry_error_set(err, -EIO, "The stream '%s' got %" PRIu64 " of %" PRIu64 " bytes", s->name,
                                       t->pos, s->size);
        return 0;
}

static void stream_free(struct sink *s)
{
        struct stream_sink *t = stream_sink(s);

        if (t->close_fd && t->fd >= 0)
                close(t->fd);
        free(t->zeros);
        sink_done(s);
        free(t);
}

static const struct sink_ops sink_stream_ops = {
        .type = "stream",
        .random_writes = false,
        .start = stream_start,
        .write = stream_write,
        .zero = stream_zero,
        .finish = stream_finish,
        .free = stream_free,
};

int sink_stream_new(const char *name, int fd, bool close_fd, struct sink **ret, struct ferry_error *err)
{
        struct stream_sink *t;
        _cleanup_(sink_free_p) struct sink *s = NULL;
        int r;

        t = calloc(1, sizeof(*t));
        if (!t)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        t->fd = -1;
        r = sink_init(&t->base, &sink_stream_ops, name);
        s = &t->base;
        if (r < 0)
                return ferry_error_set(err, r, "Out of memory");
        t->zeros = calloc(1, ZERO_BUFFER_SIZE);
        if (!t->zeros)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        t->fd = fd;
        t->close_fd = close_fd;
        *ret = TAKE_PTR(s);
        return 0;
}
