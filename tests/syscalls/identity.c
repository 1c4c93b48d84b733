/* Credentials: the set*id family, groups, fsuid, keepcaps and the
 * capability sets they move, and the permission checks and file owners
 * that follow them. Each case runs in its own forked child, so switching
 * users here does not reach the next case. Cases that switch need
 * CAP_SETUID/CAP_SETGID (root natively; the conformance bundle grants
 * them) and skip without. */
#include "harness.h"

#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/shm.h>

#define USER 1000
#define GROUP 2000

static void need_setid(void) {
    if (getuid() != 0 || !has_cap(CAP_SETUID) || !has_cap(CAP_SETGID))
        harness_skip("needs root with CAP_SETUID and CAP_SETGID");
}

static void caps(uint64_t *eff, uint64_t *prm) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    EXPECT_OK(syscall(SYS_capget, &h, d));
    *eff = d[0].effective | (uint64_t)d[1].effective << 32;
    *prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
}

/* Lets the case's user create and search in the scratch dir. */
static void open_scratch(void) {
    EXPECT_OK(chmod(harness_scratch, 0777));
}

COVERS("getresuid setresgid getresgid setgroups getgroups getuid geteuid getgid getegid")
CASE(setresuid, root_switches_ids_and_back) {
    need_setid();
    gid_t want[] = {30, 10, 20};
    EXPECT_OK(setgroups(3, want));
    EXPECT_EQ(getgroups(0, NULL), 3);
    gid_t got[3];
    EXPECT_EQ(getgroups(3, got), 3);
    /* The kernel keeps the list sorted. */
    EXPECT_EQ(got[0], 10);
    EXPECT_EQ(got[1], 20);
    EXPECT_EQ(got[2], 30);
    gid_t small[2];
    EXPECT_ERRNO(getgroups(2, small), EINVAL);
    EXPECT_OK(setresgid(100, 101, 102));
    gid_t gr, ge, gs;
    EXPECT_OK(getresgid(&gr, &ge, &gs));
    EXPECT_EQ(gr, 100);
    EXPECT_EQ(ge, 101);
    EXPECT_EQ(gs, 102);
    EXPECT_EQ(getgid(), 100);
    EXPECT_EQ(getegid(), 101);
    EXPECT_OK(setresuid(USER, USER + 1, 0));
    uid_t r, e, s;
    EXPECT_OK(getresuid(&r, &e, &s));
    EXPECT_EQ(r, USER);
    EXPECT_EQ(e, USER + 1);
    EXPECT_EQ(s, 0);
    /* The saved uid 0 lets it become root again, with its capabilities. */
    EXPECT_OK(setresuid(-1, 0, -1));
    EXPECT_EQ(geteuid(), 0);
    EXPECT_EQ(getuid(), USER);
    EXPECT_TRUE(has_cap(CAP_SETUID));
}

COVERS("getuid geteuid capget")
CASE(setuid, root_to_user_drops_all_caps) {
    need_setid();
    EXPECT_OK(setuid(USER));
    uid_t r, e, s;
    EXPECT_OK(getresuid(&r, &e, &s));
    EXPECT_EQ(r, USER);
    EXPECT_EQ(e, USER);
    EXPECT_EQ(s, USER);
    uint64_t eff, prm;
    caps(&eff, &prm);
    EXPECT_EQ(eff, 0);
    EXPECT_EQ(prm, 0);
    EXPECT_ERRNO(setuid(0), EPERM);
}

COVERS("setgid setgroups setresuid")
CASE(setuid, user_cannot_become_root) {
    need_setid();
    EXPECT_OK(setresuid(USER, USER, USER));
    EXPECT_ERRNO(setuid(0), EPERM);
    EXPECT_ERRNO(setresuid(-1, 0, -1), EPERM);
    /* Back to the same ids is allowed. */
    EXPECT_OK(setuid(USER));
    /* CAP_SETGID went with uid 0. */
    EXPECT_ERRNO(setgid(GROUP), EPERM);
    gid_t g = GROUP;
    EXPECT_ERRNO(setgroups(1, &g), EPERM);
    EXPECT_ERRNO(setuid(-1), EINVAL);
}

COVERS("setfsgid setresuid")
CASE(setfsuid, returns_old_and_follows_euid) {
    need_setid();
    EXPECT_EQ(setfsuid(1234), 0);
    /* An invalid id only asks. */
    EXPECT_EQ(setfsuid(-1), 1234);
    EXPECT_EQ(setfsgid(4321), 0);
    EXPECT_EQ(setfsgid(-1), 4321);
    /* Changing the euid moves the fsuid with it. */
    EXPECT_OK(setresuid(-1, USER, -1));
    EXPECT_EQ(setfsuid(-1), USER);
    EXPECT_OK(setresuid(USER, USER, USER));
    /* Not allowed: unchanged, and the old value is still returned. */
    EXPECT_EQ(setfsuid(7), USER);
    EXPECT_EQ(setfsuid(-1), USER);
}

COVERS("setresuid capget")
CASE(prctl, keepcaps_keeps_permitted_across_setuid) {
    need_setid();
    uint64_t eff0, prm0;
    caps(&eff0, &prm0);
    EXPECT_EQ(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0), 0);
    EXPECT_OK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
    EXPECT_EQ(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0), 1);
    EXPECT_ERRNO(prctl(PR_SET_KEEPCAPS, 2, 0, 0, 0), EINVAL);
    EXPECT_OK(setresuid(USER, USER, USER));
    uint64_t eff, prm;
    caps(&eff, &prm);
    EXPECT_EQ(eff, 0);
    EXPECT_EQ(prm, prm0);
    EXPECT_TRUE(prm != 0);
}

CASE(prctl, capbset_read_and_drop) {
    if (!has_cap(CAP_SETPCAP))
        harness_skip("needs CAP_SETPCAP");
    EXPECT_EQ(prctl(PR_CAPBSET_READ, CAP_SETUID, 0, 0, 0), 1);
    EXPECT_ERRNO(prctl(PR_CAPBSET_READ, 64, 0, 0, 0), EINVAL);
    EXPECT_OK(prctl(PR_CAPBSET_DROP, CAP_SETUID, 0, 0, 0));
    EXPECT_EQ(prctl(PR_CAPBSET_READ, CAP_SETUID, 0, 0, 0), 0);
    /* The effective set keeps it until the next exec. */
    EXPECT_TRUE(has_cap(CAP_SETUID));
}

CASE(prctl, securebits_keep_caps) {
    if (!has_cap(CAP_SETPCAP))
        harness_skip("needs CAP_SETPCAP");
    EXPECT_EQ(prctl(PR_GET_SECUREBITS, 0, 0, 0, 0), 0);
    EXPECT_OK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
    EXPECT_EQ(prctl(PR_GET_SECUREBITS, 0, 0, 0, 0), 1 << 4);
    /* SECBIT_KEEP_CAPS_LOCKED: keepcaps can no longer change. */
    EXPECT_OK(prctl(PR_SET_SECUREBITS, (1 << 4) | (1 << 5), 0, 0, 0));
    EXPECT_ERRNO(prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0), EPERM);
    EXPECT_ERRNO(prctl(PR_SET_SECUREBITS, 1 << 5, 0, 0, 0), EPERM);
}

CASE(prctl, ambient_raise_needs_permitted_and_inheritable) {
    EXPECT_EQ(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0), 0);
    /* CAP_KILL is permitted but not inheritable. */
    EXPECT_ERRNO(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0), EPERM);
    EXPECT_ERRNO(prctl(PR_CAP_AMBIENT, 99, CAP_KILL, 0, 0), EINVAL);
    EXPECT_OK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
}

COVERS("setuid")
CASE(open, user_gets_eacces_on_0600_root_file) {
    need_setid();
    put_file("secret", "x");
    EXPECT_OK(chmod("secret", 0600));
    EXPECT_OK(chmod(harness_scratch, 0755));
    EXPECT_OK(setuid(USER));
    EXPECT_ERRNO(open("secret", O_RDONLY), EACCES);
    EXPECT_ERRNO(access("secret", R_OK), EACCES);
    struct stat st;
    EXPECT_OK(stat("secret", &st));
    EXPECT_EQ(st.st_uid, 0);
}

COVERS("capset")
CASE(open, root_without_dac_override_gets_eacces) {
    put_file("locked", "x");
    EXPECT_OK(chmod("locked", 0));
    /* Natively root holds every capability: drop the two that override. */
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    EXPECT_OK(syscall(SYS_capget, &h, d));
    d[0].effective &= ~((1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH));
    EXPECT_OK(syscall(SYS_capset, &h, d));
    EXPECT_EQ(getuid(), 0);
    EXPECT_ERRNO(open("locked", O_RDONLY), EACCES);
    EXPECT_ERRNO(open("locked", O_WRONLY), EACCES);
}

COVERS("setresuid setresgid setgroups mkdir symlink chown")
CASE(creat, owned_by_the_new_fsuid_and_fsgid) {
    need_setid();
    open_scratch();
    /* A set-group-ID directory of a group root belongs to. */
    gid_t g = 3000;
    EXPECT_OK(setgroups(1, &g));
    EXPECT_OK(mkdir("g", 0777));
    EXPECT_OK(chown("g", -1, 3000));
    EXPECT_OK(chmod("g", 02777));
    EXPECT_OK(setresgid(-1, GROUP, -1));
    EXPECT_OK(setresuid(-1, USER, -1));
    int fd = EXPECT_OK(creat("f", 0644));
    close(fd);
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_OK(symlink("f", "l"));
    struct stat st;
    EXPECT_OK(stat("f", &st));
    EXPECT_EQ(st.st_uid, USER);
    EXPECT_EQ(st.st_gid, GROUP);
    EXPECT_OK(stat("d", &st));
    EXPECT_EQ(st.st_uid, USER);
    EXPECT_EQ(st.st_gid, GROUP);
    EXPECT_OK(lstat("l", &st));
    EXPECT_EQ(st.st_uid, USER);
    EXPECT_EQ(st.st_gid, GROUP);
    /* In the set-group-ID directory: its group, and subdirectories keep the bit. */
    fd = EXPECT_OK(creat("g/f", 0644));
    close(fd);
    EXPECT_OK(mkdir("g/sub", 0755));
    EXPECT_OK(stat("g/f", &st));
    EXPECT_EQ(st.st_uid, USER);
    EXPECT_EQ(st.st_gid, 3000);
    EXPECT_OK(stat("g/sub", &st));
    EXPECT_EQ(st.st_gid, 3000);
    EXPECT_TRUE((st.st_mode & S_ISGID) != 0);
    /* A user may not give its file away. */
    EXPECT_ERRNO(chown("f", 0, -1), EPERM);
    EXPECT_OK(unlink("g/f"));
    EXPECT_OK(rmdir("g/sub"));
}

COVERS("getresgid getgroups setgroups")
CASE(getresuid, bad_pointers_efault) {
    EXPECT_ERRNO(syscall(SYS_getresuid, (void *)1, (void *)1, (void *)1), EFAULT);
    EXPECT_ERRNO(syscall(SYS_getresgid, NULL, NULL, NULL), EFAULT);
    EXPECT_ERRNO(syscall(SYS_getgroups, -1, NULL), EINVAL);
    if (!has_cap(CAP_SETGID))
        harness_skip("needs CAP_SETGID for the setgroups half");
    /* Raw calls: glibc's setgroups would run on every thread. */
    EXPECT_ERRNO(syscall(SYS_setgroups, 1, (void *)1), EFAULT);
    EXPECT_ERRNO(syscall(SYS_setgroups, 65537, NULL), EINVAL);
    gid_t g = 5;
    EXPECT_OK(syscall(SYS_setgroups, 1, &g));
    EXPECT_ERRNO(syscall(SYS_getgroups, 1, (void *)1), EFAULT);
    EXPECT_EQ(syscall(SYS_getgroups, 0, (void *)1), 1);
}

static void *euid_of_thread(void *arg) {
    (void)arg;
    return (void *)(long)syscall(SYS_geteuid);
}

static long euid_in_new_thread(void) {
    pthread_t t;
    void *r;
    if (pthread_create(&t, NULL, euid_of_thread, NULL) != 0 || pthread_join(t, &r) != 0)
        return -1;
    return (long)r;
}

static pthread_barrier_t changed;
static long seen_by_old_thread = -1;

static void *old_thread(void *arg) {
    (void)arg;
    pthread_barrier_wait(&changed);
    seen_by_old_thread = syscall(SYS_geteuid);
    return NULL;
}

/* Credentials are per thread: the raw syscall (not glibc's wrapper, which
 * repeats it on every thread) changes only the caller; a thread created
 * afterwards inherits the change. */
COVERS("geteuid")
CASE(setresuid, raw_syscall_changes_only_the_calling_thread) {
    need_setid();
    pthread_t t;
    pthread_barrier_init(&changed, NULL, 2);
    EXPECT_EQ(pthread_create(&t, NULL, old_thread, NULL), 0);
    EXPECT_OK(syscall(SYS_setresuid, -1, USER, -1));
    pthread_barrier_wait(&changed);
    EXPECT_EQ(pthread_join(t, NULL), 0);
    EXPECT_EQ(seen_by_old_thread, 0);
    EXPECT_EQ(syscall(SYS_geteuid), USER);
    EXPECT_EQ(euid_in_new_thread(), USER);
}

static void *switch_and_create(void *arg) {
    (void)arg;
    if (syscall(SYS_setresuid, -1, USER, -1) != 0)
        return (void *)-1L;
    return (void *)euid_in_new_thread();
}

/* A new thread takes the credentials of the thread that created it, also
 * of a thread that changed only its own (raw syscall), not its leader's. */
COVERS("clone geteuid")
CASE(setresuid, new_thread_inherits_its_creators_credentials) {
    need_setid();
    pthread_t t;
    void *r;
    EXPECT_EQ(pthread_create(&t, NULL, switch_and_create, NULL), 0);
    EXPECT_EQ(pthread_join(t, &r), 0);
    EXPECT_EQ((long)r, USER);
    /* The leader's new threads keep its credentials (glibc may reuse the
     * joined threads' stacks for them). */
    EXPECT_EQ(syscall(SYS_geteuid), 0);
    EXPECT_EQ(euid_in_new_thread(), 0);
    EXPECT_EQ(euid_in_new_thread(), 0);
}

/* A child orphaned before any call that asks for its identity keeps the
 * ids it was forked with, not its new parent's (init's). */
COVERS("clone setuid geteuid")
CASE(fork, orphaned_child_keeps_its_credentials) {
    need_setid();
    int p[2], r[2];
    EXPECT_OK(pipe(p));
    EXPECT_OK(pipe(r));
    pid_t mid = fork();
    if (mid == 0) {
        char x;
        if (setuid(USER) != 0)
            _exit(1);
        pid_t me = getpid();
        pid_t c = fork();
        if (c == 0) {
            /* Only calls the kernel answers until its parent is gone. */
            if (write(r[1], "x", 1) != 1)
                _exit(1);
            while (getppid() == me)
                usleep(1000);
            long e = syscall(SYS_geteuid);
            _exit(write(p[1], &e, sizeof e) == sizeof e ? 0 : 1);
        }
        _exit(c > 0 && read(r[0], &x, 1) == 1 ? 0 : 1);
    }
    EXPECT_TRUE(mid > 0);
    close(r[1]);
    close(p[1]);
    int st;
    EXPECT_EQ(waitpid(mid, &st, 0), mid);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    long e = -1;
    EXPECT_EQ(read(p[0], &e, sizeof e), sizeof e);
    EXPECT_EQ(e, USER);
}

/* glibc's setuid runs the call on every thread (SIGSETXID), so all of
 * them switch. */
CASE(setuid, glibc_switches_every_thread) {
    need_setid();
    pthread_t t;
    pthread_barrier_init(&changed, NULL, 2);
    EXPECT_EQ(pthread_create(&t, NULL, old_thread, NULL), 0);
    EXPECT_OK(setuid(USER));
    pthread_barrier_wait(&changed);
    EXPECT_EQ(pthread_join(t, NULL), 0);
    EXPECT_EQ(seen_by_old_thread, USER);
    EXPECT_EQ(geteuid(), USER);
}

/* A user may not signal a process of another user (a root child forked
 * before the switch; it leaves when the case ends and its pipe closes). */
CASE(kill, user_cannot_signal_a_root_process) {
    need_setid();
    int p[2];
    EXPECT_OK(pipe(p));
    pid_t child = fork();
    if (child == 0) {
        char c;
        close(p[1]);
        while (read(p[0], &c, 1) < 0 && errno == EINTR)
            ;
        _exit(0);
    }
    EXPECT_TRUE(child > 0);
    close(p[0]);
    EXPECT_OK(setuid(USER));
    EXPECT_ERRNO(kill(child, 0), EPERM);
}

/* A child that waits until the case ends (its pipe closes); in process
 * group `pgrp` (0: a group of its own) when `pgrp` >= 0. */
static pid_t waiting_child(int fds[2], pid_t pgrp) {
    pid_t child = fork();
    if (child == 0) {
        char c;
        close(fds[1]);
        if (pgrp >= 0)
            setpgid(0, pgrp);
        while (read(fds[0], &c, 1) < 0 && errno == EINTR)
            ;
        _exit(0);
    }
    if (child > 0 && pgrp >= 0)
        setpgid(child, pgrp); /* either side may win the race */
    return child;
}

/* Every call that signals one task applies the same rule (tkill, tgkill,
 * sigqueue, rt_tgsigqueueinfo, pidfd_send_signal). */
COVERS("tkill tgkill rt_sigqueueinfo rt_tgsigqueueinfo pidfd_send_signal pidfd_open")
CASE(kill, user_cannot_signal_a_root_task_by_any_call) {
    need_setid();
    int p[2];
    EXPECT_OK(pipe(p));
    pid_t child = waiting_child(p, -1);
    EXPECT_TRUE(child > 0);
    int pidfd = EXPECT_OK(syscall(434 /* pidfd_open */, child, 0));
    EXPECT_OK(setuid(USER));
    EXPECT_ERRNO(syscall(SYS_tkill, child, SIGTERM), EPERM);
    EXPECT_ERRNO(syscall(SYS_tgkill, child, child, 0), EPERM);
    union sigval v = {0};
    EXPECT_ERRNO(sigqueue(child, SIGTERM, v), EPERM);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGTERM;
    si.si_code = SI_QUEUE;
    si.si_pid = getpid();
    si.si_uid = getuid();
    EXPECT_ERRNO(syscall(SYS_rt_tgsigqueueinfo, child, child, SIGTERM, &si), EPERM);
    EXPECT_ERRNO(syscall(424 /* pidfd_send_signal */, pidfd, SIGTERM, NULL, 0), EPERM);
    /* Its own process it may always signal. */
    EXPECT_OK(kill(getpid(), 0));
    EXPECT_OK(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), 0));
}

/* The sender's real uid counts too: with the effective uid switched only,
 * root's children stay reachable; SIGCONT reaches any task of the session. */
COVERS("setresuid")
CASE(kill, real_uid_and_sigcont_in_session_permit) {
    need_setid();
    int p[2];
    EXPECT_OK(pipe(p));
    pid_t child = waiting_child(p, -1);
    EXPECT_TRUE(child > 0);
    EXPECT_OK(setresuid(-1, USER, -1));
    EXPECT_OK(kill(child, 0));
    EXPECT_OK(setresuid(USER, USER, USER));
    EXPECT_ERRNO(kill(child, 0), EPERM);
    EXPECT_ERRNO(kill(child, SIGSTOP), EPERM);
    EXPECT_OK(kill(child, SIGCONT));
}

/* A group kill reaches the permitted members and succeeds if there was
 * one; EPERM only when none was permitted. */
COVERS("setuid")
CASE(kill, group_kill_signals_only_the_permitted) {
    need_setid();
    int p[2];
    EXPECT_OK(pipe(p));
    pid_t root_child = waiting_child(p, 0);
    EXPECT_TRUE(root_child > 0);
    EXPECT_OK(setuid(USER));
    pid_t user_child = waiting_child(p, root_child);
    EXPECT_TRUE(user_child > 0);
    EXPECT_OK(kill(-root_child, SIGTERM));
    int st;
    EXPECT_EQ(waitpid(user_child, &st, 0), user_child);
    EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
    /* The root member is now the only one. */
    EXPECT_ERRNO(kill(-root_child, 0), EPERM);
    EXPECT_ERRNO(kill(-root_child, SIGTERM), EPERM);
    /* It never got the signal: it ends normally once its pipe closes. */
    close(p[1]);
    EXPECT_EQ(waitpid(root_child, &st, 0), root_child);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void *switch_and_fork(void *arg) {
    (void)arg;
    if (syscall(SYS_setresuid, -1, USER, -1) != 0)
        return (void *)-1L;
    pid_t child = fork();
    if (child == 0)
        _exit(syscall(SYS_geteuid) == USER ? 0 : 1);
    int st;
    if (child < 0 || waitpid(child, &st, 0) != child)
        return (void *)-2L;
    return (void *)(long)(WIFEXITED(st) ? WEXITSTATUS(st) : 3);
}

/* A child inherits the credentials of the thread that forked it, also a
 * thread that changed only its own (raw syscall); its process keeps its. */
COVERS("setresuid geteuid")
CASE(fork, child_inherits_the_forking_threads_credentials) {
    need_setid();
    pthread_t t;
    void *r;
    EXPECT_EQ(pthread_create(&t, NULL, switch_and_fork, NULL), 0);
    EXPECT_EQ(pthread_join(t, &r), 0);
    EXPECT_EQ((long)r, 0);
    EXPECT_EQ(syscall(SYS_geteuid), 0);
}

/* Permission on /proc files follows Linux's generic rule with the caller's
 * effective ids and capabilities: a user holding only CAP_DAC_READ_SEARCH
 * may read another user's 0400 file but not write it, and execute nothing
 * without an x bit. */
COVERS("faccessat capset")
CASE(faccessat, dac_read_search_reads_anothers_proc_file) {
    need_setid();
    int p[2];
    EXPECT_OK(pipe(p));
    pid_t child = fork();
    if (child == 0) {
        char c;
        close(p[1]);
        (void)read(p[0], &c, 1);
        _exit(0);
    }
    close(p[0]);
    EXPECT_OK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
    EXPECT_OK(setresuid(USER, USER, USER));
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2] = {{0}};
    d[0].effective = 1u << CAP_DAC_READ_SEARCH;
    d[0].permitted = 1u << CAP_DAC_READ_SEARCH;
    EXPECT_OK(syscall(SYS_capset, &h, d));
    char environ_path[64], status_path[64];
    snprintf(environ_path, sizeof environ_path, "/proc/%d/environ", (int)child);
    snprintf(status_path, sizeof status_path, "/proc/%d/status", (int)child);
    EXPECT_OK(faccessat(AT_FDCWD, environ_path, R_OK, AT_EACCESS));
    EXPECT_ERRNO(faccessat(AT_FDCWD, environ_path, W_OK, AT_EACCESS), EACCES);
    EXPECT_ERRNO(faccessat(AT_FDCWD, status_path, X_OK, AT_EACCESS), EACCES);
    /* access(2) checks with the real ids, whose capabilities a non-root
     * real uid does not have. */
    EXPECT_ERRNO(access(environ_path, R_OK), EACCES);
    close(p[1]);
    int st;
    EXPECT_EQ(waitpid(child, &st, 0), child);
}

/* The peer's ucred as the accepting side sees it, for a child that
 * switched to USER:GROUP and connected to `a` (`alen` bytes). */
static void peercred_of_user_child(struct sockaddr_un *a, socklen_t alen) {
    int l = EXPECT_OK(socket(AF_UNIX, SOCK_STREAM, 0));
    EXPECT_OK(bind(l, (struct sockaddr *)a, alen));
    if (a->sun_path[0] != 0)
        EXPECT_OK(chmod(a->sun_path, 0777));
    EXPECT_OK(listen(l, 1));
    pid_t child = fork();
    if (child == 0) {
        char c;
        if (setresgid(GROUP, GROUP, GROUP) != 0 || setuid(USER) != 0)
            _exit(1);
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        if (s < 0 || connect(s, (struct sockaddr *)a, alen) != 0)
            _exit(2);
        /* Until the parent has looked. */
        while (read(s, &c, 1) < 0 && errno == EINTR)
            ;
        _exit(0);
    }
    EXPECT_TRUE(child > 0);
    int c = EXPECT_OK(accept(l, NULL, NULL));
    struct ucred cr;
    socklen_t len = sizeof cr;
    EXPECT_OK(getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &len));
    EXPECT_EQ(len, sizeof cr);
    EXPECT_EQ(cr.pid, child);
    EXPECT_EQ(cr.uid, USER);
    EXPECT_EQ(cr.gid, GROUP);
    /* A short buffer gets the start of it. */
    memset(&cr, 0xff, sizeof cr);
    len = 4;
    EXPECT_OK(getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &len));
    EXPECT_EQ(len, 4);
    EXPECT_EQ(cr.pid, child);
    EXPECT_EQ(cr.uid, (uid_t)-1);
    close(c);
    int st;
    EXPECT_EQ(waitpid(child, &st, 0), child);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* SO_PEERCRED names the process that connected, with its effective ids
 * (at connect time; here they did not change since, as runrs reports the
 * current ones), and for a socketpair the process that made it. */
COVERS("setresgid setuid connect accept socketpair")
CASE(getsockopt, peercred_names_the_connecting_user) {
    need_setid();
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    /* Abstract: no file, the kernel connects. */
    int n = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "runrs-peercred-%d", getpid());
    peercred_of_user_child(&a, offsetof(struct sockaddr_un, sun_path) + 1 + n);
    int sv[2];
    EXPECT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    struct ucred cr;
    socklen_t len = sizeof cr;
    EXPECT_OK(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cr, &len));
    EXPECT_EQ(cr.pid, getpid());
    EXPECT_EQ(cr.uid, 0);
}

/* The same through a socket file in the scratch dir. */
COVERS("setresgid setuid connect accept")
CASE(getsockopt, peercred_of_a_path_connection) {
    need_setid();
    open_scratch();
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strcpy(a.sun_path, "s"); /* in the scratch dir, the cwd */
    peercred_of_user_child(&a, sizeof a);
}

/* A set*id call makes the task non-dumpable (per fs.suid_dumpable, 0 by
 * default): its /proc files then belong to root, until PR_SET_DUMPABLE. */
COVERS("prctl setresuid stat")
CASE(prctl, set_id_makes_the_task_non_dumpable) {
    need_setid();
    struct stat st;
    EXPECT_EQ(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
    EXPECT_OK(stat("/proc/self/status", &st));
    EXPECT_EQ(st.st_uid, 0);
    EXPECT_OK(setresuid(USER, USER, USER));
    int mode = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    EXPECT_TRUE(mode >= 0 && mode <= 2);
    EXPECT_OK(stat("/proc/self/status", &st));
    EXPECT_EQ(st.st_uid, mode == 1 ? USER : 0);
    EXPECT_OK(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
    EXPECT_EQ(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
    EXPECT_OK(stat("/proc/self/status", &st));
    EXPECT_EQ(st.st_uid, USER);
    EXPECT_ERRNO(prctl(PR_SET_DUMPABLE, 2, 0, 0, 0), EINVAL);
    /* A child inherits the mode. */
    EXPECT_OK(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
    pid_t child = fork();
    if (child == 0)
        _exit(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0 ? 0 : 1);
    int status;
    EXPECT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* setreuid: the saved uid follows a changed real uid (or an effective uid
 * other than the old real one); an unprivileged caller may only swap. */
COVERS("setreuid getresuid")
CASE(setreuid, saved_id_follows_and_unprivileged_swaps) {
    need_setid();
    EXPECT_OK(setreuid(USER, USER + 1));
    uid_t r, e, s;
    EXPECT_OK(getresuid(&r, &e, &s));
    EXPECT_EQ(r, USER);
    EXPECT_EQ(e, USER + 1);
    EXPECT_EQ(s, USER + 1);
    /* Now without CAP_SETUID: swapping real and effective is allowed. */
    EXPECT_OK(setreuid(USER + 1, USER));
    EXPECT_OK(getresuid(&r, &e, &s));
    EXPECT_EQ(r, USER + 1);
    EXPECT_EQ(e, USER);
    EXPECT_ERRNO(setreuid(0, -1), EPERM);
    EXPECT_ERRNO(setreuid(-1, 0), EPERM);
}

/* setregid likewise, while the uid still holds CAP_SETGID. */
COVERS("setregid getresgid")
CASE(setregid, saved_id_follows) {
    need_setid();
    EXPECT_OK(setregid(100, 101));
    gid_t r, e, s;
    EXPECT_OK(getresgid(&r, &e, &s));
    EXPECT_EQ(r, 100);
    EXPECT_EQ(e, 101);
    EXPECT_EQ(s, 101);
    EXPECT_OK(setregid(-1, 100));
    EXPECT_OK(getresgid(&r, &e, &s));
    EXPECT_EQ(e, 100);
    EXPECT_EQ(s, 101);
    EXPECT_OK(setresuid(USER, USER, USER));
    EXPECT_ERRNO(setregid(0, -1), EPERM);
}

/* A daemon that drops to its own user enters its private directory (the
 * kernel checks the chdir with the caller's ids), and no other user may:
 * postgres's initdb does this with its data directory. */
COVERS("chdir fchdir mkdir setresuid")
CASE(chdir, user_enters_its_own_private_dir) {
    need_setid();
    open_scratch();
    /* Made by the user itself; the saved uid 0 brings root back. */
    EXPECT_OK(setresgid(USER, USER, 0));
    EXPECT_OK(setresuid(USER, USER, 0));
    EXPECT_OK(mkdir("private", 0700));
    int dir = open("private", O_RDONLY | O_DIRECTORY);
    EXPECT_TRUE(dir >= 0);
    pid_t child = fork();
    if (child == 0) {
        if (setresuid(0, 0, 0) || setresgid(USER + 1, USER + 1, USER + 1) ||
            setresuid(USER + 1, USER + 1, USER + 1))
            _exit(10);
        if (chdir("private") == 0 || errno != EACCES)
            _exit(11);
        if (fchdir(dir) == 0 || errno != EACCES)
            _exit(12);
        _exit(0);
    }
    int status;
    EXPECT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_OK(chdir("private"));
    int fd = open("data", O_CREAT | O_WRONLY, 0600);
    EXPECT_TRUE(fd >= 0);
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_uid, USER);
    EXPECT_EQ(st.st_gid, USER);
    close(fd);
    EXPECT_OK(chdir(".."));
    EXPECT_OK(fchdir(dir));
    close(dir);
}

/* Root with CAP_DAC_OVERRIDE enters another user's 0700 directory. */
COVERS("chdir")
CASE(chdir, root_with_dac_override_enters_a_users_private_dir) {
    need_setid();
    open_scratch();
    EXPECT_OK(setresuid(USER, USER, 0));
    EXPECT_OK(mkdir("theirs", 0700));
    EXPECT_OK(setresuid(0, 0, 0));
    if (has_cap(CAP_DAC_OVERRIDE) || has_cap(CAP_DAC_READ_SEARCH)) {
        EXPECT_OK(chdir("theirs"));
        EXPECT_OK(chdir(".."));
    } else {
        EXPECT_ERRNO(chdir("theirs"), EACCES);
    }
}

/* SysV shared memory created 0600 by one user is refused to another (the
 * kernel's ipcperms with the callers' real ids). */
COVERS("shmget shmat shmctl setresuid")
CASE(shmget, another_users_private_segment_is_refused) {
    need_setid();
    /* Created as USER, tried as USER + 1 (the saved uid 0 brings root
     * back in between). */
    EXPECT_OK(setresuid(USER, USER, 0));
    int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    EXPECT_TRUE(id >= 0);
    void *p = shmat(id, NULL, 0);
    EXPECT_TRUE(p != (void *)-1);
    EXPECT_OK(shmdt(p));
    EXPECT_OK(setresuid(0, 0, 0));
    EXPECT_OK(setresuid(USER + 1, USER + 1, 0));
    EXPECT_TRUE(shmat(id, NULL, 0) == (void *)-1 && errno == EACCES);
    /* Only its owner (or CAP_IPC_OWNER) may remove it. */
    EXPECT_OK(setresuid(0, 0, 0));
    EXPECT_OK(setresuid(USER, USER, 0));
    EXPECT_OK(shmctl(id, IPC_RMID, NULL));
}

/* The sentry's permission check (access, answered by the sentry) and the
 * kernel's (chdir, which the kernel performs) agree for every class of a
 * directory's mode, as owner, group member, supplementary member and
 * other, with and without the DAC capabilities. */
COVERS("faccessat chdir setresuid setgroups")
CASE(access, agrees_with_the_kernels_own_check) {
    need_setid();
    open_scratch();
    static const mode_t modes[] = {0700, 0070, 0007, 0100, 0010, 0001, 0750, 0705, 0000};
    char name[64];
    /* Made by USER with group USER + 1; the saved ids bring root back. */
    EXPECT_OK(setresgid(USER + 1, USER + 1, 0));
    EXPECT_OK(setresuid(USER, USER, 0));
    for (unsigned i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        snprintf(name, sizeof name, "d%o", (unsigned)modes[i]);
        EXPECT_OK(mkdir(name, 0700));
        EXPECT_OK(chmod(name, modes[i]));
    }
    EXPECT_OK(setresuid(0, 0, 0));
    EXPECT_OK(setresgid(0, 0, 0));
    /* uid, gid, supplementary group */
    static const unsigned who[][3] = {
        {USER, 1, 2}, {USER + 5, USER + 1, 2}, {USER + 5, 3, USER + 1}, {USER + 5, 3, 4}, {0, 0, 0},
    };
    for (unsigned w = 0; w < sizeof who / sizeof who[0]; w++) {
        pid_t child = fork();
        if (child == 0) {
            gid_t g = who[w][2];
            if (setgroups(1, &g) || setresgid(who[w][1], who[w][1], who[w][1]) ||
                setresuid(who[w][0], who[w][0], who[w][0]))
                _exit(100);
            for (unsigned i = 0; i < sizeof modes / sizeof modes[0]; i++) {
                char n[64], path[PATH_MAX + 80];
                snprintf(n, sizeof n, "d%o", (unsigned)modes[i]);
                snprintf(path, sizeof path, "%s/%s", harness_scratch, n);
                int sentry = access(path, X_OK) == 0;
                int kernel = chdir(path) == 0;
                if (sentry != kernel)
                    _exit(1 + i);
            }
            _exit(0);
        }
        int status;
        EXPECT_EQ(waitpid(child, &status, 0), child);
        EXPECT_TRUE(WIFEXITED(status));
        EXPECT_EQ(WEXITSTATUS(status), 0);
    }
}
