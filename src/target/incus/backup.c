/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "target/incus/backup.h"

#define IMPORT_TIMEOUT_S 3600
#define WRITE_CHUNK (1024 * 1024)
/* The largest size the 11 octal digits of a ustar size field hold. */
#define TAR_OCTAL_SIZE_MAX UINT64_C(077777777777)

static uint64_t padded(uint64_t n)
{
        return (n + INCUS_TAR_BLOCK - 1) / INCUS_TAR_BLOCK * INCUS_TAR_BLOCK;
}

/* v as width-1 octal digits and a NUL (v fits: the callers check). */
static void octal(char *field, size_t width, uint64_t v)
{
        field[width - 1] = '\0';
        for (size_t i = width - 1; i > 0; i--, v >>= 3)
                field[i - 1] = (char) ('0' + (v & 7));
}

int incus_tar_header(char block[static INCUS_TAR_BLOCK], const char *name, uint64_t size, unsigned mode,
                     int64_t mtime)
{
        unsigned sum = 0;
        size_t len = strlen(name);

        if (len == 0 || len > 100)
                return -ENAMETOOLONG;
        memset(block, 0, INCUS_TAR_BLOCK);
        memcpy(block, name, len);
        octal(block + 100, 8, mode & 07777);
        octal(block + 108, 8, 0);
        octal(block + 116, 8, 0);
        if (size <= TAR_OCTAL_SIZE_MAX)
                octal(block + 124, 12, size);
        else {
                /* GNU base-256: the top bit of the first byte set, the value big-endian in the rest. */
                block[124] = (char) 0x80;
                for (int i = 135; i > 124; i--, size >>= 8)
                        block[i] = (char) (size & 0xff);
        }
        octal(block + 136, 12, (uint64_t) (mtime > 0 ? mtime : 0) & TAR_OCTAL_SIZE_MAX);
        block[156] = '0';
        memcpy(block + 257, "ustar", 6);
        memcpy(block + 263, "00", 2);
        memcpy(block + 265, "root", 4);
        memcpy(block + 297, "root", 4);

        memset(block + 148, ' ', 8);
        for (size_t i = 0; i < INCUS_TAR_BLOCK; i++)
                sum += (unsigned char) block[i];
        octal(block + 148, 7, sum);
        block[155] = ' ';
        return 0;
}

uint64_t incus_backup_tar_size(uint64_t index_len, uint64_t size)
{
        return INCUS_TAR_BLOCK + padded(index_len) + INCUS_TAR_BLOCK + padded(size) + 2 * INCUS_TAR_BLOCK;
}

char *incus_backup_index(const char *name, const char *project, const char *pool, const char *backend,
                         uint64_t size)
{
        char *text = NULL;

        /* What `incus storage volume export` writes for a custom block volume. */
        if (asprintf(&text,
                     "name: %s\n"
                     "backend: %s\n"
                     "pool: %s\n"
                     "optimized: false\n"
                     "optimized_header: false\n"
                     "type: custom\n"
                     "config:\n"
                     "  volume:\n"
                     "    config:\n"
                     "      size: \"%" PRIu64 "B\"\n"
                     "    description: \"\"\n"
                     "    name: %s\n"
                     "    type: custom\n"
                     "    content_type: block\n"
                     "    project: %s\n",
                     name, backend, pool, size, name, project) < 0)
                return NULL;
        return text;
}

struct tar_writer {
        int fd;
        const char *index;
        size_t index_len;
        uint64_t size;
        incus_push_read_fn read;
        void *userdata;
        int r;
        struct ferry_error err;
};

static int send_all(struct tar_writer *w, const void *buf, size_t len)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t n = send(w->fd, p, len, MSG_NOSIGNAL);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return ferry_error_set(&w->err, -errno, "Incus stopped reading the backup: %m");
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

static int send_zeros(struct tar_writer *w, uint64_t n)
{
        static const char zeros[INCUS_TAR_BLOCK];
        int r;

        while (n > 0) {
                size_t k = n < sizeof(zeros) ? (size_t) n : sizeof(zeros);

                r = send_all(w, zeros, k);
                if (r < 0)
                        return r;
                n -= k;
        }
        return 0;
}

static int write_tar(struct tar_writer *w)
{
        char header[INCUS_TAR_BLOCK];
        _cleanup_free_ char *buf = malloc(WRITE_CHUNK);
        int64_t now = (int64_t) time(NULL);
        uint64_t done = 0;
        int r;

        if (!buf)
                return ferry_error_set(&w->err, -ENOMEM, "Out of memory");
        if (incus_tar_header(header, "backup/index.yaml", w->index_len, 0644, now) < 0)
                return ferry_error_set(&w->err, -EINVAL, "Cannot make a tar header");
        if ((r = send_all(w, header, sizeof(header))) < 0 || (r = send_all(w, w->index, w->index_len)) < 0 ||
            (r = send_zeros(w, padded(w->index_len) - w->index_len)) < 0)
                return r;
        if (incus_tar_header(header, "backup/volume.img", w->size, 0600, now) < 0)
                return ferry_error_set(&w->err, -EINVAL, "Cannot make a tar header");
        r = send_all(w, header, sizeof(header));
        if (r < 0)
                return r;

        while (done < w->size) {
                size_t want = w->size - done < WRITE_CHUNK ? (size_t) (w->size - done) : WRITE_CHUNK;
                ssize_t n = w->read(w->userdata, buf, want, done, &w->err);

                if (n < 0)
                        return (int) n;
                if (n == 0)
                        return ferry_error_set(&w->err, -EIO, "The disk ended after %" PRIu64 " of %" PRIu64 " bytes",
                                               done, w->size);
                r = send_all(w, buf, (size_t) n);
                if (r < 0)
                        return r;
                done += (uint64_t) n;
        }
        r = send_zeros(w, padded(w->size) - w->size);
        if (r < 0)
                return r;
        return send_zeros(w, 2 * INCUS_TAR_BLOCK);
}

static void *tar_writer_thread(void *userdata)
{
        struct tar_writer *w = userdata;

        w->r = write_tar(w);
        /* The end of the stream, or its abrupt end after a failure. */
        shutdown(w->fd, SHUT_WR);
        return NULL;
}

static int pool_driver(struct incus_client *c, const char *pool, char **ret, struct ferry_error *err)
{
        _cleanup_free_ char *escaped = incus_escape(pool), *path = NULL;
        _cleanup_json_ json_t *obj = NULL;
        const char *driver;
        int r;

        if (!escaped || !(path = strjoin("/1.0/storage-pools/", escaped, NULL)))
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = incus_get(c, path, NULL, &obj, err);
        if (r < 0)
                return ferry_error_prefix(err, "Storage pool '%s'", pool);
        driver = json_string_value(json_object_get(obj, "driver"));
        *ret = strdup(driver ? driver : "");
        return *ret ? 0 : ferry_error_set(err, -ENOMEM, "Out of memory");
}

static char *volumes_path(const char *pool)
{
        _cleanup_free_ char *escaped = incus_escape(pool);

        return escaped ? strjoin("/1.0/storage-pools/", escaped, "/volumes/custom", NULL) : NULL;
}

int incus_volume_import(struct incus_client *c, const struct incus_import_options *o, incus_push_read_fn read,
                        void *userdata, struct ferry_error *err)
{
        _cleanup_free_ char *backend = NULL, *index = NULL, *path = NULL, *name_header = NULL;
        struct tar_writer w = {};
        pthread_t thread;
        int sv[2], r;

        if (!o->pool || !o->volume || !*o->volume)
                return ferry_error_set(err, -EINVAL, "A backup import needs a pool and a volume name");
        r = pool_driver(c, o->pool, &backend, err);
        if (r < 0)
                return r;
        index = incus_backup_index(o->volume, o->project ? o->project : "default", o->pool, backend, o->size);
        path = volumes_path(o->pool);
        name_header = strjoin("X-Incus-name: ", o->volume, NULL);
        if (!index || !path || !name_header)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return ferry_error_set(err, -errno, "Cannot make a socket pair: %m");
        w = (struct tar_writer) { .fd = sv[1], .index = index, .index_len = strlen(index), .size = o->size,
                                  .read = read, .userdata = userdata };
        r = pthread_create(&thread, NULL, tar_writer_thread, &w);
        if (r != 0) {
                close(sv[0]);
                close(sv[1]);
                return ferry_error_set(err, -r, "Cannot start the backup writer: %m");
        }

        r = incus_upload(c, "POST", path, o->project, (const char *const[]) { name_header, NULL }, sv[0],
                         incus_backup_tar_size(w.index_len, o->size),
                         o->timeout_s > 0 ? o->timeout_s : IMPORT_TIMEOUT_S, NULL, err);
        /* A writer still sending (Incus gave up early) gets EPIPE now. */
        close(sv[0]);
        pthread_join(thread, NULL);
        close(sv[1]);

        /* The reader's failure explains the short upload better than libcurl does. */
        if (w.r < 0 && (r >= 0 || w.r != -EPIPE)) {
                *err = w.err;
                r = w.r;
        }
        if (r < 0)
                return ferry_error_prefix(err, "Cannot import volume '%s' from a backup", o->volume);
        return 0;
}

int incus_iso_upload(struct incus_client *c, const char *project, const char *pool, const char *name, int fd,
                     uint64_t size, struct ferry_error *err)
{
        _cleanup_free_ char *path = volumes_path(pool), *name_header = strjoin("X-Incus-name: ", name, NULL);
        int r;

        if (!path || !name_header)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = incus_upload(c, "POST", path, project, (const char *const[]) { name_header, "X-Incus-type: iso", NULL },
                         fd, size, IMPORT_TIMEOUT_S, NULL, err);
        if (r < 0)
                return ferry_error_prefix(err, "Cannot upload ISO '%s'", name);
        return 0;
}
