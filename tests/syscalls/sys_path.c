/* The emulated path syscalls called raw (libc maps e.g. stat() to
 * newfstatat and open() to openat, so the legacy numbers need their own
 * cases); family = syscall name. */
#include "harness.h"
#include <sys/vfs.h>
#include <sys/wait.h>
#include <sys/time.h>
#include <utime.h>
#include <linux/openat2.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

CASE(open, raw_creat_and_enoent) {
    int fd = (int)EXPECT_OK(syscall(SYS_open, "f", O_CREAT | O_WRONLY | O_EXCL, 0640));
    EXPECT_EQ(write(fd, "x", 1), 1);
    struct stat st;
    EXPECT_OK(stat("f", &st));
    EXPECT_EQ(st.st_mode & 0777, 0640);
    EXPECT_ERRNO(syscall(SYS_open, "f", O_CREAT | O_EXCL | O_WRONLY, 0600), EEXIST);
    EXPECT_ERRNO(syscall(SYS_open, "missing", O_RDONLY), ENOENT);
}

CASE(openat, raw_dirfd) {
    EXPECT_OK(mkdir("d", 0755));
    int d = (int)EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    int fd = (int)EXPECT_OK(syscall(SYS_openat, d, "f", O_CREAT | O_RDWR, 0600));
    close(fd);
    EXPECT_OK(access("d/f", F_OK));
    EXPECT_ERRNO(syscall(SYS_openat, 999, "f", O_RDONLY), EBADF);
}

CASE(creat, raw_truncates) {
    put_file("f", "old");
    int fd = (int)EXPECT_OK(syscall(SYS_creat, "f", 0600));
    EXPECT_ERRNO(read(fd, (char[1]){0}, 1), EBADF);
    struct stat st;
    EXPECT_OK(stat("f", &st));
    EXPECT_EQ(st.st_size, 0);
}

CASE(stat, raw_follows) {
    put_file("f", "abc");
    EXPECT_OK(symlink("f", "l"));
    struct stat st;
    EXPECT_EQ(syscall(SYS_stat, "l", &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_size, 3);
    EXPECT_ERRNO(syscall(SYS_stat, "missing", &st), ENOENT);
}

CASE(lstat, raw_does_not_follow) {
    put_file("f", "abc");
    EXPECT_OK(symlink("f", "l"));
    struct stat st;
    EXPECT_EQ(syscall(SYS_lstat, "l", &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    EXPECT_EQ(st.st_size, 1);
    EXPECT_ERRNO(syscall(SYS_lstat, "f/x", &st), ENOTDIR);
}

CASE(newfstatat, raw_flags) {
    put_file("f", "abc");
    EXPECT_OK(symlink("f", "l"));
    int fd = (int)EXPECT_OK(open("f", O_RDONLY));
    struct stat st;
    EXPECT_EQ(syscall(SYS_newfstatat, AT_FDCWD, "l", &st, AT_SYMLINK_NOFOLLOW), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    EXPECT_EQ(syscall(SYS_newfstatat, fd, "", &st, AT_EMPTY_PATH), 0);
    EXPECT_EQ(st.st_size, 3);
    EXPECT_ERRNO(syscall(SYS_newfstatat, AT_FDCWD, "f", &st, 0x1), EINVAL);
}

CASE(access, raw_modes) {
    put_file("f", "x");
    EXPECT_EQ(syscall(SYS_access, "f", R_OK | W_OK), 0);
    EXPECT_ERRNO(syscall(SYS_access, "missing", F_OK), ENOENT);
    EXPECT_ERRNO(syscall(SYS_access, "f", 0x10), EINVAL);
}

CASE(faccessat, raw_dirfd) {
    EXPECT_OK(mkdir("d", 0755));
    put_file("d/f", "x");
    int d = (int)EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    EXPECT_EQ(syscall(SYS_faccessat, d, "f", R_OK), 0);
    EXPECT_ERRNO(syscall(SYS_faccessat, d, "g", F_OK), ENOENT);
}

CASE(faccessat2, raw_symlink_nofollow) {
    EXPECT_OK(symlink("missing", "l"));
    EXPECT_EQ(syscall(SYS_faccessat2, AT_FDCWD, "l", F_OK, AT_SYMLINK_NOFOLLOW), 0);
    EXPECT_ERRNO(syscall(SYS_faccessat2, AT_FDCWD, "l", F_OK, 0), ENOENT);
    EXPECT_ERRNO(syscall(SYS_faccessat2, AT_FDCWD, "l", F_OK, 0x1), EINVAL);
}

CASE(mkdir, raw_mode_and_eexist) {
    EXPECT_EQ(syscall(SYS_mkdir, "d", 0750), 0);
    struct stat st;
    EXPECT_OK(stat("d", &st));
    EXPECT_EQ(st.st_mode & 0777, 0750);
    EXPECT_ERRNO(syscall(SYS_mkdir, "d", 0750), EEXIST);
}

CASE(mkdirat, raw_dirfd) {
    EXPECT_OK(mkdir("d", 0755));
    int d = (int)EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    EXPECT_EQ(syscall(SYS_mkdirat, d, "e", 0700), 0);
    EXPECT_OK(access("d/e", F_OK));
    EXPECT_ERRNO(syscall(SYS_mkdirat, d, "missing/e", 0700), ENOENT);
}

CASE(rmdir, raw_empty_and_nonempty) {
    EXPECT_OK(mkdir("d", 0755));
    put_file("d/f", "x");
    EXPECT_ERRNO(syscall(SYS_rmdir, "d"), ENOTEMPTY);
    EXPECT_OK(unlink("d/f"));
    EXPECT_EQ(syscall(SYS_rmdir, "d"), 0);
    EXPECT_ERRNO(syscall(SYS_rmdir, "d"), ENOENT);
}

CASE(link, raw_shares_inode) {
    put_file("f", "x");
    EXPECT_EQ(syscall(SYS_link, "f", "g"), 0);
    struct stat a, b;
    EXPECT_OK(stat("f", &a));
    EXPECT_OK(stat("g", &b));
    EXPECT_EQ(a.st_ino, b.st_ino);
    EXPECT_EQ(a.st_nlink, 2);
    EXPECT_ERRNO(syscall(SYS_link, "f", "g"), EEXIST);
}

CASE(linkat, raw_empty_path_needs_flag) {
    put_file("f", "x");
    int fd = (int)EXPECT_OK(open("f", O_RDONLY));
    EXPECT_EQ(syscall(SYS_linkat, AT_FDCWD, "f", AT_FDCWD, "g", 0), 0);
    EXPECT_ERRNO(syscall(SYS_linkat, fd, "", AT_FDCWD, "h", 0), ENOENT);
    EXPECT_ERRNO(syscall(SYS_linkat, AT_FDCWD, "f", AT_FDCWD, "h", 0x1), EINVAL);
}

CASE(unlink, raw_file_and_dir) {
    put_file("f", "x");
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_EQ(syscall(SYS_unlink, "f"), 0);
    EXPECT_ERRNO(syscall(SYS_unlink, "f"), ENOENT);
    EXPECT_ERRNO(syscall(SYS_unlink, "d"), EISDIR);
}

CASE(unlinkat, raw_removedir) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_ERRNO(syscall(SYS_unlinkat, AT_FDCWD, "d", 0), EISDIR);
    EXPECT_EQ(syscall(SYS_unlinkat, AT_FDCWD, "d", AT_REMOVEDIR), 0);
    EXPECT_ERRNO(syscall(SYS_unlinkat, AT_FDCWD, "d", 0x1), EINVAL);
}

CASE(symlink, raw_target_kept) {
    EXPECT_EQ(syscall(SYS_symlink, "some/target", "l"), 0);
    char b[32] = {0};
    EXPECT_EQ(readlink("l", b, sizeof b), 11);
    EXPECT_STREQ(b, "some/target");
    EXPECT_ERRNO(syscall(SYS_symlink, "x", "l"), EEXIST);
}

CASE(symlinkat, raw_dirfd) {
    EXPECT_OK(mkdir("d", 0755));
    int d = (int)EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    EXPECT_EQ(syscall(SYS_symlinkat, "t", d, "l"), 0);
    struct stat st;
    EXPECT_OK(lstat("d/l", &st));
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    EXPECT_ERRNO(syscall(SYS_symlinkat, "", d, "m"), ENOENT);
}

CASE(readlink, raw_returns_length) {
    EXPECT_OK(symlink("abcdef", "l"));
    char b[8] = {0};
    EXPECT_EQ(syscall(SYS_readlink, "l", b, 3), 3);
    EXPECT_EQ(memcmp(b, "abc", 3), 0);
    put_file("f", "x");
    EXPECT_ERRNO(syscall(SYS_readlink, "f", b, sizeof b), EINVAL);
}

CASE(readlinkat, raw_dirfd) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_OK(symlink("tgt", "d/l"));
    int d = (int)EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    char b[8] = {0};
    EXPECT_EQ(syscall(SYS_readlinkat, d, "l", b, sizeof b), 3);
    EXPECT_STREQ(b, "tgt");
    EXPECT_ERRNO(syscall(SYS_readlinkat, d, "missing", b, sizeof b), ENOENT);
}

CASE(rename, raw_replaces) {
    put_file("a", "A");
    put_file("b", "B");
    EXPECT_EQ(syscall(SYS_rename, "a", "b"), 0);
    char buf[4];
    EXPECT_EQ(get_file("b", buf, sizeof buf), 1);
    EXPECT_STREQ(buf, "A");
    EXPECT_ERRNO(syscall(SYS_rename, "a", "c"), ENOENT);
}

CASE(renameat, raw_dirfds) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_OK(mkdir("e", 0755));
    put_file("d/f", "x");
    int d = (int)EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    int e = (int)EXPECT_OK(open("e", O_RDONLY | O_DIRECTORY));
    EXPECT_EQ(syscall(SYS_renameat, d, "f", e, "g"), 0);
    EXPECT_OK(access("e/g", F_OK));
    EXPECT_ERRNO(syscall(SYS_renameat, d, "f", e, "g"), ENOENT);
}

CASE(renameat2, raw_noreplace_and_exchange) {
    put_file("a", "A");
    put_file("b", "B");
    EXPECT_ERRNO(syscall(SYS_renameat2, AT_FDCWD, "a", AT_FDCWD, "b", RENAME_NOREPLACE), EEXIST);
    EXPECT_EQ(syscall(SYS_renameat2, AT_FDCWD, "a", AT_FDCWD, "b", RENAME_EXCHANGE), 0);
    char buf[4];
    get_file("a", buf, sizeof buf);
    EXPECT_STREQ(buf, "B");
    EXPECT_ERRNO(syscall(SYS_renameat2, AT_FDCWD, "a", AT_FDCWD, "b", 0x100), EINVAL);
}

CASE(chmod, raw_mode) {
    put_file("f", "x");
    EXPECT_EQ(syscall(SYS_chmod, "f", 0604), 0);
    struct stat st;
    EXPECT_OK(stat("f", &st));
    EXPECT_EQ(st.st_mode & 07777, 0604);
    EXPECT_ERRNO(syscall(SYS_chmod, "missing", 0600), ENOENT);
}

CASE(fchmodat, raw_dirfd) {
    EXPECT_OK(mkdir("d", 0755));
    put_file("d/f", "x");
    int d = (int)EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    EXPECT_EQ(syscall(SYS_fchmodat, d, "f", 0600), 0);
    struct stat st;
    EXPECT_OK(stat("d/f", &st));
    EXPECT_EQ(st.st_mode & 0777, 0600);
    EXPECT_ERRNO(syscall(SYS_fchmodat, d, "g", 0600), ENOENT);
}

CASE(fchmodat2, raw_empty_path) {
    put_file("f", "x");
    int fd = (int)EXPECT_OK(open("f", O_RDONLY));
    EXPECT_EQ(syscall(SYS_fchmodat2, fd, "", 0611, AT_EMPTY_PATH), 0);
    struct stat st;
    EXPECT_OK(stat("f", &st));
    EXPECT_EQ(st.st_mode & 0777, 0611);
    EXPECT_ERRNO(syscall(SYS_fchmodat2, AT_FDCWD, "f", 0600, 0x1), EINVAL);
}

CASE(chown, raw_self_and_enoent) {
    put_file("f", "x");
    EXPECT_EQ(syscall(SYS_chown, "f", getuid(), getgid()), 0);
    EXPECT_ERRNO(syscall(SYS_chown, "missing", -1, -1), ENOENT);
}

CASE(lchown, raw_on_symlink) {
    EXPECT_OK(symlink("missing", "l"));
    EXPECT_EQ(syscall(SYS_lchown, "l", getuid(), getgid()), 0);
    EXPECT_ERRNO(syscall(SYS_chown, "l", -1, -1), ENOENT);
}

CASE(fchownat, raw_nofollow) {
    EXPECT_OK(symlink("missing", "l"));
    EXPECT_EQ(syscall(SYS_fchownat, AT_FDCWD, "l", -1, -1, AT_SYMLINK_NOFOLLOW), 0);
    EXPECT_ERRNO(syscall(SYS_fchownat, AT_FDCWD, "l", -1, -1, 0), ENOENT);
    EXPECT_ERRNO(syscall(SYS_fchownat, AT_FDCWD, "l", -1, -1, 0x1), EINVAL);
}

CASE(utime, raw_times) {
    put_file("f", "x");
    struct utimbuf t = {1000, 2000};
    EXPECT_EQ(syscall(SYS_utime, "f", &t), 0);
    struct stat st;
    EXPECT_OK(stat("f", &st));
    EXPECT_EQ(st.st_atime, 1000);
    EXPECT_EQ(st.st_mtime, 2000);
    EXPECT_ERRNO(syscall(SYS_utime, "missing", &t), ENOENT);
}

CASE(utimes, raw_microseconds) {
    put_file("f", "x");
    struct timeval tv[2] = {{10, 5}, {20, 7}};
    EXPECT_EQ(syscall(SYS_utimes, "f", tv), 0);
    struct stat st;
    EXPECT_OK(stat("f", &st));
    EXPECT_EQ(st.st_mtim.tv_sec, 20);
    EXPECT_EQ(st.st_mtim.tv_nsec, 7000);
    struct timeval bad[2] = {{0, 1000000}, {0, 0}};
    EXPECT_ERRNO(syscall(SYS_utimes, "f", bad), EINVAL);
}

CASE(futimesat, raw_dirfd) {
    EXPECT_OK(mkdir("d", 0755));
    put_file("d/f", "x");
    int d = (int)EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    struct timeval tv[2] = {{30, 0}, {40, 0}};
    EXPECT_EQ(syscall(SYS_futimesat, d, "f", tv), 0);
    struct stat st;
    EXPECT_OK(stat("d/f", &st));
    EXPECT_EQ(st.st_mtime, 40);
    EXPECT_ERRNO(syscall(SYS_futimesat, d, "g", tv), ENOENT);
}

CASE(mknod, raw_fifo) {
    EXPECT_EQ(syscall(SYS_mknod, "p", S_IFIFO | 0600, 0), 0);
    struct stat st;
    EXPECT_OK(lstat("p", &st));
    EXPECT_TRUE(S_ISFIFO(st.st_mode));
    EXPECT_ERRNO(syscall(SYS_mknod, "p", S_IFIFO | 0600, 0), EEXIST);
}

CASE(mknodat, raw_regular_dirfd) {
    EXPECT_OK(mkdir("d", 0755));
    int d = (int)EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    EXPECT_EQ(syscall(SYS_mknodat, d, "r", S_IFREG | 0600, 0), 0);
    struct stat st;
    EXPECT_OK(stat("d/r", &st));
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_ERRNO(syscall(SYS_mknodat, d, "x", 0170000 | 0600, 0), EINVAL);
}

CASE(statfs, raw_matches_fstatfs) {
    struct statfs a, b;
    EXPECT_EQ(syscall(SYS_statfs, ".", &a), 0);
    int fd = (int)EXPECT_OK(open(".", O_RDONLY | O_DIRECTORY));
    EXPECT_OK(fstatfs(fd, &b));
    EXPECT_EQ(a.f_type, b.f_type);
    EXPECT_ERRNO(syscall(SYS_statfs, "missing", &a), ENOENT);
}

CASE(truncate, raw_path) {
    put_file("f", "abcdef");
    EXPECT_EQ(syscall(SYS_truncate, "f", 2L), 0);
    struct stat st;
    EXPECT_OK(stat("f", &st));
    EXPECT_EQ(st.st_size, 2);
    EXPECT_ERRNO(syscall(SYS_truncate, "f", -1L), EINVAL);
    EXPECT_ERRNO(syscall(SYS_truncate, "missing", 0L), ENOENT);
}

CASE(chdir, raw_and_getcwd) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_EQ(syscall(SYS_chdir, "d"), 0);
    char b[PATH_MAX];
    EXPECT_TRUE(getcwd(b, sizeof b) != NULL);
    EXPECT_TRUE(strlen(b) > 2 && strcmp(b + strlen(b) - 2, "/d") == 0);
    EXPECT_ERRNO(syscall(SYS_chdir, "missing"), ENOENT);
}

CASE(execve, raw_exit_status_and_errors) {
    pid_t p = fork();
    if (p == 0) {
        char *argv[] = {harness_self, "--exit", "23", NULL};
        char *envp[] = {NULL};
        syscall(SYS_execve, harness_self, argv, envp);
        _exit(99);
    }
    int st;
    EXPECT_EQ(waitpid(p, &st, 0), p);
    EXPECT_EQ(WEXITSTATUS(st), 23);
    char *argv[] = {"x", NULL};
    EXPECT_ERRNO(syscall(SYS_execve, "missing", argv, NULL), ENOENT);
    EXPECT_ERRNO(syscall(SYS_execve, ".", argv, NULL), EACCES);
}

CASE(execveat, raw_dirfd_relative) {
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", harness_self);
    char *slash = strrchr(dir, '/');
    EXPECT_TRUE(slash != NULL);
    *slash = 0;
    int d = (int)EXPECT_OK(open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY));
    pid_t p = fork();
    if (p == 0) {
        char *argv[] = {slash + 1, "--exit", "24", NULL};
        char *envp[] = {NULL};
        syscall(SYS_execveat, d, slash + 1, argv, envp, 0);
        _exit(99);
    }
    int st;
    EXPECT_EQ(waitpid(p, &st, 0), p);
    EXPECT_EQ(WEXITSTATUS(st), 24);
    char *argv[] = {"x", NULL};
    EXPECT_ERRNO(syscall(SYS_execveat, d, "missing", argv, NULL, 0), ENOENT);
    EXPECT_ERRNO(syscall(SYS_execveat, d, "x", argv, NULL, 0x4), EINVAL);
}

CASE(getdents64, raw_dot_entries) {
    EXPECT_OK(mkdir("d", 0755));
    int d = (int)EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    char b[1024];
    long n = syscall(SYS_getdents64, d, b, sizeof b);
    EXPECT_TRUE(n > 0);
    EXPECT_EQ(syscall(SYS_getdents64, d, b, sizeof b), 0);
}

CASE(openat2, raw_resolve_no_symlinks) {
    put_file("f", "x");
    EXPECT_OK(symlink("f", "l"));
    struct open_how h = {.flags = O_RDONLY, .resolve = RESOLVE_NO_SYMLINKS};
    EXPECT_OK(syscall(SYS_openat2, AT_FDCWD, "f", &h, sizeof h));
    EXPECT_ERRNO(syscall(SYS_openat2, AT_FDCWD, "l", &h, sizeof h), ELOOP);
}

CASE(statx, raw_size) {
    put_file("f", "abcd");
    struct statx sx;
    EXPECT_EQ(syscall(SYS_statx, AT_FDCWD, "f", 0, STATX_SIZE, &sx), 0);
    EXPECT_EQ(sx.stx_size, 4);
}

CASE(utimensat, raw_omit_both) {
    put_file("f", "x");
    struct timespec t[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    EXPECT_EQ(syscall(SYS_utimensat, AT_FDCWD, "f", t, 0), 0);
    EXPECT_ERRNO(syscall(SYS_utimensat, AT_FDCWD, "f", NULL, 0x1), EINVAL);
}

CASE(uname, raw_sysname) {
    struct {
        char f[6][65];
    } u;
    EXPECT_EQ(syscall(SYS_uname, &u), 0);
    EXPECT_STREQ(u.f[0], "Linux");
}
