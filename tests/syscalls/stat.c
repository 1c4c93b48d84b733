/* stat(2)/lstat(2)/fstatat(2) */
#include "harness.h"
#include <linux/capability.h>

CASE(stat, regular_file_size_mode) {
    put_file("f", "hello");
    EXPECT_OK(chmod("f", 0640));
    struct stat st;
    EXPECT_OK(stat("f", &st));
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0640);
    EXPECT_EQ(st.st_size, 5);
    EXPECT_EQ(st.st_nlink, 1);
}

CASE(stat, follows_symlink) {
    put_file("f", "hello");
    EXPECT_OK(symlink("f", "l"));
    struct stat a, b;
    EXPECT_OK(stat("f", &a));
    EXPECT_OK(stat("l", &b));
    EXPECT_EQ(a.st_ino, b.st_ino);
    EXPECT_TRUE(S_ISREG(b.st_mode));
}

CASE(stat, lstat_symlink) {
    EXPECT_OK(symlink("target-name", "l"));
    struct stat st;
    EXPECT_OK(lstat("l", &st));
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    EXPECT_EQ(st.st_size, 11);
}

CASE(stat, dangling_symlink) {
    EXPECT_OK(symlink("nowhere", "l"));
    struct stat st;
    EXPECT_ERRNO(stat("l", &st), ENOENT);
    EXPECT_OK(lstat("l", &st));
}

/* Symlinks followed to their end: relative (with ..), absolute, chains, a
 * trailing slash, loops; a link or target changed in between is seen by the
 * next stat. (runrs follows these in its directory cache.) */
COVERS("symlink unlink")
CASE(stat, follows_symlink_chains_and_sees_them_change) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_OK(mkdir("d/sub", 0755));
    put_file("d/f", "12345");
    char cwd[2048], abs[2100];
    EXPECT_TRUE(getcwd(cwd, sizeof cwd) != NULL);
    snprintf(abs, sizeof abs, "%s/d/f", cwd);
    EXPECT_OK(symlink("../f", "d/sub/rel"));
    EXPECT_OK(symlink(abs, "d/abs"));
    EXPECT_OK(symlink("sub/rel", "d/chain"));
    EXPECT_OK(symlink("nope", "d/dangling"));
    EXPECT_OK(symlink("sub", "d/todir"));
    EXPECT_OK(symlink("loop2", "d/loop1"));
    EXPECT_OK(symlink("loop1", "d/loop2"));
    struct stat st;
    EXPECT_OK(stat("d/abs", &st));
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_size, 5);
    EXPECT_OK(stat("d/chain", &st));
    EXPECT_EQ(st.st_size, 5);
    EXPECT_ERRNO(stat("d/dangling", &st), ENOENT);
    EXPECT_ERRNO(stat("d/chain/", &st), ENOTDIR);
    EXPECT_OK(stat("d/todir/", &st));
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_ERRNO(stat("d/loop1", &st), ELOOP);
    /* The middle link now points elsewhere; the dangling one comes true. */
    put_file("d/g", "1234567");
    EXPECT_OK(unlink("d/sub/rel"));
    EXPECT_OK(symlink("../g", "d/sub/rel"));
    EXPECT_OK(stat("d/chain", &st));
    EXPECT_EQ(st.st_size, 7);
    put_file("d/nope", "xy");
    EXPECT_OK(stat("d/dangling", &st));
    EXPECT_EQ(st.st_size, 2);
}

CASE(stat, enoent_enotdir) {
    struct stat st;
    put_file("f", "x");
    EXPECT_ERRNO(stat("missing", &st), ENOENT);
    EXPECT_ERRNO(stat("f/x", &st), ENOTDIR);
    EXPECT_ERRNO(stat("", &st), ENOENT);
}

CASE(stat, matches_fstat) {
    put_file("f", "abc");
    int fd = EXPECT_OK(open("f", O_RDONLY));
    struct stat a, b;
    EXPECT_OK(stat("f", &a));
    EXPECT_OK(fstat(fd, &b));
    EXPECT_EQ(a.st_ino, b.st_ino);
    EXPECT_EQ(a.st_dev, b.st_dev);
    EXPECT_EQ(a.st_mtime, b.st_mtime);
}

CASE(stat, dir_nlink) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_OK(mkdir("d/a", 0755));
    EXPECT_OK(mkdir("d/b", 0755));
    struct stat st;
    EXPECT_OK(stat("d", &st));
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_nlink, 4);
}

CASE(stat, uid_gid_of_new_file) {
    put_file("f", "x");
    struct stat st;
    EXPECT_OK(stat("f", &st));
    EXPECT_EQ(st.st_uid, geteuid());
    EXPECT_EQ(st.st_gid, getegid());
}

CASE(stat, fstatat_empty_path) {
    put_file("f", "abcd");
    int fd = EXPECT_OK(open("f", O_RDONLY));
    struct stat st;
    EXPECT_OK(fstatat(fd, "", &st, AT_EMPTY_PATH));
    EXPECT_EQ(st.st_size, 4);
    EXPECT_ERRNO(fstatat(fd, "", &st, 0), ENOENT);
}

CASE(stat, fstatat_empty_path_cwd) {
    struct stat a, b;
    EXPECT_OK(fstatat(AT_FDCWD, "", &a, AT_EMPTY_PATH));
    EXPECT_OK(stat(harness_scratch, &b));
    EXPECT_EQ(a.st_ino, b.st_ino);
}

CASE(stat, fstatat_symlink_nofollow) {
    put_file("f", "x");
    EXPECT_OK(symlink("f", "l"));
    int dfd = EXPECT_OK(open(".", O_RDONLY | O_DIRECTORY));
    struct stat st;
    EXPECT_OK(fstatat(dfd, "l", &st, AT_SYMLINK_NOFOLLOW));
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    EXPECT_OK(fstatat(dfd, "l", &st, 0));
    EXPECT_TRUE(S_ISREG(st.st_mode));
}

CASE(stat, fstatat_bad_flags_einval) {
    struct stat st;
    EXPECT_ERRNO(fstatat(AT_FDCWD, ".", &st, 0x40000000), EINVAL);
}

CASE(stat, proc_is_procfs_dir) {
    struct stat st;
    EXPECT_OK(stat("/proc/self", &st));
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_OK(lstat("/proc/self", &st));
    EXPECT_TRUE(S_ISLNK(st.st_mode));
}

/* The sentry keeps directories it walked: a rename, rmdir or a symlink in
 * a directory's place must show at once, also to lookups of names that do
 * not exist. */
COVERS("rename rmdir unlink symlink open")
CASE(stat, dir_renamed_removed_and_replaced) {
    struct stat st;
    EXPECT_OK(mkdir("d", 0755));
    put_file("d/f", "x");
    EXPECT_OK(stat("d/f", &st));
    EXPECT_ERRNO(stat("d/g", &st), ENOENT);
    EXPECT_OK(rename("d", "e"));
    EXPECT_ERRNO(stat("d/f", &st), ENOENT);
    EXPECT_OK(stat("e/f", &st));
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_ERRNO(stat("d/f", &st), ENOENT);
    EXPECT_ERRNO(open("d/f", O_RDONLY), ENOENT);
    put_file("d/f", "yy");
    EXPECT_OK(stat("d/f", &st));
    EXPECT_EQ(st.st_size, 2);
    EXPECT_OK(unlink("d/f"));
    EXPECT_ERRNO(stat("d/f", &st), ENOENT);
    EXPECT_OK(rmdir("d"));
    EXPECT_OK(symlink("e", "d"));
    EXPECT_OK(stat("d/f", &st));
    EXPECT_EQ(st.st_size, 1);
    EXPECT_OK(lstat("d", &st));
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    EXPECT_OK(mkdir("e/sub", 0755));
    put_file("e/sub/f", "zzz");
    EXPECT_OK(stat("e/sub/f", &st));
    EXPECT_OK(rename("e/sub", "top"));
    EXPECT_ERRNO(stat("e/sub/f", &st), ENOENT);
    EXPECT_OK(stat("top/f", &st));
    EXPECT_EQ(st.st_size, 3);
}

/* Without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH the directory's own
 * mode decides, as soon as it changes. */
COVERS("capset chmod open")
CASE(stat, search_permission_follows_chmod) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    EXPECT_OK(syscall(SYS_capget, &h, d));
    d[0].effective &= ~((1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH));
    EXPECT_OK(syscall(SYS_capset, &h, d));
    struct stat st;
    EXPECT_OK(mkdir("d", 0755));
    put_file("d/f", "x");
    EXPECT_OK(stat("d/f", &st));
    EXPECT_OK(chmod("d", 0600));
    EXPECT_ERRNO(stat("d/f", &st), EACCES);
    EXPECT_ERRNO(open("d/missing", O_RDONLY), EACCES);
    EXPECT_OK(chmod("d", 0700));
    EXPECT_OK(stat("d/f", &st));
    EXPECT_ERRNO(open("d/missing", O_RDONLY), ENOENT);
    /* The owner is judged by the owner's bits, whatever others get (also
     * when every directory above lets everyone search). */
    EXPECT_OK(chmod(".", 0711));
    EXPECT_OK(chmod("d", 0611));
    EXPECT_ERRNO(stat("d/f", &st), EACCES);
    EXPECT_OK(chmod("d", 0711));
    EXPECT_OK(stat("d/f", &st));
}

/* Trailing slashes and names that exist, as the sentry's directory cache
 * answers them: stat("f/") is ENOTDIR, "d/" the directory, "l/" follows a
 * symlink to one; mkdir of any existing name, with or without the slash,
 * is EEXIST. */
COVERS("mkdir lstat")
CASE(stat, trailing_slash_and_mkdir_of_existing_names) {
    struct stat st;
    put_file("f", "x");
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_OK(symlink("d", "l"));
    EXPECT_OK(symlink("nowhere", "dangling"));
    EXPECT_ERRNO(stat("f/", &st), ENOTDIR);
    EXPECT_ERRNO(lstat("f/", &st), ENOTDIR);
    EXPECT_OK(stat("d/", &st));
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_OK(lstat("l/", &st));
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_ERRNO(stat("missing/", &st), ENOENT);
    EXPECT_ERRNO(stat("dangling/", &st), ENOENT);
    EXPECT_ERRNO(mkdir("d", 0755), EEXIST);
    EXPECT_ERRNO(mkdir("d/", 0755), EEXIST);
    EXPECT_ERRNO(mkdir("f", 0755), EEXIST);
    EXPECT_ERRNO(mkdir("l", 0755), EEXIST);
    EXPECT_ERRNO(mkdir("dangling", 0755), EEXIST);
    EXPECT_ERRNO(open("missing/", O_RDONLY), ENOENT);
    EXPECT_OK(mkdir("new/", 0700));
    EXPECT_OK(stat("new", &st));
    EXPECT_EQ(st.st_mode & 07777, 0700);
}
