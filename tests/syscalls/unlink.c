/* unlink(2)/unlinkat(2) */
#include "harness.h"

CASE(unlink, removes_file) {
    put_file("f", "x");
    EXPECT_OK(unlink("f"));
    EXPECT_ERRNO(access("f", F_OK), ENOENT);
}

CASE(unlink, dir_eisdir) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_ERRNO(unlink("d"), EISDIR);
}

CASE(unlink, enoent) {
    EXPECT_ERRNO(unlink("missing"), ENOENT);
}

CASE(unlink, symlink_not_target) {
    put_file("f", "x");
    EXPECT_OK(symlink("f", "l"));
    EXPECT_OK(unlink("l"));
    EXPECT_OK(access("f", F_OK));
    struct stat st;
    EXPECT_ERRNO(lstat("l", &st), ENOENT);
}

CASE(unlink, open_fd_survives) {
    put_file("f", "data");
    int fd = EXPECT_OK(open("f", O_RDONLY));
    EXPECT_OK(unlink("f"));
    char buf[8] = {0};
    EXPECT_EQ(read(fd, buf, 7), 4);
    EXPECT_STREQ(buf, "data");
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_nlink, 0);
}

CASE(unlink, unlinkat_removedir) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_OK(unlinkat(AT_FDCWD, "d", AT_REMOVEDIR));
    EXPECT_ERRNO(access("d", F_OK), ENOENT);
}

CASE(unlink, unlinkat_removedir_on_file_enotdir) {
    put_file("f", "x");
    EXPECT_ERRNO(unlinkat(AT_FDCWD, "f", AT_REMOVEDIR), ENOTDIR);
}

CASE(unlink, unlinkat_removedir_nonempty) {
    EXPECT_OK(mkdir("d", 0755));
    put_file("d/f", "x");
    EXPECT_ERRNO(unlinkat(AT_FDCWD, "d", AT_REMOVEDIR), ENOTEMPTY);
}

CASE(unlink, unlinkat_bad_flag_einval) {
    put_file("f", "x");
    EXPECT_ERRNO(unlinkat(AT_FDCWD, "f", 0x1), EINVAL);
}

CASE(unlink, unlinkat_dirfd) {
    EXPECT_OK(mkdir("d", 0755));
    put_file("d/f", "x");
    int dfd = EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    EXPECT_OK(unlinkat(dfd, "f", 0));
    EXPECT_ERRNO(access("d/f", F_OK), ENOENT);
}

CASE(unlink, sticky_dir_other_owner) {
    /* root (or CAP_FOWNER) may delete in a sticky dir; nobody else's file */
    EXPECT_OK(mkdir("d", 0777));
    EXPECT_OK(chmod("d", 01777));
    put_file("d/f", "x");
    EXPECT_OK(unlink("d/f"));
}
