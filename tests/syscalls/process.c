/* fork/wait/execve/getpid; signals; time; identity */
#include "harness.h"
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>

static int run_exit(char *const argv[]) {
    pid_t pid = fork();
    if (pid == 0) {
        /* retry ETXTBSY: the lingering-writer race is what
         * process.execve_just_written_file_enoexec checks, not these cases */
        for (int i = 0; i < 50; i++) {
            execv(argv[0], argv);
            if (errno != ETXTBSY)
                break;
            usleep(10000);
        }
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid)
        FAIL("waitpid: %s", harness_errname(errno));
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

CASE(process, fork_wait_exit_code) {
    pid_t pid = EXPECT_OK(fork());
    if (pid == 0)
        _exit(42);
    int st;
    EXPECT_EQ(waitpid(pid, &st, 0), pid);
    EXPECT_TRUE(WIFEXITED(st));
    EXPECT_EQ(WEXITSTATUS(st), 42);
}

CASE(process, wait_reports_signal) {
    pid_t pid = EXPECT_OK(fork());
    if (pid == 0) {
        pause();
        _exit(0);
    }
    EXPECT_OK(kill(pid, SIGTERM));
    int st;
    EXPECT_EQ(waitpid(pid, &st, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(st));
    EXPECT_EQ(WTERMSIG(st), SIGTERM);
}

CASE(process, child_pids) {
    int p[2];
    EXPECT_OK(pipe(p));
    pid_t me = getpid();
    pid_t pid = EXPECT_OK(fork());
    if (pid == 0) {
        int ok = getppid() == me && getpid() != me;
        _exit(ok ? 0 : 1);
    }
    int st;
    EXPECT_EQ(waitpid(pid, &st, 0), pid);
    EXPECT_EQ(WEXITSTATUS(st), 0);
    EXPECT_EQ(getpgid(0), getpid()); /* the harness made us a group leader */
}

CASE(process, waitpid_no_child_echild) {
    EXPECT_ERRNO(waitpid(-1, NULL, WNOHANG), ECHILD);
}

CASE(process, execve_self_exit_code) {
    char *argv[] = {harness_self, "--exit", "7", NULL};
    EXPECT_EQ(run_exit(argv), 7);
}

CASE(process, execve_shebang_script) {
    put_file("script", "#!/bin/sh\nexit 5\n");
    EXPECT_OK(chmod("script", 0755));
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/script", harness_scratch);
    char *argv[] = {path, NULL};
    EXPECT_EQ(run_exit(argv), 5);
}

CASE(process, execve_errors) {
    char *argv[] = {"x", NULL};
    char *envp[] = {NULL};
    EXPECT_ERRNO(execve("missing", argv, envp), ENOENT);
    put_file("f", "not a program");
    EXPECT_ERRNO(execve("f", argv, envp), EACCES);
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_ERRNO(execve("d", argv, envp), EACCES);
}

CASE(process, execve_just_written_file_enoexec) {
    /* once close() returns nobody holds the file open for writing, so an
     * exec right after write+close (+ a refused exec) + chmod must never
     * see ETXTBSY */
    char *argv[] = {"x", NULL};
    char *envp[] = {NULL};
    char name[32];
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "f%d", i);
        put_file(name, "not a program");
        EXPECT_ERRNO(execve(name, argv, envp), EACCES);
        EXPECT_OK(chmod(name, 0755));
        EXPECT_ERRNO(execve(name, argv, envp), ENOEXEC);
    }
}

CASE(process, execveat_empty_path) {
    pid_t pid = EXPECT_OK(fork());
    if (pid == 0) {
        int fd = open(harness_self, O_RDONLY | O_CLOEXEC);
        char *argv[] = {"conformance", "--exit", "9", NULL};
        char *envp[] = {NULL};
        syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
        _exit(127);
    }
    int st;
    EXPECT_EQ(waitpid(pid, &st, 0), pid);
    EXPECT_EQ(WEXITSTATUS(st), 9);
}

CASE(process, cloexec_closed_across_exec) {
    /* the child exec's a shell that reports whether fd 50 is open */
    int fd = EXPECT_OK(open("/dev/null", O_RDONLY));
    EXPECT_EQ(dup3(fd, 50, O_CLOEXEC), 50);
    char *argv[] = {"/bin/sh", "-c", "[ -e /proc/self/fd/50 ] && exit 1; exit 0", NULL};
    EXPECT_EQ(run_exit(argv), 0);
}

static volatile sig_atomic_t hit;
static void on_signal(int s) { hit = s; }

CASE(signal, handler_runs_on_kill_self) {
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    EXPECT_OK(sigaction(SIGUSR1, &sa, NULL));
    EXPECT_OK(kill(getpid(), SIGUSR1));
    EXPECT_EQ(hit, SIGUSR1);
}

static volatile pid_t from;
static void on_siginfo(int s, siginfo_t *si, void *uc) {
    (void)s;
    (void)uc;
    from = si->si_pid;
}

CASE(signal, siginfo_sender_pid) {
    struct sigaction sa = {0};
    sa.sa_sigaction = on_siginfo;
    sa.sa_flags = SA_SIGINFO;
    EXPECT_OK(sigaction(SIGUSR2, &sa, NULL));
    EXPECT_OK(kill(getpid(), SIGUSR2));
    EXPECT_EQ(from, getpid());
}

CASE(signal, sigprocmask_blocks_pending) {
    sigset_t set, pend;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    EXPECT_OK(sigprocmask(SIG_BLOCK, &set, NULL));
    EXPECT_OK(kill(getpid(), SIGUSR1));
    EXPECT_OK(sigpending(&pend));
    EXPECT_TRUE(sigismember(&pend, SIGUSR1));
    int sig = 0;
    EXPECT_EQ(sigwait(&set, &sig), 0);
    EXPECT_EQ(sig, SIGUSR1);
}

CASE(signal, signalfd_reads_signal) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    EXPECT_OK(sigprocmask(SIG_BLOCK, &set, NULL));
    int fd = EXPECT_OK(signalfd(-1, &set, SFD_CLOEXEC));
    EXPECT_OK(kill(getpid(), SIGUSR1));
    struct signalfd_siginfo si;
    EXPECT_EQ(read(fd, &si, sizeof si), sizeof si);
    EXPECT_EQ(si.ssi_signo, SIGUSR1);
    EXPECT_EQ(si.ssi_pid, getpid());
}

CASE(signal, kill_errors) {
    EXPECT_ERRNO(kill(getpid(), 1000), EINVAL);
    EXPECT_ERRNO(kill(999999999, 0), ESRCH);
    EXPECT_OK(kill(getpid(), 0));
}

CASE(signal, sigkill_cannot_be_caught) {
    struct sigaction sa = {0};
    sa.sa_handler = SIG_IGN;
    EXPECT_ERRNO(sigaction(SIGKILL, &sa, NULL), EINVAL);
}

CASE(time, monotonic_increases) {
    struct timespec a, b;
    EXPECT_OK(clock_gettime(CLOCK_MONOTONIC, &a));
    EXPECT_OK(clock_gettime(CLOCK_MONOTONIC, &b));
    EXPECT_TRUE(b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec));
}

CASE(time, nanosleep_sleeps) {
    struct timespec a, b, d = {0, 20 * 1000 * 1000};
    EXPECT_OK(clock_gettime(CLOCK_MONOTONIC, &a));
    EXPECT_OK(nanosleep(&d, NULL));
    EXPECT_OK(clock_gettime(CLOCK_MONOTONIC, &b));
    long ns = (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
    EXPECT_TRUE(ns >= 20 * 1000 * 1000);
}

CASE(time, nanosleep_bad_nsec_einval) {
    struct timespec d = {0, 1000000000};
    EXPECT_ERRNO(nanosleep(&d, NULL), EINVAL);
}

CASE(time, bad_clock_einval) {
    struct timespec t;
    EXPECT_ERRNO(syscall(SYS_clock_gettime, 1000, &t), EINVAL);
}

CASE(time, realtime_matches_gettimeofday) {
    struct timespec t;
    struct timeval tv;
    EXPECT_OK(clock_gettime(CLOCK_REALTIME, &t));
    EXPECT_OK(gettimeofday(&tv, NULL));
    EXPECT_TRUE(tv.tv_sec - t.tv_sec <= 1 && tv.tv_sec >= t.tv_sec);
    EXPECT_TRUE(t.tv_sec > 1600000000);
}

CASE(time, timerfd_expires) {
    int fd = EXPECT_OK(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
    struct itimerspec its = {{0, 0}, {0, 10 * 1000 * 1000}};
    EXPECT_OK(timerfd_settime(fd, 0, &its, NULL));
    unsigned long long n = 0;
    EXPECT_EQ(read(fd, &n, sizeof n), 8);
    EXPECT_EQ(n, 1);
}

CASE(identity, ids_consistent) {
    uid_t r, e, s;
    gid_t gr, ge, gs;
    EXPECT_OK(getresuid(&r, &e, &s));
    EXPECT_OK(getresgid(&gr, &ge, &gs));
    EXPECT_EQ(r, getuid());
    EXPECT_EQ(e, geteuid());
    EXPECT_EQ(gr, getgid());
    EXPECT_EQ(ge, getegid());
}

CASE(identity, setuid_to_self) {
    EXPECT_OK(setuid(getuid()));
    EXPECT_OK(setgid(getgid()));
}

CASE(identity, getgroups) {
    gid_t g[256];
    int n = EXPECT_OK(getgroups(256, g));
    EXPECT_TRUE(n >= 0);
}

CASE(identity, capget_v3) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    EXPECT_OK(syscall(SYS_capget, &h, d));
    EXPECT_EQ((d[0].effective & ~d[0].permitted), 0);
    EXPECT_EQ((d[1].effective & ~d[1].permitted), 0);
}

CASE(identity, capget_bad_version_einval) {
    struct __user_cap_header_struct h = {0x12345678, 0};
    struct __user_cap_data_struct d[2];
    EXPECT_ERRNO(syscall(SYS_capget, &h, d), EINVAL);
    EXPECT_EQ(h.version, _LINUX_CAPABILITY_VERSION_3);
}

CASE(identity, capget_null_data_probe) {
    struct __user_cap_header_struct h = {0, 0};
    EXPECT_OK(syscall(SYS_capget, &h, NULL)); /* a NULL probe succeeds */
    EXPECT_EQ(h.version, _LINUX_CAPABILITY_VERSION_3);
}

CASE(identity, capset_drop_effective) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    EXPECT_OK(syscall(SYS_capget, &h, d));
    d[0].effective = 0;
    d[1].effective = 0;
    EXPECT_OK(syscall(SYS_capset, &h, d));
    EXPECT_EQ(has_cap(CAP_CHOWN), 0);
    EXPECT_EQ(has_cap(CAP_KILL), 0);
}

/* A forked child inherits the sets its parent lowered with capset. */
CASE(identity, capset_drop_inherited_by_child) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    EXPECT_OK(syscall(SYS_capget, &h, d));
    d[0].effective = 0;
    d[1].effective = 0;
    EXPECT_OK(syscall(SYS_capset, &h, d));
    pid_t child = fork();
    if (child == 0)
        _exit(has_cap(CAP_KILL) ? 1 : 0);
    int st;
    EXPECT_EQ(waitpid(child, &st, 0), child);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

CASE(identity, capset_raise_beyond_permitted_eperm) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    EXPECT_OK(syscall(SYS_capget, &h, d));
    d[0].permitted = 0;
    d[1].permitted = 0;
    d[0].effective = d[1].effective = 0;
    d[0].inheritable = d[1].inheritable = 0;
    EXPECT_OK(syscall(SYS_capset, &h, d));
    d[0].effective = 1u << CAP_KILL;
    EXPECT_ERRNO(syscall(SYS_capset, &h, d), EPERM);
}

/* Writes an executable script (open O_WRONLY|O_CREAT, write, close). */
static void write_script(const char *name, int code) {
    char body[64];
    int n = snprintf(body, sizeof body, "#!/bin/sh\nexit %d\n", code);
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    if (fd < 0 || write(fd, body, (size_t)n) != n || close(fd) != 0)
        _exit(120);
}

CASE(process, execve_a_script_another_process_just_wrote) {
    /* Under runrs the writable file's copies in the sentry and the gofer
     * close right after the install: an execve must never see them
     * (ETXTBSY), whichever process wrote the file. */
    for (int i = 0; i < 30; i++) {
        char name[32];
        snprintf(name, sizeof name, "s%d", i);
        pid_t w = EXPECT_OK(fork());
        if (w == 0) {
            write_script(name, i % 100);
            _exit(0);
        }
        int st;
        EXPECT_EQ(waitpid(w, &st, 0), w);
        EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        pid_t x = EXPECT_OK(fork());
        if (x == 0) {
            char *argv[] = {name, NULL};
            char *envp[] = {NULL};
            execve(name, argv, envp);
            _exit(errno == ETXTBSY ? 121 : 122);
        }
        EXPECT_EQ(waitpid(x, &st, 0), x);
        EXPECT_TRUE(WIFEXITED(st));
        EXPECT_EQ(WEXITSTATUS(st), i % 100);
    }
}
