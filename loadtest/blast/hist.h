/* A log-bucket latency histogram in the manner of HdrHistogram: 128 linear
 * sub-buckets per power of two, so a recorded value is off by less than 1 %.
 * Values are nanoseconds; recording is an index computation and an
 * increment. */
#ifndef BLAST_HIST_H
#define BLAST_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
    uint64_t count, max, sum;
    uint32_t *b;   /* HIST_BUCKETS counts, allocated by hist_init */
};

void hist_init(struct hist *h);
void hist_add(struct hist *h, uint64_t v);
void hist_merge(struct hist *into, const struct hist *from);
/* The value at or below which a fraction q of the recorded values lie (upper edge of its bucket, at most max). */
uint64_t hist_quantile(const struct hist *h, double q);

#endif
