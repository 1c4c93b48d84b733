/* chmod(2)/fchmod/fchmodat, chown(2)/lchown/fchownat, truncate(2)/ftruncate */
#include "harness.h"
#include <linux/capability.h>
#include <sys/xattr.h>

CASE(chmod, sets_mode) {
    put_file("f", "x");
    EXPECT_OK(chmod("f", 0604));
    struct stat st;
    EXPECT_OK(stat("f", &st));
    EXPECT_EQ(st.st_mode & 07777, 0604);
}

CASE(chmod, special_bits) {
    put_file("f", "x");
    EXPECT_OK(chmod("f", 04755));
    struct stat st;
    EXPECT_OK(stat("f", &st));
    EXPECT_EQ(st.st_mode & 07777, 04755);
}

CASE(chmod, follows_symlink) {
    put_file("f", "x");
    EXPECT_OK(symlink("f", "l"));
    EXPECT_OK(chmod("l", 0600));
    struct stat st;
    EXPECT_OK(stat("f", &st));
    EXPECT_EQ(st.st_mode & 07777, 0600);
}

CASE(chmod, fchmod_on_fd) {
    put_file("f", "x");
    int fd = EXPECT_OK(open("f", O_RDONLY));
    EXPECT_OK(fchmod(fd, 0640));
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_mode & 07777, 0640);
}

CASE(chmod, fchmodat_dirfd) {
    EXPECT_OK(mkdir("d", 0755));
    put_file("d/f", "x");
    int dfd = EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    EXPECT_OK(fchmodat(dfd, "f", 0611, 0));
    struct stat st;
    EXPECT_OK(stat("d/f", &st));
    EXPECT_EQ(st.st_mode & 07777, 0611);
}

CASE(chmod, fchmodat2_symlink_nofollow_eopnotsupp) {
    EXPECT_OK(symlink("nowhere", "l"));
    EXPECT_ERRNO(syscall(452 /* fchmodat2 */, AT_FDCWD, "l", 0600, AT_SYMLINK_NOFOLLOW), EOPNOTSUPP);
}

CASE(chmod, fchmodat2_bad_flags_einval) {
    put_file("f", "x");
    EXPECT_ERRNO(syscall(452 /* fchmodat2 */, AT_FDCWD, "f", 0600, 0x1), EINVAL);
}

CASE(chmod, enoent) {
    EXPECT_ERRNO(chmod("missing", 0644), ENOENT);
}

CASE(chown, noop_minus_one) {
    put_file("f", "x");
    EXPECT_OK(chown("f", (uid_t)-1, (gid_t)-1));
}

CASE(chown, to_own_ids) {
    put_file("f", "x");
    EXPECT_OK(chown("f", geteuid(), getegid()));
}

CASE(chown, other_uid_needs_cap_chown) {
    put_file("f", "x");
    if (has_cap(CAP_CHOWN)) {
        EXPECT_OK(chown("f", 1234, 1234));
        struct stat st;
        EXPECT_OK(stat("f", &st));
        EXPECT_EQ(st.st_uid, 1234);
        EXPECT_EQ(st.st_gid, 1234);
    } else {
        EXPECT_ERRNO(chown("f", 1234, -1), EPERM);
    }
}

CASE(chown, clears_setuid) {
    put_file("f", "x");
    EXPECT_OK(chmod("f", 04755));
    EXPECT_OK(chown("f", geteuid(), -1));
    struct stat st;
    EXPECT_OK(stat("f", &st));
    EXPECT_EQ(st.st_mode & 07777, 0755);
}

CASE(chown, lchown_symlink_itself) {
    put_file("f", "x");
    EXPECT_OK(symlink("f", "l"));
    EXPECT_OK(lchown("l", geteuid(), getegid()));
    EXPECT_OK(fchownat(AT_FDCWD, "l", -1, -1, AT_SYMLINK_NOFOLLOW));
}

CASE(chown, enoent) {
    EXPECT_ERRNO(chown("missing", 0, 0), ENOENT);
    EXPECT_ERRNO(lchown("missing", 0, 0), ENOENT);
}

CASE(truncate, extends_with_zeros) {
    put_file("f", "ab");
    EXPECT_OK(truncate("f", 5));
    char buf[8];
    int fd = EXPECT_OK(open("f", O_RDONLY));
    EXPECT_EQ(read(fd, buf, sizeof buf), 5);
    EXPECT_EQ(memcmp(buf, "ab\0\0\0", 5), 0);
}

CASE(truncate, shrinks) {
    put_file("f", "abcdef");
    EXPECT_OK(truncate("f", 2));
    char buf[8];
    EXPECT_EQ(get_file("f", buf, sizeof buf), 2);
    EXPECT_STREQ(buf, "ab");
}

CASE(truncate, negative_einval) {
    put_file("f", "x");
    EXPECT_ERRNO(truncate("f", -1), EINVAL);
}

CASE(truncate, dir_eisdir) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_ERRNO(truncate("d", 0), EISDIR);
}

CASE(truncate, enoent) {
    EXPECT_ERRNO(truncate("missing", 0), ENOENT);
}

CASE(truncate, ftruncate_fd) {
    put_file("f", "abcdef");
    int fd = EXPECT_OK(open("f", O_RDWR));
    EXPECT_OK(ftruncate(fd, 3));
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_size, 3);
}

CASE(truncate, ftruncate_readonly_einval) {
    put_file("f", "abc");
    int fd = EXPECT_OK(open("f", O_RDONLY));
    EXPECT_ERRNO(ftruncate(fd, 0), EINVAL);
}

/* Path xattrs: set/get/list/remove by path, the l* forms on a symlink, the
 * size-0 probe, ERANGE for a short buffer, XATTR_CREATE/REPLACE, ENODATA. */
COVERS("lsetxattr getxattr lgetxattr listxattr llistxattr removexattr lremovexattr")
CASE(setxattr, path_user_xattrs) {
    put_file("f", "x");
    EXPECT_OK(symlink("f", "l"));
    if (setxattr("f", "user.k", "val", 3, 0) != 0) {
        if (errno == EOPNOTSUPP)
            harness_skip("no user xattrs on this filesystem");
        FAIL("setxattr: %s", harness_errname(errno));
    }
    char b[16] = {0};
    EXPECT_EQ(getxattr("f", "user.k", NULL, 0), 3);
    EXPECT_ERRNO(getxattr("f", "user.k", b, 2), ERANGE);
    EXPECT_EQ(getxattr("l", "user.k", b, sizeof b), 3);
    EXPECT_STREQ(b, "val");
    EXPECT_ERRNO(lgetxattr("l", "user.k", b, sizeof b), ENODATA);
    EXPECT_ERRNO(lsetxattr("l", "user.k", "v", 1, 0), EPERM);
    EXPECT_ERRNO(setxattr("f", "user.k", "v", 1, XATTR_CREATE), EEXIST);
    EXPECT_ERRNO(setxattr("f", "user.new", "v", 1, XATTR_REPLACE), ENODATA);
    EXPECT_ERRNO(setxattr("f", "", "v", 1, 0), ERANGE);
    char l[64];
    EXPECT_EQ(listxattr("f", l, sizeof l), 7);
    EXPECT_EQ(memcmp(l, "user.k", 7), 0);
    EXPECT_EQ(listxattr("l", NULL, 0), 7);
    EXPECT_EQ(llistxattr("l", l, sizeof l), 0);
    EXPECT_OK(removexattr("l", "user.k"));
    EXPECT_ERRNO(getxattr("f", "user.k", b, sizeof b), ENODATA);
    EXPECT_ERRNO(lremovexattr("f", "user.k"), ENODATA);
    EXPECT_ERRNO(getxattr("nope", "user.k", b, sizeof b), ENOENT);
}
