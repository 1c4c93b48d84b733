/* open(2)/openat(2)/creat(2) */
#include "harness.h"
#include <linux/capability.h>

CASE(open, creat_excl_new) {
    int fd = EXPECT_OK(open("f", O_CREAT | O_EXCL | O_WRONLY, 0640));
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_mode & 07777, 0640);
    EXPECT_TRUE(S_ISREG(st.st_mode));
}

CASE(open, creat_excl_exists) {
    put_file("f", "x");
    EXPECT_ERRNO(open("f", O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
}

CASE(open, creat_excl_dangling_symlink) {
    EXPECT_OK(symlink("nowhere", "l"));
    EXPECT_ERRNO(open("l", O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
    EXPECT_ERRNO(access("nowhere", F_OK), ENOENT);
}

CASE(open, creat_through_dangling_symlink) {
    EXPECT_OK(symlink("target", "l"));
    int fd = EXPECT_OK(open("l", O_CREAT | O_WRONLY, 0644));
    close(fd);
    EXPECT_OK(access("target", F_OK));
}

CASE(open, creat_umask_applied) {
    umask(027);
    int fd = EXPECT_OK(open("f", O_CREAT | O_WRONLY, 0777));
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_mode & 07777, 0750);
}

CASE(open, directory_on_file_enotdir) {
    put_file("f", "x");
    EXPECT_ERRNO(open("f", O_RDONLY | O_DIRECTORY), ENOTDIR);
}

CASE(open, trailing_slash_on_file_enotdir) {
    put_file("f", "x");
    EXPECT_ERRNO(open("f/", O_RDONLY), ENOTDIR);
}

CASE(open, file_as_path_component_enotdir) {
    put_file("f", "x");
    EXPECT_ERRNO(open("f/x", O_RDONLY), ENOTDIR);
}

CASE(open, nofollow_symlink_eloop) {
    put_file("f", "x");
    EXPECT_OK(symlink("f", "l"));
    EXPECT_ERRNO(open("l", O_RDONLY | O_NOFOLLOW), ELOOP);
}

CASE(open, nofollow_only_last_component) {
    EXPECT_OK(mkdir("d", 0755));
    put_file("d/f", "x");
    EXPECT_OK(symlink("d", "l"));
    int fd = EXPECT_OK(open("l/f", O_RDONLY | O_NOFOLLOW));
    close(fd);
}

CASE(open, trunc_empties_file) {
    put_file("f", "hello");
    int fd = EXPECT_OK(open("f", O_WRONLY | O_TRUNC));
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_size, 0);
}

CASE(open, append_writes_at_end) {
    put_file("f", "abc");
    int fd = EXPECT_OK(open("f", O_WRONLY | O_APPEND));
    EXPECT_OK(lseek(fd, 0, SEEK_SET));
    EXPECT_EQ(write(fd, "de", 2), 2);
    close(fd);
    char buf[16];
    EXPECT_EQ(get_file("f", buf, sizeof buf), 5);
    EXPECT_STREQ(buf, "abcde");
}

CASE(open, path_fd_cannot_read) {
    put_file("f", "x");
    int fd = EXPECT_OK(open("f", O_PATH));
    char c;
    EXPECT_ERRNO(read(fd, &c, 1), EBADF);
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_size, 1);
    EXPECT_EQ(fcntl(fd, F_GETFL) & O_PATH, O_PATH);
}

CASE(open, path_nofollow_on_symlink) {
    EXPECT_OK(symlink("nowhere", "l"));
    int fd = EXPECT_OK(open("l", O_PATH | O_NOFOLLOW));
    struct stat st;
    EXPECT_OK(fstatat(fd, "", &st, AT_EMPTY_PATH));
    EXPECT_TRUE(S_ISLNK(st.st_mode));
}

CASE(open, tmpfile_unnamed) {
    EXPECT_OK(mkdir("d", 0755));
    int fd = EXPECT_OK(open("d", O_TMPFILE | O_RDWR, 0600));
    EXPECT_EQ(write(fd, "abc", 3), 3);
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_nlink, 0);
    EXPECT_EQ(st.st_size, 3);
    char buf[512];
    int n = EXPECT_OK(syscall(SYS_getdents64, EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY)), buf, sizeof buf));
    EXPECT_EQ(n, 48); /* "." and ".." only: 2 * 24 bytes */
}

CASE(open, tmpfile_link_via_proc) {
    int fd = EXPECT_OK(open(".", O_TMPFILE | O_WRONLY, 0600));
    EXPECT_EQ(write(fd, "tmp", 3), 3);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    EXPECT_OK(linkat(AT_FDCWD, path, AT_FDCWD, "named", AT_SYMLINK_FOLLOW));
    char buf[16];
    EXPECT_EQ(get_file("named", buf, sizeof buf), 3);
    EXPECT_STREQ(buf, "tmp");
}

CASE(open, tmpfile_excl_is_never_linked) {
    int fd = EXPECT_OK(open(".", O_TMPFILE | O_EXCL | O_WRONLY, 0600));
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    EXPECT_ERRNO(linkat(AT_FDCWD, path, AT_FDCWD, "named", AT_SYMLINK_FOLLOW), ENOENT);
    /* a named file through its fd link gets a second name */
    put_file("f", "x");
    int f = EXPECT_OK(open("f", O_RDONLY));
    snprintf(path, sizeof path, "/proc/self/fd/%d", f);
    EXPECT_OK(linkat(AT_FDCWD, path, AT_FDCWD, "g", AT_SYMLINK_FOLLOW));
    struct stat a, b;
    EXPECT_OK(stat("f", &a));
    EXPECT_OK(stat("g", &b));
    EXPECT_EQ(a.st_ino, b.st_ino);
    EXPECT_EQ(b.st_nlink, 2);
    EXPECT_ERRNO(linkat(AT_FDCWD, path, AT_FDCWD, "g", AT_SYMLINK_FOLLOW), EEXIST);
}

CASE(open, tmpfile_requires_write_access) {
    EXPECT_ERRNO(open(".", O_TMPFILE | O_RDONLY, 0600), EINVAL);
}

CASE(open, enoent) {
    EXPECT_ERRNO(open("missing", O_RDONLY), ENOENT);
    EXPECT_ERRNO(open("missing/x", O_RDONLY | O_CREAT, 0644), ENOENT);
}

CASE(open, write_dir_eisdir) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_ERRNO(open("d", O_WRONLY), EISDIR);
    EXPECT_ERRNO(open("d", O_RDWR), EISDIR);
    EXPECT_ERRNO(open("d", O_CREAT | O_RDONLY, 0644), EISDIR);
}

CASE(open, component_256_enametoolong) {
    char name[257];
    memset(name, 'a', 256);
    name[256] = 0;
    EXPECT_ERRNO(open(name, O_RDONLY), ENAMETOOLONG);
    EXPECT_ERRNO(open(name, O_CREAT | O_WRONLY, 0644), ENAMETOOLONG);
    name[255] = 0; /* 255 is allowed */
    int fd = EXPECT_OK(open(name, O_CREAT | O_WRONLY, 0644));
    close(fd);
}

CASE(open, path_4096_enametoolong) {
    char path[4200];
    size_t n = 0;
    while (n < 4100) {
        memcpy(path + n, "./", 2);
        n += 2;
    }
    memcpy(path + n, "f", 2);
    EXPECT_ERRNO(open(path, O_RDONLY), ENAMETOOLONG);
}

CASE(open, symlink_chain_41_eloop) {
    put_file("l0", "x");
    char from[16], to[16];
    for (int i = 1; i <= 41; i++) {
        snprintf(to, sizeof to, "l%d", i - 1);
        snprintf(from, sizeof from, "l%d", i);
        EXPECT_OK(symlink(to, from));
    }
    int fd = EXPECT_OK(open("l40", O_RDONLY)); /* 40 links: allowed */
    close(fd);
    EXPECT_ERRNO(open("l41", O_RDONLY), ELOOP);
}

CASE(open, symlink_self_loop_eloop) {
    EXPECT_OK(symlink("self", "self"));
    EXPECT_ERRNO(open("self", O_RDONLY), ELOOP);
}

CASE(open, rdonly_fd_write_ebadf) {
    put_file("f", "x");
    int fd = EXPECT_OK(open("f", O_RDONLY));
    EXPECT_ERRNO(write(fd, "y", 1), EBADF);
}

CASE(open, cloexec_sets_fd_flag) {
    put_file("f", "x");
    int fd = EXPECT_OK(open("f", O_RDONLY | O_CLOEXEC));
    EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
    int fd2 = EXPECT_OK(open("f", O_RDONLY));
    EXPECT_EQ(fcntl(fd2, F_GETFD), 0);
}

CASE(open, lowest_free_fd) {
    put_file("f", "x");
    int a = EXPECT_OK(open("f", O_RDONLY));
    int b = EXPECT_OK(open("f", O_RDONLY));
    EXPECT_OK(close(a));
    EXPECT_EQ(open("f", O_RDONLY), a);
    EXPECT_TRUE(b > a);
}

CASE(open, openat_relative_to_dirfd) {
    EXPECT_OK(mkdir("d", 0755));
    put_file("d/f", "in-d");
    int dfd = EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    int fd = EXPECT_OK(openat(dfd, "f", O_RDONLY));
    char buf[8] = {0};
    EXPECT_EQ(read(fd, buf, sizeof buf - 1), 4);
    EXPECT_STREQ(buf, "in-d");
}

CASE(open, openat_dirfd_not_dir_enotdir) {
    put_file("f", "x");
    int fd = EXPECT_OK(open("f", O_RDONLY));
    EXPECT_ERRNO(openat(fd, "x", O_RDONLY), ENOTDIR);
    EXPECT_ERRNO(openat(9999, "x", O_RDONLY), EBADF);
}

CASE(open, openat_absolute_ignores_dirfd) {
    char p[PATH_MAX + 8];
    put_file("f", "x");
    snprintf(p, sizeof p, "%s/f", harness_scratch);
    int fd = EXPECT_OK(openat(9999, p, O_RDONLY));
    close(fd);
}

CASE(open, dotdot_of_root_is_root) {
    struct stat a, b;
    EXPECT_OK(stat("/", &a));
    EXPECT_OK(stat("/../../..", &b));
    EXPECT_EQ(a.st_ino, b.st_ino);
    EXPECT_EQ(a.st_dev, b.st_dev);
}

CASE(creat, creates_writeonly_truncated) {
    put_file("f", "old contents");
    int fd = EXPECT_OK(creat("f", 0600));
    EXPECT_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_WRONLY);
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_size, 0);
    char c;
    EXPECT_ERRNO(read(fd, &c, 1), EBADF);
}

CASE(creat, new_file_mode) {
    int fd = EXPECT_OK(creat("g", 0604));
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_mode & 07777, 0604);
}

CASE(open, mode_000_follows_dac_override) {
    put_file("f", "x");
    EXPECT_OK(chmod("f", 0));
    if (has_cap(CAP_DAC_OVERRIDE)) {
        int fd = EXPECT_OK(open("f", O_RDWR));
        close(fd);
        return;
    }
    /* CAP_DAC_READ_SEARCH alone overrides reading only. */
    if (has_cap(CAP_DAC_READ_SEARCH)) {
        int fd = EXPECT_OK(open("f", O_RDONLY));
        close(fd);
    } else {
        EXPECT_ERRNO(open("f", O_RDONLY), EACCES);
    }
    EXPECT_ERRNO(open("f", O_WRONLY), EACCES);
}

CASE(open, dir_search_needs_x_without_override) {
    EXPECT_OK(mkdir("d", 0755));
    put_file("d/f", "x");
    EXPECT_OK(chmod("d", 0644));
    if (has_cap(CAP_DAC_READ_SEARCH) || has_cap(CAP_DAC_OVERRIDE)) {
        int fd = EXPECT_OK(open("d/f", O_RDONLY));
        close(fd);
    } else {
        EXPECT_ERRNO(open("d/f", O_RDONLY), EACCES);
    }
}
