/* The xattr families one by one, and POSIX ACLs (system.posix_acl_access,
 * system.posix_acl_default) set and read as xattrs, enforced by access
 * checks and inherited on create, as acl(5) describes. */
#include "harness.h"
#include <sys/wait.h>
#include <sys/xattr.h>

static void need_user_xattrs(void) {
    put_file("probe", "x");
    if (setxattr("probe", "user.probe", "1", 1, 0) != 0) {
        if (errno == EOPNOTSUPP)
            harness_skip("no user xattrs on this filesystem");
        FAIL("setxattr probe: %s", harness_errname(errno));
    }
    unlink("probe");
}

#define ERR(expr) ((expr) == -1 ? errno : 0)

/* ---- getxattr / lgetxattr / fgetxattr ---- */

CASE(getxattr, missing_attr_enodata) {
    need_user_xattrs();
    put_file("f", "x");
    char b[8];
    EXPECT_ERRNO(getxattr("f", "user.none", b, sizeof b), ENODATA);
}

CASE(getxattr, size_zero_returns_length) {
    need_user_xattrs();
    put_file("f", "x");
    EXPECT_OK(setxattr("f", "user.k", "12345", 5, 0));
    EXPECT_EQ(getxattr("f", "user.k", NULL, 0), 5);
}

CASE(getxattr, short_buffer_erange) {
    need_user_xattrs();
    put_file("f", "x");
    EXPECT_OK(setxattr("f", "user.k", "12345", 5, 0));
    char b[4];
    EXPECT_ERRNO(getxattr("f", "user.k", b, sizeof b), ERANGE);
}

CASE(getxattr, missing_file_enoent) {
    char b[4];
    EXPECT_ERRNO(getxattr("nothere", "user.k", b, sizeof b), ENOENT);
}

CASE(getxattr, not_a_dir_component_enotdir) {
    put_file("f", "x");
    char b[4];
    EXPECT_ERRNO(getxattr("f/x", "user.k", b, sizeof b), ENOTDIR);
}

CASE(getxattr, unknown_namespace_eopnotsupp) {
    put_file("f", "x");
    char b[4];
    EXPECT_ERRNO(getxattr("f", "bogus.k", b, sizeof b), EOPNOTSUPP);
}

CASE(getxattr, empty_name_erange) {
    put_file("f", "x");
    char b[4];
    EXPECT_ERRNO(getxattr("f", "", b, sizeof b), ERANGE);
}

CASE(getxattr, long_name_erange) {
    put_file("f", "x");
    char name[300];
    memset(name, 'a', sizeof name - 1);
    memcpy(name, "user.", 5);
    name[sizeof name - 1] = 0;
    char b[4];
    EXPECT_ERRNO(getxattr("f", name, b, sizeof b), ERANGE);
}

CASE(getxattr, follows_a_symlink) {
    need_user_xattrs();
    put_file("f", "x");
    EXPECT_OK(setxattr("f", "user.k", "v", 1, 0));
    EXPECT_OK(symlink("f", "l"));
    char b[4] = {0};
    EXPECT_EQ(getxattr("l", "user.k", b, sizeof b), 1);
    EXPECT_STREQ(b, "v");
}

CASE(getxattr, binary_value_kept) {
    need_user_xattrs();
    put_file("f", "x");
    const char v[4] = {0, 1, (char)0xff, 0};
    EXPECT_OK(setxattr("f", "user.bin", v, sizeof v, 0));
    char b[8];
    EXPECT_EQ(getxattr("f", "user.bin", b, sizeof b), 4);
    EXPECT_EQ(memcmp(b, v, 4), 0);
}

CASE(getxattr, empty_value) {
    need_user_xattrs();
    put_file("f", "x");
    EXPECT_OK(setxattr("f", "user.empty", "", 0, 0));
    char b[4];
    EXPECT_EQ(getxattr("f", "user.empty", b, sizeof b), 0);
}

CASE(getxattr, on_a_directory) {
    need_user_xattrs();
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_OK(setxattr("d", "user.k", "dv", 2, 0));
    char b[4] = {0};
    EXPECT_EQ(getxattr("d", "user.k", b, sizeof b), 2);
}

static int nobody_get_private(void) {
    char b[4];
    return ERR(getxattr("priv", "user.k", b, sizeof b));
}
CASE(getxattr, unreadable_file_eacces) {
    need_user_xattrs();
    EXPECT_OK(chmod(harness_scratch, 0755));
    put_file("priv", "x");
    EXPECT_OK(setxattr("priv", "user.k", "v", 1, 0));
    EXPECT_OK(chmod("priv", 0600));
    EXPECT_EQ(as_nobody(nobody_get_private), EACCES);
}

static int nobody_get_public(void) {
    char b[4];
    return getxattr("pub", "user.k", b, sizeof b) == 1 ? 0 : errno;
}
CASE(getxattr, readable_file_for_others) {
    need_user_xattrs();
    EXPECT_OK(chmod(harness_scratch, 0755));
    put_file("pub", "x");
    EXPECT_OK(setxattr("pub", "user.k", "v", 1, 0));
    EXPECT_EQ(as_nobody(nobody_get_public), 0);
}

CASE(lgetxattr, symlink_itself_enodata) {
    need_user_xattrs();
    put_file("f", "x");
    EXPECT_OK(setxattr("f", "user.k", "v", 1, 0));
    EXPECT_OK(symlink("f", "l"));
    char b[4];
    EXPECT_ERRNO(lgetxattr("l", "user.k", b, sizeof b), ENODATA);
}

CASE(lgetxattr, regular_file_like_getxattr) {
    need_user_xattrs();
    put_file("f", "x");
    EXPECT_OK(setxattr("f", "user.k", "v", 1, 0));
    char b[4] = {0};
    EXPECT_EQ(lgetxattr("f", "user.k", b, sizeof b), 1);
}

CASE(lgetxattr, dangling_symlink_enodata) {
    EXPECT_OK(symlink("nothere", "l"));
    char b[4];
    EXPECT_ERRNO(lgetxattr("l", "user.k", b, sizeof b), ENODATA);
}

CASE(lgetxattr, missing_enoent) {
    char b[4];
    EXPECT_ERRNO(lgetxattr("nothere", "user.k", b, sizeof b), ENOENT);
}

CASE(fgetxattr, roundtrip) {
    need_user_xattrs();
    put_file("f", "x");
    int fd = EXPECT_OK(open("f", O_RDONLY));
    EXPECT_OK(fsetxattr(fd, "user.k", "fv", 2, 0));
    char b[4] = {0};
    EXPECT_EQ(fgetxattr(fd, "user.k", b, sizeof b), 2);
    EXPECT_STREQ(b, "fv");
}

CASE(fgetxattr, bad_fd_ebadf) {
    char b[4];
    EXPECT_ERRNO(fgetxattr(-1, "user.k", b, sizeof b), EBADF);
}

CASE(fgetxattr, o_path_fd_ebadf) {
    need_user_xattrs();
    put_file("f", "x");
    EXPECT_OK(setxattr("f", "user.k", "v", 1, 0));
    int fd = EXPECT_OK(open("f", O_PATH));
    char b[4];
    /* An O_PATH fd does not do I/O: fgetxattr refuses it (Linux 6.18;
     * the *xattrat calls take it with AT_EMPTY_PATH). */
    EXPECT_ERRNO(fgetxattr(fd, "user.k", b, sizeof b), EBADF);
}

CASE(fgetxattr, pipe_enodata_or_eopnotsupp) {
    int p[2];
    EXPECT_OK(pipe(p));
    char b[4];
    errno = 0;
    EXPECT_EQ(fgetxattr(p[0], "user.k", b, sizeof b), -1);
    EXPECT_TRUE(errno == ENODATA || errno == EOPNOTSUPP);
}

CASE(fgetxattr, directory_fd) {
    need_user_xattrs();
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_OK(setxattr("d", "user.k", "v", 1, 0));
    int fd = EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    char b[4];
    EXPECT_EQ(fgetxattr(fd, "user.k", b, sizeof b), 1);
}

/* ---- listxattr / llistxattr / flistxattr ---- */

static int has_name(const char *list, ssize_t len, const char *name) {
    for (ssize_t off = 0; off < len; off += (ssize_t)strlen(list + off) + 1)
        if (strcmp(list + off, name) == 0)
            return 1;
    return 0;
}

CASE(listxattr, lists_user_names) {
    need_user_xattrs();
    put_file("f", "x");
    EXPECT_OK(setxattr("f", "user.a", "1", 1, 0));
    EXPECT_OK(setxattr("f", "user.bb", "2", 1, 0));
    char l[256];
    ssize_t n = EXPECT_OK(listxattr("f", l, sizeof l));
    EXPECT_TRUE(has_name(l, n, "user.a"));
    EXPECT_TRUE(has_name(l, n, "user.bb"));
}

CASE(listxattr, size_zero_returns_length) {
    need_user_xattrs();
    put_file("f", "x");
    EXPECT_OK(setxattr("f", "user.a", "1", 1, 0));
    char l[256];
    ssize_t n = EXPECT_OK(listxattr("f", l, sizeof l));
    EXPECT_EQ(listxattr("f", NULL, 0), n);
}

CASE(listxattr, short_buffer_erange) {
    need_user_xattrs();
    put_file("f", "x");
    EXPECT_OK(setxattr("f", "user.long_name", "1", 1, 0));
    char l[4];
    EXPECT_ERRNO(listxattr("f", l, sizeof l), ERANGE);
}

CASE(listxattr, missing_enoent) {
    char l[16];
    EXPECT_ERRNO(listxattr("nothere", l, sizeof l), ENOENT);
}

CASE(listxattr, removed_name_is_gone) {
    need_user_xattrs();
    put_file("f", "x");
    EXPECT_OK(setxattr("f", "user.gone", "1", 1, 0));
    EXPECT_OK(removexattr("f", "user.gone"));
    char l[256];
    ssize_t n = EXPECT_OK(listxattr("f", l, sizeof l));
    EXPECT_TRUE(!has_name(l, n, "user.gone"));
}

CASE(llistxattr, symlink_has_no_user_names) {
    need_user_xattrs();
    put_file("f", "x");
    EXPECT_OK(setxattr("f", "user.a", "1", 1, 0));
    EXPECT_OK(symlink("f", "l"));
    char l[256];
    ssize_t n = EXPECT_OK(llistxattr("l", l, sizeof l));
    EXPECT_TRUE(!has_name(l, n, "user.a"));
    n = EXPECT_OK(listxattr("l", l, sizeof l));
    EXPECT_TRUE(has_name(l, n, "user.a"));
}

CASE(llistxattr, missing_enoent) {
    char l[16];
    EXPECT_ERRNO(llistxattr("nothere", l, sizeof l), ENOENT);
}

CASE(flistxattr, lists_names) {
    need_user_xattrs();
    put_file("f", "x");
    EXPECT_OK(setxattr("f", "user.fa", "1", 1, 0));
    int fd = EXPECT_OK(open("f", O_RDONLY));
    char l[256];
    ssize_t n = EXPECT_OK(flistxattr(fd, l, sizeof l));
    EXPECT_TRUE(has_name(l, n, "user.fa"));
}

CASE(flistxattr, bad_fd_ebadf) {
    char l[16];
    EXPECT_ERRNO(flistxattr(-1, l, sizeof l), EBADF);
}

/* ---- removexattr / lremovexattr / fremovexattr ---- */

CASE(removexattr, removes) {
    need_user_xattrs();
    put_file("f", "x");
    EXPECT_OK(setxattr("f", "user.k", "1", 1, 0));
    EXPECT_OK(removexattr("f", "user.k"));
    char b[4];
    EXPECT_ERRNO(getxattr("f", "user.k", b, sizeof b), ENODATA);
}

CASE(removexattr, missing_attr_enodata) {
    need_user_xattrs();
    put_file("f", "x");
    EXPECT_ERRNO(removexattr("f", "user.none"), ENODATA);
}

CASE(removexattr, missing_file_enoent) { EXPECT_ERRNO(removexattr("nothere", "user.k"), ENOENT); }

CASE(removexattr, follows_a_symlink) {
    need_user_xattrs();
    put_file("f", "x");
    EXPECT_OK(setxattr("f", "user.k", "1", 1, 0));
    EXPECT_OK(symlink("f", "l"));
    EXPECT_OK(removexattr("l", "user.k"));
    char b[4];
    EXPECT_ERRNO(getxattr("f", "user.k", b, sizeof b), ENODATA);
}

static int nobody_remove(void) { return ERR(removexattr("pub", "user.k")); }
CASE(removexattr, not_writable_eacces) {
    need_user_xattrs();
    EXPECT_OK(chmod(harness_scratch, 0755));
    put_file("pub", "x");
    EXPECT_OK(setxattr("pub", "user.k", "v", 1, 0));
    EXPECT_EQ(as_nobody(nobody_remove), EACCES);
}

CASE(lremovexattr, user_name_on_symlink_eperm) {
    EXPECT_OK(symlink("nothere", "l"));
    EXPECT_ERRNO(lremovexattr("l", "user.k"), EPERM);
}

CASE(lremovexattr, regular_file_removes) {
    need_user_xattrs();
    put_file("f", "x");
    EXPECT_OK(setxattr("f", "user.k", "1", 1, 0));
    EXPECT_OK(lremovexattr("f", "user.k"));
}

CASE(fremovexattr, removes) {
    need_user_xattrs();
    put_file("f", "x");
    int fd = EXPECT_OK(open("f", O_RDONLY));
    EXPECT_OK(fsetxattr(fd, "user.k", "1", 1, 0));
    EXPECT_OK(fremovexattr(fd, "user.k"));
    char b[4];
    EXPECT_ERRNO(fgetxattr(fd, "user.k", b, sizeof b), ENODATA);
}

CASE(fremovexattr, bad_fd_ebadf) { EXPECT_ERRNO(fremovexattr(-1, "user.k"), EBADF); }

CASE(fremovexattr, missing_enodata) {
    need_user_xattrs();
    put_file("f", "x");
    int fd = EXPECT_OK(open("f", O_RDONLY));
    EXPECT_ERRNO(fremovexattr(fd, "user.none"), ENODATA);
}

/* ---- lsetxattr / setxattr edges ---- */

CASE(lsetxattr, user_name_on_symlink_eperm) {
    EXPECT_OK(symlink("nothere", "l"));
    EXPECT_ERRNO(lsetxattr("l", "user.k", "v", 1, 0), EPERM);
}

CASE(lsetxattr, regular_file_sets) {
    need_user_xattrs();
    put_file("f", "x");
    EXPECT_OK(lsetxattr("f", "user.k", "v", 1, 0));
    char b[4];
    EXPECT_EQ(getxattr("f", "user.k", b, sizeof b), 1);
}

CASE(lsetxattr, bad_flags_einval) {
    put_file("f", "x");
    EXPECT_ERRNO(lsetxattr("f", "user.k", "v", 1, 0x10), EINVAL);
}

CASE(setxattr, create_existing_eexist) {
    need_user_xattrs();
    put_file("f", "x");
    EXPECT_OK(setxattr("f", "user.k", "v", 1, XATTR_CREATE));
    EXPECT_ERRNO(setxattr("f", "user.k", "v", 1, XATTR_CREATE), EEXIST);
}

CASE(setxattr, replace_missing_enodata) {
    need_user_xattrs();
    put_file("f", "x");
    EXPECT_ERRNO(setxattr("f", "user.k", "v", 1, XATTR_REPLACE), ENODATA);
}

CASE(setxattr, value_too_large_e2big) {
    put_file("f", "x");
    static char big[70000];
    EXPECT_ERRNO(setxattr("f", "user.big", big, sizeof big, 0), E2BIG);
}

static int nobody_set(void) { return ERR(setxattr("pub", "user.k", "v", 1, 0)); }
CASE(setxattr, not_writable_eacces) {
    need_user_xattrs();
    EXPECT_OK(chmod(harness_scratch, 0755));
    put_file("pub", "x");
    EXPECT_EQ(as_nobody(nobody_set), EACCES);
}

static int nobody_set_trusted(void) {
    int fd = open("mine", O_WRONLY | O_CREAT, 0644);
    if (fd < 0)
        return 90;
    close(fd);
    return ERR(setxattr("mine", "trusted.k", "v", 1, 0));
}
CASE(setxattr, trusted_needs_cap_sys_admin_eperm) {
    EXPECT_OK(chmod(harness_scratch, 0777));
    EXPECT_EQ(as_nobody(nobody_set_trusted), EPERM);
}

/* ---- POSIX ACLs ---- */

#define ACL_USER_OBJ 0x01
#define ACL_USER 0x02
#define ACL_GROUP_OBJ 0x04
#define ACL_GROUP 0x08
#define ACL_MASK 0x10
#define ACL_OTHER 0x20
#define NOID 0xffffffffu

struct acl_ent {
    unsigned short tag, perm;
    unsigned int id;
};
struct acl_buf {
    unsigned int version;
    struct acl_ent e[16];
};

/* Builds an ACL xattr from (tag, perm, id) triples; returns its size. */
static size_t acl_make(struct acl_buf *b, int n, const struct acl_ent *e) {
    b->version = 2;
    for (int i = 0; i < n; i++)
        b->e[i] = e[i];
    return 4 + (size_t)n * sizeof(struct acl_ent);
}

static void need_acls(void) {
    put_file("aclprobe", "x");
    struct acl_buf b;
    struct acl_ent e[] = {{ACL_USER_OBJ, 6, NOID}, {ACL_USER, 4, 65534}, {ACL_GROUP_OBJ, 4, NOID},
                          {ACL_MASK, 4, NOID},     {ACL_OTHER, 0, NOID}};
    if (setxattr("aclprobe", "system.posix_acl_access", &b, acl_make(&b, 5, e), 0) != 0) {
        if (errno == EOPNOTSUPP)
            harness_skip("no POSIX ACLs on this filesystem");
        FAIL("setxattr posix_acl_access: %s", harness_errname(errno));
    }
    unlink("aclprobe");
}

static void set_acl(const char *path, const char *name, int n, const struct acl_ent *e) {
    struct acl_buf b;
    if (setxattr(path, name, &b, acl_make(&b, n, e), 0) != 0)
        FAIL("setxattr %s %s: %s", path, name, harness_errname(errno));
}

/* perm of the first entry with `tag` in the ACL xattr `name` of path, -1 if none */
static int acl_perm(const char *path, const char *name, unsigned short tag) {
    struct acl_buf b;
    ssize_t n = getxattr(path, name, &b, sizeof b);
    if (n < 0)
        FAIL("getxattr %s %s: %s", path, name, harness_errname(errno));
    for (int i = 0; i < (int)((n - 4) / (ssize_t)sizeof(struct acl_ent)); i++)
        if (b.e[i].tag == tag)
            return b.e[i].perm;
    return -1;
}

static const struct acl_ent nobody_read[] = {{ACL_USER_OBJ, 6, NOID},
                                             {ACL_USER, 4, 65534},
                                             {ACL_GROUP_OBJ, 0, NOID},
                                             {ACL_MASK, 4, NOID},
                                             {ACL_OTHER, 0, NOID}};

COVERS("setxattr getxattr")
CASE(acl, access_acl_roundtrip) {
    need_acls();
    put_file("f", "x");
    set_acl("f", "system.posix_acl_access", 5, nobody_read);
    struct acl_buf b;
    EXPECT_EQ(getxattr("f", "system.posix_acl_access", &b, sizeof b), 4 + 5 * 8);
    EXPECT_EQ(b.version, 2);
    EXPECT_EQ(acl_perm("f", "system.posix_acl_access", ACL_USER), 4);
}

COVERS("setxattr stat")
CASE(acl, access_acl_sets_the_mode) {
    need_acls();
    put_file("f", "x");
    set_acl("f", "system.posix_acl_access", 5, nobody_read);
    struct stat st;
    EXPECT_OK(stat("f", &st));
    /* group bits show the mask */
    EXPECT_EQ(st.st_mode & 0777, 0640);
}

COVERS("chmod getxattr")
CASE(acl, chmod_changes_the_mask_entry) {
    need_acls();
    put_file("f", "x");
    set_acl("f", "system.posix_acl_access", 5, nobody_read);
    EXPECT_OK(chmod("f", 0600));
    EXPECT_EQ(acl_perm("f", "system.posix_acl_access", ACL_MASK), 0);
    EXPECT_EQ(acl_perm("f", "system.posix_acl_access", ACL_USER), 4);
}

COVERS("setxattr getxattr")
CASE(acl, minimal_acl_is_just_the_mode) {
    need_acls();
    put_file("f", "x");
    struct acl_ent e[] = {{ACL_USER_OBJ, 7, NOID}, {ACL_GROUP_OBJ, 5, NOID}, {ACL_OTHER, 1, NOID}};
    set_acl("f", "system.posix_acl_access", 3, e);
    struct stat st;
    EXPECT_OK(stat("f", &st));
    EXPECT_EQ(st.st_mode & 0777, 0751);
    char b[64];
    EXPECT_ERRNO(getxattr("f", "system.posix_acl_access", b, sizeof b), ENODATA);
}

COVERS("listxattr")
CASE(acl, listed_as_an_xattr) {
    need_acls();
    put_file("f", "x");
    set_acl("f", "system.posix_acl_access", 5, nobody_read);
    char l[256];
    ssize_t n = EXPECT_OK(listxattr("f", l, sizeof l));
    EXPECT_TRUE(has_name(l, n, "system.posix_acl_access"));
}

COVERS("removexattr")
CASE(acl, remove_access_acl) {
    need_acls();
    put_file("f", "x");
    set_acl("f", "system.posix_acl_access", 5, nobody_read);
    EXPECT_OK(removexattr("f", "system.posix_acl_access"));
    char b[64];
    EXPECT_ERRNO(getxattr("f", "system.posix_acl_access", b, sizeof b), ENODATA);
}

COVERS("setxattr")
CASE(acl, named_user_without_mask_einval) {
    need_acls();
    put_file("f", "x");
    struct acl_buf b;
    struct acl_ent e[] = {{ACL_USER_OBJ, 6, NOID},
                          {ACL_USER, 4, 65534},
                          {ACL_GROUP_OBJ, 4, NOID},
                          {ACL_OTHER, 0, NOID}};
    EXPECT_ERRNO(setxattr("f", "system.posix_acl_access", &b, acl_make(&b, 4, e), 0), EINVAL);
}

COVERS("setxattr")
CASE(acl, bad_version_eopnotsupp) {
    need_acls();
    put_file("f", "x");
    struct acl_buf b;
    size_t n = acl_make(&b, 5, nobody_read);
    b.version = 7;
    EXPECT_ERRNO(setxattr("f", "system.posix_acl_access", &b, n, 0), EOPNOTSUPP);
}

COVERS("setxattr")
CASE(acl, default_acl_on_a_file_eacces) {
    need_acls();
    put_file("f", "x");
    struct acl_buf b;
    EXPECT_ERRNO(setxattr("f", "system.posix_acl_default", &b, acl_make(&b, 5, nobody_read), 0),
                 EACCES);
}

static int nobody_set_acl(void) {
    struct acl_buf b;
    return ERR(setxattr("f", "system.posix_acl_access", &b, acl_make(&b, 5, nobody_read), 0));
}
COVERS("setxattr")
CASE(acl, set_by_non_owner_eperm) {
    need_acls();
    EXPECT_OK(chmod(harness_scratch, 0755));
    put_file("f", "x");
    EXPECT_OK(chmod("f", 0666));
    EXPECT_EQ(as_nobody(nobody_set_acl), EPERM);
}

static int nobody_read_f(void) {
    int fd = open("f", O_RDONLY);
    return fd >= 0 ? 0 : errno;
}
static int nobody_write_f(void) {
    int fd = open("f", O_WRONLY);
    return fd >= 0 ? 0 : errno;
}

COVERS("openat setxattr")
CASE(acl, named_user_entry_grants_read) {
    need_acls();
    EXPECT_OK(chmod(harness_scratch, 0755));
    put_file("f", "secret");
    EXPECT_OK(chmod("f", 0600));
    EXPECT_EQ(as_nobody(nobody_read_f), EACCES);
    set_acl("f", "system.posix_acl_access", 5, nobody_read);
    EXPECT_EQ(as_nobody(nobody_read_f), 0);
    EXPECT_EQ(as_nobody(nobody_write_f), EACCES);
}

COVERS("openat setxattr")
CASE(acl, named_user_entry_refuses_what_others_may_read) {
    need_acls();
    EXPECT_OK(chmod(harness_scratch, 0755));
    put_file("f", "public");
    EXPECT_EQ(as_nobody(nobody_read_f), 0);
    /* Others may read (0644), but the named entry for 65534 grants nothing:
     * the named user's entry decides, and the mode alone would say yes. */
    const struct acl_ent e[] = {{ACL_USER_OBJ, 6, NOID},
                                {ACL_USER, 0, 65534},
                                {ACL_GROUP_OBJ, 4, NOID},
                                {ACL_MASK, 4, NOID},
                                {ACL_OTHER, 4, NOID}};
    set_acl("f", "system.posix_acl_access", 5, e);
    EXPECT_EQ(as_nobody(nobody_read_f), EACCES);
}

COVERS("openat setxattr")
CASE(acl, mask_limits_a_named_user) {
    need_acls();
    EXPECT_OK(chmod(harness_scratch, 0755));
    put_file("f", "x");
    struct acl_ent e[] = {{ACL_USER_OBJ, 6, NOID},
                          {ACL_USER, 6, 65534},
                          {ACL_GROUP_OBJ, 0, NOID},
                          {ACL_MASK, 4, NOID},
                          {ACL_OTHER, 0, NOID}};
    set_acl("f", "system.posix_acl_access", 5, e);
    EXPECT_EQ(as_nobody(nobody_read_f), 0);
    EXPECT_EQ(as_nobody(nobody_write_f), EACCES);
}

COVERS("openat setxattr")
CASE(acl, named_group_entry_grants_write) {
    need_acls();
    EXPECT_OK(chmod(harness_scratch, 0755));
    put_file("f", "x");
    struct acl_ent e[] = {{ACL_USER_OBJ, 6, NOID},
                          {ACL_GROUP_OBJ, 0, NOID},
                          {ACL_GROUP, 2, 65534},
                          {ACL_MASK, 6, NOID},
                          {ACL_OTHER, 0, NOID}};
    set_acl("f", "system.posix_acl_access", 5, e);
    EXPECT_EQ(as_nobody(nobody_write_f), 0);
    EXPECT_EQ(as_nobody(nobody_read_f), EACCES);
}

/* The owner (uid 65534) makes its file and an ACL whose user_obj entry
 * gives it nothing: it is locked out though group and other may write. */
static int owner_locked_out(void) {
    int fd = open("own", O_WRONLY | O_CREAT, 0666);
    if (fd < 0)
        return 90;
    close(fd);
    struct acl_buf b;
    struct acl_ent e[] = {{ACL_USER_OBJ, 0, NOID},
                          {ACL_GROUP_OBJ, 6, NOID},
                          {ACL_MASK, 6, NOID},
                          {ACL_OTHER, 6, NOID}};
    if (setxattr("own", "system.posix_acl_access", &b, acl_make(&b, 4, e), 0) != 0)
        return 91;
    if (open("own", O_RDONLY) >= 0)
        return 92;
    if (errno != EACCES)
        return 93;
    return open("own", O_WRONLY) >= 0 ? 94 : errno == EACCES ? 0 : 95;
}
COVERS("openat setxattr")
CASE(acl, user_obj_entry_locks_the_owner_out) {
    need_acls();
    EXPECT_OK(chmod(harness_scratch, 0777));
    EXPECT_EQ(as_nobody(owner_locked_out), 0);
}

static int nobody_access_r(void) { return ERR(access("f", R_OK)); }
COVERS("access setxattr")
CASE(acl, access_call_follows_the_acl) {
    need_acls();
    EXPECT_OK(chmod(harness_scratch, 0755));
    put_file("f", "x");
    EXPECT_OK(chmod("f", 0600));
    set_acl("f", "system.posix_acl_access", 5, nobody_read);
    EXPECT_EQ(as_nobody(nobody_access_r), 0);
}

static int nobody_stat_inner(void) {
    struct stat st;
    return ERR(stat("d/inner", &st));
}
COVERS("stat setxattr")
CASE(acl, directory_search_through_an_acl) {
    need_acls();
    EXPECT_OK(chmod(harness_scratch, 0755));
    EXPECT_OK(mkdir("d", 0700));
    put_file("d/inner", "x");
    EXPECT_EQ(as_nobody(nobody_stat_inner), EACCES);
    struct acl_ent e[] = {{ACL_USER_OBJ, 7, NOID},
                          {ACL_USER, 1, 65534},
                          {ACL_GROUP_OBJ, 0, NOID},
                          {ACL_MASK, 1, NOID},
                          {ACL_OTHER, 0, NOID}};
    set_acl("d", "system.posix_acl_access", 5, e);
    EXPECT_EQ(as_nobody(nobody_stat_inner), 0);
}

static const struct acl_ent dflt[] = {{ACL_USER_OBJ, 7, NOID},
                                      {ACL_USER, 5, 65534},
                                      {ACL_GROUP_OBJ, 5, NOID},
                                      {ACL_MASK, 7, NOID},
                                      {ACL_OTHER, 0, NOID}};

COVERS("setxattr getxattr openat")
CASE(acl, default_acl_inherited_by_a_new_file) {
    need_acls();
    EXPECT_OK(mkdir("d", 0755));
    set_acl("d", "system.posix_acl_default", 5, dflt);
    put_file("d/new", "x");
    /* open mode 0644 masks the inherited entries: user 5 stays r-x & rw- = r */
    EXPECT_EQ(acl_perm("d/new", "system.posix_acl_access", ACL_USER), 5);
    EXPECT_EQ(acl_perm("d/new", "system.posix_acl_access", ACL_MASK), 4);
    struct stat st;
    EXPECT_OK(stat("d/new", &st));
    EXPECT_EQ(st.st_mode & 0777, 0640);
    char b[64];
    EXPECT_ERRNO(getxattr("d/new", "system.posix_acl_default", b, sizeof b), ENODATA);
}

COVERS("setxattr getxattr mkdir")
CASE(acl, default_acl_inherited_by_a_new_dir) {
    need_acls();
    EXPECT_OK(mkdir("d", 0755));
    set_acl("d", "system.posix_acl_default", 5, dflt);
    EXPECT_OK(mkdir("d/sub", 0777));
    EXPECT_EQ(acl_perm("d/sub", "system.posix_acl_default", ACL_USER), 5);
    EXPECT_EQ(acl_perm("d/sub", "system.posix_acl_access", ACL_USER), 5);
    struct stat st;
    EXPECT_OK(stat("d/sub", &st));
    EXPECT_EQ(st.st_mode & 0777, 0770);
}

COVERS("setxattr openat umask")
CASE(acl, default_acl_ignores_the_umask) {
    need_acls();
    EXPECT_OK(mkdir("d", 0755));
    set_acl("d", "system.posix_acl_default", 5, dflt);
    umask(077);
    int fd = EXPECT_OK(open("d/new", O_WRONLY | O_CREAT, 0666));
    close(fd);
    struct stat st;
    EXPECT_OK(stat("d/new", &st));
    /* mask rw- from the default ACL and the create mode, not the umask */
    EXPECT_EQ(st.st_mode & 0777, 0660);
}

static int nobody_read_new(void) {
    int fd = open("d/new", O_RDONLY);
    return fd >= 0 ? 0 : errno;
}
COVERS("setxattr openat")
CASE(acl, inherited_acl_is_enforced) {
    need_acls();
    EXPECT_OK(chmod(harness_scratch, 0755));
    EXPECT_OK(mkdir("d", 0755));
    set_acl("d", "system.posix_acl_default", 5, dflt);
    put_file("d/new", "x");
    EXPECT_EQ(as_nobody(nobody_read_new), 0);
}

COVERS("removexattr")
CASE(acl, remove_default_acl) {
    need_acls();
    EXPECT_OK(mkdir("d", 0755));
    set_acl("d", "system.posix_acl_default", 5, dflt);
    EXPECT_OK(removexattr("d", "system.posix_acl_default"));
    put_file("d/new", "x");
    char b[64];
    EXPECT_ERRNO(getxattr("d/new", "system.posix_acl_access", b, sizeof b), ENODATA);
}

COVERS("fsetxattr fgetxattr")
CASE(acl, fd_forms) {
    need_acls();
    put_file("f", "x");
    int fd = EXPECT_OK(open("f", O_RDONLY));
    struct acl_buf b;
    EXPECT_OK(fsetxattr(fd, "system.posix_acl_access", &b, acl_make(&b, 5, nobody_read), 0));
    EXPECT_EQ(fgetxattr(fd, "system.posix_acl_access", &b, sizeof b), 4 + 5 * 8);
}
