/* social-blast: a load driver for the social gateway, cheap enough that the
 * gateway is what gets measured. One epoll loop per thread (one thread by
 * default), non-blocking raw TCP sockets, a minimal RFC 6455 client, no
 * allocation per message. See loadtest/README.md, "social-blast". */
#ifndef BLAST_H
#define BLAST_H

#define _GNU_SOURCE
#include <stdint.h>
#include <stddef.h>
#include <stdatomic.h>
#include <pthread.h>
#include <sys/types.h>

#include "hist.h"

enum scenario { SC_CHAT, SC_FANOUT, SC_PIPELINE, SC_THROUGHPUT, SC_CONNECT };

/* Settings of one run, read-only once the workers start. */
struct options {
    enum scenario scenario;
    const char *scenario_name;
    uint32_t groups, members, senders;   /* senders: per group (closed loop); chat: every member sends */
    uint32_t inflight;                   /* closed loop: sends in flight per sender */
    uint32_t ring;                       /* in-flight slots per sender (power of two >= inflight) */
    double rate;                         /* chat: messages/s over all members */
    double duration;                     /* seconds of sending */
    double drain_timeout, setup_timeout;
    uint32_t text_bytes;
    uint32_t connections;                /* connect: how many; group scenarios: groups x members */
    double connect_rate;                 /* new connections/s, 0 = as fast as possible */
    uint32_t connect_concurrency;        /* handshakes in flight at most (per run) */
    uint32_t setup_concurrency;          /* setup commands in flight at most (per run) */
    double hold;                         /* connect: seconds held idle */
    uint32_t threads;
    uint32_t source_addrs;               /* 127.0.0.1 ... 127.0.0.N as source addresses */
    uint16_t port;
    const char *secret;
    char user_prefix[32];
    const char *label;
    int verbose;
};

extern struct options opt;

/* A command waiting for its reply. */
struct slot {
    uint64_t id;        /* 0: free */
    uint64_t sent_ns;
};

enum conn_state { CS_NEW, CS_CONNECTING, CS_HANDSHAKE, CS_OPEN, CS_READY, CS_CLOSED, CS_FAILED };
enum setup_op { SU_NONE, SU_CREATE, SU_JOIN };

struct worker;

struct conn {
    int fd;
    uint8_t state;
    uint8_t want_out;       /* EPOLLOUT is registered */
    uint8_t setup_op;       /* a setup command is waiting for its reply */
    uint8_t frag_op;        /* opcode of a fragmented message being assembled, 0 = none */
    uint8_t attempts;       /* connect attempts made */
    uint8_t closed_by_server;
    uint16_t close_code;
    uint32_t idx;           /* global connection index (user name, source address) */
    uint32_t group;         /* index into the worker's groups (group scenarios) */
    uint32_t member;        /* position in its group; the first `senders` members send */
    struct worker *w;

    uint64_t connect_ns;    /* when connect() was called */
    uint64_t ready_ns;      /* when `hello` arrived */

    /* receive: bytes of an incomplete frame (or the handshake answer), and a fragmented message */
    char *rbuf; uint32_t rlen, rcap;
    char *mbuf; uint32_t mlen, mcap;
    /* send: bytes the socket did not take yet */
    char *obuf; uint32_t olen, ocap, ooff;

    /* commands */
    uint64_t next_id;       /* id of the next command */
    uint64_t setup_id;
    uint64_t oldest;        /* lowest id still waiting for a reply (replies-in-order check) */
    struct slot *ring;      /* senders only: opt.ring slots, by id & (ring - 1) */
    uint32_t inflight;
    uint32_t sent_n;        /* messages this connection has sent (the n of its key) */
    int64_t last_ack_seq;   /* seq of its last acknowledged message: must increase */

    /* delivery check */
    int64_t seen_seq;       /* setup: highest position seen in a reply or positioned event */
    int64_t next_pos;       /* measured phase: the updated_seq the next message.new must carry */
    uint64_t received;      /* message.new applied at this connection */
    uint32_t *last_n;       /* per sender of its group: the n of the last message from it */
};

struct group {
    char id[72];
    uint32_t id_len;
    uint32_t first;         /* index of its first member in the worker's conns */
    uint32_t members;
    uint32_t global;        /* global group index */
    int64_t base;           /* chat position once setup is done */
    uint64_t acked;         /* ok replies to chat.send */
    uint8_t created;
};

#define MAX_ERR_CODES 8
struct err_count { char code[32]; uint64_t n; };

/* What a worker counts; merged over workers at the end. */
struct tally {
    uint64_t sent, acked, err_replies, duplicates_acked, unknown_replies, replies_out_of_order, ack_seq_order;
    uint64_t deliveries, gaps, stale, wrong_chat, sender_order, unparsed, before_setup, other_positioned;
    uint64_t skipped_full;              /* open loop: a send not made because the sender's slots were full */
    uint64_t closed_by_server, connect_failed, connect_retries, handshake_failed, protocol_errors;
    uint64_t pings;
    uint64_t missed_join_events;        /* setup: members that never saw the last join of their chat */
    uint64_t opened;                    /* connect: connections that got `hello` */
    uint64_t dropped_hold;              /* connect: connections lost while held */
    uint64_t first_connect_ns, last_ready_ns;
    uint64_t last_ack_ns, last_delivery_ns;
    uint64_t frames_in, lines_in, bytes_in;
    struct err_count errs[MAX_ERR_CODES];
    uint32_t nerrs;
};

struct worker {
    uint32_t index;
    int ep;
    pthread_t thread;
    struct conn *conns; uint32_t nconns;
    struct group *groups; uint32_t ngroups;
    uint32_t *order;           /* chat: members in sending order (round robin over groups) */
    uint32_t nsenders;         /* chat: members that send; closed loop: sending connections */

    /* connect pacing */
    uint32_t next_connect;     /* next conns[] index to connect */
    uint32_t pending_handshakes;
    uint32_t connect_budget;   /* handshakes this worker may have in flight */
    double connect_rate;       /* this worker's share */
    uint64_t connect_t0;
    uint32_t ready, failed;

    uint32_t setup_outstanding;
    int failed_setup;
    int warned_base;
    uint32_t senders_per_group;  /* members 0 .. this-1 of each group send */
    atomic_int *abort;           /* shared: a worker failed, the others stop waiting */
    int closed_loop;             /* fanout, pipeline, throughput: W in flight per sender */
    int measuring;               /* setup done: message.new is checked */
    int holding, closing, drain_timed_out;
    uint64_t last_event_ns;      /* setup: when a reply or a positioned event last came */

    /* measured phase */
    uint64_t t0, t_end, t_deadline;
    int sending;
    double rate;               /* chat: this worker's share of the rate */
    uint64_t k;                /* chat: sends scheduled so far */
    uint64_t outstanding;      /* sends without a reply */
    uint64_t expected_deliveries;

    struct tally t;
    struct hist ack, deliv, lag, connect, rdelay;
    uint64_t wake_ns;          /* when epoll last returned */

    /* scratch */
    char *in;  size_t in_cap;    /* recv buffer */
    char *out; size_t out_cap;   /* frame building */
    char *text;                  /* message text padding template */
};

/* time.c-ish helpers */
uint64_t now_ns(void);
uint64_t wall_s(void);

/* ws.c */
void ws_start_connect(struct conn *c);
void ws_on_event(struct conn *c, uint32_t events);
int ws_send_text(struct conn *c, const char *payload, size_t len);
void ws_close(struct conn *c);
void ws_prepare(uint32_t connections);  /* handshake requests and tokens, before anything is measured */

/* run.c: what a line received means */
void on_line(struct conn *c, char *line, size_t len, uint64_t now);
void on_ready(struct conn *c, uint64_t now);
void on_closed(struct conn *c);
int send_message(struct conn *c, uint64_t now);

/* gateway.c */
struct gwstat { uint64_t ticks; uint64_t rss_kib; int ok; };
int gw_spawn(const char *binary, const char **extra, int nextra, uint16_t *port_out, const char *secret);
void gw_stop(void);
pid_t gw_pid(void);
void gw_set_pid(pid_t pid);
struct gwstat gw_sample(void);
double gw_tick_seconds(void);
void loadavg(char *buf, size_t n);

/* jwt.c */
size_t jwt_mint(char *out, size_t cap, const char *secret, const char *sub, uint64_t exp);
size_t b64_encode(char *out, const unsigned char *in, size_t n, int url);

/* scan.c */
const char *scan_find(const char *s, size_t n, const char *key, size_t klen);
int scan_int(const char *s, size_t n, const char *key, size_t klen, int64_t *out);
int scan_str(const char *s, size_t n, const char *key, size_t klen, const char **v, size_t *vlen);
size_t u64_to_a(char *out, uint64_t v);

/* tally helpers */
void tally_err(struct tally *t, const char *code, size_t len);

#define KEY(s) s, (sizeof(s) - 1)

#endif
