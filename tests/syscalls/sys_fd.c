/* Descriptor-table and readiness syscalls (family = syscall name). */
#include "harness.h"
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/select.h>
#include <sys/wait.h>

CASE(close, then_ebadf) {
    int fd = (int)EXPECT_OK(dup(0));
    EXPECT_EQ(syscall(SYS_close, fd), 0);
    EXPECT_ERRNO(syscall(SYS_close, fd), EBADF);
}

CASE(dup, lowest_free) {
    int a = (int)EXPECT_OK(dup(0));
    close(a);
    EXPECT_EQ(syscall(SYS_dup, 0), a);
    EXPECT_ERRNO(syscall(SYS_dup, 999), EBADF);
}

CASE(dup2, raw_target) {
    EXPECT_EQ(syscall(SYS_dup2, 0, 100), 100);
    EXPECT_EQ(fcntl(100, F_GETFD), 0);
    EXPECT_ERRNO(syscall(SYS_dup2, 999, 100), EBADF);
    EXPECT_ERRNO(syscall(SYS_dup2, 0, -1), EBADF);
}

CASE(dup3, raw_cloexec) {
    EXPECT_EQ(syscall(SYS_dup3, 0, 101, O_CLOEXEC), 101);
    EXPECT_EQ(fcntl(101, F_GETFD), FD_CLOEXEC);
    EXPECT_ERRNO(syscall(SYS_dup3, 0, 102, O_APPEND), EINVAL);
}

CASE(pipe, raw_roundtrip) {
    int p[2];
    EXPECT_EQ(syscall(SYS_pipe, p), 0);
    EXPECT_EQ(write(p[1], "x", 1), 1);
    char c;
    EXPECT_EQ(read(p[0], &c, 1), 1);
    EXPECT_EQ(c, 'x');
    EXPECT_EQ(fcntl(p[0], F_GETFD), 0);
}

CASE(pipe2, raw_flags) {
    int p[2];
    EXPECT_EQ(syscall(SYS_pipe2, p, O_CLOEXEC | O_NONBLOCK), 0);
    EXPECT_EQ(fcntl(p[0], F_GETFD), FD_CLOEXEC);
    EXPECT_TRUE(fcntl(p[1], F_GETFL) & O_NONBLOCK);
    EXPECT_ERRNO(syscall(SYS_pipe2, p, O_APPEND), EINVAL);
}

CASE(pipe2, packet_mode_keeps_boundaries) {
    int p[2];
    EXPECT_OK(pipe2(p, O_DIRECT));
    EXPECT_EQ(write(p[1], "ab", 2), 2);
    EXPECT_EQ(write(p[1], "cd", 2), 2);
    char b[8];
    EXPECT_EQ(read(p[0], b, sizeof b), 2);
}

CASE(fcntl, setlk_conflict_from_child) {
    put_file("f", "locked");
    int fd = (int)EXPECT_OK(open("f", O_RDWR));
    struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    EXPECT_EQ(syscall(SYS_fcntl, fd, F_SETLK, &l), 0);
    pid_t pid = fork();
    if (pid == 0) {
        int f2 = open("f", O_RDWR);
        struct flock m = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        if (fcntl(f2, F_SETLK, &m) == 0 || (errno != EAGAIN && errno != EACCES))
            _exit(1);
        struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        if (fcntl(f2, F_GETLK, &q) != 0 || q.l_type != F_WRLCK || q.l_pid != getppid())
            _exit(2);
        _exit(0);
    }
    int st;
    EXPECT_EQ(waitpid(pid, &st, 0), pid);
    EXPECT_EQ(WEXITSTATUS(st), 0);
}

CASE(fcntl, ofd_lock_and_pipe_size) {
    put_file("f", "x");
    int fd = (int)EXPECT_OK(open("f", O_RDWR));
    struct flock l = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
    EXPECT_EQ(syscall(SYS_fcntl, fd, F_OFD_SETLK, &l), 0);
    int p[2];
    EXPECT_OK(pipe(p));
    EXPECT_TRUE(syscall(SYS_fcntl, p[0], F_GETPIPE_SZ) >= 4096);
    EXPECT_ERRNO(syscall(SYS_fcntl, fd, 99999), EINVAL);
}

CASE(flock, exclusive_blocks_other_ofd) {
    put_file("f", "x");
    int a = (int)EXPECT_OK(open("f", O_RDONLY));
    int b = (int)EXPECT_OK(open("f", O_RDONLY));
    EXPECT_EQ(syscall(SYS_flock, a, LOCK_EX), 0);
    EXPECT_ERRNO(syscall(SYS_flock, b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
    EXPECT_EQ(syscall(SYS_flock, a, LOCK_UN), 0);
    EXPECT_EQ(syscall(SYS_flock, b, LOCK_SH | LOCK_NB), 0);
    EXPECT_ERRNO(syscall(SYS_flock, a, 0), EINVAL);
}

CASE(close_range, raw_unshare_flag) {
    EXPECT_EQ(dup2(0, 200), 200);
    EXPECT_EQ(syscall(SYS_close_range, 200, 200, 2 /* CLOSE_RANGE_UNSHARE */), 0);
    EXPECT_ERRNO(fcntl(200, F_GETFD), EBADF);
    EXPECT_ERRNO(syscall(SYS_close_range, 0, 10, 0x80), EINVAL);
}

CASE(eventfd, raw_initval) {
    int fd = (int)EXPECT_OK(syscall(SYS_eventfd, 5));
    uint64_t v;
    EXPECT_EQ(read(fd, &v, 8), 8);
    EXPECT_EQ(v, 5);
}

CASE(eventfd2, raw_flags) {
    int fd = (int)EXPECT_OK(syscall(SYS_eventfd2, 0, EFD_NONBLOCK | EFD_CLOEXEC));
    uint64_t v;
    EXPECT_ERRNO(read(fd, &v, 8), EAGAIN);
    EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
    EXPECT_ERRNO(syscall(SYS_eventfd2, 0, 0x10), EINVAL);
}

CASE(poll, raw_readiness) {
    int p[2];
    EXPECT_OK(pipe(p));
    struct pollfd f[2] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}};
    EXPECT_EQ(syscall(SYS_poll, f, 2, 0), 1);
    EXPECT_EQ(f[1].revents, POLLOUT);
    EXPECT_EQ(f[0].revents, 0);
}

CASE(select, raw_timeout_and_ready) {
    int p[2];
    EXPECT_OK(pipe(p));
    fd_set r;
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    struct timeval tv = {0, 1000};
    EXPECT_EQ(syscall(SYS_select, p[0] + 1, &r, NULL, NULL, &tv), 0);
    EXPECT_EQ(write(p[1], "x", 1), 1);
    FD_SET(p[0], &r);
    tv.tv_usec = 1000;
    EXPECT_EQ(syscall(SYS_select, p[0] + 1, &r, NULL, NULL, &tv), 1);
    EXPECT_ERRNO(syscall(SYS_select, -1, NULL, NULL, NULL, &tv), EINVAL);
}

CASE(pselect6, raw_ready) {
    int p[2];
    EXPECT_OK(pipe(p));
    EXPECT_EQ(write(p[1], "x", 1), 1);
    fd_set r;
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    struct timespec ts = {0, 0};
    EXPECT_EQ(syscall(SYS_pselect6, p[0] + 1, &r, NULL, NULL, &ts, NULL), 1);
    EXPECT_TRUE(FD_ISSET(p[0], &r));
}

CASE(ppoll, raw_timeout) {
    int p[2];
    EXPECT_OK(pipe(p));
    struct pollfd f = {p[0], POLLIN, 0};
    struct timespec ts = {0, 1000000};
    EXPECT_EQ(syscall(SYS_ppoll, &f, 1, &ts, NULL, 8), 0);
    struct timespec bad = {0, 2000000000L};
    EXPECT_ERRNO(syscall(SYS_ppoll, &f, 1, &bad, NULL, 8), EINVAL);
}

CASE(epoll_create, raw_size) {
    EXPECT_OK(syscall(SYS_epoll_create, 1));
    EXPECT_ERRNO(syscall(SYS_epoll_create, 0), EINVAL);
}

CASE(epoll_create1, raw_flags) {
    int fd = (int)EXPECT_OK(syscall(SYS_epoll_create1, EPOLL_CLOEXEC));
    EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
    EXPECT_ERRNO(syscall(SYS_epoll_create1, 1), EINVAL);
}

COVERS("epoll_wait")
CASE(epoll_ctl, add_mod_del) {
    int ep = (int)EXPECT_OK(epoll_create1(0));
    int p[2];
    EXPECT_OK(pipe(p));
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 7};
    EXPECT_EQ(syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, p[0], &ev), 0);
    EXPECT_ERRNO(syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, p[0], &ev), EEXIST);
    EXPECT_EQ(write(p[1], "x", 1), 1);
    struct epoll_event out[2];
    EXPECT_EQ(syscall(SYS_epoll_wait, ep, out, 2, 0), 1);
    EXPECT_EQ(out[0].data.u64, 7);
    ev.events = EPOLLOUT;
    EXPECT_EQ(syscall(SYS_epoll_ctl, ep, EPOLL_CTL_MOD, p[0], &ev), 0);
    EXPECT_EQ(syscall(SYS_epoll_wait, ep, out, 2, 0), 0);
    EXPECT_EQ(syscall(SYS_epoll_ctl, ep, EPOLL_CTL_DEL, p[0], NULL), 0);
    EXPECT_ERRNO(syscall(SYS_epoll_ctl, ep, EPOLL_CTL_DEL, p[0], NULL), ENOENT);
    EXPECT_ERRNO(syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, ep, &ev), EINVAL);
}

CASE(epoll_wait, timeout_and_bad_maxevents) {
    int ep = (int)EXPECT_OK(epoll_create1(0));
    struct epoll_event out[1];
    EXPECT_EQ(syscall(SYS_epoll_wait, ep, out, 1, 1), 0);
    EXPECT_ERRNO(syscall(SYS_epoll_wait, ep, out, 0, 0), EINVAL);
    EXPECT_ERRNO(syscall(SYS_epoll_wait, 0, out, 1, 0), EINVAL);
}

CASE(epoll_pwait, raw_ready) {
    int ep = (int)EXPECT_OK(epoll_create1(0));
    int e = (int)EXPECT_OK(eventfd(1, 0));
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = e};
    EXPECT_OK(epoll_ctl(ep, EPOLL_CTL_ADD, e, &ev));
    struct epoll_event out[1];
    EXPECT_EQ(syscall(SYS_epoll_pwait, ep, out, 1, 0, NULL, 8), 1);
    EXPECT_EQ(out[0].data.fd, e);
}

CASE(epoll_pwait2, raw_timespec) {
    int ep = (int)EXPECT_OK(epoll_create1(0));
    struct epoll_event out[1];
    struct timespec ts = {0, 1000000};
    EXPECT_EQ(syscall(SYS_epoll_pwait2, ep, out, 1, &ts, NULL, 8), 0);
    struct timespec bad = {0, -1};
    EXPECT_ERRNO(syscall(SYS_epoll_pwait2, ep, out, 1, &bad, NULL, 8), EINVAL);
}

CASE(umask, raw_returns_previous) {
    EXPECT_EQ(syscall(SYS_umask, 077), 022);
    EXPECT_EQ(syscall(SYS_umask, 0777 | 01000), 077);
    EXPECT_EQ(syscall(SYS_umask, 022), 0777);
}

CASE(getcwd, raw_length) {
    char b[PATH_MAX];
    long n = syscall(SYS_getcwd, b, sizeof b);
    EXPECT_EQ(n, (long)strlen(harness_scratch) + 1);
    EXPECT_STREQ(b, harness_scratch);
    EXPECT_ERRNO(syscall(SYS_getcwd, b, 2), ERANGE);
}

CASE(fchdir, raw_dir_and_file) {
    EXPECT_OK(mkdir("d", 0755));
    int d = (int)EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    put_file("f", "x");
    int f = (int)EXPECT_OK(open("f", O_RDONLY));
    EXPECT_ERRNO(syscall(SYS_fchdir, f), ENOTDIR);
    EXPECT_EQ(syscall(SYS_fchdir, d), 0);
    char b[PATH_MAX];
    EXPECT_TRUE(getcwd(b, sizeof b) != NULL);
    EXPECT_TRUE(strlen(b) > 2 && strcmp(b + strlen(b) - 2, "/d") == 0);
}
