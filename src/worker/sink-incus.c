/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "target/incus/volume.h"
#include "worker/sink-incus.h"

struct incus_sink {
        struct sink base;
        struct incus_client *client;
        char *project;
        char *pool;
        char *volume;
        struct incus_push *push;
};

static struct incus_sink *incus_sink(struct sink *s)
{
        return (struct incus_sink *) s;
}

static int incus_sink_check_offset(struct incus_sink *t, uint64_t offset, struct ferry_error *err)
{
        if (!t->push)
                return ferry_error_set(err, -EINVAL, "The volume '%s' was written before the copy started",
                                       t->base.name);
        if (offset != incus_push_offset(t->push))
                return ferry_error_set(err, -EINVAL,
                                       "The volume '%s' got offset %" PRIu64 " while at %" PRIu64
                                       ": a push takes the disk in order only",
                                       t->base.name, offset, incus_push_offset(t->push));
        return 0;
}

static int incus_sink_start(struct sink *s, uint64_t size, bool keep, struct ferry_error *err)
{
        struct incus_sink *t = incus_sink(s);
        int r;

        if (t->push)
                return ferry_error_set(err, -EINVAL, "The push into '%s' has started already", s->name);
        r = incus_push_begin(t->client,
                             &(struct incus_push_options) { .project = t->project,
                                                            .pool = t->pool,
                                                            .volume = t->volume,
                                                            .size = size,
                                                            .refresh = keep },
                             &t->push, err);
        if (r < 0)
                return r;
        s->size = size;
        return 0;
}

static int incus_sink_write(struct sink *s, const void *buf, size_t len, uint64_t offset, struct ferry_error *err)
{
        struct incus_sink *t = incus_sink(s);
        int r = incus_sink_check_offset(t, offset, err);

        return r < 0 ? r : incus_push_write(t->push, buf, len, err);
}

static int incus_sink_zero(struct sink *s, uint64_t offset, uint64_t len, struct ferry_error *err)
{
        struct incus_sink *t = incus_sink(s);
        int r = incus_sink_check_offset(t, offset, err);

        return r < 0 ? r : incus_push_write_zeros(t->push, len, err);
}

static int incus_sink_finish(struct sink *s, struct ferry_error *err)
{
        struct incus_sink *t = incus_sink(s);

        if (!t->push)
                return ferry_error_set(err, -EINVAL, "The push into '%s' never started", s->name);
        return incus_push_finish(t->push, err);
}

static void incus_sink_free(struct sink *s)
{
        struct incus_sink *t = incus_sink(s);

        incus_push_free(t->push);
        free(t->project);
        free(t->pool);
        free(t->volume);
        sink_done(s);
        free(t);
}

static const struct sink_ops incus_sink_ops = {
        .type = "Incus volume",
        .random_writes = false,
        .start = incus_sink_start,
        .write = incus_sink_write,
        .zero = incus_sink_zero,
        .finish = incus_sink_finish,
        .free = incus_sink_free,
};

int sink_incus_new(struct incus_client *c, const char *project, const char *pool, const char *volume,
                   struct sink **ret, struct ferry_error *err)
{
        _cleanup_free_ char *name = NULL;
        struct incus_sink *t;

        if (!pool || !*pool || !volume || !*volume)
                return ferry_error_set(err, -EINVAL, "An Incus volume sink needs a pool and a volume");
        name = strjoin("incus:", pool, "/", volume, NULL);
        t = calloc(1, sizeof(*t));
        if (!name || !t) {
                free(t);
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        if (sink_init(&t->base, &incus_sink_ops, name) < 0) {
                free(t);
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        t->client = c;
        t->project = project ? strdup(project) : NULL;
        t->pool = strdup(pool);
        t->volume = strdup(volume);
        if ((project && !t->project) || !t->pool || !t->volume) {
                incus_sink_free(&t->base);
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        *ret = &t->base;
        return 0;
}
