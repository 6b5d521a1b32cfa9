/*
 * sg_loop: an epoll-based service loop for one libwebsockets context, on
 * libuv, owned by the gateway (a "foreign loop" to lws).
 *
 * lws 4.1's built-in loop calls poll(2) over every socket on every wake-up,
 * which at 10,000 connections costs a full scan per completed command.
 * Debian builds lws without its external-poll hooks, but with its event-loop
 * plugins: given LWS_SERVER_OPTION_LIBUV and a uv loop in `foreign_loops`,
 * lws watches each socket with its own uv_poll handle (epoll underneath) and
 * runs its timers on uv timers. The loop is ours: we run it, we stop it, and
 * we add what the gateway needs to it:
 * - a uv_async wake-up, which any thread may trigger (`sg_loop_wake`): the
 *   owner drains its inbox when it fires;
 * - a periodic tick and a one-shot deadline timer for the owner;
 * - a rest for the listener when accept() fails (see below).
 * lws installs no signal handlers on a foreign loop.
 *
 * Out of descriptors, accept() fails with EMFILE and lws 4.1 logs it and
 * returns, leaving the connection in the backlog and the listener readable:
 * its uv_poll watcher is level-triggered, so the loop would call it again at
 * once, forever (a full core, thousands of log lines a second, every other
 * socket served late). The loop wraps the listener's watcher callback
 * (`sg_on_listener`; lws sets the callback again whenever it restarts the
 * watcher, so the wrapper is put back before each wait): a readable event
 * that accepted nothing (no LWS_CALLBACK_FILTER_NETWORK_CONNECTION) stops
 * the watcher for SG_LOOP_ACCEPT_REST_MS. lws restarts it earlier itself
 * when a socket closes, which is when a descriptor comes free.
 *
 * The protocol callback (`sg_loop_protocol_callback`) hands the owner only
 * the callback reasons it asked for (`sg_loop_forward`) and answers the rest
 * with 0 here, so the many internal reasons never enter Swift.
 *
 * Threads: sg_loop_wake from any thread; everything else from the thread
 * that runs the loop (the lws service thread), after sg_loop_start on it.
 */
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <uv.h>
#include "CGatewayShims.h"

/* Listening sockets whose watcher the loop wraps; lws makes one per vhost and address family. */
#define SG_LOOP_MAX_LISTENERS 4
/* How long a listener rests after a readable event that accepted nothing. */
#define SG_LOOP_ACCEPT_REST_MS 20

struct sg_loop {
    uv_loop_t uv; /* first: a handle's loop pointer is its sg_loop */
    uv_async_t wake;
    uv_prepare_t prepare;
    uv_idle_t forced;
    uv_timer_t tick;
    uv_timer_t deadline;
    sg_loop_callback_fn callback; /* the owner's protocol callback */
    void *user;                   /* passed to callback */
    sg_loop_event_fn event;       /* the owner's loop events: wake-up, prepare, tick, deadline */
    void *event_user;             /* passed to event */
    uint64_t forwarded[2];        /* bit r: callback reason r goes to the owner */
    struct lws_context *context; /* set once created: forced service needs it */
    int started;
    uv_timer_t accept_rest;       /* ends a listener's rest */
    uv_poll_t *listeners[SG_LOOP_MAX_LISTENERS];
    uv_poll_cb listener_cb[SG_LOOP_MAX_LISTENERS]; /* lws's callback of each, called by sg_on_listener */
    int resting[SG_LOOP_MAX_LISTENERS];            /* stopped by the loop, to restart when the rest ends */
    int nlisteners;
    uint64_t accepted;            /* accept() calls that returned a socket (FILTER_NETWORK_CONNECTION) */
    uint64_t accept_rests;
};

struct sg_loop *sg_loop_new(void) {
    return calloc(1, sizeof(struct sg_loop));
}

void sg_loop_free(struct sg_loop *loop) {
    free(loop);
}

void sg_loop_set_callback(struct sg_loop *loop, sg_loop_callback_fn callback, void *user) {
    loop->callback = callback;
    loop->user = user;
}

void sg_loop_set_events(struct sg_loop *loop, sg_loop_event_fn event, void *user) {
    loop->event = event;
    loop->event_user = user;
}

void sg_loop_forward(struct sg_loop *loop, int reason) {
    if (reason >= 0 && reason < 128) loop->forwarded[reason / 64] |= (uint64_t)1 << (reason % 64);
}

static void sg_on_wake(uv_async_t *handle) {
    struct sg_loop *loop = handle->data;
    if (loop->event) loop->event(loop->event_user, SG_LOOP_WAKE);
}

static void sg_on_listener(uv_poll_t *handle, int status, int events);

/* Puts the wrapper back on listeners whose watcher lws restarted since the last wait. */
static void sg_wrap_listeners(struct sg_loop *loop) {
    for (int i = 0; i < loop->nlisteners; i++) {
        uv_poll_t *h = loop->listeners[i];
        if (h->poll_cb && h->poll_cb != sg_on_listener) {
            loop->listener_cb[i] = h->poll_cb;
            h->poll_cb = sg_on_listener;
        }
    }
}

static void sg_on_accept_rest(uv_timer_t *timer) {
    struct sg_loop *loop = timer->data;
    for (int i = 0; i < loop->nlisteners; i++) {
        if (!loop->resting[i]) continue;
        loop->resting[i] = 0;
        /* lws may have restarted it meanwhile (a socket closed): then it runs already. */
        if (!uv_is_active((uv_handle_t *)loop->listeners[i]) && loop->listener_cb[i])
            uv_poll_start(loop->listeners[i], UV_READABLE, sg_on_listener);
    }
}

static void sg_on_listener(uv_poll_t *handle, int status, int events) {
    struct sg_loop *loop = (struct sg_loop *)handle->loop;
    int i = 0;
    while (i < loop->nlisteners && loop->listeners[i] != handle) i++;
    if (i == loop->nlisteners || !loop->listener_cb[i]) return;
    uint64_t before = loop->accepted;
    loop->listener_cb[i](handle, status, events);
    if (status < 0 || !(events & UV_READABLE) || loop->accepted != before || !loop->context ||
        !uv_is_active((uv_handle_t *)handle))
        return;
    /* Readable, and nothing accepted: accept() failed (EMFILE, ENFILE, ENOBUFS). Rest. */
    uv_poll_stop(handle);
    loop->resting[i] = 1;
    loop->accept_rests++;
    if (!uv_is_active((uv_handle_t *)&loop->accept_rest))
        uv_timer_start(&loop->accept_rest, sg_on_accept_rest, SG_LOOP_ACCEPT_REST_MS, 0);
}

static void sg_on_prepare(uv_prepare_t *handle) {
    struct sg_loop *loop = handle->data;
    sg_wrap_listeners(loop);
    if (loop->event) loop->event(loop->event_user, SG_LOOP_PREPARE);
}

static void sg_on_tick(uv_timer_t *handle) {
    struct sg_loop *loop = handle->data;
    if (loop->event) loop->event(loop->event_user, SG_LOOP_TICK);
}

static void sg_on_deadline(uv_timer_t *handle) {
    struct sg_loop *loop = handle->data;
    if (loop->event) loop->event(loop->event_user, SG_LOOP_DEADLINE);
}

int sg_loop_start(struct sg_loop *loop, uint64_t tick_ms) {
    if (uv_loop_init(&loop->uv)) return -1;
    loop->wake.data = loop;
    loop->prepare.data = loop;
    loop->forced.data = loop;
    loop->tick.data = loop;
    loop->deadline.data = loop;
    loop->accept_rest.data = loop;
    if (uv_async_init(&loop->uv, &loop->wake, sg_on_wake)) return -1;
    uv_idle_init(&loop->uv, &loop->forced);
    uv_prepare_init(&loop->uv, &loop->prepare);
    uv_prepare_start(&loop->prepare, sg_on_prepare);
    uv_unref((uv_handle_t *)&loop->prepare);
    uv_timer_init(&loop->uv, &loop->tick);
    uv_timer_init(&loop->uv, &loop->deadline);
    uv_timer_init(&loop->uv, &loop->accept_rest);
    if (tick_ms) uv_timer_start(&loop->tick, sg_on_tick, tick_ms, tick_ms);
    loop->started = 1;
    return 0;
}

void *sg_loop_uv(struct sg_loop *loop) {
    return &loop->uv;
}

/* A uv_poll handle on a listening socket: one of lws's listeners (uv_walk callback). */
static void sg_find_listener(uv_handle_t *handle, void *arg) {
    struct sg_loop *loop = arg;
    uv_os_fd_t fd;
    int listening = 0;
    socklen_t len = sizeof(listening);
    if (handle->type != UV_POLL || loop->nlisteners >= SG_LOOP_MAX_LISTENERS || uv_fileno(handle, &fd) ||
        getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) || !listening)
        return;
    loop->listeners[loop->nlisteners++] = (uv_poll_t *)handle;
}

void sg_loop_set_context(struct sg_loop *loop, struct lws_context *context) {
    loop->context = context;
    loop->nlisteners = 0;
    if (context) {
        uv_walk(&loop->uv, sg_find_listener, loop);
        sg_wrap_listeners(loop);
    }
}

uint64_t sg_loop_accept_rests(const struct sg_loop *loop) {
    return loop->accept_rests;
}

int sg_loop_protocol_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
    (void)user;
    struct lws_context *context = wsi ? lws_get_context(wsi) : NULL;
    struct sg_loop *loop = context ? lws_context_user(context) : NULL;
    if (!loop) return 0;
    int r = (int)reason;
    if (reason == LWS_CALLBACK_FILTER_NETWORK_CONNECTION) loop->accepted++;
    if (r < 0 || r >= 128 || !(loop->forwarded[r / 64] & ((uint64_t)1 << (r % 64))) || !loop->callback) return 0;
    return loop->callback(loop->user, wsi, r, in, len);
}

void sg_loop_wake(struct sg_loop *loop) {
    uv_async_send(&loop->wake);
}

void sg_loop_set_deadline(struct sg_loop *loop, int64_t in_ms) {
    if (in_ms < 0) {
        uv_timer_stop(&loop->deadline);
        return;
    }
    uv_timer_start(&loop->deadline, sg_on_deadline, (uint64_t)in_ms, 0);
}

void sg_loop_run(struct sg_loop *loop) {
    uv_run(&loop->uv, UV_RUN_DEFAULT);
}

void sg_loop_stop(struct sg_loop *loop) {
    uv_stop(&loop->uv);
}

static void sg_walk_close(uv_handle_t *handle, void *arg) {
    (void)arg;
    if (!uv_is_closing(handle)) uv_close(handle, NULL);
}

void sg_loop_finish(struct sg_loop *loop, struct lws_context *context) {
    if (!loop->started) return;
    uv_timer_stop(&loop->tick);
    uv_timer_stop(&loop->deadline);
    uv_timer_stop(&loop->accept_rest);
    uv_close((uv_handle_t *)&loop->accept_rest, NULL);
    /* lws closes its listeners with the context: give them back their own callback first. */
    for (int i = 0; i < loop->nlisteners; i++)
        if (loop->listener_cb[i] && loop->listeners[i]->poll_cb == sg_on_listener)
            loop->listeners[i]->poll_cb = loop->listener_cb[i];
    loop->nlisteners = 0;
    uv_close((uv_handle_t *)&loop->tick, NULL);
    uv_close((uv_handle_t *)&loop->deadline, NULL);
    uv_close((uv_handle_t *)&loop->wake, NULL);
    uv_prepare_stop(&loop->prepare);
    uv_close((uv_handle_t *)&loop->prepare, NULL);
    uv_idle_stop(&loop->forced);
    uv_close((uv_handle_t *)&loop->forced, NULL);
    loop->context = NULL;
    /*
     * On a foreign loop lws destroys a context in two calls: the first closes
     * every socket's handle, which completes as the loop runs; the second,
     * once they are closed, frees the rest.
     */
    if (context) lws_context_destroy(context);
    for (int i = 0; i < 1000 && uv_run(&loop->uv, UV_RUN_NOWAIT); i++) {}
    if (context) lws_context_destroy(context);
    for (int i = 0; i < 1000 && uv_run(&loop->uv, UV_RUN_NOWAIT); i++) {}
    if (uv_loop_close(&loop->uv) == UV_EBUSY) {
        uv_walk(&loop->uv, sg_walk_close, NULL);
        for (int i = 0; i < 1000 && uv_run(&loop->uv, UV_RUN_NOWAIT); i++) {}
        uv_loop_close(&loop->uv);
    }
    loop->started = 0;
}
