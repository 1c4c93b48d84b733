// trap_probe: what a crossing would cost on a platform that traps the
// workload's syscall in its own address space (gVisor's systrap shape)
// instead of switching to a supervisor process per call: the floor of the
// "cheaper crossing" that docs/BENCHMARKS.md's "What bounds it" names.
//
//   trap_probe [--quick] [N]
//
// A child installs a filter returning SECCOMP_RET_TRAP for getppid; its
// SIGSYS handler answers (sets the return register) and returns. Printed
// lines, ns per getppid:
//   trap_sigsys      the handler answers at once: the trap, the signal
//                    frame and rt_sigreturn, no other thread
//   trap_shm_spin    the handler posts the call to a page shared with a
//                    supervisor process that polls it on another CPU, and
//                    spins until the answer is there (a polling sentry)
//   trap_shm_futex   as trap_shm_spin, but both sides sleep on a futex when
//                    there is nothing to do (a sentry that does not poll)
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define PROBE_NAME "trap_probe"
#include "probe.h"

// The shared page: `seq` is bumped by the caller for each request, `done`
// set to the same value by the supervisor with `answer`.
struct slot {
    _Atomic uint32_t seq;
    _Atomic uint32_t done;
    _Atomic int64_t answer;
    _Atomic uint32_t quit;
};

enum mode { DIRECT, SPIN, FUTEX };
static enum mode mode;
static struct slot *slot;

static long futex(_Atomic uint32_t *addr, int op, uint32_t val) {
    return syscall(SYS_futex, (uint32_t *)addr, op, val, NULL, NULL, 0);
}

static void on_sigsys(int sig, siginfo_t *info, void *ctx) {
    (void)sig;
    (void)info;
    ucontext_t *uc = ctx;
    int64_t answer = PROBE_ANSWER;
    if (mode != DIRECT) {
        uint32_t seq = slot->seq + 1;
        slot->seq = seq;
        if (mode == FUTEX) futex(&slot->seq, FUTEX_WAKE, 1);
        while (slot->done != seq)
            if (mode == FUTEX) futex(&slot->done, FUTEX_WAIT, seq - 1);
        answer = slot->answer;
    }
    uc->uc_mcontext.gregs[REG_RAX] = answer;
}

// The supervisor: answers every request posted to the slot until told to
// quit.
static void supervise(void) {
    uint32_t seen = 0;
    while (!slot->quit) {
        uint32_t seq = slot->seq;
        if (seq == seen) {
            if (mode == FUTEX) futex(&slot->seq, FUTEX_WAIT, seen);
            continue;
        }
        slot->answer = PROBE_ANSWER;
        slot->done = seq;
        if (mode == FUTEX) futex(&slot->done, FUTEX_WAKE, 1);
        seen = seq;
    }
    _exit(0);
}

static void run(const char *label, enum mode m, long n) {
    mode = m;
    memset(slot, 0, sizeof *slot);
    pid_t sup = -1;
    if (m != DIRECT) {
        sup = fork();
        if (sup < 0) die("fork");
        if (sup == 0) supervise();
    }
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        struct sigaction sa = {0};
        sa.sa_sigaction = on_sigsys;
        sa.sa_flags = SA_SIGINFO;
        if (sigaction(SIGSYS, &sa, NULL) != 0) die("sigaction");
        if (filter_getppid(SECCOMP_RET_TRAP, 0) != 0) die("seccomp");
        uint64_t ns;
        if (time_answered_getppid(n, &ns) != 0) {
            fprintf(stderr, PROBE_NAME ": unexpected getppid result\n");
            _exit(1);
        }
        printf("%s %.1f\n", label, (double)ns / (double)n);
        fflush(stdout);
        _exit(0);
    }
    int status;
    if (waitpid(child, &status, 0) < 0) die("waitpid");
    if (sup > 0) {
        slot->quit = 1;
        slot->seq = slot->seq + 1;
        futex(&slot->seq, FUTEX_WAKE, 1);
        waitpid(sup, NULL, 0);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "trap_probe: child failed\n");
        exit(1);
    }
}

int main(int argc, char **argv) {
    long n = 200000;
    int i = 1;
    if (i < argc && strcmp(argv[i], "--quick") == 0) n = 10000, i++;
    if (i < argc) n = atol(argv[i]);
    if (n <= 0) {
        fprintf(stderr, "usage: trap_probe [--quick] [N]\n");
        return 2;
    }
    slot = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (slot == MAP_FAILED) die("mmap");
    run("trap_sigsys", DIRECT, n);
    run("trap_shm_spin", SPIN, n);
    run("trap_shm_futex", FUTEX, n / 10);
    return 0;
}
