// notify_probe: the kernel's floor for a syscall answered by a seccomp
// user-notification supervisor (what runrs's sentry pays per emulated call
// before doing any work).
//
//   notify_probe [--quick] [N]
//
// A child installs a filter returning SECCOMP_RET_USER_NOTIF for getppid
// (SECCOMP_FILTER_FLAG_NEW_LISTENER) and passes the listener to the parent
// over a socketpair; the parent answers every notification with RECV + SEND
// (val = 4242). The child times N getppid calls. Printed lines:
//   native_getppid NS        before the filter
//   notify_sync NS           listener flagged SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
//   notify_default NS        default wake-ups (N/10 calls; slow)
//   notify_sync_4threads NS  SYNC_WAKE_UP, but 4 supervisor threads all
//                            blocked in RECV on the listener (as runrs's
//                            sentry workers are): each call wakes another one
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROBE_NAME "notify_probe"
#include "probe.h"

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

static void send_fd(int sock, int fd) {
    char byte = 0;
    struct iovec iov = {&byte, 1};
    char cbuf[CMSG_SPACE(sizeof(int))];
    memset(cbuf, 0, sizeof cbuf);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof cbuf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    if (sendmsg(sock, &msg, 0) != 1) die("sendmsg");
}

static int recv_fd(int sock) {
    char byte;
    struct iovec iov = {&byte, 1};
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof cbuf};
    if (recvmsg(sock, &msg, 0) != 1) die("recvmsg");
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_type != SCM_RIGHTS) {
        fprintf(stderr, "notify_probe: no fd received\n");
        exit(1);
    }
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

// A supervisor thread: answers until RECV fails (the child is gone).
static void *answer_loop(void *arg) {
    int lfd = (int)(long)arg;
    struct seccomp_notif req;
    struct seccomp_notif_resp resp;
    for (;;) {
        memset(&req, 0, sizeof req);
        if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_RECV, &req)) {
            if (errno == EINTR || errno == ENOENT) continue;
            return NULL;
        }
        memset(&resp, 0, sizeof resp);
        resp.id = req.id;
        resp.val = PROBE_ANSWER;
        ioctl(lfd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
    }
}

// One measurement: fork a child that installs the filter and times n calls,
// answered by the main thread (threads == 1) or by `threads` threads.
static void run(const char *label, long n, int sync_wake, int threads) {
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp)) die("socketpair");
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        close(sp[0]);
        int lfd = filter_getppid(SECCOMP_RET_USER_NOTIF, SECCOMP_FILTER_FLAG_NEW_LISTENER);
        if (lfd < 0) die("seccomp");
        send_fd(sp[1], lfd);
        close(lfd);
        char go;
        if (read(sp[1], &go, 1) != 1) die("read go");
        uint64_t ns;
        if (time_answered_getppid(n, &ns) != 0) {
            fprintf(stderr, PROBE_NAME ": unexpected getppid result\n");
            _exit(1);
        }
        printf("%s %.1f\n", label, (double)ns / (double)n);
        fflush(stdout);
        _exit(0);
    }
    close(sp[1]);
    int lfd = recv_fd(sp[0]);
    if (sync_wake) {
        if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP))
            die("SECCOMP_IOCTL_NOTIF_SET_FLAGS(SYNC_WAKE_UP) (kernel >= 6.6 needed)");
    }
    if (threads > 1) {
        // The threads stay blocked in RECV after the child exits (the
        // listener is never closed): they end with the process.
        for (int t = 0; t < threads; t++) {
            pthread_t th;
            if (pthread_create(&th, NULL, answer_loop, (void *)(long)lfd)) die("pthread_create");
            pthread_detach(th);
        }
        usleep(10000);
        if (write(sp[0], "g", 1) != 1) die("write go");
        int st;
        waitpid(pid, &st, 0);
        close(sp[0]);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "notify_probe: child failed\n");
            exit(1);
        }
        return;
    }
    if (write(sp[0], "g", 1) != 1) die("write go");
    struct seccomp_notif req;
    struct seccomp_notif_resp resp;
    long total = n + n / 10;
    for (long i = 0; i < total; i++) {
        memset(&req, 0, sizeof req);
        if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_RECV, &req)) die("NOTIF_RECV");
        memset(&resp, 0, sizeof resp);
        resp.id = req.id;
        resp.val = PROBE_ANSWER;
        if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_SEND, &resp)) die("NOTIF_SEND");
    }
    int st;
    waitpid(pid, &st, 0);
    close(lfd);
    close(sp[0]);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "notify_probe: child failed\n");
        exit(1);
    }
}

int main(int argc, char **argv) {
    long n = 200000;
    int i = 1;
    if (i < argc && strcmp(argv[i], "--quick") == 0) n /= 20, i++;
    if (i < argc) n = atol(argv[i]);
    if (n < 10) n = 10;

    for (long k = 0; k < n; k++) syscall(SYS_getppid);
    uint64_t t = now_ns();
    for (long k = 0; k < n * 5; k++) syscall(SYS_getppid);
    printf("native_getppid %.1f\n", (double)(now_ns() - t) / (double)(n * 5));
    fflush(stdout);

    run("notify_sync", n, 1, 1);
    run("notify_default", n / 10, 0, 1);
    run("notify_sync_4threads", n, 1, 4);
    return 0;
}
