/* mkdir(2)/mkdirat/rmdir(2) */
#include "harness.h"

CASE(mkdir, creates_with_mode) {
    EXPECT_OK(mkdir("d", 0751));
    struct stat st;
    EXPECT_OK(stat("d", &st));
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0751 & ~022);
}

CASE(mkdir, eexist) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_ERRNO(mkdir("d", 0755), EEXIST);
    put_file("f", "x");
    EXPECT_ERRNO(mkdir("f", 0755), EEXIST);
    EXPECT_OK(symlink("nowhere", "l"));
    EXPECT_ERRNO(mkdir("l", 0755), EEXIST);
}

CASE(mkdir, missing_parent_enoent) {
    EXPECT_ERRNO(mkdir("a/b", 0755), ENOENT);
}

CASE(mkdir, parent_is_file_enotdir) {
    put_file("f", "x");
    EXPECT_ERRNO(mkdir("f/d", 0755), ENOTDIR);
}

CASE(mkdir, trailing_slash_ok) {
    EXPECT_OK(mkdir("d/", 0755));
    struct stat st;
    EXPECT_OK(stat("d", &st));
    EXPECT_TRUE(S_ISDIR(st.st_mode));
}

CASE(mkdir, mkdirat_dirfd) {
    EXPECT_OK(mkdir("d", 0755));
    int dfd = EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    EXPECT_OK(mkdirat(dfd, "e", 0700));
    struct stat st;
    EXPECT_OK(stat("d/e", &st));
    EXPECT_EQ(st.st_mode & 07777, 0700);
}

CASE(mkdir, sgid_parent_inherited) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_OK(chmod("d", 02755));
    EXPECT_OK(mkdir("d/e", 0755));
    struct stat st;
    EXPECT_OK(stat("d/e", &st));
    EXPECT_TRUE(st.st_mode & S_ISGID);
}

CASE(rmdir, removes_empty) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_OK(rmdir("d"));
    EXPECT_ERRNO(access("d", F_OK), ENOENT);
}

CASE(rmdir, enotempty) {
    EXPECT_OK(mkdir("d", 0755));
    put_file("d/f", "x");
    int r = rmdir("d");
    EXPECT_EQ(r, -1);
    EXPECT_TRUE(errno == ENOTEMPTY || errno == EEXIST);
    EXPECT_ERRNO(rmdir("d"), ENOTEMPTY);
}

CASE(rmdir, on_file_enotdir) {
    put_file("f", "x");
    EXPECT_ERRNO(rmdir("f"), ENOTDIR);
}

CASE(rmdir, on_symlink_to_dir_enotdir) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_OK(symlink("d", "l"));
    EXPECT_ERRNO(rmdir("l"), ENOTDIR);
}

CASE(rmdir, dot_einval) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_ERRNO(rmdir("d/."), EINVAL);
    EXPECT_ERRNO(rmdir("d/.."), ENOTEMPTY);
}

CASE(rmdir, enoent) {
    EXPECT_ERRNO(rmdir("missing"), ENOENT);
}
