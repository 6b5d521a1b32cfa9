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

/** Sends a WebSocket ping (payload "ping"). */
int sg_ws_ping(struct lws *wsi);

/**
 * Writes a whole HTTP/1.1 response (status, Content-Type, Content-Length,
 * optional extra header, body) on a server HTTP wsi.
 * `extra_name` must end with ':' (lws convention) or be NULL.
 * Returns 0 on success, -1 on failure.
 */
int sg_http_respond(struct lws *wsi, unsigned int status, const char *content_type,
                    const uint8_t *body, size_t len,
                    const char *extra_name, const char *extra_value);

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
 * An epoll service loop for one lws context (loop.c): lws's external-poll
 * integration instead of its poll(2) over every socket. Create the loop
 * before the context, forward the ADD/DEL/CHANGE_MODE_POLL_FD callbacks to
 * sg_loop_poll_callback, then call sg_loop_run_once in a loop and
 * sg_loop_housekeep about once a second. All on the service thread, except
 * sg_loop_wake (any thread).
 */
struct sg_loop;
/** The owner's side of the protocol callback: `user` is what sg_loop_set_callback was given. */
typedef int (*sg_loop_callback_fn)(void *user, struct lws *wsi, int reason, void *in, size_t len);
struct sg_loop *sg_loop_new(void);
/** Where forwarded callbacks go. Set before the context is created. */
void sg_loop_set_callback(struct sg_loop *loop, sg_loop_callback_fn callback, void *user);
/** Forwards callback `reason` (an lws_callback_reasons value below 128) to the owner; others are answered 0 here. */
void sg_loop_forward(struct sg_loop *loop, int reason);
/**
 * The lws protocol callback for a context whose `user` is its sg_loop: it
 * keeps the epoll set in step with lws's poll callbacks, and hands the reasons
 * asked for with sg_loop_forward to the owner's callback. Service thread.
 */
int sg_loop_protocol_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);
void sg_loop_free(struct sg_loop *loop);
void sg_loop_set_context(struct sg_loop *loop, struct lws_context *context);
/** Mirrors one lws poll callback into the epoll set. Returns 0, or -1 (lws fails the socket). */
int sg_loop_poll_callback(struct sg_loop *loop, int reason, void *in);
/** Wakes the loop: the next sg_loop_run_once returns 1. Any thread. */
void sg_loop_wake(struct sg_loop *loop);
/**
 * Waits up to `timeout_ms` (-1: forever) for ready sockets or a wake-up,
 * services every ready socket through lws_service_fd, then lws's forced
 * service. Returns 1 when woken by sg_loop_wake, 0 otherwise, -1 when lws
 * failed (the context is unusable).
 */
int sg_loop_run_once(struct sg_loop *loop, int timeout_ms);
/** Runs lws's due timers (handshake and close timeouts) and one zero-timeout poll pass. */
int sg_loop_housekeep(struct sg_loop *loop);
/** Marks sockets added from now on as listeners (1) or not (0): set around lws_create_context. */
void sg_loop_creating(struct sg_loop *loop, int creating);
/** The owner's filter refused a connection (LWS_CALLBACK_FILTER_NETWORK_CONNECTION returned non-zero). */
void sg_loop_refused(struct sg_loop *loop);
/** Open sockets other than listeners: every accepted connection, upgraded or not. */
int sg_loop_socket_count(const struct sg_loop *loop);
/**
 * A listener that is readable but yields neither a socket nor a refusal
 * (accept failing with EMFILE) rests for 20 ms instead of spinning the loop:
 * the milliseconds left of the current rest (-1: none), and how many rests so far.
 */
int sg_loop_accept_paused_ms(const struct sg_loop *loop);
uint64_t sg_loop_accept_pauses(const struct sg_loop *loop);

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

#endif
