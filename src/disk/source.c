/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/strbuf.h"
#include "disk/source.h"

/* A connection in progress checks for cancellation this often. */
#define CONNECT_TICK_USEC UINT64_C(100000)
/* Ask for at most this much block status at a time: some servers refuse 4 GiB or more. */
#define BLOCK_STATUS_MAX (UINT64_C(1) << 30)

int disk_source_errno(void)
{
        int e = nbd_get_errno();

        return e > 0 ? e : EIO;
}

char *disk_source_describe(const struct disk_source *src)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        char *s;

        if (src->uri) {
                if (strbuf_appendf(&sb, "'%s'", src->uri) < 0)
                        return NULL;
        } else {
                if (strbuf_append(&sb, "'") < 0)
                        return NULL;
                for (size_t i = 0; src->argv && src->argv[i]; i++)
                        if ((i > 0 && strbuf_append(&sb, " ") < 0) || strbuf_append(&sb, src->argv[i]) < 0)
                                return NULL;
                if (strbuf_append(&sb, "'") < 0)
                        return NULL;
        }
        s = strbuf_steal(&sb);
        if (!s)
                errno = ENOMEM;
        return s;
}

static uint64_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

const char *disk_source_reason(const char *message)
{
        const char *p = message;

        /* libnbd starts with the name of the call: "nbd_poll: recv: ...". */
        if (!p)
                return "unknown error";
        if (startswith(p, "nbd_")) {
                p += strspn(p, "abcdefghijklmnopqrstuvwxyz_0123456789");
                if (startswith(p, ": "))
                        return p + 2;
        }
        return message;
}

static int connect_error(const struct disk_source *src, int code, const char *why, struct ferry_error *err)
{
        _cleanup_free_ char *name = disk_source_describe(src);
        const char *hint = "";

        if (src->argv && (code == -ECONNRESET || code == -EPIPE))
                hint = " (the command exited, or does not serve NBD on the socket it was given)";
        return ferry_error_set(err, code, "Cannot connect to the source %s: %s%s", name ? name : "",
                               disk_source_reason(why), hint);
}

/* Wait for an asynchronous connection to finish its handshake, up to the
 * deadline (0: none) or until *cancel is set. */
static int connect_wait(struct nbd_handle *nbd, uint64_t deadline, const volatile sig_atomic_t *cancel)
{
        while (nbd_aio_is_connecting(nbd)) {
                uint64_t now = now_usec(), wait = CONNECT_TICK_USEC;
                int r;

                if (cancel && *cancel)
                        return -ECANCELED;
                if (deadline > 0) {
                        if (now >= deadline)
                                return -ETIMEDOUT;
                        if (deadline - now < wait)
                                wait = deadline - now;
                }
                r = nbd_poll(nbd, (int) ((wait + 999) / 1000));
                if (r < 0)
                        return -disk_source_errno();
        }
        return nbd_aio_is_ready(nbd) ? 0 : -disk_source_errno();
}

int disk_source_connect(const struct disk_source *src, uint64_t timeout_usec, const volatile sig_atomic_t *cancel,
                        struct nbd_handle **ret, struct ferry_error *err)
{
        _cleanup_nbd_ struct nbd_handle *nbd = NULL;
        int r;

        if (!src->uri == !src->argv || (src->argv && !src->argv[0]))
                return ferry_error_set(err, -EINVAL, "The source needs either an NBD URI or a command");

        nbd = nbd_create();
        if (!nbd)
                return ferry_error_set(err, -ENOMEM, "Cannot create an NBD handle: %s", nbd_get_error());
        /* We check every read, so libnbd need not clear buffers first. */
        if (nbd_add_meta_context(nbd, LIBNBD_CONTEXT_BASE_ALLOCATION) < 0 ||
            nbd_set_pread_initialize(nbd, false) < 0)
                return ferry_error_set(err, -disk_source_errno(), "Cannot set up an NBD handle: %s", nbd_get_error());

        if (src->uri)
                r = nbd_aio_connect_uri(nbd, src->uri);
        else
                r = nbd_aio_connect_systemd_socket_activation(nbd, (char **) src->argv);
        if (r < 0)
                return connect_error(src, -disk_source_errno(), nbd_get_error(), err);
        r = connect_wait(nbd, timeout_usec ? now_usec() + timeout_usec : 0, cancel);
        if (r == -ETIMEDOUT)
                return connect_error(src, r, "the handshake did not finish in time", err);
        if (r == -ECANCELED)
                return connect_error(src, r, "interrupted", err);
        if (r < 0)
                return connect_error(src, r, nbd_get_error(), err);

        *ret = TAKE_PTR(nbd);
        return 0;
}

bool disk_source_has_extents(struct nbd_handle *nbd)
{
        return nbd_can_meta_context(nbd, LIBNBD_CONTEXT_BASE_ALLOCATION) == 1;
}

struct extents_ctx {
        uint64_t start, end;    /* asked for */
        uint64_t reached;       /* how far the answer went */
        struct disk_ranges *zero;
        int error;
};

static int extents_cb(void *user_data, const char *metacontext, uint64_t offset, uint32_t *entries,
                      size_t nr_entries, int *error)
{
        struct extents_ctx *ctx = user_data;
        uint64_t pos = offset;

        (void) error;
        if (!streq(metacontext, LIBNBD_CONTEXT_BASE_ALLOCATION))
                return 0;
        for (size_t i = 0; i + 1 < nr_entries && pos < ctx->end; i += 2) {
                uint64_t len = entries[i], s = pos, e = pos + len;

                if (len == 0)
                        break;
                if (e > ctx->end)
                        e = ctx->end;
                if (s < ctx->start)
                        s = ctx->start;
                if ((entries[i + 1] & LIBNBD_STATE_ZERO) && s < e && ctx->error == 0) {
                        int r = disk_ranges_add(ctx->zero, s, e - s);

                        if (r < 0)
                                ctx->error = -r;
                }
                pos += len;
        }
        if (pos > ctx->reached)
                ctx->reached = pos;
        return 0;
}

int disk_source_zero_ranges(struct nbd_handle *nbd, uint64_t start, uint64_t length, struct disk_ranges *zero,
                            struct ferry_error *err)
{
        uint64_t end = start + length, pos = start;

        while (pos < end) {
                struct extents_ctx ctx = {
                        .start = pos, .end = end, .reached = pos, .zero = zero,
                };
                uint64_t count = end - pos < BLOCK_STATUS_MAX ? end - pos : BLOCK_STATUS_MAX;

                if (nbd_block_status(nbd, count, pos,
                                     (nbd_extent_callback) { .callback = extents_cb, .user_data = &ctx }, 0) < 0)
                        return ferry_error_set(err, -disk_source_errno(),
                                               "Cannot get the allocation of the source at offset %" PRIu64 ": %s", pos,
                                               disk_source_reason(nbd_get_error()));
                if (ctx.error)
                        return ferry_error_set(err, -ctx.error, "Out of memory");
                if (ctx.reached <= pos)
                        return ferry_error_set(err, -EPROTO,
                                               "The source answered no allocation for offset %" PRIu64, pos);
                pos = ctx.reached;
        }
        return 0;
}
