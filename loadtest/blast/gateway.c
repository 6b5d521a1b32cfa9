/* The gateway under test: started here on a fresh data directory
 * (`--spawn`), or named by `--gateway-pid`; its CPU time and RSS from /proc.
 * Runs on the main thread only. */
#include "blast.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

static pid_t pid = -1;
static int spawned;
static char data_dir[256];
static char log_path[300];

pid_t gw_pid(void) { return pid; }
void gw_set_pid(pid_t p) { pid = p; }

double gw_tick_seconds(void) { return 1.0 / (double)sysconf(_SC_CLK_TCK); }

static int read_file(const char *path, char *buf, size_t cap) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0) return -1;
    buf[n] = 0;
    return (int)n;
}

/* utime + stime (all threads) from /proc/<pid>/stat; VmRSS from /proc/<pid>/status. */
struct gwstat gw_sample(void) {
    struct gwstat s = { 0, 0, 0 };
    if (pid <= 0) return s;
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (read_file(path, buf, sizeof buf) < 0) return s;
    char *p = strrchr(buf, ')');
    if (!p) return s;
    p += 2;   /* field 3, state */
    unsigned long long utime = 0, stime = 0;
    for (int field = 3; field < 14 && p; field++) p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL;
    if (!p || sscanf(p, "%llu %llu", &utime, &stime) != 2) return s;
    s.ticks = utime + stime;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if (read_file(path, buf, sizeof buf) >= 0) {
        char *r = strstr(buf, "\nVmRSS:");
        if (r) s.rss_kib = strtoull(r + 7, NULL, 10);
    }
    s.ok = 1;
    return s;
}

void loadavg(char *buf, size_t n) {
    char tmp[128];
    if (read_file("/proc/loadavg", tmp, sizeof tmp) < 0) { snprintf(buf, n, "?"); return; }
    float a = 0, b = 0, c = 0;
    sscanf(tmp, "%f %f %f", &a, &b, &c);
    snprintf(buf, n, "%.2f %.2f %.2f", a, b, c);
}

static uint16_t free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &l) != 0) {
        perror("social-blast: free port");
        exit(1);
    }
    close(fd);
    return ntohs(a.sin_port);
}

static int healthy(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = 0;
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
        static const char req[] = "GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        struct timeval tv = { 2, 0 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1)) {
            char buf[64];
            ssize_t n = read(fd, buf, sizeof buf - 1);
            if (n >= 12) { buf[n] = 0; ok = strncmp(buf + 9, "200", 3) == 0; }
        }
    }
    if (fd >= 0) close(fd);
    return ok;
}

static void print_log_tail(void) {
    char buf[4096];
    int fd = open(log_path, O_RDONLY);
    if (fd < 0) return;
    off_t end = lseek(fd, 0, SEEK_END);
    lseek(fd, end > 3000 ? end - 3000 : 0, SEEK_SET);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n > 0) { buf[n] = 0; fprintf(stderr, "--- gateway log (%s) ---\n%s\n", log_path, buf); }
}

int gw_spawn(const char *binary, const char **extra, int nextra, uint16_t *port_out, const char *secret) {
    snprintf(data_dir, sizeof data_dir, "/tmp/social-blast-XXXXXX");
    if (!mkdtemp(data_dir)) { perror("social-blast: mkdtemp"); return -1; }
    snprintf(log_path, sizeof log_path, "%s/gateway.log", data_dir);
    uint16_t port = free_port();
    char port_s[16];
    snprintf(port_s, sizeof port_s, "%u", port);
    const char *argv[64 + 16];
    int a = 0;
    argv[a++] = binary;
    argv[a++] = "--port"; argv[a++] = port_s;
    argv[a++] = "--data-dir"; argv[a++] = data_dir;
    argv[a++] = "--jwt-secret"; argv[a++] = secret;
    argv[a++] = "--log-level"; argv[a++] = "warning";
    for (int i = 0; i < nextra && a < 64 + 14; i++) argv[a++] = extra[i];
    argv[a] = NULL;

    pid_t child = fork();
    if (child < 0) { perror("social-blast: fork"); return -1; }
    if (child == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) { dup2(fd, 1); dup2(fd, 2); close(fd); }
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0) { dup2(nul, 0); close(nul); }
        execv(binary, (char *const *)argv);
        perror("execv");
        _exit(127);
    }
    pid = child;
    spawned = 1;
    for (int i = 0; i < 1200; i++) {   /* up to 60 s */
        int status;
        if (waitpid(child, &status, WNOHANG) == child) {
            fprintf(stderr, "social-blast: the gateway exited during start-up\n");
            print_log_tail();
            pid = -1;
            return -1;
        }
        if (healthy(port)) { *port_out = port; return 0; }
        struct timespec ts = { 0, 50 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "social-blast: the gateway did not answer /healthz within 60 s\n");
    print_log_tail();
    gw_stop();
    return -1;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

/* SIGTERM (the gateway drains), then SIGKILL after 60 s; removes the data directory. */
void gw_stop(void) {
    if (!spawned || pid <= 0) return;
    kill(pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 1200; i++) {   /* its drain may take a while with thousands of connections closing */
        if (waitpid(pid, &status, WNOHANG) == pid) break;
        if (i == 1199) { kill(pid, SIGKILL); waitpid(pid, &status, 0); }
        struct timespec ts = { 0, 50 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    if (WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0)) {
        fprintf(stderr, "social-blast: note: the gateway ended with %s %d\n",
                WIFSIGNALED(status) ? "signal" : "status", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        print_log_tail();
    }
    pid = -1;
    if (!getenv("SOCIAL_BLAST_KEEP_DATA")) nftw(data_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    else fprintf(stderr, "social-blast: data directory kept: %s\n", data_dir);
}
