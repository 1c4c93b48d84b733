/* The ptrace platform installs fds through a socket at fd 1023 of every
 * workload process. No process may receive another's fds through it, nor
 * break another's opens with it: a forked child (which may drop its
 * privileges) gets a channel of its own before it runs. Run on ptrace. */
#include "escape.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#define RESERVED 1023

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Opens /etc/hostname n times; returns how many opens failed. */
static int open_many(int n) {
    int failed = 0;
    for (int i = 0; i < n; i++) {
        int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            failed++;
            continue;
        }
        char buf[64];
        if (read(fd, buf, sizeof buf) <= 0) failed++;
        close(fd);
    }
    return failed;
}

/* A child that harvests whatever arrives on fd 1023 for `ms` ms; exits
 * with the number of fds it got (at most 255). */
static pid_t harvester(int ms) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    int got = 0;
    double end = now_ms() + ms;
    while (now_ms() < end) {
        char byte;
        struct iovec iov = {&byte, 1};
        char ctl[CMSG_SPACE(sizeof(int) * 8)];
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
        if (recvmsg(RESERVED, &m, MSG_DONTWAIT) > 0) {
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
                if (c->cmsg_type == SCM_RIGHTS) got += (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        }
    }
    _exit(got > 255 ? 255 : got);
}

static void child_receives_nothing(void) {
    pid_t h = harvester(500);
    usleep(20 * 1000);
    int failed = open_many(400);
    int st = 0;
    waitpid(h, &st, 0);
    int stolen = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    report("fdchan_child_receives_nothing", stolen == 0 && failed == 0,
           "the child received %d of the parent's fds; %d of 400 opens failed", stolen, failed);
}

static void shutdown_in_child_is_harmless(void) {
    pid_t pid = fork();
    if (pid == 0) {
        shutdown(RESERVED, SHUT_RDWR);
        /* And its own opens still work (on its own channel, shut or not). */
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    int failed = open_many(100);
    report("fdchan_shutdown_in_child_harmless", failed == 0, "%d of 100 opens failed after a child's shutdown", failed);
}

static void child_has_a_working_channel(void) {
    pid_t pid = fork();
    if (pid == 0) _exit(open_many(100) == 0 ? 0 : 1);
    int st = 0;
    waitpid(pid, &st, 0);
    report("fdchan_child_opens_work", WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
}

static void dup_onto_reserved_refused(void) {
    expect_errno("fdchan_dup2_onto_reserved", dup2(0, RESERVED), EBADF);
    expect_errno("fdchan_dup3_onto_reserved", syscall(SYS_dup3, 0, RESERVED, 0), EBADF);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    child_receives_nothing();
    shutdown_in_child_is_harmless();
    child_has_a_working_channel();
    dup_onto_reserved_refused();
    sentry_still_answers("fdchan_sentry_alive");
    return finish();
}
