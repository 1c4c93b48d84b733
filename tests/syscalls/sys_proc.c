/* Process, signal, time and scheduling syscalls (family = syscall name). */
#include "harness.h"
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <asm/prctl.h>
#include <asm/ldt.h>
#include <sys/mman.h>
#include <time.h>

#ifndef SYS_futex_wake
#define SYS_futex_wake 454
#define SYS_futex_wait 455
#define SYS_futex_requeue 456
#endif

struct sched_attr {
    uint32_t size, sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
    uint32_t sched_util_min, sched_util_max;
};

static pid_t exit_child(int code) {
    pid_t p = fork();
    if (p == 0)
        _exit(code);
    if (p < 0)
        FAIL("fork: %s", harness_errname(errno));
    return p;
}

CASE(getpid, matches_proc_self) {
    char b[64];
    EXPECT_EQ(readlink("/proc/self", b, sizeof b) > 0, 1);
    b[readlink("/proc/self", b, sizeof b - 1)] = 0;
    EXPECT_EQ(syscall(SYS_getpid), atol(b));
}

CASE(gettid, main_thread_is_pid) { EXPECT_EQ(syscall(SYS_gettid), syscall(SYS_getpid)); }

CASE(getppid, child_sees_parent) {
    pid_t me = getpid();
    pid_t p = fork();
    if (p == 0)
        _exit(syscall(SYS_getppid) == me ? 0 : 1);
    int st;
    EXPECT_EQ(waitpid(p, &st, 0), p);
    EXPECT_EQ(WEXITSTATUS(st), 0);
}

CASE(getpgrp, is_own_group) { EXPECT_EQ(syscall(SYS_getpgrp), getpid()); }

COVERS("getpgid")
CASE(setpgid, child_own_group) {
    pid_t p = fork();
    if (p == 0) {
        pause();
        _exit(0);
    }
    EXPECT_EQ(syscall(SYS_getpgid, p), getpid());
    EXPECT_EQ(syscall(SYS_setpgid, p, p), 0);
    EXPECT_EQ(syscall(SYS_getpgid, p), p);
    EXPECT_ERRNO(syscall(SYS_setpgid, p, 999999), EPERM);
    EXPECT_ERRNO(syscall(SYS_setpgid, 0, -1), EINVAL);
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
}

CASE(getpgid, missing_pid_esrch) { EXPECT_ERRNO(syscall(SYS_getpgid, 999999), ESRCH); }

COVERS("getsid")
CASE(setsid, group_leader_eperm_child_ok) {
    EXPECT_ERRNO(syscall(SYS_setsid), EPERM); /* the case is a group leader */
    pid_t p = fork();
    if (p == 0) {
        if (setpgid(0, getppid()) != 0)
            _exit(3);
        long s = syscall(SYS_setsid);
        _exit(s == getpid() && syscall(SYS_getsid, 0) == getpid() ? 0 : 1);
    }
    int st;
    EXPECT_EQ(waitpid(p, &st, 0), p);
    EXPECT_EQ(WEXITSTATUS(st), 0);
}

CASE(getsid, missing_pid_esrch) {
    EXPECT_OK(syscall(SYS_getsid, 0));
    EXPECT_ERRNO(syscall(SYS_getsid, 999999), ESRCH);
}

COVERS("exit")
CASE(fork, raw_child_status) {
    long p = syscall(SYS_fork);
    if (p == 0)
        syscall(SYS_exit, 7);
    int st;
    EXPECT_EQ(waitpid((pid_t)p, &st, 0), p);
    EXPECT_EQ(WEXITSTATUS(st), 7);
}

CASE(vfork, parent_waits_for_exit) {
    volatile int shared = 0;
    pid_t p = vfork();
    if (p == 0) {
        shared = 1;
        _exit(5);
    }
    EXPECT_EQ(shared, 1);
    int st;
    EXPECT_EQ(waitpid(p, &st, 0), p);
    EXPECT_EQ(WEXITSTATUS(st), 5);
}

CASE(exit_group, status_seen_by_parent) {
    pid_t p = fork();
    if (p == 0)
        syscall(SYS_exit_group, 300);
    int st;
    EXPECT_EQ(waitpid(p, &st, 0), p);
    EXPECT_EQ(WEXITSTATUS(st), 300 & 0xff);
}

CASE(wait4, rusage_and_wnohang) {
    pid_t p = exit_child(3);
    struct rusage ru;
    int st;
    EXPECT_EQ(syscall(SYS_wait4, p, &st, 0, &ru), p);
    EXPECT_EQ(WEXITSTATUS(st), 3);
    EXPECT_ERRNO(syscall(SYS_wait4, -1, &st, WNOHANG, NULL), ECHILD);
    EXPECT_ERRNO(syscall(SYS_wait4, -1, &st, 0x10000, NULL), EINVAL);
}

CASE(waitid, p_pid_wexited) {
    pid_t p = exit_child(9);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    EXPECT_EQ(syscall(SYS_waitid, P_PID, p, &si, WEXITED, NULL), 0);
    EXPECT_EQ(si.si_pid, p);
    EXPECT_EQ(si.si_code, CLD_EXITED);
    EXPECT_EQ(si.si_status, 9);
    EXPECT_ERRNO(syscall(SYS_waitid, P_PID, p, &si, WEXITED, NULL), ECHILD);
    EXPECT_ERRNO(syscall(SYS_waitid, P_ALL, 0, &si, 0, NULL), EINVAL);
}

CASE(getrlimit, nofile_matches_prlimit) {
    struct rlimit a, b;
    EXPECT_EQ(syscall(SYS_getrlimit, RLIMIT_NOFILE, &a), 0);
    EXPECT_EQ(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &b), 0);
    EXPECT_EQ(a.rlim_cur, b.rlim_cur);
    EXPECT_ERRNO(syscall(SYS_getrlimit, 99, &a), EINVAL);
}

CASE(setrlimit, lower_soft_limit) {
    struct rlimit r;
    EXPECT_OK(getrlimit(RLIMIT_NOFILE, &r));
    struct rlimit n = {64, r.rlim_max};
    EXPECT_EQ(syscall(SYS_setrlimit, RLIMIT_NOFILE, &n), 0);
    EXPECT_ERRNO(dup2(0, 100), EBADF);
    struct rlimit bad = {r.rlim_max, 1};
    EXPECT_ERRNO(syscall(SYS_setrlimit, RLIMIT_NOFILE, &bad), EINVAL);
}

CASE(prlimit64, set_and_get_old) {
    struct rlimit n = {1 << 20, RLIM_INFINITY}, old;
    EXPECT_OK(getrlimit(RLIMIT_CORE, &old));
    struct rlimit want = {0, old.rlim_max}, got;
    EXPECT_EQ(syscall(SYS_prlimit64, 0, RLIMIT_CORE, &want, &got), 0);
    EXPECT_EQ(got.rlim_cur, old.rlim_cur);
    EXPECT_OK(getrlimit(RLIMIT_CORE, &got));
    EXPECT_EQ(got.rlim_cur, 0);
    EXPECT_ERRNO(syscall(SYS_prlimit64, 999999, RLIMIT_CORE, NULL, &got), ESRCH);
    (void)n;
}

CASE(getrusage, children_after_wait) {
    struct rusage ru;
    EXPECT_EQ(syscall(SYS_getrusage, RUSAGE_SELF, &ru), 0);
    EXPECT_TRUE(ru.ru_maxrss > 0);
    EXPECT_EQ(syscall(SYS_getrusage, RUSAGE_THREAD, &ru), 0);
    EXPECT_ERRNO(syscall(SYS_getrusage, 42, &ru), EINVAL);
}

CASE(times, returns_clock_ticks) {
    struct tms t;
    long a = syscall(SYS_times, &t);
    EXPECT_TRUE(a != -1);
    EXPECT_TRUE(syscall(SYS_times, NULL) >= a);
}

CASE(arch_prctl, get_fs_is_tls) {
    unsigned long fs = 0;
    EXPECT_EQ(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs), 0);
    unsigned long self;
    __asm__("mov %%fs:0, %0" : "=r"(self));
    EXPECT_EQ(fs, self);
    EXPECT_ERRNO(syscall(SYS_arch_prctl, 0x9999, &fs), EINVAL);
}

COVERS("set_thread_area")
CASE(get_thread_area, tls_entry_and_bad_index) {
    struct user_desc d;
    memset(&d, 0, sizeof d);
    d.entry_number = 12; /* GDT_ENTRY_TLS_MIN */
    if (syscall(SYS_get_thread_area, &d) != 0 && errno == ENOSYS)
        harness_skip("kernel without IA32 emulation (ENOSYS)");
    EXPECT_EQ(syscall(SYS_get_thread_area, &d), 0);
    d.entry_number = 1;
    EXPECT_ERRNO(syscall(SYS_get_thread_area, &d), EINVAL);
    memset(&d, 0, sizeof d);
    d.entry_number = 1;
    EXPECT_ERRNO(syscall(SYS_set_thread_area, &d), EINVAL);
}

CASE(set_tid_address, returns_tid) {
    static int word;
    EXPECT_EQ(syscall(SYS_set_tid_address, &word), syscall(SYS_gettid));
}

COVERS("get_robust_list")
CASE(set_robust_list, roundtrip_and_bad_len) {
    void *head = NULL;
    size_t len = 0;
    EXPECT_EQ(syscall(SYS_get_robust_list, 0, &head, &len), 0);
    EXPECT_EQ(len, 24);
    EXPECT_EQ(syscall(SYS_set_robust_list, head, len), 0);
    EXPECT_ERRNO(syscall(SYS_set_robust_list, head, 5), EINVAL);
    EXPECT_ERRNO(syscall(SYS_get_robust_list, 999999, &head, &len), ESRCH);
}

CASE(rseq, already_registered_or_bad_args) {
    EXPECT_ERRNO(syscall(SYS_rseq, NULL, 0, 0, 0), EINVAL);
}

COVERS("pidfd_send_signal")
CASE(pidfd_open, signal_and_poll_exit) {
    pid_t p = fork();
    if (p == 0) {
        pause();
        _exit(0);
    }
    int fd = (int)EXPECT_OK(syscall(SYS_pidfd_open, p, 0));
    EXPECT_EQ(syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0), 0);
    int st;
    EXPECT_EQ(waitpid(p, &st, 0), p);
    EXPECT_EQ(WTERMSIG(st), SIGKILL);
    EXPECT_ERRNO(syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0), ESRCH);
    EXPECT_ERRNO(syscall(SYS_pidfd_open, 999999, 0), ESRCH);
    EXPECT_ERRNO(syscall(SYS_pidfd_open, getpid(), 1), EINVAL);
}

CASE(process_mrelease, live_process_einval) {
    pid_t p = fork();
    if (p == 0) {
        pause();
        _exit(0);
    }
    int fd = (int)EXPECT_OK(syscall(SYS_pidfd_open, p, 0));
    EXPECT_ERRNO(syscall(SYS_process_mrelease, fd, 0), EINVAL);
    EXPECT_ERRNO(syscall(SYS_process_mrelease, fd, 1), EINVAL);
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
}

/* signals */
static volatile sig_atomic_t got_sig;
static volatile int got_code, got_value;
static void on_sig(int s, siginfo_t *si, void *uc) {
    (void)uc;
    got_sig = s;
    got_code = si->si_code;
    got_value = si->si_value.sival_int;
}

static void install(int sig) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sig;
    sa.sa_flags = SA_SIGINFO;
    EXPECT_OK(sigaction(sig, &sa, NULL));
}

COVERS("rt_sigreturn")
CASE(rt_sigaction, raw_install_and_query) {
    install(SIGUSR1);
    struct sigaction old;
    EXPECT_OK(sigaction(SIGUSR1, NULL, &old));
    EXPECT_TRUE(old.sa_flags & SA_SIGINFO);
    EXPECT_OK(raise(SIGUSR1));
    EXPECT_EQ(got_sig, SIGUSR1);
    EXPECT_ERRNO(syscall(SYS_rt_sigaction, SIGKILL, &old, NULL, 8), EINVAL);
    EXPECT_ERRNO(syscall(SYS_rt_sigaction, SIGUSR1, NULL, &old, 4), EINVAL);
}

COVERS("rt_sigpending")
CASE(rt_sigprocmask, raw_block_pending) {
    sigset_t s, p;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    EXPECT_EQ(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &s, NULL, 8), 0);
    EXPECT_OK(kill(getpid(), SIGUSR2));
    sigemptyset(&p);
    EXPECT_EQ(syscall(SYS_rt_sigpending, &p, 8), 0);
    EXPECT_TRUE(sigismember(&p, SIGUSR2));
    EXPECT_ERRNO(syscall(SYS_rt_sigprocmask, 7, &s, NULL, 8), EINVAL);
}

CASE(pause, interrupted_by_alarm) {
    install(SIGALRM);
    EXPECT_OK(ualarm(10000, 0));
    EXPECT_ERRNO(syscall(SYS_pause), EINTR);
    EXPECT_EQ(got_sig, SIGALRM);
}

CASE(kill, raw_zero_signal_and_group) {
    EXPECT_EQ(syscall(SYS_kill, getpid(), 0), 0);
    EXPECT_ERRNO(syscall(SYS_kill, 999999, 0), ESRCH);
    EXPECT_ERRNO(syscall(SYS_kill, getpid(), 65), EINVAL);
    install(SIGUSR1);
    EXPECT_EQ(syscall(SYS_kill, 0, SIGUSR1), 0);
    EXPECT_EQ(got_sig, SIGUSR1);
}

CASE(tkill, raw_self) {
    install(SIGUSR1);
    EXPECT_EQ(syscall(SYS_tkill, syscall(SYS_gettid), SIGUSR1), 0);
    EXPECT_EQ(got_sig, SIGUSR1);
    EXPECT_EQ(got_code, SI_TKILL);
    EXPECT_ERRNO(syscall(SYS_tkill, -1, SIGUSR1), EINVAL);
}

CASE(tgkill, raw_self_and_wrong_tgid) {
    install(SIGUSR1);
    long tid = syscall(SYS_gettid);
    EXPECT_EQ(syscall(SYS_tgkill, getpid(), tid, SIGUSR1), 0);
    EXPECT_EQ(got_sig, SIGUSR1);
    EXPECT_ERRNO(syscall(SYS_tgkill, 999999, tid, 0), ESRCH);
    EXPECT_ERRNO(syscall(SYS_tgkill, 0, tid, 0), EINVAL);
}

CASE(rt_sigtimedwait, dequeues_and_times_out) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    EXPECT_OK(sigprocmask(SIG_BLOCK, &s, NULL));
    struct timespec ts = {0, 1000000};
    siginfo_t si;
    EXPECT_ERRNO(syscall(SYS_rt_sigtimedwait, &s, &si, &ts, 8), EAGAIN);
    EXPECT_OK(kill(getpid(), SIGUSR1));
    EXPECT_EQ(syscall(SYS_rt_sigtimedwait, &s, &si, &ts, 8), SIGUSR1);
    EXPECT_EQ(si.si_pid, getpid());
}

CASE(rt_sigqueueinfo, value_delivered) {
    install(SIGUSR1);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGUSR1;
    si.si_code = SI_QUEUE;
    si.si_pid = getpid();
    si.si_uid = getuid();
    si.si_value.sival_int = 1234;
    EXPECT_EQ(syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &si), 0);
    EXPECT_EQ(got_value, 1234);
    EXPECT_ERRNO(syscall(SYS_rt_sigqueueinfo, getpid(), 65, &si), EINVAL);
    EXPECT_ERRNO(syscall(SYS_rt_sigqueueinfo, 999999, SIGUSR1, &si), ESRCH);
}

CASE(rt_tgsigqueueinfo, value_delivered) {
    install(SIGUSR2);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGUSR2;
    si.si_code = SI_QUEUE;
    si.si_value.sival_int = 99;
    EXPECT_EQ(syscall(SYS_rt_tgsigqueueinfo, getpid(), syscall(SYS_gettid), SIGUSR2, &si), 0);
    EXPECT_EQ(got_value, 99);
    EXPECT_ERRNO(syscall(SYS_rt_tgsigqueueinfo, getpid(), 999999, SIGUSR2, &si), ESRCH);
}

CASE(rt_sigsuspend, wakes_on_unblocked_signal) {
    install(SIGUSR1);
    sigset_t b, w;
    sigemptyset(&b);
    sigaddset(&b, SIGUSR1);
    EXPECT_OK(sigprocmask(SIG_BLOCK, &b, NULL));
    EXPECT_OK(kill(getpid(), SIGUSR1));
    EXPECT_EQ(got_sig, 0);
    sigemptyset(&w);
    EXPECT_ERRNO(syscall(SYS_rt_sigsuspend, &w, 8), EINTR);
    EXPECT_EQ(got_sig, SIGUSR1);
}

static volatile uintptr_t handler_sp;
static void on_alt(int s) {
    int x;
    (void)s;
    handler_sp = (uintptr_t)&x;
}

CASE(sigaltstack, handler_runs_on_alt_stack) {
    static char stack[65536];
    stack_t ss = {.ss_sp = stack, .ss_size = sizeof stack, .ss_flags = 0}, old;
    EXPECT_EQ(syscall(SYS_sigaltstack, &ss, &old), 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alt;
    sa.sa_flags = SA_ONSTACK;
    EXPECT_OK(sigaction(SIGUSR1, &sa, NULL));
    EXPECT_OK(raise(SIGUSR1));
    EXPECT_TRUE(handler_sp >= (uintptr_t)stack && handler_sp < (uintptr_t)stack + sizeof stack);
    stack_t small = {.ss_sp = stack, .ss_size = 16, .ss_flags = 0};
    EXPECT_ERRNO(syscall(SYS_sigaltstack, &small, NULL), ENOMEM);
}

CASE(signalfd, raw_reads_siginfo) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    EXPECT_OK(sigprocmask(SIG_BLOCK, &s, NULL));
    int fd = (int)EXPECT_OK(syscall(SYS_signalfd, -1, &s, 8));
    EXPECT_OK(kill(getpid(), SIGUSR1));
    struct signalfd_siginfo si;
    EXPECT_EQ(read(fd, &si, sizeof si), sizeof si);
    EXPECT_EQ(si.ssi_signo, SIGUSR1);
    EXPECT_ERRNO(syscall(SYS_signalfd, -1, &s, 4), EINVAL);
}

CASE(signalfd4, raw_nonblock) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    int fd = (int)EXPECT_OK(syscall(SYS_signalfd4, -1, &s, 8, SFD_NONBLOCK | SFD_CLOEXEC));
    struct signalfd_siginfo si;
    EXPECT_ERRNO(read(fd, &si, sizeof si), EAGAIN);
    EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
    EXPECT_ERRNO(syscall(SYS_signalfd4, -1, &s, 8, 1), EINVAL);
}

CASE(restart_syscall, direct_call_eintr) { EXPECT_ERRNO(syscall(SYS_restart_syscall), EINTR); }

/* time */
CASE(nanosleep, raw_sleeps_and_rejects) {
    struct timespec a, b, ts = {0, 20000000};
    clock_gettime(CLOCK_MONOTONIC, &a);
    EXPECT_EQ(syscall(SYS_nanosleep, &ts, NULL), 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    EXPECT_TRUE((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) >= 20000000L);
    struct timespec neg = {-1, 0};
    EXPECT_ERRNO(syscall(SYS_nanosleep, &neg, NULL), EINVAL);
}

CASE(clock_nanosleep, abstime_and_bad_clock) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    now.tv_nsec += 10000000;
    if (now.tv_nsec >= 1000000000L) {
        now.tv_sec++;
        now.tv_nsec -= 1000000000L;
    }
    EXPECT_EQ(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &now, NULL), 0);
    struct timespec ts = {0, 1};
    EXPECT_ERRNO(syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &ts, NULL), EOPNOTSUPP);
    EXPECT_ERRNO(syscall(SYS_clock_nanosleep, 100, 0, &ts, NULL), EINVAL);
}

COVERS("getitimer")
CASE(setitimer, real_timer_fires) {
    install(SIGALRM);
    struct itimerval it = {{0, 0}, {0, 20000}}, cur;
    EXPECT_EQ(syscall(SYS_setitimer, ITIMER_REAL, &it, NULL), 0);
    EXPECT_EQ(syscall(SYS_getitimer, ITIMER_REAL, &cur), 0);
    EXPECT_TRUE(cur.it_value.tv_usec > 0 || cur.it_value.tv_sec > 0);
    while (!got_sig)
        pause();
    EXPECT_EQ(got_sig, SIGALRM);
    EXPECT_ERRNO(syscall(SYS_getitimer, 9, &cur), EINVAL);
}

CASE(alarm, returns_remaining) {
    EXPECT_EQ(syscall(SYS_alarm, 100), 0);
    EXPECT_EQ(syscall(SYS_alarm, 0), 100);
}

CASE(gettimeofday, raw_matches_realtime) {
    struct timeval tv;
    struct timespec ts;
    EXPECT_EQ(syscall(SYS_gettimeofday, &tv, NULL), 0);
    clock_gettime(CLOCK_REALTIME, &ts);
    EXPECT_TRUE(ts.tv_sec - tv.tv_sec <= 1 && ts.tv_sec >= tv.tv_sec);
}

CASE(time, raw_matches_realtime) {
    time_t t = 0;
    long r = syscall(SYS_time, &t);
    EXPECT_EQ(r, t);
    EXPECT_TRUE(labs(r - (long)time(NULL)) <= 1);
}

CASE(clock_gettime, raw_clocks) {
    struct timespec ts;
    EXPECT_EQ(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts), 0);
    EXPECT_EQ(syscall(SYS_clock_gettime, CLOCK_BOOTTIME, &ts), 0);
    EXPECT_EQ(syscall(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &ts), 0);
    EXPECT_ERRNO(syscall(SYS_clock_gettime, 100, &ts), EINVAL);
}

CASE(clock_getres, raw_resolution) {
    struct timespec ts;
    EXPECT_EQ(syscall(SYS_clock_getres, CLOCK_MONOTONIC, &ts), 0);
    EXPECT_TRUE(ts.tv_sec == 0 && ts.tv_nsec > 0);
    EXPECT_ERRNO(syscall(SYS_clock_getres, 100, &ts), EINVAL);
}

COVERS("timer_settime timer_gettime timer_getoverrun timer_delete")
CASE(timer_create, posix_timer_signals) {
    install(SIGUSR1);
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR1;
    int id = -1;
    EXPECT_EQ(syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id), 0);
    struct itimerspec it = {{0, 0}, {0, 10000000}}, cur;
    EXPECT_EQ(syscall(SYS_timer_settime, id, 0, &it, NULL), 0);
    EXPECT_EQ(syscall(SYS_timer_gettime, id, &cur), 0);
    while (!got_sig)
        pause();
    EXPECT_EQ(got_sig, SIGUSR1);
    EXPECT_EQ(got_code, SI_TIMER);
    EXPECT_EQ(syscall(SYS_timer_getoverrun, id), 0);
    EXPECT_EQ(syscall(SYS_timer_delete, id), 0);
    EXPECT_ERRNO(syscall(SYS_timer_delete, id), EINVAL);
    EXPECT_ERRNO(syscall(SYS_timer_create, 100, &ev, &id), EINVAL);
}

COVERS("timerfd_settime timerfd_gettime")
CASE(timerfd_create, interval_expirations) {
    int fd = (int)EXPECT_OK(syscall(SYS_timerfd_create, CLOCK_MONOTONIC, TFD_CLOEXEC));
    struct itimerspec it = {{0, 5000000}, {0, 5000000}}, cur;
    EXPECT_EQ(syscall(SYS_timerfd_settime, fd, 0, &it, NULL), 0);
    EXPECT_EQ(syscall(SYS_timerfd_gettime, fd, &cur), 0);
    EXPECT_EQ(cur.it_interval.tv_nsec, 5000000);
    uint64_t n;
    EXPECT_EQ(read(fd, &n, 8), 8);
    EXPECT_TRUE(n >= 1);
    EXPECT_ERRNO(syscall(SYS_timerfd_create, 100, 0), EINVAL);
    EXPECT_ERRNO(syscall(SYS_timerfd_settime, fd, 0x80, &it, NULL), EINVAL);
}

/* scheduling */
CASE(sched_yield, returns_zero) { EXPECT_EQ(syscall(SYS_sched_yield), 0); }

COVERS("getpriority")
CASE(setpriority, nice_up_then_read) {
    EXPECT_EQ(syscall(SYS_setpriority, PRIO_PROCESS, 0, 5), 0);
    errno = 0;
    EXPECT_EQ(getpriority(PRIO_PROCESS, 0), 5);
    EXPECT_EQ(syscall(SYS_getpriority, PRIO_PROCESS, 0), 20 - 5); /* raw: 20 - nice */
    EXPECT_ERRNO(syscall(SYS_setpriority, 9, 0, 5), EINVAL);
}

CASE(getpriority, missing_pid_esrch) {
    EXPECT_ERRNO(syscall(SYS_getpriority, PRIO_PROCESS, 999999), ESRCH);
}

COVERS("sched_getparam")
CASE(sched_setparam, other_policy_priority_zero) {
    struct sched_param p = {0};
    EXPECT_EQ(syscall(SYS_sched_getparam, 0, &p), 0);
    EXPECT_EQ(p.sched_priority, 0);
    EXPECT_EQ(syscall(SYS_sched_setparam, 0, &p), 0);
    p.sched_priority = 50;
    EXPECT_ERRNO(syscall(SYS_sched_setparam, 0, &p), EINVAL);
}

COVERS("sched_getscheduler")
CASE(sched_setscheduler, batch_roundtrip) {
    struct sched_param p = {0};
    EXPECT_EQ(syscall(SYS_sched_getscheduler, 0), SCHED_OTHER);
    EXPECT_EQ(syscall(SYS_sched_setscheduler, 0, SCHED_BATCH, &p), 0);
    EXPECT_EQ(syscall(SYS_sched_getscheduler, 0), SCHED_BATCH);
    EXPECT_ERRNO(syscall(SYS_sched_setscheduler, 0, 99, &p), EINVAL);
    EXPECT_ERRNO(syscall(SYS_sched_getscheduler, 999999), ESRCH);
}

COVERS("sched_get_priority_min")
CASE(sched_get_priority_max, fifo_range) {
    EXPECT_EQ(syscall(SYS_sched_get_priority_max, SCHED_FIFO), 99);
    EXPECT_EQ(syscall(SYS_sched_get_priority_min, SCHED_FIFO), 1);
    EXPECT_EQ(syscall(SYS_sched_get_priority_max, SCHED_OTHER), 0);
    EXPECT_ERRNO(syscall(SYS_sched_get_priority_min, 99), EINVAL);
}

CASE(sched_rr_get_interval, self) {
    struct timespec ts;
    EXPECT_EQ(syscall(SYS_sched_rr_get_interval, 0, &ts), 0);
    EXPECT_ERRNO(syscall(SYS_sched_rr_get_interval, -1, &ts), EINVAL);
}

COVERS("sched_getaffinity")
CASE(sched_setaffinity, pin_to_current_cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    long n = syscall(SYS_sched_getaffinity, 0, sizeof s, &s);
    EXPECT_TRUE(n > 0 && n <= (long)sizeof s);
    EXPECT_TRUE(CPU_COUNT(&s) >= 1);
    unsigned cpu = 0;
    EXPECT_OK(syscall(SYS_getcpu, &cpu, NULL, NULL));
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    EXPECT_EQ(syscall(SYS_sched_setaffinity, 0, sizeof one, &one), 0);
    EXPECT_EQ(syscall(SYS_getcpu, &cpu, NULL, NULL), 0);
    EXPECT_TRUE(CPU_ISSET(cpu, &one));
    cpu_set_t none;
    CPU_ZERO(&none);
    EXPECT_ERRNO(syscall(SYS_sched_setaffinity, 0, sizeof none, &none), EINVAL);
    EXPECT_ERRNO(syscall(SYS_sched_getaffinity, 0, 1, &s), EINVAL);
}

CASE(getcpu, cpu_in_affinity) {
    unsigned cpu = 99999, node = 99999;
    EXPECT_EQ(syscall(SYS_getcpu, &cpu, &node, NULL), 0);
    cpu_set_t s;
    EXPECT_OK(sched_getaffinity(0, sizeof s, &s));
    EXPECT_TRUE(CPU_ISSET(cpu, &s));
}

COVERS("ioprio_get")
CASE(ioprio_set, best_effort_roundtrip) {
    int be4 = (2 << 13) | 4; /* IOPRIO_CLASS_BE, level 4 */
    EXPECT_EQ(syscall(SYS_ioprio_set, 1 /* WHO_PROCESS */, 0, be4), 0);
    EXPECT_EQ(syscall(SYS_ioprio_get, 1, 0), be4);
    EXPECT_ERRNO(syscall(SYS_ioprio_set, 1, 0, (7 << 13)), EINVAL);
    EXPECT_ERRNO(syscall(SYS_ioprio_get, 9, 0), EINVAL);
}

COVERS("sched_getattr")
CASE(sched_setattr, nice_via_attr) {
    struct sched_attr a;
    memset(&a, 0, sizeof a);
    EXPECT_EQ(syscall(SYS_sched_getattr, 0, &a, sizeof a, 0), 0);
    EXPECT_EQ(a.sched_policy, SCHED_OTHER);
    a.size = sizeof a;
    a.sched_nice = 3;
    EXPECT_EQ(syscall(SYS_sched_setattr, 0, &a, 0), 0);
    memset(&a, 0, sizeof a);
    EXPECT_EQ(syscall(SYS_sched_getattr, 0, &a, sizeof a, 0), 0);
    EXPECT_EQ(a.sched_nice, 3);
    EXPECT_ERRNO(syscall(SYS_sched_getattr, 0, &a, sizeof a, 1), EINVAL);
}

CASE(membarrier, query_and_private) {
    long q = syscall(SYS_membarrier, 0 /* QUERY */, 0, 0);
    EXPECT_TRUE(q > 0);
    EXPECT_ERRNO(syscall(SYS_membarrier, 8 /* PRIVATE_EXPEDITED */, 0, 0), EPERM);
    EXPECT_EQ(syscall(SYS_membarrier, 16 /* REGISTER_PRIVATE_EXPEDITED */, 0, 0), 0);
    EXPECT_EQ(syscall(SYS_membarrier, 8, 0, 0), 0);
    EXPECT_ERRNO(syscall(SYS_membarrier, 0x10000, 0, 0), EINVAL);
}

/* futexes */
CASE(futex, wait_value_mismatch_and_timeout) {
    static int w = 1;
    EXPECT_ERRNO(syscall(SYS_futex, &w, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0), EAGAIN);
    struct timespec ts = {0, 1000000};
    EXPECT_ERRNO(syscall(SYS_futex, &w, FUTEX_WAIT_PRIVATE, 1, &ts, NULL, 0), ETIMEDOUT);
    EXPECT_EQ(syscall(SYS_futex, &w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 0);
    EXPECT_ERRNO(syscall(SYS_futex, &w, 99, 1, NULL, NULL, 0), ENOSYS);
}

CASE(futex, wake_across_fork_shared) {
    int *w = (int *)EXPECT_OK((long)mmap(NULL, 4096, 3, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    pid_t p = fork();
    if (p == 0) {
        while (syscall(SYS_futex, w, FUTEX_WAIT, 0, NULL, NULL, 0) != 0 && *w == 0)
            ;
        _exit(*w == 1 ? 0 : 1);
    }
    usleep(20000);
    __atomic_store_n(w, 1, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0);
    int st;
    EXPECT_EQ(waitpid(p, &st, 0), p);
    EXPECT_EQ(WEXITSTATUS(st), 0);
}

struct fwaitv {
    uint64_t val, uaddr;
    uint32_t flags, reserved;
};

CASE(futex_waitv, mismatch_and_timeout) {
    static uint32_t w = 5;
    struct fwaitv v = {.val = 4, .uaddr = (uintptr_t)&w, .flags = 2 /* FUTEX2_SIZE_U32 */ | 128};
    EXPECT_ERRNO(syscall(SYS_futex_waitv, &v, 1, 0, NULL, CLOCK_MONOTONIC), EAGAIN);
    v.val = 5;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_nsec += 1000000;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    EXPECT_ERRNO(syscall(SYS_futex_waitv, &v, 1, 0, &t, CLOCK_MONOTONIC), ETIMEDOUT);
    EXPECT_ERRNO(syscall(SYS_futex_waitv, &v, 0, 0, NULL, CLOCK_MONOTONIC), EINVAL);
}

COVERS("futex_wait futex_requeue")
CASE(futex_wake, futex2_calls) {
    static uint32_t w = 1, w2 = 1;
    unsigned fl = 2 | 128; /* FUTEX2_SIZE_U32 | FUTEX2_PRIVATE */
    EXPECT_EQ(syscall(SYS_futex_wake, &w, 0xffffffffUL, 1, fl), 0);
    EXPECT_ERRNO(syscall(SYS_futex_wake, &w, ~0UL, 1, fl), EINVAL); /* mask wider than u32 */
    EXPECT_ERRNO(syscall(SYS_futex_wait, &w, 2, 0xffffffffUL, fl, NULL, CLOCK_MONOTONIC), EAGAIN);
    struct fwaitv r[2] = {{.val = 1, .uaddr = (uintptr_t)&w, .flags = fl},
                          {.val = 1, .uaddr = (uintptr_t)&w2, .flags = fl}};
    EXPECT_EQ(syscall(SYS_futex_requeue, r, 0, 1, 1), 0);
    EXPECT_ERRNO(syscall(SYS_futex_wake, &w, 0xffffffffUL, 1, 0x1000), EINVAL);
}
