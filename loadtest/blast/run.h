/* The phases of a run, as one worker goes through them (run.c). */
#ifndef BLAST_RUN_H
#define BLAST_RUN_H

#include "blast.h"

void pump(struct worker *w, int64_t timeout_ns);
/* Opens every connection of the worker (paced by its share of --connect-rate and
 * --connect-concurrency) and waits for each one's `hello`. 0 when all opened. */
int phase_connect(struct worker *w, uint64_t deadline);
/* group.create by each group's first member, group.join by the others, then waits
 * until every member has seen every join, so that nothing of the setup is measured. */
int phase_groups(struct worker *w, uint64_t deadline);
/* Sends from t0 for --duration (open loop at the worker's rate, or W in flight per
 * sender), then waits until every reply and every delivery is in, or --drain-timeout. */
void phase_measure(struct worker *w, uint64_t t0);
/* Keeps the connections open, answering pings, until `until`. */
void phase_hold(struct worker *w, uint64_t until);
void close_all(struct worker *w);

#endif
