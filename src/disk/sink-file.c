/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file and block device sinks.  Both keep a buffered descriptor (for
 * reads, unaligned edges and zeros) and, with direct I/O, an O_DIRECT one
 * for the aligned middle of each write.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/strbuf.h"
#include "disk/ranges.h"
#include "disk/sink.h"

/* Zeros written by hand go out in pieces of this size. */
#define ZERO_BUFFER_SIZE (1u << 20)
/* Direct I/O alignment for files (and the minimum for block devices). */
#define DIRECT_ALIGN 4096u
/* Block devices discard and zero in units of 512-byte sectors. */
#define SECTOR 512u
/*
 * Write-behind: writeback of each range starts as soon as it is written,
 * and once more than WRITEBEHIND_BYTES are in flight the oldest ranges are
 * waited for and dropped from the page cache.  The copy then streams to
 * the device instead of filling memory with dirty pages it will never
 * read again (which also makes it faster: the kernel reuses warm pages),
 * and a full or failing device shows up within a few MiB.
 */
#define WRITEBEHIND_BYTES (UINT64_C(16) << 20)
#define WRITEBEHIND_RANGES 256u

struct file_sink {
        struct sink base;
        int fd;                 /* buffered, read-write */
        int direct_fd;          /* O_DIRECT, or -1 */
        bool direct;            /* direct I/O asked for */
        bool block;
        void *zeros;            /* ZERO_BUFFER_SIZE zero bytes */
        atomic_bool no_punch;   /* fallocate(PUNCH_HOLE) is not supported here */
        atomic_bool no_zero_range;
        atomic_bool no_zeroout;

        pthread_mutex_t wb_lock;
        struct disk_range wb[WRITEBEHIND_RANGES];       /* ring, oldest at wb_head */
        size_t wb_head, wb_n;
        uint64_t wb_bytes;
};

static struct file_sink *file_sink(struct sink *s)
{
        return (struct file_sink *) s;
}

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t offset)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t n = pwrite(fd, p, len, (off_t) offset);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -ENOSPC;
                p += n;
                len -= (size_t) n;
                offset += (uint64_t) n;
        }
        return 0;
}

static int write_error(struct sink *s, int r, uint64_t offset, uint64_t len, struct ferry_error *err)
{
        return ferry_error_set(err, r, "Cannot write to '%s' at offset %" PRIu64 " (%" PRIu64 " bytes): %m", s->name,
                               offset, len);
}

/* Start writeback of what was just written; wait for and drop the oldest. */
static int writebehind(struct file_sink *f, uint64_t offset, uint64_t len)
{
        struct disk_range old[WRITEBEHIND_RANGES];
        size_t n_old = 0;
        int r = 0;

        if (len == 0)
                return 0;
        if (sync_file_range(f->fd, (off_t) offset, (off_t) len, SYNC_FILE_RANGE_WRITE) < 0)
                return -errno;

        pthread_mutex_lock(&f->wb_lock);
        if (f->wb_n == WRITEBEHIND_RANGES || f->wb_bytes + len > WRITEBEHIND_BYTES)
                while (f->wb_n > 0 && (f->wb_n == WRITEBEHIND_RANGES || f->wb_bytes + len > WRITEBEHIND_BYTES / 2)) {
                        old[n_old++] = f->wb[f->wb_head];
                        f->wb_bytes -= f->wb[f->wb_head].length;
                        f->wb_head = (f->wb_head + 1) % WRITEBEHIND_RANGES;
                        f->wb_n--;
                }
        f->wb[(f->wb_head + f->wb_n) % WRITEBEHIND_RANGES] = (struct disk_range) { offset, len };
        f->wb_n++;
        f->wb_bytes += len;
        pthread_mutex_unlock(&f->wb_lock);

        for (size_t i = 0; i < n_old && r >= 0; i++) {
                if (sync_file_range(f->fd, (off_t) old[i].start, (off_t) old[i].length,
                                    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) < 0)
                        r = -errno;
                else
                        (void) posix_fadvise(f->fd, (off_t) old[i].start, (off_t) old[i].length, POSIX_FADV_DONTNEED);
        }
        return r;
}

static int file_write(struct sink *s, const void *buf, size_t len, uint64_t offset, struct ferry_error *err)
{
        struct file_sink *f = file_sink(s);
        const char *p = buf;
        size_t head, middle;
        int r;

        if (f->direct_fd < 0) {
                r = pwrite_all(f->fd, buf, len, offset);
                if (r >= 0)
                        r = writebehind(f, offset, len);
                return r < 0 ? write_error(s, r, offset, len, err) : 0;
        }

        /* Unaligned edges through the page cache, the aligned middle direct. */
        head = (size_t) ((s->align - offset % s->align) % s->align);
        if (head > len)
                head = len;
        middle = (len - head) / s->align * s->align;
        r = pwrite_all(f->fd, p, head, offset);
        if (r >= 0)
                r = pwrite_all(f->direct_fd, p + head, middle, offset + head);
        if (r >= 0)
                r = pwrite_all(f->fd, p + head + middle, len - head - middle, offset + head + middle);
        return r < 0 ? write_error(s, r, offset, len, err) : 0;
}

static int write_zeros(struct file_sink *f, uint64_t offset, uint64_t len)
{
        while (len > 0) {
                size_t n = len < ZERO_BUFFER_SIZE ? (size_t) len : ZERO_BUFFER_SIZE;
                int r = pwrite_all(f->fd, f->zeros, n, offset);

                if (r < 0)
                        return r;
                offset += n;
                len -= n;
        }
        return 0;
}

static bool not_supported(int e)
{
        return e == EOPNOTSUPP || e == ENOSYS || e == ENOTTY;
}

/* fallocate() mode on [offset, offset + len): 1 done, 0 not supported here, < 0 error. */
static int try_fallocate(int fd, int mode, atomic_bool *unsupported, uint64_t offset, uint64_t len)
{
        if (atomic_load(unsupported))
                return 0;
        if (fallocate(fd, mode, (off_t) offset, (off_t) len) == 0)
                return 1;
        if (not_supported(errno)) {
                atomic_store(unsupported, true);
                return 0;
        }
        return -errno;
}

static int file_zero(struct sink *s, uint64_t offset, uint64_t len, struct ferry_error *err)
{
        struct file_sink *f = file_sink(s);
        int r;

        r = try_fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, &f->no_punch, offset, len);
        if (r == 0)
                r = try_fallocate(f->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, &f->no_zero_range, offset, len);
        if (r == 0)
                r = write_zeros(f, offset, len);
        return r < 0 ? write_error(s, r, offset, len, err) : 0;
}

/* The sector-aligned middle of a block device range: punched (discard that
 * guarantees zeros) or BLKZEROOUT; 1 done, 0 neither works, < 0 error. */
static int block_zero_aligned(struct file_sink *f, uint64_t offset, uint64_t len)
{
        int r;

        r = try_fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, &f->no_punch, offset, len);
        if (r != 0)
                return r;
        if (!atomic_load(&f->no_zeroout)) {
                uint64_t range[2] = { offset, len };

                if (ioctl(f->fd, BLKZEROOUT, range) == 0)
                        return 1;
                if (!not_supported(errno))
                        return -errno;
                atomic_store(&f->no_zeroout, true);
        }
        return 0;
}

static int block_zero(struct sink *s, uint64_t offset, uint64_t len, struct ferry_error *err)
{
        struct file_sink *f = file_sink(s);
        uint64_t end = offset + len;
        uint64_t a = (offset + SECTOR - 1) / SECTOR * SECTOR, b = end / SECTOR * SECTOR;
        int r = 0;

        if (a < b) {
                r = block_zero_aligned(f, a, b - a);
                if (r == 0)
                        r = write_zeros(f, a, b - a);
                if (r >= 0)
                        r = write_zeros(f, offset, a - offset);
                if (r >= 0)
                        r = write_zeros(f, b, end - b);
        } else
                r = write_zeros(f, offset, len);
        return r < 0 ? write_error(s, r, offset, len, err) : 0;
}

static int file_flush(struct sink *s, struct ferry_error *err)
{
        struct file_sink *f = file_sink(s);

        if (fdatasync(f->fd) < 0)
                return ferry_error_set(err, -errno, "Cannot flush '%s' to stable storage: %m", s->name);
        return 0;
}

static int file_read(struct sink *s, void *buf, size_t len, uint64_t offset, struct ferry_error *err)
{
        struct file_sink *f = file_sink(s);
        char *p = buf;

        while (len > 0) {
                ssize_t n = pread(f->fd, p, len, (off_t) offset);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return ferry_error_set(err, -errno, "Cannot read '%s' at offset %" PRIu64 ": %m", s->name,
                                               offset);
                if (n == 0)
                        return ferry_error_set(err, -EIO, "Cannot read '%s' at offset %" PRIu64 ": it ends there",
                                               s->name, offset);
                p += n;
                len -= (size_t) n;
                offset += (uint64_t) n;
        }
        return 0;
}

static int file_reads_as_zero(struct sink *s, uint64_t offset, uint64_t len)
{
        off_t data = lseek(file_sink(s)->fd, (off_t) offset, SEEK_DATA);

        if (data < 0)
                return errno == ENXIO;  /* no data from offset to the end */
        return (uint64_t) data >= offset + len;
}

static int file_open(struct file_sink *f, bool create, struct ferry_error *err);

static int file_start(struct sink *s, uint64_t size, bool keep, struct ferry_error *err)
{
        struct file_sink *f = file_sink(s);
        struct stat st;
        int r;

        if (f->fd < 0) {
                if (keep)
                        return ferry_error_set(err, -ENOENT,
                                               "'%s' does not exist: a delta or a resumed copy needs the earlier copy of the same disk",
                                               s->name);
                r = file_open(f, true, err);
                if (r < 0)
                        return r;
                if (f->block)
                        return s->ops->start(s, size, keep, err);
        }

        if (fstat(f->fd, &st) < 0)
                return ferry_error_set(err, -errno, "Cannot stat '%s': %m", s->name);
        if (keep) {
                if ((uint64_t) st.st_size != size)
                        return ferry_error_set(err, -ESTALE,
                                               "'%s' holds %" PRIu64 " bytes, not the %" PRIu64
                                               " of the source: a delta or a resumed copy needs the earlier copy of the same disk",
                                               s->name, (uint64_t) st.st_size, size);
        } else {
                /* Empty it, then extend: all holes, so zeros need no writing. */
                if (ftruncate(f->fd, 0) < 0 || ftruncate(f->fd, (off_t) size) < 0)
                        return ferry_error_set(err, -errno, "Cannot make '%s' %" PRIu64 " bytes long: %m", s->name,
                                               size);
                s->zeroed = true;
        }
        s->size = size;
        return 0;
}

static int block_start(struct sink *s, uint64_t size, bool keep, struct ferry_error *err)
{
        struct file_sink *f = file_sink(s);
        uint64_t device_size = 0;

        (void) keep;
        if (ioctl(f->fd, BLKGETSIZE64, &device_size) < 0)
                return ferry_error_set(err, -errno, "Cannot get the size of '%s': %m", s->name);
        if (device_size < size)
                return ferry_error_set(err, -ENOSPC,
                                       "Block device '%s' holds %" PRIu64 " bytes, too few for the %" PRIu64
                                       "-byte source",
                                       s->name, device_size, size);
        s->size = size;
        return 0;
}

static void file_free(struct sink *s)
{
        struct file_sink *f = file_sink(s);

        if (f->fd >= 0)
                close(f->fd);
        if (f->direct_fd >= 0)
                close(f->direct_fd);
        free(f->zeros);
        pthread_mutex_destroy(&f->wb_lock);
        sink_done(s);
        free(f);
}

static const struct sink_ops sink_file_ops = {
        .type = "file",
        .random_writes = true,
        .start = file_start,
        .write = file_write,
        .zero = file_zero,
        .flush = file_flush,
        .read = file_read,
        .reads_as_zero = file_reads_as_zero,
        .free = file_free,
};

static const struct sink_ops sink_block_ops = {
        .type = "block device",
        .random_writes = true,
        .start = block_start,
        .write = file_write,
        .zero = block_zero,
        .flush = file_flush,
        .read = file_read,
        .free = file_free,
};

/* Open the descriptors (creating the file if create); sets block and align. */
static int file_open(struct file_sink *f, bool create, struct ferry_error *err)
{
        struct sink *s = &f->base;
        const char *path = s->name;
        struct stat st;

        f->fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY | (create ? O_CREAT | O_EXCL : 0), 0666);
        if (f->fd < 0)
                return ferry_error_set(err, -errno, "Cannot open '%s': %m", path);
        if (fstat(f->fd, &st) < 0)
                return ferry_error_set(err, -errno, "Cannot stat '%s': %m", path);
        if (S_ISBLK(st.st_mode)) {
                f->block = true;
                s->ops = &sink_block_ops;
        } else if (!S_ISREG(st.st_mode))
                return ferry_error_set(err, -EINVAL, "'%s' is neither a file nor a block device", path);

        if (f->direct) {
                int sector = 0;

                f->direct_fd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC | O_NOCTTY);
                if (f->direct_fd < 0)
                        return ferry_error_set(err, -errno,
                                               "Cannot open '%s' for direct I/O: %m (does its file system support O_DIRECT?)",
                                               path);
                if (f->block && ioctl(f->fd, BLKSSZGET, &sector) == 0 && sector > (int) s->align)
                        s->align = (size_t) sector;
        }
        return 0;
}

/* The canonical path of a file that may not exist yet: its directory resolved. */
static char *canonical_path(const char *path)
{
        _cleanup_free_ char *copy = strdup(path), *dir = NULL;
        char *slash, *base;

        if (!copy)
                return NULL;
        slash = strrchr(copy, '/');
        if (slash == copy) {
                dir = strdup("/");
                base = copy + 1;
        } else if (slash) {
                *slash = '\0';
                dir = realpath(copy, NULL);
                base = slash + 1;
        } else {
                dir = realpath(".", NULL);
                base = copy;
        }
        if (!dir)
                return NULL;
        if (!*base || streq(base, ".") || streq(base, "..")) {
                errno = EISDIR;
                return NULL;
        }
        return streq(dir, "/") ? strjoin("/", base, NULL) : strjoin(dir, "/", base, NULL);
}

int sink_file_new(const char *path, bool direct, struct sink **ret, struct ferry_error *err)
{
        struct file_sink *f;
        _cleanup_(sink_free_p) struct sink *s = NULL;
        int r;

        f = calloc(1, sizeof(*f));
        if (!f)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        f->fd = f->direct_fd = -1;
        pthread_mutex_init(&f->wb_lock, NULL);
        r = sink_init(&f->base, &sink_file_ops, path);
        s = &f->base;
        if (r < 0)
                return ferry_error_set(err, r, "Out of memory");
        f->direct = direct;
        if (direct)
                s->align = DIRECT_ALIGN;

        if (posix_memalign(&f->zeros, DIRECT_ALIGN, ZERO_BUFFER_SIZE) != 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        memset(f->zeros, 0, ZERO_BUFFER_SIZE);

        /* A missing file is created by start(), so that a copy that fails
         * before it begins leaves nothing behind. */
        if (access(path, F_OK) == 0) {
                r = file_open(f, false, err);
                if (r < 0)
                        return r;
                s->id = realpath(path, NULL);
        } else if (errno == ENOENT)
                s->id = canonical_path(path);
        else
                return ferry_error_set(err, -errno, "Cannot open '%s': %m", path);
        if (!s->id)
                return ferry_error_set(err, -errno, "Cannot open '%s': %m", path);

        *ret = TAKE_PTR(s);
        return 0;
}
