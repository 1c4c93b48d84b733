/* dup/dup2/dup3, fcntl, pipe2, close_range, lseek, pread/pwrite */
#include "harness.h"
#include <linux/close_range.h>

CASE(fd, dup_lowest_shares_offset) {
    put_file("f", "abcdef");
    int fd = EXPECT_OK(open("f", O_RDONLY));
    int d = EXPECT_OK(dup(fd));
    EXPECT_TRUE(d > fd);
    char c;
    EXPECT_EQ(read(fd, &c, 1), 1);
    EXPECT_EQ(lseek(d, 0, SEEK_CUR), 1);
}

CASE(fd, dup2_same_fd) {
    int fd = EXPECT_OK(open("/dev/null", O_RDONLY));
    EXPECT_EQ(dup2(fd, fd), fd);
    EXPECT_ERRNO(dup2(9999, 9998), EBADF);
}

CASE(fd, dup2_replaces_target) {
    int a = EXPECT_OK(open("/dev/null", O_RDONLY));
    int b = EXPECT_OK(open("/dev/zero", O_RDONLY));
    EXPECT_EQ(dup2(b, a), a);
    char c = 1;
    EXPECT_EQ(read(a, &c, 1), 1);
    EXPECT_EQ(c, 0);
}

CASE(fd, dup3_same_fd_einval) {
    int fd = EXPECT_OK(open("/dev/null", O_RDONLY));
    EXPECT_ERRNO(dup3(fd, fd, 0), EINVAL);
    EXPECT_ERRNO(dup3(fd, fd + 1, 0x1234), EINVAL);
}

CASE(fd, dup3_cloexec) {
    int fd = EXPECT_OK(open("/dev/null", O_RDONLY));
    EXPECT_EQ(dup3(fd, 50, O_CLOEXEC), 50);
    EXPECT_EQ(fcntl(50, F_GETFD), FD_CLOEXEC);
}

CASE(fd, fcntl_getfl) {
    put_file("f", "x");
    int fd = EXPECT_OK(open("f", O_RDWR | O_APPEND));
    int fl = EXPECT_OK(fcntl(fd, F_GETFL));
    EXPECT_EQ(fl & O_ACCMODE, O_RDWR);
    EXPECT_TRUE(fl & O_APPEND);
    EXPECT_OK(fcntl(fd, F_SETFL, fl | O_NONBLOCK));
    EXPECT_TRUE(fcntl(fd, F_GETFL) & O_NONBLOCK);
}

CASE(fd, fcntl_setfd) {
    int fd = EXPECT_OK(open("/dev/null", O_RDONLY));
    EXPECT_EQ(fcntl(fd, F_GETFD), 0);
    EXPECT_OK(fcntl(fd, F_SETFD, FD_CLOEXEC));
    EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
}

CASE(fd, fcntl_dupfd_min) {
    int fd = EXPECT_OK(open("/dev/null", O_RDONLY));
    int d = EXPECT_OK(fcntl(fd, F_DUPFD_CLOEXEC, 100));
    EXPECT_TRUE(d >= 100);
    EXPECT_EQ(fcntl(d, F_GETFD), FD_CLOEXEC);
}

CASE(fd, fcntl_bad_fd_ebadf) {
    EXPECT_ERRNO(fcntl(9999, F_GETFD), EBADF);
    EXPECT_ERRNO(close(9999), EBADF);
}

CASE(fd, pipe2_nonblock_eagain) {
    int p[2];
    EXPECT_OK(pipe2(p, O_NONBLOCK | O_CLOEXEC));
    char c;
    EXPECT_ERRNO(read(p[0], &c, 1), EAGAIN);
    EXPECT_EQ(write(p[1], "z", 1), 1);
    EXPECT_EQ(read(p[0], &c, 1), 1);
    EXPECT_EQ(c, 'z');
    EXPECT_EQ(fcntl(p[0], F_GETFD), FD_CLOEXEC);
}

CASE(fd, pipe_closed_reader_epipe) {
    int p[2];
    EXPECT_OK(pipe(p));
    close(p[0]);
    EXPECT_ERRNO(write(p[1], "x", 1), EPIPE); /* the harness ignores SIGPIPE */
}

CASE(fd, pipe_lseek_espipe) {
    int p[2];
    EXPECT_OK(pipe(p));
    EXPECT_ERRNO(lseek(p[0], 0, SEEK_SET), ESPIPE);
}

CASE(fd, close_range_closes) {
    for (int i = 60; i < 64; i++)
        EXPECT_EQ(dup2(1, i), i);
    EXPECT_OK(syscall(SYS_close_range, 60, 62, 0));
    EXPECT_ERRNO(fcntl(60, F_GETFD), EBADF);
    EXPECT_ERRNO(fcntl(62, F_GETFD), EBADF);
    EXPECT_OK(fcntl(63, F_GETFD));
}

CASE(fd, close_range_cloexec) {
    EXPECT_EQ(dup2(1, 70), 70);
    EXPECT_OK(syscall(SYS_close_range, 70, ~0U, CLOSE_RANGE_CLOEXEC));
    EXPECT_EQ(fcntl(70, F_GETFD), FD_CLOEXEC);
}

CASE(fd, close_range_bad_range_einval) {
    EXPECT_ERRNO(syscall(SYS_close_range, 10, 5, 0), EINVAL);
}

CASE(fd, lseek_end_and_hole) {
    put_file("f", "abc");
    int fd = EXPECT_OK(open("f", O_RDWR));
    EXPECT_EQ(lseek(fd, 0, SEEK_END), 3);
    EXPECT_EQ(lseek(fd, 10, SEEK_SET), 10);
    EXPECT_EQ(write(fd, "z", 1), 1);
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_size, 11);
    EXPECT_ERRNO(lseek(fd, -1, SEEK_SET), EINVAL);
}

CASE(fd, pread_pwrite_keep_offset) {
    put_file("f", "0123456789");
    int fd = EXPECT_OK(open("f", O_RDWR));
    char buf[4] = {0};
    EXPECT_EQ(pread(fd, buf, 3, 4), 3);
    EXPECT_STREQ(buf, "456");
    EXPECT_EQ(pwrite(fd, "xy", 2, 8), 2);
    EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 0);
}

CASE(fd, rlimit_nofile_emfile) {
    struct rlimit { unsigned long cur, max; } rl = {8, 8};
    EXPECT_OK(syscall(SYS_setrlimit, 7 /* RLIMIT_NOFILE */, &rl));
    int last = 0;
    for (int i = 0; i < 16; i++) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd < 0) {
            last = errno;
            break;
        }
    }
    EXPECT_EQ(last, EMFILE);
}
