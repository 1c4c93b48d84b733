/* Waits the workload controls must not stall the sandbox: opens of FIFOs
 * without their other end and connects to a listener whose backlog is full
 * wait in the workload (as on Linux), never in a gofer channel or a sentry
 * worker, so every other open in the container is still answered. */
#include "escape.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#define BLOCKERS 16

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A child that makes one call that waits, then exits 0 if it ever returns. */
static pid_t blocker(int kind, const char *path) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    if (kind == 0) {
        open(path, O_RDONLY); /* a FIFO without a writer */
    } else if (kind == 1) {
        open(path, O_WRONLY); /* a FIFO without a reader */
    } else {
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
        connect(s, (struct sockaddr *)&a, sizeof a); /* the backlog is full */
    }
    _exit(0);
}

/* The slowest of `n` opens of an ordinary file, in ms (-1: one failed). */
static double slowest_open(int n) {
    double worst = 0;
    for (int i = 0; i < n; i++) {
        double t0 = now_ms();
        int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
        double dt = now_ms() - t0;
        if (fd < 0) return -1;
        close(fd);
        if (dt > worst) worst = dt;
    }
    return worst;
}

static void blocked_opens_and_connects(void) {
    if (mkfifo("/tmp/stall-r", 0600) || mkfifo("/tmp/stall-w", 0600)) {
        report("stall_setup", 0, "mkfifo: %s", strerror(errno));
        return;
    }
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "/tmp/stall-sock");
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 0)) {
        report("stall_setup", 0, "listener: %s", strerror(errno));
        return;
    }
    pid_t kids[3 * BLOCKERS];
    int n = 0;
    for (int i = 0; i < BLOCKERS; i++) {
        kids[n++] = blocker(0, "/tmp/stall-r");
        kids[n++] = blocker(1, "/tmp/stall-w");
        kids[n++] = blocker(2, "/tmp/stall-sock");
    }
    /* Let them all reach their waits. */
    usleep(300 * 1000);
    int still_waiting = 0;
    for (int i = 0; i < n; i++) {
        if (waitpid(kids[i], NULL, WNOHANG) == 0) still_waiting++;
    }
    double worst = slowest_open(100);
    report("stall_blocked_calls_wait", still_waiting >= 2 * BLOCKERS,
           "%d of %d blockers still waiting (the FIFO ones must all be)", still_waiting, n);
    report("stall_other_opens_answered", worst >= 0 && worst < 100,
           "slowest of 100 opens with %d blocked calls: %.1f ms", n, worst);
    /* The waits end as on Linux once the other side comes. */
    int w = open("/tmp/stall-r", O_WRONLY);
    int r = open("/tmp/stall-w", O_RDONLY);
    report("stall_fifo_partners_release", w >= 0 && r >= 0, "writer %d reader %d", w, r);
    double t0 = now_ms();
    int released = 0;
    while (now_ms() - t0 < 5000 && released < 2 * BLOCKERS) {
        released = 0;
        for (int i = 0; i < n; i += 3) {
            int st;
            if (kids[i] > 0 && waitpid(kids[i], &st, WNOHANG) == kids[i]) kids[i] = -kids[i];
            if (kids[i + 1] > 0 && waitpid(kids[i + 1], &st, WNOHANG) == kids[i + 1]) kids[i + 1] = -kids[i + 1];
            released += (kids[i] < 0) + (kids[i + 1] < 0);
        }
        usleep(10 * 1000);
    }
    report("stall_fifo_waiters_finish", released == 2 * BLOCKERS, "%d of %d FIFO waiters returned",
           released, 2 * BLOCKERS);
    for (int i = 0; i < n; i++) {
        if (kids[i] > 0) {
            kill(kids[i], SIGKILL);
            waitpid(kids[i], NULL, 0);
        }
    }
    if (w >= 0) close(w);
    if (r >= 0) close(r);
    close(l);
    sentry_still_answers("stall_sentry_alive");
}

/* A writer that opens first (and waits) then writes and leaves, and a
 * reader that opens after it: the reader gets the data (Linux's reader
 * open returns at once while a writer is there), in either order. */
static void fifo_pairs_in_either_order(void) {
    for (int writer_first = 0; writer_first < 2; writer_first++) {
        char path[64];
        snprintf(path, sizeof path, "/tmp/pair-%d", writer_first);
        if (mkfifo(path, 0600)) {
            report(writer_first ? "stall_fifo_writer_first" : "stall_fifo_reader_first", 0, "mkfifo: %s", strerror(errno));
            continue;
        }
        pid_t w = fork();
        if (w == 0) {
            alarm(10);
            if (!writer_first) usleep(200 * 1000);
            int fd = open(path, O_WRONLY);
            if (fd < 0 || write(fd, "hi", 2) != 2) _exit(1);
            _exit(0);
        }
        if (writer_first) usleep(200 * 1000);
        alarm(10);
        int fd = open(path, O_RDONLY);
        char buf[8] = {0};
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        alarm(0);
        int st = 0;
        waitpid(w, &st, 0);
        report(writer_first ? "stall_fifo_writer_first" : "stall_fifo_reader_first",
               n == 2 && strcmp(buf, "hi") == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
               "read %zd bytes \"%s\", writer status %#x", n, buf, st);
        if (fd >= 0) close(fd);
    }
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    fifo_pairs_in_either_order();
    blocked_opens_and_connects();
    return finish();
}
