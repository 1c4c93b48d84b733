/* mount(2), umount2(2), pivot_root(2), chroot(2) and the new mount API.
 *
 * Without CAP_SYS_ADMIN (a child that switched to uid 65534) Linux gives
 * EPERM after checking the flags and looking the paths up. `admin_*` cases
 * need CAP_SYS_ADMIN (see nshelp.h); they first make a private mount
 * namespace, so a native run never changes the host's mounts. */
#include "harness.h"
#include "nshelp.h"
#include <linux/magic.h>
#include <linux/mount.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#define ERR(expr) ((expr) == -1 ? errno : 0)

/* The scratch dir is mode 0700 (mkdtemp): open it up for uid 65534. */
static void open_scratch(void) {
    EXPECT_OK(chmod(harness_scratch, 0755));
    EXPECT_OK(mkdir("d", 0777));
    put_file("f", "x");
}

static int nobody_mount_tmpfs(void) { return ERR(mount("none", "d", "tmpfs", 0, NULL)); }
CASE(mount, tmpfs_without_cap_eperm) {
    open_scratch();
    EXPECT_EQ(as_nobody(nobody_mount_tmpfs), EPERM);
}

static int nobody_mount_bind(void) { return ERR(mount("d", "d", NULL, MS_BIND, NULL)); }
CASE(mount, bind_without_cap_eperm) {
    open_scratch();
    EXPECT_EQ(as_nobody(nobody_mount_bind), EPERM);
}

static int nobody_remount(void) {
    return ERR(mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL));
}
CASE(mount, remount_without_cap_eperm) { EXPECT_EQ(as_nobody(nobody_remount), EPERM); }

static int nobody_make_private(void) { return ERR(mount(NULL, "/", NULL, MS_PRIVATE, NULL)); }
CASE(mount, propagation_change_without_cap_eperm) {
    EXPECT_EQ(as_nobody(nobody_make_private), EPERM);
}

static int nobody_move(void) { return ERR(mount("d", "f", NULL, MS_MOVE, NULL)); }
CASE(mount, move_without_cap_eperm) {
    open_scratch();
    EXPECT_EQ(as_nobody(nobody_move), EPERM);
}

static int nobody_mount_missing(void) { return ERR(mount("none", "nothere", "tmpfs", 0, NULL)); }
CASE(mount, missing_target_enoent_before_eperm) {
    open_scratch();
    EXPECT_EQ(as_nobody(nobody_mount_missing), ENOENT);
}

static int nobody_umount(void) { return ERR(umount2("d", 0)); }
CASE(umount2, without_cap_eperm) {
    open_scratch();
    EXPECT_EQ(as_nobody(nobody_umount), EPERM);
}

static int nobody_umount_detach(void) { return ERR(umount2("/", MNT_DETACH)); }
CASE(umount2, detach_without_cap_eperm) { EXPECT_EQ(as_nobody(nobody_umount_detach), EPERM); }

CASE(umount2, unknown_flag_einval) { EXPECT_ERRNO(umount2("/", 0x100), EINVAL); }

CASE(umount2, admin_expire_with_detach_einval) {
    need_admin();
    /* MNT_EXPIRE cannot be combined with MNT_FORCE or MNT_DETACH. */
    EXPECT_OK(unshare(CLONE_NEWNS));
    EXPECT_OK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
    EXPECT_OK(mkdir("m", 0755));
    EXPECT_OK(mount("none", "m", "tmpfs", 0, NULL));
    EXPECT_ERRNO(umount2("m", MNT_EXPIRE | MNT_DETACH), EINVAL);
}

static int nobody_umount_missing(void) { return ERR(umount2("nothere", 0)); }
CASE(umount2, missing_path_enoent_before_eperm) {
    open_scratch();
    EXPECT_EQ(as_nobody(nobody_umount_missing), ENOENT);
}

static int nobody_pivot(void) { return ERR(syscall(SYS_pivot_root, ".", ".")); }
CASE(pivot_root, without_cap_eperm) { EXPECT_EQ(as_nobody(nobody_pivot), EPERM); }

static int nobody_chroot(void) { return ERR(chroot("/")); }
CASE(chroot, without_cap_sys_chroot_eperm) { EXPECT_EQ(as_nobody(nobody_chroot), EPERM); }

static int nobody_fsopen(void) { return ERR(syscall(SYS_fsopen, "tmpfs", 0)); }
CASE(fsopen, without_cap_eperm) { EXPECT_EQ(as_nobody(nobody_fsopen), EPERM); }

static int nobody_fspick(void) { return ERR(syscall(SYS_fspick, AT_FDCWD, "/", 0)); }
CASE(fspick, without_cap_eperm) { EXPECT_EQ(as_nobody(nobody_fspick), EPERM); }

static int nobody_fsmount(void) { return ERR(syscall(SYS_fsmount, 0, 0, 0)); }
CASE(fsmount, without_cap_eperm) { EXPECT_EQ(as_nobody(nobody_fsmount), EPERM); }

static int nobody_move_mount(void) {
    return ERR(syscall(SYS_move_mount, AT_FDCWD, "d", AT_FDCWD, "f", 0));
}
CASE(move_mount, without_cap_eperm) {
    open_scratch();
    EXPECT_EQ(as_nobody(nobody_move_mount), EPERM);
}

static int nobody_open_tree_clone(void) {
    return ERR(syscall(SYS_open_tree, AT_FDCWD, "/", OPEN_TREE_CLONE));
}
CASE(open_tree, clone_without_cap_eperm) { EXPECT_EQ(as_nobody(nobody_open_tree_clone), EPERM); }

static int nobody_mount_setattr(void) {
    struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY};
    return ERR(syscall(SYS_mount_setattr, AT_FDCWD, "/", 0, &a, sizeof a));
}
CASE(mount_setattr, without_cap_eperm) { EXPECT_EQ(as_nobody(nobody_mount_setattr), EPERM); }

CASE(mount_setattr, unknown_flag_einval) {
    struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY};
    EXPECT_ERRNO(syscall(SYS_mount_setattr, AT_FDCWD, "/", 0x80000000u, &a, sizeof a), EINVAL);
}

/* ---- with CAP_SYS_ADMIN, in a private mount namespace ---- */

static void private_ns(void) {
    need_admin();
    EXPECT_OK(unshare(CLONE_NEWNS));
    EXPECT_OK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
}

CASE(mount, admin_tmpfs_is_empty_and_tmpfs) {
    private_ns();
    EXPECT_OK(mkdir("m", 0755));
    put_file("m/under", "x");
    EXPECT_OK(mount("none", "m", "tmpfs", 0, NULL));
    struct statfs sf;
    EXPECT_OK(statfs("m", &sf));
    EXPECT_EQ(sf.f_type, TMPFS_MAGIC);
    EXPECT_ERRNO(access("m/under", F_OK), ENOENT);
    put_file("m/new", "y");
    EXPECT_OK(umount2("m", 0));
    EXPECT_OK(access("m/under", F_OK));
    EXPECT_ERRNO(access("m/new", F_OK), ENOENT);
}

CASE(mount, admin_tmpfs_mode_option) {
    private_ns();
    EXPECT_OK(mkdir("m", 0755));
    EXPECT_OK(mount("none", "m", "tmpfs", 0, "mode=0710"));
    struct stat st;
    EXPECT_OK(stat("m", &st));
    EXPECT_EQ(st.st_mode & 07777, 0710);
}

CASE(mount, admin_tmpfs_size_option_enospc) {
    private_ns();
    EXPECT_OK(mkdir("m", 0755));
    EXPECT_OK(mount("none", "m", "tmpfs", 0, "size=8k"));
    int fd = EXPECT_OK(open("m/big", O_WRONLY | O_CREAT, 0644));
    static char buf[65536];
    ssize_t r;
    int i = 0;
    while ((r = write(fd, buf, sizeof buf)) > 0 && i++ < 64)
        ;
    EXPECT_EQ(r, -1);
    EXPECT_EQ(errno, ENOSPC);
}

CASE(mount, admin_unknown_fstype_enodev) {
    private_ns();
    EXPECT_OK(mkdir("m", 0755));
    EXPECT_ERRNO(mount("none", "m", "nosuchfs", 0, NULL), ENODEV);
}

CASE(mount, admin_missing_target_enoent) {
    private_ns();
    EXPECT_ERRNO(mount("none", "nothere", "tmpfs", 0, NULL), ENOENT);
}

CASE(mount, admin_target_not_dir_for_tmpfs_enotdir) {
    private_ns();
    put_file("f", "x");
    EXPECT_ERRNO(mount("none", "f/x", "tmpfs", 0, NULL), ENOTDIR);
}

CASE(mount, admin_bind_dir_shows_source) {
    private_ns();
    EXPECT_OK(mkdir("a", 0755));
    EXPECT_OK(mkdir("b", 0755));
    put_file("a/file", "bound");
    EXPECT_OK(mount("a", "b", NULL, MS_BIND, NULL));
    char buf[16];
    EXPECT_TRUE(get_file("b/file", buf, sizeof buf) > 0);
    EXPECT_STREQ(buf, "bound");
    put_file("b/back", "z");
    EXPECT_OK(access("a/back", F_OK));
}

CASE(mount, admin_bind_file) {
    private_ns();
    put_file("src", "one");
    put_file("dst", "two");
    EXPECT_OK(mount("src", "dst", NULL, MS_BIND, NULL));
    char buf[16];
    EXPECT_TRUE(get_file("dst", buf, sizeof buf) > 0);
    EXPECT_STREQ(buf, "one");
}

CASE(mount, admin_bind_missing_source_enoent) {
    private_ns();
    EXPECT_OK(mkdir("b", 0755));
    EXPECT_ERRNO(mount("nothere", "b", NULL, MS_BIND, NULL), ENOENT);
}

CASE(mount, admin_bind_file_on_dir_enotdir) {
    private_ns();
    put_file("src", "one");
    EXPECT_OK(mkdir("b", 0755));
    EXPECT_ERRNO(mount("src", "b", NULL, MS_BIND, NULL), ENOTDIR);
}

CASE(mount, admin_remount_bind_readonly_erofs) {
    private_ns();
    EXPECT_OK(mkdir("a", 0755));
    EXPECT_OK(mount("a", "a", NULL, MS_BIND, NULL));
    EXPECT_OK(mount(NULL, "a", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL));
    EXPECT_ERRNO(open("a/new", O_WRONLY | O_CREAT, 0644), EROFS);
    EXPECT_ERRNO(mkdir("a/dir", 0755), EROFS);
}

CASE(mount, admin_remount_back_to_rw) {
    private_ns();
    EXPECT_OK(mkdir("m", 0755));
    EXPECT_OK(mount("none", "m", "tmpfs", MS_RDONLY, NULL));
    EXPECT_ERRNO(mkdir("m/x", 0755), EROFS);
    EXPECT_OK(mount(NULL, "m", NULL, MS_REMOUNT, NULL));
    EXPECT_OK(mkdir("m/x", 0755));
}

CASE(mount, admin_remount_not_a_mount_einval) {
    private_ns();
    EXPECT_OK(mkdir("m", 0755));
    EXPECT_ERRNO(mount(NULL, "m", NULL, MS_REMOUNT, NULL), EINVAL);
}

CASE(mount, admin_nosuid_noexec_in_statfs_flags) {
    private_ns();
    EXPECT_OK(mkdir("m", 0755));
    EXPECT_OK(mount("none", "m", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL));
    struct statfs sf;
    EXPECT_OK(statfs("m", &sf));
    EXPECT_TRUE((sf.f_flags & ST_NOSUID) && (sf.f_flags & ST_NOEXEC) && (sf.f_flags & ST_NODEV));
}

CASE(mount, admin_noexec_execve_eacces) {
    private_ns();
    EXPECT_OK(mkdir("m", 0755));
    EXPECT_OK(mount("none", "m", "tmpfs", MS_NOEXEC, NULL));
    put_file("m/prog", "#!/bin/sh\nexit 0\n");
    EXPECT_OK(chmod("m/prog", 0755));
    char *argv[] = {"prog", NULL};
    EXPECT_ERRNO(execve("m/prog", argv, argv + 1), EACCES);
}

CASE(mount, admin_new_mount_in_mountinfo) {
    private_ns();
    EXPECT_OK(mkdir("m", 0755));
    EXPECT_OK(mount("runrs-conf", "m", "tmpfs", 0, NULL));
    static char buf[65536];
    EXPECT_TRUE(get_file("/proc/self/mountinfo", buf, sizeof buf) > 0);
    char want[PATH_MAX + 8];
    snprintf(want, sizeof want, "%s/m ", harness_scratch);
    EXPECT_TRUE(strstr(buf, want) != NULL);
    EXPECT_TRUE(strstr(buf, "runrs-conf") != NULL);
}

CASE(mount, admin_move_a_mount) {
    private_ns();
    EXPECT_OK(mkdir("a", 0755));
    EXPECT_OK(mkdir("b", 0755));
    EXPECT_OK(mount("none", "a", "tmpfs", 0, NULL));
    put_file("a/x", "1");
    EXPECT_OK(mount("a", "b", NULL, MS_MOVE, NULL));
    EXPECT_OK(access("b/x", F_OK));
    EXPECT_ERRNO(access("a/x", F_OK), ENOENT);
}

CASE(umount2, admin_not_a_mount_einval) {
    private_ns();
    EXPECT_OK(mkdir("m", 0755));
    EXPECT_ERRNO(umount2("m", 0), EINVAL);
}

CASE(umount2, admin_busy_ebusy_then_detach) {
    private_ns();
    EXPECT_OK(mkdir("m", 0755));
    EXPECT_OK(mount("none", "m", "tmpfs", 0, NULL));
    int fd = EXPECT_OK(open("m/held", O_WRONLY | O_CREAT, 0644));
    EXPECT_ERRNO(umount2("m", 0), EBUSY);
    EXPECT_OK(umount2("m", MNT_DETACH));
    EXPECT_EQ(write(fd, "x", 1), 1);
    EXPECT_ERRNO(access("m/held", F_OK), ENOENT);
}

CASE(umount2, admin_expire_marks_then_unmounts) {
    private_ns();
    EXPECT_OK(mkdir("m", 0755));
    EXPECT_OK(mount("none", "m", "tmpfs", 0, NULL));
    EXPECT_ERRNO(umount2("m", MNT_EXPIRE), EAGAIN);
    EXPECT_OK(umount2("m", MNT_EXPIRE));
}

CASE(umount2, admin_nofollow_symlink_einval) {
    private_ns();
    EXPECT_OK(mkdir("m", 0755));
    EXPECT_OK(mount("none", "m", "tmpfs", 0, NULL));
    EXPECT_OK(symlink("m", "link"));
    EXPECT_ERRNO(umount2("link", UMOUNT_NOFOLLOW), EINVAL);
    EXPECT_OK(umount2("link", 0));
}

CASE(fsopen, admin_tmpfs_new_api) {
    private_ns();
    EXPECT_OK(mkdir("m", 0755));
    int fs = EXPECT_OK(syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC));
    EXPECT_OK(syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0));
    int mfd = EXPECT_OK(syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0));
    EXPECT_OK(syscall(SYS_move_mount, mfd, "", AT_FDCWD, "m", MOVE_MOUNT_F_EMPTY_PATH));
    struct statfs sf;
    EXPECT_OK(statfs("m", &sf));
    EXPECT_EQ(sf.f_type, TMPFS_MAGIC);
}

CASE(fsopen, admin_unknown_fs_enodev) {
    need_admin();
    EXPECT_ERRNO(syscall(SYS_fsopen, "nosuchfs", 0), ENODEV);
}

CASE(open_tree, admin_clone_and_attach) {
    private_ns();
    EXPECT_OK(mkdir("a", 0755));
    EXPECT_OK(mkdir("b", 0755));
    put_file("a/f", "1");
    int t = EXPECT_OK(syscall(SYS_open_tree, AT_FDCWD, "a", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
    EXPECT_OK(syscall(SYS_move_mount, t, "", AT_FDCWD, "b", MOVE_MOUNT_F_EMPTY_PATH));
    EXPECT_OK(access("b/f", F_OK));
}

CASE(pivot_root, admin_missing_new_root_enoent) {
    private_ns();
    EXPECT_ERRNO(syscall(SYS_pivot_root, "nothere", "nothere"), ENOENT);
}
