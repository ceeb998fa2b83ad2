/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry-worker copy against real NBD servers (nbdkit, qemu-nbd) that each
 * test starts in its own temporary directory: the acceptance of the disk
 * copy engine (issue 8).  Results are compared by SHA-256 with what the
 * test reads itself from the source over libnbd, never with what ferry
 * says it did.
 *
 * Large images are compared by their "content digest": the SHA-256 of
 * the SHA-256s of each 1 MiB block.  A block the source's block status or
 * the file's holes say is zero gets the digest of zeros without being
 * read, so a 16 GiB image that is mostly holes is checked in seconds; two
 * images have the same content digest exactly when their bytes are equal.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libnbd.h>
#include <openssl/evp.h>

#include "common/fileio.h"
#include "common/macros.h"
#include "common/strbuf.h"
#include "disk/checkpoint.h"
#include "disk/ranges.h"
#include "nbdserver.h"
#include "proc.h"

#ifndef FERRY_WORKER_PATH
#error "FERRY_WORKER_PATH must name the ferry-worker binary under test"
#endif

#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define BLOCK MIB
#define COPY_TIMEOUT_MS 180000

DEFINE_CLEANUP_FUNC(struct nbd_handle, nbd_close);
#define _cleanup_nbd_ _cleanup_(nbd_close_p)

struct fixture {
        char *dir;
        struct nbd_server servers[4];
        char *loop_device;      /* to detach */
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        if (!f)
                return -1;
        f->dir = tmpdir_new();
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        for (size_t i = 0; i < ELEMENTSOF(f->servers); i++)
                nbd_server_stop(&f->servers[i]);
        if (f->loop_device) {
                free(proc_run_stdout(0, (char *const[]) { "/usr/sbin/losetup", "--detach", f->loop_device, NULL }));
                free(f->loop_device);
        }
        tmpdir_remove(f->dir);
        free(f->dir);
        free(f);
        return 0;
}

static char *path_in(const struct fixture *f, const char *name)
{
        char *p = strjoin(f->dir, "/", name, NULL);

        assert_non_null(p);
        return p;
}

/* ---- running ferry-worker ---------------------------------------------- */

/* Run ferry-worker with the arguments up to NULL; fail unless it exits with
 * status; return its stderr. */
static char *worker(int status, ...) __attribute__((sentinel));
static char *worker(int status, ...)
{
        char *argv[32] = { FERRY_WORKER_PATH };
        struct proc p;
        char *err;
        size_t n = 1;
        va_list ap;
        int r;

        va_start(ap, status);
        for (char *a = va_arg(ap, char *); a; a = va_arg(ap, char *)) {
                assert_true(n < ELEMENTSOF(argv) - 1);
                argv[n++] = a;
        }
        va_end(ap);

        proc_start(&p, argv);
        r = proc_wait(&p, COPY_TIMEOUT_MS);
        err = proc_stderr(&p);
        proc_cleanup(&p);
        if (r != status)
                fail_msg("ferry-worker exited with status %d instead of %d, its stderr:\n%s", r, status, err);
        return err;
}

/* ---- reading sources and sinks ----------------------------------------- */

static struct nbd_handle *connect_uri(const char *uri)
{
        struct nbd_handle *nbd = nbd_create();

        assert_non_null(nbd);
        assert_int_equal(nbd_add_meta_context(nbd, LIBNBD_CONTEXT_BASE_ALLOCATION), 0);
        if (nbd_connect_uri(nbd, uri) < 0)
                fail_msg("Cannot connect to '%s': %s", uri, nbd_get_error());
        return nbd;
}

struct zero_ctx {
        struct disk_ranges *zero;
        uint64_t end;
};

static int zero_extents(void *user_data, const char *context, uint64_t offset, uint32_t *entries, size_t n,
                        int *error)
{
        struct zero_ctx *ctx = user_data;

        (void) error;
        if (!streq(context, LIBNBD_CONTEXT_BASE_ALLOCATION))
                return 0;
        for (size_t i = 0; i + 1 < n; i += 2) {
                if (entries[i + 1] & LIBNBD_STATE_ZERO)
                        assert_int_equal(disk_ranges_add(ctx->zero, offset, entries[i]), 0);
                offset += entries[i];
        }
        ctx->end = offset;
        return 0;
}

/* What the source's block status says reads as zeros. */
static void source_zero_ranges(struct nbd_handle *nbd, uint64_t size, struct disk_ranges *zero)
{
        uint64_t off = 0;

        if (nbd_can_meta_context(nbd, LIBNBD_CONTEXT_BASE_ALLOCATION) != 1)
                return;
        while (off < size) {
                struct zero_ctx ctx = { .zero = zero, .end = off };
                uint64_t n = size - off < GIB ? size - off : GIB;

                if (nbd_block_status(nbd, n, off, (nbd_extent_callback) { .callback = zero_extents, .user_data = &ctx },
                                     0) < 0)
                        fail_msg("Block status at %" PRIu64 " failed: %s", off, nbd_get_error());
                assert_true(ctx.end > off);
                off = ctx.end;
        }
}

static void digest_hex(const unsigned char *md, char hex[65])
{
        for (unsigned i = 0; i < 32; i++)
                sprintf(hex + 2 * i, "%02x", md[i]);
}

struct content_digest {
        EVP_MD_CTX *top;
        unsigned char zero_md[32];
        uint64_t zero_len;
};

static void content_digest_init(struct content_digest *d)
{
        _cleanup_free_ char *zeros = calloc(1, BLOCK);
        unsigned len;

        assert_non_null(zeros);
        assert_non_null(d->top = EVP_MD_CTX_new());
        assert_int_equal(EVP_DigestInit_ex(d->top, EVP_sha256(), NULL), 1);
        assert_int_equal(EVP_Digest(zeros, BLOCK, d->zero_md, &len, EVP_sha256(), NULL), 1);
}

static void content_digest_block(struct content_digest *d, const void *buf, size_t len)
{
        unsigned char md[32];
        unsigned mdlen;

        if (buf)
                assert_int_equal(EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL), 1);
        else if (len == BLOCK)
                memcpy(md, d->zero_md, 32);
        else {
                _cleanup_free_ char *zeros = calloc(1, len);

                assert_int_equal(EVP_Digest(zeros, len, md, &mdlen, EVP_sha256(), NULL), 1);
        }
        assert_int_equal(EVP_DigestUpdate(d->top, md, 32), 1);
}

static void content_digest_end(struct content_digest *d, uint64_t size, char hex[65])
{
        unsigned char md[32];
        unsigned len;

        /* The size too, so that trailing zeros count. */
        assert_int_equal(EVP_DigestUpdate(d->top, &size, sizeof size), 1);
        assert_int_equal(EVP_DigestFinal_ex(d->top, md, &len), 1);
        EVP_MD_CTX_free(d->top);
        digest_hex(md, hex);
}

static void source_content_digest(const char *uri, char hex[65])
{
        _cleanup_nbd_ struct nbd_handle *nbd = connect_uri(uri);
        _cleanup_disk_ranges_ struct disk_ranges zero = DISK_RANGES_INIT;
        _cleanup_free_ char *buf = malloc(BLOCK);
        struct content_digest d = {};
        int64_t size = nbd_get_size(nbd);

        assert_true(size >= 0);
        assert_non_null(buf);
        source_zero_ranges(nbd, (uint64_t) size, &zero);
        content_digest_init(&d);
        for (uint64_t off = 0; off < (uint64_t) size; off += BLOCK) {
                size_t n = (uint64_t) size - off < BLOCK ? (size_t) ((uint64_t) size - off) : BLOCK;

                if (disk_ranges_covers(&zero, off, n)) {
                        content_digest_block(&d, NULL, n);
                        continue;
                }
                if (nbd_pread(nbd, buf, n, off, 0) < 0)
                        fail_msg("Read at %" PRIu64 " failed: %s", off, nbd_get_error());
                content_digest_block(&d, buf, n);
        }
        content_digest_end(&d, (uint64_t) size, hex);
}

/* The file's content digest; returns 0 or an errno.  No cmocka asserts:
 * it also runs on a thread of its own. */
static int file_content_digest_errno(const char *path, char hex[65])
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *buf = malloc(BLOCK), *zeros = calloc(1, BLOCK);
        EVP_MD_CTX *top = EVP_MD_CTX_new();
        unsigned char md[32], zero_md[32];
        unsigned len;
        struct stat st;
        int r = 0;

        if (fd < 0 || fstat(fd, &st) < 0)
                r = errno;
        else if (!buf || !zeros || !top || !EVP_DigestInit_ex(top, EVP_sha256(), NULL) ||
                 !EVP_Digest(zeros, BLOCK, zero_md, &len, EVP_sha256(), NULL))
                r = ENOMEM;
        (void) posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        for (uint64_t off = 0; r == 0 && off < (uint64_t) st.st_size; off += BLOCK) {
                size_t n = (uint64_t) st.st_size - off < BLOCK ? (size_t) ((uint64_t) st.st_size - off) : BLOCK;
                off_t data = lseek(fd, (off_t) off, SEEK_DATA);

                if (n == BLOCK && ((data < 0 && errno == ENXIO) || (data >= 0 && (uint64_t) data >= off + n)))
                        memcpy(md, zero_md, 32);
                else if (pread(fd, buf, n, (off_t) off) != (ssize_t) n)
                        r = errno ?: EIO;
                else if (!EVP_Digest(buf, n, md, &len, EVP_sha256(), NULL))
                        r = ENOMEM;
                if (r == 0 && !EVP_DigestUpdate(top, md, 32))
                        r = ENOMEM;
        }
        if (r == 0) {
                uint64_t size = (uint64_t) st.st_size;

                if (!EVP_DigestUpdate(top, &size, sizeof size) || !EVP_DigestFinal_ex(top, md, &len))
                        r = ENOMEM;
                else
                        digest_hex(md, hex);
        }
        EVP_MD_CTX_free(top);
        return r;
}

static void file_content_digest(const char *path, char hex[65])
{
        int r = file_content_digest_errno(path, hex);

        if (r != 0)
                fail_msg("Cannot read '%s': %s", path, strerror(r));
}

struct file_digest_job {
        const char *path;
        char hex[65];
        int error;
};

static void *file_digest_thread(void *userdata)
{
        struct file_digest_job *job = userdata;

        job->error = file_content_digest_errno(job->path, job->hex);
        return NULL;
}

static void assert_same_content(const char *uri, const char *path)
{
        struct file_digest_job job = { .path = path };
        pthread_t thread;
        char want[65];

        /* The file comes from disk, the source costs CPU: do both at once. */
        assert_int_equal(pthread_create(&thread, NULL, file_digest_thread, &job), 0);
        source_content_digest(uri, want);
        assert_int_equal(pthread_join(thread, NULL), 0);
        if (job.error)
                fail_msg("Cannot read '%s': %s", path, strerror(job.error));
        assert_string_equal(job.hex, want);
}

/* Plain SHA-256 of every byte. */
static void source_sha256(const char *uri, char hex[65])
{
        _cleanup_nbd_ struct nbd_handle *nbd = connect_uri(uri);
        _cleanup_free_ char *buf = malloc(4 * MIB);
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        int64_t size = nbd_get_size(nbd);
        unsigned char digest[32];
        unsigned len;

        assert_non_null(buf);
        assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
        for (uint64_t off = 0; off < (uint64_t) size; off += 4 * MIB) {
                size_t n = (uint64_t) size - off < 4 * MIB ? (size_t) ((uint64_t) size - off) : 4 * MIB;

                if (nbd_pread(nbd, buf, n, off, 0) < 0)
                        fail_msg("Read at %" PRIu64 " failed: %s", off, nbd_get_error());
                assert_int_equal(EVP_DigestUpdate(md, buf, n), 1);
        }
        assert_int_equal(EVP_DigestFinal_ex(md, digest, &len), 1);
        EVP_MD_CTX_free(md);
        digest_hex(digest, hex);
}

static void file_sha256(const char *path, char hex[65])
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *buf = malloc(4 * MIB);
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned char digest[32];
        unsigned len;
        ssize_t n;

        assert_true(fd >= 0);
        assert_non_null(buf);
        assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
        while ((n = read(fd, buf, 4 * MIB)) > 0)
                assert_int_equal(EVP_DigestUpdate(md, buf, (size_t) n), 1);
        assert_int_equal(n, 0);
        assert_int_equal(EVP_DigestFinal_ex(md, digest, &len), 1);
        EVP_MD_CTX_free(md);
        digest_hex(digest, hex);
}

static uint64_t file_size(const char *path)
{
        struct stat st;

        assert_int_equal(stat(path, &st), 0);
        return (uint64_t) st.st_size;
}

static uint64_t file_allocated(const char *path)
{
        struct stat st;

        assert_int_equal(stat(path, &st), 0);
        return (uint64_t) st.st_blocks * 512;
}

/* Bytes the source's block status says hold data. */
static uint64_t source_allocated(const char *uri)
{
        _cleanup_nbd_ struct nbd_handle *nbd = connect_uri(uri);
        _cleanup_disk_ranges_ struct disk_ranges zero = DISK_RANGES_INIT;
        int64_t size = nbd_get_size(nbd);

        source_zero_ranges(nbd, (uint64_t) size, &zero);
        return (uint64_t) size - disk_ranges_total(&zero);
}

/* The reads nbdkit's log filter recorded ("Read id=N offset=0x.. count=0x.."):
 * their union and the sum of their lengths. */
static uint64_t logged_reads(const char *logfile, struct disk_ranges *reads)
{
        _cleanup_free_ char *text = NULL;
        struct ferry_error err = {};
        uint64_t total = 0;

        if (fileio_read_checked(logfile, 512 * MIB, &text, NULL, &err) < 0)
                fail_msg("%s", ferry_error_message(&err));
        for (char *line = text; line && *line;) {
                char *next = strchr(line, '\n'), *p;

                if (next)
                        *next++ = '\0';
                p = strstr(line, " Read id=");
                if (p) {
                        uint64_t off, count;

                        p = strstr(p, "offset=");
                        assert_non_null(p);
                        assert_int_equal(sscanf(p, "offset=0x%" SCNx64 " count=0x%" SCNx64, &off, &count), 2);
                        assert_int_equal(disk_ranges_add(reads, off, count), 0);
                        total += count;
                }
                line = next;
        }
        return total;
}

static uint64_t checkpoint_done(const char *path, struct disk_ranges *ret)
{
        _cleanup_disk_checkpoint_ struct disk_checkpoint c = DISK_CHECKPOINT_INIT;
        struct ferry_error err = {};

        if (disk_checkpoint_load(path, &c, &err) < 0)
                return UINT64_MAX;
        if (ret)
                assert_int_equal(disk_ranges_copy(ret, &c.done), 0);
        return disk_ranges_total(&c.done);
}

static void sleep_ms(int ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* Wait until the checkpoint at path lists at least bytes done; fail if p exits first. */
static void wait_for_checkpoint(struct proc *p, const char *path, uint64_t bytes)
{
        for (int waited = 0;; waited += 20) {
                uint64_t done = checkpoint_done(path, NULL);

                if (done != UINT64_MAX && done >= bytes)
                        return;
                if (!proc_running(p)) {
                        _cleanup_free_ char *err = proc_stderr(p);

                        fail_msg("ferry-worker exited (%d) before its checkpoint showed progress: %s", p->status, err);
                }
                if (waited > 60000)
                        fail_msg("No checkpoint progress after 60 s");
                sleep_ms(20);
        }
}

/* Wait until p has written needle to its stderr; fail if it exits first. */
static void wait_for_output(struct proc *p, const char *needle)
{
        for (int waited = 0;; waited += 20) {
                _cleanup_free_ char *err = proc_stderr(p);

                if (strstr(err, needle))
                        return;
                if (!proc_running(p))
                        fail_msg("ferry-worker exited (%d) before writing '%s': %s", p->status, needle, err);
                if (waited > 60000)
                        fail_msg("No '%s' after 60 s: %s", needle, err);
                sleep_ms(20);
        }
}

static void write_text(const char *path, const char *text)
{
        struct ferry_error err = {};

        if (fileio_write_atomic(path, text, strlen(text), 0600, &err) < 0)
                fail_msg("%s", ferry_error_message(&err));
}

/* Fill an image file with nbdkit's sparse-random data, through nbdcopy. */
static void make_sparse_random_image(const char *path, const char *size, const char *percent, const char *seed)
{
        _cleanup_free_ char *run = strjoin("nbdcopy \"$uri\" '", path, "'", NULL);
        _cleanup_free_ char *a_size = strjoin("size=", size, NULL), *a_percent = strjoin("percent=", percent, NULL),
                            *a_seed = strjoin("seed=", seed, NULL);
        char *argv[] = { "/usr/bin/nbdkit", "-U", "-", "sparse-random", a_size, a_percent, a_seed, "--run", run, NULL };
        _cleanup_free_ char *err = NULL;

        if (proc_run(argv, NULL, &err) != 0)
                fail_msg("Cannot make '%s': %s", path, err);
}

/* ---- acceptance: correct copies ---------------------------------------- */

static void test_a_2_gib_pattern_image_is_copied_byte_for_byte_over_several_connections(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = path_in(f, "pattern.img"), *err = NULL;

        nbd_server_start(&f->servers[0], f->dir, "pattern", "pattern", "size=2G", NULL);
        err = worker(0, "copy", f->servers[0].uri, out, NULL);
        assert_contains(err, "ferry-worker: Copied 2.0 GiB in ");
        assert_contains(err, "read 2.0 GiB, wrote 2.0 GiB");
        assert_contains(err, "; 4 connections");
        assert_int_equal(file_size(out), 2 * GIB);
        assert_same_content(f->servers[0].uri, out);
}

static void test_a_16_gib_sparse_image_is_copied_exactly_and_stays_sparse(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = path_in(f, "sparse.img"), *err = NULL;
        uint64_t allocated, sink;

        nbd_server_start(&f->servers[0], f->dir, "sparse", "sparse-random", "size=16G", "percent=25", "seed=42", NULL);
        allocated = source_allocated(f->servers[0].uri);
        assert_true(allocated > 3 * GIB && allocated < 5 * GIB);

        err = worker(0, "copy", f->servers[0].uri, out, NULL);
        assert_int_equal(file_size(out), 16 * GIB);
        assert_same_content(f->servers[0].uri, out);

        /* Only the data takes room: the holes stayed holes. */
        sink = file_allocated(out);
        print_message("source data %" PRIu64 " bytes, sink allocation %" PRIu64 "\n", allocated, sink);
        assert_true(sink <= allocated + allocated / 100);
        assert_true(sink >= allocated - allocated / 100);
}

static void test_an_odd_sized_image_is_copied_exactly_to_a_file_and_to_a_stream(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = path_in(f, "odd.img"), *streamed = path_in(f, "odd-stream.img"), *err = NULL;
        char want[65], got[65];

        nbd_server_start(&f->servers[0], f->dir, "odd", "sparse-random", "size=1073745921", "percent=30", "seed=3",
                         NULL);
        source_sha256(f->servers[0].uri, want);

        err = worker(0, "copy", f->servers[0].uri, out, NULL);
        assert_int_equal(file_size(out), GIB + 4097);
        file_sha256(out, got);
        assert_string_equal(got, want);

        /* Standard output: the disk in order, zeros written out. */
        {
                char *argv[] = { "/bin/sh", "-c", "exec \"$0\" copy \"$1\" - > \"$2\"", FERRY_WORKER_PATH,
                                 f->servers[0].uri, streamed, NULL };
                struct proc p;

                proc_start(&p, argv);
                assert_int_equal(proc_wait(&p, COPY_TIMEOUT_MS), 0);
                free(err);
                err = proc_stderr(&p);
                proc_cleanup(&p);
        }
        assert_contains(err, "; 1 connection");
        assert_int_equal(file_size(streamed), GIB + 4097);
        file_sha256(streamed, got);
        assert_string_equal(got, want);
}

/* A deterministic byte source for the changes. */
static uint64_t lcg(uint64_t *s)
{
        *s = *s * 6364136223846793005u + 1442695040888963407u;
        return *s >> 17;
}

static void test_a_delta_applies_scattered_changes_and_reads_only_them(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *src = path_in(f, "src.img"), *out = path_in(f, "delta.img"), *changes = path_in(f, "changes.json"),
                            *log = path_in(f, "delta.log"), *err = NULL, *file_arg = NULL, *log_arg = NULL;
        _cleanup_disk_ranges_ struct disk_ranges changed = DISK_RANGES_INIT, reads = DISK_RANGES_INIT;
        _cleanup_strbuf_ struct strbuf json = STRBUF_INIT;
        _cleanup_free_ char *buf = malloc(65536);
        _cleanup_close_ int fd = -EBADF;
        bool used[16384] = {};
        char before[65], after[65], sink[65];
        uint64_t seed = 99, total_read;

        assert_non_null(buf);
        make_sparse_random_image(src, "1G", "50", "11");
        file_arg = strjoin("file=", src, NULL);
        nbd_server_start(&f->servers[0], f->dir, "base", "file", file_arg, NULL);
        free(worker(0, "copy", f->servers[0].uri, out, NULL));
        nbd_server_stop(&f->servers[0]);
        file_content_digest(out, before);

        /* 1% of the disk in 64 KiB areas at scattered places: new data, or
         * zeros over old data; three more that are not block-aligned. */
        fd = open(src, O_WRONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        strbuf_append(&json, "[");
        for (int i = 0; i < 167; i++) {
                uint64_t slot, off, len = 65536;

                do
                        slot = lcg(&seed) % 16384;
                while (used[slot]);
                used[slot] = true;
                off = slot * 65536;
                if (i >= 164) {
                        off += 1000 + (uint64_t) i;
                        len = 3000;
                }
                for (size_t k = 0; k < len; k++)
                        buf[k] = i % 4 == 0 ? 0 : (char) lcg(&seed);
                assert_int_equal(pwrite(fd, buf, len, (off_t) off), (ssize_t) len);
                assert_int_equal(disk_ranges_add(&changed, off, len), 0);
                strbuf_appendf(&json, "%s{\"start\": %" PRIu64 ", \"length\": %" PRIu64 "}", i ? ", " : "", off, len);
        }
        strbuf_append(&json, "]\n");
        write_text(changes, strbuf_str(&json));
        file_content_digest(src, after);
        assert_string_not_equal(before, after);

        log_arg = strjoin("logfile=", log, NULL);
        nbd_server_start(&f->servers[1], f->dir, "changed", "--filter=log", "file", file_arg, log_arg, NULL);
        err = worker(0, "copy", "--changes", changes, f->servers[1].uri, out, NULL);
        nbd_server_stop(&f->servers[1]);
        assert_contains(err, "Copied the changed areas,");

        file_content_digest(out, sink);
        assert_string_equal(sink, after);

        /* It read nothing but changed areas, and none twice. */
        total_read = logged_reads(log, &reads);
        print_message("changed %" PRIu64 " bytes, read %" PRIu64 "\n", disk_ranges_total(&changed), total_read);
        for (size_t i = 0; i < reads.n; i++)
                assert_true(disk_ranges_covers(&changed, reads.v[i].start, reads.v[i].length));
        assert_true(total_read <= disk_ranges_total(&changed));
}

/* ---- acceptance: faults ------------------------------------------------ */

static void test_reads_failing_with_eio_are_retried_and_the_copy_is_right(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = path_in(f, "eio.img"), *err = NULL;

        nbd_server_start(&f->servers[0], f->dir, "faulty", "--filter=error", "pattern", "size=256M", "error=EIO",
                         "error-pread-rate=1%", NULL);
        nbd_server_start(&f->servers[1], f->dir, "clean", "pattern", "size=256M", NULL);
        /* 4096 reads of 64 KiB: about 40 fail. */
        err = worker(0, "copy", "--chunk-size", "64K", "--verify", f->servers[0].uri, out, NULL);
        assert_contains(err, " read retries");
        assert_contains(err, "verified: DST matches SRC");
        assert_same_content(f->servers[1].uri, out);
}

static void test_a_killed_copy_resumes_from_its_checkpoint_without_rereading(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = path_in(f, "resume.img"), *ck = path_in(f, "resume.ckpt"),
                            *log = path_in(f, "resume.log"), *log_arg = NULL, *err = NULL, *first_err = NULL;
        _cleanup_disk_ranges_ struct disk_ranges done = DISK_RANGES_INIT, reads = DISK_RANGES_INIT,
                                                 all = DISK_RANGES_INIT;
        const uint64_t size = 256 * MIB;
        uint64_t done_bytes, total_read;
        struct proc p;

        /* 32 MB/s (after a first burst): seconds for the whole disk. */
        nbd_server_start(&f->servers[0], f->dir, "slow", "--filter=rate", "pattern", "size=256M", "rate=256M", NULL);
        proc_start(&p, (char *const[]) { FERRY_WORKER_PATH, "copy", "--checkpoint", ck, "--checkpoint-interval",
                                         "100ms", "--progress-interval", "100ms", f->servers[0].uri, out, NULL });
        wait_for_checkpoint(&p, ck, 32 * MIB);
        wait_for_output(&p, "ferry-worker: copy: ");
        assert_int_equal(kill(p.pid, SIGKILL), 0);
        assert_int_equal(proc_wait(&p, 10000), 128 + SIGKILL);
        first_err = proc_stderr(&p);
        proc_cleanup(&p);
        /* Without a terminal, progress comes as lines. */
        assert_contains(first_err, "ferry-worker: copy: ");
        assert_contains(first_err, " of 256.0 MiB (");

        done_bytes = checkpoint_done(ck, &done);
        print_message("done before the kill: %" PRIu64 " of %" PRIu64 " bytes\n", done_bytes, size);
        assert_true(done_bytes >= 32 * MIB && done_bytes < size);

        log_arg = strjoin("logfile=", log, NULL);
        nbd_server_start(&f->servers[1], f->dir, "logged", "--filter=log", "pattern", "size=256M", log_arg, NULL);
        err = worker(0, "copy", "--checkpoint", ck, f->servers[1].uri, out, NULL);
        nbd_server_stop(&f->servers[1]);
        assert_contains(err, "were done before (checkpoint)");

        /* The second run read exactly what the first had not finished. */
        total_read = logged_reads(log, &reads);
        print_message("read after the restart: %" PRIu64 " bytes\n", total_read);
        for (size_t i = 0; i < reads.n; i++)
                assert_false(disk_ranges_overlaps(&done, reads.v[i].start, reads.v[i].length));
        assert_int_equal(total_read, size - done_bytes);
        assert_int_equal(checkpoint_done(ck, &all), size);

        nbd_server_start(&f->servers[2], f->dir, "clean", "pattern", "size=256M", NULL);
        assert_same_content(f->servers[2].uri, out);
}

static void test_a_full_sink_fails_clearly_and_keeps_the_checkpoint(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *mnt = path_in(f, "small"), *ck = path_in(f, "full.ckpt"), *out = NULL, *err = NULL;
        uint64_t done;

        assert_int_equal(mkdir(mnt, 0700), 0);
        out = strjoin(mnt, "/out.img", NULL);
        nbd_server_start(&f->servers[0], f->dir, "pattern", "pattern", "size=64M", NULL);

        /* A 16 MiB tmpfs in a mount namespace of its own. */
        {
                char *argv[] = { "/usr/bin/unshare", "--mount", geteuid() == 0 ? "--propagation=private" : "--map-root-user",
                                 "/bin/sh", "-c",
                                 "mount -t tmpfs -o size=16m ferry-test \"$1\" && exec \"$2\" copy --checkpoint \"$3\" \"$4\" \"$5\"",
                                 "sh", mnt, FERRY_WORKER_PATH, ck, f->servers[0].uri, out, NULL };
                struct proc p;

                proc_start(&p, argv);
                assert_int_equal(proc_wait(&p, COPY_TIMEOUT_MS), 1);
                err = proc_stderr(&p);
                proc_cleanup(&p);
        }
        assert_true(startswith(err, "ferry-worker: error: Cannot write to '"));
        assert_contains(err, "' at offset ");
        assert_contains(err, ": No space left on device\n");

        done = checkpoint_done(ck, NULL);
        print_message("done when the sink was full: %" PRIu64 " bytes\n", done);
        assert_true(done > 0 && done <= 16 * MIB);
}

static void test_sigterm_stops_the_copy_and_saves_the_checkpoint(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = path_in(f, "term.img"), *ck = path_in(f, "term.ckpt"), *err = NULL;
        uint64_t done;
        struct proc p;

        nbd_server_start(&f->servers[0], f->dir, "slow", "--filter=rate", "pattern", "size=128M", "rate=256M", NULL);
        proc_start(&p, (char *const[]) { FERRY_WORKER_PATH, "copy", "--checkpoint", ck, "--checkpoint-interval",
                                         "100ms", f->servers[0].uri, out, NULL });
        wait_for_checkpoint(&p, ck, 1);
        assert_int_equal(kill(p.pid, SIGTERM), 0);
        assert_int_equal(proc_wait(&p, 10000), 1);
        err = proc_stderr(&p);
        proc_cleanup(&p);
        assert_contains(err, "ferry-worker: error: The copy was interrupted with ");
        assert_contains(err, "; run the same command again to go on from checkpoint '");

        done = checkpoint_done(ck, NULL);
        assert_true(done > 0 && done < 128 * MIB);
}

static void test_verify_reports_the_first_offset_where_the_sink_differs(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = path_in(f, "verify.img"), *ck = path_in(f, "verify.ckpt"), *err = NULL,
                            *want = NULL;
        _cleanup_close_ int fd = -EBADF;
        off_t data, hole;
        char byte, saved;

        nbd_server_start(&f->servers[0], f->dir, "sparse", "sparse-random", "size=64M", "percent=25", "seed=5", NULL);
        err = worker(0, "copy", "--checkpoint", ck, "--verify", f->servers[0].uri, out, NULL);
        assert_contains(err, "verified: DST matches SRC");

        /* Spoil one byte of data and, later on, one byte of a hole. */
        fd = open(out, O_RDWR | O_CLOEXEC);
        assert_true(fd >= 0);
        data = lseek(fd, 8 * MIB, SEEK_DATA) + 100;
        hole = lseek(fd, data, SEEK_HOLE) + 5000;
        assert_true(data > 0 && hole > data && hole < 64 * (off_t) MIB);
        assert_int_equal(pread(fd, &saved, 1, data), 1);
        byte = (char) ~saved;
        assert_int_equal(pwrite(fd, &byte, 1, data), 1);
        byte = 1;
        assert_int_equal(pwrite(fd, &byte, 1, hole), 1);

        /* The checkpoint says all is copied: only verify runs. */
        free(err);
        err = worker(1, "copy", "--checkpoint", ck, "--verify", f->servers[0].uri, out, NULL);
        assert_non_null(want = malloc(256));
        snprintf(want, 256, "ferry-worker: error: Verification failed: '%s' differs from the source at offset %jd\n", out,
                 (intmax_t) data);
        assert_string_equal(err, want);

        assert_int_equal(pwrite(fd, &saved, 1, data), 1);
        free(err);
        err = worker(1, "copy", "--checkpoint", ck, "--verify", f->servers[0].uri, out, NULL);
        snprintf(want, 256, "ferry-worker: error: Verification failed: '%s' differs from the source at offset %jd\n", out,
                 (intmax_t) hole);
        assert_string_equal(err, want);
}

/* ---- sources ----------------------------------------------------------- */

static void test_a_vmdk_is_copied_through_a_spawned_qemu_nbd(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *vmdk = path_in(f, "disk.vmdk"), *flat = path_in(f, "disk-flat.vmdk"),
                            *out = path_in(f, "vmdk.img"), *err = NULL;
        _cleanup_close_ int fd = -EBADF;
        char label[64] = "ferry-test:vmdk", want[65], got[65];

        free(proc_run_stdout(0, (char *const[]) { "/usr/bin/qemu-img", "create", "-q", "-f", "vmdk", "-o",
                                                  "subformat=monolithicFlat", vmdk, "64M", NULL }));
        fd = open(flat, O_WRONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(pwrite(fd, label, sizeof label, 0), sizeof label);
        assert_int_equal(pwrite(fd, label, sizeof label, 40 * (off_t) MIB + 7), sizeof label);
        file_sha256(flat, want);

        err = worker(0, "copy", "--verify", "[", "qemu-nbd", "--read-only", "--format=vmdk", vmdk, "]", out, NULL);
        assert_contains(err, "verified: DST matches SRC");
        file_sha256(out, got);
        assert_string_equal(got, want);
        assert_true(file_allocated(out) < 4 * MIB);
}

static void test_a_server_without_block_status_or_multi_conn_is_read_in_full_on_one_connection(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = path_in(f, "plain.img"), *err = NULL;
        uint64_t allocated;

        nbd_server_start(&f->servers[0], f->dir, "plain", "--filter=noextents", "--filter=multi-conn", "sparse-random",
                         "size=64M", "percent=25", "seed=8", "multi-conn-mode=disable", NULL);
        nbd_server_start(&f->servers[1], f->dir, "full", "sparse-random", "size=64M", "percent=25", "seed=8", NULL);

        err = worker(0, "copy", f->servers[0].uri, out, NULL);
        assert_contains(err, "read 64.0 MiB");
        assert_contains(err, "; 1 connection");
        assert_same_content(f->servers[1].uri, out);
        /* Zeros found in what was read still became holes. */
        allocated = source_allocated(f->servers[1].uri);
        assert_true(file_allocated(out) <= allocated + allocated / 100);
}

static void test_a_source_command_that_serves_nothing_is_reported(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = path_in(f, "x.img"), *err = NULL;

        err = worker(1, "copy", "[", "/bin/true", "--pretend", "]", out, NULL);
        assert_string_equal(err, "ferry-worker: error: Cannot connect to the source '/bin/true --pretend': recv: "
                                 "Connection reset by peer (the command exited, or does not serve NBD on the socket "
                                 "it was given)\n");
        assert_int_equal(access(out, F_OK), -1);
}

/* ---- sinks ------------------------------------------------------------- */

static void test_direct_io_copies_an_odd_sized_image_exactly(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = path_in(f, "direct.img"), *err = NULL;
        char want[65], got[65];

        nbd_server_start(&f->servers[0], f->dir, "odd", "sparse-random", "size=67112961", "percent=40", "seed=6", NULL);
        source_sha256(f->servers[0].uri, want);
        err = worker(0, "copy", "--direct", "--chunk-size", "256K", f->servers[0].uri, out, NULL);
        file_sha256(out, got);
        assert_string_equal(got, want);
        assert_int_equal(file_size(out), 64 * MIB + 4097);
}

static void test_a_block_device_gets_the_disk_and_its_zeros(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *backing = path_in(f, "loop.img"), *loop = NULL;
        _cleanup_free_ char *junk = malloc(MIB);
        _cleanup_close_ int fd = -EBADF;
        char want[65];

        /* A loop device over a file full of junk, bigger than the disk. */
        assert_non_null(junk);
        fd = open(backing, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        for (int i = 0; i < 96; i++) {
                memset(junk, 0x5a + i, MIB);
                assert_int_equal(write(fd, junk, MIB), (ssize_t) MIB);
        }
        loop = proc_run_stdout(0, (char *const[]) { "/usr/sbin/losetup", "--find", "--show", backing, NULL });
        loop[strcspn(loop, "\n")] = '\0';
        f->loop_device = strdup(loop);

        nbd_server_start(&f->servers[0], f->dir, "sparse", "sparse-random", "size=64M", "percent=25", "seed=12", NULL);
        source_content_digest(f->servers[0].uri, want);

        for (int direct = 0; direct <= 1; direct++) {
                char *argv[] = { FERRY_WORKER_PATH, "copy", "--verify", direct ? "--direct" : "--quiet",
                                 f->servers[0].uri, loop, NULL };
                _cleanup_free_ char *out = proc_run_stderr(0, argv);
                _cleanup_close_ int dev = open(loop, O_RDONLY | O_CLOEXEC);
                _cleanup_free_ char *buf = malloc(MIB);
                struct content_digest d = {};
                char got[65];

                print_message("%s", out);
                assert_true(dev >= 0);
                assert_non_null(buf);
                content_digest_init(&d);
                for (uint64_t off = 0; off < 64 * MIB; off += MIB) {
                        assert_int_equal(pread(dev, buf, MIB, (off_t) off), (ssize_t) MIB);
                        content_digest_block(&d, buf, MIB);
                }
                content_digest_end(&d, 64 * MIB, got);
                assert_string_equal(got, want);

                /* Junk again for the second round, also in the device's cache. */
                for (uint64_t off = 0; off < 64 * MIB; off += MIB)
                        assert_int_equal(pwrite(fd, junk, MIB, (off_t) off), (ssize_t) MIB);
                assert_int_equal(fsync(fd), 0);
                free(proc_run_stdout(0, (char *const[]) { "/usr/sbin/blockdev", "--flushbufs", loop, NULL }));
        }
}

/* ---- errors a user can hit --------------------------------------------- */

static void test_a_source_that_is_not_a_uri_is_a_usage_error(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = path_in(f, "x.img");

        assert_usage_error((char *const[]) { FERRY_WORKER_PATH, "copy", "disk.img", out, NULL },
                           "ferry-worker copy: SRC 'disk.img' is not an NBD URI", "[ qemu-nbd --read-only -f FORMAT FILE ]",
                           "Try 'ferry-worker copy --help'", NULL);
}

static void test_a_bad_uri_fails_with_libnbds_reason_and_creates_nothing(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = path_in(f, "x.img"), *err = NULL;

        err = worker(1, "copy", "nbd://[::1", out, NULL);
        assert_string_equal(err, "ferry-worker: error: Cannot connect to the source 'nbd://[::1': unable to parse URI: "
                                 "nbd://[::1: Invalid argument\n");
        free(err);
        err = worker(1, "copy", "http://example.com/disk", out, NULL);
        assert_contains(err, "Cannot connect to the source 'http://example.com/disk': ");
        assert_contains(err, "unknown NBD URI scheme");
        assert_int_equal(access(out, F_OK), -1);
}

static void test_a_missing_server_is_reported_with_the_socket_error(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = path_in(f, "x.img"), *sock = path_in(f, "none.sock"), *uri = NULL, *err = NULL,
                            *want = NULL;

        uri = strjoin("nbd+unix:///?socket=", sock, NULL);
        err = worker(1, "copy", uri, out, NULL);
        want = strjoin("ferry-worker: error: Cannot connect to the source '", uri,
                       "': connect: No such file or directory\n", NULL);
        assert_string_equal(err, want);
        assert_int_equal(access(out, F_OK), -1);
}

static void test_bad_change_files_are_refused_with_their_reason(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = path_in(f, "x.img"), *changes = path_in(f, "changes.json"), *err = NULL,
                            *want = NULL;

        nbd_server_start(&f->servers[0], f->dir, "pattern", "pattern", "size=64M", NULL);

        err = worker(1, "copy", "--changes", changes, f->servers[0].uri, out, NULL);
        want = strjoin("ferry-worker: error: Change list '", changes, "': Cannot read '", changes,
                       "': No such file or directory\n", NULL);
        assert_string_equal(err, want);

        write_text(changes, "[{\"start\": 0, \"length\": 8192}, {\"start\": 4096, \"length\": 4096}]");
        free(err);
        err = worker(1, "copy", "--changes", changes, f->servers[0].uri, out, NULL);
        assert_contains(err, "': Area 1 overlaps area 0 ([0, 8192) and [4096, 8192))\n");

        write_text(changes, "{\"areas\": [{\"start\": 0, \"length\": 4096},");
        free(err);
        err = worker(1, "copy", "--changes", changes, f->servers[0].uri, out, NULL);
        assert_contains(err, "': Invalid JSON at line 1, column ");

        write_text(changes, "[{\"start\": 67108860, \"length\": 8}]");
        free(err);
        err = worker(1, "copy", "--changes", changes, f->servers[0].uri, out, NULL);
        assert_string_equal(err, "ferry-worker: error: Area [67108860, 67108868) of the change list ends beyond the "
                                 "end of the 67108864-byte source\n");
        assert_int_equal(access(out, F_OK), -1);
}

static void test_a_delta_needs_the_earlier_copy(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = path_in(f, "x.img"), *changes = path_in(f, "changes.json"), *err = NULL,
                            *want = NULL;

        nbd_server_start(&f->servers[0], f->dir, "pattern", "pattern", "size=64M", NULL);
        write_text(changes, "[{\"start\": 0, \"length\": 4096}]");
        err = worker(1, "copy", "--changes", changes, f->servers[0].uri, out, NULL);
        want = strjoin("ferry-worker: error: '", out,
                       "' does not exist: a delta or a resumed copy needs the earlier copy of the same disk\n", NULL);
        assert_string_equal(err, want);
        assert_int_equal(access(out, F_OK), -1);
}

static void test_a_checkpoint_for_another_source_is_refused(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = path_in(f, "x.img"), *ck = path_in(f, "x.ckpt"), *err = NULL, *want = NULL;

        nbd_server_start(&f->servers[0], f->dir, "small", "pattern", "size=1M", NULL);
        nbd_server_start(&f->servers[1], f->dir, "big", "pattern", "size=64M", NULL);
        free(worker(0, "copy", "--checkpoint", ck, f->servers[0].uri, out, NULL));
        err = worker(1, "copy", "--checkpoint", ck, f->servers[1].uri, out, NULL);
        want = strjoin("ferry-worker: error: Checkpoint '", ck,
                       "' is for a 1048576-byte source, not this 67108864-byte one\n", NULL);
        assert_string_equal(err, want);
        assert_int_equal(file_size(out), MIB);  /* untouched */
}

static void test_a_checkpoint_without_its_sink_says_how_to_start_over(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = path_in(f, "x.img"), *ck = path_in(f, "x.ckpt"), *err = NULL, *want = NULL;

        nbd_server_start(&f->servers[0], f->dir, "small", "pattern", "size=1M", NULL);
        free(worker(0, "copy", "--checkpoint", ck, f->servers[0].uri, out, NULL));
        assert_int_equal(unlink(out), 0);
        err = worker(1, "copy", "--checkpoint", ck, f->servers[0].uri, out, NULL);
        want = strjoin("ferry-worker: error: Cannot resume from checkpoint '", ck, "' (remove it to start over): '", out,
                       "' does not exist: a delta or a resumed copy needs the earlier copy of the same disk\n", NULL);
        assert_string_equal(err, want);
        assert_int_equal(access(out, F_OK), -1);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(test_a_2_gib_pattern_image_is_copied_byte_for_byte_over_several_connections),
                T(test_a_16_gib_sparse_image_is_copied_exactly_and_stays_sparse),
                T(test_an_odd_sized_image_is_copied_exactly_to_a_file_and_to_a_stream),
                T(test_a_delta_applies_scattered_changes_and_reads_only_them),
                T(test_reads_failing_with_eio_are_retried_and_the_copy_is_right),
                T(test_a_killed_copy_resumes_from_its_checkpoint_without_rereading),
                T(test_a_full_sink_fails_clearly_and_keeps_the_checkpoint),
                T(test_sigterm_stops_the_copy_and_saves_the_checkpoint),
                T(test_verify_reports_the_first_offset_where_the_sink_differs),
                T(test_a_vmdk_is_copied_through_a_spawned_qemu_nbd),
                T(test_a_server_without_block_status_or_multi_conn_is_read_in_full_on_one_connection),
                T(test_a_source_command_that_serves_nothing_is_reported),
                T(test_direct_io_copies_an_odd_sized_image_exactly),
                T(test_a_block_device_gets_the_disk_and_its_zeros),
                T(test_a_source_that_is_not_a_uri_is_a_usage_error),
                T(test_a_bad_uri_fails_with_libnbds_reason_and_creates_nothing),
                T(test_a_missing_server_is_reported_with_the_socket_error),
                T(test_bad_change_files_are_refused_with_their_reason),
                T(test_a_delta_needs_the_earlier_copy),
                T(test_a_checkpoint_for_another_source_is_refused),
                T(test_a_checkpoint_without_its_sink_says_how_to_start_over),
        };
#undef T

        return cmocka_run_group_tests(tests, NULL, NULL);
}
