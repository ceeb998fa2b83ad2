/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a running copy reports: bytes done of the total, the recent rate
 * and the time left at that rate.
 */
#ifndef FERRY_DISK_PROGRESS_H
#define FERRY_DISK_PROGRESS_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

enum disk_phase {
        DISK_PHASE_COPY,        /* reading the source, writing the sink */
        DISK_PHASE_VERIFY,      /* comparing their checksums */
        _DISK_PHASE_MAX,
        _DISK_PHASE_INVALID = -EINVAL,
};

/* "copy", "verify"; NULL for anything else. */
const char *disk_phase_to_string(enum disk_phase phase);

struct disk_progress {
        enum disk_phase phase;
        uint64_t bytes_done;    /* of bytes_total; zeros and work a checkpoint had done count */
        uint64_t bytes_total;   /* the whole disk, or the changed areas of a delta */
        uint64_t bytes_read;    /* read from the source in this phase so far */
        double rate;            /* bytes_done per second over the last seconds; 0 until known */
        double eta;             /* seconds left at that rate; -1 when unknown */
        double elapsed;         /* seconds since the phase began */
};

/* Called on the thread that runs the copy; p is borrowed for the call. */
typedef void (*disk_progress_fn)(const struct disk_progress *p, void *userdata);

/*
 * A rate meter: feed it (time, bytes done) samples and it reports the rate
 * over the last window.
 */
#define DISK_RATE_SAMPLES 64

struct disk_rate {
        uint64_t window_usec;
        size_t head, n;         /* ring of the n newest samples; head is the oldest */
        struct {
                uint64_t usec;
                uint64_t bytes;
        } s[DISK_RATE_SAMPLES];
};

void disk_rate_init(struct disk_rate *m, uint64_t window_usec);

/* Record that bytes were done at now_usec; times must not go back. */
void disk_rate_add(struct disk_rate *m, uint64_t now_usec, uint64_t bytes);

/* Bytes per second from the oldest sample that still reaches into the
 * window to the newest; 0 with fewer than two samples or no time between. */
double disk_rate_get(const struct disk_rate *m);

/* Seconds left for remaining bytes at rate: 0 when nothing remains, -1
 * when the rate is unknown (0). */
double disk_eta(uint64_t remaining, double rate);

#endif
