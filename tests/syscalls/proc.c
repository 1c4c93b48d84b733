/* /proc and /dev */
#include "harness.h"
#include <dirent.h>
#include <pthread.h>
#include <sys/mman.h>
#include <linux/capability.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

CASE(proc, self_status_pid) {
    char buf[8192], want[64];
    EXPECT_TRUE(get_file("/proc/self/status", buf, sizeof buf) > 0);
    snprintf(want, sizeof want, "\nPid:\t%d\n", getpid());
    if (!strstr(buf, want))
        FAIL("no \"%s\" in /proc/self/status", "Pid:\\t<getpid()>");
    snprintf(want, sizeof want, "\nPPid:\t%d\n", getppid());
    EXPECT_TRUE(strstr(buf, want) != NULL);
    EXPECT_TRUE(strncmp(buf, "Name:\t", 6) == 0);
}

CASE(proc, self_is_pid_link) {
    char buf[64] = {0}, want[32];
    EXPECT_OK(readlink("/proc/self", buf, sizeof buf - 1));
    snprintf(want, sizeof want, "%d", getpid());
    EXPECT_STREQ(buf, want);
}

CASE(proc, self_stat_pid_field) {
    char buf[1024];
    EXPECT_TRUE(get_file("/proc/self/stat", buf, sizeof buf) > 0);
    EXPECT_EQ(atoi(buf), getpid());
    EXPECT_TRUE(strstr(buf, ") R ") != NULL);
}

CASE(proc, self_fd_lists_open_fds) {
    int extra = EXPECT_OK(open("/dev/null", O_RDONLY));
    DIR *d = opendir("/proc/self/fd");
    EXPECT_TRUE(d != NULL);
    int seen[4] = {0};
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        int n = atoi(e->d_name);
        if (n <= 2)
            seen[n] = 1;
        if (n == extra)
            seen[3] = 1;
    }
    closedir(d);
    EXPECT_TRUE(seen[0] && seen[1] && seen[2]);
    EXPECT_TRUE(seen[3]);
}

CASE(proc, self_fd_readlink_path) {
    put_file("f", "x");
    int fd = EXPECT_OK(open("f", O_RDONLY));
    char p[64], buf[PATH_MAX] = {0}, want[PATH_MAX + 8];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    EXPECT_OK(readlink(p, buf, sizeof buf - 1));
    snprintf(want, sizeof want, "%s/f", harness_scratch);
    EXPECT_STREQ(buf, want);
}

CASE(proc, self_fd_reopen) {
    put_file("f", "reopened");
    int fd = EXPECT_OK(open("f", O_RDONLY));
    char p[64], buf[16];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    EXPECT_EQ(get_file(p, buf, sizeof buf), 8);
    EXPECT_STREQ(buf, "reopened");
}

CASE(proc, self_exe_readlink) {
    char buf[PATH_MAX] = {0};
    EXPECT_OK(readlink("/proc/self/exe", buf, sizeof buf - 1));
    EXPECT_TRUE(buf[0] == '/');
    struct stat a, b;
    EXPECT_OK(stat(buf, &a));
    EXPECT_OK(stat(harness_self, &b));
    EXPECT_EQ(a.st_ino, b.st_ino);
}

CASE(proc, self_cwd_readlink) {
    char buf[PATH_MAX] = {0};
    EXPECT_OK(readlink("/proc/self/cwd", buf, sizeof buf - 1));
    EXPECT_STREQ(buf, harness_scratch);
}

CASE(proc, self_cmdline) {
    char buf[PATH_MAX];
    EXPECT_TRUE(get_file("/proc/self/cmdline", buf, sizeof buf) > 0);
    EXPECT_TRUE(strstr(buf, "conformance") != NULL);
}

CASE(proc, self_maps_has_stack) {
    static char buf[65536];
    EXPECT_TRUE(get_file("/proc/self/maps", buf, sizeof buf) > 0);
    EXPECT_TRUE(strstr(buf, "[stack]") != NULL);
}

CASE(proc, meminfo_memtotal) {
    char buf[8192];
    EXPECT_TRUE(get_file("/proc/meminfo", buf, sizeof buf) > 0);
    long kb = 0;
    EXPECT_EQ(sscanf(buf, "MemTotal: %ld kB", &kb), 1);
    EXPECT_TRUE(kb > 0);
}

CASE(proc, cpuinfo_processor) {
    static char buf[65536];
    EXPECT_TRUE(get_file("/proc/cpuinfo", buf, sizeof buf) > 0);
    EXPECT_TRUE(strncmp(buf, "processor\t: 0", 13) == 0);
}

CASE(proc, uptime_parses) {
    char buf[256];
    EXPECT_TRUE(get_file("/proc/uptime", buf, sizeof buf) > 0);
    double up = -1, idle = -1;
    EXPECT_EQ(sscanf(buf, "%lf %lf", &up, &idle), 2);
    EXPECT_TRUE(up > 0 && idle >= 0);
}

CASE(proc, loadavg_parses) {
    char buf[256];
    EXPECT_TRUE(get_file("/proc/loadavg", buf, sizeof buf) > 0);
    double a, b, c;
    EXPECT_EQ(sscanf(buf, "%lf %lf %lf", &a, &b, &c), 3);
}

CASE(proc, missing_pid_enoent) {
    struct stat st;
    EXPECT_ERRNO(stat("/proc/999999999", &st), ENOENT);
}

CASE(proc, thread_self) {
    char buf[64] = {0}, want[64];
    EXPECT_OK(readlink("/proc/thread-self", buf, sizeof buf - 1));
    snprintf(want, sizeof want, "%d/task/%d", getpid(), (int)gettid());
    EXPECT_STREQ(buf, want);
}

CASE(dev, null_read_eof_write_ok) {
    int fd = EXPECT_OK(open("/dev/null", O_RDWR));
    char c;
    EXPECT_EQ(read(fd, &c, 1), 0);
    EXPECT_EQ(write(fd, "abc", 3), 3);
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(st.st_rdev, makedev(1, 3));
}

CASE(dev, zero_reads_zeros) {
    int fd = EXPECT_OK(open("/dev/zero", O_RDONLY));
    char buf[256];
    memset(buf, 1, sizeof buf);
    EXPECT_EQ(read(fd, buf, sizeof buf), 256);
    for (int i = 0; i < 256; i++)
        EXPECT_EQ(buf[i], 0);
}

CASE(dev, urandom_reads) {
    int fd = EXPECT_OK(open("/dev/urandom", O_RDONLY));
    unsigned char a[32] = {0}, b[32] = {0};
    EXPECT_EQ(read(fd, a, sizeof a), 32);
    EXPECT_EQ(read(fd, b, sizeof b), 32);
    EXPECT_TRUE(memcmp(a, b, sizeof a) != 0);
}

CASE(dev, full_write_enospc) {
    int fd = EXPECT_OK(open("/dev/full", O_WRONLY));
    EXPECT_ERRNO(write(fd, "x", 1), ENOSPC);
}

CASE(dev, fd_symlink) {
    char buf[64] = {0};
    EXPECT_OK(readlink("/dev/fd", buf, sizeof buf - 1));
    EXPECT_STREQ(buf, "/proc/self/fd");
}

CASE(dev, getrandom) {
    unsigned char buf[16];
    EXPECT_EQ(syscall(SYS_getrandom, buf, sizeof buf, 0), 16);
}

CASE(proc, status_capeff_matches_capget) {
    char buf[8192];
    EXPECT_TRUE(get_file("/proc/self/status", buf, sizeof buf) > 0);
    char *p = strstr(buf, "\nCapEff:\t");
    EXPECT_TRUE(p != NULL);
    unsigned long long eff = strtoull(p + 9, NULL, 16), want = 0;
    for (int c = 0; c < 64; c++)
        if (c <= 40 && has_cap(c))
            want |= 1ULL << c;
    EXPECT_EQ(eff, want);
}

CASE(proc, status_uid_line) {
    char buf[8192], want[128];
    EXPECT_TRUE(get_file("/proc/self/status", buf, sizeof buf) > 0);
    snprintf(want, sizeof want, "\nUid:\t%d\t%d\t", getuid(), geteuid());
    EXPECT_TRUE(strstr(buf, want) != NULL);
}

CASE(proc, self_fd_pipe_link) {
    int p[2];
    EXPECT_OK(pipe(p));
    struct stat st;
    EXPECT_OK(fstat(p[0], &st));
    char path[64], buf[64] = {0}, want[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", p[0]);
    EXPECT_OK(readlink(path, buf, sizeof buf - 1));
    snprintf(want, sizeof want, "pipe:[%lu]", (unsigned long)st.st_ino);
    EXPECT_STREQ(buf, want);
}

/* /dev/stdout and /proc/self/fd/N of a pipe (a CI job's stdout) open the
 * pipe itself, whichever name is used. */
CASE(proc, self_fd_pipe_reopen_writes_the_pipe) {
    int p[2];
    EXPECT_OK(pipe(p));
    EXPECT_OK(dup2(p[1], 1));
    char path[64], buf[16] = {0};
    snprintf(path, sizeof path, "/proc/self/fd/%d", p[1]);
    int w = EXPECT_OK(open(path, O_WRONLY | O_TRUNC));
    EXPECT_EQ(write(w, "ab", 2), 2);
    int out = EXPECT_OK(open("/dev/stdout", O_WRONLY | O_CREAT | O_TRUNC, 0644));
    EXPECT_EQ(write(out, "cd", 2), 2);
    EXPECT_EQ(read(p[0], buf, sizeof buf), 4);
    EXPECT_STREQ(buf, "abcd");
    snprintf(path, sizeof path, "/proc/self/fd/%d", p[0]);
    int again = EXPECT_OK(open(path, O_RDONLY));
    EXPECT_EQ(write(p[1], "e", 1), 1);
    memset(buf, 0, sizeof buf);
    EXPECT_EQ(read(again, buf, sizeof buf), 1);
    EXPECT_STREQ(buf, "e");
}

CASE(proc, readdir_lists_own_pid) {
    DIR *d = opendir("/proc");
    EXPECT_TRUE(d != NULL);
    char want[32];
    snprintf(want, sizeof want, "%d", getpid());
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        found |= !strcmp(e->d_name, want);
    closedir(d);
    EXPECT_TRUE(found);
}

/* procfs generates a file again when it is read from the start: procps
 * keeps /proc/stat and /proc/meminfo open and rewinds them at each refresh.
 * /proc/uptime moves every 10 ms. */
COVERS("lseek readlink")
CASE(proc, rewind_reads_fresh_contents) {
    int fd = EXPECT_OK(open("/proc/uptime", O_RDONLY));
    char first[128] = {0}, again[128] = {0}, third[128] = {0};
    EXPECT_TRUE(read(fd, first, sizeof first - 1) > 0);
    usleep(50 * 1000);
    EXPECT_EQ(lseek(fd, 0, SEEK_SET), 0);
    EXPECT_TRUE(read(fd, again, sizeof again - 1) > 0);
    EXPECT_TRUE(strcmp(first, again) != 0);
    usleep(50 * 1000);
    EXPECT_EQ(lseek(fd, 0, SEEK_SET), 0);
    EXPECT_TRUE(pread(fd, third, sizeof third - 1, 0) > 0);
    EXPECT_TRUE(strcmp(again, third) != 0);
    /* Each time the whole file, from its first byte. */
    double up1 = -1, up2 = -1, up3 = -1, idle;
    EXPECT_EQ(sscanf(first, "%lf %lf", &up1, &idle), 2);
    EXPECT_EQ(sscanf(again, "%lf %lf", &up2, &idle), 2);
    EXPECT_EQ(sscanf(third, "%lf %lf", &up3, &idle), 2);
    EXPECT_TRUE(up1 < up2 && up2 < up3);
    /* A rewind that is not to the start changes nothing. */
    EXPECT_EQ(lseek(fd, 1, SEEK_SET), 1);
    char link[64] = {0}, path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    EXPECT_OK(readlink(path, link, sizeof link - 1));
    EXPECT_STREQ(link, "/proc/uptime");
    close(fd);
}

/* smaps: each mapping of maps with its sizes; smaps_rollup sums them. */
COVERS("open read")
CASE(proc, self_smaps_and_rollup) {
    static char maps[65536], smaps[262144], rollup[8192];
    EXPECT_TRUE(get_file("/proc/self/maps", maps, sizeof maps) > 0);
    EXPECT_TRUE(get_file("/proc/self/smaps", smaps, sizeof smaps) > 0);
    /* The same first mapping heads both. */
    char *nl = strchr(maps, '\n');
    EXPECT_TRUE(nl != NULL);
    if (!nl)
        return;
    EXPECT_TRUE(strncmp(maps, smaps, (size_t)(nl - maps + 1)) == 0);
    EXPECT_TRUE(strstr(smaps, "\nRss:") != NULL);
    EXPECT_TRUE(strstr(smaps, "[stack]") != NULL);
    EXPECT_TRUE(get_file("/proc/self/smaps_rollup", rollup, sizeof rollup) > 0);
    EXPECT_TRUE(strstr(rollup, "[rollup]") != NULL);
    EXPECT_TRUE(strstr(rollup, "\nRss:") != NULL);
}

/* The sentry forgets the synthetic directory fds that were closed once it
 * has seen many: the ones still open keep their path. */
COVERS("open close getdents64")
CASE(proc, many_dir_opens_keep_open_ones_listing) {
    int keep = EXPECT_OK(open("/proc/self/task", O_RDONLY | O_DIRECTORY));
    /* Each process has its own fds: 1100 of them, each with one open. */
    for (int i = 0; i < 1100; i++) {
        pid_t child = fork();
        if (child == 0) {
            int fd = open("/proc/self", O_RDONLY | O_DIRECTORY);
            _exit(fd < 0);
        }
        int st;
        if (child < 0 || waitpid(child, &st, 0) != child || st != 0)
            break;
    }
    DIR *d = fdopendir(keep);
    EXPECT_TRUE(d != NULL);
    if (!d)
        return;
    char want[32];
    snprintf(want, sizeof want, "%d", (int)getpid());
    int found = 0, others = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, want))
            found = 1;
        else if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            others++;
    }
    closedir(d);
    /* The task list (this single-threaded process), not /proc's. */
    EXPECT_TRUE(found);
    EXPECT_EQ(others, 0);
}

/* A trailing slash or a final "." follows the last symlink even for lstat
 * and O_NOFOLLOW, and must name a directory (find and fts rely on it). */
COVERS("lstat openat")
CASE(proc, trailing_slash_follows_self) {
    struct stat st;
    EXPECT_OK(lstat("/proc/self", &st));
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    EXPECT_OK(lstat("/proc/self/", &st));
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_OK(lstat("/proc/self/.", &st));
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_ERRNO(lstat("/proc/self/status/", &st), ENOTDIR);
    int fd = EXPECT_OK(open("/proc/self/", O_RDONLY | O_NOFOLLOW | O_DIRECTORY));
    close(fd);
    /* Without the slash the link itself: O_DIRECTORY is checked first. */
    EXPECT_ERRNO(open("/proc/self", O_RDONLY | O_NOFOLLOW | O_DIRECTORY), ENOTDIR);
    EXPECT_ERRNO(open("/proc/self", O_RDONLY | O_NOFOLLOW), ELOOP);
}

/* A dup of a /proc directory fd whose original is closed (fts does this),
 * and a copy inherited by a child, still name that directory. */
COVERS("dup fcntl fork newfstatat")
CASE(proc, dup_and_inherited_dir_fds_keep_their_directory) {
    int orig = EXPECT_OK(open("/proc/self/task", O_RDONLY | O_DIRECTORY));
    int copy = EXPECT_OK(fcntl(orig, F_DUPFD_CLOEXEC, 10));
    close(orig);
    char tid[32];
    snprintf(tid, sizeof tid, "%d", (int)getpid());
    struct stat st;
    EXPECT_OK(fstatat(copy, tid, &st, 0));
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    int task = EXPECT_OK(openat(copy, tid, O_RDONLY | O_DIRECTORY));
    int task_copy = EXPECT_OK(dup(task));
    close(task);
    EXPECT_OK(fstatat(task_copy, "fd", &st, 0));
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    pid_t child = fork();
    if (child == 0) {
        /* The parent's task directory, through the inherited fd. */
        struct stat cst;
        _exit(fstatat(task_copy, "status", &cst, 0) == 0 ? 0 : 1);
    }
    int status;
    EXPECT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(task_copy);
    close(copy);
}

/* /proc/self/fd/N is a link whose mode says how the fd was opened; a
 * /proc directory fd's link names that directory. */
COVERS("lstat readlink")
CASE(proc, fd_links_show_access_mode_and_directory) {
    int w = EXPECT_OK(open("/dev/null", O_WRONLY));
    int rw = EXPECT_OK(open("/dev/null", O_RDWR));
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/proc/self/fd/%d", w);
    EXPECT_OK(lstat(path, &st));
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0300);
    EXPECT_EQ(st.st_size, 64);
    EXPECT_OK(stat(path, &st));
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    snprintf(path, sizeof path, "/proc/self/fd/%d", rw);
    EXPECT_OK(lstat(path, &st));
    EXPECT_EQ(st.st_mode & 0777, 0700);
    int dir = EXPECT_OK(open("/proc/self/task", O_RDONLY | O_DIRECTORY));
    char link[64] = {0}, want[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", dir);
    EXPECT_OK(readlink(path, link, sizeof link - 1));
    snprintf(want, sizeof want, "/proc/%d/task", (int)getpid());
    EXPECT_STREQ(link, want);
    EXPECT_OK(stat("/proc/self/fdinfo", &st));
    EXPECT_EQ(st.st_mode & 0777, 0555);
    close(dir);
    close(rw);
    close(w);
}

/* /proc/net is the caller's network namespace (netstat, ifconfig and
 * runtimes probing IPv6 read it). */
COVERS("readlink open read")
CASE(proc, net_is_the_callers_namespace) {
    char link[64] = {0};
    EXPECT_OK(readlink("/proc/net", link, sizeof link - 1));
    EXPECT_STREQ(link, "self/net");
    static char buf[16384];
    EXPECT_TRUE(get_file("/proc/self/net/dev", buf, sizeof buf) > 0);
    EXPECT_TRUE(strstr(buf, " lo:") != NULL);
    EXPECT_TRUE(get_file("/proc/net/tcp", buf, sizeof buf) > 0);
    EXPECT_TRUE(strstr(buf, "local_address") != NULL);
    struct stat st;
    EXPECT_OK(stat("/proc/self/net", &st));
    EXPECT_TRUE(S_ISDIR(st.st_mode));
}

/* Per-task files with no pid or path in them read as the kernel has them. */
COVERS("open read")
CASE(proc, plain_task_files_read) {
    static char buf[4096];
    EXPECT_TRUE(get_file("/proc/self/auxv", buf, sizeof buf) > 0);
    EXPECT_TRUE(get_file("/proc/self/uid_map", buf, sizeof buf) > 0);
    unsigned a, b, c;
    EXPECT_EQ(sscanf(buf, "%u %u %u", &a, &b, &c), 3);
    EXPECT_TRUE(get_file("/proc/self/io", buf, sizeof buf) > 0);
    EXPECT_TRUE(strstr(buf, "rchar:") != NULL);
    EXPECT_TRUE(get_file("/proc/self/oom_score", buf, sizeof buf) > 0);
    EXPECT_TRUE(get_file("/proc/self/personality", buf, sizeof buf) > 0);
    EXPECT_STREQ(buf, "00000000\n");
    EXPECT_TRUE(get_file("/proc/self/setgroups", buf, sizeof buf) > 0);
    EXPECT_STREQ(buf, "allow\n");
}

/* A signal that arrives while the sentry works on a call: Linux opens
 * /proc/self/maps without sleeping, so a handler without SA_RESTART never
 * sees EINTR from it. The sentry generates the file when it is opened
 * (~26 ms here for 20,000 mappings), and the signal comes 3 ms into the
 * call, long after the sentry received it: the caller's wait must then
 * be one only a fatal signal ends (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV).
 * Natively the open is over before the signal. */
static volatile sig_atomic_t maps_signals;
static void count_maps_signal(int sig) {
    (void)sig;
    maps_signals++;
}
static volatile int maps_opening;
static void *signal_the_opener(void *arg) {
    pid_t tid = *(pid_t *)arg;
    while (!__atomic_load_n(&maps_opening, __ATOMIC_SEQ_CST))
        ;
    struct timespec three_ms = {0, 3 * 1000 * 1000};
    nanosleep(&three_ms, NULL);
    syscall(SYS_tgkill, getpid(), tid, SIGUSR1);
    return NULL;
}

COVERS("rt_sigaction tgkill mprotect")
CASE(open, proc_maps_not_interrupted_by_a_signal_without_sa_restart) {
    long page = sysconf(_SC_PAGESIZE);
    enum { MAPPINGS = 20000 };
    char *base = mmap(NULL, page * MAPPINGS, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_TRUE(base != MAP_FAILED);
    for (int i = 0; i < MAPPINGS; i += 2)
        EXPECT_OK(mprotect(base + i * page, page, PROT_READ));
    struct sigaction sa = {0};
    sa.sa_handler = count_maps_signal; /* no SA_RESTART */
    EXPECT_OK(sigaction(SIGUSR1, &sa, NULL));
    pid_t me = gettid();
    pthread_t t;
    EXPECT_EQ(pthread_create(&t, NULL, signal_the_opener, &me), 0);
    __atomic_store_n(&maps_opening, 1, __ATOMIC_SEQ_CST);
    int fd = EXPECT_OK(open("/proc/self/maps", O_RDONLY));
    EXPECT_EQ(pthread_join(t, NULL), 0);
    EXPECT_OK(close(fd));
    /* Delivered all the same, once the call was answered. */
    while (!maps_signals)
        ;
    signal(SIGUSR1, SIG_DFL);
    EXPECT_OK(munmap(base, page * MAPPINGS));
}
