/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "target/incus/migration.h"
#include "target/incus/volume.h"
#include "target/incus/websocket.h"

/* One message on fs: large enough for throughput, small enough to copy. */
#define PUSH_CHUNK (1024 * 1024)

static int oom(struct ferry_error *err)
{
        return ferry_error_set(err, -ENOMEM, "Out of memory");
}

/* "/1.0/storage-pools/<pool>/volumes/custom[/<name>][suffix]", escaped. */
static char *volume_path(const char *pool, const char *name, const char *suffix)
{
        _cleanup_free_ char *p = incus_escape(pool), *n = name ? incus_escape(name) : NULL;

        if (!p || (name && !n))
                return NULL;
        return strjoin("/1.0/storage-pools/", p, "/volumes/custom", n ? "/" : "", n ? n : "", suffix ? suffix : "",
                       NULL);
}

int incus_volume_create_block(struct incus_client *c, const char *project, const char *pool, const char *name,
                              uint64_t size, struct ferry_error *err)
{
        return incus_volume_create_block_config(c, project, pool, name, size, NULL, err);
}

int incus_volume_create_block_config(struct incus_client *c, const char *project, const char *pool,
                                     const char *name, uint64_t size, const json_t *config,
                                     struct ferry_error *err)
{
        _cleanup_free_ char *path = volume_path(pool, NULL, NULL);
        _cleanup_json_ json_t *body = NULL;
        char size_text[32];
        json_t *conf;

        snprintf(size_text, sizeof(size_text), "%" PRIu64 "B", size);
        body = json_pack("{s:s, s:s, s:s, s:{s:s}}", "name", name, "type", "custom", "content_type", "block", "config",
                         "size", size_text);
        if (!path || !body)
                return oom(err);
        conf = json_object_get(body, "config");
        if (config && json_object_update_missing(conf, (json_t *) config) < 0)
                return oom(err);
        return incus_call_wait(c, &(struct incus_request) { .method = "POST", .path = path, .project = project, .body = body },
                               120, NULL, NULL, err);
}

int incus_volume_delete(struct incus_client *c, const char *project, const char *pool, const char *name,
                        struct ferry_error *err)
{
        _cleanup_free_ char *path = volume_path(pool, name, NULL);

        if (!path)
                return oom(err);
        return incus_call_wait(c, &(struct incus_request) { .method = "DELETE", .path = path, .project = project }, 120,
                               NULL, NULL, err);
}

int incus_volume_get(struct incus_client *c, const char *project, const char *pool, const char *name,
                     json_t **ret, struct ferry_error *err)
{
        _cleanup_free_ char *path = volume_path(pool, name, NULL);

        if (!path)
                return oom(err);
        return incus_get(c, path, project, ret, err);
}

int incus_volume_export(struct incus_client *c, const char *project, const char *pool, const char *name, int fd,
                        struct ferry_error *err)
{
        static const char backup[] = "ferry-export";
        _cleanup_free_ char *backups = volume_path(pool, name, "/backups");
        _cleanup_free_ char *one = volume_path(pool, name, "/backups/ferry-export");
        _cleanup_free_ char *export = volume_path(pool, name, "/backups/ferry-export/export");
        _cleanup_json_ json_t *body = NULL;
        struct ferry_error ignored = {};
        int r;

        body = json_pack("{s:s, s:b, s:b, s:s}", "name", backup, "volume_only", 1, "optimized_storage", 0,
                         "compression_algorithm", "none");
        if (!backups || !one || !export || !body)
                return oom(err);

        r = incus_call_wait(c, &(struct incus_request) { .method = "POST", .path = backups, .project = project, .body = body },
                            600, NULL, NULL, err);
        if (r < 0)
                return ferry_error_prefix(err, "Cannot back up volume '%s'", name);

        r = incus_download(c, export, project, fd, err);
        if (r < 0)
                ferry_error_prefix(err, "Cannot export volume '%s'", name);

        (void) incus_call_wait(c, &(struct incus_request) { .method = "DELETE", .path = one, .project = project }, 120,
                               NULL, NULL, &ignored);
        return r;
}

/* ---- push ------------------------------------------------------------- */

struct incus_push {
        struct incus_client *client;    /* borrowed */
        char *volume;
        char *operation;
        struct incus_ws *control;
        struct incus_ws *fs;
        uint64_t size;
        uint64_t offset;
        int timeout_ms;
        int finish_timeout_s;
        bool finished;
};

static const char *secret_of(const json_t *op, const char *name)
{
        return json_string_value(json_object_get(json_object_get(op, "metadata"), name));
}

static int open_websocket(struct incus_push *p, const char *secret, struct incus_ws **ret, struct ferry_error *err)
{
        _cleanup_free_ char *escaped = incus_escape(secret), *path = NULL;
        const char *id = strrchr(p->operation, '/') + 1;

        if (!escaped || !(path = strjoin("/1.0/operations/", id, "/websocket?secret=", escaped, NULL)))
                return oom(err);
        return incus_ws_connect(incus_client_get_config(p->client), path, p->timeout_ms, ret, err);
}

/* Read the next binary message on control, decoded as a header or a
 * control message by the caller. */
static int control_recv(struct incus_push *p, int timeout_ms, char **ret, size_t *ret_len, struct ferry_error *err)
{
        int r;

        for (;;) {
                bool binary = false;

                r = incus_ws_recv(p->control, timeout_ms, ret, ret_len, &binary, err);
                if (r < 0)
                        return r;
                if (r == 0)
                        return ferry_error_set(err, -ETIMEDOUT, "Incus did not answer on the migration control channel");
                if (binary)
                        return 0;
                free(*ret);     /* a barrier: nothing to read in it */
        }
}

/* The reason Incus gives on control for a failure, if it sends one soon. */
static int control_failure(struct incus_push *p, int timeout_ms, int fallback, struct ferry_error *err)
{
        _cleanup_free_ char *buf = NULL, *message = NULL;
        struct ferry_error ignored = {};
        bool success = false;
        size_t len = 0;

        if (p->control && control_recv(p, timeout_ms, &buf, &len, &ignored) >= 0 &&
            incus_migration_control_decode(buf, len, &success, &message, &ignored) >= 0 && !success && message)
                return ferry_error_set(err, -EIO, "%s", message);
        return fallback;
}

int incus_push_begin(struct incus_client *c, const struct incus_push_options *o, struct incus_push **ret,
                     struct ferry_error *err)
{
        _cleanup_free_ char *path = NULL, *header_buf = NULL;
        _cleanup_json_ json_t *body = NULL;
        struct incus_migration_header header;
        struct incus_response resp = {};
        uint8_t out[INCUS_MIGRATION_HEADER_MAX];
        struct incus_push *p;
        size_t len;
        int r;

        if (!o->pool || !o->volume)
                return ferry_error_set(err, -EINVAL, "A volume push needs a storage pool and a volume name");
        if (o->size == 0)
                return ferry_error_set(err, -EINVAL, "Volume '%s': cannot push an empty disk", o->volume);

        path = volume_path(o->pool, NULL, NULL);
        body = json_pack("{s:s, s:s, s:s, s:{}, s:{s:s, s:s, s:b}}", "name", o->volume, "type", "custom",
                         "content_type", "block", "config", "source", "type", "migration", "mode", "push", "refresh",
                         o->refresh);
        p = calloc(1, sizeof(*p));
        if (!path || !body || !p) {
                free(p);
                return oom(err);
        }
        p->client = c;
        p->size = o->size;
        p->timeout_ms = (o->timeout_s > 0 ? o->timeout_s : 30) * 1000;
        p->finish_timeout_s = o->finish_timeout_s > 0 ? o->finish_timeout_s : 600;
        p->volume = strdup(o->volume);
        if (!p->volume) {
                r = oom(err);
                goto fail;
        }

        r = incus_call(c, &(struct incus_request) { .method = "POST", .path = path, .project = o->project, .body = body },
                       &resp, err);
        if (r < 0)
                goto fail;
        if (resp.type != INCUS_RESPONSE_ASYNC || !secret_of(resp.metadata, "control") ||
            !secret_of(resp.metadata, "fs")) {
                incus_response_done(&resp);
                r = ferry_error_set(err, -EBADMSG, "Unexpected answer from Incus: a push migration without websockets");
                goto fail;
        }
        p->operation = TAKE_PTR(resp.operation);

        r = open_websocket(p, secret_of(resp.metadata, "control"), &p->control, err);
        if (r >= 0)
                r = open_websocket(p, secret_of(resp.metadata, "fs"), &p->fs, err);
        incus_response_done(&resp);
        if (r < 0)
                goto fail;

        len = incus_migration_header_encode(o->size, out);
        r = incus_ws_send(p->control, true, out, len, p->timeout_ms, err);
        if (r < 0)
                goto fail;

        r = control_recv(p, p->timeout_ms, &header_buf, &len, err);
        if (r >= 0)
                r = incus_migration_header_decode(header_buf, len, &header, err);
        if (r < 0) {
                /* The operation's error says why (no such pool, the
                 * volume exists, ...). */
                struct ferry_error op_err = {};

                incus_ws_free(TAKE_PTR(p->control));
                incus_ws_free(TAKE_PTR(p->fs));
                if (incus_operation_wait(c, p->operation, 30, NULL, NULL, &op_err) < 0 && op_err.message[0])
                        *err = op_err;
                p->finished = true;
                goto fail;
        }
        if (header.fs != INCUS_MIGRATION_FS_BLOCK_AND_RSYNC) {
                r = ferry_error_set(err, -EPROTO,
                                    "Incus offers migration type %" PRId64 " for volume '%s', not block (4)",
                                    header.fs, o->volume);
                goto fail;
        }

        *ret = p;
        return 0;

fail:
        incus_push_free(p);
        return r;
}

uint64_t incus_push_offset(const struct incus_push *p)
{
        return p->offset;
}

static int push_send(struct incus_push *p, const void *buf, size_t len, struct ferry_error *err)
{
        int r = incus_ws_send(p->fs, true, buf, len, p->timeout_ms, err);

        if (r < 0)
                return control_failure(p, 1000, r, err);
        p->offset += len;
        return 0;
}

static int push_check_room(struct incus_push *p, uint64_t len, struct ferry_error *err)
{
        if (p->finished)
                return ferry_error_set(err, -EINVAL, "The push of volume '%s' is over", p->volume);
        if (len > p->size - p->offset)
                return ferry_error_set(err, -EFBIG,
                                       "Writing %" PRIu64 " bytes at %" PRIu64 " passes the end of volume '%s' (%" PRIu64
                                       " bytes)",
                                       len, p->offset, p->volume, p->size);
        return 0;
}

int incus_push_write(struct incus_push *p, const void *buf, size_t len, struct ferry_error *err)
{
        const char *b = buf;
        int r;

        r = push_check_room(p, len, err);
        if (r < 0)
                return r;
        while (len > 0) {
                size_t n = len < PUSH_CHUNK ? len : PUSH_CHUNK;

                r = push_send(p, b, n, err);
                if (r < 0)
                        return r;
                b += n;
                len -= n;
        }
        return 0;
}

int incus_push_write_zeros(struct incus_push *p, uint64_t len, struct ferry_error *err)
{
        static const char zeros[PUSH_CHUNK];
        int r;

        r = push_check_room(p, len, err);
        if (r < 0)
                return r;
        while (len > 0) {
                size_t n = len < PUSH_CHUNK ? (size_t) len : PUSH_CHUNK;

                r = push_send(p, zeros, n, err);
                if (r < 0)
                        return r;
                len -= n;
        }
        return 0;
}

int incus_push_finish(struct incus_push *p, struct ferry_error *err)
{
        _cleanup_free_ char *buf = NULL, *message = NULL;
        bool success = false;
        size_t len = 0;
        int r;

        if (p->finished)
                return ferry_error_set(err, -EINVAL, "The push of volume '%s' is over", p->volume);
        if (p->offset != p->size)
                return ferry_error_set(err, -EIO, "Pushed %" PRIu64 " of %" PRIu64 " bytes of volume '%s'", p->offset,
                                       p->size, p->volume);

        /* The barrier: an empty text message ends the stream. */
        r = incus_ws_send(p->fs, false, "", 0, p->timeout_ms, err);
        if (r < 0)
                return control_failure(p, 1000, r, err);

        r = control_recv(p, p->finish_timeout_s * 1000, &buf, &len, err);
        if (r < 0)
                return ferry_error_prefix(err, "Volume '%s'", p->volume);
        r = incus_migration_control_decode(buf, len, &success, &message, err);
        if (r < 0)
                return r;
        p->finished = true;
        if (!success)
                return ferry_error_set(err, -EIO, "%s", message ? message : "Incus failed the push");

        incus_ws_free(TAKE_PTR(p->fs));
        incus_ws_free(TAKE_PTR(p->control));
        return incus_operation_wait(p->client, p->operation, p->finish_timeout_s, NULL, NULL, err);
}

void incus_push_free(struct incus_push *p)
{
        if (!p)
                return;
        if (!p->finished && p->operation) {
                struct ferry_error ignored = {};

                /* Abort the data stream with an error status (a normal
                 * close would read as the end of the disk), so that Incus
                 * fails the transfer and removes the volume it made before
                 * the operation ends; then wait for that. */
                incus_ws_abort(p->fs, 2000);
                incus_ws_free(TAKE_PTR(p->fs));
                (void) incus_operation_wait(p->client, p->operation, 60, NULL, NULL, &ignored);
                incus_ws_free(TAKE_PTR(p->control));
        }
        incus_ws_free(p->fs);
        incus_ws_free(p->control);
        free(p->operation);
        free(p->volume);
        free(p);
}

int incus_volume_push(struct incus_client *c, const struct incus_push_options *o, incus_push_read_fn read,
                      void *userdata, struct ferry_error *err)
{
        _cleanup_incus_push_ struct incus_push *p = NULL;
        _cleanup_free_ char *buf = malloc(PUSH_CHUNK);
        int r;

        if (!buf)
                return oom(err);
        r = incus_push_begin(c, o, &p, err);
        if (r < 0)
                return r;

        while (p->offset < p->size) {
                uint64_t left = p->size - p->offset;
                size_t want = left < PUSH_CHUNK ? (size_t) left : PUSH_CHUNK;
                ssize_t n = read(userdata, buf, want, p->offset, err);

                if (n < 0)
                        return (int) n;
                if (n == 0)
                        return ferry_error_set(err, -EIO, "The disk ended after %" PRIu64 " of %" PRIu64 " bytes",
                                               p->offset, p->size);
                r = incus_push_write(p, buf, (size_t) n, err);
                if (r < 0)
                        return r;
        }
        return incus_push_finish(p, err);
}
