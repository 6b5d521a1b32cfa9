#include <libwebsockets.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "CGatewayShims.h"

size_t sg_lws_pre(void) { return LWS_PRE; }

static const struct lws_extension sg_extensions[] = {
    { "permessage-deflate", lws_extension_callback_pm_deflate,
      "permessage-deflate; client_no_context_takeover; client_max_window_bits" },
    { NULL, NULL, NULL }
};

const struct lws_extension *sg_ws_extensions(void) { return sg_extensions; }

/* One scratch buffer per thread: each lws context has one service thread. */
static __thread uint8_t *scratch;
static __thread size_t scratch_cap;

static uint8_t *scratch_for(size_t len) {
    size_t need = LWS_PRE + len;
    if (need > scratch_cap) {
        size_t cap = scratch_cap ? scratch_cap : 4096;
        while (cap < need) cap *= 2;
        uint8_t *grown = realloc(scratch, cap);
        if (!grown) return NULL;
        scratch = grown;
        scratch_cap = cap;
    }
    return scratch;
}

int sg_ws_write(struct lws *wsi, const uint8_t *buf, size_t len, int binary) {
    uint8_t *b = scratch_for(len);
    if (!b) return -1;
    if (len) memcpy(b + LWS_PRE, buf, len);
    return lws_write(wsi, b + LWS_PRE, len, binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
}

int sg_ws_write_text_in_place(struct lws *wsi, uint8_t *payload, size_t len) {
    return lws_write(wsi, payload, len, LWS_WRITE_TEXT);
}

unsigned int sg_fd_limit_per_thread(unsigned int wanted) {
    int limit = getdtablesize();
    return limit > 0 && limit <= (1 << 20) ? 0 : wanted;
}

void sg_close_async(struct lws *wsi) {
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

int sg_ws_ping(struct lws *wsi) {
    /* lws sends nothing for a zero-length write: give the ping a payload. */
    uint8_t b[LWS_PRE + 4];
    memcpy(b + LWS_PRE, "ping", 4);
    return lws_write(wsi, b + LWS_PRE, 4, LWS_WRITE_PING);
}

/* The reason phrase of a status the gateway sends. */
static const char *sg_reason(unsigned int status) {
    switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
    }
}

int sg_http_respond(struct lws *wsi, unsigned int status, const char *content_type,
                    const uint8_t *body, size_t len,
                    const char *extra_name, const char *extra_value) {
    uint8_t headers[LWS_PRE + 1024];
    uint8_t *start = headers + LWS_PRE, *p = start, *end = headers + sizeof(headers) - 1;
    char line[80];

    /*
     * The status line is written here, always HTTP/1.1: lws writes the
     * request's version, and at LWS_CALLBACK_HTTP_CONFIRM_UPGRADE it does not
     * know it yet (it writes HTTP/1.0, which standard WebSocket clients reject).
     */
    int n = lws_snprintf(line, sizeof(line), "HTTP/1.1 %u %s", status, sg_reason(status));
    if (lws_add_http_header_by_name(wsi, NULL, (const unsigned char *)line, n, &p, end))
        return -1;
    if (content_type &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, (const unsigned char *)content_type,
                                     (int)strlen(content_type), &p, end))
        return -1;
    if (lws_add_http_header_content_length(wsi, (lws_filepos_t)len, &p, end))
        return -1;
    if (extra_name && extra_value &&
        lws_add_http_header_by_name(wsi, (const unsigned char *)extra_name,
                                    (const unsigned char *)extra_value,
                                    (int)strlen(extra_value), &p, end))
        return -1;
    if (lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    if (!len) return 0;
    uint8_t *b = scratch_for(len);
    if (!b) return -1;
    memcpy(b + LWS_PRE, body, len);
    if (lws_write(wsi, b + LWS_PRE, len, LWS_WRITE_HTTP_FINAL) != (int)len)
        return -1;
    return 0;
}

const struct lws_token_limits *sg_token_limits(unsigned short request_target_max) {
    static struct lws_token_limits limits;
    static const enum lws_token_indexes targets[] = {
        WSI_TOKEN_GET_URI, WSI_TOKEN_POST_URI, WSI_TOKEN_OPTIONS_URI, WSI_TOKEN_PUT_URI,
        WSI_TOKEN_PATCH_URI, WSI_TOKEN_DELETE_URI, WSI_TOKEN_HEAD_URI, WSI_TOKEN_HTTP_URI_ARGS,
    };
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
        limits.token_limit[targets[i]] = request_target_max;
    return &limits;
}

int sg_client_append_header(void *in, size_t len, const char *name, const char *value) {
    char **p = (char **)in;
    size_t need = strlen(name) + 2 + strlen(value) + 2;
    if (need >= len) return -1;
    *p += lws_snprintf(*p, len, "%s: %s\r\n", name, value);
    return 0;
}

struct sg_timer {
    lws_sorted_usec_list_t sul;
    struct lws_context *ctx;
    sg_tick_fn fn;
    void *user;
    lws_usec_t period;
};

static void sg_timer_fire(lws_sorted_usec_list_t *sul) {
    struct sg_timer *t = (struct sg_timer *)sul; /* sul is the first member */
    lws_sul_schedule(t->ctx, 0, &t->sul, sg_timer_fire, t->period);
    t->fn(t->user);
}

struct sg_timer *sg_timer_start(struct lws_context *ctx, int64_t period_us, sg_tick_fn fn, void *user) {
    struct sg_timer *t = calloc(1, sizeof(*t));
    if (!t) return NULL;
    t->ctx = ctx;
    t->fn = fn;
    t->user = user;
    t->period = period_us;
    lws_sul_schedule(ctx, 0, &t->sul, sg_timer_fire, period_us);
    return t;
}

void sg_timer_stop(struct sg_timer *t) {
    if (!t) return;
    lws_sul_cancel(&t->sul);
    free(t);
}

int sg_release_free_heap(void) { return malloc_trim(0); }
