/* access(2)/faccessat(2)/faccessat2 */
#include "harness.h"
#include <linux/capability.h>

CASE(access, f_ok_exists_and_enoent) {
    put_file("f", "x");
    EXPECT_OK(access("f", F_OK));
    EXPECT_ERRNO(access("missing", F_OK), ENOENT);
    EXPECT_ERRNO(access("f/x", F_OK), ENOTDIR);
}

CASE(access, x_ok_needs_an_exec_bit) {
    /* even for root: X_OK on a regular file needs some x bit */
    put_file("f", "x");
    EXPECT_OK(chmod("f", 0644));
    EXPECT_ERRNO(access("f", X_OK), EACCES);
    EXPECT_OK(chmod("f", 0744));
    EXPECT_OK(access("f", X_OK));
}

CASE(access, mode_000_follows_dac_override) {
    put_file("f", "x");
    EXPECT_OK(chmod("f", 0));
    /* access() checks with the real ids; for uid 0 the kernel uses the
     * permitted set, which holds the effective one here (harness runs
     * with effective == permitted) */
    if (has_cap(CAP_DAC_OVERRIDE)) {
        EXPECT_OK(access("f", R_OK | W_OK));
        return;
    }
    /* CAP_DAC_READ_SEARCH alone overrides reading only. */
    if (has_cap(CAP_DAC_READ_SEARCH))
        EXPECT_OK(access("f", R_OK));
    else
        EXPECT_ERRNO(access("f", R_OK), EACCES);
    EXPECT_ERRNO(access("f", W_OK), EACCES);
}

CASE(access, owner_bits_without_override) {
    put_file("f", "x");
    EXPECT_OK(chmod("f", 0400));
    EXPECT_OK(access("f", R_OK));
    if (!has_cap(CAP_DAC_OVERRIDE))
        EXPECT_ERRNO(access("f", W_OK), EACCES);
    else
        EXPECT_OK(access("f", W_OK));
}

CASE(access, invalid_mode_einval) {
    EXPECT_ERRNO(access(".", 0x100), EINVAL);
}

CASE(access, dir_search) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_OK(access("d", R_OK | X_OK));
}

CASE(access, faccessat_dirfd) {
    EXPECT_OK(mkdir("d", 0755));
    put_file("d/f", "x");
    int dfd = EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    EXPECT_OK(faccessat(dfd, "f", R_OK, 0));
    EXPECT_ERRNO(faccessat(dfd, "g", R_OK, 0), ENOENT);
}

CASE(access, faccessat2_symlink_nofollow) {
    EXPECT_OK(symlink("nowhere", "l"));
    EXPECT_ERRNO(syscall(SYS_faccessat2, AT_FDCWD, "l", F_OK, 0), ENOENT);
    EXPECT_OK(syscall(SYS_faccessat2, AT_FDCWD, "l", F_OK, AT_SYMLINK_NOFOLLOW));
}

CASE(access, faccessat2_eaccess) {
    put_file("f", "x");
    EXPECT_OK(syscall(SYS_faccessat2, AT_FDCWD, "f", R_OK, AT_EACCESS));
}

CASE(access, faccessat2_empty_path) {
    put_file("f", "x");
    int fd = EXPECT_OK(open("f", O_RDONLY));
    EXPECT_OK(syscall(SYS_faccessat2, fd, "", R_OK, AT_EMPTY_PATH));
}

CASE(access, faccessat2_bad_flags_einval) {
    EXPECT_ERRNO(syscall(SYS_faccessat2, AT_FDCWD, ".", F_OK, 0x1), EINVAL);
}
