/* Time-of-check/time-of-use: a second thread rewrites the path buffer while
 * the sentry reads it. The buffer flips between a container path and a path
 * that would reach the host sentinel (through `..`, or a symlink planted to
 * point out), 100,000 opens long. Whatever the sentry read, the file opened
 * must be a container file: never the host sentinel, never a file created
 * in the host dir, never a device node. chdir (which the kernel finishes
 * itself) is raced too. */
#include "escape.h"
#include <pthread.h>
#include <sys/sysmacros.h>

/* The headline race runs 100,000 opens; the variants fewer, to keep the
 * suite's time in check (each open is a sentry round trip). */
#define ROUNDS 100000
#define VARIANT_ROUNDS 10000

static char buf[4096];
static char good[4096], bad[4096];
static volatile int stop;
static volatile long flips;

static void *flipper(void *arg) {
    (void)arg;
    size_t gl = strlen(good) + 1, bl = strlen(bad) + 1;
    while (!stop) {
        memcpy(buf, bad, bl);
        memcpy(buf, good, gl);
        flips++;
    }
    return NULL;
}

/* Starts a thread that flips `buf` between `g` and `b`. */
static pthread_t start_flipping(const char *g, const char *b) {
    strcpy(good, g);
    strcpy(bad, b);
    strcpy(buf, good);
    stop = 0;
    flips = 0;
    pthread_t t;
    pthread_create(&t, NULL, flipper, NULL);
    return t;
}

/* Whether a race of `rounds` opens is to go on after its `done`-th: until
 * it has made them all and seen both kinds of `outcome` at least once, up
 * to ten times as many (a flipper preempted halfway through a copy leaves
 * the buffer torn, so every open fails, for as long as it is off the CPU
 * of a loaded machine). */
static int keep_racing(int done, int rounds, long first_kind, long second_kind) {
    return done < rounds || ((first_kind == 0 || second_kind == 0) && done < 10 * rounds);
}

static void stop_flipping(pthread_t t) {
    stop = 1;
    pthread_join(t, NULL);
}

static void race(const char *name, const char *g, const char *b, int flags, int rounds) {
    pthread_t t = start_flipping(g, b);
    long opened = 0, failed = 0, leaked = 0, other = 0;
    int other_errno = 0;
    int done = 0;
    for (; keep_racing(done, rounds, opened, failed); done++) {
        int fd = open(buf, flags | O_CLOEXEC, 0600);
        if (fd < 0) {
            failed++;
            /* A torn buffer names some other container path: ENOENT or
             * ENOTDIR are its honest answers. */
            if (errno != ENOENT && errno != ENOTDIR) {
                other++;
                other_errno = errno;
            }
            continue;
        }
        opened++;
        if (fd_leaks_token(fd)) leaked++;
        close(fd);
    }
    stop_flipping(t);
    report(name, leaked == 0 && other == 0 && opened > 0 && failed > 0,
           "%d opens, %ld flips: %ld opened a container file, %ld failed (%ld with an unexpected errno, last %s), %ld read "
           "the host sentinel",
           done, flips, opened, failed, other, other ? strerrorname_np(other_errno) : "none", leaked);
}

/* An open that the sentry may leave to the workload's own kernel (of a
 * container file read-only, or of a device of the sandbox's set), raced
 * with the name of a host device's node planted in the image
 * (HOST_DEVICE_NODE, the first virtual console, 4:1): no open may ever
 * reach the device, whoever walks the path. */
static void race_device(const char *name, const char *g, int flags) {
    pthread_t t = start_flipping(g, env("HOST_DEVICE_NODE"));
    long opened = 0, refused = 0, devices = 0, other = 0;
    int other_errno = 0;
    int done = 0;
    for (; keep_racing(done, VARIANT_ROUNDS, opened, refused); done++) {
        int fd = open(buf, flags | O_CLOEXEC);
        if (fd < 0) {
            /* The devices cgroup says EPERM, the gofer EACCES, a host
             * without the device ENXIO or ENODEV; a torn buffer names
             * some other path. */
            if (errno == EPERM || errno == EACCES || errno == ENXIO || errno == ENODEV) {
                refused++;
            } else if (errno != ENOENT && errno != ENOTDIR) {
                other++;
                other_errno = errno;
            }
            continue;
        }
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(4, 1)) devices++;
        opened++;
        close(fd);
    }
    stop_flipping(t);
    /* Directly, with no race: refused too. */
    int direct = open(bad, flags | O_CLOEXEC);
    int direct_errno = errno;
    if (direct >= 0) close(direct);
    report(name, devices == 0 && other == 0 && opened > 0 && direct < 0,
           "%d opens, %ld flips: %ld opened %s, %ld refused, %ld with an unexpected errno (last %s), "
           "%ld opened the host's device; a plain open: %s",
           done, flips, opened, g, refused, other, other ? strerrorname_np(other_errno) : "none", devices,
           direct < 0 ? strerrorname_np(direct_errno) : "opened");
}

static void race_chdir(void) {
    char out[4200];
    snprintf(out, sizeof out, "/../../../..%s", env("HOST_DIR"));
    pthread_t t = start_flipping("/mnt/bind", out);
    long leaked = 0, rounds = VARIANT_ROUNDS;
    for (long i = 0; i < rounds; i++) {
        if (chdir(buf) != 0) continue;
        /* HOST_DIR holds "secret"; /mnt/bind (the good side) holds none. */
        int fd = open("secret", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            leaked += fd_leaks_token(fd);
            close(fd);
        }
    }
    stop_flipping(t);
    chdir("/");
    report("toctou_chdir", leaked == 0, "%ld chdirs raced, %ld reached the host sentinel", rounds, leaked);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    char p[4200];
    snprintf(p, sizeof p, "/../../../../..%s", env("HOST_SENTINEL"));
    race("toctou_open_dotdot", "/etc/hostname", p, O_RDONLY, ROUNDS);
    snprintf(p, sizeof p, "/proc/self/root/../../..%s", env("HOST_SENTINEL"));
    race("toctou_open_proc_root", "/etc/hostname", p, O_RDONLY, VARIANT_ROUNDS);
    /* A symlink that points out: the check sees /etc/hostname, the use a link. */
    unlink("/tmp/toctou-link");
    symlink(env("HOST_SENTINEL"), "/tmp/toctou-link");
    race("toctou_open_symlink", "/etc/hostname", "/tmp/toctou-link", O_RDONLY, VARIANT_ROUNDS);
    snprintf(p, sizeof p, "/mnt/bind/../secret");
    race("toctou_open_bind_dotdot", "/mnt/bind/../bind/x", p, O_RDONLY, VARIANT_ROUNDS);
    /* Creating: the host dir must not gain a file (the host checks it). */
    snprintf(p, sizeof p, "/../../../..%s/pwned-toctou", env("HOST_DIR"));
    race("toctou_create", "/tmp/toctou-created", p, O_WRONLY | O_CREAT, VARIANT_ROUNDS);
    race_device("toctou_open_device", "/etc/hostname", O_RDONLY);
    /* The sandbox's own devices are redone for writing too. */
    race_device("toctou_open_device_rw", "/dev/null", O_RDWR);
    race_chdir();
    sentry_still_answers("toctou_sentry_alive");
    return finish();
}
