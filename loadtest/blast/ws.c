/* A minimal RFC 6455 client over non-blocking TCP: the upgrade request and
 * its answer, masked text frames out, server frames in (fragmentation, ping,
 * pong, close). Everything here runs on the thread of the connection's
 * worker.
 *
 * Client frames use the all-zero masking key: the frame is masked as RFC 6455
 * requires (mask bit set, 4-byte key present), but XOR with zero leaves the
 * payload as it is, so a send is one copy. A load driver does not need the
 * proxy-cache protection that random keys give a browser. */
#include "blast.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <openssl/sha.h>

#define MAX_FRAME (64u << 20)   /* a larger server frame is a protocol error here */
#define MAX_CONNECT_ATTEMPTS 5

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* Prepared before anything is measured: the upgrade request of every
 * connection (with its token), so connecting costs a socket, a connect and a
 * write. */
static char *requests;
static uint32_t *request_off;
static uint64_t nonce;

static void ws_key(uint32_t idx, char out[24]) {
    unsigned char raw[16];
    memcpy(raw, &nonce, 8);
    memcpy(raw + 8, &idx, 4);
    memcpy(raw + 12, "blst", 4);
    b64_encode(out, raw, 16, 0);
}

void ws_prepare(uint32_t n) {
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(&nonce, sizeof nonce, 1, f) != 1) nonce = now_ns();
    if (f) fclose(f);
    size_t per = 1024;
    requests = malloc((size_t)n * per);
    request_off = malloc(((size_t)n + 1) * sizeof(uint32_t));
    if (!requests || !request_off) { perror("malloc"); exit(1); }
    uint64_t exp = wall_s() + 24 * 3600;
    size_t o = 0;
    char user[96], token[768], key[25];
    key[24] = 0;
    for (uint32_t i = 0; i < n; i++) {
        request_off[i] = (uint32_t)o;
        snprintf(user, sizeof user, "%s-u%u", opt.user_prefix, i);
        size_t tl = jwt_mint(token, sizeof token, opt.secret, user, exp);
        if (!tl) { fprintf(stderr, "social-blast: cannot mint a token\n"); exit(1); }
        token[tl] = 0;
        ws_key(i, key);
        int len = snprintf(requests + o, per,
            "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Protocol: social.v1\r\n"
            "Authorization: Bearer %s\r\n\r\n", opt.port, key, token);
        if (len <= 0 || (size_t)len >= per) { fprintf(stderr, "social-blast: request too long\n"); exit(1); }
        o += (size_t)len;
    }
    request_off[n] = (uint32_t)o;
}

static void set_events(struct conn *c, int out) {
    struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c };
    epoll_ctl(c->w->ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = (uint8_t)out;
}

static void grow(char **buf, uint32_t *cap, size_t need) {
    if (need <= *cap) return;
    size_t n = *cap ? *cap : 4096;
    while (n < need) n *= 2;
    char *p = realloc(*buf, n);
    if (!p) { perror("realloc"); exit(1); }
    *buf = p;
    *cap = (uint32_t)n;
}

static void drop(struct conn *c, uint8_t state) {
    if (c->fd >= 0) {
        epoll_ctl(c->w->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
    uint8_t was = c->state;
    c->state = state;
    c->olen = c->ooff = 0;
    c->rlen = 0;
    if (was != CS_CLOSED && was != CS_FAILED) on_closed(c);
}

/* Writes or queues bytes; the socket's buffer is the queue while it has room. */
static int out_write(struct conn *c, const char *buf, size_t len) {
    if (c->fd < 0) return -1;
    if (c->olen == c->ooff) {
        c->olen = c->ooff = 0;
        ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n == (ssize_t)len) return 0;
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) { drop(c, CS_CLOSED); return -1; }
            n = 0;
        }
        buf += n; len -= (size_t)n;
    }
    grow(&c->obuf, &c->ocap, c->olen + len);
    memcpy(c->obuf + c->olen, buf, len);
    c->olen += (uint32_t)len;
    if (!c->want_out) set_events(c, 1);
    return 0;
}

static void flush_out(struct conn *c) {
    while (c->ooff < c->olen) {
        ssize_t n = send(c->fd, c->obuf + c->ooff, c->olen - c->ooff, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EINTR) continue;
            drop(c, CS_CLOSED);
            return;
        }
        c->ooff += (uint32_t)n;
    }
    c->olen = c->ooff = 0;
    if (c->want_out) set_events(c, 0);
}

/* `payload` must have 14 writable bytes before it for the frame header. */
static int send_frame(struct conn *c, uint8_t opcode, char *payload, size_t len) {
    unsigned char *h;
    size_t hl;
    if (len < 126) {
        hl = 6; h = (unsigned char *)payload - hl;
        h[1] = (unsigned char)(0x80 | len);
    } else if (len < 65536) {
        hl = 8; h = (unsigned char *)payload - hl;
        h[1] = 0x80 | 126; h[2] = (unsigned char)(len >> 8); h[3] = (unsigned char)len;
    } else {
        hl = 14; h = (unsigned char *)payload - hl;
        h[1] = 0x80 | 127;
        for (int i = 0; i < 8; i++) h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    }
    h[0] = (unsigned char)(0x80 | opcode);
    memset(h + hl - 4, 0, 4);   /* masking key 0: the payload goes as it is */
    return out_write(c, (const char *)h, hl + len);
}

int ws_send_text(struct conn *c, const char *payload, size_t len) {
    return send_frame(c, 0x1, (char *)payload, len);
}

void ws_close(struct conn *c) {
    if (c->fd < 0) return;
    if (c->state == CS_OPEN || c->state == CS_READY) {
        char buf[32];
        buf[16] = 0x03; buf[17] = (char)0xE8;   /* 1000 */
        send_frame(c, 0x8, buf + 16, 2);
    }
    if (c->fd >= 0) {
        epoll_ctl(c->w->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
    c->state = CS_CLOSED;
}

static void connect_failed(struct conn *c) {
    if (c->fd >= 0) {
        epoll_ctl(c->w->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
    if (c->attempts < MAX_CONNECT_ATTEMPTS) {
        c->w->t.connect_retries++;
        c->state = CS_NEW;
        ws_start_connect(c);
        return;
    }
    c->w->t.connect_failed++;
    drop(c, CS_FAILED);
}

static void send_request(struct conn *c) {
    c->state = CS_HANDSHAKE;
    out_write(c, requests + request_off[c->idx], request_off[c->idx + 1] - request_off[c->idx]);
}

void ws_start_connect(struct conn *c) {
    c->attempts++;
    if (!c->connect_ns) c->connect_ns = now_ns();
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        if (c->attempts == 1) perror("social-blast: socket");
        c->w->t.connect_failed++;
        c->state = CS_FAILED;
        on_closed(c);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (opt.source_addrs > 1) {
#ifdef IP_BIND_ADDRESS_NO_PORT
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#endif
        struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = 0 };
        src.sin_addr.s_addr = htonl(0x7f000001u + c->idx % opt.source_addrs);
        if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0) perror("social-blast: bind");
    }
    struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(opt.port) };
    dst.sin_addr.s_addr = htonl(0x7f000001u);
    c->fd = fd;
    c->olen = c->ooff = c->rlen = 0;
    c->frag_op = 0;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
    c->want_out = 1;
    if (epoll_ctl(c->w->ep, EPOLL_CTL_ADD, fd, &ev) != 0) { perror("epoll_ctl"); exit(1); }
    int r = connect(fd, (struct sockaddr *)&dst, sizeof dst);
    if (r == 0) {
        set_events(c, 0);
        send_request(c);
    } else if (errno == EINPROGRESS) {
        c->state = CS_CONNECTING;
    } else {
        connect_failed(c);
    }
}

/* The 101 answer: status and Sec-WebSocket-Accept. Returns bytes of the
 * header block, 0 if incomplete, -1 if refused. */
static int handshake_answer(struct conn *c, const char *buf, size_t len) {
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end) return len > 16384 ? -1 : 0;
    size_t hl = (size_t)(end - buf) + 4;
    char head[4096];
    size_t n = hl < sizeof head - 1 ? hl : sizeof head - 1;
    memcpy(head, buf, n);
    head[n] = 0;
    if (strncmp(head, "HTTP/1.1 101", 12) != 0) {
        if (c->w->t.handshake_failed++ == 0) {
            char *eol = strstr(head, "\r\n");
            if (eol) *eol = 0;
            fprintf(stderr, "social-blast: handshake refused: %s\n", head);
        }
        return -1;
    }
    char key[25], src[64], want[32];
    ws_key(c->idx, key);
    memcpy(src, key, 24);
    memcpy(src + 24, ws_guid, 36);
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)src, 60, digest);
    size_t wl = b64_encode(want, digest, SHA_DIGEST_LENGTH, 0);
    want[wl] = 0;
    const char *a = strcasestr(head, "\r\nSec-WebSocket-Accept:");
    if (a) {
        a += 23;
        while (*a == ' ') a++;
    }
    if (!a || strncmp(a, want, wl) != 0) {
        if (c->w->t.handshake_failed++ == 0) fprintf(stderr, "social-blast: bad Sec-WebSocket-Accept\n");
        return -1;
    }
    return (int)hl;
}

static void on_message(struct conn *c, char *p, size_t n, uint64_t now) {
    c->w->t.frames_in++;
    while (n) {
        char *nl = memchr(p, '\n', n);
        size_t l = nl ? (size_t)(nl - p) : n;
        if (l) on_line(c, p, l, now);
        if (c->fd < 0) return;
        if (!nl) break;
        p += l + 1; n -= l + 1;
    }
}

static void control(struct conn *c, uint8_t op, char *p, size_t n) {
    if (op == 0x9) {            /* ping: pong with the same payload */
        char buf[160];
        if (n > 125) n = 125;
        memcpy(buf + 16, p, n);
        c->w->t.pings++;
        send_frame(c, 0xA, buf + 16, n);
    } else if (op == 0x8) {     /* close: answer it and go */
        c->close_code = n >= 2 ? (uint16_t)((unsigned char)p[0] << 8 | (unsigned char)p[1]) : 1005;
        c->closed_by_server = 1;
        char buf[32];
        buf[16] = p && n >= 2 ? p[0] : 0x03;
        buf[17] = p && n >= 2 ? p[1] : (char)0xE8;
        send_frame(c, 0x8, buf + 16, 2);
        drop(c, CS_CLOSED);
    }
}

/* Frames in buf; returns the bytes consumed (a trailing incomplete frame is left). */
static size_t parse(struct conn *c, char *buf, size_t len, uint64_t now) {
    size_t off = 0;
    if (c->state == CS_HANDSHAKE) {
        int h = handshake_answer(c, buf, len);
        if (h == 0) return 0;
        if (h < 0) { drop(c, CS_FAILED); return len; }
        c->state = CS_OPEN;
        off = (size_t)h;
    }
    while (c->fd >= 0 && len - off >= 2) {
        unsigned char *h = (unsigned char *)buf + off;
        int fin = h[0] & 0x80;
        uint8_t op = h[0] & 0x0F;
        int masked = h[1] & 0x80;
        uint64_t pl = h[1] & 0x7F;
        size_t hl = 2;
        if (pl == 126) {
            if (len - off < 4) break;
            pl = (uint64_t)h[2] << 8 | h[3];
            hl = 4;
        } else if (pl == 127) {
            if (len - off < 10) break;
            pl = 0;
            for (int i = 0; i < 8; i++) pl = pl << 8 | h[2 + i];
            hl = 10;
        }
        if (masked) hl += 4;
        if (pl > MAX_FRAME || (h[0] & 0x70)) {
            c->w->t.protocol_errors++;
            drop(c, CS_CLOSED);
            return len;
        }
        if (len - off < hl + pl) break;
        char *p = buf + off + hl;
        if (masked) for (uint64_t i = 0; i < pl; i++) p[i] ^= (char)h[hl - 4 + (i & 3)];
        off += hl + pl;
        if (op >= 0x8) {
            control(c, op, p, pl);
        } else if (op == 0x1 && !c->frag_op) {
            if (fin) on_message(c, p, pl, now);
            else { c->frag_op = op; c->mlen = 0; grow(&c->mbuf, &c->mcap, pl); memcpy(c->mbuf, p, pl); c->mlen = (uint32_t)pl; }
        } else if (op == 0x0 && c->frag_op) {
            grow(&c->mbuf, &c->mcap, c->mlen + pl);
            memcpy(c->mbuf + c->mlen, p, pl);
            c->mlen += (uint32_t)pl;
            if (fin) { c->frag_op = 0; on_message(c, c->mbuf, c->mlen, now); c->mlen = 0; }
        } else {                 /* binary, or a continuation out of place */
            c->w->t.protocol_errors++;
            drop(c, CS_CLOSED);
            return len;
        }
    }
    return off;
}

static void on_readable(struct conn *c) {
    struct worker *w = c->w;
    for (int round = 0; round < 4 && c->fd >= 0; round++) {
        ssize_t n = recv(c->fd, w->in, w->in_cap, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {   /* closed or reset: before the upgrade is answered, try again */
            if (c->state == CS_HANDSHAKE) connect_failed(c); else drop(c, CS_CLOSED);
            return;
        }
        w->t.bytes_in += (uint64_t)n;
        uint64_t now = now_ns();
        if (w->measuring) hist_add(&w->rdelay, now - w->wake_ns);   /* the driver's own delay in reading */
        if (c->rlen == 0) {
            size_t used = parse(c, w->in, (size_t)n, now);
            if (c->fd >= 0 && used < (size_t)n) {
                grow(&c->rbuf, &c->rcap, (size_t)n - used);
                memcpy(c->rbuf, w->in + used, (size_t)n - used);
                c->rlen = (uint32_t)((size_t)n - used);
            }
        } else {
            grow(&c->rbuf, &c->rcap, c->rlen + (size_t)n);
            memcpy(c->rbuf + c->rlen, w->in, (size_t)n);
            c->rlen += (uint32_t)n;
            size_t used = parse(c, c->rbuf, c->rlen, now);
            if (c->fd >= 0) {
                memmove(c->rbuf, c->rbuf + used, c->rlen - used);
                c->rlen -= (uint32_t)used;
            }
        }
        if ((size_t)n < w->in_cap) return;
    }
}

void ws_on_event(struct conn *c, uint32_t events) {
    if (c->state == CS_CONNECTING) {
        int err = 0;
        socklen_t l = sizeof err;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0) err = errno;
        if (err) { connect_failed(c); return; }
        if (!(events & (EPOLLOUT | EPOLLIN))) return;
        set_events(c, 0);
        send_request(c);
        return;
    }
    if (events & EPOLLIN) on_readable(c);
    if (c->fd >= 0 && (events & EPOLLOUT)) flush_out(c);
    if (c->fd >= 0 && (events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN)) {
        if (c->state == CS_HANDSHAKE) connect_failed(c); else drop(c, CS_CLOSED);
    }
}
