#include "hist.h"

#include <stdlib.h>
#include <stdio.h>
#include <math.h>

void hist_init(struct hist *h) {
    h->count = h->max = h->sum = 0;
    h->b = calloc(HIST_BUCKETS, sizeof(uint32_t));
    if (!h->b) { perror("calloc"); exit(1); }
}

static inline uint32_t bucket_of(uint64_t v) {
    if (v < 2 * HIST_SUB) return (uint32_t)v;
    uint32_t e = 63 - (uint32_t)__builtin_clzll(v);     /* >= HIST_SUB_BITS + 1 */
    uint32_t shift = e - HIST_SUB_BITS;
    uint32_t mant = (uint32_t)(v >> shift);             /* in [HIST_SUB, 2 * HIST_SUB) */
    return (shift + 1) * HIST_SUB + (mant - HIST_SUB);
}

/* The highest value that falls in bucket i. */
static uint64_t bucket_top(uint32_t i) {
    if (i < 2 * HIST_SUB) return i;
    uint32_t shift = i / HIST_SUB - 1;
    uint64_t mant = HIST_SUB + i % HIST_SUB;
    return ((mant + 1) << shift) - 1;
}

void hist_add(struct hist *h, uint64_t v) {
    h->b[bucket_of(v)]++;
    h->count++;
    h->sum += v;
    if (v > h->max) h->max = v;
}

void hist_merge(struct hist *into, const struct hist *from) {
    for (uint32_t i = 0; i < HIST_BUCKETS; i++) into->b[i] += from->b[i];
    into->count += from->count;
    into->sum += from->sum;
    if (from->max > into->max) into->max = from->max;
}

uint64_t hist_quantile(const struct hist *h, double q) {
    if (h->count == 0) return 0;
    uint64_t rank = (uint64_t)ceil(q * (double)h->count);
    if (rank < 1) rank = 1;
    uint64_t seen = 0;
    for (uint32_t i = 0; i < HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            uint64_t top = bucket_top(i);
            return top < h->max ? top : h->max;
        }
    }
    return h->max;
}
