/* What the connections of one worker do: set up groups, send, and check
 * every line the gateway sends back. Everything here runs on the worker's
 * own thread; workers share nothing but the read-only options and the start
 * time. */
#include "blast.h"
#include "run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>

uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t wall_s(void) { return (uint64_t)time(NULL); }

void tally_err(struct tally *t, const char *code, size_t len) {
    if (len >= sizeof t->errs[0].code) len = sizeof t->errs[0].code - 1;
    for (uint32_t i = 0; i < t->nerrs; i++)
        if (strlen(t->errs[i].code) == len && memcmp(t->errs[i].code, code, len) == 0) { t->errs[i].n++; return; }
    if (t->nerrs < MAX_ERR_CODES) {
        memcpy(t->errs[t->nerrs].code, code, len);
        t->errs[t->nerrs].code[len] = 0;
        t->errs[t->nerrs++].n = 1;
    }
}

static int is_group_scenario(void) { return opt.scenario != SC_CONNECT; }

/* ------------------------------------------------------------------ events */

void on_ready(struct conn *c, uint64_t now) {
    struct worker *w = c->w;
    if (c->state != CS_OPEN) return;
    c->state = CS_READY;
    c->ready_ns = now;
    w->ready++;
    w->pending_handshakes--;
    w->t.opened++;
    hist_add(&w->connect, now - c->connect_ns);
    if (now > w->t.last_ready_ns) w->t.last_ready_ns = now;
}

void on_closed(struct conn *c) {
    struct worker *w = c->w;
    if (!c->ready_ns) {          /* never got `hello`: refused or failed */
        w->failed++;
        w->pending_handshakes--;
        return;
    }
    if (w->closing) return;      /* we closed it */
    if (w->t.closed_by_server++ == 0)
        fprintf(stderr, "social-blast: connection %u closed by the gateway (code %u)\n",
                c->idx, c->closed_by_server ? c->close_code : 1006);
    if (w->holding) w->t.dropped_hold++;
    w->outstanding -= c->inflight;   /* counted as unanswered at the end */
    c->inflight = 0;
}

static int64_t max_seq(const char *s, size_t n) {
    int64_t m = -1;
    const char *p = s, *end = s + n;
    while ((p = memmem(p, (size_t)(end - p), "\"seq\":", 6))) {
        p += 6;
        int64_t v = 0;
        while (p < end && *p >= '0' && *p <= '9') v = v * 10 + (*p++ - '0');
        if (v > m) m = v;
    }
    return m;
}

static void setup_reply(struct conn *c, const char *s, size_t n) {
    struct worker *w = c->w;
    struct group *g = &w->groups[c->group];
    uint8_t op = c->setup_op;
    c->setup_op = SU_NONE;
    w->setup_outstanding--;
    if (!scan_find(s, n, KEY("\"ok\":"))) {
        if (!w->failed_setup) fprintf(stderr, "social-blast: %s failed: %.*s\n",
                                      op == SU_CREATE ? "group.create" : "group.join", (int)(n > 400 ? 400 : n), s);
        w->failed_setup = 1;
        return;
    }
    int64_t seq = max_seq(s, n);
    w->last_event_ns = now_ns();
    if (seq > c->seen_seq) c->seen_seq = seq;
    if (seq > g->base) g->base = seq;
    if (op == SU_CREATE) {
        const char *id; size_t len;
        if (!scan_str(s, n, KEY("\"group_id\":\""), &id, &len) || len >= sizeof g->id) {
            fprintf(stderr, "social-blast: group.create reply without a group_id: %.*s\n", (int)(n > 400 ? 400 : n), s);
            w->failed_setup = 1;
            return;
        }
        memcpy(g->id, id, len);
        g->id[len] = 0;
        g->id_len = (uint32_t)len;
        g->created = 1;
    }
}

static void on_reply(struct conn *c, const char *s, size_t n, uint64_t now) {
    struct worker *w = c->w;
    int64_t id;
    if (!scan_int(s, n, KEY("\"id\":"), &id)) {
        w->t.unknown_replies++;
        const char *code; size_t len;
        if (scan_str(s, n, KEY("\"code\":\""), &code, &len)) tally_err(&w->t, code, len);
        return;
    }
    if (c->setup_op && (uint64_t)id == c->setup_id) { setup_reply(c, s, n); return; }
    struct slot *sl = c->ring ? &c->ring[(uint64_t)id & (opt.ring - 1)] : NULL;
    if (!sl || sl->id != (uint64_t)id) { w->t.unknown_replies++; return; }
    if ((uint64_t)id != c->oldest) w->t.replies_out_of_order++;
    uint64_t sent = sl->sent_ns;
    sl->id = 0;
    c->inflight--;
    w->outstanding--;
    while (c->oldest < c->next_id && c->ring[c->oldest & (opt.ring - 1)].id != c->oldest) c->oldest++;

    if (scan_find(s, n, KEY("\"ok\":"))) {
        struct group *g = &w->groups[c->group];
        int64_t seq = -1;
        scan_int(s, n, KEY("\"seq\":"), &seq);
        const char *d = scan_find(s, n, KEY("\"duplicate\":"));
        if (d && *d == 't') w->t.duplicates_acked++;
        if (seq <= c->last_ack_seq) w->t.ack_seq_order++;
        c->last_ack_seq = seq;
        g->acked++;
        w->expected_deliveries += g->members;
        w->t.acked++;
        hist_add(&w->ack, now - sent);
        w->t.last_ack_ns = now;
    } else {
        w->t.err_replies++;
        const char *code; size_t len;
        if (scan_str(s, n, KEY("\"code\":\""), &code, &len)) tally_err(&w->t, code, len);
        else tally_err(&w->t, "?", 1);
    }
    if (w->closed_loop && w->sending && now < w->t_end) send_message(c, now_ns());
}

static inline int parse_u64(const char **p, const char *end, uint64_t *v) {
    const char *q = *p;
    uint64_t x = 0;
    while (q < end && *q >= '0' && *q <= '9') x = x * 10 + (uint64_t)(*q++ - '0');
    if (q == *p) return 0;
    *p = q;
    *v = x;
    return 1;
}

static void on_new_message(struct conn *c, const char *s, size_t n, uint64_t now) {
    struct worker *w = c->w;
    int64_t u;
    if (!scan_int(s, n, KEY("\"updated_seq\":"), &u)) { w->t.unparsed++; return; }
    if (!w->measuring) { w->t.before_setup++; return; }
    struct group *g = &w->groups[c->group];
    const char *cid; size_t cl;
    if (!scan_str(s, n, KEY("\"chat_id\":\""), &cid, &cl) || cl != g->id_len || memcmp(cid, g->id, cl) != 0) {
        w->t.wrong_chat++;
        return;
    }
    if (u == c->next_pos) c->next_pos++;
    else if (u > c->next_pos) { w->t.gaps += (uint64_t)(u - c->next_pos); c->next_pos = u + 1; }
    else { w->t.stale++; return; }
    c->received++;
    w->t.deliveries++;
    w->t.last_delivery_ns = now;

    /* the text: "b t=<send ns> k=<group>.<member>.<n> ..." */
    const char *p = scan_find(s, n, KEY("\"text\":\"b t="));
    const char *end = s + n;
    uint64_t t, gg, m, k;
    if (!p || !parse_u64(&p, end, &t) || end - p < 3 || memcmp(p, " k=", 3) != 0) { w->t.unparsed++; return; }
    p += 3;
    if (!parse_u64(&p, end, &gg) || p >= end || *p++ != '.' || !parse_u64(&p, end, &m) || p >= end || *p++ != '.' ||
        !parse_u64(&p, end, &k)) { w->t.unparsed++; return; }
    if (gg != g->global || m >= w->senders_per_group || m >= g->members) { w->t.wrong_chat++; return; }
    if (k <= c->last_n[m]) w->t.sender_order++;
    c->last_n[m] = (uint32_t)k;
    if (m != c->member) hist_add(&w->deliv, now > t ? now - t : 0);
}

/* The name of an event, or NULL for a reply. The gateway's encoder writes an
 * object's keys in no fixed order (it differs from run to run), so the two
 * top-level keys of an event ("event", "data") come first or last: a line
 * starts with {"event":" or ends with ,"event":"<name>"}. A reply's top level
 * is "id" and "ok" or "error", so it never ends with "}. */
static const char *event_name(const char *s, size_t n, size_t *len) {
    if (n > 10 && memcmp(s, "{\"event\":\"", 10) == 0) {
        const char *q = memchr(s + 10, '"', n - 10);
        if (!q) return NULL;
        *len = (size_t)(q - (s + 10));
        return s + 10;
    }
    if (n > 14 && s[n - 1] == '}' && s[n - 2] == '"') {
        size_t tail = n < 72 ? n : 72;
        const char *p = memmem(s + n - tail, tail, ",\"event\":\"", 10);
        if (!p) return NULL;
        *len = (size_t)(s + n - 2 - (p + 10));
        return p + 10;
    }
    return NULL;
}

void on_line(struct conn *c, char *s, size_t n, uint64_t now) {
    struct worker *w = c->w;
    w->t.lines_in++;
    if (opt.verbose > 1) fprintf(stderr, "[%u] %.*s\n", c->idx, (int)n, s);
    size_t el;
    const char *ev = event_name(s, n, &el);
    if (!ev) { on_reply(c, s, n, now); return; }
    if (el == 11 && memcmp(ev, "message.new", 11) == 0) { on_new_message(c, s, n, now); return; }
    if (el == 5 && memcmp(ev, "hello", 5) == 0) { on_ready(c, now); return; }
    int64_t u;
    if (is_group_scenario() && scan_int(s, n, KEY("\"updated_seq\":"), &u)) {   /* member, and other chat changes */
        w->last_event_ns = now;
        if (u > c->seen_seq) c->seen_seq = u;
        if (w->measuring && u >= c->next_pos) w->t.other_positioned++;
    }
}

/* ------------------------------------------------------------------ sending */

static size_t put(char *o, const char *s, size_t n) { memcpy(o, s, n); return n; }
#define PUT(o, lit) put((o), lit, sizeof(lit) - 1)

/* One chat.send with the send time and key in its text; the caller passes a fresh clock. */
int send_message(struct conn *c, uint64_t now) {
    struct worker *w = c->w;
    if (c->state != CS_READY) return -1;
    if (c->next_id - c->oldest >= opt.ring) { w->t.skipped_full++; return -1; }
    struct group *g = &w->groups[c->group];
    uint64_t id = c->next_id++;
    uint32_t n = ++c->sent_n;

    char key[64];
    size_t kl = u64_to_a(key, g->global);
    key[kl++] = '.';
    kl += u64_to_a(key + kl, c->member);
    key[kl++] = '.';
    kl += u64_to_a(key + kl, n);

    char *out = w->out + 16, *o = out;
    o += PUT(o, "{\"id\":");
    o += u64_to_a(o, id);
    o += PUT(o, ",\"op\":\"chat.send\",\"args\":{\"chat_id\":\"");
    o += put(o, g->id, g->id_len);
    o += PUT(o, "\",\"text\":\"");
    char *text = o;
    o += PUT(o, "b t=");
    o += u64_to_a(o, now);
    o += PUT(o, " k=");
    o += put(o, key, kl);
    size_t tl = (size_t)(o - text);
    if (tl < opt.text_bytes) {
        *o++ = ' ';
        tl++;
        if (tl < opt.text_bytes) { o += put(o, w->text, opt.text_bytes - tl); }
    }
    o += PUT(o, "\",\"client_msg_id\":\"");
    o += put(o, key, kl);
    o += PUT(o, "\"}}");

    struct slot *sl = &c->ring[id & (opt.ring - 1)];
    sl->id = id;
    sl->sent_ns = now;
    c->inflight++;
    w->outstanding++;
    w->t.sent++;
    return ws_send_text(c, out, (size_t)(o - out));
}

static void send_setup(struct conn *c, uint8_t op) {
    struct worker *w = c->w;
    struct group *g = &w->groups[c->group];
    char *out = w->out + 16, *o = out;
    uint64_t id = c->next_id++;
    o += PUT(o, "{\"id\":");
    o += u64_to_a(o, id);
    if (op == SU_CREATE) {
        o += PUT(o, ",\"op\":\"group.create\",\"args\":{\"title\":\"blast ");
        o += u64_to_a(o, g->global);
        o += PUT(o, "\",\"open\":true}}");
    } else {
        o += PUT(o, ",\"op\":\"group.join\",\"args\":{\"group_id\":\"");
        o += put(o, g->id, g->id_len);
        o += PUT(o, "\"}}");
    }
    c->setup_op = op;
    c->setup_id = id;
    w->setup_outstanding++;
    ws_send_text(c, out, (size_t)(o - out));
}

/* ------------------------------------------------------------------ the loop */

static void pace_connects(struct worker *w, uint64_t now) {
    uint64_t allowed = w->nconns;
    if (w->connect_rate > 0) {
        double due = (double)(now - w->connect_t0) * 1e-9 * w->connect_rate + 1;
        if (due < allowed) allowed = (uint64_t)due;
    }
    while (w->next_connect < allowed && w->pending_handshakes < w->connect_budget) {
        struct conn *c = &w->conns[w->next_connect++];
        w->pending_handshakes++;
        if (!w->t.first_connect_ns) w->t.first_connect_ns = now;
        ws_start_connect(c);
    }
}

void pump(struct worker *w, int64_t timeout_ns) {
    /* 64 at a time: the open loop's schedule is looked at between batches, and a
     * batch of 64 sockets takes well under a millisecond to read */
    struct epoll_event evs[64];
    if (timeout_ns < 0) timeout_ns = 0;
    struct timespec ts = { (time_t)(timeout_ns / 1000000000), (long)(timeout_ns % 1000000000) };
    int n = epoll_pwait2(w->ep, evs, 64, &ts, NULL);
    if (n < 0 && errno == ENOSYS) n = epoll_wait(w->ep, evs, 64, (int)((timeout_ns + 999999) / 1000000));
    w->wake_ns = now_ns();
    for (int i = 0; i < n; i++) {
        struct conn *c = evs[i].data.ptr;
        if (c->fd >= 0) ws_on_event(c, evs[i].events);
    }
}

int phase_connect(struct worker *w, uint64_t deadline) {
    w->connect_t0 = now_ns();
    for (;;) {
        uint64_t now = now_ns();
        pace_connects(w, now);
        if (w->ready + w->failed >= w->nconns) break;
        if (now >= deadline || *w->abort) break;
        int64_t to = 10000000;
        if (w->connect_rate > 0 && w->next_connect < w->nconns) to = (int64_t)(1e9 / w->connect_rate);
        pump(w, to);
    }
    return w->ready == w->nconns ? 0 : -1;
}

static int all_seen(struct worker *w) {
    for (uint32_t i = 0; i < w->nconns; i++) {
        struct conn *c = &w->conns[i];
        if (c->seen_seq < w->groups[c->group].base) return 0;
    }
    return 1;
}

int phase_groups(struct worker *w, uint64_t deadline) {
    uint32_t cap = opt.setup_concurrency / opt.threads;
    if (cap < 1) cap = 1;
    uint32_t next = 0;
    for (;;) {                              /* every group created by its first member */
        while (next < w->ngroups && w->setup_outstanding < cap) send_setup(&w->conns[w->groups[next++].first], SU_CREATE);
        if (next == w->ngroups && w->setup_outstanding == 0) break;
        if (w->failed_setup || *w->abort || now_ns() >= deadline) return -1;
        pump(w, 10000000);
    }
    uint32_t gi = 0, mi = 1;
    for (;;) {                              /* the others join */
        while (gi < w->ngroups && w->setup_outstanding < cap) {
            struct group *g = &w->groups[gi];
            if (mi >= g->members) { gi++; mi = 1; continue; }
            send_setup(&w->conns[g->first + mi], SU_JOIN);
            mi++;
        }
        if (gi >= w->ngroups && w->setup_outstanding == 0) break;
        if (w->failed_setup || *w->abort || now_ns() >= deadline) return -1;
        pump(w, 10000000);
        if (w->t.closed_by_server) return -1;
    }
    for (uint32_t i = 0; i < w->ngroups; i++)
        if (w->groups[i].base != (int64_t)w->groups[i].members && !w->warned_base++)
            fprintf(stderr, "social-blast: note: group %u is at position %lld after %u members joined (expected %u)\n",
                    w->groups[i].global, (long long)w->groups[i].base, w->groups[i].members, w->groups[i].members);
    /* Let the join events reach every member before anything is measured: wait
     * until each member has seen its chat's last position, or until no event
     * has come for a second (a member that missed a join event never sees it). */
    uint64_t settle = now_ns() + 30ull * 1000000000ull;
    while (!all_seen(w)) {
        uint64_t now = now_ns();
        if (now >= settle || *w->abort || now - w->last_event_ns > 1000000000ull) {
            uint32_t behind = 0;
            for (uint32_t i = 0; i < w->nconns; i++) behind += w->conns[i].seen_seq < w->groups[w->conns[i].group].base;
            fprintf(stderr, "social-blast: note: %u member connections never saw their chat's last join "
                    "(no member event for it, and none came for 1 s); setup goes on\n", behind);
            w->t.missed_join_events += behind;
            break;
        }
        pump(w, 10000000);
    }
    uint64_t quiet = now_ns() + 200000000ull;
    while (now_ns() < quiet) pump(w, 10000000);
    for (uint32_t i = 0; i < w->nconns; i++) {
        struct conn *c = &w->conns[i];
        c->next_pos = w->groups[c->group].base + 1;
        c->oldest = c->next_id;
        c->last_ack_seq = -1;
        if (c->last_n) memset(c->last_n, 0, w->senders_per_group * sizeof(uint32_t));
    }
    w->measuring = 1;
    w->t.frames_in = w->t.lines_in = w->t.bytes_in = 0;   /* count what the measured window receives */
    return w->t.closed_by_server ? -1 : 0;
}

static int drained(struct worker *w, uint64_t now) {
    if (w->sending) return 0;
    /* every reply in, and every delivery (or an out-of-order arrival, which fails the check) */
    if (w->outstanding == 0 && w->t.deliveries + w->t.stale >= w->expected_deliveries) return 1;
    if (w->t.closed_by_server && now > w->t_end + 2000000000ull) return 1;   /* what a closed connection misses never comes */
    return 0;
}

void phase_measure(struct worker *w, uint64_t t0) {
    w->t0 = t0;
    w->t_end = t0 + (uint64_t)(opt.duration * 1e9);
    uint64_t deadline = w->t_end + (uint64_t)(opt.drain_timeout * 1e9);
    while (now_ns() < t0) pump(w, (int64_t)(t0 - now_ns()));
    w->sending = 1;
    if (w->closed_loop) {
        for (uint32_t i = 0; i < w->nconns; i++) {
            struct conn *c = &w->conns[i];
            if (c->member >= w->senders_per_group) continue;
            for (uint32_t k = 0; k < opt.inflight; k++) send_message(c, now_ns());
        }
    }
    double period = w->rate > 0 ? 1e9 / w->rate : 0;
    double offset = period * w->index / opt.threads;
    for (;;) {
        uint64_t now = now_ns();
        int64_t timeout = 50000000;
        if (w->sending && now >= w->t_end) w->sending = 0;
        if (w->sending && !w->closed_loop) {
            if (period == 0) w->sending = 0;
            while (w->sending) {
                uint64_t tk = t0 + (uint64_t)(offset + (double)w->k * period);
                if (tk >= w->t_end) { w->sending = 0; break; }
                if (tk > now) { timeout = (int64_t)(tk - now); break; }
                struct conn *c = &w->conns[w->order[w->k % w->nsenders]];
                hist_add(&w->lag, now - tk);
                send_message(c, now_ns());
                w->k++;
                now = now_ns();
            }
        } else if (w->sending) {
            timeout = (int64_t)(w->t_end - now);
            if (timeout > 50000000) timeout = 50000000;
        }
        if (drained(w, now)) break;
        if (now >= deadline) { w->drain_timed_out = 1; break; }
        pump(w, timeout);
    }
}

void phase_hold(struct worker *w, uint64_t until) {
    w->holding = 1;
    for (;;) {
        uint64_t now = now_ns();
        if (now >= until) break;
        pump(w, (int64_t)(until - now));
    }
    w->holding = 0;
}

void close_all(struct worker *w) {
    w->closing = 1;
    for (uint32_t i = 0; i < w->nconns; i++) ws_close(&w->conns[i]);
}
