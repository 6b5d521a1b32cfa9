#ifndef SG_GATEWAY_SHIMS_H
#define SG_GATEWAY_SHIMS_H
/*
 * What Swift cannot import from libwebsockets: the LWS_PRE macro, the
 * extension table, header-building helpers and a periodic timer built on
 * lws_sul. Every function here runs on the lws service thread that owns the
 * wsi or context it is given, unless its comment says otherwise.
 * At the end: libbson storage for SocialMongo (no thread affinity).
 */
#include <stddef.h>
#include <stdint.h>
#include <libwebsockets.h>

struct lws;
struct lws_context;
struct lws_extension;

/** LWS_PRE: headroom lws needs before every payload passed to lws_write. */
size_t sg_lws_pre(void);

/** The permessage-deflate extension table (static; never freed). */
const struct lws_extension *sg_ws_extensions(void);

/**
 * Writes one WebSocket message: copies `len` bytes after LWS_PRE headroom in
 * a per-thread scratch buffer and calls lws_write. `binary` selects the opcode.
 * Returns lws_write's result (< len means the connection is failing).
 */
int sg_ws_write(struct lws *wsi, const uint8_t *buf, size_t len, int binary);

/**
 * Writes one WebSocket text message that already has LWS_PRE bytes of
 * headroom in front of it: `payload` points just past that headroom (lws
 * writes the frame header there), so nothing is copied. Returns lws_write's
 * result (< len means the connection is failing).
 */
int sg_ws_write_text_in_place(struct lws *wsi, uint8_t *payload, size_t len);

/**
 * The descriptor limit to give lws as fd_limit_per_thread: 0 (lws then
 * sizes its tables by the process's open-file limit and finds a socket's
 * wsi by direct index) unless that limit is above 1M, when `wanted` bounds
 * the tables instead (lws then searches them linearly). Any thread.
 */
unsigned int sg_fd_limit_per_thread(unsigned int wanted);

/**
 * Closes `wsi` on lws's next pass through its timers, without a close frame
 * or response (a socket that never finished its request). Safe inside a
 * callback of another wsi.
 */
void sg_close_async(struct lws *wsi);

/** Sends a WebSocket ping (payload "ping"). */
int sg_ws_ping(struct lws *wsi);

/**
 * Writes a whole HTTP/1.1 response (status, Content-Type, Content-Length,
 * optional extra header, body) on a server HTTP wsi. The status line is
 * always HTTP/1.1, also for a refused WebSocket upgrade (lws would write
 * HTTP/1.0 there).
 * `extra_name` must end with ':' (lws convention) or be NULL.
 * Returns 0 on success, -1 on failure.
 */
int sg_http_respond(struct lws *wsi, unsigned int status, const char *content_type,
                    const uint8_t *body, size_t len,
                    const char *extra_name, const char *extra_value);

/**
 * Token limits for the context: the request target (each method's path, and
 * each query argument) is cut at `request_target_max` bytes instead of
 * filling lws's header space; the owner answers 414 when it reached that.
 * Static storage, one set per process. Any thread, before the context is created.
 */
const struct lws_token_limits *sg_token_limits(unsigned short request_target_max);

/**
 * Appends one "Name: value\r\n" header line during
 * LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER. `in`/`len` are the callback's.
 * Returns 0, or -1 if it does not fit.
 */
int sg_client_append_header(void *in, size_t len, const char *name, const char *value);

/** A periodic timer on the context's service thread (lws_sul based). */
typedef void (*sg_tick_fn)(void *user);
struct sg_timer;
struct sg_timer *sg_timer_start(struct lws_context *ctx, int64_t period_us, sg_tick_fn fn, void *user);
/** Cancels and frees the timer. Service thread only. */
void sg_timer_stop(struct sg_timer *timer);

/*
 * The service loop of one lws context (loop.c): a libuv loop of the
 * gateway's own, given to lws as its foreign loop (LWS_SERVER_OPTION_LIBUV),
 * so sockets are watched with epoll instead of lws's poll(2) over all of them.
 * Create the loop, set its callbacks, sg_loop_start it on the service
 * thread, create the context with `user` = the loop and `foreign_loops` =
 * sg_loop_uv, then sg_loop_run until sg_loop_stop; sg_loop_finish destroys
 * the context and closes the loop. All on the service thread, except
 * sg_loop_wake (any thread).
 */
struct sg_loop;
/** The owner's side of the protocol callback: `user` is what sg_loop_set_callback was given. */
typedef int (*sg_loop_callback_fn)(void *user, struct lws *wsi, int reason, void *in, size_t len);
/**
 * What the loop tells its owner, besides lws callbacks: a wake-up, the
 * moment before the loop waits for I/O (work the service thread posted to
 * itself is drained then), the periodic tick, the deadline.
 */
enum { SG_LOOP_WAKE = 1, SG_LOOP_PREPARE = 2, SG_LOOP_TICK = 3, SG_LOOP_DEADLINE = 4 };
typedef void (*sg_loop_event_fn)(void *user, int event);
struct sg_loop *sg_loop_new(void);
/** Frees a loop that was never started or has finished. */
void sg_loop_free(struct sg_loop *loop);
/** Where forwarded lws callbacks go. Set before the context is created. */
void sg_loop_set_callback(struct sg_loop *loop, sg_loop_callback_fn callback, void *user);
/** Where loop events go. Set before the loop starts. */
void sg_loop_set_events(struct sg_loop *loop, sg_loop_event_fn event, void *user);
/** Forwards callback `reason` (an lws_callback_reasons value below 128) to the owner; others are answered 0 here. */
void sg_loop_forward(struct sg_loop *loop, int reason);
/** Initialises the uv loop, its wake-up and timers (a tick every `tick_ms`, 0: none). Service thread. Returns 0 or -1. */
int sg_loop_start(struct sg_loop *loop, uint64_t tick_ms);
/** The uv_loop_t, for lws_context_creation_info.foreign_loops. */
void *sg_loop_uv(struct sg_loop *loop);
/**
 * The context, once created: the loop finds lws's listening sockets on it
 * and rests a listener whose accept() fails instead of spinning (loop.c).
 */
void sg_loop_set_context(struct sg_loop *loop, struct lws_context *context);
/**
 * Tells the loop of this thread about a line lws logged (call it from the
 * log emitter, on the thread that logged): a header-space overflow is
 * answered 431 on the socket being handled, before lws closes it (loop.c).
 */
void sg_loop_lws_log_line(const char *line);
/** Whether overflowing request heads are answered 431 (1; plain HTTP only) or just closed (0). Before the context is created. */
void sg_loop_answer_overflows(struct sg_loop *loop, int answer);
/**
 * Whether lws's parser overflowed on this thread since the last call in
 * this pass of the loop (and forgets it): at LWS_CALLBACK_CLOSED_HTTP, the
 * connection being closed is the one whose request head overflowed (answered
 * 431 already, when it could be). Service thread.
 */
int sg_loop_take_header_overflow(void);
/** How many times a listener rested because accept() failed (out of descriptors). Service thread. */
uint64_t sg_loop_accept_rests(const struct sg_loop *loop);
/**
 * The lws protocol callback for a context whose `user` is its sg_loop: hands
 * the reasons asked for with sg_loop_forward to the owner's callback. Service thread.
 */
int sg_loop_protocol_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);
/** Wakes the loop: the owner gets SG_LOOP_WAKE soon (several wakes may arrive as one). Any thread. */
void sg_loop_wake(struct sg_loop *loop);
/** SG_LOOP_DEADLINE in `in_ms` milliseconds (once; a later call replaces it; negative: none). */
void sg_loop_set_deadline(struct sg_loop *loop, int64_t in_ms);
/** Runs the loop until sg_loop_stop. */
void sg_loop_run(struct sg_loop *loop);
/** Makes sg_loop_run return (from a callback or event on the service thread). */
void sg_loop_stop(struct sg_loop *loop);
/** Destroys `context` (may be NULL), closes the loop's handles and the loop, after sg_loop_run returned. */
void sg_loop_finish(struct sg_loop *loop, struct lws_context *context);

/*
 * libbson storage Swift cannot allocate itself: bson_t and bson_iter_t are
 * 128-byte aligned, so Swift sees pointers to them only as OpaquePointer and
 * cannot size them. These have no thread affinity: any thread may call them,
 * and the returned storage belongs to the caller (SocialMongo's owners).
 */
struct _bson_t;

/** An empty bson_t for a libmongoc out-parameter (reply, cursor document copy). Free with sg_bson_reply_free. */
struct _bson_t *sg_bson_reply_new(void);
/** Destroys what libmongoc put in `reply` and frees its storage. */
void sg_bson_reply_free(struct _bson_t *reply);
/** Uninitialised storage for one bson_iter_t (pass to bson_iter_init / bson_iter_recurse). */
void *sg_bson_iter_new(void);
void sg_bson_iter_free(void *iter);

/**
 * Hands the heap's free pages back to the system (glibc `malloc_trim(0)`):
 * 1 when some memory was released. Any thread (glibc locks each arena in turn).
 */
int sg_release_free_heap(void);

#endif
