/* Another task's /proc/<pid> files: what a process that switched users may
 * open, read and follow (Linux's ptrace access check in READ_FSCREDS mode
 * and the files' modes, owned by the task's effective ids while it is
 * dumpable and by root after a set*id call; fs/proc/base.c, fs/proc/fd.c).
 * Cases that switch need CAP_SETUID/CAP_SETGID (root natively; the
 * conformance bundle grants them) and skip without. */
#include "harness.h"
#include <dirent.h>
#include <grp.h>
#include <stdint.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define NOBODY 65534

static void need_setid(void) {
    if (getuid() != 0 || !has_cap(CAP_SETUID) || !has_cap(CAP_SETGID))
        harness_skip("needs root with CAP_SETUID and CAP_SETGID");
}

/* Every id and group to NOBODY (every capability goes with it). */
static int become_nobody(void) {
    if (setgroups(0, NULL) != 0 || setresgid(NOBODY, NOBODY, NOBODY) != 0)
        return -1;
    return setresuid(NOBODY, NOBODY, NOBODY);
}

/* A child that keeps `fds[0]` (the read end) open and waits until the case
 * ends (the write end closes). */
static pid_t waiting_child(int fds[2]) {
    pid_t child = fork();
    if (child == 0) {
        char c;
        close(fds[1]);
        while (read(fds[0], &c, 1) < 0 && errno == EINTR)
            ;
        _exit(0);
    }
    return child;
}

static const char *path_of(pid_t pid, const char *name) {
    static char p[4][128];
    static int next;
    char *out = p[next++ % 4];
    snprintf(out, sizeof p[0], "/proc/%d/%s", (int)pid, name);
    return out;
}

/* Field `n` (1-based, as in proc(5); n >= 3) of a stat line. */
static long long stat_field(const char *line, int n) {
    const char *s = strrchr(line, ')');
    if (!s)
        return -1;
    s += 2;
    for (int i = 3; i < n; i++) {
        s = strchr(s, ' ');
        if (!s)
            return -1;
        s++;
    }
    return strtoll(s, NULL, 10);
}

/* The files a task's memory, environment and I/O show: the mode (0400) or
 * the ptrace check refuses them, EACCES at open. */
static const char *const refused_files[] = {
    "environ", "auxv", "maps", "smaps", "smaps_rollup", "io", "personality", "mem", NULL,
};

/* A user may not open, list or follow root's memory, environment, links
 * and fds; it may stat them, and read what everyone may. */
COVERS("open readlink stat lstat setresuid")
CASE(proc, user_is_refused_a_root_process_files) {
    need_setid();
    int p[2];
    EXPECT_OK(pipe(p));
    pid_t root = waiting_child(p);
    EXPECT_TRUE(root > 0);
    close(p[0]);
    EXPECT_OK(become_nobody());
    struct stat st;
    char buf[4096];
    for (int i = 0; refused_files[i]; i++) {
        const char *f = path_of(root, refused_files[i]);
        EXPECT_ERRNO(open(f, O_RDONLY), EACCES);
        EXPECT_OK(stat(f, &st));
    }
    char name[64];
    snprintf(name, sizeof name, "task/%d/environ", (int)root);
    EXPECT_ERRNO(open(path_of(root, name), O_RDONLY), EACCES);
    snprintf(name, sizeof name, "task/%d/maps", (int)root);
    EXPECT_ERRNO(open(path_of(root, name), O_RDONLY), EACCES);
    /* exe, cwd, root: neither read nor followed; lstat describes them. */
    const char *links[] = {"exe", "cwd", "root", NULL};
    for (int i = 0; links[i]; i++) {
        const char *l = path_of(root, links[i]);
        EXPECT_ERRNO(readlink(l, buf, sizeof buf), EACCES);
        EXPECT_ERRNO(stat(l, &st), EACCES);
        EXPECT_ERRNO(open(l, O_RDONLY), EACCES);
        EXPECT_OK(lstat(l, &st));
        EXPECT_TRUE(S_ISLNK(st.st_mode));
    }
    EXPECT_ERRNO(stat(path_of(root, "cwd/."), &st), EACCES);
    EXPECT_ERRNO(open(path_of(root, "root/etc"), O_RDONLY | O_DIRECTORY), EACCES);
    /* fd/ is 0500 root's: no listing and no lookup in it; fdinfo/ takes
     * the ptrace check for both. */
    EXPECT_OK(stat(path_of(root, "fd"), &st));
    EXPECT_EQ(st.st_mode & 0777, 0500);
    EXPECT_EQ(st.st_uid, 0);
    EXPECT_ERRNO(open(path_of(root, "fd"), O_RDONLY | O_DIRECTORY), EACCES);
    snprintf(name, sizeof name, "fd/%d", p[0]);
    EXPECT_ERRNO(readlink(path_of(root, name), buf, sizeof buf), EACCES);
    EXPECT_ERRNO(lstat(path_of(root, name), &st), EACCES);
    EXPECT_ERRNO(open(path_of(root, name), O_RDONLY), EACCES);
    EXPECT_ERRNO(open(path_of(root, "fdinfo"), O_RDONLY | O_DIRECTORY), EACCES);
    snprintf(name, sizeof name, "fdinfo/%d", p[0]);
    EXPECT_ERRNO(stat(path_of(root, name), &st), EACCES);
    EXPECT_ERRNO(open(path_of(root, name), O_RDONLY), EACCES);
    EXPECT_OK(stat(path_of(root, "fdinfo"), &st));
    /* What everyone may read. */
    EXPECT_TRUE(get_file(path_of(root, "status"), buf, sizeof buf) > 0);
    EXPECT_TRUE(get_file(path_of(root, "cmdline"), buf, sizeof buf) > 0);
    EXPECT_TRUE(get_file(path_of(root, "mountinfo"), buf, sizeof buf) > 0);
    EXPECT_TRUE(get_file(path_of(root, "wchan"), buf, sizeof buf) > 0);
    EXPECT_STREQ(buf, "0");
    /* stat hides the addresses: startcode 1, startstack and arg_start 0. */
    EXPECT_TRUE(get_file(path_of(root, "stat"), buf, sizeof buf) > 0);
    EXPECT_EQ(stat_field(buf, 26), 1);
    EXPECT_EQ(stat_field(buf, 28), 0);
    EXPECT_EQ(stat_field(buf, 48), 0);
    close(p[1]);
    int status;
    EXPECT_EQ(waitpid(root, &status, 0), root);
}

/* Its own files a process may always follow and list (fd/ too, though it
 * is root's once the switch made the process non-dumpable); the 0400 ones
 * only while its user owns them again (PR_SET_DUMPABLE). */
COVERS("open readlink setresuid prctl")
CASE(proc, user_reads_its_own_files) {
    need_setid();
    EXPECT_OK(become_nobody());
    char buf[4096], link[PATH_MAX];
    EXPECT_TRUE(get_file("/proc/self/maps", buf, sizeof buf) > 0);
    EXPECT_TRUE(get_file("/proc/self/stat", buf, sizeof buf) > 0);
    EXPECT_TRUE(stat_field(buf, 28) != 0);
    EXPECT_OK(readlink("/proc/self/exe", link, sizeof link));
    EXPECT_OK(readlink("/proc/self/cwd", link, sizeof link));
    EXPECT_OK(readlink("/proc/self/fd/0", link, sizeof link));
    int d = EXPECT_OK(open("/proc/self/fd", O_RDONLY | O_DIRECTORY));
    close(d);
    EXPECT_TRUE(get_file("/proc/self/fdinfo/0", buf, sizeof buf) > 0);
    struct stat st;
    EXPECT_OK(stat("/proc/self/environ", &st));
    EXPECT_EQ(st.st_uid, 0);
    EXPECT_ERRNO(open("/proc/self/environ", O_RDONLY), EACCES);
    EXPECT_ERRNO(open("/proc/self/auxv", O_RDONLY), EACCES);
    EXPECT_OK(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
    EXPECT_OK(stat("/proc/self/environ", &st));
    EXPECT_EQ(st.st_uid, NOBODY);
    int fd = EXPECT_OK(open("/proc/self/environ", O_RDONLY));
    close(fd);
    fd = EXPECT_OK(open("/proc/self/auxv", O_RDONLY));
    close(fd);
}

/* The same user may look into another of its processes only while that
 * one is dumpable. */
COVERS("open readlink setresuid prctl")
CASE(proc, same_user_needs_a_dumpable_target) {
    need_setid();
    int go[2], ready[2];
    EXPECT_OK(pipe(go));
    EXPECT_OK(pipe(ready));
    pid_t child = fork();
    if (child == 0) {
        char c;
        close(go[1]);
        close(ready[0]);
        if (become_nobody() != 0)
            _exit(1);
        if (write(ready[1], "s", 1) != 1)
            _exit(2);
        if (read(go[0], &c, 1) != 1)
            _exit(3);
        if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0)
            _exit(4);
        if (write(ready[1], "d", 1) != 1)
            _exit(5);
        for (;;) {
            ssize_t n = read(go[0], &c, 1);
            if (n == 0 || (n < 0 && errno != EINTR))
                break;
        }
        _exit(0);
    }
    EXPECT_TRUE(child > 0);
    close(go[0]);
    close(ready[1]);
    char c, buf[4096];
    EXPECT_EQ(read(ready[0], &c, 1), 1);
    EXPECT_OK(become_nobody());
    EXPECT_ERRNO(open(path_of(child, "maps"), O_RDONLY), EACCES);
    EXPECT_ERRNO(readlink(path_of(child, "exe"), buf, sizeof buf), EACCES);
    EXPECT_EQ(write(go[1], "g", 1), 1);
    EXPECT_EQ(read(ready[0], &c, 1), 1);
    EXPECT_TRUE(get_file(path_of(child, "maps"), buf, sizeof buf) > 0);
    EXPECT_TRUE(get_file(path_of(child, "environ"), buf, sizeof buf) >= 0);
    EXPECT_OK(readlink(path_of(child, "exe"), buf, sizeof buf));
    int d = EXPECT_OK(open(path_of(child, "fd"), O_RDONLY | O_DIRECTORY));
    close(d);
    close(go[1]);
    int status;
    EXPECT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* /proc/<pid>/mem is the task's memory, read and written through the fd
 * at the task's addresses (what gdb does instead of PTRACE_PEEK/POKE): its
 * own, and a child's, which sees the write. */
static volatile char mem_mark[16] = "before";
COVERS("open pread64 pwrite64")
CASE(proc, mem_reads_and_writes_a_tasks_memory) {
    char buf[16];
    int self = EXPECT_OK(open("/proc/self/mem", O_RDONLY));
    EXPECT_EQ(pread(self, buf, 7, (off_t)(uintptr_t)mem_mark), 7);
    EXPECT_STREQ(buf, "before");
    close(self);
    int go[2], done[2];
    EXPECT_OK(pipe(go));
    EXPECT_OK(pipe(done));
    pid_t child = fork();
    if (child == 0) {
        char c;
        close(go[1]);
        if (read(go[0], &c, 1) != 1)
            _exit(2);
        _exit(strcmp((const char *)mem_mark, "after") == 0 ? 0 : 1);
    }
    EXPECT_TRUE(child > 0);
    close(go[0]);
    int fd = EXPECT_OK(open(path_of(child, "mem"), O_RDWR));
    EXPECT_EQ(pread(fd, buf, 7, (off_t)(uintptr_t)mem_mark), 7);
    EXPECT_STREQ(buf, "before");
    EXPECT_EQ(pwrite(fd, "after", 6, (off_t)(uintptr_t)mem_mark), 6);
    close(fd);
    char name[64];
    snprintf(name, sizeof name, "task/%d/mem", (int)child);
    fd = EXPECT_OK(open(path_of(child, name), O_RDONLY));
    EXPECT_EQ(pread(fd, buf, 6, (off_t)(uintptr_t)mem_mark), 6);
    EXPECT_STREQ(buf, "after");
    close(fd);
    struct stat st;
    EXPECT_OK(stat(path_of(child, "mem"), &st));
    EXPECT_EQ(st.st_mode & 0777, 0600);
    EXPECT_EQ(write(go[1], "g", 1), 1);
    close(go[1]);
    close(done[0]);
    close(done[1]);
    int status;
    EXPECT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A dumpable process of another user than the runtime's owns its fd
 * directory (0500): it lists it, reads and follows its links, and its
 * *at() calls walk from its directory fds (a sandbox that reads the links
 * with the host's permission rules must not lose them). */
COVERS("readlink getdents64 stat openat newfstatat setresuid prctl")
CASE(proc, dumpable_user_uses_its_own_fd_links) {
    need_setid();
    int dir = EXPECT_OK(open(".", O_RDONLY | O_DIRECTORY));
    EXPECT_OK(fchmod(dir, 0755));
    int file = EXPECT_OK(open("f", O_CREAT | O_RDWR, 0644));
    EXPECT_OK(become_nobody());
    EXPECT_OK(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
    struct stat st, via_link;
    EXPECT_OK(stat("/proc/self/fd", &st));
    EXPECT_EQ(st.st_uid, NOBODY);
    DIR *d = opendir("/proc/self/fd");
    EXPECT_TRUE(d != NULL);
    int seen = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (atoi(e->d_name) == file)
            seen = 1;
    closedir(d);
    EXPECT_TRUE(seen);
    char want[4096], link[4096], p[64];
    EXPECT_TRUE(getcwd(want, sizeof want - 2) != NULL);
    strcat(want, "/f");
    snprintf(p, sizeof p, "/proc/self/fd/%d", file);
    ssize_t n = EXPECT_OK(readlink(p, link, sizeof link - 1));
    link[n] = 0;
    EXPECT_STREQ(link, want);
    EXPECT_OK(fstat(file, &st));
    EXPECT_OK(stat(p, &via_link));
    EXPECT_EQ(via_link.st_ino, st.st_ino);
    EXPECT_OK(fstatat(dir, "f", &via_link, 0));
    EXPECT_EQ(via_link.st_ino, st.st_ino);
    int again = EXPECT_OK(openat(dir, "f", O_RDONLY));
    close(again);
    EXPECT_TRUE(get_file("/proc/self/fdinfo/0", want, sizeof want) > 0);
}
