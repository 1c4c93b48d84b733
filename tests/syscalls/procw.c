/* Writable /proc/<pid> files: comm (of a task in the writer's own thread
 * group only) and oom_score_adj. */
#include "harness.h"
#include <linux/capability.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

/* write(2) of `s` to `path` opened O_WRONLY|O_TRUNC (as `echo s > path`);
 * returns write's result with errno kept. */
static ssize_t write_proc(const char *path, const char *s) {
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0)
        FAIL("open %s for writing: %s", path, harness_errname(errno));
    ssize_t r = write(fd, s, strlen(s));
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

CASE(proc, comm_write_self) {
    EXPECT_EQ(write_proc("/proc/self/comm", "newname"), 7);
    char buf[64], name[17] = {0};
    EXPECT_TRUE(get_file("/proc/self/comm", buf, sizeof buf) > 0);
    EXPECT_STREQ(buf, "newname\n");
    EXPECT_OK(prctl(PR_GET_NAME, name, 0, 0, 0));
    EXPECT_STREQ(name, "newname");
    /* Longer names are cut to 15 bytes, as prctl(PR_SET_NAME) does. */
    EXPECT_EQ(write_proc("/proc/self/comm", "abcdefghijklmnopqrst"), 20);
    EXPECT_OK(prctl(PR_GET_NAME, name, 0, 0, 0));
    EXPECT_STREQ(name, "abcdefghijklmno");
    /* An O_RDWR fd reads what was written through it. */
    int fd = EXPECT_OK(open("/proc/self/comm", O_RDWR | O_CLOEXEC));
    EXPECT_EQ(write(fd, "rw", 2), 2);
    EXPECT_OK(lseek(fd, 0, SEEK_SET));
    ssize_t n = EXPECT_OK(read(fd, buf, sizeof buf - 1));
    buf[n] = 0;
    close(fd);
    EXPECT_STREQ(buf, "rw\n");
}

/* ready: thread -> main (its tid is set); go: main -> thread (renamed). */
static int ready_pipe[2], go_pipe[2], thread_tid;
static char thread_name[17];

static void *named_thread(void *arg) {
    (void)arg;
    thread_tid = (int)syscall(SYS_gettid);
    char c;
    /* Signal the tid, then wait until the main thread renamed us. */
    if (write(ready_pipe[1], "t", 1) != 1 || read(go_pipe[0], &c, 1) != 1)
        return NULL;
    prctl(PR_GET_NAME, thread_name, 0, 0, 0);
    return NULL;
}

CASE(proc, comm_write_thread) {
    EXPECT_OK(pipe(ready_pipe));
    EXPECT_OK(pipe(go_pipe));
    pthread_t t;
    EXPECT_EQ(pthread_create(&t, NULL, named_thread, NULL), 0);
    char c;
    EXPECT_EQ(read(ready_pipe[0], &c, 1), 1);
    char path[64], buf[64], own[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", thread_tid);
    EXPECT_TRUE(get_file("/proc/self/comm", own, sizeof own) > 0);
    EXPECT_EQ(write_proc(path, "worker"), 6);
    EXPECT_TRUE(get_file(path, buf, sizeof buf) > 0);
    EXPECT_STREQ(buf, "worker\n");
    EXPECT_EQ(write(go_pipe[1], "g", 1), 1);
    EXPECT_EQ(pthread_join(t, NULL), 0);
    EXPECT_STREQ(thread_name, "worker");
    /* The process (main thread) keeps its name. */
    EXPECT_TRUE(get_file("/proc/self/comm", buf, sizeof buf) > 0);
    EXPECT_STREQ(buf, own);
}

CASE(proc, comm_write_other_process_einval) {
    int p[2];
    EXPECT_OK(pipe(p));
    pid_t child = EXPECT_OK(fork());
    if (child == 0) {
        char c;
        close(p[1]);
        _exit(read(p[0], &c, 1) == 0 ? 0 : 1);
    }
    close(p[0]);
    char path[64], before[64], after[64];
    snprintf(path, sizeof path, "/proc/%d/comm", child);
    EXPECT_TRUE(get_file(path, before, sizeof before) > 0);
    /* Opening is allowed (same owner); Linux refuses the write itself to
     * any task outside the writer's thread group. */
    EXPECT_ERRNO(write_proc(path, "stolen"), EINVAL);
    EXPECT_TRUE(get_file(path, after, sizeof after) > 0);
    EXPECT_STREQ(after, before);
    close(p[1]);
    int status;
    EXPECT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Raising needs no capability (lowering below the minimum needs
 * CAP_SYS_RESOURCE, which the native run has and the sandbox's spec not:
 * not compared here). */
CASE(proc, oom_score_adj_raise) {
    char buf[64];
    EXPECT_EQ(write_proc("/proc/self/oom_score_adj", "500\n"), 4);
    EXPECT_TRUE(get_file("/proc/self/oom_score_adj", buf, sizeof buf) > 0);
    EXPECT_STREQ(buf, "500\n");
    /* The thread directory names the same (per-process) value. */
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/oom_score_adj", (int)syscall(SYS_gettid));
    EXPECT_TRUE(get_file(path, buf, sizeof buf) > 0);
    EXPECT_STREQ(buf, "500\n");
    EXPECT_ERRNO(write_proc("/proc/self/oom_score_adj", "1001"), EINVAL);
}

CASE(proc, oom_score_adj_inherited_by_fork) {
    EXPECT_EQ(write_proc("/proc/self/oom_score_adj", "321"), 3);
    pid_t child = EXPECT_OK(fork());
    if (child == 0) {
        char buf[64];
        _exit(get_file("/proc/self/oom_score_adj", buf, sizeof buf) > 0 &&
                      strcmp(buf, "321\n") == 0
                  ? 0
                  : 1);
    }
    int status;
    EXPECT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The owner of a task's files is its effective uid: another user (without
 * CAP_DAC_OVERRIDE) may not open them for writing, their owner may. (A
 * set*id call makes a Linux task non-dumpable, which gives its files to
 * root: PR_SET_DUMPABLE undoes that.) */
CASE(proc, comm_write_needs_owner) {
    if (getuid() != 0 || !has_cap(CAP_SETUID))
        harness_skip("needs root with CAP_SETUID");
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", getpid());
    pid_t child = EXPECT_OK(fork());
    if (child == 0) {
        if (setuid(1000) != 0 || prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0)
            _exit(2);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd >= 0 || errno != EACCES)
            _exit(3);
        fd = open("/proc/self/comm", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            _exit(4);
        if (write(fd, "mine", 4) != 4)
            _exit(5);
        char buf[64];
        _exit(get_file("/proc/self/comm", buf, sizeof buf) > 0 && !strcmp(buf, "mine\n") ? 0 : 6);
    }
    int status;
    EXPECT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

/* An fd of a task file opened for writing names that file. */
CASE(proc, comm_write_fd_link) {
    int fd = EXPECT_OK(open("/proc/self/comm", O_WRONLY | O_CLOEXEC));
    char link[64], buf[64] = {0}, want[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    EXPECT_OK(readlink(link, buf, sizeof buf - 1));
    snprintf(want, sizeof want, "/proc/%d/comm", getpid());
    EXPECT_STREQ(buf, want);
    struct stat st;
    EXPECT_OK(fstatat(fd, "", &st, AT_EMPTY_PATH));
    EXPECT_EQ(st.st_mode, S_IFREG | 0644);
    close(fd);
}
