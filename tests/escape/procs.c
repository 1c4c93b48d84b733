/* Other processes and the host's /proc and /sys. The workload runs in its own
 * pid namespace: the host pids of the sentry, the gofer and a host canary
 * (read from /mnt/bind/hostpids, written by the test after create) must be
 * unreachable by kill, tgkill, pidfd_open, pidfd_send_signal and ptrace, and
 * so must every pid number that is not the container's own. The host checks
 * afterwards that the sentry and the canary are alive and unsignalled. */
#include "escape.h"
#include <dirent.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#define PID_SCAN 4096

static int container_pid(int pid) {
    char p[64];
    snprintf(p, sizeof p, "/proc/%d", pid);
    struct stat st;
    return stat(p, &st) == 0;
}

static void host_pids(void) {
    FILE *f = fopen("/mnt/bind/hostpids", "r");
    report("hostpids_file", f != NULL, "/mnt/bind/hostpids: %s", f ? "read" : strerror(errno));
    if (!f) return;
    char role[64];
    int pid;
    while (fscanf(f, "%63s %d", role, &pid) == 2) {
        char n[128];
        if (container_pid(pid)) {
            /* A container task has this number too: the host pid is not the
             * target here, so the name says so instead of passing. */
            snprintf(n, sizeof n, "host_%s_pid_number_taken_in_container", role);
            report(n, 0, "pid %d", pid);
            continue;
        }
        snprintf(n, sizeof n, "kill_host_%s", role);
        expect_errno(n, kill(pid, SIGKILL), ESRCH);
        snprintf(n, sizeof n, "kill0_host_%s", role);
        expect_errno(n, kill(pid, 0), ESRCH);
        snprintf(n, sizeof n, "tgkill_host_%s", role);
        expect_errno(n, syscall(SYS_tgkill, pid, pid, SIGKILL), ESRCH);
        snprintf(n, sizeof n, "pidfd_open_host_%s", role);
        expect_errno(n, syscall(SYS_pidfd_open, pid, 0), ESRCH);
        snprintf(n, sizeof n, "ptrace_attach_host_%s", role);
        /* ptrace is the kernel's (within the container's pid namespace). */
        expect_errno(n, ptrace(PTRACE_ATTACH, pid, 0, 0), ESRCH);
        snprintf(n, sizeof n, "ptrace_seize_host_%s", role);
        expect_errno(n, ptrace(PTRACE_SEIZE, pid, 0, 0), ESRCH);
        snprintf(n, sizeof n, "proc_of_host_%s", role);
        char p[64];
        snprintf(p, sizeof p, "/proc/%d/status", pid);
        expect_open_fails(n, AT_FDCWD, p, O_RDONLY, ENOENT);
    }
    fclose(f);
}

/* Every pid number: signal 0 reaches only the container's own tasks. */
static void pid_scan(void) {
    int reached = 0, foreign = 0, bad_errno = 0;
    char which[128] = "";
    for (int pid = 1; pid <= PID_SCAN; pid++) {
        if (kill(pid, 0) == 0) {
            reached++;
            if (!container_pid(pid)) {
                foreign++;
                if (strlen(which) < 100) sprintf(which + strlen(which), " %d", pid);
            }
        } else if (errno != ESRCH) {
            bad_errno++;
        }
        if (!container_pid(pid) && (ptrace(PTRACE_ATTACH, pid, 0, 0) != -1 || errno != ESRCH)) bad_errno++;
    }
    report("kill_pid_scan", foreign == 0 && bad_errno == 0 && reached >= 1,
           "pids 1..%d: %d answered signal 0, %d not in the container's /proc:%s; %d unexpected errnos", PID_SCAN,
           reached, foreign, which, bad_errno);
    /* Broadcast: kill(-1) from the namespace's init reaches only its own
     * namespace (there is nothing else in it). */
    report("kill_broadcast", kill(-1, SIGKILL) == -1 && errno == ESRCH, "kill(-1, SIGKILL): %s", strerror(errno));
    expect_errno("kill_pgrp_of_host_session", kill(-1000000, SIGKILL), ESRCH);
}

/* The host's /proc and /sys are not what the workload reads. */
static void host_proc_sys(void) {
    char buf[4096] = {0};
    int fd = open("/proc/1/cmdline", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0) close(fd);
    report("proc_1_is_container_init", n > 0 && strstr(buf, "procs") != NULL, "/proc/1/cmdline: %.60s", n > 0 ? buf : strerror(errno));
    DIR *d = opendir("/proc");
    int pids = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] >= '1' && e->d_name[0] <= '9') pids++;
    if (d) closedir(d);
    report("proc_lists_container_pids_only", pids >= 1 && pids < 10, "%d pid entries in /proc", pids);
    /* The host's rootfs path must not show through mountinfo or maps. (A
     * bind mount's source is the spec's string, shown as Linux shows it.) */
    const char *files[] = {"/proc/self/mountinfo", "/proc/self/maps", "/proc/self/mounts"};
    for (int i = 0; i < 3; i++) {
        fd = open(files[i], O_RDONLY | O_CLOEXEC);
        memset(buf, 0, sizeof buf);
        n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        if (fd >= 0) close(fd);
        char name[64];
        snprintf(name, sizeof name, "host_rootfs_path_hidden_in_%s", strrchr(files[i], '/') + 1);
        report(name, n > 0 && strstr(buf, "runrs-test-bundle") == NULL,
               "%s: %zd bytes read", files[i], n);
    }
    expect_open_fails("proc_kcore", AT_FDCWD, "/proc/kcore", O_RDONLY, ENOENT);
    expect_open_fails("proc_kallsyms", AT_FDCWD, "/proc/kallsyms", O_RDONLY, ENOENT);
    fd = open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC);
    report("proc_sysrq_trigger", fd < 0, "open for write: %s", fd < 0 ? strerror(errno) : "OPENED");
    if (fd >= 0) close(fd);
    fd = open("/proc/sys/kernel/core_pattern", O_WRONLY | O_CLOEXEC);
    report("proc_sys_core_pattern_readonly", fd < 0, "open for write: %s", fd < 0 ? strerror(errno) : "OPENED");
    if (fd >= 0) close(fd);
    fd = open("/sys/kernel/uevent_helper", O_WRONLY | O_CLOEXEC);
    report("sys_uevent_helper_readonly", fd < 0, "open for write: %s", fd < 0 ? strerror(errno) : "OPENED");
    if (fd >= 0) close(fd);
    fd = open("/sys/fs/cgroup/cgroup.procs", O_WRONLY | O_CLOEXEC);
    report("sys_cgroup_procs_readonly", fd < 0, "open for write: %s", fd < 0 ? strerror(errno) : "OPENED");
    if (fd >= 0) close(fd);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    host_pids();
    pid_scan();
    host_proc_sys();
    sentry_still_answers("procs_sentry_alive");
    return finish();
}
