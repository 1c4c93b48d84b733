/* statx(2) */
#include "harness.h"
#include <sys/sysmacros.h>

CASE(statx, basic_mask_and_size) {
    put_file("f", "hello!");
    struct statx sx;
    EXPECT_OK(statx(AT_FDCWD, "f", 0, STATX_BASIC_STATS, &sx));
    EXPECT_EQ(sx.stx_mask & STATX_BASIC_STATS, STATX_BASIC_STATS);
    EXPECT_EQ(sx.stx_size, 6);
    EXPECT_TRUE(S_ISREG(sx.stx_mode));
    struct stat st;
    EXPECT_OK(stat("f", &st));
    EXPECT_EQ(sx.stx_ino, st.st_ino);
    EXPECT_EQ(makedev(sx.stx_dev_major, sx.stx_dev_minor), st.st_dev);
}

CASE(statx, empty_path_on_fd) {
    put_file("f", "abc");
    int fd = EXPECT_OK(open("f", O_RDONLY));
    struct statx sx;
    EXPECT_OK(statx(fd, "", AT_EMPTY_PATH, STATX_SIZE, &sx));
    EXPECT_TRUE(sx.stx_mask & STATX_SIZE);
    EXPECT_EQ(sx.stx_size, 3);
}

CASE(statx, symlink_nofollow) {
    put_file("f", "abc");
    EXPECT_OK(symlink("f", "l"));
    struct statx sx;
    EXPECT_OK(statx(AT_FDCWD, "l", AT_SYMLINK_NOFOLLOW, STATX_TYPE, &sx));
    EXPECT_TRUE(S_ISLNK(sx.stx_mode));
    EXPECT_OK(statx(AT_FDCWD, "l", 0, STATX_TYPE, &sx));
    EXPECT_TRUE(S_ISREG(sx.stx_mode));
}

CASE(statx, enoent) {
    struct statx sx;
    EXPECT_ERRNO(statx(AT_FDCWD, "missing", 0, STATX_BASIC_STATS, &sx), ENOENT);
}

CASE(statx, reserved_mask_einval) {
    struct statx sx;
    EXPECT_ERRNO(statx(AT_FDCWD, ".", 0, 0x80000000U, &sx), EINVAL);
}

CASE(statx, bad_sync_flags_einval) {
    struct statx sx;
    EXPECT_ERRNO(statx(AT_FDCWD, ".", AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC, STATX_BASIC_STATS, &sx), EINVAL);
}

CASE(statx, dir_type_and_nlink) {
    EXPECT_OK(mkdir("d", 0700));
    struct statx sx;
    EXPECT_OK(statx(AT_FDCWD, "d", 0, STATX_TYPE | STATX_MODE | STATX_NLINK, &sx));
    EXPECT_TRUE(S_ISDIR(sx.stx_mode));
    EXPECT_EQ(sx.stx_mode & 07777, 0700);
    EXPECT_EQ(sx.stx_nlink, 2);
}
