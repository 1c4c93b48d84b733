/* Huge or malformed syscall arguments aimed at the sentry's decoding of
 * workload memory (bad pointers, unterminated and overlong paths, -1
 * lengths, huge fd numbers) and fd exhaustion while the sentry installs
 * descriptors. Each call must fail as Linux fails it, and the sentry must
 * keep answering afterwards. */
#include "escape.h"
#include <dirent.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>

#define KERNEL_ADDR ((void *)0xffffffff81000000UL)
#define NONCANONICAL ((void *)0x0000800000000000UL)

static void bad_pointers(void) {
    expect_errno("open_null_path", syscall(SYS_open, NULL, O_RDONLY), EFAULT);
    expect_errno("open_kernel_address", syscall(SYS_open, KERNEL_ADDR, O_RDONLY), EFAULT);
    expect_errno("openat_noncanonical", syscall(SYS_openat, AT_FDCWD, NONCANONICAL, O_RDONLY), EFAULT);
    expect_errno("stat_bad_buffer", syscall(SYS_stat, "/etc/hostname", (void *)1), EFAULT);
    expect_errno("newfstatat_kernel_buffer", syscall(SYS_newfstatat, AT_FDCWD, "/etc", KERNEL_ADDR, 0), EFAULT);
    expect_errno("readlink_bad_buffer", syscall(SYS_readlink, "/proc/self/exe", (void *)1, 100), EFAULT);
    expect_errno("getcwd_bad_buffer", syscall(SYS_getcwd, (void *)1, 4096), EFAULT);
    expect_errno("statfs_bad_buffer", syscall(SYS_statfs, "/", (void *)1), EFAULT);
    expect_errno("rename_bad_second_path", syscall(SYS_rename, "/tmp/none", (void *)1), EFAULT);
    expect_errno("uname_bad_buffer", syscall(SYS_uname, (void *)1), EFAULT);
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    expect_errno("read_synthetic_bad_buffer", syscall(SYS_read, fd, (void *)1, 100), EFAULT);
    close(fd);
    int dfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    expect_errno("getdents64_bad_buffer", syscall(SYS_getdents64, dfd, (void *)1, 4096), EFAULT);
    close(dfd);
}

static void bad_lengths(void) {
    char buf[64];
    expect_errno("readlink_len_minus_1", syscall(SYS_readlink, "/proc/self/exe", buf, -1), EINVAL);
    expect_errno("readlink_len_0", syscall(SYS_readlink, "/proc/self/exe", buf, 0), EINVAL);
    expect_errno("getcwd_len_0", syscall(SYS_getcwd, buf, 0), ERANGE);
    expect_errno("getcwd_len_1", syscall(SYS_getcwd, buf, 1), ERANGE);
    int dfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    expect_errno("getdents64_len_1_synthetic", syscall(SYS_getdents64, dfd, buf, 1), EINVAL);
    close(dfd);
    dfd = open("/etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    expect_errno("getdents64_len_1_host_dir", syscall(SYS_getdents64, dfd, buf, 1), EINVAL);
    close(dfd);
    /* Emulated since the xattr family went through the gofer: a size
     * above XATTR_SIZE_MAX is clamped, and the attribute is absent. */
    expect_errno("getxattr_len_minus_1", syscall(SYS_getxattr, "/etc/hostname", "user.x", buf, (size_t)-1),
                 ENODATA);
    struct iovec iov = {buf, (size_t)-1};
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    expect_errno("readv_len_minus_1", syscall(SYS_readv, fd, &iov, 1), EINVAL);
    expect_errno("readv_iovcnt_huge", syscall(SYS_readv, fd, &iov, 1 << 20), EINVAL);
    close(fd);
    expect_errno("openat_fd_huge", syscall(SYS_openat, 1 << 30, "x", O_RDONLY), EBADF);
    expect_errno("openat_fd_negative", syscall(SYS_openat, -42, "x", O_RDONLY), EBADF);
    expect_errno("fchdir_fd_huge", syscall(SYS_fchdir, 0x7fffffff), EBADF);
    expect_errno("dup2_fd_huge", syscall(SYS_dup2, 0, 1 << 30), EBADF);
    expect_errno("openat_all_flags_set", syscall(SYS_openat, AT_FDCWD, "/etc/hostname", -1), ENOTDIR);
    expect_errno("openat2_size_huge", syscall(SYS_openat2, AT_FDCWD, "/etc/hostname", buf, (size_t)1 << 40), E2BIG);
    expect_errno("openat2_size_small", syscall(SYS_openat2, AT_FDCWD, "/etc/hostname", buf, 3), EINVAL);
}

static void bad_paths(void) {
    /* Longer than PATH_MAX. */
    static char longp[8192];
    memset(longp, 'a', sizeof longp - 1);
    longp[0] = '/';
    expect_errno("path_longer_than_path_max", syscall(SYS_open, longp, O_RDONLY), ENAMETOOLONG);
    /* A component longer than NAME_MAX. */
    static char longname[400];
    memset(longname, 'b', sizeof longname - 1);
    longname[0] = '/';
    expect_errno("component_longer_than_name_max", syscall(SYS_open, longname, O_RDONLY), ENAMETOOLONG);
    /* A path running into an unmapped page without a NUL. */
    char *pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(pages + 4096, 4096);
    memset(pages, 'c', 4096);
    pages[0] = '/';
    expect_errno("path_runs_into_unmapped_page", syscall(SYS_open, pages + 100, O_RDONLY), EFAULT);
    expect_errno("empty_path", syscall(SYS_open, "", O_RDONLY), ENOENT);
    /* Unmapping the page under a racing read is the TOCTOU suite's business;
     * here a page that is PROT_NONE from the start. */
    char *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    expect_errno("path_in_prot_none_page", syscall(SYS_open, none, O_RDONLY), EFAULT);
    munmap(none, 4096);
    munmap(pages, 4096);
}

/* Fill the fd table: opens the sentry answers (synthetic and gofer files)
 * must fail with EMFILE, never past the limit, and work again after a close. */
static void fd_exhaustion(void) {
    struct rlimit rl = {64, 64};
    setrlimit(RLIMIT_NOFILE, &rl);
    int fds[128], n = 0, err = 0;
    for (; n < 128; n++) {
        fds[n] = open(n % 2 ? "/etc/hostname" : "/proc/self/status", O_RDONLY | O_CLOEXEC);
        if (fds[n] < 0) {
            err = errno;
            break;
        }
    }
    int highest = n > 0 ? fds[n - 1] : -1;
    report("fd_exhaustion_emfile", err == EMFILE && highest < 64, "%d opens succeeded (highest fd %d), then errno=%d (%s)", n, highest,
           err, strerrorname_np(err) ? strerrorname_np(err) : "?");
    expect_errno("fd_exhaustion_gofer_open", open("/etc/hostname", O_RDONLY | O_CLOEXEC), EMFILE);
    expect_errno("fd_exhaustion_synthetic_open", open("/proc/self/stat", O_RDONLY | O_CLOEXEC), EMFILE);
    expect_errno("fd_exhaustion_opendir", open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC), EMFILE);
    if (n > 0) close(fds[--n]);
    int again = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
    report("fd_exhaustion_recovers", again >= 0, "open after one close: %s", again >= 0 ? "ok" : strerror(errno));
    if (again >= 0) close(again);
    while (n > 0) close(fds[--n]);
    rl.rlim_cur = rl.rlim_max = 1024;
    setrlimit(RLIMIT_NOFILE, &rl);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    bad_pointers();
    bad_lengths();
    bad_paths();
    fd_exhaustion();
    sentry_still_answers("args_sentry_alive");
    return finish();
}
