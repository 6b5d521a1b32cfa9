/* social-blast: command line, workers, the measured window and the report.
 * See loadtest/README.md, "social-blast". */
#include "blast.h"
#include "run.h"

#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/resource.h>

struct options opt;

static const char usage[] =
"usage: social-blast <scenario> [options]\n"
"\n"
"scenarios:\n"
"  chat        G groups x M members; every member sends, --rate messages/s over all of them, open loop\n"
"  fanout      one group of --members; --senders of them keep --inflight sends each in flight (closed loop)\n"
"  pipeline    one connection alone keeps --inflight sends in flight; replies must come back in order\n"
"  throughput  --groups senders, each alone in its group, --inflight sends in flight each\n"
"  connect     opens --connections (at --connect-rate, 0 = as fast as possible), holds them --hold s\n"
"\n"
"gateway (one of):\n"
"  --spawn BIN              start BIN on a fresh temporary data directory and a free port\n"
"      --store S            its --store (embedded, memory, mongodb://...)\n"
"      --rate-limits on|off its --rate-limits\n"
"      --gateway-arg ARG    any other gateway argument (repeatable), e.g. --gateway-arg=--max-inflight=128\n"
"  --port P                 a gateway already listening on 127.0.0.1:P (default 8080)\n"
"      --gateway-pid PID    its process, for CPU and memory figures\n"
"  --jwt-secret S           HS256 secret (default: $SOCIAL_BLAST_JWT_SECRET, $SOCIAL_GATEWAY_JWT_SECRET, or random with --spawn)\n"
"\n"
"shape:\n"
"  --groups G  --members M  --senders S (per group)  --inflight W  --rate R (chat)  --duration D (s)\n"
"  --text-bytes B (message text, default 100)  --connections N  --connect-rate R  --connect-concurrency C  --hold H (s)\n"
"run:\n"
"  --threads T (epoll loops, default 1)  --source-addrs K (127.0.0.1..K as source addresses)\n"
"  --setup-timeout S (120)  --drain-timeout S (30)  --setup-concurrency N (1000)  --label TEXT  --verbose\n"
"\n"
"Exit status: 0 verified, 2 a check failed, 1 the run could not be set up.\n";

static pthread_barrier_t barrier;
static atomic_int aborted;
static struct worker *workers;
static uint64_t g_t0, g_hold_end;

struct sample {
    uint64_t t;
    struct gwstat gw;
    double drv;   /* driver CPU seconds (user + system, all threads) */
    double drv_user, drv_sys;
    char load[64];
};
static struct sample s_base, s_start, s_mid, s_end;

static void take(struct sample *s) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    s->drv_user = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6;
    s->drv_sys = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
    s->drv = s->drv_user + s->drv_sys;
    s->gw = gw_sample();
    loadavg(s->load, sizeof s->load);
    s->t = now_ns();
}

static void sync_all(void) {
    if (opt.threads > 1) pthread_barrier_wait(&barrier);
}

static void *worker_main(void *arg) {
    struct worker *w = arg;
    uint64_t setup_deadline = now_ns() + (uint64_t)(opt.setup_timeout * 1e9);
    if (opt.scenario == SC_CONNECT) {
        sync_all();
        if (w->index == 0) { take(&s_start); g_t0 = s_start.t; }
        sync_all();
        if (phase_connect(w, g_t0 + (uint64_t)(opt.setup_timeout * 1e9)) != 0) atomic_store(&aborted, 1);
        sync_all();
        if (w->index == 0) { take(&s_mid); g_hold_end = s_mid.t + (uint64_t)(opt.hold * 1e9); }
        sync_all();
        phase_hold(w, g_hold_end);
        sync_all();
        if (w->index == 0) take(&s_end);
        return NULL;
    }
    if (phase_connect(w, setup_deadline) != 0) {
        if (!atomic_exchange(&aborted, 1))
            fprintf(stderr, "social-blast: setup: %u of %u connections opened (%llu failed handshakes, %llu failed connects)\n",
                    w->ready, w->nconns, (unsigned long long)w->t.handshake_failed, (unsigned long long)w->t.connect_failed);
    }
    sync_all();
    if (!atomic_load(&aborted) && phase_groups(w, setup_deadline) != 0) {
        if (!atomic_exchange(&aborted, 1)) fprintf(stderr, "social-blast: setup: creating or joining the groups failed or timed out\n");
    }
    sync_all();
    if (w->index == 0) { take(&s_start); g_t0 = s_start.t + 2000000; }
    sync_all();
    if (!atomic_load(&aborted)) phase_measure(w, g_t0);
    sync_all();
    if (w->index == 0) take(&s_end);
    return NULL;
}

/* ------------------------------------------------------------------ setup */

static uint32_t pow2_at_least(uint32_t v) {
    uint32_t p = 1;
    while (p < v) p <<= 1;
    return p;
}

static void build_workers(void) {
    workers = calloc(opt.threads, sizeof *workers);
    for (uint32_t wi = 0; wi < opt.threads; wi++) {
        struct worker *w = &workers[wi];
        w->index = wi;
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        if (w->ep < 0) { perror("epoll_create1"); exit(1); }
        w->abort = &aborted;
        w->in_cap = 256 * 1024;
        w->in = malloc(w->in_cap);
        w->out_cap = 16 + 2 * opt.text_bytes + 1024;
        w->out = malloc(w->out_cap);
        w->text = malloc(opt.text_bytes + 1);
        memset(w->text, 'x', opt.text_bytes);
        hist_init(&w->ack); hist_init(&w->deliv); hist_init(&w->lag); hist_init(&w->connect); hist_init(&w->rdelay);
        w->closed_loop = opt.scenario == SC_FANOUT || opt.scenario == SC_PIPELINE || opt.scenario == SC_THROUGHPUT;
        w->senders_per_group = opt.scenario == SC_CHAT ? opt.members : (opt.senders < opt.members ? opt.senders : opt.members);

        if (opt.scenario == SC_CONNECT) {
            uint32_t n = opt.connections / opt.threads + (wi < opt.connections % opt.threads);
            w->conns = calloc(n, sizeof *w->conns);
            w->nconns = n;
            for (uint32_t i = 0; i < n; i++) {
                struct conn *c = &w->conns[i];
                c->fd = -1; c->w = w; c->idx = i * opt.threads + wi; c->group = UINT32_MAX; c->next_id = 1;
            }
        } else {
            uint32_t ng = opt.groups / opt.threads + (wi < opt.groups % opt.threads);
            w->groups = calloc(ng ? ng : 1, sizeof *w->groups);
            w->ngroups = ng;
            w->conns = calloc((size_t)ng * opt.members + 1, sizeof *w->conns);
            w->nconns = ng * opt.members;
            for (uint32_t gi = 0; gi < ng; gi++) {
                struct group *g = &w->groups[gi];
                g->global = gi * opt.threads + wi;
                g->first = gi * opt.members;
                g->members = opt.members;
                for (uint32_t m = 0; m < opt.members; m++) {
                    struct conn *c = &w->conns[g->first + m];
                    c->fd = -1; c->w = w; c->idx = g->global * opt.members + m; c->group = gi; c->member = m;
                    c->next_id = 1;
                    c->last_n = calloc(w->senders_per_group, sizeof(uint32_t));
                    if (m < w->senders_per_group) c->ring = calloc(opt.ring, sizeof(struct slot));
                }
            }
            if (opt.scenario == SC_CHAT) {     /* send order: round robin over groups, then members */
                w->order = malloc(((size_t)w->nconns + 1) * sizeof(uint32_t));
                uint32_t k = 0;
                for (uint32_t m = 0; m < opt.members; m++)
                    for (uint32_t gi = 0; gi < ng; gi++) w->order[k++] = gi * opt.members + m;
                w->nsenders = k;
                w->rate = opt.connections ? opt.rate * (double)w->nconns / (double)opt.connections : 0;
            }
        }
        w->connect_budget = opt.connect_concurrency / opt.threads;
        if (w->connect_budget < 1) w->connect_budget = 1;
        w->connect_rate = opt.connect_rate / opt.threads;
    }
}

/* ------------------------------------------------------------------ report */

static double ms(uint64_t ns) { return (double)ns / 1e6; }

static void print_hist(const char *name, const struct hist *h) {
    if (!h->count) { printf("  %-34s no samples\n", name); return; }
    printf("  %-34s p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f ms  (%llu samples)\n", name,
           ms(hist_quantile(h, 0.5)), ms(hist_quantile(h, 0.9)), ms(hist_quantile(h, 0.99)),
           ms(hist_quantile(h, 0.999)), ms(h->max), (unsigned long long)h->count);
}

static void merge(struct tally *a, const struct tally *b) {
    a->sent += b->sent; a->acked += b->acked; a->err_replies += b->err_replies;
    a->duplicates_acked += b->duplicates_acked; a->unknown_replies += b->unknown_replies;
    a->replies_out_of_order += b->replies_out_of_order; a->ack_seq_order += b->ack_seq_order;
    a->deliveries += b->deliveries; a->gaps += b->gaps; a->stale += b->stale; a->wrong_chat += b->wrong_chat;
    a->sender_order += b->sender_order; a->unparsed += b->unparsed; a->before_setup += b->before_setup;
    a->other_positioned += b->other_positioned; a->skipped_full += b->skipped_full;
    a->closed_by_server += b->closed_by_server; a->connect_failed += b->connect_failed;
    a->connect_retries += b->connect_retries; a->handshake_failed += b->handshake_failed;
    a->protocol_errors += b->protocol_errors; a->pings += b->pings; a->opened += b->opened;
    a->dropped_hold += b->dropped_hold;
    a->missed_join_events += b->missed_join_events;
    a->frames_in += b->frames_in; a->lines_in += b->lines_in; a->bytes_in += b->bytes_in;
    if (b->first_connect_ns && (!a->first_connect_ns || b->first_connect_ns < a->first_connect_ns)) a->first_connect_ns = b->first_connect_ns;
    if (b->last_ready_ns > a->last_ready_ns) a->last_ready_ns = b->last_ready_ns;
    if (b->last_ack_ns > a->last_ack_ns) a->last_ack_ns = b->last_ack_ns;
    if (b->last_delivery_ns > a->last_delivery_ns) a->last_delivery_ns = b->last_delivery_ns;
    for (uint32_t i = 0; i < b->nerrs; i++)
        for (uint64_t k = 0; k < b->errs[i].n; k++) tally_err(a, b->errs[i].code, strlen(b->errs[i].code));
}

static int problem(const char *what, uint64_t n, int *failed) {
    if (!n) return 0;
    printf("  CHECK FAILED: %s: %llu\n", what, (unsigned long long)n);
    *failed = 1;
    return 1;
}

static void print_cpu(const char *what, const struct sample *a, const struct sample *b, double *gw_cpu, double *drv_cpu) {
    double wall = (double)(b->t - a->t) / 1e9;
    double drv = b->drv - a->drv;
    *drv_cpu = drv;
    if (a->gw.ok && b->gw.ok) {
        double gw = (double)(b->gw.ticks - a->gw.ticks) * gw_tick_seconds();
        *gw_cpu = gw;
        printf("  %-12s gateway CPU %.2f s = %.3f cores   |   driver CPU %.2f s = %.3f cores (user %.2f, sys %.2f)   over %.2f s\n",
               what, gw, gw / wall, drv, drv / wall, b->drv_user - a->drv_user, b->drv_sys - a->drv_sys, wall);
    } else {
        *gw_cpu = -1;
        printf("  %-12s gateway CPU unknown (no --gateway-pid)   |   driver CPU %.2f s = %.3f cores   over %.2f s\n",
               what, drv, drv / wall, wall);
    }
}

static int report_connect(struct tally *t) {
    struct hist h;
    hist_init(&h);
    for (uint32_t i = 0; i < opt.threads; i++) hist_merge(&h, &workers[i].connect);
    int failed = 0;
    double setup_s = t->last_ready_ns > g_t0 ? (double)(t->last_ready_ns - g_t0) / 1e9 : 0;
    double rate = setup_s > 0 ? (double)t->opened / setup_s : 0;
    printf("connections: %u asked, %llu opened (got hello), %llu failed to connect, %llu handshakes refused, %llu retried\n",
           opt.connections, (unsigned long long)t->opened, (unsigned long long)t->connect_failed,
           (unsigned long long)t->handshake_failed, (unsigned long long)t->connect_retries);
    printf("set-up: %llu connections in %.3f s (start to the last hello) = %.0f connections/s%s\n",
           (unsigned long long)t->opened, setup_s, rate, opt.connect_rate > 0 ? " (paced by --connect-rate)" : "");
    print_hist("connect -> hello", &h);
    double gw_setup, drv_setup, gw_hold, drv_hold;
    print_cpu("set-up:", &s_start, &s_mid, &gw_setup, &drv_setup);
    print_cpu("idle hold:", &s_mid, &s_end, &gw_hold, &drv_hold);
    double hold_s = (double)(s_end.t - s_mid.t) / 1e9;
    if (gw_setup >= 0 && t->opened) printf("  gateway CPU per connection set up: %.1f us\n", gw_setup / (double)t->opened * 1e6);
    double per_conn = -1;
    if (s_base.gw.ok && s_end.gw.ok && t->opened) {
        per_conn = ((double)s_end.gw.rss_kib - (double)s_base.gw.rss_kib) / (double)t->opened;
        printf("gateway RSS: %llu KiB before connecting, %llu KiB after set-up, %llu KiB after the hold: %.2f KiB per connection\n",
               (unsigned long long)s_base.gw.rss_kib, (unsigned long long)s_mid.gw.rss_kib,
               (unsigned long long)s_end.gw.rss_kib, per_conn);
    }
    printf("pings answered during the hold: %llu\n", (unsigned long long)t->pings);
    printf("load average: start %s, end %s\n", s_start.load, s_end.load);
    problem("connections not opened", opt.connections - t->opened, &failed);
    problem("connections dropped by the gateway while held", t->dropped_hold, &failed);
    problem("connections closed by the gateway", t->closed_by_server - t->dropped_hold, &failed);
    printf("verified: %s\n", failed ? "NO" : "yes (every connection opened and stayed open)");
    printf("RESULT scenario=connect connections=%u opened=%llu setup_s=%.3f conns_per_s=%.0f connect_p50_ms=%.3f connect_p99_ms=%.3f "
           "setup_gw_cpu_s=%.3f setup_drv_cpu_s=%.3f gw_us_per_conn=%.1f hold_s=%.2f hold_gw_cpu_s=%.3f hold_gw_cores=%.4f "
           "hold_drv_cpu_s=%.3f rss_base_kib=%llu rss_end_kib=%llu rss_per_conn_kib=%.2f dropped=%llu "
           "load_start=\"%s\" load_end=\"%s\" verified=%d\n",
           opt.connections, (unsigned long long)t->opened, setup_s, rate, ms(hist_quantile(&h, 0.5)), ms(hist_quantile(&h, 0.99)),
           gw_setup, drv_setup, gw_setup >= 0 && t->opened ? gw_setup / (double)t->opened * 1e6 : -1, hold_s, gw_hold,
           gw_hold >= 0 ? gw_hold / hold_s : -1, drv_hold,
           (unsigned long long)s_base.gw.rss_kib, (unsigned long long)s_end.gw.rss_kib, per_conn,
           (unsigned long long)t->dropped_hold, s_start.load, s_end.load, !failed);
    return failed;
}

static int report_groups(struct tally *t) {
    struct hist ack, deliv, lag, rdelay;
    hist_init(&ack); hist_init(&deliv); hist_init(&lag); hist_init(&rdelay);
    uint64_t lost = 0, extra = 0, expected = 0;
    int drain_timed_out = 0;
    for (uint32_t i = 0; i < opt.threads; i++) {
        struct worker *w = &workers[i];
        hist_merge(&ack, &w->ack); hist_merge(&deliv, &w->deliv); hist_merge(&lag, &w->lag); hist_merge(&rdelay, &w->rdelay);
        drain_timed_out |= w->drain_timed_out;
        for (uint32_t c = 0; c < w->nconns; c++) {
            struct conn *cn = &w->conns[c];
            uint64_t want = w->groups[cn->group].acked;
            expected += want;
            if (cn->received < want) lost += want - cn->received;
            else extra += cn->received - want;
        }
    }
    int failed = 0;
    double window = (double)(s_end.t - s_start.t) / 1e9;
    uint64_t last = t->last_delivery_ns > t->last_ack_ns ? t->last_delivery_ns : t->last_ack_ns;
    double active = last > g_t0 ? (double)(last - g_t0) / 1e9 : 0;
    double ack_s = t->last_ack_ns > g_t0 ? (double)(t->last_ack_ns - g_t0) / 1e9 : 0;
    double del_s = t->last_delivery_ns > g_t0 ? (double)(t->last_delivery_ns - g_t0) / 1e9 : 0;
    double acks_per_s = ack_s > 0 ? (double)t->acked / ack_s : 0;
    double dels_per_s = del_s > 0 ? (double)t->deliveries / del_s : 0;
    uint64_t unanswered = t->sent - t->acked - t->err_replies;

    printf("sends: %llu sent, %llu acknowledged (%.0f/s until the last ack at +%.3f s), %llu error replies, %llu unanswered",
           (unsigned long long)t->sent, (unsigned long long)t->acked, acks_per_s, ack_s,
           (unsigned long long)t->err_replies, (unsigned long long)unanswered);
    if (opt.scenario == SC_CHAT) printf(", %llu not sent (sender's %u slots full)", (unsigned long long)t->skipped_full, opt.ring);
    printf("\n");
    for (uint32_t i = 0; i < t->nerrs; i++) printf("  error %s: %llu\n", t->errs[i].code, (unsigned long long)t->errs[i].n);
    printf("deliveries: %llu of %llu expected (every member connection, the sender's own included), %.0f/s until the last at +%.3f s\n",
           (unsigned long long)t->deliveries, (unsigned long long)expected, dels_per_s, del_s);
    if (t->missed_join_events)
        printf("setup note: %llu member connections never received the member event of their chat's last join "
               "(not part of the measured check)\n", (unsigned long long)t->missed_join_events);
    printf("received: %llu frames, %llu messages, %.1f MB (%.2f messages per frame)\n", (unsigned long long)t->frames_in,
           (unsigned long long)t->lines_in, (double)t->bytes_in / 1e6, t->frames_in ? (double)t->lines_in / (double)t->frames_in : 0);
    printf("latency:\n");
    print_hist("send -> ack", &ack);
    print_hist("send -> delivery (other members)", &deliv);
    if (opt.scenario == SC_CHAT) print_hist("driver: send lateness vs schedule", &lag);
    print_hist("driver: wake-up to read (per recv)", &rdelay);
    double gw_cpu, drv_cpu;
    printf("CPU over the measured window (sending and the drain to the last delivery):\n");
    print_cpu("", &s_start, &s_end, &gw_cpu, &drv_cpu);
    double us_msg = gw_cpu >= 0 && t->acked ? gw_cpu / (double)t->acked * 1e6 : -1;
    double us_del = gw_cpu >= 0 && t->deliveries ? gw_cpu / (double)t->deliveries * 1e6 : -1;
    if (gw_cpu >= 0) printf("  gateway CPU per acknowledged message %.1f us, per delivery %.2f us\n", us_msg, us_del);
    if (drv_cpu / window > 0.8 * opt.threads)
        printf("  WARNING: the driver used %.2f cores of its %u thread(s): it may be the bottleneck\n", drv_cpu / window, opt.threads);
    if (s_end.gw.ok) printf("gateway RSS at the end: %llu KiB\n", (unsigned long long)s_end.gw.rss_kib);
    printf("load average: start %s, end %s\n", s_start.load, s_end.load);

    problem("sends without a reply", unanswered, &failed);
    problem("error replies to chat.send", t->err_replies, &failed);
    problem("acknowledged messages a member did not receive in position order (lost, or late after a gap)", lost, &failed);
    problem("deliveries beyond the acknowledged messages", extra, &failed);
    problem("gaps in a chat's positions", t->gaps, &failed);
    problem("duplicate or out-of-order events (position at or below the last)", t->stale, &failed);
    problem("events for another chat", t->wrong_chat, &failed);
    problem("a sender's messages out of its send order", t->sender_order, &failed);
    problem("acks whose seq did not increase for their connection", t->ack_seq_order, &failed);
    problem("message.new without a readable updated_seq or text", t->unparsed, &failed);
    problem("message.new before the run started", t->before_setup, &failed);
    problem("other chat changes during the run", t->other_positioned, &failed);
    problem("acks marked duplicate", t->duplicates_acked, &failed);
    problem("replies to no command in flight", t->unknown_replies, &failed);
    problem("connections closed by the gateway", t->closed_by_server, &failed);
    problem("protocol errors", t->protocol_errors, &failed);
    if (opt.scenario == SC_PIPELINE) problem("replies out of command order", t->replies_out_of_order, &failed);
    else if (t->replies_out_of_order) printf("  note: %llu replies came back out of command order\n", (unsigned long long)t->replies_out_of_order);
    if (drain_timed_out) { printf("  CHECK FAILED: the drain timed out after %.0f s\n", opt.drain_timeout); failed = 1; }
    if (t->acked == 0) { printf("  CHECK FAILED: nothing was acknowledged\n"); failed = 1; }
    printf("verified: %s\n", failed ? "NO" :
           "yes (every acknowledged message reached every member connection of its chat exactly once, in position order)");
    printf("RESULT scenario=%s groups=%u members=%u senders=%u inflight=%u rate=%.0f duration=%.1f threads=%u "
           "sent=%llu acked=%llu errors=%llu deliveries=%llu expected=%llu acks_per_s=%.0f deliveries_per_s=%.0f "
           "ack_p50_ms=%.3f ack_p99_ms=%.3f del_p50_ms=%.3f del_p90_ms=%.3f del_p99_ms=%.3f del_p999_ms=%.3f del_max_ms=%.3f "
           "lag_p99_ms=%.3f rdelay_p99_ms=%.3f window_s=%.3f active_s=%.3f gw_cpu_s=%.3f gw_cores=%.3f gw_us_per_msg=%.2f gw_us_per_delivery=%.3f "
           "drv_cpu_s=%.3f drv_cores=%.3f rss_end_kib=%llu load_start=\"%s\" load_end=\"%s\" verified=%d\n",
           opt.scenario_name, opt.groups, opt.members, opt.scenario == SC_CHAT ? opt.members : opt.senders, opt.inflight,
           opt.rate, opt.duration, opt.threads, (unsigned long long)t->sent, (unsigned long long)t->acked,
           (unsigned long long)t->err_replies, (unsigned long long)t->deliveries, (unsigned long long)expected, acks_per_s,
           dels_per_s, ms(hist_quantile(&ack, 0.5)), ms(hist_quantile(&ack, 0.99)), ms(hist_quantile(&deliv, 0.5)),
           ms(hist_quantile(&deliv, 0.9)), ms(hist_quantile(&deliv, 0.99)), ms(hist_quantile(&deliv, 0.999)), ms(deliv.max),
           ms(hist_quantile(&lag, 0.99)), ms(hist_quantile(&rdelay, 0.99)), window, active, gw_cpu, gw_cpu >= 0 ? gw_cpu / window : -1, us_msg, us_del,
           drv_cpu, drv_cpu / window, (unsigned long long)s_end.gw.rss_kib, s_start.load, s_end.load, !failed);
    return failed;
}

/* ------------------------------------------------------------------ main */

static void set_defaults(void) {
    switch (opt.scenario) {
    case SC_CHAT: opt.groups = 100; opt.members = 10; opt.rate = 2000; opt.inflight = 1; break;
    case SC_FANOUT: opt.groups = 1; opt.members = 1000; opt.senders = 1; opt.inflight = 16; break;
    case SC_PIPELINE: opt.groups = 1; opt.members = 1; opt.senders = 1; opt.inflight = 16; break;
    case SC_THROUGHPUT: opt.groups = 64; opt.members = 1; opt.senders = 1; opt.inflight = 16; break;
    case SC_CONNECT: opt.connections = 1000; break;
    }
    opt.duration = 10;
    opt.drain_timeout = 30;
    opt.setup_timeout = 120;
    opt.text_bytes = 100;
    opt.connect_concurrency = 1000;
    opt.setup_concurrency = 1000;
    opt.hold = 10;
    opt.threads = 1;
    opt.port = 8080;
}

int main(int argc, char **argv) {
    if (argc < 2 || argv[1][0] == '-') { fputs(usage, argc < 2 ? stderr : stdout); return argc < 2 ? 1 : 0; }
    static const struct { const char *name; enum scenario s; } names[] = {
        { "chat", SC_CHAT }, { "fanout", SC_FANOUT }, { "pipeline", SC_PIPELINE }, { "throughput", SC_THROUGHPUT }, { "connect", SC_CONNECT },
    };
    int found = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(argv[1], names[i].name) == 0) { opt.scenario = names[i].s; opt.scenario_name = names[i].name; found = 1; }
    if (!found) { fprintf(stderr, "social-blast: unknown scenario '%s'\n%s", argv[1], usage); return 1; }
    set_defaults();

    enum { O_SPAWN = 256, O_STORE, O_RATELIMITS, O_GWARG, O_PORT, O_PID, O_SECRET, O_GROUPS, O_MEMBERS, O_SENDERS,
           O_INFLIGHT, O_RATE, O_DURATION, O_TEXT, O_CONNS, O_CRATE, O_CCONC, O_HOLD, O_THREADS, O_SRC, O_SETUPTO,
           O_DRAINTO, O_SETUPCONC, O_LABEL, O_VERBOSE, O_HELP };
    static const struct option longs[] = {
        { "spawn", 1, 0, O_SPAWN }, { "store", 1, 0, O_STORE }, { "rate-limits", 1, 0, O_RATELIMITS },
        { "gateway-arg", 1, 0, O_GWARG }, { "port", 1, 0, O_PORT }, { "gateway-pid", 1, 0, O_PID },
        { "jwt-secret", 1, 0, O_SECRET }, { "groups", 1, 0, O_GROUPS }, { "members", 1, 0, O_MEMBERS },
        { "senders", 1, 0, O_SENDERS }, { "inflight", 1, 0, O_INFLIGHT }, { "rate", 1, 0, O_RATE },
        { "duration", 1, 0, O_DURATION }, { "text-bytes", 1, 0, O_TEXT }, { "connections", 1, 0, O_CONNS },
        { "connect-rate", 1, 0, O_CRATE }, { "connect-concurrency", 1, 0, O_CCONC }, { "hold", 1, 0, O_HOLD },
        { "threads", 1, 0, O_THREADS }, { "source-addrs", 1, 0, O_SRC }, { "setup-timeout", 1, 0, O_SETUPTO },
        { "drain-timeout", 1, 0, O_DRAINTO }, { "setup-concurrency", 1, 0, O_SETUPCONC }, { "label", 1, 0, O_LABEL },
        { "verbose", 0, 0, O_VERBOSE }, { "help", 0, 0, O_HELP }, { 0, 0, 0, 0 },
    };
    const char *spawn = NULL, *gwargs[64];
    int ngw = 0;
    pid_t pid = -1;
    int port_given = 0, members_given = 0;
    optind = 2;
    int o;
    while ((o = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (o) {
        case O_SPAWN: spawn = optarg; break;
        case O_STORE: if (ngw < 62) { gwargs[ngw++] = "--store"; gwargs[ngw++] = optarg; } break;
        case O_RATELIMITS: if (ngw < 62) { gwargs[ngw++] = "--rate-limits"; gwargs[ngw++] = optarg; } break;
        case O_GWARG: if (ngw < 63) gwargs[ngw++] = optarg; break;
        case O_PORT: opt.port = (uint16_t)atoi(optarg); port_given = 1; break;
        case O_PID: pid = atoi(optarg); break;
        case O_SECRET: opt.secret = optarg; break;
        case O_GROUPS: opt.groups = (uint32_t)atoi(optarg); break;
        case O_MEMBERS: opt.members = (uint32_t)atoi(optarg); members_given = 1; break;
        case O_SENDERS: opt.senders = (uint32_t)atoi(optarg); break;
        case O_INFLIGHT: opt.inflight = (uint32_t)atoi(optarg); break;
        case O_RATE: opt.rate = atof(optarg); break;
        case O_DURATION: opt.duration = atof(optarg); break;
        case O_TEXT: opt.text_bytes = (uint32_t)atoi(optarg); break;
        case O_CONNS: opt.connections = (uint32_t)atoi(optarg); break;
        case O_CRATE: opt.connect_rate = atof(optarg); break;
        case O_CCONC: opt.connect_concurrency = (uint32_t)atoi(optarg); break;
        case O_HOLD: opt.hold = atof(optarg); break;
        case O_THREADS: opt.threads = (uint32_t)atoi(optarg); break;
        case O_SRC: opt.source_addrs = (uint32_t)atoi(optarg); break;
        case O_SETUPTO: opt.setup_timeout = atof(optarg); break;
        case O_DRAINTO: opt.drain_timeout = atof(optarg); break;
        case O_SETUPCONC: opt.setup_concurrency = (uint32_t)atoi(optarg); break;
        case O_LABEL: opt.label = optarg; break;
        case O_VERBOSE: opt.verbose++; break;
        case O_HELP: fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return 1;
        }
    }
    if (optind < argc) { fprintf(stderr, "social-blast: unexpected argument '%s'\n", argv[optind]); return 1; }
    (void)members_given;
    if (opt.scenario == SC_PIPELINE) { opt.groups = 1; opt.members = 1; opt.senders = 1; }
    if (opt.scenario == SC_FANOUT) opt.groups = 1;
    if (opt.scenario != SC_CONNECT) opt.connections = opt.groups * opt.members;
    if (opt.threads < 1 || opt.threads > 8) { fprintf(stderr, "social-blast: --threads must be 1 to 8\n"); return 1; }
    if (opt.text_bytes < 40 || opt.text_bytes > 4096) { fprintf(stderr, "social-blast: --text-bytes must be 40 to 4096\n"); return 1; }
    if (opt.connections < 1 || (opt.scenario != SC_CONNECT && (opt.groups < 1 || opt.members < 1))) {
        fprintf(stderr, "social-blast: nothing to connect\n"); return 1;
    }
    if (opt.scenario != SC_CHAT && opt.scenario != SC_CONNECT && (opt.senders < 1 || opt.inflight < 1)) {
        fprintf(stderr, "social-blast: --senders and --inflight must be at least 1\n"); return 1;
    }
    if (opt.scenario == SC_CHAT && opt.rate <= 0) { fprintf(stderr, "social-blast: --rate must be positive\n"); return 1; }
    opt.ring = pow2_at_least(opt.scenario == SC_CHAT ? 16 : opt.inflight);
    if (!opt.source_addrs) opt.source_addrs = (opt.connections + 9999) / 10000;

    /* one process holds every socket: take the whole open-file allowance */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)opt.connections + 64) {
        fprintf(stderr, "social-blast: %u connections need more open files than the limit of %llu\n",
                opt.connections, (unsigned long long)rl.rlim_cur);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);

    char secret_buf[80];
    if (!opt.secret) opt.secret = getenv("SOCIAL_BLAST_JWT_SECRET");
    if (!opt.secret) opt.secret = getenv("SOCIAL_GATEWAY_JWT_SECRET");
    if (!opt.secret && spawn) {
        unsigned char r[24];
        FILE *f = fopen("/dev/urandom", "rb");
        if (!f || fread(r, sizeof r, 1, f) != 1) { fprintf(stderr, "social-blast: /dev/urandom\n"); return 1; }
        fclose(f);
        for (int i = 0; i < 24; i++) snprintf(secret_buf + 2 * i, 3, "%02x", r[i]);
        opt.secret = secret_buf;
    }
    if (!opt.secret) { fprintf(stderr, "social-blast: give --jwt-secret (or --spawn)\n"); return 1; }
    if (strlen(opt.secret) < 32) { fprintf(stderr, "social-blast: the JWT secret must be at least 32 bytes\n"); return 1; }
    {
        unsigned long long r = now_ns() ^ ((unsigned long long)getpid() << 32);
        snprintf(opt.user_prefix, sizeof opt.user_prefix, "bl%08llx", (r * 0x9E3779B97F4A7C15ull) >> 32);
    }
    if (spawn) {
        if (port_given) fprintf(stderr, "social-blast: note: --port is ignored with --spawn (a free port is used)\n");
        if (gw_spawn(spawn, gwargs, ngw, &opt.port, opt.secret) != 0) return 1;
    } else {
        if (ngw) fprintf(stderr, "social-blast: note: --store, --rate-limits and --gateway-arg apply only with --spawn\n");
        if (pid > 0) gw_set_pid(pid);
    }

    printf("social-blast %s", opt.scenario_name);
    if (opt.label) printf(" [%s]", opt.label);
    printf(": ");
    switch (opt.scenario) {
    case SC_CHAT: printf("%u groups x %u members (%u connections), %.0f messages/s over all members, open loop, %.0f s", opt.groups, opt.members, opt.connections, opt.rate, opt.duration); break;
    case SC_FANOUT: printf("one group of %u members, %u sender(s) with %u in flight each, %.0f s", opt.members, opt.senders, opt.inflight, opt.duration); break;
    case SC_PIPELINE: printf("one connection, %u in flight, %.0f s", opt.inflight, opt.duration); break;
    case SC_THROUGHPUT: printf("%u groups x %u members, %u sender(s) per group with %u in flight each, %.0f s", opt.groups, opt.members, opt.senders, opt.inflight, opt.duration); break;
    case SC_CONNECT: printf("%u connections, %s, held %.0f s", opt.connections, opt.connect_rate > 0 ? "paced" : "as fast as possible", opt.hold); break;
    }
    printf("; %u thread(s), text %u bytes, gateway 127.0.0.1:%u", opt.threads, opt.text_bytes, opt.port);
    if (gw_pid() > 0) printf(" pid %d%s", (int)gw_pid(), spawn ? " (spawned)" : "");
    if (spawn) { printf(" ["); for (int i = 0; i < ngw; i++) printf("%s%s", i ? " " : "", gwargs[i]); printf("]"); }
    printf("\n");
    fflush(stdout);

    ws_prepare(opt.connections);
    build_workers();
    take(&s_base);
    uint64_t t_setup = now_ns();

    if (opt.threads > 1) pthread_barrier_init(&barrier, NULL, opt.threads);
    for (uint32_t i = 1; i < opt.threads; i++) pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]);
    worker_main(&workers[0]);
    for (uint32_t i = 1; i < opt.threads; i++) pthread_join(workers[i].thread, NULL);

    struct tally t;
    memset(&t, 0, sizeof t);
    for (uint32_t i = 0; i < opt.threads; i++) merge(&t, &workers[i].t);
    int rc;
    if (atomic_load(&aborted) && opt.scenario != SC_CONNECT) {
        printf("setup failed after %.1f s: %llu of %u connections opened; not measured\n", (double)(now_ns() - t_setup) / 1e9,
               (unsigned long long)t.opened, opt.connections);
        rc = 1;
    } else {
        if (opt.scenario != SC_CONNECT)
            printf("setup: %u connections, %u groups created and joined in %.1f s (not measured)\n", opt.connections, opt.groups,
                   (double)(s_start.t - t_setup) / 1e9);
        rc = (opt.scenario == SC_CONNECT ? report_connect(&t) : report_groups(&t)) ? 2 : 0;
    }
    fflush(stdout);
    for (uint32_t i = 0; i < opt.threads; i++) close_all(&workers[i]);
    gw_stop();
    return rc;
}
