/* Namespaces: unshare(2), setns(2) and clone(2) with CLONE_NEW* flags.
 *
 * Without CAP_SYS_ADMIN (a child that switched to uid 65534, which drops
 * every capability) each CLONE_NEW* but CLONE_NEWUSER is EPERM.
 * Cases whose behaviour starts with `admin_` need CAP_SYS_ADMIN: they skip
 * without it, and the runner runs them once more in a container whose spec
 * grants it (src/conformance.rs, ADMIN_GLOB). */
#include "harness.h"
#include "nshelp.h"
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <netinet/in.h>

/* errno of unshare(flags) as an exit code (0 when it succeeded). */
static int unshare_errno(int flags) { return unshare(flags) == 0 ? 0 : errno; }

#define UNPRIV_UNSHARE(name, flag)                                                             \
    static int unpriv_##name(void) { return unshare_errno(flag); }                             \
    CASE(unshare, name##_without_cap_sys_admin_eperm) {                                        \
        EXPECT_EQ(as_nobody(unpriv_##name), EPERM);                                            \
    }

UNPRIV_UNSHARE(newnet, CLONE_NEWNET)
UNPRIV_UNSHARE(newuts, CLONE_NEWUTS)
UNPRIV_UNSHARE(newipc, CLONE_NEWIPC)
UNPRIV_UNSHARE(newns, CLONE_NEWNS)
UNPRIV_UNSHARE(newpid, CLONE_NEWPID)
UNPRIV_UNSHARE(newcgroup, CLONE_NEWCGROUP)
UNPRIV_UNSHARE(newtime, CLONE_NEWTIME)

static int unpriv_net_and_files(void) { return unshare_errno(CLONE_NEWNET | CLONE_FILES); }
CASE(unshare, mixed_flags_fail_whole_without_cap) {
    EXPECT_EQ(as_nobody(unpriv_net_and_files), EPERM);
}

CASE(unshare, zero_flags_is_a_noop) { EXPECT_OK(unshare(0)); }

CASE(unshare, unknown_flag_einval) {
    /* CLONE_PTRACE is a clone flag unshare does not take. */
    EXPECT_ERRNO(unshare(CLONE_PTRACE), EINVAL);
}

CASE(unshare, files_gives_a_private_fd_table) {
    int p[2];
    EXPECT_OK(pipe(p));
    pid_t pid = fork();
    if (pid == 0) {
        if (unshare(CLONE_FILES) != 0)
            _exit(1);
        close(p[0]);
        _exit(fcntl(p[1], F_GETFD) >= 0 ? 0 : 2);
    }
    int st;
    EXPECT_OK(waitpid(pid, &st, 0));
    EXPECT_EQ(WEXITSTATUS(st), 0);
    EXPECT_OK(fcntl(p[0], F_GETFD));
}

CASE(unshare, files_in_a_thread_keeps_the_process_fds) {
    /* unshare(CLONE_FILES) in a single-threaded process: fds stay open. */
    int fd = EXPECT_OK(open(".", O_RDONLY | O_DIRECTORY));
    EXPECT_OK(unshare(CLONE_FILES));
    EXPECT_OK(fcntl(fd, F_GETFD));
}

CASE(unshare, fs_keeps_cwd_and_umask) {
    mode_t old = umask(027);
    EXPECT_OK(unshare(CLONE_FS));
    EXPECT_EQ(umask(old), 027);
    char cwd[PATH_MAX];
    EXPECT_TRUE(getcwd(cwd, sizeof cwd) != NULL);
    EXPECT_STREQ(cwd, harness_scratch);
}

CASE(unshare, sysvsem_ok) { EXPECT_OK(unshare(CLONE_SYSVSEM)); }

CASE(unshare, vm_and_sighand_single_threaded_ok) {
    /* A single-threaded process may "unshare" what it does not share. */
    EXPECT_OK(unshare(CLONE_SIGHAND));
    EXPECT_OK(unshare(CLONE_VM));
}

/* Linux allows an unprivileged user namespace (no capability needed). */
static int unpriv_newuser(void) { return unshare_errno(CLONE_NEWUSER); }
CASE(unshare, newuser_without_caps_ok) {
    if (!userns_allowed())
        harness_skip("user namespaces disabled on this host");
    EXPECT_EQ(as_nobody(unpriv_newuser), 0);
}

static int newuser_then_ns(void) {
    if (unshare(CLONE_NEWUSER) != 0)
        return 90;
    return unshare_errno(CLONE_NEWNS);
}
CASE(unshare, newuser_then_newns_as_its_root) {
    if (!userns_allowed())
        harness_skip("user namespaces disabled on this host");
    EXPECT_EQ(as_nobody(newuser_then_ns), 0);
}

/* The uid of a task in a new user namespace without a map is the overflow id. */
static int newuser_overflow(void) {
    if (unshare(CLONE_NEWUSER) != 0)
        return 90;
    return getuid() == 65534 ? 0 : 91;
}
CASE(unshare, newuser_unmapped_uid_is_overflow) {
    if (!userns_allowed())
        harness_skip("user namespaces disabled on this host");
    EXPECT_EQ(as_nobody(newuser_overflow), 0);
}

/* ---- with CAP_SYS_ADMIN ---- */

static unsigned short lo_flags(void) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        FAIL("socket: %s", harness_errname(errno));
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
        FAIL("SIOCGIFFLAGS lo: %s", harness_errname(errno));
    close(s);
    return (unsigned short)ifr.ifr_flags;
}

CASE(unshare, admin_newnet_has_a_down_loopback) {
    need_admin();
    EXPECT_OK(unshare(CLONE_NEWNET));
    EXPECT_TRUE((lo_flags() & IFF_UP) == 0);
}

CASE(unshare, admin_newnet_ns_link_changes) {
    need_admin();
    char before[64] = {0}, after[64] = {0};
    EXPECT_OK(readlink("/proc/self/ns/net", before, sizeof before - 1));
    EXPECT_OK(unshare(CLONE_NEWNET));
    EXPECT_OK(readlink("/proc/self/ns/net", after, sizeof after - 1));
    EXPECT_TRUE(strncmp(after, "net:[", 5) == 0);
    EXPECT_TRUE(strcmp(before, after) != 0);
}

CASE(unshare, admin_newnet_port_is_free_again) {
    need_admin();
    /* A port bound in the old namespace is free in the new one. */
    int a = EXPECT_OK(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
    EXPECT_OK(bind(a, (struct sockaddr *)&sa, sizeof sa));
    socklen_t len = sizeof sa;
    EXPECT_OK(getsockname(a, (struct sockaddr *)&sa, &len));
    EXPECT_OK(unshare(CLONE_NEWNET));
    int b = EXPECT_OK(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    EXPECT_OK(bind(b, (struct sockaddr *)&sa, sizeof sa));
}

CASE(unshare, admin_newnet_old_socket_keeps_its_namespace) {
    need_admin();
    int a = EXPECT_OK(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    EXPECT_OK(unshare(CLONE_NEWNET));
    /* The old socket can still reach the old namespace's loopback (up). */
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    EXPECT_OK(ioctl(a, SIOCGIFFLAGS, &ifr));
    EXPECT_TRUE((ifr.ifr_flags & IFF_UP) != 0);
}

CASE(unshare, admin_newnet_proc_net_dev_is_the_new_one) {
    need_admin();
    EXPECT_OK(unshare(CLONE_NEWNET));
    static char buf[16384];
    EXPECT_TRUE(get_file("/proc/self/net/dev", buf, sizeof buf) > 0);
    EXPECT_TRUE(strstr(buf, " lo:") != NULL);
    EXPECT_TRUE(strstr(buf, "eth0") == NULL);
}

CASE(unshare, admin_newipc_hides_sysv_objects) {
    need_admin();
    key_t key = (key_t)(0x52550000 | (getpid() & 0xffff));
    int id = EXPECT_OK(msgget(key, IPC_CREAT | 0600));
    pid_t pid = fork();
    if (pid == 0) {
        if (unshare(CLONE_NEWIPC) != 0)
            _exit(1);
        _exit(msgget(key, 0) == -1 && errno == ENOENT ? 0 : 2);
    }
    int st;
    EXPECT_OK(waitpid(pid, &st, 0));
    msgctl(id, IPC_RMID, NULL);
    EXPECT_EQ(WEXITSTATUS(st), 0);
}

CASE(unshare, admin_newipc_new_objects_stay_inside) {
    need_admin();
    key_t key = (key_t)(0x52560000 | (getpid() & 0xffff));
    pid_t pid = fork();
    if (pid == 0) {
        if (unshare(CLONE_NEWIPC) != 0)
            _exit(1);
        _exit(shmget(key, 4096, IPC_CREAT | 0600) >= 0 ? 0 : 2);
    }
    int st;
    EXPECT_OK(waitpid(pid, &st, 0));
    EXPECT_EQ(WEXITSTATUS(st), 0);
    EXPECT_ERRNO(shmget(key, 0, 0), ENOENT);
}

CASE(unshare, admin_newipc_ns_link_changes) {
    need_admin();
    char before[64] = {0}, after[64] = {0};
    EXPECT_OK(readlink("/proc/self/ns/ipc", before, sizeof before - 1));
    EXPECT_OK(unshare(CLONE_NEWIPC));
    EXPECT_OK(readlink("/proc/self/ns/ipc", after, sizeof after - 1));
    EXPECT_TRUE(strcmp(before, after) != 0);
}

CASE(unshare, admin_newnet_and_newipc_together) {
    need_admin();
    EXPECT_OK(unshare(CLONE_NEWNET | CLONE_NEWIPC));
    EXPECT_TRUE((lo_flags() & IFF_UP) == 0);
}

CASE(unshare, admin_newuts_sethostname_is_private) {
    need_admin();
    pid_t pid = fork();
    if (pid == 0) {
        if (unshare(CLONE_NEWUTS) != 0)
            _exit(1);
        if (sethostname("nsname", 6) != 0)
            _exit(2);
        struct utsname u;
        uname(&u);
        _exit(strcmp(u.nodename, "nsname") == 0 ? 0 : 3);
    }
    int st;
    EXPECT_OK(waitpid(pid, &st, 0));
    EXPECT_EQ(WEXITSTATUS(st), 0);
    struct utsname u;
    EXPECT_OK(uname(&u));
    EXPECT_TRUE(strcmp(u.nodename, "nsname") != 0);
}

CASE(unshare, admin_newns_ok) {
    need_admin();
    EXPECT_OK(unshare(CLONE_NEWNS));
}

CASE(unshare, admin_newpid_first_child_is_pid_1) {
    need_admin();
    EXPECT_OK(unshare(CLONE_NEWPID));
    pid_t pid = fork();
    if (pid == 0)
        _exit(getpid() == 1 ? 0 : 1);
    int st;
    EXPECT_OK(waitpid(pid, &st, 0));
    EXPECT_EQ(WEXITSTATUS(st), 0);
}

CASE(unshare, admin_newcgroup_ok) {
    need_admin();
    EXPECT_OK(unshare(CLONE_NEWCGROUP));
}

/* ---- setns ---- */

CASE(setns, bad_fd_ebadf) { EXPECT_ERRNO(setns(-1, CLONE_NEWNET), EBADF); }

CASE(setns, regular_file_einval) {
    put_file("f", "x");
    int fd = EXPECT_OK(open("f", O_RDONLY));
    EXPECT_ERRNO(setns(fd, CLONE_NEWNET), EINVAL);
}

CASE(setns, pipe_fd_einval) {
    int p[2];
    EXPECT_OK(pipe(p));
    EXPECT_ERRNO(setns(p[0], CLONE_NEWIPC), EINVAL);
}

static int pidfd_of(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

static int unpriv_setns_self(void) {
    int fd = pidfd_of(getpid());
    if (fd < 0)
        return 90;
    return setns(fd, CLONE_NEWNET) == 0 ? 0 : errno;
}
CASE(setns, own_netns_without_cap_eperm) {
    EXPECT_EQ(as_nobody(unpriv_setns_self), EPERM);
}

static int unpriv_setns_ipc(void) {
    int fd = pidfd_of(getpid());
    if (fd < 0)
        return 90;
    return setns(fd, CLONE_NEWIPC) == 0 ? 0 : errno;
}
CASE(setns, own_ipcns_without_cap_eperm) {
    EXPECT_EQ(as_nobody(unpriv_setns_ipc), EPERM);
}

CASE(setns, admin_pidfd_own_netns_ok) {
    need_admin();
    int fd = EXPECT_OK(pidfd_of(getpid()));
    EXPECT_OK(setns(fd, CLONE_NEWNET));
}

CASE(setns, admin_pidfd_joins_a_childs_netns) {
    need_admin();
    int ready[2], go[2];
    EXPECT_OK(pipe(ready));
    EXPECT_OK(pipe(go));
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        if (unshare(CLONE_NEWNET) != 0)
            _exit(1);
        if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) < 0)
            _exit(2);
        _exit(0);
    }
    char c;
    EXPECT_EQ(read(ready[0], &c, 1), 1);
    int fd = EXPECT_OK(pidfd_of(pid));
    EXPECT_TRUE((lo_flags() & IFF_UP) != 0);
    EXPECT_OK(setns(fd, CLONE_NEWNET));
    EXPECT_TRUE((lo_flags() & IFF_UP) == 0);
    EXPECT_EQ(write(go[1], "g", 1), 1);
    int st;
    EXPECT_OK(waitpid(pid, &st, 0));
    EXPECT_EQ(WEXITSTATUS(st), 0);
}

CASE(setns, admin_pidfd_joins_a_childs_ipcns) {
    need_admin();
    int ready[2], go[2];
    EXPECT_OK(pipe(ready));
    EXPECT_OK(pipe(go));
    key_t key = (key_t)(0x52570000 | (getpid() & 0xffff));
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        if (unshare(CLONE_NEWIPC) != 0 || msgget(key, IPC_CREAT | 0600) < 0)
            _exit(1);
        if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) < 0)
            _exit(2);
        _exit(0);
    }
    char c;
    EXPECT_EQ(read(ready[0], &c, 1), 1);
    int fd = EXPECT_OK(pidfd_of(pid));
    EXPECT_ERRNO(msgget(key, 0), ENOENT);
    EXPECT_OK(setns(fd, CLONE_NEWIPC));
    EXPECT_OK(msgget(key, 0));
    EXPECT_EQ(write(go[1], "g", 1), 1);
    int st;
    EXPECT_OK(waitpid(pid, &st, 0));
    EXPECT_EQ(WEXITSTATUS(st), 0);
}

CASE(setns, admin_ns_file_joins_netns) {
    need_admin();
    int fd = EXPECT_OK(open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
    EXPECT_OK(unshare(CLONE_NEWNET));
    EXPECT_TRUE((lo_flags() & IFF_UP) == 0);
    EXPECT_OK(setns(fd, CLONE_NEWNET));
    EXPECT_TRUE((lo_flags() & IFF_UP) != 0);
}

CASE(setns, admin_ns_file_wrong_type_einval) {
    need_admin();
    int fd = EXPECT_OK(open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
    EXPECT_ERRNO(setns(fd, CLONE_NEWIPC), EINVAL);
}

/* ---- clone with namespace flags ---- */

static int clone_child_fn(void *arg) {
    (void)arg;
    return (lo_flags() & IFF_UP) == 0 ? 0 : 1;
}

static int clone_with(int flags, int (*fn)(void *)) {
    static char stack[65536] __attribute__((aligned(16)));
    pid_t pid = clone(fn, stack + sizeof stack, flags | SIGCHLD, NULL);
    if (pid < 0)
        return -errno;
    int st;
    if (waitpid(pid, &st, 0) < 0)
        FAIL("waitpid: %s", harness_errname(errno));
    return WIFEXITED(st) ? WEXITSTATUS(st) : 200;
}

static int unpriv_clone_newnet(void) { return -clone_with(CLONE_NEWNET, clone_child_fn); }
CASE(clone, newnet_without_cap_eperm) { EXPECT_EQ(as_nobody(unpriv_clone_newnet), EPERM); }

static int unpriv_clone_newipc(void) { return -clone_with(CLONE_NEWIPC, clone_child_fn); }
CASE(clone, newipc_without_cap_eperm) { EXPECT_EQ(as_nobody(unpriv_clone_newipc), EPERM); }

static int unpriv_clone_newns(void) { return -clone_with(CLONE_NEWNS, clone_child_fn); }
CASE(clone, newns_without_cap_eperm) { EXPECT_EQ(as_nobody(unpriv_clone_newns), EPERM); }

static int unpriv_clone_newpid(void) { return -clone_with(CLONE_NEWPID, clone_child_fn); }
CASE(clone, newpid_without_cap_eperm) { EXPECT_EQ(as_nobody(unpriv_clone_newpid), EPERM); }

CASE(clone, admin_newnet_child_has_own_loopback) {
    need_admin();
    EXPECT_EQ(clone_with(CLONE_NEWNET, clone_child_fn), 0);
    EXPECT_TRUE((lo_flags() & IFF_UP) != 0);
}

static int ipc_child_fn(void *arg) {
    key_t key = *(key_t *)arg;
    (void)key;
    return msgget(*(key_t *)arg, 0) == -1 && errno == ENOENT ? 0 : 1;
}
CASE(clone, admin_newipc_child_sees_no_queues) {
    need_admin();
    static key_t key;
    key = (key_t)(0x52580000 | (getpid() & 0xffff));
    int id = EXPECT_OK(msgget(key, IPC_CREAT | 0600));
    static char stack[65536] __attribute__((aligned(16)));
    pid_t pid = clone(ipc_child_fn, stack + sizeof stack, CLONE_NEWIPC | SIGCHLD, &key);
    int e = errno;
    if (pid < 0) {
        msgctl(id, IPC_RMID, NULL);
        FAIL("clone(CLONE_NEWIPC): %s", harness_errname(e));
    }
    int st;
    EXPECT_OK(waitpid(pid, &st, 0));
    msgctl(id, IPC_RMID, NULL);
    EXPECT_EQ(WEXITSTATUS(st), 0);
}

static int pid1_fn(void *arg) {
    (void)arg;
    return getpid() == 1 ? 0 : 1;
}
CASE(clone, admin_newpid_child_is_pid_1) {
    need_admin();
    EXPECT_EQ(clone_with(CLONE_NEWPID, pid1_fn), 0);
}

static int uts_fn(void *arg) {
    (void)arg;
    return sethostname("clonens", 7) == 0 ? 0 : 1;
}
CASE(clone, admin_newuts_child_sets_hostname) {
    need_admin();
    EXPECT_EQ(clone_with(CLONE_NEWUTS, uts_fn), 0);
}

/* /proc/self/ns: one link per namespace type, "type:[inode]". */
CASE(proc, ns_links_name_their_type) {
    static const char *types[] = {"cgroup", "ipc", "mnt", "net", "pid", "user", "uts"};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        char path[64], link[64] = {0}, want[32];
        snprintf(path, sizeof path, "/proc/self/ns/%s", types[i]);
        EXPECT_OK(readlink(path, link, sizeof link - 1));
        snprintf(want, sizeof want, "%s:[", types[i]);
        if (strncmp(link, want, strlen(want)) != 0 || link[strlen(link) - 1] != ']')
            FAIL("%s -> %s", path, link);
    }
}

CASE(proc, ns_dir_lists_the_types) {
    int fd = EXPECT_OK(open("/proc/self/ns", O_RDONLY | O_DIRECTORY));
    static char buf[4096];
    long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (n <= 0)
        FAIL("getdents64 /proc/self/ns: %ld %s", n, harness_errname(errno));
    int net = 0, mnt = 0, pid = 0;
    for (long off = 0; off < n;) {
        struct {
            unsigned long long ino;
            long long off;
            unsigned short reclen;
            unsigned char type;
            char name[];
        } *d = (void *)(buf + off);
        net |= strcmp(d->name, "net") == 0;
        mnt |= strcmp(d->name, "mnt") == 0;
        pid |= strcmp(d->name, "pid") == 0;
        off += d->reclen;
    }
    EXPECT_TRUE(net && mnt && pid);
}

CASE(proc, ns_same_for_parent_and_child) {
    char a[64] = {0};
    EXPECT_OK(readlink("/proc/self/ns/net", a, sizeof a - 1));
    char path[64], b[64] = {0};
    snprintf(path, sizeof path, "/proc/%d/ns/net", getppid());
    EXPECT_OK(readlink(path, b, sizeof b - 1));
    EXPECT_STREQ(a, b);
}

CASE(proc, ns_link_lstat_is_a_symlink) {
    struct stat st;
    EXPECT_OK(lstat("/proc/self/ns/uts", &st));
    EXPECT_TRUE(S_ISLNK(st.st_mode));
}

/* Opening a namespace link gives the namespace file (nsfs): its inode is
 * the link's number, and it cannot be read. */
CASE(proc, ns_file_opens_read_only) {
    char link[64] = {0};
    EXPECT_OK(readlink("/proc/self/ns/uts", link, sizeof link - 1));
    unsigned long long ino = 0;
    EXPECT_EQ(sscanf(link, "uts:[%llu]", &ino), 1);
    int fd = EXPECT_OK(open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC));
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_ino, ino);
    char c;
    EXPECT_ERRNO(read(fd, &c, 1), EINVAL);
    close(fd);
}
