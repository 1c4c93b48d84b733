// probe.h: what the kernel probes share: a clock, a fatal error that names
// the probe (PROBE_NAME, defined before this is included), the filter
// that sends getppid to one seccomp action, and the timed loop of getppid
// calls that each probe's supervisor answers with PROBE_ANSWER.
#ifndef RUNRS_PROBE_H
#define RUNRS_PROBE_H

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, PROBE_NAME ": %s: %s\n", what, strerror(errno));
    exit(1);
}

// Sets no_new_privs and a filter that returns `action` for getppid and
// allows everything else; returns seccomp(2)'s result (the listener's fd
// with SECCOMP_FILTER_FLAG_NEW_LISTENER in `flags`).
static int filter_getppid(unsigned action, unsigned flags) {
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, action),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) die("no_new_privs");
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

// What every supervisor answers getppid with.
#define PROBE_ANSWER 4242

// Times n getppid calls after a warm-up of n/10 into *ns; -1 at the first
// answer that is not PROBE_ANSWER.
static int time_answered_getppid(long n, uint64_t *ns) {
    *ns = 0;
    for (long i = 0; i < n / 10; i++) syscall(SYS_getppid);
    uint64_t t = now_ns();
    for (long i = 0; i < n; i++)
        if (syscall(SYS_getppid) != PROBE_ANSWER) return -1;
    *ns = now_ns() - t;
    return 0;
}

#endif
