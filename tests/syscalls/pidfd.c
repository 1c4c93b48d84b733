/* pidfds, clone3, kcmp, process_madvise and process_vm_readv/writev between
 * processes of the container, with Linux's ptrace-access rules (same ids
 * and a dumpable target, else CAP_SYS_PTRACE): pidfd_open(2),
 * pidfd_send_signal(2), pidfd_getfd(2), clone3 in clone(2), kcmp(2),
 * process_madvise(2), process_vm_readv(2). Every denial is followed by a
 * kill of the waiting child, so a refusal never leaves a case hanging. */
#include "net_util.h"
#include <linux/sched.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <sys/wait.h>

#define CAP_SYS_PTRACE_ 19
#define CAP_SETUID_ 7
#define CAP_SYS_NICE_ 23
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif
#define KCMP_FILE_ 0

static int pidfd_open_(pid_t pid, unsigned flags) {
    return (int)syscall(SYS_pidfd_open, pid, flags);
}
static int pidfd_signal_(int fd, int sig, siginfo_t *info, unsigned flags) {
    return (int)syscall(SYS_pidfd_send_signal, fd, sig, info, flags);
}

/* A siginfo as sigqueue(3) makes it: SI_QUEUE from this process, with
 * `value`. */
static siginfo_t queued(int sig, int value) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = sig;
    si.si_code = SI_QUEUE;
    si.si_pid = getpid();
    si.si_uid = getuid();
    si.si_value.sival_int = value;
    return si;
}

/* A child that waits until its pipe closes (or it is killed). */
static pid_t sleeper(int *keep) {
    int p[2];
    EXPECT_OK(pipe2(p, O_CLOEXEC));
    pid_t c = fork();
    if (c == 0) {
        close(p[1]);
        char b;
        while (read(p[0], &b, 1) < 0 && errno == EINTR)
            ;
        _exit(7);
    }
    EXPECT_OK(c);
    close(p[0]);
    *keep = p[1];
    return c;
}

CASE(pidfd_open, polls_readable_when_the_child_exits) {
    int keep;
    pid_t c = sleeper(&keep);
    int fd = (int)EXPECT_OK(pidfd_open_(c, 0));
    EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
    struct pollfd p = {fd, POLLIN, 0};
    EXPECT_EQ(poll(&p, 1, 0), 0);
    close(keep);
    EXPECT_EQ(poll(&p, 1, 3000), 1);
    EXPECT_TRUE(p.revents & POLLIN);
    int st;
    EXPECT_EQ(waitpid(c, &st, 0), c);
    EXPECT_EQ(WEXITSTATUS(st), 7);
}

CASE(pidfd_open, argument_errors) {
    EXPECT_ERRNO(pidfd_open_(getpid(), 1), EINVAL);
    EXPECT_ERRNO(pidfd_open_(0, 0), EINVAL);
    EXPECT_ERRNO(pidfd_open_(-1, 0), EINVAL);
    pid_t c = fork();
    if (c == 0)
        _exit(0);
    EXPECT_EQ(waitpid(c, NULL, 0), c);
    EXPECT_ERRNO(pidfd_open_(c, 0), ESRCH);
}

CASE(pidfd_open, nonblock_flag) {
    int fd = (int)EXPECT_OK(pidfd_open_(getpid(), PIDFD_NONBLOCK));
    EXPECT_TRUE(fcntl(fd, F_GETFL) & O_NONBLOCK);
}

CASE(pidfd_open, zombie_child_still_opens_and_is_readable) {
    pid_t c = fork();
    if (c == 0)
        _exit(3);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    EXPECT_OK(waitid(P_PID, (id_t)c, &si, WEXITED | WNOWAIT));
    int fd = (int)EXPECT_OK(pidfd_open_(c, 0));
    struct pollfd p = {fd, POLLIN, 0};
    EXPECT_EQ(poll(&p, 1, 0), 1);
    EXPECT_EQ(waitpid(c, NULL, 0), c);
}

CASE(pidfd_send_signal, kills_a_child) {
    int keep;
    pid_t c = sleeper(&keep);
    int fd = (int)EXPECT_OK(pidfd_open_(c, 0));
    EXPECT_OK(pidfd_signal_(fd, SIGTERM, NULL, 0));
    int st;
    EXPECT_EQ(waitpid(c, &st, 0), c);
    EXPECT_TRUE(WIFSIGNALED(st));
    EXPECT_EQ(WTERMSIG(st), SIGTERM);
}

CASE(pidfd_send_signal, signal_zero_probes_and_esrch_after_exit) {
    int keep;
    pid_t c = sleeper(&keep);
    int fd = (int)EXPECT_OK(pidfd_open_(c, 0));
    EXPECT_OK(pidfd_signal_(fd, 0, NULL, 0));
    close(keep);
    EXPECT_EQ(waitpid(c, NULL, 0), c);
    EXPECT_ERRNO(pidfd_signal_(fd, 0, NULL, 0), ESRCH);
    EXPECT_ERRNO(pidfd_signal_(fd, SIGKILL, NULL, 0), ESRCH);
}

CASE(pidfd_send_signal, argument_errors) {
    int fd = (int)EXPECT_OK(pidfd_open_(getpid(), 0));
    EXPECT_ERRNO(pidfd_signal_(fd, SIGUSR1, NULL, 0x100), EINVAL);
    EXPECT_ERRNO(pidfd_signal_(fd, 99, NULL, 0), EINVAL);
    EXPECT_ERRNO(pidfd_signal_(999, 0, NULL, 0), EBADF);
    int p[2];
    EXPECT_OK(pipe(p));
    EXPECT_ERRNO(pidfd_signal_(p[0], 0, NULL, 0), EBADF);
}

CASE(pidfd_send_signal, to_itself_is_delivered) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    EXPECT_OK(sigprocmask(SIG_BLOCK, &set, NULL));
    int fd = (int)EXPECT_OK(pidfd_open_(getpid(), 0));
    EXPECT_OK(pidfd_signal_(fd, SIGUSR1, NULL, 0));
    siginfo_t si;
    struct timespec ts = {3, 0};
    EXPECT_EQ(sigtimedwait(&set, &si, &ts), SIGUSR1);
    EXPECT_EQ(si.si_pid, getpid());
    EXPECT_EQ(si.si_code, SI_USER);
}

CASE(pidfd_send_signal, siginfo_with_si_user_to_another_process_eperm) {
    int keep;
    pid_t c = sleeper(&keep);
    int fd = (int)EXPECT_OK(pidfd_open_(c, 0));
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGUSR1;
    si.si_code = SI_USER;
    si.si_pid = getpid();
    errno = 0;
    int r = pidfd_signal_(fd, SIGUSR1, &si, 0);
    int e = errno;
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
    EXPECT_EQ(r, -1);
    EXPECT_EQ(e, EPERM);
}

CASE(pidfd_send_signal, siginfo_si_queue_carries_a_value) {
    int p[2];
    EXPECT_OK(pipe(p));
    pid_t c = fork();
    if (c == 0) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR2);
        sigprocmask(SIG_BLOCK, &set, NULL);
        if (write(p[1], "r", 1) != 1)
            _exit(1);
        siginfo_t si;
        struct timespec ts = {4, 0};
        if (sigtimedwait(&set, &si, &ts) != SIGUSR2)
            _exit(2);
        _exit(si.si_value.sival_int == 42 && si.si_code == SI_QUEUE ? 0 : 3);
    }
    char b;
    EXPECT_EQ(read(p[0], &b, 1), 1);
    int fd = (int)EXPECT_OK(pidfd_open_(c, 0));
    siginfo_t si = queued(SIGUSR2, 42);
    EXPECT_OK(pidfd_signal_(fd, SIGUSR2, &si, 0));
    int st;
    EXPECT_EQ(waitpid(c, &st, 0), c);
    EXPECT_EQ(WEXITSTATUS(st), 0);
}

/* A sleeping child of root's, signalled through the fd `open_fd` gives
 * for it by a process of uid 1000 without CAP_KILL: EPERM. */
static void expect_other_uid_eperm(int (*open_fd)(pid_t)) {
    if (!has_cap(CAP_SETUID_))
        harness_skip("needs CAP_SETUID");
    int keep;
    pid_t c = sleeper(&keep);
    int fd = (int)EXPECT_OK(open_fd(c));
    pid_t d = fork();
    if (d == 0) {
        if (setresuid(1000, 1000, 1000) != 0)
            _exit(2);
        _exit(pidfd_signal_(fd, SIGKILL, NULL, 0) == -1 && errno == EPERM ? 0 : 1);
    }
    int st;
    EXPECT_EQ(waitpid(d, &st, 0), d);
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
    close(fd);
    close(keep);
    EXPECT_EQ(WEXITSTATUS(st), 0);
}

static int pidfd_of(pid_t c) {
    return pidfd_open_(c, 0);
}

/* An fd of the process's /proc/<pid> directory. */
static int proc_dir_of(pid_t c) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d", (int)c);
    return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

CASE(pidfd_send_signal, other_uid_without_cap_kill_eperm) {
    expect_other_uid_eperm(pidfd_of);
}

/* An fd of a /proc/<pid> directory is a pidfd too (Linux 5.1's first
 * form; LTP and CPython's tests signal /proc/self): the same checks, the
 * caller's siginfo delivered as given. Only a process's own directory. */
COVERS("open")
CASE(pidfd_send_signal, proc_pid_directory_is_a_pidfd) {
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    EXPECT_OK(sigprocmask(SIG_BLOCK, &set, &old));
    int self = (int)EXPECT_OK(open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    EXPECT_OK(pidfd_signal_(self, SIGUSR1, NULL, 0));
    siginfo_t got;
    struct timespec ts = {3, 0};
    EXPECT_EQ(sigtimedwait(&set, &got, &ts), SIGUSR1);
    EXPECT_EQ(got.si_code, SI_USER);
    siginfo_t si = queued(SIGUSR1, 7);
    EXPECT_OK(pidfd_signal_(self, SIGUSR1, &si, 0));
    EXPECT_EQ(sigtimedwait(&set, &got, &ts), SIGUSR1);
    EXPECT_EQ(got.si_code, SI_QUEUE);
    EXPECT_EQ(got.si_value.sival_int, 7);
    si.si_signo = SIGUSR2;
    EXPECT_ERRNO(pidfd_signal_(self, SIGUSR1, &si, 0), EINVAL);
    EXPECT_ERRNO(pidfd_signal_(self, SIGUSR1, NULL, 0x100), EINVAL);
    EXPECT_ERRNO(pidfd_signal_(self, 99, NULL, 0), EINVAL);
    EXPECT_OK(pidfd_signal_(self, 0, NULL, 0));
    char task[64];
    snprintf(task, sizeof task, "/proc/self/task/%d", (int)syscall(SYS_gettid));
    int t = (int)EXPECT_OK(open(task, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    EXPECT_ERRNO(pidfd_signal_(t, 0, NULL, 0), EBADF);
    int proc = (int)EXPECT_OK(open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    EXPECT_ERRNO(pidfd_signal_(proc, 0, NULL, 0), EBADF);
    close(proc);
    close(t);
    close(self);
    EXPECT_OK(sigprocmask(SIG_SETMASK, &old, NULL));
}

/* The sender's pid and uid in a siginfo sent through /proc/self arrive
 * as the caller gave them. */
CASE(pidfd_send_signal, proc_pid_directory_siginfo_keeps_the_senders_ids) {
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    EXPECT_OK(sigprocmask(SIG_BLOCK, &set, &old));
    int self = (int)EXPECT_OK(open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    siginfo_t si = queued(SIGUSR1, 0);
    EXPECT_OK(pidfd_signal_(self, SIGUSR1, &si, 0));
    siginfo_t got;
    struct timespec ts = {3, 0};
    EXPECT_EQ(sigtimedwait(&set, &got, &ts), SIGUSR1);
    close(self);
    EXPECT_OK(sigprocmask(SIG_SETMASK, &old, NULL));
    EXPECT_EQ(got.si_pid, getpid());
    EXPECT_EQ(got.si_uid, getuid());
}

/* A thread's /proc/<tid> (not listed, but there): its files are the
 * thread's, and as a pidfd it signals the thread's process. */
struct tid_dir_result {
    int opened, status_is_the_threads, signalled;
};

static void *signal_through_own_tid_dir(void *out) {
    struct tid_dir_result *r = out;
    int tid = (int)syscall(SYS_gettid);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d", tid);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    r->opened = fd >= 0;
    if (fd < 0)
        return NULL;
    char buf[4096], want[32];
    int status = openat(fd, "status", O_RDONLY | O_CLOEXEC);
    ssize_t n = status >= 0 ? read(status, buf, sizeof buf - 1) : -1;
    if (n > 0) {
        buf[n] = 0;
        snprintf(want, sizeof want, "\nPid:\t%d\n", tid);
        r->status_is_the_threads = strstr(buf, want) != NULL;
    }
    if (status >= 0)
        close(status);
    r->signalled = pidfd_signal_(fd, SIGUSR1, NULL, 0) == 0;
    close(fd);
    return NULL;
}

CASE(pidfd_send_signal, proc_tid_directory_of_a_thread_signals_its_process) {
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    EXPECT_EQ(pthread_sigmask(SIG_BLOCK, &set, &old), 0);
    struct tid_dir_result r = {0, 0, 0};
    pthread_t t;
    EXPECT_EQ(pthread_create(&t, NULL, signal_through_own_tid_dir, &r), 0);
    EXPECT_EQ(pthread_join(t, NULL), 0);
    siginfo_t got;
    struct timespec ts = {0, 0};
    int sig = sigtimedwait(&set, &got, &ts);
    EXPECT_EQ(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
    EXPECT_TRUE(r.opened);
    EXPECT_TRUE(r.status_is_the_threads);
    EXPECT_TRUE(r.signalled);
    EXPECT_EQ(sig, SIGUSR1);
}

/* A child's /proc/<pid> directory: it signals the child, and once the
 * child is reaped, ESRCH (never another process given that pid). */
CASE(pidfd_send_signal, proc_pid_directory_of_a_child_then_esrch) {
    int keep;
    pid_t c = sleeper(&keep);
    int fd = (int)EXPECT_OK(proc_dir_of(c));
    EXPECT_OK(pidfd_signal_(fd, 0, NULL, 0));
    EXPECT_OK(pidfd_signal_(fd, SIGTERM, NULL, 0));
    int st;
    EXPECT_EQ(waitpid(c, &st, 0), c);
    EXPECT_TRUE(WIFSIGNALED(st));
    EXPECT_EQ(WTERMSIG(st), SIGTERM);
    EXPECT_ERRNO(pidfd_signal_(fd, 0, NULL, 0), ESRCH);
    close(fd);
    close(keep);
}

/* Another user's process through its /proc/<pid> directory: EPERM
 * without CAP_KILL, as with a pidfd. */
CASE(pidfd_send_signal, proc_pid_directory_of_another_uid_eperm) {
    expect_other_uid_eperm(proc_dir_of);
}

COVERS("waitid")
CASE(pidfd_open, waitid_p_pidfd_reaps_the_child) {
    pid_t c = fork();
    if (c == 0)
        _exit(5);
    int fd = (int)EXPECT_OK(pidfd_open_(c, 0));
    siginfo_t si;
    memset(&si, 0, sizeof si);
    EXPECT_OK(waitid((idtype_t)P_PIDFD, (id_t)fd, &si, WEXITED));
    EXPECT_EQ(si.si_pid, c);
    EXPECT_EQ(si.si_code, CLD_EXITED);
    EXPECT_EQ(si.si_status, 5);
    EXPECT_ERRNO(waitpid(c, NULL, WNOHANG), ECHILD);
}

CASE(waitid, p_pidfd_wnohang_on_a_running_child) {
    int keep;
    pid_t c = sleeper(&keep);
    int fd = (int)EXPECT_OK(pidfd_open_(c, 0));
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_pid = 123;
    EXPECT_EQ(waitid((idtype_t)P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG), 0);
    EXPECT_EQ(si.si_pid, 0);
    close(keep);
    EXPECT_OK(waitid((idtype_t)P_PIDFD, (id_t)fd, &si, WEXITED));
    EXPECT_EQ(si.si_pid, c);
}

CASE(waitid, p_pidfd_errors) {
    int fd = (int)EXPECT_OK(pidfd_open_(getppid(), 0)); /* not our child */
    siginfo_t si;
    EXPECT_ERRNO(waitid((idtype_t)P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG), ECHILD);
    EXPECT_ERRNO(waitid((idtype_t)P_PIDFD, 999, &si, WEXITED), EBADF);
    int p[2];
    EXPECT_OK(pipe(p));
    EXPECT_ERRNO(waitid((idtype_t)P_PIDFD, (id_t)p[0], &si, WEXITED), EBADF);
}

CASE(waitid, p_pidfd_sees_a_stop) {
    int keep;
    pid_t c = sleeper(&keep);
    int fd = (int)EXPECT_OK(pidfd_open_(c, 0));
    EXPECT_OK(pidfd_signal_(fd, SIGSTOP, NULL, 0));
    siginfo_t si;
    memset(&si, 0, sizeof si);
    EXPECT_OK(waitid((idtype_t)P_PIDFD, (id_t)fd, &si, WSTOPPED));
    EXPECT_EQ(si.si_code, CLD_STOPPED);
    EXPECT_EQ(si.si_status, SIGSTOP);
    EXPECT_OK(pidfd_signal_(fd, SIGKILL, NULL, 0));
    EXPECT_OK(waitid((idtype_t)P_PIDFD, (id_t)fd, &si, WEXITED));
    EXPECT_EQ(si.si_code, CLD_KILLED);
}

/* ---- pidfd_getfd ---- */

CASE(pidfd_getfd, own_fd_is_the_same_file) {
    int p[2];
    EXPECT_OK(pipe(p));
    int fd = (int)EXPECT_OK(pidfd_open_(getpid(), 0));
    int g = (int)EXPECT_OK(syscall(SYS_pidfd_getfd, fd, p[1], 0));
    EXPECT_TRUE(g != p[1]);
    EXPECT_EQ(fcntl(g, F_GETFD), FD_CLOEXEC);
    EXPECT_EQ(write(g, "g", 1), 1);
    char b;
    EXPECT_EQ(read(p[0], &b, 1), 1);
}

CASE(pidfd_getfd, argument_errors) {
    int fd = (int)EXPECT_OK(pidfd_open_(getpid(), 0));
    EXPECT_ERRNO(syscall(SYS_pidfd_getfd, fd, 0, 1), EINVAL);
    EXPECT_ERRNO(syscall(SYS_pidfd_getfd, fd, 999, 0), EBADF);
    EXPECT_ERRNO(syscall(SYS_pidfd_getfd, 999, 0, 0), EBADF);
}

CASE(pidfd_getfd, other_uid_target_eperm) {
    if (!has_cap(CAP_SETUID_))
        harness_skip("needs CAP_SETUID");
    drop_effective_cap(CAP_SYS_PTRACE_);
    int p[2];
    EXPECT_OK(pipe(p));
    pid_t c = fork();
    if (c == 0) {
        close(p[1]);
        if (setresuid(1000, 1000, 1000) != 0)
            _exit(2);
        char b;
        while (read(p[0], &b, 1) < 0)
            ;
        _exit(0);
    }
    close(p[0]);
    usleep(20000);
    int fd = (int)EXPECT_OK(pidfd_open_(c, 0));
    errno = 0;
    long r = syscall(SYS_pidfd_getfd, fd, 0, 0);
    int e = errno;
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
    EXPECT_EQ(r, -1);
    EXPECT_EQ(e, EPERM);
}

/* ---- clone3 ---- */

static long clone3_(struct clone_args *a, size_t size) {
    return syscall(SYS_clone3, a, size);
}

CASE(clone3, clone_pidfd_returns_a_pidfd) {
    int pidfd = -1;
    struct clone_args a;
    memset(&a, 0, sizeof a);
    a.flags = CLONE_PIDFD;
    a.pidfd = (unsigned long)&pidfd;
    a.exit_signal = SIGCHLD;
    long c = clone3_(&a, sizeof a);
    if (c == 0)
        _exit(9);
    EXPECT_OK(c);
    EXPECT_TRUE(pidfd >= 0);
    EXPECT_EQ(fcntl(pidfd, F_GETFD), FD_CLOEXEC);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    EXPECT_OK(waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED));
    EXPECT_EQ(si.si_pid, c);
    EXPECT_EQ(si.si_status, 9);
}

CASE(clone3, plain_fork_with_parent_tid) {
    pid_t ptid = 0;
    struct clone_args a;
    memset(&a, 0, sizeof a);
    a.flags = CLONE_PARENT_SETTID;
    a.parent_tid = (unsigned long)&ptid;
    a.exit_signal = SIGCHLD;
    long c = clone3_(&a, sizeof a);
    if (c == 0)
        _exit(0);
    EXPECT_OK(c);
    EXPECT_EQ(ptid, c);
    EXPECT_EQ(waitpid((pid_t)c, NULL, 0), c);
}

CASE(clone3, argument_errors) {
    struct clone_args a;
    memset(&a, 0, sizeof a);
    a.exit_signal = SIGCHLD;
    EXPECT_ERRNO(clone3_(&a, 8), EINVAL);
    a.exit_signal = 0x100;
    EXPECT_ERRNO(clone3_(&a, sizeof a), EINVAL);
    a.exit_signal = SIGCHLD;
    a.flags = CLONE_PIDFD | CLONE_PARENT_SETTID;
    a.pidfd = a.parent_tid = 64;
    EXPECT_ERRNO(clone3_(&a, sizeof a), EINVAL);
    EXPECT_ERRNO(clone3_((struct clone_args *)8, sizeof a), EFAULT);
}

CASE(clone3, into_cgroup_needs_a_cgroup_fd) {
    struct clone_args a;
    memset(&a, 0, sizeof a);
    a.flags = CLONE_INTO_CGROUP;
    a.exit_signal = SIGCHLD;
    a.cgroup = 999;
    EXPECT_ERRNO(clone3_(&a, sizeof a), EBADF);
    put_file("f", "x");
    int f = (int)EXPECT_OK(open("f", O_RDONLY));
    a.cgroup = (unsigned long)f;
    long c = clone3_(&a, sizeof a);
    if (c == 0)
        _exit(0);
    EXPECT_EQ(c, -1);
    EXPECT_TRUE(errno == EBADF || errno == EINVAL);
}

CASE(clone3, set_tid_needs_cap_sys_admin) {
    if (has_cap(21))
        harness_skip("holds CAP_SYS_ADMIN");
    pid_t want = 30000;
    struct clone_args a;
    memset(&a, 0, sizeof a);
    a.exit_signal = SIGCHLD;
    a.set_tid = (unsigned long)&want;
    a.set_tid_size = 1;
    long c = clone3_(&a, sizeof a);
    if (c == 0)
        _exit(0);
    EXPECT_EQ(c, -1);
    EXPECT_EQ(errno, EPERM);
}

/* What clone3's ENOSYS makes callers fall back to: clone with CLONE_PIDFD. */
CASE(clone, clone_pidfd_fork_returns_a_pidfd) {
    int pidfd = -1;
    long c = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &pidfd, 0, 0);
    if (c == 0)
        _exit(4);
    EXPECT_OK(c);
    EXPECT_TRUE(pidfd >= 0);
    EXPECT_EQ(fcntl(pidfd, F_GETFD), FD_CLOEXEC);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    EXPECT_OK(waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED));
    EXPECT_EQ(si.si_pid, c);
    EXPECT_EQ(si.si_status, 4);
}

/* ---- kcmp ---- */

CASE(kcmp, dup_is_the_same_file) {
    int p[2];
    EXPECT_OK(pipe(p));
    int d = dup(p[0]);
    pid_t me = getpid();
    EXPECT_EQ(syscall(SYS_kcmp, me, me, KCMP_FILE_, p[0], d), 0);
    EXPECT_TRUE(syscall(SYS_kcmp, me, me, KCMP_FILE_, p[0], p[1]) > 0);
}

CASE(kcmp, a_childs_inherited_fd_is_the_same_file) {
    int p[2];
    EXPECT_OK(pipe(p));
    int keep;
    pid_t c = sleeper(&keep);
    long r = syscall(SYS_kcmp, getpid(), c, KCMP_FILE_, p[0], p[0]);
    int e = errno;
    close(keep);
    waitpid(c, NULL, 0);
    if (r != 0)
        FAIL("kcmp: %ld %s", r, harness_errname(e));
    EXPECT_ERRNO(syscall(SYS_kcmp, getpid(), getpid(), 99, 0, 0), EINVAL);
}

/* ---- process_madvise ---- */

CASE(process_madvise, cold_on_own_memory) {
    if (!has_cap(CAP_SYS_NICE_))
        harness_skip("needs CAP_SYS_NICE (before Linux 6.13 also for itself)");
    size_t len = 4 * 4096;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_TRUE(m != MAP_FAILED);
    memset(m, 1, len);
    int fd = (int)EXPECT_OK(pidfd_open_(getpid(), 0));
    struct iovec iov = {m, len};
    EXPECT_EQ(syscall(SYS_process_madvise, fd, &iov, 1, MADV_COLD, 0), (long)len);
    EXPECT_EQ(m[5], 1);
}

CASE(process_madvise, argument_errors) {
    int fd = (int)EXPECT_OK(pidfd_open_(getpid(), 0));
    char buf[4096] __attribute__((aligned(4096)));
    struct iovec iov = {buf, sizeof buf};
    EXPECT_ERRNO(syscall(SYS_process_madvise, fd, &iov, 1, MADV_COLD, 1), EINVAL);
    EXPECT_ERRNO(syscall(SYS_process_madvise, fd, &iov, 1, 999, 0), EINVAL);
    EXPECT_ERRNO(syscall(SYS_process_madvise, 999, &iov, 1, MADV_COLD, 0), EBADF);
}

/* ---- process_vm_readv / writev ---- */

static char shared_word[32] = "parent-before-fork";

/* A child that reports `addr`'s contents on exit: it waits for a byte, then
 * exits with 0 when shared_word reads `want`. */
static pid_t vm_child(int *go, const char *want, uid_t uid, int dumpable) {
    int p[2], r[2];
    EXPECT_OK(pipe(p));
    EXPECT_OK(pipe(r));
    pid_t c = fork();
    if (c == 0) {
        close(p[1]);
        close(r[0]);
        if (uid != (uid_t)-1 && setresuid(uid, uid, uid) != 0)
            _exit(2);
        if (!dumpable && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
            _exit(3);
        if (write(r[1], "r", 1) != 1)
            _exit(4);
        char b;
        while (read(p[0], &b, 1) < 0 && errno == EINTR)
            ;
        _exit(want && strcmp(shared_word, want) != 0 ? 1 : 0);
    }
    EXPECT_OK(c);
    close(p[0]);
    close(r[1]);
    char b;
    EXPECT_EQ(read(r[0], &b, 1), 1); /* the child switched ids */
    close(r[0]);
    *go = p[1];
    return c;
}

CASE(process_vm_writev, writes_a_childs_memory) {
    int go;
    pid_t c = vm_child(&go, "written-by-parent", (uid_t)-1, 1);
    char src[] = "written-by-parent";
    struct iovec l = {src, sizeof src}, r = {shared_word, sizeof src};
    ssize_t n = process_vm_writev(c, &l, 1, &r, 1, 0);
    int e = errno;
    close(go);
    int st;
    EXPECT_EQ(waitpid(c, &st, 0), c);
    if (n < 0)
        FAIL("process_vm_writev: %s", harness_errname(e));
    EXPECT_EQ(n, sizeof src);
    EXPECT_EQ(WEXITSTATUS(st), 0);
}

COVERS("process_vm_readv")
CASE(process_vm_writev, scatter_gather_between_iovecs) {
    int go;
    pid_t c = vm_child(&go, NULL, (uid_t)-1, 1);
    char a[3] = "AB", b[4] = "CDE";
    struct iovec l[2] = {{a, 2}, {b, 3}}, r = {shared_word, 5};
    EXPECT_EQ(process_vm_writev(c, l, 2, &r, 1, 0), 5);
    char back[6] = {0};
    struct iovec bl = {back, 5};
    EXPECT_EQ(process_vm_readv(c, &bl, 1, &r, 1, 0), 5);
    EXPECT_STREQ(back, "ABCDE");
    close(go);
    waitpid(c, NULL, 0);
}

CASE(process_vm_writev, argument_errors) {
    struct iovec l = {shared_word, 4}, r = {shared_word, 4};
    EXPECT_ERRNO(process_vm_writev(getpid(), &l, 1, &r, 1, 1), EINVAL);
    EXPECT_ERRNO(process_vm_writev(getpid(), &l, 1025, &r, 1, 0), EINVAL);
    pid_t c = fork();
    if (c == 0)
        _exit(0);
    EXPECT_EQ(waitpid(c, NULL, 0), c);
    EXPECT_ERRNO(process_vm_writev(c, &l, 1, &r, 1, 0), ESRCH);
}

CASE(process_vm_writev, unmapped_remote_efault) {
    int go;
    pid_t c = vm_child(&go, NULL, (uid_t)-1, 1);
    struct iovec l = {shared_word, 4}, r = {(void *)4096, 4};
    errno = 0;
    ssize_t n = process_vm_writev(c, &l, 1, &r, 1, 0);
    int e = errno;
    close(go);
    waitpid(c, NULL, 0);
    EXPECT_EQ(n, -1);
    EXPECT_EQ(e, EFAULT);
}

CASE(process_vm_readv, partial_read_stops_at_an_unmapped_iovec) {
    int go;
    pid_t c = vm_child(&go, NULL, (uid_t)-1, 1);
    char b1[8], b2[8];
    struct iovec l[2] = {{b1, 8}, {b2, 8}};
    struct iovec r[2] = {{shared_word, 8}, {(void *)4096, 8}};
    ssize_t n = process_vm_readv(c, l, 2, r, 2, 0);
    close(go);
    waitpid(c, NULL, 0);
    EXPECT_EQ(n, 8);
    EXPECT_EQ(memcmp(b1, "parent-b", 8), 0);
}

CASE(process_vm_readv, other_uid_needs_cap_sys_ptrace) {
    if (!has_cap(CAP_SETUID_))
        harness_skip("needs CAP_SETUID");
    drop_effective_cap(CAP_SYS_PTRACE_);
    int go;
    pid_t c = vm_child(&go, NULL, 1000, 1);
    char b[8];
    struct iovec l = {b, 8}, r = {shared_word, 8};
    errno = 0;
    ssize_t n = process_vm_readv(c, &l, 1, &r, 1, 0);
    int e = errno;
    close(go);
    waitpid(c, NULL, 0);
    EXPECT_EQ(n, -1);
    EXPECT_EQ(e, EPERM);
}

CASE(process_vm_writev, other_uid_needs_cap_sys_ptrace) {
    if (!has_cap(CAP_SETUID_))
        harness_skip("needs CAP_SETUID");
    drop_effective_cap(CAP_SYS_PTRACE_);
    int go;
    pid_t c = vm_child(&go, "parent-before-fork", 1000, 1);
    struct iovec l = {"xx", 2}, r = {shared_word, 2};
    errno = 0;
    ssize_t n = process_vm_writev(c, &l, 1, &r, 1, 0);
    int e = errno;
    close(go);
    int st;
    waitpid(c, &st, 0);
    EXPECT_EQ(n, -1);
    EXPECT_EQ(e, EPERM);
    EXPECT_EQ(WEXITSTATUS(st), 0);
}

CASE(process_vm_readv, non_dumpable_target_needs_cap_sys_ptrace) {
    drop_effective_cap(CAP_SYS_PTRACE_);
    int go;
    pid_t c = vm_child(&go, NULL, (uid_t)-1, 0);
    char b[8];
    struct iovec l = {b, 8}, r = {shared_word, 8};
    errno = 0;
    ssize_t n = process_vm_readv(c, &l, 1, &r, 1, 0);
    int e = errno;
    close(go);
    waitpid(c, NULL, 0);
    EXPECT_EQ(n, -1);
    EXPECT_EQ(e, EPERM);
}

CASE(process_vm_readv, same_uid_dumpable_child_is_readable) {
    drop_effective_cap(CAP_SYS_PTRACE_);
    int go;
    pid_t c = vm_child(&go, NULL, (uid_t)-1, 1);
    char b[19] = {0};
    struct iovec l = {b, 18}, r = {shared_word, 18};
    ssize_t n = process_vm_readv(c, &l, 1, &r, 1, 0);
    int e = errno;
    close(go);
    waitpid(c, NULL, 0);
    if (n < 0)
        FAIL("process_vm_readv: %s", harness_errname(e));
    EXPECT_STREQ(b, "parent-before-fork");
}

CASE(process_vm_readv, a_child_cannot_read_its_setuid_parent) {
    if (!has_cap(CAP_SETUID_))
        harness_skip("needs CAP_SETUID");
    pid_t parent = getpid();
    pid_t c = fork();
    if (c == 0) {
        if (setresuid(1000, 1000, 1000) != 0)
            _exit(2);
        char b[8];
        struct iovec l = {b, 8}, r = {shared_word, 8};
        _exit(process_vm_readv(parent, &l, 1, &r, 1, 0) == -1 && errno == EPERM ? 0 : 1);
    }
    int st;
    EXPECT_EQ(waitpid(c, &st, 0), c);
    EXPECT_EQ(WEXITSTATUS(st), 0);
}

/* ---- ids the access checks use ---- */

static long status_field(const char *key, int which) {
    char b[4096];
    if (get_file("/proc/self/status", b, sizeof b) < 0)
        FAIL("read /proc/self/status: %s", harness_errname(errno));
    char *p = strstr(b, key);
    if (!p)
        FAIL("no %s in /proc/self/status", key);
    p += strlen(key);
    long v[4];
    if (sscanf(p, "%ld %ld %ld %ld", &v[0], &v[1], &v[2], &v[3]) != 4)
        FAIL("bad %s line", key);
    return v[which];
}

CASE(getuid, matches_proc_status_after_setresuid) {
    EXPECT_EQ(syscall(SYS_getuid), status_field("Uid:", 0));
    if (!has_cap(CAP_SETUID_))
        harness_skip("needs CAP_SETUID");
    EXPECT_OK(setresuid(1001, 1002, 1003));
    EXPECT_EQ(syscall(SYS_getuid), 1001);
    EXPECT_EQ(status_field("Uid:", 0), 1001);
}

CASE(geteuid, matches_proc_status_after_setresuid) {
    EXPECT_EQ(syscall(SYS_geteuid), status_field("Uid:", 1));
    if (!has_cap(CAP_SETUID_))
        harness_skip("needs CAP_SETUID");
    EXPECT_OK(setresuid(1001, 1002, 1003));
    EXPECT_EQ(syscall(SYS_geteuid), 1002);
    EXPECT_EQ(status_field("Uid:", 1), 1002);
}

CASE(getgid, matches_proc_status_after_setresgid) {
    EXPECT_EQ(syscall(SYS_getgid), status_field("Gid:", 0));
    if (!has_cap(6))
        harness_skip("needs CAP_SETGID");
    EXPECT_OK(setresgid(2001, 2002, 2003));
    EXPECT_EQ(syscall(SYS_getgid), 2001);
}

CASE(getegid, matches_proc_status_after_setresgid) {
    EXPECT_EQ(syscall(SYS_getegid), status_field("Gid:", 1));
    if (!has_cap(6))
        harness_skip("needs CAP_SETGID");
    EXPECT_OK(setresgid(2001, 2002, 2003));
    EXPECT_EQ(syscall(SYS_getegid), 2002);
}

/* ---- capabilities the cases drop ---- */

CASE(capget, version_probe_and_errors) {
    struct __user_cap_header_struct h = {0, 0};
    EXPECT_EQ(syscall(SYS_capget, &h, NULL), 0); /* a probe: the preferred version */
    EXPECT_EQ(h.version, _LINUX_CAPABILITY_VERSION_3);
    struct __user_cap_data_struct d[2];
    h.version = 0;
    EXPECT_ERRNO(syscall(SYS_capget, &h, d), EINVAL);
    h.version = _LINUX_CAPABILITY_VERSION_3;
    h.pid = 999999;
    EXPECT_ERRNO(syscall(SYS_capget, &h, d), ESRCH);
    h.pid = 0;
    EXPECT_ERRNO(syscall(SYS_capget, (void *)8, d), EFAULT);
}

CASE(capget, a_childs_sets) {
    int keep;
    pid_t c = sleeper(&keep);
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, c}, me = h;
    me.pid = 0;
    struct __user_cap_data_struct d[2], m[2];
    EXPECT_OK(syscall(SYS_capget, &h, d));
    EXPECT_OK(syscall(SYS_capget, &me, m));
    close(keep);
    waitpid(c, NULL, 0);
    EXPECT_EQ(d[0].effective, m[0].effective);
    EXPECT_EQ(d[1].permitted, m[1].permitted);
}

CASE(capset, cannot_raise_beyond_permitted) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    EXPECT_OK(syscall(SYS_capget, &h, d));
    d[0].permitted &= ~(1u << 13);
    d[0].effective &= ~(1u << 13);
    EXPECT_OK(syscall(SYS_capset, &h, d));
    d[0].effective |= 1u << 13;
    EXPECT_ERRNO(syscall(SYS_capset, &h, d), EPERM);
    d[0].effective &= ~(1u << 13);
    d[0].permitted |= 1u << 13;
    EXPECT_ERRNO(syscall(SYS_capset, &h, d), EPERM);
}

CASE(capset, other_pid_eperm_and_bad_version) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    EXPECT_OK(syscall(SYS_capget, &h, d));
    h.pid = getppid();
    EXPECT_ERRNO(syscall(SYS_capset, &h, d), EPERM);
    h.pid = 0;
    h.version = 0x12345678;
    EXPECT_ERRNO(syscall(SYS_capset, &h, d), EINVAL);
}

CASE(capset, dropped_effective_can_be_raised_again) {
    drop_effective_cap(13 /* CAP_NET_RAW */);
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    EXPECT_OK(syscall(SYS_capget, &h, d));
    if (!(d[0].permitted & (1u << 13)))
        harness_skip("CAP_NET_RAW not permitted");
    d[0].effective |= 1u << 13;
    EXPECT_OK(syscall(SYS_capset, &h, d));
    EXPECT_TRUE(has_cap(13));
}

CASE(rt_sigpending, sigpipe_from_a_blocked_send) {
    int sv[2];
    EXPECT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    close(sv[1]);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    EXPECT_OK(sigprocmask(SIG_BLOCK, &set, NULL));
    EXPECT_ERRNO(send(sv[0], "x", 1, 0), EPIPE);
    sigset_t pend;
    sigemptyset(&pend);
    EXPECT_OK(syscall(SYS_rt_sigpending, &pend, 8));
    EXPECT_TRUE(sigismember(&pend, SIGPIPE));
    EXPECT_ERRNO(syscall(SYS_rt_sigpending, &pend, 16), EINVAL);
}

/* Forks until a child gets `pid` (it waits until the pipe `hold` is
 * closed, and is returned), by cycling the pid space with vfork; 0 when
 * that did not happen within 3 s (on the host another process took the
 * pid), or cannot: a pid namespace of its own has pid_max 4194304 since
 * Linux 6.14, too many pids to cycle. */
static pid_t fork_as(pid_t pid, const int hold[2]) {
    FILE *f = fopen("/proc/sys/kernel/pid_max", "re");
    int pid_max = 0;
    if (f) {
        if (fscanf(f, "%d", &pid_max) != 1)
            pid_max = 0;
        fclose(f);
    }
    if (pid_max <= 0 || pid_max > 65536)
        return 0;
    long deadline = harness_now_ms() + 3000;
    while (harness_now_ms() < deadline) {
        pid_t p = vfork();
        if (p == 0)
            _exit(0);
        if (p < 0)
            return 0;
        waitpid(p, NULL, 0);
        if (p < pid && p >= pid - 64) {
            /* Close below it: fork one at a time from here. */
            for (int i = 0; i < 128; i++) {
                pid_t q = fork();
                if (q == 0) {
                    if (getpid() == pid) {
                        char b;
                        close(hold[1]);
                        while (read(hold[0], &b, 1) < 0 && errno == EINTR)
                            ;
                    }
                    _exit(0);
                }
                if (q == pid || q < 0)
                    return q < 0 ? 0 : q;
                waitpid(q, NULL, 0);
                if (q > pid)
                    break;
            }
        }
    }
    return 0;
}

/* A /proc/<pid> directory fd outlives its process: lookups from it fail
 * (ESRCH from procfs's permission check), it lists nothing (ENOENT) and
 * fchdir refuses it (ESRCH), also once a new process has the same pid:
 * never the new process's files. The pid is reused where pid_max is small
 * enough to cycle (the host's 32768 here; a container's pid namespace has
 * 4194304: there the sentry's unit test
 * `a_dead_processs_directory_is_not_its_pids_new_process` stands in). */
COVERS("openat fchdir getdents64")
CASE(openat, proc_pid_directory_fd_of_a_reaped_process_even_with_its_pid_reused) {
    int keep;
    pid_t c = sleeper(&keep);
    int fd = (int)EXPECT_OK(proc_dir_of(c));
    int st_fd = (int)EXPECT_OK(openat(fd, "status", O_RDONLY | O_CLOEXEC));
    close(st_fd);
    close(keep);
    EXPECT_EQ(waitpid(c, NULL, 0), c);
    char buf[4096];
    EXPECT_ERRNO(openat(fd, "status", O_RDONLY | O_CLOEXEC), ESRCH);
    EXPECT_ERRNO(syscall(SYS_getdents64, fd, buf, sizeof buf), ENOENT);
    EXPECT_ERRNO(fchdir(fd), ESRCH);
    int p[2];
    EXPECT_OK(pipe2(p, O_CLOEXEC));
    pid_t again = fork_as(c, p);
    if (again > 0) {
        EXPECT_ERRNO(openat(fd, "status", O_RDONLY | O_CLOEXEC), ESRCH);
        EXPECT_ERRNO(openat(fd, "environ", O_RDONLY | O_CLOEXEC), ESRCH);
        EXPECT_ERRNO(syscall(SYS_getdents64, fd, buf, sizeof buf), ENOENT);
        int cwd = (int)EXPECT_OK(open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        EXPECT_ERRNO(fchdir(fd), ESRCH);
        EXPECT_OK(fchdir(cwd));
        close(cwd);
        /* Its own directory, opened now, is the new process's. */
        int now = (int)EXPECT_OK(proc_dir_of(again));
        close((int)EXPECT_OK(openat(now, "status", O_RDONLY | O_CLOEXEC)));
        close(now);
    }
    close(p[0]);
    close(p[1]);
    if (again > 0)
        EXPECT_EQ(waitpid(again, NULL, 0), again);
    close(fd);
}
