/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The copy engine (see copy.h).  One thread per NBD connection; each runs
 * its own loop: take the next window of work (at most one segment), ask
 * the server which of it reads as zeros, cut it into pieces, keep up to
 * `requests` reads in flight with nbd_aio_pread(), and write each piece
 * when its read completes.  Completion callbacks only record the result
 * (they run with libnbd's lock held); the loop does the rest.  The
 * calling thread reports progress and writes checkpoints.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "common/log.h"
#include "common/strbuf.h"
#include "disk/changes.h"
#include "disk/checkpoint.h"
#include "disk/copy.h"
#include "disk/zero.h"

/* Work is handed to connections in windows of this size (or one chunk if larger). */
#define SEGMENT_SIZE (UINT64_C(64) << 20)
/* Data read is checked for zeros in blocks of this size. */
#define ZERO_BLOCK ((size_t) 64 << 10)
/* Extra connections whose handshake takes longer are given up. */
#define EXTRA_CONNECTION_TIMEOUT_USEC (UINT64_C(5) * 1000000)
/* Loops wake up at least this often to notice a stop. */
#define TICK_USEC UINT64_C(100000)
/* Memory alignment of read buffers. */
#define BUFFER_ALIGN ((size_t) 4096)
/* The rate is measured over this window. */
#define RATE_WINDOW_USEC (UINT64_C(5) * 1000000)

enum slot_state {
        SLOT_FREE,
        SLOT_READING,           /* nbd_aio_pread() in flight */
        SLOT_READ_DONE,         /* read completed, error says how */
        SLOT_RETRY_WAIT,        /* read failed with EIO, retried at retry_at */
        SLOT_ZERO,              /* a zero piece, nothing to read */
};

struct conn;

struct slot {
        struct conn *conn;
        enum slot_state state;
        uint64_t seq;           /* order of issue, for sinks that take the disk in order */
        struct disk_piece piece;
        unsigned attempts;
        uint64_t retry_at;
        int error;              /* errno of the read; 0 on success */
        char detail[160];       /* libnbd's message when the read could not even start */
        char *mem;              /* chunk + BUFFER_ALIGN bytes */
        char *buf;              /* where the piece lands: aligned like its offset */
};

struct engine;

struct conn {
        struct engine *e;
        unsigned index;
        struct nbd_handle *nbd;
        pthread_t thread;
        bool thread_started;
        struct slot *slots;
        uint64_t next_seq, retire_seq;
        struct disk_piece *pieces;
        size_t n_pieces, next_piece, pieces_alloc;
        struct disk_ranges window, zero;
        bool no_more_work;
};

struct engine {
        const struct disk_copy_options *o;
        struct sink *sink;
        char *source_name;
        uint64_t size;
        size_t chunk;
        unsigned requests;
        uint64_t segment;
        size_t buf_align;
        bool extents, multi_conn, ordered;
        unsigned read_attempts;
        uint64_t retry_delay;
        char changes_sha256[DISK_CHANGES_DIGEST_SIZE];

        struct disk_ranges work;        /* the whole disk, or the changes */
        struct disk_ranges todo;        /* work minus what a checkpoint had done */
        struct conn *conns;
        unsigned n_conns;

        pthread_mutex_t lock;
        pthread_cond_t cond;
        /* Under lock: */
        size_t cursor;                  /* next range of todo */
        uint64_t cursor_pos;            /* next byte of it to hand out */
        uint64_t verify_pos;            /* next byte verify hands out */
        uint64_t mismatch;              /* first difference verify found, UINT64_MAX if none */
        struct disk_ranges done;
        unsigned running;
        bool failed;
        struct ferry_error error;

        atomic_bool stop;
        _Atomic uint64_t bytes_done, bytes_read, bytes_written, bytes_zeroed, retries;
        enum disk_phase phase;
        uint64_t phase_start;
        struct disk_rate rate;
};

static uint64_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static void sleep_usec(uint64_t usec)
{
        struct timespec ts = { .tv_sec = (time_t) (usec / 1000000), .tv_nsec = (long) (usec % 1000000) * 1000 };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* Record the first fatal error and make every loop stop. */
static int engine_fail(struct engine *e, const struct ferry_error *err)
{
        pthread_mutex_lock(&e->lock);
        if (!e->failed) {
                e->failed = true;
                e->error = *err;
        }
        pthread_mutex_unlock(&e->lock);
        atomic_store(&e->stop, true);
        return err->code;
}

static uint64_t retry_delay(const struct engine *e, unsigned attempts)
{
        uint64_t d = e->retry_delay;

        for (unsigned i = 1; i < attempts && d < DISK_COPY_MAX_RETRY_DELAY_USEC; i++)
                d *= 2;
        return d < DISK_COPY_MAX_RETRY_DELAY_USEC ? d : DISK_COPY_MAX_RETRY_DELAY_USEC;
}

/* ---- handing out work -------------------------------------------------- */

/* The todo ranges of the next window into *ret: 1, or 0 when no work is left. */
static int engine_next_window(struct engine *e, struct disk_ranges *ret)
{
        uint64_t wend = 0;
        bool first = true;
        int r = 0;

        disk_ranges_clear(ret);
        pthread_mutex_lock(&e->lock);
        while (e->cursor < e->todo.n) {
                const struct disk_range *t = &e->todo.v[e->cursor];
                uint64_t s = t->start > e->cursor_pos ? t->start : e->cursor_pos, end;

                if (first) {
                        wend = s + disk_piece_length(s, UINT64_MAX, e->segment);
                        first = false;
                }
                if (s >= wend)
                        break;
                end = disk_range_end(t) < wend ? disk_range_end(t) : wend;
                r = disk_ranges_add(ret, s, end - s);
                if (r < 0)
                        break;
                e->cursor_pos = end;
                if (end < disk_range_end(t))
                        break;
                e->cursor++;
        }
        pthread_mutex_unlock(&e->lock);
        if (r < 0)
                return r;
        return ret->n > 0;
}

static int engine_mark_done(struct engine *e, uint64_t offset, uint64_t len, struct ferry_error *err)
{
        int r;

        pthread_mutex_lock(&e->lock);
        r = disk_ranges_add(&e->done, offset, len);
        pthread_mutex_unlock(&e->lock);
        if (r < 0)
                return ferry_error_set(err, r, "Out of memory");
        atomic_fetch_add(&e->bytes_done, len);
        return 0;
}

/* ---- writing ----------------------------------------------------------- */

static int engine_zero(struct engine *e, uint64_t offset, uint64_t len, struct ferry_error *err)
{
        int r = 0;

        if (!e->sink->zeroed)
                r = e->sink->ops->zero(e->sink, offset, len, err);
        if (r >= 0)
                atomic_fetch_add(&e->bytes_zeroed, len);
        return r;
}

/* Write what a read brought: zero blocks as zeros, the rest as data. */
static int engine_write(struct engine *e, const char *buf, uint64_t offset, size_t len, struct ferry_error *err)
{
        size_t pos = 0;
        int r;

        while (pos < len) {
                bool zero;
                size_t n = disk_zero_run(buf + pos, len - pos, offset + pos, ZERO_BLOCK, &zero);

                if (zero)
                        r = engine_zero(e, offset + pos, n, err);
                else {
                        r = e->sink->ops->write(e->sink, buf + pos, n, offset + pos, err);
                        if (r >= 0)
                                atomic_fetch_add(&e->bytes_written, n);
                }
                if (r < 0)
                        return r;
                pos += n;
        }
        return 0;
}

/* ---- one connection's copy loop ---------------------------------------- */

static int read_done(void *user_data, int *error)
{
        struct slot *s = user_data;

        /* libnbd's lock is held: record, nothing more. */
        s->error = *error;
        s->state = SLOT_READ_DONE;
        return 1;
}

static void slot_read(struct conn *c, struct slot *s)
{
        s->attempts++;
        s->state = SLOT_READING;
        s->error = 0;
        s->detail[0] = '\0';
        s->buf = s->mem + s->piece.start % c->e->buf_align;
        if (nbd_aio_pread(c->nbd, s->buf, s->piece.length, s->piece.start,
                          (nbd_completion_callback) { .callback = read_done, .user_data = s }, 0) < 0) {
                s->error = disk_source_errno();
                snprintf(s->detail, sizeof s->detail, "%s", disk_source_reason(nbd_get_error()));
                s->state = SLOT_READ_DONE;
        }
}

static int slot_failed(struct conn *c, struct slot *s, struct ferry_error *err)
{
        struct engine *e = c->e;
        char attempts[48] = "";

        if (s->error == EIO && s->attempts < e->read_attempts) {
                s->state = SLOT_RETRY_WAIT;
                s->retry_at = now_usec() + retry_delay(e, s->attempts);
                atomic_fetch_add(&e->retries, 1);
                log_debug("Read at offset %" PRIu64 " failed with EIO (attempt %u), retrying", s->piece.start,
                          s->attempts);
                return 0;
        }
        if (s->attempts > 1)
                snprintf(attempts, sizeof attempts, " after %u attempts", s->attempts);
        errno = s->error;
        return ferry_error_set(err, -s->error, "Cannot read the source at offset %" PRIu64 " (%" PRIu64 " bytes)%s: %s",
                               s->piece.start, s->piece.length, attempts, s->detail[0] ? s->detail : strerror(s->error));
}

static int slot_retire(struct conn *c, struct slot *s, struct ferry_error *err)
{
        struct engine *e = c->e;
        int r;

        if (s->state == SLOT_ZERO)
                r = engine_zero(e, s->piece.start, s->piece.length, err);
        else {
                atomic_fetch_add(&e->bytes_read, s->piece.length);
                r = engine_write(e, s->buf, s->piece.start, (size_t) s->piece.length, err);
        }
        if (r >= 0)
                r = engine_mark_done(e, s->piece.start, s->piece.length, err);
        if (r < 0)
                return r;
        s->state = SLOT_FREE;
        return 0;
}

static bool slot_ready(const struct slot *s)
{
        return s->state == SLOT_ZERO || (s->state == SLOT_READ_DONE && s->error == 0);
}

static struct slot *conn_slot_by_seq(struct conn *c, uint64_t seq)
{
        for (unsigned i = 0; i < c->e->requests; i++)
                if (c->slots[i].state != SLOT_FREE && c->slots[i].seq == seq)
                        return &c->slots[i];
        return NULL;
}

/* Handle failed reads, restart due retries, write what is ready. */
static int conn_retire(struct conn *c, struct ferry_error *err)
{
        struct engine *e = c->e;
        uint64_t now = now_usec();
        int r;

        for (unsigned i = 0; i < e->requests; i++) {
                struct slot *s = &c->slots[i];

                if (s->state == SLOT_READ_DONE && s->error != 0) {
                        r = slot_failed(c, s, err);
                        if (r < 0)
                                return r;
                }
                if (s->state == SLOT_RETRY_WAIT && now >= s->retry_at)
                        slot_read(c, s);
        }

        if (e->ordered) {
                for (;;) {
                        struct slot *s = conn_slot_by_seq(c, c->retire_seq);

                        if (!s || !slot_ready(s))
                                return 0;
                        r = slot_retire(c, s, err);
                        if (r < 0)
                                return r;
                        c->retire_seq++;
                }
        }

        for (unsigned i = 0; i < e->requests; i++)
                if (slot_ready(&c->slots[i])) {
                        r = slot_retire(c, &c->slots[i], err);
                        if (r < 0)
                                return r;
                }
        return 0;
}

/* Cut the next window into pieces; sets no_more_work when there is none. */
static int conn_load_window(struct conn *c, struct ferry_error *err)
{
        struct engine *e = c->e;
        int r;

        r = engine_next_window(e, &c->window);
        if (r < 0)
                return ferry_error_set(err, r, "Out of memory");
        if (r == 0) {
                c->no_more_work = true;
                return 0;
        }

        disk_ranges_clear(&c->zero);
        if (e->extents) {
                uint64_t start = c->window.v[0].start, end = disk_range_end(&c->window.v[c->window.n - 1]);
                struct ferry_error lerr = {};

                /* Without an answer, read it all: slower, never wrong. */
                r = disk_source_zero_ranges(c->nbd, start, end - start, &c->zero, &lerr);
                if (r < 0) {
                        log_debug("%s; reading [%" PRIu64 ", %" PRIu64 ") in full", ferry_error_message(&lerr), start,
                                  end);
                        disk_ranges_clear(&c->zero);
                }
        }

        c->n_pieces = c->next_piece = 0;
        r = disk_pieces_append(&c->window, &c->zero, e->chunk, &c->pieces, &c->n_pieces, &c->pieces_alloc);
        if (r < 0)
                return ferry_error_set(err, r, "Out of memory");
        return 0;
}

static struct slot *conn_free_slot(struct conn *c)
{
        for (unsigned i = 0; i < c->e->requests; i++)
                if (c->slots[i].state == SLOT_FREE)
                        return &c->slots[i];
        return NULL;
}

/* Start reads (and queue zero pieces) until the slots are full or the work is done. */
static int conn_issue(struct conn *c, struct ferry_error *err)
{
        for (;;) {
                struct slot *s = conn_free_slot(c);
                int r;

                if (!s || atomic_load(&c->e->stop))
                        return 0;
                if (c->next_piece == c->n_pieces) {
                        if (c->no_more_work)
                                return 0;
                        r = conn_load_window(c, err);
                        if (r < 0)
                                return r;
                        continue;
                }
                s->piece = c->pieces[c->next_piece++];
                s->seq = c->next_seq++;
                s->attempts = 0;
                if (s->piece.zero)
                        s->state = SLOT_ZERO;
                else
                        slot_read(c, s);
        }
}

static bool conn_idle(const struct conn *c)
{
        for (unsigned i = 0; i < c->e->requests; i++)
                if (c->slots[i].state != SLOT_FREE)
                        return false;
        return true;
}

/* Whether conn_retire() has something to do right now. */
static bool conn_has_work_ready(struct conn *c)
{
        uint64_t now = now_usec();

        for (unsigned i = 0; i < c->e->requests; i++) {
                const struct slot *s = &c->slots[i];

                if ((s->state == SLOT_READ_DONE && s->error != 0) ||
                    (s->state == SLOT_RETRY_WAIT && now >= s->retry_at))
                        return true;
        }
        if (c->e->ordered) {
                const struct slot *head = conn_slot_by_seq(c, c->retire_seq);

                return head && slot_ready(head);
        }
        for (unsigned i = 0; i < c->e->requests; i++)
                if (slot_ready(&c->slots[i]))
                        return true;
        return false;
}

/* Wait for a read to complete or a retry to fall due (a tick at most). */
static int conn_wait(struct conn *c, struct ferry_error *err)
{
        uint64_t now = now_usec(), wait = TICK_USEC;

        for (unsigned i = 0; i < c->e->requests; i++) {
                const struct slot *s = &c->slots[i];

                if (s->state == SLOT_RETRY_WAIT)
                        wait = s->retry_at <= now ? 0 : (s->retry_at - now < wait ? s->retry_at - now : wait);
        }
        if (nbd_aio_in_flight(c->nbd) > 0) {
                if (nbd_poll(c->nbd, (int) ((wait + 999) / 1000)) < 0)
                        return ferry_error_set(err, -disk_source_errno(), "Lost the connection to the source %s: %s",
                                               c->e->source_name, disk_source_reason(nbd_get_error()));
        } else if (wait > 0)
                sleep_usec(wait);
        return 0;
}

static int conn_copy(struct conn *c, struct ferry_error *err)
{
        int r;

        for (;;) {
                if (atomic_load(&c->e->stop))
                        return 0;
                r = conn_retire(c, err);
                if (r < 0)
                        return r;
                r = conn_issue(c, err);
                if (r < 0)
                        return r;
                if (conn_idle(c) && c->no_more_work && c->next_piece == c->n_pieces)
                        return 0;
                if (conn_has_work_ready(c))
                        continue;
                r = conn_wait(c, err);
                if (r < 0)
                        return r;
        }
}

/* ---- verify: one connection's loop ------------------------------------- */

static int engine_next_verify_window(struct engine *e, uint64_t *ret_start, uint64_t *ret_end)
{
        int found = 0;

        pthread_mutex_lock(&e->lock);
        if (e->verify_pos < e->size && e->verify_pos < e->mismatch) {
                *ret_start = e->verify_pos;
                *ret_end = e->verify_pos + disk_piece_length(e->verify_pos, e->size, e->segment);
                e->verify_pos = *ret_end;
                found = 1;
        }
        pthread_mutex_unlock(&e->lock);
        return found;
}

static void engine_found_mismatch(struct engine *e, uint64_t offset)
{
        pthread_mutex_lock(&e->lock);
        if (offset < e->mismatch)
                e->mismatch = offset;
        pthread_mutex_unlock(&e->lock);
}

static int source_read_retrying(struct conn *c, void *buf, size_t len, uint64_t offset, struct ferry_error *err)
{
        struct engine *e = c->e;

        for (unsigned attempt = 1;; attempt++) {
                int error;

                if (nbd_pread(c->nbd, buf, len, offset, 0) == 0)
                        return 0;
                error = disk_source_errno();
                if (error != EIO || attempt >= e->read_attempts || atomic_load(&e->stop))
                        return ferry_error_set(err, -error, "Cannot read the source at offset %" PRIu64 " (%zu bytes): %s",
                                               offset, len, disk_source_reason(nbd_get_error()));
                atomic_fetch_add(&e->retries, 1);
                sleep_usec(retry_delay(e, attempt));
        }
}

static bool sha256_equal(const void *a, const void *b, size_t len)
{
        unsigned char da[EVP_MAX_MD_SIZE], db[EVP_MAX_MD_SIZE];
        unsigned int la = 0, lb = 0;

        if (!EVP_Digest(a, len, da, &la, EVP_sha256(), NULL) || !EVP_Digest(b, len, db, &lb, EVP_sha256(), NULL))
                return memcmp(a, b, len) == 0;  /* no digest (out of memory): compare directly */
        return la == lb && memcmp(da, db, la) == 0;
}

/* Offset of the first byte where a and b differ (len if none). */
static size_t first_difference(const char *a, const char *b, size_t len)
{
        size_t i = 0;

        while (i < len && a[i] == b[i])
                i++;
        return i;
}

/*
 * Compare one chunk.  Where one side is known to read as zeros (a hole in
 * the sink, a zero extent of the source) it is not read, and comparing
 * its SHA-256 with the other side's comes down to checking that side for
 * zeros, which is what is done.
 */
static int verify_chunk(struct conn *c, char *a, char *b, uint64_t offset, size_t len, bool source_zero,
                        struct ferry_error *err)
{
        struct engine *e = c->e;
        struct sink *sink = e->sink;
        bool sink_zero = sink->ops->reads_as_zero && sink->ops->reads_as_zero(sink, offset, len) == 1;
        bool equal;
        int r;

        if (source_zero && sink_zero)
                return 0;
        if (!source_zero) {
                r = source_read_retrying(c, a, len, offset, err);
                if (r < 0)
                        return r;
        }
        if (!sink_zero) {
                r = sink->ops->read(sink, b, len, offset, err);
                if (r < 0)
                        return r;
        }

        if (source_zero)
                equal = disk_is_zero(b, len);
        else if (sink_zero)
                equal = disk_is_zero(a, len);
        else
                equal = sha256_equal(a, b, len);
        if (equal)
                return 0;

        if (source_zero)
                memset(a, 0, len);
        if (sink_zero)
                memset(b, 0, len);
        engine_found_mismatch(e, offset + first_difference(a, b, len));
        return 1;
}

static int conn_verify(struct conn *c, struct ferry_error *err)
{
        struct engine *e = c->e;
        _cleanup_free_ char *a = malloc(e->chunk), *b = malloc(e->chunk);
        uint64_t start, end;

        if (!a || !b)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        while (!atomic_load(&e->stop) && engine_next_verify_window(e, &start, &end)) {
                disk_ranges_clear(&c->zero);
                if (e->extents) {
                        struct ferry_error lerr = {};

                        if (disk_source_zero_ranges(c->nbd, start, end - start, &c->zero, &lerr) < 0)
                                disk_ranges_clear(&c->zero);
                }
                for (uint64_t off = start; off < end && !atomic_load(&e->stop);) {
                        size_t len = (size_t) disk_piece_length(off, end, e->chunk);
                        int r = verify_chunk(c, a, b, off, len, disk_ranges_covers(&c->zero, off, len), err);

                        if (r < 0)
                                return r;
                        if (r > 0)
                                break;  /* later chunks cannot hold the first difference */
                        atomic_fetch_add(&e->bytes_done, len);
                        off += len;
                }
        }
        return 0;
}

/* ---- threads ----------------------------------------------------------- */

static void *conn_main(void *userdata)
{
        struct conn *c = userdata;
        struct engine *e = c->e;
        struct ferry_error err = {};
        int r;

        r = e->phase == DISK_PHASE_COPY ? conn_copy(c, &err) : conn_verify(c, &err);
        if (r < 0)
                engine_fail(e, &err);

        pthread_mutex_lock(&e->lock);
        e->running--;
        pthread_cond_broadcast(&e->cond);
        pthread_mutex_unlock(&e->lock);
        return NULL;
}

static void engine_report(struct engine *e, uint64_t total)
{
        struct disk_progress p = {
                .phase = e->phase,
                .bytes_done = atomic_load(&e->bytes_done),
                .bytes_total = total,
                .bytes_read = atomic_load(&e->bytes_read),
        };
        uint64_t now = now_usec();

        disk_rate_add(&e->rate, now, p.bytes_done);
        p.rate = disk_rate_get(&e->rate);
        p.eta = disk_eta(total > p.bytes_done ? total - p.bytes_done : 0, p.rate);
        p.elapsed = (double) (now - e->phase_start) / 1e6;
        if (e->o->progress)
                e->o->progress(&p, e->o->userdata);
}

static int engine_save_checkpoint(struct engine *e, struct ferry_error *err)
{
        _cleanup_disk_checkpoint_ struct disk_checkpoint cp = DISK_CHECKPOINT_INIT;
        int r;

        cp.source_size = e->size;
        memcpy(cp.changes_sha256, e->changes_sha256, sizeof cp.changes_sha256);
        if (e->sink->id) {
                cp.sink = strdup(e->sink->id);
                if (!cp.sink)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        pthread_mutex_lock(&e->lock);
        r = disk_ranges_copy(&cp.done, &e->done);
        pthread_mutex_unlock(&e->lock);
        if (r < 0)
                return ferry_error_set(err, r, "Out of memory");

        /* What the checkpoint lists must survive a crash first. */
        if (e->sink->ops->flush) {
                r = e->sink->ops->flush(e->sink, err);
                if (r < 0)
                        return r;
        }
        return disk_checkpoint_save(e->o->checkpoint_path, &cp, err);
}

/*
 * Run one phase on every connection and wait for it, reporting progress
 * and (while copying) writing checkpoints.  Returns 0, -ECANCELED, or the
 * first error (in e->error).
 */
static int engine_run_phase(struct engine *e, enum disk_phase phase, uint64_t total, uint64_t done)
{
        const struct disk_copy_options *o = e->o;
        uint64_t progress_every = o->progress_interval_usec ?: DISK_COPY_DEFAULT_PROGRESS_USEC;
        uint64_t checkpoint_every = o->checkpoint_interval_usec ?: DISK_COPY_DEFAULT_CHECKPOINT_USEC;
        uint64_t next_progress, next_checkpoint;
        bool canceled = false;
        sigset_t all, old;

        e->phase = phase;
        e->phase_start = now_usec();
        atomic_store(&e->bytes_done, done);
        atomic_store(&e->bytes_read, 0);
        disk_rate_init(&e->rate, RATE_WINDOW_USEC);
        engine_report(e, total);
        next_progress = e->phase_start + progress_every;
        next_checkpoint = e->phase_start + checkpoint_every;

        /* Signals go to the calling thread, never to a connection's. */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        for (unsigned i = 0; i < e->n_conns; i++) {
                pthread_mutex_lock(&e->lock);
                e->running++;
                pthread_mutex_unlock(&e->lock);
                if (pthread_create(&e->conns[i].thread, NULL, conn_main, &e->conns[i]) != 0) {
                        struct ferry_error err = {};

                        pthread_mutex_lock(&e->lock);
                        e->running--;
                        pthread_mutex_unlock(&e->lock);
                        ferry_error_set(&err, -EAGAIN, "Cannot start a copy thread");
                        engine_fail(e, &err);
                        break;
                }
                e->conns[i].thread_started = true;
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);

        pthread_mutex_lock(&e->lock);
        while (e->running > 0) {
                uint64_t now = now_usec(), until = now + TICK_USEC;
                struct timespec ts;

                if (next_progress < until)
                        until = next_progress;
                clock_gettime(CLOCK_REALTIME, &ts);
                until -= now;
                ts.tv_sec += (time_t) (until / 1000000);
                ts.tv_nsec += (long) (until % 1000000) * 1000;
                if (ts.tv_nsec >= 1000000000) {
                        ts.tv_sec++;
                        ts.tv_nsec -= 1000000000;
                }
                pthread_cond_timedwait(&e->cond, &e->lock, &ts);
                if (e->running == 0)
                        break;
                pthread_mutex_unlock(&e->lock);

                if (o->cancel && *o->cancel && !canceled) {
                        canceled = true;
                        atomic_store(&e->stop, true);
                }
                now = now_usec();
                if (now >= next_progress) {
                        engine_report(e, total);
                        next_progress = now + progress_every;
                }
                if (phase == DISK_PHASE_COPY && o->checkpoint_path && now >= next_checkpoint &&
                    !atomic_load(&e->stop)) {
                        struct ferry_error err = {};

                        if (engine_save_checkpoint(e, &err) < 0)
                                engine_fail(e, &err);
                        next_checkpoint = now_usec() + checkpoint_every;
                }
                pthread_mutex_lock(&e->lock);
        }
        pthread_mutex_unlock(&e->lock);

        for (unsigned i = 0; i < e->n_conns; i++)
                if (e->conns[i].thread_started) {
                        pthread_join(e->conns[i].thread, NULL);
                        e->conns[i].thread_started = false;
                }

        if (o->cancel && *o->cancel)
                canceled = true;
        if (e->failed)
                return e->error.code;
        if (canceled)
                return -ECANCELED;
        engine_report(e, total);
        return 0;
}

/* ---- setup ------------------------------------------------------------- */

static int options_check(const struct disk_copy_options *o, size_t chunk, unsigned connections, unsigned requests,
                         struct ferry_error *err)
{
        if (!o->sink)
                return ferry_error_set(err, -EINVAL, "No sink to copy to");
        if (chunk < DISK_COPY_MIN_CHUNK_SIZE || chunk > DISK_COPY_MAX_CHUNK_SIZE || chunk % 4096 != 0)
                return ferry_error_set(err, -EINVAL,
                                       "The chunk size must be a multiple of 4096 between %zu and %zu bytes, not %zu",
                                       DISK_COPY_MIN_CHUNK_SIZE, DISK_COPY_MAX_CHUNK_SIZE, chunk);
        if (connections < 1 || connections > DISK_COPY_MAX_CONNECTIONS)
                return ferry_error_set(err, -EINVAL, "The number of connections must be between 1 and %u, not %u",
                                       DISK_COPY_MAX_CONNECTIONS, connections);
        if (requests < 1 || requests > DISK_COPY_MAX_REQUESTS)
                return ferry_error_set(err, -EINVAL, "The number of requests must be between 1 and %u, not %u",
                                       DISK_COPY_MAX_REQUESTS, requests);
        if ((uint64_t) connections * requests * chunk > DISK_COPY_BUFFER_MAX)
                return ferry_error_set(err, -EINVAL,
                                       "%u connections x %u requests x %zu bytes would need %" PRIu64
                                       " MiB of buffers, more than the %" PRIu64 " MiB allowed",
                                       connections, requests, chunk,
                                       (uint64_t) connections * requests * chunk >> 20, DISK_COPY_BUFFER_MAX >> 20);
        if (!o->sink->ops->random_writes) {
                if (o->changes)
                        return ferry_error_set(err, -EINVAL,
                                               "The %s '%s' takes the disk in order only: it cannot take a delta",
                                               o->sink->ops->type, o->sink->name);
                if (o->checkpoint_path)
                        return ferry_error_set(err, -EINVAL,
                                               "The %s '%s' takes the disk in order only: it cannot resume from a checkpoint",
                                               o->sink->ops->type, o->sink->name);
        }
        if (o->verify && !o->sink->ops->read)
                return ferry_error_set(err, -EINVAL, "Cannot verify the %s '%s': it cannot be read back",
                                       o->sink->ops->type, o->sink->name);
        return 0;
}

/* Fill e->work and e->todo (and e->done from the checkpoint). */
static int engine_plan(struct engine *e, struct ferry_error *err)
{
        const struct disk_copy_options *o = e->o;
        _cleanup_disk_checkpoint_ struct disk_checkpoint cp = DISK_CHECKPOINT_INIT;
        int r;

        if (o->changes) {
                r = disk_changes_check_size(o->changes, e->size, err);
                if (r < 0)
                        return r;
                r = disk_changes_digest(o->changes, e->changes_sha256);
                if (r < 0)
                        return ferry_error_set(err, r, "Out of memory");
                r = disk_ranges_copy(&e->work, o->changes);
        } else
                r = disk_ranges_add(&e->work, 0, e->size);
        if (r < 0)
                return ferry_error_set(err, r, "Out of memory");

        if (o->checkpoint_path) {
                r = disk_checkpoint_load(o->checkpoint_path, &cp, err);
                if (r == -ENOENT)
                        ferry_error_clear(err);
                else if (r < 0)
                        return r;
                else {
                        r = disk_checkpoint_check(&cp, o->checkpoint_path, e->size, e->changes_sha256, e->sink->id,
                                                  err);
                        if (r < 0)
                                return r;
                        r = disk_ranges_intersect(&cp.done, &e->work, &e->done);
                        if (r < 0)
                                return ferry_error_set(err, r, "Out of memory");
                }
        }

        r = disk_ranges_subtract(&e->work, &e->done, &e->todo);
        if (r < 0)
                return ferry_error_set(err, r, "Out of memory");
        return 0;
}

static int conn_init(struct engine *e, struct conn *c, unsigned index, struct nbd_handle *nbd,
                     struct ferry_error *err)
{
        *c = (struct conn) { .e = e, .index = index, .nbd = nbd };
        c->slots = calloc(e->requests, sizeof(*c->slots));
        if (!c->slots)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        for (unsigned i = 0; i < e->requests; i++) {
                void *mem = NULL;

                if (posix_memalign(&mem, BUFFER_ALIGN, e->chunk + BUFFER_ALIGN) != 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory for read buffers");
                c->slots[i] = (struct slot) { .conn = c, .mem = mem };
        }
        return 0;
}

static void conn_done(struct conn *c)
{
        /* Close first: no read may land in a buffer after it is freed. */
        if (c->nbd)
                nbd_close(c->nbd);
        for (unsigned i = 0; c->slots && i < c->e->requests; i++)
                free(c->slots[i].mem);
        free(c->slots);
        free(c->pieces);
        disk_ranges_done(&c->window);
        disk_ranges_done(&c->zero);
}

static void engine_done(struct engine *e)
{
        for (unsigned i = 0; i < e->n_conns; i++)
                conn_done(&e->conns[i]);
        free(e->conns);
        free(e->source_name);
        disk_ranges_done(&e->work);
        disk_ranges_done(&e->todo);
        disk_ranges_done(&e->done);
        pthread_mutex_destroy(&e->lock);
        pthread_cond_destroy(&e->cond);
}

/* Open the connections beyond the first; fewer if the server will not have them. */
static int engine_connect_more(struct engine *e, unsigned wanted, struct ferry_error *err)
{
        uint64_t windows = (disk_ranges_total(&e->todo) + e->segment - 1) / e->segment;

        if (!e->multi_conn || e->ordered)
                wanted = 1;
        if (windows < wanted)
                wanted = windows > 0 ? (unsigned) windows : 1;

        for (unsigned i = 1; i < wanted; i++) {
                struct ferry_error lerr = {};
                struct nbd_handle *nbd = NULL;
                int r;

                r = disk_source_connect(&e->o->source, EXTRA_CONNECTION_TIMEOUT_USEC, e->o->cancel, &nbd, &lerr);
                if (r < 0) {
                        log_debug("%s; going on with %u connections", ferry_error_message(&lerr), e->n_conns);
                        break;
                }
                r = conn_init(e, &e->conns[e->n_conns++], i, nbd, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int disk_copy(const struct disk_copy_options *o, struct disk_copy_result *ret, struct ferry_error *err)
{
        struct engine e = {
                .o = o,
                .sink = o->sink,
                .lock = PTHREAD_MUTEX_INITIALIZER,
                .cond = PTHREAD_COND_INITIALIZER,
                .mismatch = UINT64_MAX,
                .work = DISK_RANGES_INIT,
                .todo = DISK_RANGES_INIT,
                .done = DISK_RANGES_INIT,
        };
        unsigned connections = o->connections ?: DISK_COPY_DEFAULT_CONNECTIONS;
        struct nbd_handle *nbd = NULL;
        uint64_t t0 = now_usec(), skipped;
        struct disk_copy_result res = {};
        int64_t size, max_request;
        bool keep;
        int r;

        e.chunk = o->chunk_size ?: DISK_COPY_DEFAULT_CHUNK_SIZE;
        e.requests = o->requests ?: DISK_COPY_DEFAULT_REQUESTS;
        e.read_attempts = o->read_attempts ?: DISK_COPY_DEFAULT_READ_ATTEMPTS;
        e.retry_delay = o->retry_delay_usec ?: DISK_COPY_DEFAULT_RETRY_DELAY_USEC;
        r = options_check(o, e.chunk, connections, e.requests, err);
        if (r < 0)
                goto finish;
        e.ordered = !o->sink->ops->random_writes;
        e.buf_align = o->sink->align > 0 ? o->sink->align : 1;
        if (e.buf_align > BUFFER_ALIGN) {
                r = ferry_error_set(err, -EINVAL, "The sink '%s' needs %zu-byte alignment, more than %zu",
                                    o->sink->name, e.buf_align, BUFFER_ALIGN);
                goto finish;
        }
        e.source_name = disk_source_describe(&o->source);
        if (!e.source_name) {
                r = ferry_error_set(err, -ENOMEM, "Out of memory");
                goto finish;
        }

        r = disk_source_connect(&o->source, 0, o->cancel, &nbd, err);
        if (r < 0)
                goto finish;
        size = nbd_get_size(nbd);
        if (size < 0) {
                r = ferry_error_set(err, -disk_source_errno(), "Cannot get the size of the source %s: %s",
                                    e.source_name, disk_source_reason(nbd_get_error()));
                nbd_close(nbd);
                goto finish;
        }
        e.size = (uint64_t) size;
        e.extents = disk_source_has_extents(nbd);
        e.multi_conn = nbd_can_multi_conn(nbd) == 1;
        /* Never ask for more than the server takes in one read. */
        max_request = nbd_get_block_size(nbd, LIBNBD_SIZE_MAXIMUM);
        if (max_request > 0 && (uint64_t) max_request < e.chunk)
                e.chunk = (uint64_t) max_request >= 4096 ? (size_t) max_request / 4096 * 4096 : (size_t) max_request;
        e.segment = SEGMENT_SIZE / e.chunk * e.chunk;
        log_debug("Source %s: %" PRIu64 " bytes, multi-conn %s, base:allocation %s", e.source_name, e.size,
                  e.multi_conn ? "yes" : "no", e.extents ? "yes" : "no");

        e.conns = calloc(connections, sizeof(*e.conns));
        if (!e.conns) {
                nbd_close(nbd);
                r = ferry_error_set(err, -ENOMEM, "Out of memory");
                goto finish;
        }
        e.n_conns = 1;
        r = conn_init(&e, &e.conns[0], 0, nbd, err);
        if (r < 0)
                goto finish;

        r = engine_plan(&e, err);
        if (r < 0)
                goto finish;
        skipped = disk_ranges_total(&e.done);
        /* Windows small enough that every connection gets several. */
        {
                uint64_t per = disk_ranges_total(&e.todo) / ((uint64_t) connections * 4);

                per = per / e.chunk * e.chunk;
                if (per < e.chunk)
                        per = e.chunk;
                if (per < e.segment)
                        e.segment = per;
        }
        keep = o->changes || skipped > 0;
        r = o->sink->ops->start(o->sink, e.size, keep, err);
        if (r < 0) {
                if (skipped > 0 && !o->changes)
                        ferry_error_prefix(err, "Cannot resume from checkpoint '%s' (remove it to start over)",
                                           o->checkpoint_path);
                goto finish;
        }

        r = engine_connect_more(&e, connections, err);
        if (r < 0)
                goto finish;

        r = engine_run_phase(&e, DISK_PHASE_COPY, disk_ranges_total(&e.work), skipped);
        if (r < 0) {
                struct ferry_error cerr = {};

                if (r == -ECANCELED)
                        ferry_error_set(err, r, "The copy was interrupted with %" PRIu64 " of %" PRIu64 " bytes done",
                                        atomic_load(&e.bytes_done), disk_ranges_total(&e.work));
                else
                        *err = e.error;
                /* Keep what is done for the next run. */
                if (o->checkpoint_path && engine_save_checkpoint(&e, &cerr) < 0)
                        log_debug("Checkpoint not updated: %s", ferry_error_message(&cerr));
                goto finish;
        }

        if (o->sink->ops->finish) {
                r = o->sink->ops->finish(o->sink, err);
                if (r < 0)
                        goto finish;
        }
        if ((o->flush || o->checkpoint_path) && o->sink->ops->flush) {
                r = o->sink->ops->flush(o->sink, err);
                if (r < 0)
                        goto finish;
        }
        if (o->checkpoint_path) {
                r = engine_save_checkpoint(&e, err);
                if (r < 0)
                        goto finish;
        }

        res = (struct disk_copy_result) {
                .size = e.size,
                .bytes_total = disk_ranges_total(&e.work),
                .bytes_skipped = skipped,
                .bytes_read = atomic_load(&e.bytes_read),
                .bytes_written = atomic_load(&e.bytes_written),
                .bytes_zeroed = atomic_load(&e.bytes_zeroed),
                .connections = e.n_conns,
                .multi_conn = e.multi_conn,
                .extents = e.extents,
        };

        if (o->verify) {
                r = engine_run_phase(&e, DISK_PHASE_VERIFY, e.size, 0);
                if (r == -ECANCELED)
                        r = ferry_error_set(err, r, "Verification was interrupted");
                else if (r < 0)
                        *err = e.error;
                else if (e.mismatch != UINT64_MAX)
                        r = ferry_error_set(err, -EIO, "Verification failed: '%s' differs from the source at offset %" PRIu64,
                                            o->sink->name, e.mismatch);
                if (r < 0)
                        goto finish;
                res.verified = true;
        }

        res.read_retries = atomic_load(&e.retries);
        res.seconds = (double) (now_usec() - t0) / 1e6;
        *ret = res;
        r = 0;
finish:
        engine_done(&e);
        return r;
}
