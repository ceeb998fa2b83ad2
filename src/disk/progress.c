/* SPDX-License-Identifier: Apache-2.0 */
#include "common/macros.h"
#include "disk/progress.h"

static const char *const disk_phase_table[_DISK_PHASE_MAX] = {
        [DISK_PHASE_COPY] = "copy",
        [DISK_PHASE_VERIFY] = "verify",
};

const char *disk_phase_to_string(enum disk_phase phase)
{
        if (phase < 0 || phase >= _DISK_PHASE_MAX)
                return NULL;
        return disk_phase_table[phase];
}

void disk_rate_init(struct disk_rate *m, uint64_t window_usec)
{
        *m = (struct disk_rate) { .window_usec = window_usec };
}

#define SAMPLE(m, i) ((m)->s[((m)->head + (i)) % DISK_RATE_SAMPLES])

void disk_rate_add(struct disk_rate *m, uint64_t now_usec, uint64_t bytes)
{
        if (m->n == DISK_RATE_SAMPLES) {
                m->head = (m->head + 1) % DISK_RATE_SAMPLES;
                m->n--;
        }
        SAMPLE(m, m->n).usec = now_usec;
        SAMPLE(m, m->n).bytes = bytes;
        m->n++;

        /* Keep one sample at or before the start of the window, so that
         * the rate always spans the whole window once it can. */
        while (m->n > 2 && now_usec - SAMPLE(m, 1).usec >= m->window_usec) {
                m->head = (m->head + 1) % DISK_RATE_SAMPLES;
                m->n--;
        }
}

double disk_rate_get(const struct disk_rate *m)
{
        uint64_t dt;

        if (m->n < 2)
                return 0;
        dt = SAMPLE(m, m->n - 1).usec - SAMPLE(m, 0).usec;
        if (dt == 0 || SAMPLE(m, m->n - 1).bytes < SAMPLE(m, 0).bytes)
                return 0;
        return (double) (SAMPLE(m, m->n - 1).bytes - SAMPLE(m, 0).bytes) * 1e6 / (double) dt;
}

double disk_eta(uint64_t remaining, double rate)
{
        if (remaining == 0)
                return 0;
        if (rate <= 0)
                return -1;
        return (double) remaining / rate;
}
