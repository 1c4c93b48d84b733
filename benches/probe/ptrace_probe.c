// ptrace_probe: the kernel's floor for a syscall answered by a ptrace
// supervisor (what a ptrace platform would pay per emulated call).
//
//   ptrace_probe [--quick] [N]
//
// Two supervisors, each answering getppid with 4242 from a tracer:
//   ptrace_sysemu NS         PTRACE_SYSEMU: every syscall stops, the tracer
//                            writes rax and resumes with PTRACE_SYSEMU
//   ptrace_seccomp_trace NS  a filter returns SECCOMP_RET_TRACE for getppid
//                            only; the tracer skips it (orig_rax = -1) and
//                            writes rax, resuming with PTRACE_CONT
// The child times N calls with the vDSO clock (no syscall) and leaves the
// result in shared memory, then makes any other syscall, which ends the run.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROBE_NAME "ptrace_probe"
#include "probe.h"

#ifndef PTRACE_SYSEMU
#define PTRACE_SYSEMU 31
#endif

static volatile uint64_t *shared;

static void child_loop(long n) {
    uint64_t ns;
    shared[1] = time_answered_getppid(n, &ns) != 0;  // a wrong answer
    shared[0] = ns;
    syscall(SYS_exit_group, 0);
}

static void run_sysemu(long n) {
    shared[0] = shared[1] = 0;
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        if (ptrace(PTRACE_TRACEME, 0, 0, 0)) die("TRACEME");
        // kill(2) directly: raise() makes more syscalls after the stop.
        syscall(SYS_kill, syscall(SYS_getpid), SIGSTOP);
        child_loop(n);
        _exit(0);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st)) die("wait stop");
    ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD);
    if (ptrace(PTRACE_SYSEMU, pid, 0, 0)) die("SYSEMU");
    struct user_regs_struct r;
    for (;;) {
        if (waitpid(pid, &st, 0) != pid) die("waitpid");
        if (WIFEXITED(st) || WIFSIGNALED(st)) break;
        if (ptrace(PTRACE_GETREGS, pid, 0, &r)) die("GETREGS");
        if (WSTOPSIG(st) == (SIGTRAP | 0x80) && r.orig_rax == SYS_getppid) {
            r.rax = PROBE_ANSWER;
            if (ptrace(PTRACE_SETREGS, pid, 0, &r)) die("SETREGS");
            if (ptrace(PTRACE_SYSEMU, pid, 0, 0)) die("SYSEMU");
            continue;
        }
        // Any other syscall (the child's exit_group, or its first
        // syscall after the SIGSTOP if the loop is empty): done.
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        break;
    }
    if (shared[1] || shared[0] == 0) {
        fprintf(stderr, "ptrace_probe: sysemu run failed\n");
        exit(1);
    }
    printf("ptrace_sysemu %.1f\n", (double)shared[0] / (double)n);
    fflush(stdout);
}

static void run_seccomp_trace(long n) {
    shared[0] = shared[1] = 0;
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        if (ptrace(PTRACE_TRACEME, 0, 0, 0)) die("TRACEME");
        raise(SIGSTOP);
        if (filter_getppid(SECCOMP_RET_TRACE, 0)) die("seccomp");
        uint64_t ns;
        shared[1] = time_answered_getppid(n, &ns) != 0;
        shared[0] = ns;
        _exit(0);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st)) die("wait stop");
    if (ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_EXITKILL | PTRACE_O_TRACESECCOMP))
        die("SETOPTIONS");
    if (ptrace(PTRACE_CONT, pid, 0, 0)) die("CONT");
    struct user_regs_struct r;
    for (;;) {
        if (waitpid(pid, &st, 0) != pid) die("waitpid");
        if (WIFEXITED(st) || WIFSIGNALED(st)) break;
        int sig = 0;
        if (st >> 8 == (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8))) {
            if (ptrace(PTRACE_GETREGS, pid, 0, &r)) die("GETREGS");
            r.orig_rax = (unsigned long long)-1;  // skip the syscall
            r.rax = PROBE_ANSWER;
            if (ptrace(PTRACE_SETREGS, pid, 0, &r)) die("SETREGS");
        } else {
            sig = WSTOPSIG(st);
        }
        if (ptrace(PTRACE_CONT, pid, 0, sig)) die("CONT");
    }
    if (shared[1] || shared[0] == 0) {
        fprintf(stderr, "ptrace_probe: seccomp-trace run failed\n");
        exit(1);
    }
    printf("ptrace_seccomp_trace %.1f\n", (double)shared[0] / (double)n);
    fflush(stdout);
}

int main(int argc, char **argv) {
    long n = 100000;
    int i = 1;
    if (i < argc && strcmp(argv[i], "--quick") == 0) n /= 20, i++;
    if (i < argc) n = atol(argv[i]);
    if (n < 10) n = 10;
    shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) die("mmap");
    run_sysemu(n);
    run_seccomp_trace(n);
    return 0;
}
