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
 * - a periodic tick and a one-shot deadline timer for the owner.
 * lws installs no signal handlers on a foreign loop.
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
#include <uv.h>
#include "CGatewayShims.h"

struct sg_loop {
    uv_loop_t uv;
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

static void sg_on_prepare(uv_prepare_t *handle) {
    struct sg_loop *loop = handle->data;
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
    if (uv_async_init(&loop->uv, &loop->wake, sg_on_wake)) return -1;
    uv_idle_init(&loop->uv, &loop->forced);
    uv_prepare_init(&loop->uv, &loop->prepare);
    uv_prepare_start(&loop->prepare, sg_on_prepare);
    uv_unref((uv_handle_t *)&loop->prepare);
    uv_timer_init(&loop->uv, &loop->tick);
    uv_timer_init(&loop->uv, &loop->deadline);
    if (tick_ms) uv_timer_start(&loop->tick, sg_on_tick, tick_ms, tick_ms);
    loop->started = 1;
    return 0;
}

void *sg_loop_uv(struct sg_loop *loop) {
    return &loop->uv;
}

void sg_loop_set_context(struct sg_loop *loop, struct lws_context *context) {
    loop->context = context;
}

int sg_loop_protocol_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
    (void)user;
    struct lws_context *context = wsi ? lws_get_context(wsi) : NULL;
    struct sg_loop *loop = context ? lws_context_user(context) : NULL;
    if (!loop) return 0;
    int r = (int)reason;
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
