/* utimensat(2)/futimens/utimes */
#include "harness.h"
#include <sys/time.h>
#include <time.h>

CASE(utimensat, explicit_times) {
    put_file("f", "x");
    struct timespec ts[2] = {{1000000000, 123}, {1200000000, 456}};
    EXPECT_OK(utimensat(AT_FDCWD, "f", ts, 0));
    struct stat st;
    EXPECT_OK(stat("f", &st));
    EXPECT_EQ(st.st_atim.tv_sec, 1000000000);
    EXPECT_EQ(st.st_atim.tv_nsec, 123);
    EXPECT_EQ(st.st_mtim.tv_sec, 1200000000);
    EXPECT_EQ(st.st_mtim.tv_nsec, 456);
}

CASE(utimensat, utime_omit_keeps) {
    put_file("f", "x");
    struct timespec set[2] = {{1000000000, 0}, {1100000000, 0}};
    EXPECT_OK(utimensat(AT_FDCWD, "f", set, 0));
    struct timespec ts[2] = {{0, UTIME_OMIT}, {1300000000, 0}};
    EXPECT_OK(utimensat(AT_FDCWD, "f", ts, 0));
    struct stat st;
    EXPECT_OK(stat("f", &st));
    EXPECT_EQ(st.st_atim.tv_sec, 1000000000);
    EXPECT_EQ(st.st_mtim.tv_sec, 1300000000);
}

CASE(utimensat, utime_now) {
    put_file("f", "x");
    struct timespec set[2] = {{1000000000, 0}, {1000000000, 0}};
    EXPECT_OK(utimensat(AT_FDCWD, "f", set, 0));
    struct timespec ts[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
    EXPECT_OK(utimensat(AT_FDCWD, "f", ts, 0));
    struct stat st;
    EXPECT_OK(stat("f", &st));
    time_t now = time(NULL);
    EXPECT_TRUE(st.st_atim.tv_sec >= now - 5 && st.st_atim.tv_sec <= now + 1);
    EXPECT_EQ(st.st_mtim.tv_sec, 1000000000);
}

CASE(utimensat, null_times_is_now) {
    put_file("f", "x");
    struct timespec set[2] = {{1000000000, 0}, {1000000000, 0}};
    EXPECT_OK(utimensat(AT_FDCWD, "f", set, 0));
    EXPECT_OK(utimensat(AT_FDCWD, "f", NULL, 0));
    struct stat st;
    EXPECT_OK(stat("f", &st));
    EXPECT_TRUE(st.st_mtim.tv_sec > 1000000000);
}

CASE(utimensat, symlink_nofollow) {
    put_file("f", "x");
    EXPECT_OK(symlink("f", "l"));
    struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}};
    EXPECT_OK(utimensat(AT_FDCWD, "l", ts, AT_SYMLINK_NOFOLLOW));
    struct stat sl, sf;
    EXPECT_OK(lstat("l", &sl));
    EXPECT_OK(stat("f", &sf));
    EXPECT_EQ(sl.st_mtim.tv_sec, 1000000000);
    EXPECT_TRUE(sf.st_mtim.tv_sec != 1000000000);
}

CASE(utimensat, bad_nsec_einval) {
    put_file("f", "x");
    struct timespec ts[2] = {{0, 1000000000}, {0, 0}};
    EXPECT_ERRNO(utimensat(AT_FDCWD, "f", ts, 0), EINVAL);
}

CASE(utimensat, enoent) {
    EXPECT_ERRNO(utimensat(AT_FDCWD, "missing", NULL, 0), ENOENT);
}

CASE(utimensat, futimens_fd) {
    put_file("f", "x");
    int fd = EXPECT_OK(open("f", O_RDWR));
    struct timespec ts[2] = {{1100000000, 0}, {1100000000, 0}};
    EXPECT_OK(futimens(fd, ts));
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_mtim.tv_sec, 1100000000);
}

CASE(utimensat, utimes_microseconds) {
    put_file("f", "x");
    struct timeval tv[2] = {{1000000000, 5}, {1000000001, 7}};
    EXPECT_OK(utimes("f", tv));
    struct stat st;
    EXPECT_OK(stat("f", &st));
    EXPECT_EQ(st.st_mtim.tv_sec, 1000000001);
    EXPECT_EQ(st.st_mtim.tv_nsec, 7000);
}

CASE(utimensat, null_path_uses_fd) {
    put_file("f", "x");
    int fd = EXPECT_OK(open("f", O_RDWR));
    struct timespec ts[2] = {{1050000000, 0}, {1050000000, 0}};
    EXPECT_OK(syscall(SYS_utimensat, fd, NULL, ts, 0));
    struct stat st;
    EXPECT_OK(stat("f", &st));
    EXPECT_EQ(st.st_mtim.tv_sec, 1050000000);
}
