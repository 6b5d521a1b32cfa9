/*
 * sg_loop: an epoll service loop for one libwebsockets context.
 *
 * lws 4.1's built-in loop calls poll(2) over every socket on every wake-up,
 * which costs a full scan per completed command at 10,000 connections. lws
 * also supports "external poll": it reports each socket and the events it
 * wants through the LWS_CALLBACK_ADD_POLL_FD / DEL_POLL_FD /
 * CHANGE_MODE_POLL_FD callbacks, and services a ready socket through
 * lws_service_fd. This loop mirrors those reports into an epoll set, so a
 * wake-up costs what is ready, not what is open.
 *
 * What lws would otherwise do in its own loop, done here:
 * - "forced service" (data lws already holds: inflated permessage-deflate
 *   remainders, buffered TLS records): after each batch of events,
 *   lws_service_adjust_timeout says whether any is pending, and
 *   _lws_plat_service_forced_tsi runs it (no system call);
 * - lws's own timers (lws_sul: handshake and close timeouts): lws services
 *   them only inside lws_service, so sg_loop_housekeep runs one
 *   lws_service_tsi(ctx, -1, 0) pass (ripe timers, then a zero-timeout poll)
 *   once a second; lws's timeouts are whole seconds anyway.
 *
 * Wake-ups from other threads go through an eventfd of the loop's own
 * (sg_loop_wake), not lws_cancel_service: lws's cancel pipe is inserted
 * without a vhost, so external poll never hears of it.
 *
 * Threads: sg_loop_wake from any thread; everything else from the thread that
 * runs the loop (the lws service thread).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include "CGatewayShims.h"

#define SG_LOOP_MAX_EVENTS 256
/* How long a listener rests after a readable event that yielded no socket. */
#define SG_LOOP_ACCEPT_PAUSE_MS 20

static int64_t sg_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct sg_fd_slot {
    uint32_t generation; /* bumped on every add: stale events for a reused fd are skipped */
    int16_t events;      /* LWS_POLLIN / LWS_POLLOUT as lws last asked */
    uint8_t active;
    uint8_t listener;    /* added while the context was being created: a listening socket */
};

struct sg_loop {
    sg_loop_callback_fn callback; /* the owner's protocol callback */
    void *user;                   /* the owner, passed to callback */
    uint64_t forwarded[2];        /* bit r: callback reason r goes to the owner */
    int epfd;
    int wakefd;
    struct lws_context *context;
    struct sg_fd_slot *slots;
    int nslots;
    uint32_t next_generation;
    int paused_fd; /* the listener while accepts are paused (-1: none) */
    int64_t paused_until_ms;
    int creating;  /* the context is being created: sockets added now are listeners */
    int sockets;   /* active sockets that are not listeners */
    uint64_t refused; /* connections the owner's filter refused (sg_loop_refused) */
    uint64_t accept_pauses;
    struct epoll_event events[SG_LOOP_MAX_EVENTS];
};

struct sg_loop *sg_loop_new(void) {
    struct sg_loop *loop = calloc(1, sizeof(*loop));
    if (!loop) return NULL;
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    loop->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    loop->paused_fd = -1;
    if (loop->epfd < 0 || loop->wakefd < 0) {
        sg_loop_free(loop);
        return NULL;
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = UINT64_MAX };
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wakefd, &ev) < 0) {
        sg_loop_free(loop);
        return NULL;
    }
    return loop;
}

void sg_loop_free(struct sg_loop *loop) {
    if (!loop) return;
    if (loop->epfd >= 0) close(loop->epfd);
    if (loop->wakefd >= 0) close(loop->wakefd);
    free(loop->slots);
    free(loop);
}

void sg_loop_set_context(struct sg_loop *loop, struct lws_context *context) {
    loop->context = context;
}

void sg_loop_set_callback(struct sg_loop *loop, sg_loop_callback_fn callback, void *user) {
    loop->callback = callback;
    loop->user = user;
}

void sg_loop_forward(struct sg_loop *loop, int reason) {
    if (reason >= 0 && reason < 128) loop->forwarded[reason / 64] |= (uint64_t)1 << (reason % 64);
}

int sg_loop_protocol_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
    (void)user;
    struct lws_context *context = wsi ? lws_get_context(wsi) : NULL;
    struct sg_loop *loop = context ? lws_context_user(context) : NULL;
    if (!loop) return 0;
    switch (reason) {
    case LWS_CALLBACK_ADD_POLL_FD:
    case LWS_CALLBACK_DEL_POLL_FD:
    case LWS_CALLBACK_CHANGE_MODE_POLL_FD:
        return sg_loop_poll_callback(loop, reason, in);
    default:
        break;
    }
    int r = (int)reason;
    if (r < 0 || r >= 128 || !(loop->forwarded[r / 64] & ((uint64_t)1 << (r % 64))) || !loop->callback) return 0;
    return loop->callback(loop->user, wsi, r, in, len);
}

static uint32_t sg_epoll_events(int lws_events) {
    uint32_t e = 0;
    if (lws_events & LWS_POLLIN) e |= EPOLLIN;
    if (lws_events & LWS_POLLOUT) e |= EPOLLOUT;
    return e;
}

static int sg_slot_reserve(struct sg_loop *loop, int fd) {
    if (fd < loop->nslots) return 0;
    int n = loop->nslots ? loop->nslots : 1024;
    while (n <= fd) n *= 2;
    struct sg_fd_slot *grown = realloc(loop->slots, (size_t)n * sizeof(*grown));
    if (!grown) return -1;
    memset(grown + loop->nslots, 0, (size_t)(n - loop->nslots) * sizeof(*grown));
    loop->slots = grown;
    loop->nslots = n;
    return 0;
}

static int sg_ctl(struct sg_loop *loop, int op, int fd) {
    struct sg_fd_slot *slot = &loop->slots[fd];
    struct epoll_event ev;
    ev.events = sg_epoll_events(slot->events);
    ev.data.u64 = ((uint64_t)slot->generation << 32) | (uint32_t)fd;
    return epoll_ctl(loop->epfd, op, fd, &ev);
}

int sg_loop_poll_callback(struct sg_loop *loop, int reason, void *in) {
    const struct lws_pollargs *pa = in;
    if (!loop || !pa) return 0;
    int fd = pa->fd;
    if (fd < 0) return 0;
    switch (reason) {
    case LWS_CALLBACK_ADD_POLL_FD:
        if (sg_slot_reserve(loop, fd)) return -1;
        loop->slots[fd].generation = ++loop->next_generation;
        loop->slots[fd].events = (int16_t)pa->events;
        loop->slots[fd].active = 1;
        loop->slots[fd].listener = (uint8_t)(loop->creating != 0);
        if (!loop->creating) loop->sockets++;
        if (sg_ctl(loop, EPOLL_CTL_ADD, fd) < 0) {
            if (errno != EEXIST || sg_ctl(loop, EPOLL_CTL_MOD, fd) < 0) return -1;
        }
        return 0;
    case LWS_CALLBACK_DEL_POLL_FD:
        if (fd >= loop->nslots || !loop->slots[fd].active) return 0;
        loop->slots[fd].active = 0;
        if (!loop->slots[fd].listener) loop->sockets--;
        if (loop->paused_fd == fd) loop->paused_fd = -1;
        epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
        return 0;
    case LWS_CALLBACK_CHANGE_MODE_POLL_FD:
        if (fd >= loop->nslots || !loop->slots[fd].active) return 0;
        if (loop->slots[fd].events == (int16_t)pa->events) return 0;
        loop->slots[fd].events = (int16_t)pa->events;
        if (loop->paused_fd == fd) return 0; /* re-armed when the pause ends */
        return sg_ctl(loop, EPOLL_CTL_MOD, fd) < 0 ? -1 : 0;
    default:
        return 0;
    }
}

void sg_loop_wake(struct sg_loop *loop) {
    uint64_t one = 1;
    ssize_t n;
    do {
        n = write(loop->wakefd, &one, sizeof(one));
    } while (n < 0 && errno == EINTR);
}

int sg_loop_run_once(struct sg_loop *loop, int timeout_ms) {
    int woken = 0;
    int n = epoll_wait(loop->epfd, loop->events, SG_LOOP_MAX_EVENTS, timeout_ms);
    if (n < 0) return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++) {
        uint64_t data = loop->events[i].data.u64;
        if (data == UINT64_MAX) {
            uint64_t count;
            while (read(loop->wakefd, &count, sizeof(count)) < 0 && errno == EINTR) {}
            woken = 1;
            continue;
        }
        int fd = (int)(uint32_t)data;
        uint32_t generation = (uint32_t)(data >> 32);
        if (fd >= loop->nslots) continue;
        struct sg_fd_slot *slot = &loop->slots[fd];
        /* closed, or closed and reused during this batch: not this socket's event */
        if (!slot->active || slot->generation != generation) continue;
        uint32_t e = loop->events[i].events;
        struct lws_pollfd pfd;
        pfd.fd = fd;
        pfd.events = slot->events;
        pfd.revents = 0;
        if (e & EPOLLIN) pfd.revents |= LWS_POLLIN;
        if (e & EPOLLOUT) pfd.revents |= LWS_POLLOUT;
        if (e & (EPOLLHUP | EPOLLERR)) pfd.revents |= LWS_POLLHUP;
        if (e & EPOLLRDHUP) pfd.revents |= LWS_POLLIN;
        int before = loop->sockets;
        uint64_t refused = loop->refused;
        if (lws_service_fd(loop->context, &pfd) < 0) return -1;
        if (slot->listener && slot->active && loop->sockets <= before && loop->refused == refused
            && loop->paused_fd < 0) {
            /*
             * A readable listener that yielded no socket and no refusal:
             * accept failed (out of descriptors: EMFILE/ENFILE). lws leaves
             * the listener readable, so a level-triggered loop would spin on
             * it; rest it briefly instead.
             */
            loop->paused_fd = fd;
            loop->paused_until_ms = sg_now_ms() + SG_LOOP_ACCEPT_PAUSE_MS;
            epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
            loop->accept_pauses++;
        }
    }
    if (loop->paused_fd >= 0 && sg_now_ms() >= loop->paused_until_ms) {
        int fd = loop->paused_fd;
        loop->paused_fd = -1;
        if (fd < loop->nslots && loop->slots[fd].active) sg_ctl(loop, EPOLL_CTL_ADD, fd);
    }
    /* Data lws already holds (inflated remainders, TLS records) gets its turn. */
    if (!lws_service_adjust_timeout(loop->context, 1, 0))
        if (_lws_plat_service_forced_tsi(loop->context, 0) < 0) return -1;
    return woken;
}

int sg_loop_housekeep(struct sg_loop *loop) {
    return lws_service_tsi(loop->context, -1, 0) < 0 ? -1 : 0;
}

void sg_loop_creating(struct sg_loop *loop, int creating) {
    loop->creating = creating;
}

void sg_loop_refused(struct sg_loop *loop) {
    loop->refused++;
}

int sg_loop_socket_count(const struct sg_loop *loop) {
    return loop->sockets;
}

int sg_loop_accept_paused_ms(const struct sg_loop *loop) {
    if (loop->paused_fd < 0) return -1;
    int64_t left = loop->paused_until_ms - sg_now_ms();
    return left > 0 ? (int)left : 0;
}

uint64_t sg_loop_accept_pauses(const struct sg_loop *loop) {
    return loop->accept_pauses;
}
