/* chdir(2)/fchdir/getcwd(3), statfs(2), uname(2) */
#include "harness.h"
#include <linux/magic.h>
#include <sys/statfs.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <sys/utsname.h>
#include <sys/wait.h>

CASE(cwd, chdir_getcwd) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_OK(chdir("d"));
    char buf[PATH_MAX], want[PATH_MAX + 8];
    EXPECT_TRUE(getcwd(buf, sizeof buf) != NULL);
    snprintf(want, sizeof want, "%s/d", harness_scratch);
    EXPECT_STREQ(buf, want);
}

CASE(cwd, chdir_through_symlink_resolves) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_OK(symlink("d", "l"));
    EXPECT_OK(chdir("l"));
    char buf[PATH_MAX], want[PATH_MAX + 8];
    EXPECT_TRUE(getcwd(buf, sizeof buf) != NULL);
    snprintf(want, sizeof want, "%s/d", harness_scratch);
    EXPECT_STREQ(buf, want);
}

CASE(cwd, fchdir) {
    EXPECT_OK(mkdir("d", 0755));
    int fd = EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    EXPECT_OK(chdir("/"));
    EXPECT_OK(fchdir(fd));
    put_file("here", "x");
    EXPECT_OK(access("/proc/self/cwd/here", F_OK));
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/d/here", harness_scratch);
    EXPECT_OK(access(p, F_OK));
}

CASE(cwd, chdir_errors) {
    put_file("f", "x");
    EXPECT_ERRNO(chdir("f"), ENOTDIR);
    EXPECT_ERRNO(chdir("missing"), ENOENT);
    int fd = EXPECT_OK(open("f", O_RDONLY));
    EXPECT_ERRNO(fchdir(fd), ENOTDIR);
}

CASE(cwd, getcwd_erange) {
    char buf[2];
    EXPECT_TRUE(getcwd(buf, sizeof buf) == NULL);
    EXPECT_EQ(errno, ERANGE);
}

CASE(cwd, dotdot_from_scratch_is_tmp) {
    EXPECT_OK(chdir(".."));
    char buf[PATH_MAX];
    EXPECT_TRUE(getcwd(buf, sizeof buf) != NULL);
    EXPECT_STREQ(buf, "/tmp");
}

CASE(cwd, relative_paths_follow_chdir) {
    EXPECT_OK(mkdir("d", 0755));
    put_file("d/f", "x");
    EXPECT_OK(chdir("d"));
    EXPECT_OK(access("f", F_OK));
    EXPECT_OK(access("../d/f", F_OK));
}

/* Synthetic directories (/proc/<pid>, /proc/sys, /sys) as the cwd: the
 * kernel resolves them to their canonical path (/proc/self -> /proc/<pid>). */

static void expect_cwd_pid(const char *suffix) {
    char buf[PATH_MAX], want[128];
    EXPECT_TRUE(getcwd(buf, sizeof buf) != NULL);
    snprintf(want, sizeof want, "/proc/%d%s", getpid(), suffix);
    EXPECT_STREQ(buf, want);
}

/* The Name line of a status file. */
static void status_name(const char *path, char *out, size_t size) {
    char text[4096];
    EXPECT_TRUE(get_file(path, text, sizeof text) > 0);
    EXPECT_TRUE(strncmp(text, "Name:", 5) == 0);
    size_t n = strcspn(text, "\n");
    snprintf(out, size, "%.*s", (int)n, text);
}

COVERS("getcwd")
CASE(cwd, chdir_proc_self) {
    EXPECT_OK(chdir("/proc/self"));
    expect_cwd_pid("");
    char mine[256], here[256];
    status_name("/proc/self/status", mine, sizeof mine);
    status_name("status", here, sizeof here);
    EXPECT_STREQ(here, mine);
    EXPECT_OK(chdir("task"));
    expect_cwd_pid("/task");
    EXPECT_OK(chdir(".."));
    expect_cwd_pid("");
    EXPECT_OK(access("fd", X_OK));
    /* "." lists the directory (getdents on an fd opened relative to it). */
    DIR *d = opendir(".");
    EXPECT_TRUE(d != NULL);
    int seen = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        seen |= strcmp(e->d_name, "status") == 0;
    closedir(d);
    EXPECT_TRUE(seen);
    EXPECT_OK(chdir("/"));
    char buf[PATH_MAX];
    EXPECT_TRUE(getcwd(buf, sizeof buf) != NULL);
    EXPECT_STREQ(buf, "/");
    EXPECT_OK(access("proc", F_OK));
}

COVERS("getcwd")
CASE(cwd, chdir_thread_self) {
    EXPECT_OK(chdir("/proc/thread-self"));
    char suffix[64];
    snprintf(suffix, sizeof suffix, "/task/%ld", (long)syscall(SYS_gettid));
    expect_cwd_pid(suffix);
    char mine[256], here[256];
    status_name("/proc/self/status", mine, sizeof mine);
    status_name("status", here, sizeof here);
    EXPECT_STREQ(here, mine);
}

COVERS("getcwd")
CASE(cwd, chdir_proc_sys) {
    EXPECT_OK(chdir("/proc/sys/kernel"));
    char buf[PATH_MAX], a[256], b[256];
    EXPECT_TRUE(getcwd(buf, sizeof buf) != NULL);
    EXPECT_STREQ(buf, "/proc/sys/kernel");
    EXPECT_TRUE(get_file("hostname", a, sizeof a) > 0);
    EXPECT_TRUE(get_file("/proc/sys/kernel/hostname", b, sizeof b) > 0);
    EXPECT_STREQ(a, b);
    EXPECT_OK(chdir("/sys/kernel/mm"));
    EXPECT_TRUE(getcwd(buf, sizeof buf) != NULL);
    EXPECT_STREQ(buf, "/sys/kernel/mm");
    EXPECT_OK(access("transparent_hugepage/enabled", R_OK));
}

COVERS("getcwd")
CASE(cwd, dotdot_out_of_proc_pid) {
    EXPECT_OK(chdir("/proc/self/task"));
    EXPECT_OK(chdir("../.."));
    char buf[PATH_MAX];
    EXPECT_TRUE(getcwd(buf, sizeof buf) != NULL);
    EXPECT_STREQ(buf, "/proc");
    EXPECT_OK(chdir("self/../.."));
    EXPECT_TRUE(getcwd(buf, sizeof buf) != NULL);
    EXPECT_STREQ(buf, "/");
    EXPECT_OK(access("proc/self/status", R_OK));
}

COVERS("getcwd")
CASE(cwd, fchdir_proc_pid_dir) {
    int fd = EXPECT_OK(open("/proc/self/fd/..", O_RDONLY | O_DIRECTORY));
    EXPECT_OK(fchdir(fd));
    expect_cwd_pid("");
    char mine[256], here[256];
    status_name("/proc/self/status", mine, sizeof mine);
    status_name("status", here, sizeof here);
    EXPECT_STREQ(here, mine);
    /* Back to a real directory by fd. */
    int scratch = EXPECT_OK(open(harness_scratch, O_RDONLY | O_DIRECTORY));
    EXPECT_OK(fchdir(scratch));
    char buf[PATH_MAX];
    EXPECT_TRUE(getcwd(buf, sizeof buf) != NULL);
    EXPECT_STREQ(buf, harness_scratch);
    put_file("here", "x");
    char p[PATH_MAX + 8];
    snprintf(p, sizeof p, "%s/here", harness_scratch);
    EXPECT_OK(access(p, F_OK));
}

COVERS("getcwd")
CASE(cwd, proc_cwd_link_names_proc_dir) {
    EXPECT_OK(chdir("/proc/self/fd"));
    char link[PATH_MAX], want[128];
    ssize_t n = EXPECT_OK(readlink("/proc/self/cwd", link, sizeof link - 1));
    link[n] = 0;
    snprintf(want, sizeof want, "/proc/%d/fd", getpid());
    EXPECT_STREQ(link, want);
    /* Following it lands there too. */
    char mine[256], there[256];
    status_name("/proc/self/status", mine, sizeof mine);
    status_name("/proc/self/cwd/../status", there, sizeof there);
    EXPECT_STREQ(there, mine);
}

COVERS("fork getcwd")
CASE(cwd, fork_copies_proc_cwd) {
    EXPECT_OK(chdir("/proc/self"));
    pid_t parent = getpid();
    pid_t p = EXPECT_OK(fork());
    if (p == 0) {
        char buf[PATH_MAX], want[64];
        snprintf(want, sizeof want, "/proc/%d", parent);
        if (getcwd(buf, sizeof buf) == NULL || strcmp(buf, want) != 0)
            _exit(1);
        /* Its own chdir leaves the parent's alone. */
        if (chdir("/") != 0)
            _exit(2);
        _exit(0);
    }
    int st;
    EXPECT_EQ(waitpid(p, &st, 0), p);
    EXPECT_TRUE(WIFEXITED(st));
    EXPECT_EQ(WEXITSTATUS(st), 0);
    expect_cwd_pid("");
}

static void *chdir_proc_self(void *arg) {
    (void)arg;
    return (void *)(long)chdir("/proc/self/task");
}

COVERS("getcwd")
CASE(cwd, thread_chdir_is_the_process_cwd) {
    pthread_t t;
    void *r;
    EXPECT_EQ(pthread_create(&t, NULL, chdir_proc_self, NULL), 0);
    EXPECT_EQ(pthread_join(t, &r), 0);
    EXPECT_EQ((long)r, 0);
    expect_cwd_pid("/task");
    EXPECT_OK(access("../status", R_OK));
}

CASE(cwd, chdir_proc_file_enotdir) {
    EXPECT_ERRNO(chdir("/proc/self/status"), ENOTDIR);
    EXPECT_ERRNO(chdir("/proc/self/missing"), ENOENT);
    EXPECT_ERRNO(chdir("/proc/sys/kernel/hostname/x"), ENOTDIR);
    int fd = EXPECT_OK(open("/proc/self/status", O_RDONLY));
    EXPECT_ERRNO(fchdir(fd), ENOTDIR);
    /* The cwd did not move. */
    char buf[PATH_MAX];
    EXPECT_TRUE(getcwd(buf, sizeof buf) != NULL);
    EXPECT_STREQ(buf, harness_scratch);
}

COVERS("getcwd")
CASE(cwd, getcwd_erange_in_proc) {
    EXPECT_OK(chdir("/proc/self"));
    char small[4];
    EXPECT_TRUE(getcwd(small, sizeof small) == NULL);
    EXPECT_EQ(errno, ERANGE);
    /* The raw call counts the NUL. */
    char buf[PATH_MAX], want[64];
    int n = snprintf(want, sizeof want, "/proc/%d", getpid());
    EXPECT_EQ(syscall(SYS_getcwd, buf, sizeof buf), n + 1);
    EXPECT_STREQ(buf, want);
    EXPECT_ERRNO(syscall(SYS_getcwd, buf, (size_t)n), ERANGE);
    EXPECT_EQ(syscall(SYS_getcwd, buf, (size_t)n + 1), n + 1);
}

COVERS("getcwd kill")
CASE(cwd, proc_pid_cwd_gone_with_its_process) {
    pid_t p = EXPECT_OK(fork());
    if (p == 0) {
        pause();
        _exit(0);
    }
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d", p);
    EXPECT_OK(chdir(dir));
    EXPECT_OK(access("status", R_OK));
    EXPECT_OK(kill(p, SIGKILL));
    int st;
    EXPECT_EQ(waitpid(p, &st, 0), p);
    char buf[PATH_MAX];
    EXPECT_TRUE(getcwd(buf, sizeof buf) == NULL);
    EXPECT_EQ(errno, ENOENT);
    /* Linux: lookups from the dead directory fail with ESRCH. */
    EXPECT_ERRNO(access("status", F_OK), ESRCH);
    struct stat sb;
    EXPECT_ERRNO(stat(".", &sb), ESRCH);
    EXPECT_ERRNO(chdir(".."), ESRCH);
    char link[PATH_MAX], want[96];
    ssize_t n = EXPECT_OK(readlink("/proc/self/cwd", link, sizeof link - 1));
    link[n] = 0;
    snprintf(want, sizeof want, "%s (deleted)", dir);
    EXPECT_STREQ(link, want);
    EXPECT_OK(chdir("/"));
    EXPECT_TRUE(getcwd(buf, sizeof buf) != NULL);
    EXPECT_STREQ(buf, "/");
}

/* The kernel finishes execve itself, walking a relative path from its own
 * cwd, which cannot be a synthetic directory under runrs (KNOWN_GAPS). */
COVERS("execve")
CASE(cwd, relative_execve_from_proc_dir) {
    pid_t p = EXPECT_OK(fork());
    if (p == 0) {
        if (chdir("/proc/self") != 0)
            _exit(98);
        char *argv[] = {"exe", "--exit", "23", NULL};
        execv("exe", argv);
        _exit(99);
    }
    int st;
    EXPECT_EQ(waitpid(p, &st, 0), p);
    EXPECT_TRUE(WIFEXITED(st));
    EXPECT_EQ(WEXITSTATUS(st), 23);
}

COVERS("getcwd")
CASE(cwd, chdir_through_proc_links) {
    char buf[PATH_MAX];
    EXPECT_OK(chdir("/proc/self/cwd"));
    EXPECT_TRUE(getcwd(buf, sizeof buf) != NULL);
    EXPECT_STREQ(buf, harness_scratch);
    put_file("f", "x");
    EXPECT_OK(access("f", F_OK));
    EXPECT_OK(chdir("/proc/self/cwd/.."));
    EXPECT_TRUE(getcwd(buf, sizeof buf) != NULL);
    EXPECT_STREQ(buf, "/tmp");
    EXPECT_OK(chdir("/proc/self/root"));
    EXPECT_TRUE(getcwd(buf, sizeof buf) != NULL);
    EXPECT_STREQ(buf, "/");
    EXPECT_OK(chdir("/proc/thread-self/root/tmp"));
    EXPECT_TRUE(getcwd(buf, sizeof buf) != NULL);
    EXPECT_STREQ(buf, "/tmp");
    EXPECT_ERRNO(chdir("/proc/self/root/missing"), ENOENT);
    EXPECT_ERRNO(chdir("/proc/self/exe"), ENOTDIR);
}

COVERS("execve getcwd")
CASE(cwd, exec_keeps_proc_cwd) {
    pid_t p = EXPECT_OK(fork());
    if (p == 0) {
        if (chdir("/proc/self") != 0)
            _exit(98);
        /* The shell is this process: its cwd is still /proc/<its pid>. */
        execl("/bin/sh", "sh", "-c", "[ \"$(pwd -P)\" = \"/proc/$$\" ] && [ -r status ]", (char *)NULL);
        _exit(99);
    }
    int st;
    EXPECT_EQ(waitpid(p, &st, 0), p);
    EXPECT_TRUE(WIFEXITED(st));
    EXPECT_EQ(WEXITSTATUS(st), 0);
}

CASE(statfs, root_and_fd) {
    struct statfs a, b;
    EXPECT_OK(statfs("/", &a));
    EXPECT_TRUE(a.f_bsize > 0);
    int fd = EXPECT_OK(open("/", O_RDONLY | O_DIRECTORY));
    EXPECT_OK(fstatfs(fd, &b));
    EXPECT_EQ(a.f_type, b.f_type);
}

CASE(statfs, proc_magic) {
    struct statfs s;
    EXPECT_OK(statfs("/proc", &s));
    EXPECT_EQ(s.f_type, PROC_SUPER_MAGIC);
}

CASE(statfs, dev_shm_tmpfs) {
    struct statfs s;
    EXPECT_OK(statfs("/dev/shm", &s));
    EXPECT_EQ(s.f_type, TMPFS_MAGIC);
}

CASE(statfs, enoent) {
    struct statfs s;
    EXPECT_ERRNO(statfs("missing", &s), ENOENT);
}

CASE(uname, fields) {
    struct utsname u;
    EXPECT_OK(uname(&u));
    EXPECT_STREQ(u.sysname, "Linux");
    EXPECT_STREQ(u.machine, "x86_64");
    EXPECT_TRUE(u.release[0] >= '2' && u.release[0] <= '9');
}

CASE(uname, nodename_matches_gethostname) {
    struct utsname u;
    char h[256];
    EXPECT_OK(uname(&u));
    EXPECT_OK(gethostname(h, sizeof h));
    EXPECT_STREQ(u.nodename, h);
}

CASE(uname, nodename_matches_proc) {
    struct utsname u;
    char h[256];
    EXPECT_OK(uname(&u));
    EXPECT_TRUE(get_file("/proc/sys/kernel/hostname", h, sizeof h) > 0);
    h[strcspn(h, "\n")] = 0;
    EXPECT_STREQ(u.nodename, h);
}

CASE(uname, release_matches_proc) {
    struct utsname u;
    char r[256];
    EXPECT_OK(uname(&u));
    EXPECT_TRUE(get_file("/proc/sys/kernel/osrelease", r, sizeof r) > 0);
    r[strcspn(r, "\n")] = 0;
    EXPECT_STREQ(u.release, r);
}

/* Relative paths after the cwd's path changed under the process: the
 * kernel's cwd is the directory, whatever its name now. */

static void *chdir_to_b(void *arg) {
    (void)arg;
    return (void *)(long)chdir("b");
}

COVERS("stat chdir")
CASE(cwd, another_threads_chdir_moves_relative_paths) {
    EXPECT_OK(mkdir("a", 0755));
    EXPECT_OK(mkdir("b", 0755));
    put_file("b/f", "x");
    EXPECT_OK(chdir("a"));
    struct stat st;
    EXPECT_ERRNO(stat("f", &st), ENOENT);
    EXPECT_OK(chdir(".."));
    pthread_t t;
    void *r;
    EXPECT_EQ(pthread_create(&t, NULL, chdir_to_b, NULL), 0);
    EXPECT_EQ(pthread_join(t, &r), 0);
    EXPECT_EQ((long)r, 0);
    EXPECT_OK(stat("f", &st));
}

static int child_chdir_to_b(void *arg) {
    (void)arg;
    return chdir("b") == 0 ? 0 : 1;
}

COVERS("stat chdir clone")
CASE(cwd, a_clone_fs_childs_chdir_moves_the_parents_relative_paths) {
    EXPECT_OK(mkdir("b", 0755));
    put_file("b/f", "x");
    struct stat st;
    EXPECT_ERRNO(stat("f", &st), ENOENT);
    static char stack[64 * 1024];
    pid_t pid = EXPECT_OK(clone(child_chdir_to_b, stack + sizeof stack, CLONE_FS | SIGCHLD, NULL));
    int ws;
    EXPECT_OK(waitpid(pid, &ws, 0));
    EXPECT_EQ(WEXITSTATUS(ws), 0);
    EXPECT_OK(stat("f", &st));
}

COVERS("stat rename openat mkdir")
CASE(cwd, a_rename_of_the_cwds_parent_by_another_process_keeps_relative_paths) {
    EXPECT_OK(mkdir("p", 0755));
    EXPECT_OK(mkdir("p/c", 0755));
    EXPECT_OK(chdir("p/c"));
    put_file("f", "x");
    struct stat st;
    EXPECT_OK(stat("f", &st));
    pid_t pid = EXPECT_OK(fork());
    if (pid == 0) {
        char from[PATH_MAX + 8], to[PATH_MAX + 8];
        snprintf(from, sizeof from, "%s/p", harness_scratch);
        snprintf(to, sizeof to, "%s/q", harness_scratch);
        _exit(rename(from, to) == 0 ? 0 : 1);
    }
    int ws;
    EXPECT_OK(waitpid(pid, &ws, 0));
    EXPECT_EQ(WEXITSTATUS(ws), 0);
    /* The same directory, now named q/c. */
    EXPECT_OK(stat("f", &st));
    put_file("g", "y");
    char g[PATH_MAX + 8];
    snprintf(g, sizeof g, "%s/q/c/g", harness_scratch);
    EXPECT_OK(stat(g, &st));
    EXPECT_OK(mkdir("d", 0755));
    char buf[PATH_MAX], want[PATH_MAX + 8];
    EXPECT_TRUE(getcwd(buf, sizeof buf) != NULL);
    snprintf(want, sizeof want, "%s/q/c", harness_scratch);
    EXPECT_STREQ(buf, want);
}

COVERS("stat rmdir openat")
CASE(cwd, a_removed_cwd_finds_nothing_relative) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_OK(chdir("d"));
    struct stat st;
    EXPECT_ERRNO(stat("f", &st), ENOENT);
    pid_t pid = EXPECT_OK(fork());
    if (pid == 0) {
        char d[PATH_MAX + 8];
        snprintf(d, sizeof d, "%s/d", harness_scratch);
        _exit(rmdir(d) == 0 ? 0 : 1);
    }
    int ws;
    EXPECT_OK(waitpid(pid, &ws, 0));
    EXPECT_EQ(WEXITSTATUS(ws), 0);
    EXPECT_ERRNO(open("g", O_CREAT | O_WRONLY, 0644), ENOENT);
    EXPECT_ERRNO(mkdir("e", 0755), ENOENT);
}

static volatile int swapping;
static void *swap_x_and_y(void *arg) {
    const char *base = arg;
    char x[PATH_MAX + 8], y[PATH_MAX + 8], t[PATH_MAX + 8];
    snprintf(x, sizeof x, "%s/x", base);
    snprintf(y, sizeof y, "%s/y", base);
    snprintf(t, sizeof t, "%s/t", base);
    /* An odd count: the cwd's parent ends up under the other name. */
    for (int i = 0; i < 201; i++) {
        rename(x, t);
        rename(y, x);
        rename(t, y);
    }
    __atomic_store_n(&swapping, 0, __ATOMIC_SEQ_CST);
    return NULL;
}

/* Makes x/c (holding "mine") and y/c, and enters x/c. */
static void enter_x_c_beside_y_c(void) {
    EXPECT_OK(mkdir("x", 0755));
    EXPECT_OK(mkdir("x/c", 0755));
    EXPECT_OK(mkdir("y", 0755));
    EXPECT_OK(mkdir("y/c", 0755));
    put_file("x/c/mine", "x");
    EXPECT_OK(chdir("x/c"));
}

/* A thread keeps swapping the names of the cwd's parent and another
 * directory: once it stops, relative paths reach the cwd's own files. */
COVERS("stat rename")
CASE(cwd, relative_paths_after_racing_renames_reach_the_cwd) {
    enter_x_c_beside_y_c();
    __atomic_store_n(&swapping, 1, __ATOMIC_SEQ_CST);
    pthread_t t;
    EXPECT_EQ(pthread_create(&t, NULL, swap_x_and_y, harness_scratch), 0);
    struct stat st;
    while (__atomic_load_n(&swapping, __ATOMIC_SEQ_CST))
        (void)stat("mine", &st);
    EXPECT_EQ(pthread_join(t, NULL), 0);
    EXPECT_OK(stat("mine", &st));
    EXPECT_OK(stat("../c/mine", &st));
}

/* The same with the renames made by another process, which shares no
 * fs with the reader. */
COVERS("stat rename fork")
CASE(cwd, relative_paths_after_another_process_renames_reach_the_cwd) {
    enter_x_c_beside_y_c();
    pid_t pid = EXPECT_OK(fork());
    if (pid == 0) {
        swap_x_and_y(harness_scratch);
        _exit(0);
    }
    struct stat st;
    int ws;
    while (waitpid(pid, &ws, WNOHANG) == 0)
        (void)stat("mine", &st);
    EXPECT_EQ(WEXITSTATUS(ws), 0);
    EXPECT_OK(stat("mine", &st));
    EXPECT_OK(stat("../c/mine", &st));
    char buf[PATH_MAX], want[PATH_MAX + 8];
    EXPECT_TRUE(getcwd(buf, sizeof buf) != NULL);
    snprintf(want, sizeof want, "%s/y/c", harness_scratch);
    EXPECT_STREQ(buf, want);
}

/* Linux limits one path string to PATH_MAX, not a directory's depth:
 * relative names from a deep cwd or directory fd reach directories whose
 * absolute path is longer (Go's os tests walk 41 levels of 100-byte
 * names; rm -rf removes such a tree from fd to fd). */
enum { DEEP_LEVELS = 45 };

static void deep_name(char name[101]) {
    memset(name, 'd', 100);
    name[100] = 0;
}

COVERS("mkdir rename access fchdir unlinkat")
CASE(cwd, deeper_than_path_max_by_relative_names) {
    char n[101];
    deep_name(n);
    int top = EXPECT_OK(open(".", O_RDONLY | O_DIRECTORY));
    for (int i = 0; i < DEEP_LEVELS; i++) {
        EXPECT_OK(mkdir(n, 0755));
        EXPECT_OK(chdir(n));
    }
    /* The kernel cannot name it; glibc's getcwd then climbs with "..". */
    static char buf[4 * PATH_MAX];
    EXPECT_TRUE(getcwd(buf, sizeof buf) != NULL);
    EXPECT_TRUE(strlen(buf) > PATH_MAX);
    put_file("f", "deep");
    EXPECT_OK(rename("f", "g"));
    EXPECT_OK(mkdir("sub", 0755));
    EXPECT_OK(chdir("sub"));
    EXPECT_OK(chdir(".."));
    EXPECT_OK(access("g", R_OK));
    int here = EXPECT_OK(open(".", O_RDONLY | O_DIRECTORY));
    EXPECT_OK(fchdir(top));
    EXPECT_OK(fchdir(here));
    EXPECT_OK(access("g", R_OK));
    EXPECT_OK(unlinkat(here, "g", 0));
    EXPECT_OK(unlinkat(here, "sub", AT_REMOVEDIR));
    EXPECT_OK(close(here));
    EXPECT_OK(fchdir(top));
    /* Removed from the top down again by relative names. */
    for (int i = 0; i < DEEP_LEVELS; i++)
        EXPECT_OK(chdir(n));
    for (int i = 0; i < DEEP_LEVELS; i++) {
        EXPECT_OK(chdir(".."));
        EXPECT_OK(rmdir(n));
    }
    EXPECT_ERRNO(access(n, F_OK), ENOENT);
}

COVERS("mkdirat openat newfstatat unlinkat")
CASE(cwd, deeper_than_path_max_from_fd_to_fd) {
    char n[101];
    deep_name(n);
    int fds[DEEP_LEVELS + 1];
    fds[0] = EXPECT_OK(open(".", O_RDONLY | O_DIRECTORY));
    for (int i = 1; i <= DEEP_LEVELS; i++) {
        EXPECT_OK(mkdirat(fds[i - 1], n, 0755));
        fds[i] = EXPECT_OK(openat(fds[i - 1], n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
    }
    int f = EXPECT_OK(openat(fds[DEEP_LEVELS], "f", O_CREAT | O_WRONLY, 0600));
    EXPECT_EQ(write(f, "deep", 4), 4);
    EXPECT_OK(close(f));
    struct stat st;
    EXPECT_OK(fstatat(fds[DEEP_LEVELS], "f", &st, 0));
    EXPECT_EQ(st.st_size, 4);
    EXPECT_OK(unlinkat(fds[DEEP_LEVELS], "f", 0));
    /* As rm -rf removes a tree. */
    for (int i = DEEP_LEVELS; i >= 1; i--) {
        EXPECT_OK(fstatat(fds[i - 1], n, &st, AT_SYMLINK_NOFOLLOW));
        EXPECT_TRUE(S_ISDIR(st.st_mode));
        EXPECT_OK(close(fds[i]));
        EXPECT_OK(unlinkat(fds[i - 1], n, AT_REMOVEDIR));
    }
    EXPECT_ERRNO(access(n, F_OK), ENOENT);
}
