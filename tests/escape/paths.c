/* Walks out of the root and out of a bind mount: `..`, symlinks (absolute,
 * relative, chained, made by the host inside the bind mount), the /proc
 * magic links (/proc/self/root, /proc/<pid>/cwd, /proc/self/fd), a directory
 * renamed during a walk, and descriptors inherited from before the pivot.
 * Every attempt names the host sentinel; each must fail with ENOENT (the
 * path resolves inside the container, where the host dir does not exist). */
#include "escape.h"
#include <dirent.h>
#include <pthread.h>
#include <sys/wait.h>

static char up[4096];      /* "../" repeated, then ROOT_TO_SENTINEL */
static char abs_host[4096]; /* "/../../.." + HOST_SENTINEL */

static void build_paths(void) {
    strcpy(up, "");
    for (int i = 0; i < 16; i++) strcat(up, "../");
    strcat(up, env("ROOT_TO_SENTINEL"));
    snprintf(abs_host, sizeof abs_host, "/../../../../..%s", env("HOST_SENTINEL"));
}

static void dotdot_walks(void) {
    expect_open_fails("dotdot_absolute_host_path", AT_FDCWD, env("HOST_SENTINEL"), O_RDONLY, ENOENT);
    expect_open_fails("dotdot_above_root", AT_FDCWD, abs_host, O_RDONLY, ENOENT);
    chdir("/");
    expect_open_fails("dotdot_relative_from_root", AT_FDCWD, up, O_RDONLY, ENOENT);
    int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    expect_open_fails("dotdot_openat_root_dirfd", root, up, O_RDONLY, ENOENT);
    close(root);
    chdir("/tmp");
    expect_open_fails("dotdot_relative_from_tmp", AT_FDCWD, up, O_RDONLY, ENOENT);
    chdir("/");
    /* Creating through .. must not reach the host dir either. */
    char create[4200];
    snprintf(create, sizeof create, "/../../..%s/pwned", env("HOST_DIR"));
    expect_open_fails("dotdot_create_in_host_dir", AT_FDCWD, create, O_WRONLY | O_CREAT | O_EXCL, ENOENT);
    char dir[4200];
    snprintf(dir, sizeof dir, "/../../..%s/pwned-dir", env("HOST_DIR"));
    expect_errno("dotdot_mkdir_in_host_dir", mkdir(dir, 0700), ENOENT);
}

static void symlink_walks(void) {
    char p[4300];
    unlink("/tmp/l_root");
    symlink("/", "/tmp/l_root");
    snprintf(p, sizeof p, "/tmp/l_root/../../..%s", env("HOST_SENTINEL"));
    expect_open_fails("symlink_absolute_root_then_dotdot", AT_FDCWD, p, O_RDONLY, ENOENT);

    unlink("/tmp/l_up");
    symlink("../../../../../../../../../../..", "/tmp/l_up");
    snprintf(p, sizeof p, "/tmp/l_up%s", env("HOST_SENTINEL"));
    expect_open_fails("symlink_relative_up", AT_FDCWD, p, O_RDONLY, ENOENT);

    /* A symlink whose target is the host path itself. */
    unlink("/tmp/l_host");
    symlink(env("HOST_SENTINEL"), "/tmp/l_host");
    expect_open_fails("symlink_to_host_path", AT_FDCWD, "/tmp/l_host", O_RDONLY, ENOENT);

    /* A chain: each link climbs one more level than the last. */
    mkdir("/tmp/chain", 0755);
    mkdir("/tmp/chain/a", 0755);
    unlink("/tmp/chain/a/l1");
    unlink("/tmp/chain/l2");
    symlink("../../../..", "/tmp/chain/a/l1");
    symlink("a/l1/../../../..", "/tmp/chain/l2");
    snprintf(p, sizeof p, "/tmp/chain/l2/%s", env("ROOT_TO_SENTINEL"));
    expect_open_fails("symlink_chain_up", AT_FDCWD, p, O_RDONLY, ENOENT);

    /* O_CREAT through a dangling symlink pointing at the host dir. */
    char target[4200];
    snprintf(target, sizeof target, "%s/pwned-link", env("HOST_DIR"));
    unlink("/tmp/l_dangling");
    symlink(target, "/tmp/l_dangling");
    int fd = open("/tmp/l_dangling", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    report("symlink_dangling_create", fd < 0 && errno == ENOENT, "open(O_CREAT) through a link to %s: %s", target,
           fd < 0 ? strerror(errno) : "created (inside the container?)");
    if (fd >= 0) close(fd);
}

static void bind_mount_walks(void) {
    expect_open_fails("bind_dotdot_sibling", AT_FDCWD, "/mnt/bind/../secret", O_RDONLY, ENOENT);
    chdir("/mnt/bind");
    expect_open_fails("bind_cwd_dotdot_sibling", AT_FDCWD, "../secret", O_RDONLY, ENOENT);
    chdir("/");
    int b = open("/mnt/bind", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    report("bind_mount_present", b >= 0, "open(/mnt/bind): %s", b >= 0 ? "ok" : strerror(errno));
    expect_open_fails("bind_openat_dotdot_sibling", b, "../secret", O_RDONLY, ENOENT);
    expect_open_fails("bind_openat_far_up", b, up, O_RDONLY, ENOENT);
    /* Links the host planted inside the bound directory. */
    expect_open_fails("bind_host_made_relative_link", AT_FDCWD, "/mnt/bind/rel-link", O_RDONLY, ENOENT);
    expect_open_fails("bind_host_made_absolute_link", AT_FDCWD, "/mnt/bind/abs-link", O_RDONLY, ENOENT);
    /* A link made from inside, relative, climbing out of the bind mount. */
    unlinkat(b, "in-link", 0);
    symlinkat("../secret", b, "in-link");
    expect_open_fails("bind_workload_made_link", AT_FDCWD, "/mnt/bind/in-link", O_RDONLY, ENOENT);
    /* Creating "../pwned" from the bind root is allowed: it must land in
     * the container's /mnt, never in the host dir (the host checks that). */
    unlink("/mnt/pwned");
    int fd = openat(b, "../pwned", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    struct stat st;
    report("bind_create_sibling_lands_inside", fd >= 0 && stat("/mnt/pwned", &st) == 0,
           "openat(bind, ../pwned, O_CREAT): %s", fd >= 0 ? "created /mnt/pwned" : strerror(errno));
    if (fd >= 0) close(fd);
    close(b);
}

static void magic_links(void) {
    char p[4300];
    char link[256];
    ssize_t n = readlink("/proc/self/root", link, sizeof link - 1);
    if (n >= 0) link[n] = 0;
    report("proc_self_root_is_slash", n == 1 && link[0] == '/', "readlink: %s", n >= 0 ? link : strerror(errno));
    snprintf(p, sizeof p, "/proc/self/root/../../..%s", env("HOST_SENTINEL"));
    expect_open_fails("proc_self_root_dotdot", AT_FDCWD, p, O_RDONLY, ENOENT);
    snprintf(p, sizeof p, "/proc/1/root%s", env("HOST_SENTINEL"));
    expect_open_fails("proc_1_root_host_path", AT_FDCWD, p, O_RDONLY, ENOENT);

    chdir("/mnt/bind");
    expect_open_fails("proc_self_cwd_dotdot", AT_FDCWD, "/proc/self/cwd/../secret", O_RDONLY, ENOENT);
    char own[64];
    snprintf(own, sizeof own, "/proc/%d/cwd/../secret", getpid());
    expect_open_fails("proc_pid_cwd_dotdot", AT_FDCWD, own, O_RDONLY, ENOENT);
    /* Another task's cwd: a child parked in the bind mount. */
    int pfd[2];
    pipe(pfd);
    pid_t child = fork();
    if (child == 0) {
        chdir("/mnt/bind");
        char c;
        read(pfd[0], &c, 1);
        _exit(0);
    }
    usleep(100000);
    snprintf(p, sizeof p, "/proc/%d/cwd/../secret", child);
    expect_open_fails("proc_child_cwd_dotdot", AT_FDCWD, p, O_RDONLY, ENOENT);
    snprintf(p, sizeof p, "/proc/%d/cwd/%s", child, up);
    expect_open_fails("proc_child_cwd_far_up", AT_FDCWD, p, O_RDONLY, ENOENT);
    write(pfd[1], "x", 1);
    waitpid(child, NULL, 0);
    chdir("/");

    int b = open("/mnt/bind", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    snprintf(p, sizeof p, "/proc/self/fd/%d/../secret", b);
    expect_open_fails("proc_self_fd_dotdot", AT_FDCWD, p, O_RDONLY, ENOENT);
    snprintf(p, sizeof p, "/proc/self/fd/%d/%s", b, up);
    expect_open_fails("proc_self_fd_far_up", AT_FDCWD, p, O_RDONLY, ENOENT);
    snprintf(p, sizeof p, "/proc/thread-self/fd/%d/../secret", b);
    expect_open_fails("proc_thread_self_fd_dotdot", AT_FDCWD, p, O_RDONLY, ENOENT);
    close(b);
}

/* A directory renamed while another thread walks `..` through it: the
 * walker must never pass above the bind mount's root. */
static volatile int stop_renamer;
static void *renamer(void *arg) {
    (void)arg;
    while (!stop_renamer) {
        rename("/mnt/bind/d1/d2", "/mnt/bind/d2");
        rename("/mnt/bind/d2", "/mnt/bind/d1/d2");
    }
    return NULL;
}

static void rename_during_walk(void) {
    mkdir("/mnt/bind/d1", 0755);
    mkdir("/mnt/bind/d1/d2", 0755);
    mkdir("/mnt/bind/d1/d2/d3", 0755);
    pthread_t t;
    pthread_create(&t, NULL, renamer, NULL);
    int opened = 0, leaked = 0, attempts = 20000;
    for (int i = 0; i < attempts; i++) {
        int fd = open("/mnt/bind/d1/d2/d3/../../../secret", O_RDONLY | O_CLOEXEC);
        if (fd < 0) fd = open("/mnt/bind/d2/d3/../../secret", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            opened++;
            leaked += fd_leaks_token(fd);
            close(fd);
        }
    }
    stop_renamer = 1;
    pthread_join(t, NULL);
    report("rename_during_dotdot_walk", opened == 0, "%d walks, %d opened, %d read the host sentinel", attempts, opened,
           leaked);
}

/* No descriptor from the runtime (or from whoever ran it) survives into
 * the container: the test passes an open host directory at fd 7 to
 * `runrs run`; through it, the host dir would be one openat away. */
static void inherited_fds(void) {
    int extra = 0;
    char which[256] = "";
    for (int fd = 3; fd < 1024; fd++) {
        if (fcntl(fd, F_GETFD) != -1) {
            extra++;
            char link[64], tgt[128];
            snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
            ssize_t n = readlink(link, tgt, sizeof tgt - 1);
            tgt[n > 0 ? n : 0] = 0;
            if (strlen(which) < 180) sprintf(which + strlen(which), " %d->%s", fd, tgt);
        }
    }
    report("no_inherited_fds", extra == 0, "%d open fds above 2:%s", extra, which);
    expect_open_fails("openat_inherited_host_dirfd", 7, "secret", O_RDONLY, EBADF);
    /* fd 7 is closed; anything the workload opens from here is its own. */
    DIR *d = opendir("/proc/self/fd");
    int entries = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') entries++;
    if (d) closedir(d);
    report("proc_self_fd_lists_only_stdio", entries == 4, "%d entries (0, 1, 2 and the listing's own fd)", entries);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    build_paths();
    inherited_fds();
    dotdot_walks();
    symlink_walks();
    bind_mount_walks();
    magic_links();
    rename_during_walk();
    sentry_still_answers("paths_sentry_alive");
    return finish();
}
