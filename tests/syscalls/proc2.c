/* More /proc: task directories, children, an unreaped child, numeric
 * fields, getdents without duplicates, epoll on a /proc file, mem. */
#include "harness.h"
#include <signal.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <sys/wait.h>

CASE(proc, task_dir_has_the_main_thread) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", getpid());
    static char buf[1024];
    EXPECT_TRUE(get_file(path, buf, sizeof buf) > 0);
    EXPECT_EQ(atoi(buf), getpid());
}

CASE(proc, children_lists_a_child) {
    pid_t pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/children", getpid());
    static char buf[256];
    ssize_t n = get_file(path, buf, sizeof buf);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    if (n < 0)
        FAIL("read %s: %s", path, harness_errname(errno));
    EXPECT_EQ(atoi(buf), pid);
}

CASE(proc, unreaped_child_is_a_zombie) {
    pid_t pid = fork();
    if (pid == 0)
        _exit(7);
    /* wait until it is a zombie, without reaping it */
    siginfo_t si;
    EXPECT_OK(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT));
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    static char buf[1024];
    EXPECT_TRUE(get_file(path, buf, sizeof buf) > 0);
    char *rp = strrchr(buf, ')');
    EXPECT_TRUE(rp != NULL && rp[1] == ' ' && rp[2] == 'Z');
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    EXPECT_TRUE(get_file(path, buf, sizeof buf) > 0);
    EXPECT_TRUE(strstr(buf, "State:\tZ (zombie)") != NULL);
    EXPECT_OK(waitpid(pid, NULL, 0));
    EXPECT_ERRNO(access(path, F_OK), ENOENT);
}

CASE(proc, stat_ppid_and_pgrp_fields) {
    static char buf[1024];
    EXPECT_TRUE(get_file("/proc/self/stat", buf, sizeof buf) > 0);
    char *rp = strrchr(buf, ')');
    EXPECT_TRUE(rp != NULL);
    char state;
    int ppid, pgrp, sid;
    EXPECT_EQ(sscanf(rp + 2, "%c %d %d %d", &state, &ppid, &pgrp, &sid), 4);
    EXPECT_EQ(ppid, getppid());
    EXPECT_EQ(pgrp, getpgrp());
    EXPECT_EQ(sid, getsid(0));
    EXPECT_EQ(state, 'R');
}

CASE(proc, status_threads_count) {
    static char buf[4096];
    EXPECT_TRUE(get_file("/proc/self/status", buf, sizeof buf) > 0);
    char *t = strstr(buf, "\nThreads:\t");
    EXPECT_TRUE(t != NULL);
    EXPECT_EQ(atoi(t + 10), 1);
    char *pp = strstr(buf, "\nPPid:\t");
    EXPECT_TRUE(pp != NULL);
    EXPECT_EQ(atoi(pp + 7), getppid());
}

CASE(proc, statm_has_seven_numbers) {
    static char buf[256];
    EXPECT_TRUE(get_file("/proc/self/statm", buf, sizeof buf) > 0);
    unsigned long v[7];
    EXPECT_EQ(sscanf(buf, "%lu %lu %lu %lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                     &v[6]),
              7);
    EXPECT_TRUE(v[0] >= v[1]);
}

/* getdents64 of /proc while children come and go: no name twice. */
CASE(proc, listing_has_no_duplicates_while_processes_change) {
    pid_t kids[8];
    for (int i = 0; i < 8; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            pause();
            _exit(0);
        }
    }
    int fd = EXPECT_OK(open("/proc", O_RDONLY | O_DIRECTORY));
    static char buf[512];
    static char names[4096][16];
    int count = 0, round = 0;
    long n;
    while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
        if (round++ < 4) {
            kill(kids[round], SIGKILL);
            waitpid(kids[round], NULL, 0);
        }
        for (long off = 0; off < n;) {
            struct {
                unsigned long long ino;
                long long off;
                unsigned short reclen;
                unsigned char type;
                char name[];
            } *d = (void *)(buf + off);
            for (int i = 0; i < count; i++)
                if (strcmp(names[i], d->name) == 0)
                    FAIL("%s listed twice", d->name);
            if (count < 4096)
                snprintf(names[count++], 16, "%s", d->name);
            off += d->reclen;
        }
    }
    EXPECT_EQ(n, 0);
    for (int i = 0; i < 8; i++)
        kill(kids[i], SIGKILL);
}

CASE(proc, epoll_on_a_proc_file_is_always_ready) {
    int fd = EXPECT_OK(open("/proc/self/status", O_RDONLY));
    int ep = EXPECT_OK(epoll_create1(EPOLL_CLOEXEC));
    struct epoll_event ev = {.events = EPOLLIN};
    int r = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    if (r == 0) {
        struct epoll_event out;
        EXPECT_EQ(epoll_wait(ep, &out, 1, 0), 1);
    } else {
        EXPECT_EQ(errno, EPERM);
    }
}

CASE(proc, mem_reads_own_memory) {
    static const char secret[] = "runrs-mem-check";
    int fd = EXPECT_OK(open("/proc/self/mem", O_RDONLY));
    char buf[sizeof secret] = {0};
    EXPECT_EQ(pread(fd, buf, sizeof buf, (off_t)(unsigned long)secret), (ssize_t)sizeof buf);
    EXPECT_STREQ(buf, secret);
}

CASE(proc, mem_unmapped_address_eio) {
    int fd = EXPECT_OK(open("/proc/self/mem", O_RDONLY));
    char c;
    EXPECT_ERRNO(pread(fd, &c, 1, 4096), EIO);
}

CASE(proc, pagemap_entry_size) {
    int fd = EXPECT_OK(open("/proc/self/pagemap", O_RDONLY));
    static int x = 1;
    unsigned long long e;
    off_t off = (off_t)(((unsigned long)&x / (unsigned long)sysconf(_SC_PAGESIZE)) * 8);
    EXPECT_EQ(pread(fd, &e, 8, off), 8);
    /* bit 63: present (the page was touched) */
    EXPECT_TRUE(e >> 63);
}

CASE(proc, syscall_file_of_self) {
    static char buf[256];
    EXPECT_TRUE(get_file("/proc/self/syscall", buf, sizeof buf) > 0);
    /* a running task reports its read(2) call number first */
    EXPECT_EQ(atoi(buf), SYS_read);
}

CASE(proc, arch_status_of_self) {
    static char buf[256];
    /* x86_64 kernels always have it (X86_64 selects PROC_PID_ARCH_STATUS). */
    if (get_file("/proc/self/arch_status", buf, sizeof buf) < 0)
        FAIL("read arch_status: %s", harness_errname(errno));
    EXPECT_TRUE(strncmp(buf, "AVX512_elapsed_ms:", 18) == 0);
}

CASE(proc, oom_score_adj_write_and_read) {
    int fd = EXPECT_OK(open("/proc/self/oom_score_adj", O_WRONLY));
    EXPECT_EQ(write(fd, "500", 3), 3);
    close(fd);
    char buf[16];
    EXPECT_TRUE(get_file("/proc/self/oom_score_adj", buf, sizeof buf) > 0);
    EXPECT_EQ(atoi(buf), 500);
}

CASE(proc, oom_score_adj_out_of_range_einval) {
    int fd = EXPECT_OK(open("/proc/self/oom_score_adj", O_WRONLY));
    EXPECT_ERRNO(write(fd, "5000", 4), EINVAL);
}

CASE(proc, comm_too_long_is_truncated_on_read) {
    int fd = EXPECT_OK(open("/proc/self/comm", O_WRONLY));
    EXPECT_EQ(write(fd, "0123456789abcdefXYZ", 19), 19);
    close(fd);
    char buf[32];
    EXPECT_TRUE(get_file("/proc/self/comm", buf, sizeof buf) > 0);
    EXPECT_STREQ(buf, "0123456789abcde\n");
}

CASE(proc, task_of_a_thread_group_member_via_pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", getpid());
    struct stat st;
    EXPECT_OK(stat(path, &st));
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_nlink >= 3, 1);
}
