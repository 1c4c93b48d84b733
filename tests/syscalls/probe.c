/* Syscalls programs probe for: Landlock, io_uring, kernel keyrings, the
 * legacy getdents, and the cgroup files a process reads about itself.
 * Where the sandbox refuses a feature, the `table_errno` cases check the
 * table's errno (sandbox-only) and tests/syscalls/KNOWN_GAPS names the
 * native cases with the reason. */
#include "harness.h"
#include "nshelp.h"
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/landlock.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

/* ---- Landlock ---- */

static long ll_create(const struct landlock_ruleset_attr *a, size_t size, unsigned flags) {
    return syscall(SYS_landlock_create_ruleset, a, size, flags);
}

CASE(landlock_create_ruleset, table_errno) {
    EXPECT_TABLE_ERRNO(ll_create(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION),
                       "landlock_create_ruleset");
}
CASE(landlock_add_rule, table_errno) {
    EXPECT_TABLE_ERRNO(syscall(SYS_landlock_add_rule, -1, LANDLOCK_RULE_PATH_BENEATH, NULL, 0),
                       "landlock_add_rule");
}
CASE(landlock_restrict_self, table_errno) {
    EXPECT_TABLE_ERRNO(syscall(SYS_landlock_restrict_self, -1, 0), "landlock_restrict_self");
}

CASE(landlock_create_ruleset, version_query) {
    long v = EXPECT_OK(ll_create(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION));
    EXPECT_TRUE(v >= 1);
}

CASE(landlock_create_ruleset, version_with_attr_einval) {
    struct landlock_ruleset_attr a = {.handled_access_fs = LANDLOCK_ACCESS_FS_READ_FILE};
    EXPECT_ERRNO(ll_create(&a, sizeof a, LANDLOCK_CREATE_RULESET_VERSION), EINVAL);
}

CASE(landlock_create_ruleset, unknown_flag_einval) {
    EXPECT_ERRNO(ll_create(NULL, 0, 1u << 30), EINVAL);
}

CASE(landlock_create_ruleset, empty_access_enomsg) {
    struct landlock_ruleset_attr a = {0};
    EXPECT_ERRNO(ll_create(&a, sizeof a, 0), ENOMSG);
}

CASE(landlock_create_ruleset, unknown_access_bit_einval) {
    struct landlock_ruleset_attr a = {.handled_access_fs = 1ULL << 62};
    EXPECT_ERRNO(ll_create(&a, sizeof a, 0), EINVAL);
}

CASE(landlock_create_ruleset, returns_a_cloexec_fd) {
    struct landlock_ruleset_attr a = {.handled_access_fs = LANDLOCK_ACCESS_FS_READ_FILE};
    int fd = EXPECT_OK(ll_create(&a, sizeof a, 0));
    EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    char link[64] = {0}, path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    EXPECT_OK(readlink(path, link, sizeof link - 1));
    EXPECT_STREQ(link, "anon_inode:[landlock-ruleset]");
}

static int ll_ruleset(unsigned long long handled) {
    struct landlock_ruleset_attr a = {.handled_access_fs = handled};
    return (int)ll_create(&a, sizeof a, 0);
}

CASE(landlock_add_rule, bad_ruleset_fd_ebadf) {
    int dir = EXPECT_OK(open(".", O_PATH | O_CLOEXEC));
    struct landlock_path_beneath_attr pb = {.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE,
                                            .parent_fd = dir};
    EXPECT_ERRNO(syscall(SYS_landlock_add_rule, -1, LANDLOCK_RULE_PATH_BENEATH, &pb, 0), EBADF);
}

CASE(landlock_add_rule, non_ruleset_fd_ebadfd) {
    int p[2];
    EXPECT_OK(pipe(p));
    int dir = EXPECT_OK(open(".", O_PATH | O_CLOEXEC));
    struct landlock_path_beneath_attr pb = {.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE,
                                            .parent_fd = dir};
    EXPECT_ERRNO(syscall(SYS_landlock_add_rule, p[0], LANDLOCK_RULE_PATH_BENEATH, &pb, 0), EBADFD);
}

CASE(landlock_add_rule, path_beneath_ok) {
    int rs = EXPECT_OK(ll_ruleset(LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR));
    int dir = EXPECT_OK(open(".", O_PATH | O_CLOEXEC));
    struct landlock_path_beneath_attr pb = {.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE,
                                            .parent_fd = dir};
    EXPECT_OK(syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0));
}

CASE(landlock_add_rule, unhandled_access_einval) {
    int rs = EXPECT_OK(ll_ruleset(LANDLOCK_ACCESS_FS_READ_FILE));
    int dir = EXPECT_OK(open(".", O_PATH | O_CLOEXEC));
    struct landlock_path_beneath_attr pb = {
        .allowed_access = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE,
        .parent_fd = dir};
    EXPECT_ERRNO(syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0), EINVAL);
}

CASE(landlock_add_rule, empty_access_enomsg) {
    int rs = EXPECT_OK(ll_ruleset(LANDLOCK_ACCESS_FS_READ_FILE));
    int dir = EXPECT_OK(open(".", O_PATH | O_CLOEXEC));
    struct landlock_path_beneath_attr pb = {.allowed_access = 0, .parent_fd = dir};
    EXPECT_ERRNO(syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0), ENOMSG);
}

CASE(landlock_add_rule, unknown_rule_type_einval) {
    int rs = EXPECT_OK(ll_ruleset(LANDLOCK_ACCESS_FS_READ_FILE));
    struct landlock_path_beneath_attr pb = {.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE,
                                            .parent_fd = -1};
    EXPECT_ERRNO(syscall(SYS_landlock_add_rule, rs, 99, &pb, 0), EINVAL);
}

CASE(landlock_add_rule, flags_einval) {
    int rs = EXPECT_OK(ll_ruleset(LANDLOCK_ACCESS_FS_READ_FILE));
    int dir = EXPECT_OK(open(".", O_PATH | O_CLOEXEC));
    struct landlock_path_beneath_attr pb = {.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE,
                                            .parent_fd = dir};
    EXPECT_ERRNO(syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 1), EINVAL);
}

CASE(landlock_restrict_self, bad_fd_ebadf) {
    EXPECT_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    EXPECT_ERRNO(syscall(SYS_landlock_restrict_self, -1, 0), EBADF);
}

CASE(landlock_restrict_self, flags_einval) {
    int rs = EXPECT_OK(ll_ruleset(LANDLOCK_ACCESS_FS_READ_FILE));
    EXPECT_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    EXPECT_ERRNO(syscall(SYS_landlock_restrict_self, rs, 1u << 30), EINVAL);
}

static int restrict_without_nnp(void) {
    int rs = ll_ruleset(LANDLOCK_ACCESS_FS_READ_FILE);
    if (rs < 0)
        return 90;
    return syscall(SYS_landlock_restrict_self, rs, 0) == 0 ? 0 : errno;
}
CASE(landlock_restrict_self, needs_no_new_privs_or_cap_eperm) {
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1)
        harness_skip("no_new_privs already set by the runtime");
    pid_t pid = fork();
    if (pid == 0) {
        if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
            _exit(100);
        _exit(restrict_without_nnp());
    }
    int st;
    EXPECT_OK(waitpid(pid, &st, 0));
    EXPECT_EQ(WEXITSTATUS(st), EPERM);
}

CASE(landlock_restrict_self, denies_reads_outside_the_rules) {
    put_file("inside", "ok");
    int rs = EXPECT_OK(ll_ruleset(LANDLOCK_ACCESS_FS_READ_FILE));
    int dir = EXPECT_OK(open(".", O_PATH | O_CLOEXEC));
    struct landlock_path_beneath_attr pb = {.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE,
                                            .parent_fd = dir};
    EXPECT_OK(syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0));
    EXPECT_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    EXPECT_OK(syscall(SYS_landlock_restrict_self, rs, 0));
    char buf[8];
    EXPECT_TRUE(get_file("inside", buf, sizeof buf) == 2);
    EXPECT_ERRNO(open("/etc/passwd", O_RDONLY), EACCES);
}

CASE(landlock_restrict_self, denies_writes_when_handled) {
    put_file("f", "x");
    int rs = EXPECT_OK(ll_ruleset(LANDLOCK_ACCESS_FS_WRITE_FILE));
    EXPECT_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    EXPECT_OK(syscall(SYS_landlock_restrict_self, rs, 0));
    EXPECT_ERRNO(open("f", O_WRONLY), EACCES);
    int fd = EXPECT_OK(open("f", O_RDONLY));
    close(fd);
}

/* ---- io_uring ---- */

CASE(io_uring_setup, table_errno) {
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    EXPECT_TABLE_ERRNO(syscall(SYS_io_uring_setup, 4, &p), "io_uring_setup");
}
CASE(io_uring_enter, table_errno) {
    EXPECT_TABLE_ERRNO(syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0), "io_uring_enter");
}
CASE(io_uring_register, table_errno) {
    EXPECT_TABLE_ERRNO(syscall(SYS_io_uring_register, -1, 0, NULL, 0), "io_uring_register");
}

static int uring_disabled(void) {
    char buf[16];
    return get_file("/proc/sys/kernel/io_uring_disabled", buf, sizeof buf) > 0 && atoi(buf) != 0;
}

CASE(io_uring_setup, ring_fd_and_features) {
    if (uring_disabled())
        harness_skip("io_uring disabled on this host");
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    int fd = EXPECT_OK(syscall(SYS_io_uring_setup, 4, &p));
    EXPECT_TRUE(p.sq_entries == 4);
    EXPECT_TRUE(p.features & IORING_FEAT_SINGLE_MMAP);
    close(fd);
}

CASE(io_uring_setup, zero_entries_einval) {
    if (uring_disabled())
        harness_skip("io_uring disabled on this host");
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    EXPECT_ERRNO(syscall(SYS_io_uring_setup, 0, &p), EINVAL);
}

CASE(io_uring_setup, nonzero_reserved_einval) {
    if (uring_disabled())
        harness_skip("io_uring disabled on this host");
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    p.resv[0] = 1;
    EXPECT_ERRNO(syscall(SYS_io_uring_setup, 4, &p), EINVAL);
}

CASE(io_uring_enter, nop_completes) {
    if (uring_disabled())
        harness_skip("io_uring disabled on this host");
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    int fd = EXPECT_OK(syscall(SYS_io_uring_setup, 4, &p));
    size_t sqlen = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cqlen = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    size_t len = sqlen > cqlen ? sqlen : cqlen;
    char *ring = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                      IORING_OFF_SQ_RING);
    EXPECT_TRUE(ring != MAP_FAILED);
    struct io_uring_sqe *sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe),
                                     PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                                     IORING_OFF_SQES);
    EXPECT_TRUE(sqes != MAP_FAILED);
    unsigned *tail = (unsigned *)(ring + p.sq_off.tail);
    unsigned *mask = (unsigned *)(ring + p.sq_off.ring_mask);
    unsigned *array = (unsigned *)(ring + p.sq_off.array);
    unsigned t = *tail, idx = t & *mask;
    memset(&sqes[idx], 0, sizeof sqes[idx]);
    sqes[idx].opcode = IORING_OP_NOP;
    sqes[idx].user_data = 0x1234;
    array[idx] = idx;
    __atomic_store_n(tail, t + 1, __ATOMIC_RELEASE);
    EXPECT_EQ(syscall(SYS_io_uring_enter, fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0), 1);
    unsigned *chead = (unsigned *)(ring + p.cq_off.head);
    unsigned *cmask = (unsigned *)(ring + p.cq_off.ring_mask);
    struct io_uring_cqe *cqes = (struct io_uring_cqe *)(ring + p.cq_off.cqes);
    struct io_uring_cqe *c = &cqes[*chead & *cmask];
    EXPECT_EQ(c->user_data, 0x1234);
    EXPECT_EQ(c->res, 0);
}

CASE(io_uring_enter, bad_fd_ebadf) {
    EXPECT_ERRNO(syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0), EBADF);
}

CASE(io_uring_enter, non_ring_fd_eopnotsupp) {
    int p[2];
    EXPECT_OK(pipe(p));
    EXPECT_ERRNO(syscall(SYS_io_uring_enter, p[0], 0, 0, 0, NULL, 0), EOPNOTSUPP);
}

CASE(io_uring_register, bad_fd_ebadf) {
    /* fd -1 is the "blind" registration of Linux 6.x; an unused fd is EBADF. */
    EXPECT_ERRNO(syscall(SYS_io_uring_register, 900, IORING_REGISTER_PROBE, NULL, 0), EBADF);
}

CASE(io_uring_register, non_ring_fd_eopnotsupp) {
    int p[2];
    EXPECT_OK(pipe(p));
    EXPECT_ERRNO(syscall(SYS_io_uring_register, p[0], IORING_REGISTER_PROBE, NULL, 0), EOPNOTSUPP);
}

/* ---- kernel keyrings ---- */

CASE(keyctl, table_errno) {
    EXPECT_TABLE_ERRNO(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0),
                       "keyctl");
}
CASE(add_key, table_errno) {
    EXPECT_TABLE_ERRNO(syscall(SYS_add_key, "user", "runrs", "v", 1, KEY_SPEC_PROCESS_KEYRING),
                       "add_key");
}
CASE(request_key, table_errno) {
    EXPECT_TABLE_ERRNO(syscall(SYS_request_key, "user", "runrs-nothere", NULL, 0), "request_key");
}

CASE(keyctl, session_keyring_id) {
    long id = EXPECT_OK(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
    EXPECT_TRUE(id > 0);
}

CASE(keyctl, unknown_operation_eopnotsupp) {
    EXPECT_ERRNO(syscall(SYS_keyctl, 9999, 0, 0, 0, 0), EOPNOTSUPP);
}

CASE(add_key, user_key_read_back) {
    long k = EXPECT_OK(syscall(SYS_add_key, "user", "runrs-conf", "secret", 6,
                               KEY_SPEC_PROCESS_KEYRING));
    char buf[16] = {0};
    EXPECT_EQ(syscall(SYS_keyctl, KEYCTL_READ, k, buf, sizeof buf), 6);
    EXPECT_STREQ(buf, "secret");
}

CASE(add_key, unknown_type_enodev) {
    EXPECT_ERRNO(syscall(SYS_add_key, "nosuchtype", "d", "v", 1, KEY_SPEC_PROCESS_KEYRING), ENODEV);
}

CASE(request_key, missing_key_enokey) {
    EXPECT_OK(syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL));
    EXPECT_ERRNO(syscall(SYS_request_key, "user", "runrs-nothere", NULL, 0), ENOKEY);
}

/* ---- legacy getdents ---- */

struct linux_dirent {
    unsigned long d_ino;
    unsigned long d_off;
    unsigned short d_reclen;
    char d_name[];
};

CASE(getdents, on_a_file_enotdir) {
    put_file("f", "x");
    int fd = EXPECT_OK(open("f", O_RDONLY));
    char buf[512];
    EXPECT_ERRNO(syscall(SYS_getdents, fd, buf, sizeof buf), ENOTDIR);
}

/* Names of /proc/self/task through the legacy call: the caller's tid. */
CASE(getdents, proc_task_lists_own_tid) {
    int fd = EXPECT_OK(open("/proc/self/task", O_RDONLY | O_DIRECTORY));
    static char buf[4096];
    long n = EXPECT_OK(syscall(SYS_getdents, fd, buf, sizeof buf));
    char me[16];
    snprintf(me, sizeof me, "%d", getpid());
    int found = 0;
    for (long off = 0; off < n;) {
        struct linux_dirent *d = (void *)(buf + off);
        found |= strcmp(d->d_name, me) == 0;
        off += d->d_reclen;
    }
    EXPECT_TRUE(found);
}

/* ---- cgroup files a process reads about itself ---- */

CASE(cgroup, proc_self_cgroup_lines_parse) {
    static char buf[4096];
    EXPECT_TRUE(get_file("/proc/self/cgroup", buf, sizeof buf) > 0);
    int lines = 0, v2 = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c1 || !c2 || c2[1] != '/')
            FAIL("bad /proc/self/cgroup line: %s", line);
        v2 |= strncmp(line, "0::", 3) == 0;
        lines++;
    }
    EXPECT_TRUE(lines > 0);
    (void)v2;
}

CASE(cgroup, child_has_the_parents_cgroup) {
    static char a[4096], b[4096];
    EXPECT_TRUE(get_file("/proc/self/cgroup", a, sizeof a) > 0);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/cgroup", getppid());
    EXPECT_TRUE(get_file(path, b, sizeof b) > 0);
    EXPECT_STREQ(a, b);
}

CASE(cgroup, proc_cgroups_lists_controllers) {
    static char buf[4096];
    EXPECT_TRUE(get_file("/proc/cgroups", buf, sizeof buf) > 0);
    EXPECT_TRUE(strncmp(buf, "#subsys_name", 12) == 0);
}
