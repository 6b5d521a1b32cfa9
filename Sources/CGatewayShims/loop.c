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
 * A request head larger than lws's header space (or with more fields than
 * its table holds) makes lws's parser give up and close the connection
 * without an answer, and without a callback before its write side is shut.
 * The only sign is its log line ("Ran out of header data space", "More hdr
 * frags than we can deal with"), logged on this thread while lws handles
 * that connection's socket event. So the loop notes which socket's event is
 * being handled: it wraps the libuv I/O callback of each accepted socket's
 * watcher (`sg_on_socket_io`, set once per watcher at the prepare after the
 * socket was accepted; libuv never resets it), and the log line
 * (`sg_loop_lws_log_line`) answers 431 on that socket at once, before lws
 * closes it. It also sets a flag that the owner takes at the next
 * LWS_CALLBACK_CLOSED_HTTP (`sg_loop_take_header_overflow`), to count it.
 * This reads libuv's watcher table (uv_loop_t.watchers, a field of its
 * public struct meant for libuv itself), so it is built for libuv 1.x on
 * Linux only, and only without TLS (a raw answer cannot go into a TLS
 * stream; TLS is normally ended in front of the gateway).
 *
 * Threads: sg_loop_wake from any thread; everything else from the thread
 * that runs the loop (the lws service thread), after sg_loop_start on it.
 */
#include <libwebsockets.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <uv.h>
#include "CGatewayShims.h"

/* lws's parser ran out of header space on this thread in this pass of the loop (see above). */
static __thread int sg_header_overflow;
/* The accepted socket whose event lws is handling on this thread (-1: none or not known), and its wsi. */
static __thread int sg_current_fd = -1;
static __thread struct lws *sg_current_wsi;

/* Sockets accepted in one pass of the loop whose watcher is wrapped at the next prepare. */
#define SG_LOOP_MAX_CREATED 256

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
    int answer_overflows;         /* wrap socket watchers to answer 431 (plain HTTP only) */
    struct lws *created[SG_LOOP_MAX_CREATED]; /* accepted since the last prepare */
    int ncreated;
    uv__io_cb socket_io_cb;       /* libuv's I/O callback of poll watchers, called by sg_on_socket_io */
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

/* Notes the socket whose event lws handles, for an overflow's 431 (see above). */
static void sg_on_socket_io(uv_loop_t *uv, uv__io_t *w, unsigned int events) {
    struct sg_loop *loop = (struct sg_loop *)uv;
    uv_poll_t *poll = (uv_poll_t *)((char *)w - offsetof(uv_poll_t, io_watcher));
    int previous = sg_current_fd;
    struct lws *previous_wsi = sg_current_wsi;
    sg_current_fd = w->fd;
    sg_current_wsi = poll->data;
    loop->socket_io_cb(uv, w, events);
    sg_current_fd = previous;
    sg_current_wsi = previous_wsi;
}

/* Wraps the watchers of the sockets accepted since the last prepare. */
static void sg_wrap_created(struct sg_loop *loop) {
    for (int i = 0; i < loop->ncreated; i++) {
        struct lws *wsi = loop->created[i];
        int fd = lws_get_socket_fd(wsi);
        if (fd < 0 || (unsigned int)fd >= loop->uv.nwatchers || !loop->uv.watchers[fd]) continue;
        uv__io_t *w = loop->uv.watchers[fd];
        uv_poll_t *poll = (uv_poll_t *)((char *)w - offsetof(uv_poll_t, io_watcher));
        if (poll->type != UV_POLL || poll->data != (void *)wsi) continue;
        if (!loop->socket_io_cb) loop->socket_io_cb = w->cb;
        if (w->cb == loop->socket_io_cb) w->cb = sg_on_socket_io;
    }
    loop->ncreated = 0;
}

static void sg_on_prepare(uv_prepare_t *handle) {
    struct sg_loop *loop = handle->data;
    sg_header_overflow = 0;
    sg_wrap_listeners(loop);
    if (loop->ncreated) sg_wrap_created(loop);
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

/* The answer to a request head lws gave up on, written on its socket before lws closes it. */
static void sg_answer_overflow(int fd) {
    static const char body[] =
        "{\"type\":\"about:blank\",\"title\":\"Request Header Fields Too Large\",\"status\":431,"
        "\"detail\":\"the request head does not fit the gateway's header space, or has too many header fields or query parameters\"}";
    char head[200];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/problem+json\r\n"
                     "content-length: %zu\r\nconnection: close\r\n\r\n", sizeof(body) - 1);
    /*
     * Read what is left of the request first: closing a socket with unread
     * input sends a reset, which may discard the answer before the client
     * has read it.
     */
    char sink[4096];
    for (int i = 0; i < 64 && recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; i++) {}
    if (n > 0 && send(fd, head, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) == n)
        (void)send(fd, body, sizeof(body) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
}

void sg_loop_lws_log_line(const char *line) {
    /*
     * RFC 6455 §5.5: a control frame over 125 bytes fails the connection.
     * lws 4.1 stops reading it and closes without a reason, so without a
     * close frame; given a reason (on the wsi whose socket is being read),
     * its close sends 1002 first.
     */
    if (strstr(line, "Control frame with xtended length is illegal")) {
        if (sg_current_wsi) {
            static const char reason[] = "control frame over 125 bytes";
            lws_close_reason(sg_current_wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR, (unsigned char *)reason, sizeof(reason) - 1);
        }
        return;
    }
    if (!strstr(line, "Ran out of header data space") && !strstr(line, "More hdr frags than we can deal with"))
        return;
    if (sg_current_fd >= 0 && !sg_header_overflow) sg_answer_overflow(sg_current_fd);
    sg_header_overflow = 1;
}

void sg_loop_answer_overflows(struct sg_loop *loop, int answer) {
    loop->answer_overflows = answer;
}

int sg_loop_take_header_overflow(void) {
    int overflow = sg_header_overflow;
    sg_header_overflow = 0;
    return overflow;
}

uint64_t sg_loop_accept_rests(const struct sg_loop *loop) {
    return loop->accept_rests;
}

/*
 * RFC 6455 §7.4: a close frame must carry no payload or a 2-byte code a peer
 * may send, else the connection fails with 1002. lws 4.1 echoes 1002 for
 * codes below 1000, 1004-1006, 1012-1015 and 1016-2999, and echoes the others
 * as they came; codes from 5000 up are not valid either (turned into 1002
 * here, in lws's buffer, before it echoes it), and a 1-byte payload cannot
 * hold a code (closed with 1002 instead of echoed). Service thread.
 */
static int sg_on_peer_close(struct lws *wsi, uint8_t *payload, size_t len) {
    if (len == 1) {
        static const char reason[] = "close payload of 1 byte";
        lws_close_reason(wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR, (unsigned char *)reason, sizeof(reason) - 1);
        return -1;
    }
    if (payload && len >= 2 && ((payload[0] << 8) | payload[1]) >= 5000) {
        payload[0] = (LWS_CLOSE_STATUS_PROTOCOL_ERR >> 8) & 0xff;
        payload[1] = LWS_CLOSE_STATUS_PROTOCOL_ERR & 0xff;
    }
    return 0;
}

int sg_loop_protocol_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
    (void)user;
    struct lws_context *context = wsi ? lws_get_context(wsi) : NULL;
    struct sg_loop *loop = context ? lws_context_user(context) : NULL;
    if (!loop) return 0;
    int r = (int)reason;
    if (reason == LWS_CALLBACK_FILTER_NETWORK_CONNECTION) loop->accepted++;
    if (reason == LWS_CALLBACK_WS_PEER_INITIATED_CLOSE && sg_on_peer_close(wsi, in, len)) return -1;
    if (reason == LWS_CALLBACK_WSI_CREATE && loop->answer_overflows && loop->ncreated < SG_LOOP_MAX_CREATED)
        loop->created[loop->ncreated++] = wsi;
    if (reason == LWS_CALLBACK_WSI_DESTROY)
        for (int i = 0; i < loop->ncreated; i++)
            if (loop->created[i] == wsi) loop->created[i--] = loop->created[--loop->ncreated];
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
