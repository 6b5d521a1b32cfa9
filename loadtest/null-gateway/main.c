/* social-null-gateway: the least server social-blast can run against. It
 * speaks just enough of the protocol for the driver's scenarios (upgrade,
 * `hello`, group.create, group.join with `member` events, chat.send with its
 * reply and `message.new` to every member, ping, close), stores nothing and
 * checks nothing. It exists to measure the driver's own ceiling: what the
 * driver can open and read per second, and at what CPU, when the server costs
 * next to nothing. Not a reference implementation of the protocol.
 *
 * One thread, one epoll loop. Like the gateway, it batches: whatever is queued
 * for a connection when the loop comes round goes out in one text frame, one
 * message a line (--no-batch: one frame per message).
 *
 * usage: social-null-gateway [--port P] [--no-batch]
 * Any other --flag value of the gateway is accepted and ignored, and GET
 * /healthz answers 200, so `social-blast --spawn` and hotpath-bench.sh can
 * start it in place of the gateway. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <openssl/sha.h>

struct buf { char *p; size_t len, cap; };

struct conn {
    int fd;
    int ws;                  /* upgraded */
    int queued;              /* on the flush list */
    uint32_t lines;          /* messages waiting in `pending` */
    struct buf in, pending, out;
};

struct group {
    uint64_t seq;
    struct conn **members;
    uint32_t n, cap;
};

static int ep, batch = 1;

static void on_term(int sig) { (void)sig; _exit(0); }
static struct group *groups;
static uint32_t ngroups, groups_cap;
static struct conn **flush_list;
static uint32_t nflush, flush_cap;

static void reserve(struct buf *b, size_t more) {
    if (b->len + more <= b->cap) return;
    size_t n = b->cap ? b->cap : 1024;
    while (n < b->len + more) n *= 2;
    b->p = realloc(b->p, n);
    if (!b->p) { perror("realloc"); exit(1); }
    b->cap = n;
}

static void append(struct buf *b, const char *s, size_t n) {
    reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void frame_header(struct buf *b, uint8_t op, size_t len) {
    unsigned char h[10];
    size_t hl;
    h[0] = 0x80 | op;
    if (len < 126) { h[1] = (unsigned char)len; hl = 2; }
    else if (len < 65536) { h[1] = 126; h[2] = (unsigned char)(len >> 8); h[3] = (unsigned char)len; hl = 4; }
    else { h[1] = 127; for (int i = 0; i < 8; i++) h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i)); hl = 10; }
    append(b, (const char *)h, hl);
}

static void close_conn(struct conn *c) {
    if (c->fd < 0) return;
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    for (uint32_t g = 0; g < ngroups; g++) {   /* rare: only at the end of a run */
        struct group *gr = &groups[g];
        for (uint32_t i = 0; i < gr->n; i++) if (gr->members[i] == c) { gr->members[i] = gr->members[--gr->n]; break; }
    }
    /* not freed: an event for it may still be in this round's list; a test tool can leak it */
}

/* Queues one message for c; it goes out when the loop flushes. */
static void push(struct conn *c, const char *s, size_t n) {
    if (c->fd < 0) return;
    if (batch) {
        if (c->lines) append(&c->pending, "\n", 1);
        append(&c->pending, s, n);
        c->lines++;
    } else {
        frame_header(&c->out, 0x1, n);
        append(&c->out, s, n);
    }
    if (!c->queued) {
        if (nflush == flush_cap) { flush_cap = flush_cap ? 2 * flush_cap : 1024; flush_list = realloc(flush_list, flush_cap * sizeof *flush_list); }
        flush_list[nflush++] = c;
        c->queued = 1;
    }
}

static void write_out(struct conn *c) {
    while (c->out.len) {
        ssize_t n = send(c->fd, c->out.p, c->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN) {
                struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                return;
            }
            close_conn(c);
            return;
        }
        memmove(c->out.p, c->out.p + n, c->out.len - (size_t)n);
        c->out.len -= (size_t)n;
    }
}

static void flush_all(void) {
    for (uint32_t i = 0; i < nflush; i++) {
        struct conn *c = flush_list[i];
        c->queued = 0;
        if (c->fd < 0) continue;
        if (c->lines) {
            frame_header(&c->out, 0x1, c->pending.len);
            append(&c->out, c->pending.p, c->pending.len);
            c->pending.len = 0;
            c->lines = 0;
        }
        write_out(c);
    }
    nflush = 0;
}

static int find_int(const char *s, size_t n, const char *key, uint64_t *v) {
    const char *p = memmem(s, n, key, strlen(key));
    if (!p) return 0;
    p += strlen(key);
    uint64_t x = 0;
    const char *e = s + n, *start = p;
    while (p < e && *p >= '0' && *p <= '9') x = x * 10 + (uint64_t)(*p++ - '0');
    *v = x;
    return p > start;
}

/* The string value after key (which ends with its opening quote), escapes kept as they are. */
static int find_str(const char *s, size_t n, const char *key, const char **v, size_t *len) {
    const char *p = memmem(s, n, key, strlen(key));
    if (!p) return 0;
    p += strlen(key);
    const char *e = s + n, *q = p;
    while (q < e && *q != '"') q += *q == '\\' ? 2 : 1;
    if (q >= e) return 0;
    *v = p;
    *len = (size_t)(q - p);
    return 1;
}

static struct group *group_of(const char *s, size_t n, const char *key) {
    const char *v; size_t len;
    if (!find_str(s, n, key, &v, &len) || len < 2 || v[0] != 'g') return NULL;
    uint64_t g = strtoull(v + 1, NULL, 10);
    return g < ngroups ? &groups[g] : NULL;
}

static void add_member(struct group *g, struct conn *c) {
    if (g->n == g->cap) { g->cap = g->cap ? 2 * g->cap : 16; g->members = realloc(g->members, g->cap * sizeof *g->members); }
    g->members[g->n++] = c;
}

static void command(struct conn *c, const char *s, size_t n) {
    static char out[16384];
    uint64_t id = 0;
    find_int(s, n, "\"id\":", &id);
    int len;
    if (memmem(s, n, "\"op\":\"chat.send\"", 16)) {
        struct group *g = group_of(s, n, "\"chat_id\":\"");
        const char *text = ""; size_t tl = 0;
        find_str(s, n, "\"text\":\"", &text, &tl);
        if (!g || tl > 8192) {
            len = snprintf(out, sizeof out, "{\"id\":%llu,\"error\":{\"code\":\"invalid_args\",\"message\":\"?\",\"temporary\":false}}", (unsigned long long)id);
            push(c, out, (size_t)len);
            return;
        }
        uint64_t seq = ++g->seq;
        uint32_t gi = (uint32_t)(g - groups);
        len = snprintf(out, sizeof out, "{\"event\":\"message.new\",\"data\":{\"message\":{\"chat_id\":\"g%u\",\"seq\":%llu,\"updated_seq\":%llu,\"text\":\"%.*s\"}}}",
                       gi, (unsigned long long)seq, (unsigned long long)seq, (int)tl, text);
        for (uint32_t i = 0; i < g->n; i++) push(g->members[i], out, (size_t)len);
        len = snprintf(out, sizeof out, "{\"id\":%llu,\"ok\":{\"message\":{\"chat_id\":\"g%u\",\"seq\":%llu,\"updated_seq\":%llu,\"text\":\"%.*s\"},\"duplicate\":false}}",
                       (unsigned long long)id, gi, (unsigned long long)seq, (unsigned long long)seq, (int)tl, text);
        push(c, out, (size_t)len);
    } else if (memmem(s, n, "\"op\":\"group.create\"", 19)) {
        if (ngroups == groups_cap) { groups_cap = groups_cap ? 2 * groups_cap : 1024; groups = realloc(groups, groups_cap * sizeof *groups); }
        struct group *g = &groups[ngroups];
        memset(g, 0, sizeof *g);
        g->seq = 1;
        add_member(g, c);
        len = snprintf(out, sizeof out, "{\"id\":%llu,\"ok\":{\"group\":{\"group_id\":\"g%u\",\"chat_id\":\"g%u\",\"seq\":1}}}",
                       (unsigned long long)id, ngroups, ngroups);
        ngroups++;
        push(c, out, (size_t)len);
    } else if (memmem(s, n, "\"op\":\"group.join\"", 17)) {
        struct group *g = group_of(s, n, "\"group_id\":\"");
        if (!g) {
            len = snprintf(out, sizeof out, "{\"id\":%llu,\"error\":{\"code\":\"not_found\",\"message\":\"?\",\"temporary\":false}}", (unsigned long long)id);
            push(c, out, (size_t)len);
            return;
        }
        uint64_t seq = ++g->seq;
        uint32_t gi = (uint32_t)(g - groups);
        add_member(g, c);
        len = snprintf(out, sizeof out, "{\"event\":\"member\",\"data\":{\"message\":{\"chat_id\":\"g%u\",\"seq\":%llu,\"updated_seq\":%llu}}}",
                       gi, (unsigned long long)seq, (unsigned long long)seq);
        for (uint32_t i = 0; i < g->n; i++) push(g->members[i], out, (size_t)len);
        len = snprintf(out, sizeof out, "{\"id\":%llu,\"ok\":{\"group\":{\"group_id\":\"g%u\",\"chat_id\":\"g%u\",\"seq\":%llu}}}",
                       (unsigned long long)id, gi, gi, (unsigned long long)seq);
        push(c, out, (size_t)len);
    } else {
        len = snprintf(out, sizeof out, "{\"id\":%llu,\"ok\":{}}", (unsigned long long)id);
        push(c, out, (size_t)len);
    }
}

static void upgrade(struct conn *c) {
    char *end = memmem(c->in.p, c->in.len, "\r\n\r\n", 4);
    if (!end) return;
    size_t hl = (size_t)(end - c->in.p) + 4;
    const char *k = memmem(c->in.p, hl, "Sec-WebSocket-Key: ", 19);
    if (!k) {   /* plain HTTP (/healthz): 200 */
        static const char ok[] = "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
        if (send(c->fd, ok, sizeof ok - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) { /* closing anyway */ }
        close_conn(c);
        return;
    }
    k += 19;
    unsigned char src[64], digest[SHA_DIGEST_LENGTH];
    memcpy(src, k, 24);
    memcpy(src + 24, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", 36);
    SHA1(src, 60, digest);
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char acc[29];
    int o = 0;
    for (int i = 0; i < 18; i += 3) {
        uint32_t v = (uint32_t)digest[i] << 16 | (uint32_t)digest[i + 1] << 8 | digest[i + 2];
        acc[o++] = b64[v >> 18]; acc[o++] = b64[(v >> 12) & 63]; acc[o++] = b64[(v >> 6) & 63]; acc[o++] = b64[v & 63];
    }
    uint32_t v = (uint32_t)digest[18] << 16 | (uint32_t)digest[19] << 8;
    acc[o++] = b64[v >> 18]; acc[o++] = b64[(v >> 12) & 63]; acc[o++] = b64[(v >> 6) & 63]; acc[o++] = '=';
    acc[o] = 0;
    char resp[256];
    int rl = snprintf(resp, sizeof resp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: social.v1\r\n\r\n", acc);
    append(&c->out, resp, (size_t)rl);
    static const char hello[] = "{\"event\":\"hello\",\"data\":{\"version\":\"social.v1\"}}";
    frame_header(&c->out, 0x1, sizeof hello - 1);
    append(&c->out, hello, sizeof hello - 1);
    c->ws = 1;
    memmove(c->in.p, c->in.p + hl, c->in.len - hl);
    c->in.len -= hl;
    write_out(c);
}

static void frames(struct conn *c) {
    size_t off = 0;
    while (c->fd >= 0 && c->in.len - off >= 2) {
        unsigned char *h = (unsigned char *)c->in.p + off;
        uint8_t op = h[0] & 0x0F;
        uint64_t pl = h[1] & 0x7F;
        size_t hl = 2;
        if (pl == 126) { if (c->in.len - off < 4) break; pl = (uint64_t)h[2] << 8 | h[3]; hl = 4; }
        else if (pl == 127) { if (c->in.len - off < 10) break; pl = 0; for (int i = 0; i < 8; i++) pl = pl << 8 | h[2 + i]; hl = 10; }
        int masked = h[1] & 0x80;
        if (masked) hl += 4;
        if (c->in.len - off < hl + pl) break;
        char *p = c->in.p + off + hl;
        if (masked) { unsigned char *m = h + hl - 4; if (m[0] | m[1] | m[2] | m[3]) for (uint64_t i = 0; i < pl; i++) p[i] ^= (char)m[i & 3]; }
        off += hl + pl;
        if (op == 0x1) command(c, p, pl);
        else if (op == 0x9) { frame_header(&c->out, 0xA, pl); append(&c->out, p, pl); write_out(c); }
        else if (op == 0x8) { frame_header(&c->out, 0x8, 0); write_out(c); close_conn(c); return; }
    }
    memmove(c->in.p, c->in.p + off, c->in.len - off);
    c->in.len -= off;
}

static void readable(struct conn *c) {
    for (;;) {
        reserve(&c->in, 65536);
        ssize_t n = recv(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len, MSG_DONTWAIT);
        if (n < 0 && errno == EAGAIN) return;
        if (n <= 0) { close_conn(c); return; }
        c->in.len += (size_t)n;
        if (!c->ws) upgrade(c);
        if (c->fd >= 0 && c->ws) frames(c);
        if (c->fd < 0 || (size_t)n < 65536) return;
    }
}

int main(int argc, char **argv) {
    uint16_t port = 18090;
    for (int i = 1; i < argc; i++) {   /* the gateway's other flags are accepted and ignored, so that scripts can spawn either */
        if (!strcmp(argv[i], "--port") && i + 1 < argc) port = (uint16_t)atoi(argv[++i]);
        else if (!strncmp(argv[i], "--port=", 7)) port = (uint16_t)atoi(argv[i] + 7);
        else if (!strcmp(argv[i], "--no-batch")) batch = 0;
        else if (!strncmp(argv[i], "--", 2) && !strchr(argv[i], '=') && i + 1 < argc) i++;
        else if (strncmp(argv[i], "--", 2)) { fprintf(stderr, "usage: social-null-gateway [--port P] [--no-batch] [ignored gateway flags]\n"); return 1; }
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_term);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 4096)) { perror("listen"); return 1; }
    ep = epoll_create1(0);
    struct epoll_event lev = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
    fprintf(stderr, "social-null-gateway on 127.0.0.1:%u, %s\n", port, batch ? "batching" : "one frame per message");
    struct epoll_event evs[512];
    for (;;) {
        int n = epoll_wait(ep, evs, 512, -1);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (!c) {
                for (;;) {
                    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
                    if (fd < 0) break;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct conn *nc = calloc(1, sizeof *nc);
                    nc->fd = fd;
                    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = nc };
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                }
                continue;
            }
            if (c->fd < 0) continue;
            if (evs[i].events & EPOLLOUT) {
                write_out(c);
                if (c->fd >= 0 && !c->out.len) {
                    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
                    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                }
            }
            if (c->fd >= 0 && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) readable(c);
        }
        flush_all();
    }
}
