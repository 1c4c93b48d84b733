//! Real Debian programs under runrs and under runc: each workload is a
//! `bash -c` script run in a debootstrap'd Debian 12 rootfs (coreutils,
//! python3, gcc, sqlite3, git, procps, strace, gdb), once under `runc run` and once under
//! `runrs run`, and the two outputs must be identical. The scripts print
//! what a program observes and leave out what legitimately differs between
//! two runs (pids of the tree, times, inode numbers, memory sizes); the
//! little that remains is normalised by [`normalise`].
//!
//! The rootfs is `$RUNRS_TEST_DEBIAN_ROOTFS` or `build/rootfs-debian`, made by
//! scripts/mkrootfs-debian.sh when missing (a few minutes; never skipped).
//! It is shared read-only by every run: each bundle gets a tmpfs /tmp and
//! its own writable work directory bound at /mnt instead of a copy.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::*;

const RUNC: &str = "/usr/sbin/runc";

/// The packages scripts/mkrootfs-debian.sh installs, by a file each provides.
const NEEDED: [&str; 9] = [
    "usr/bin/python3",
    "usr/bin/strace",
    "usr/bin/gdb",
    "usr/lib/postgresql/15/bin/initdb",
    "usr/bin/gcc",
    "usr/bin/sqlite3",
    "usr/bin/git",
    "usr/bin/ps",
    "usr/bin/bash",
];

fn debian_rootfs() -> PathBuf {
    static ROOTFS: OnceLock<PathBuf> = OnceLock::new();
    ROOTFS
        .get_or_init(|| {
            built_rootfs(
                "RUNRS_TEST_DEBIAN_ROOTFS",
                "build/rootfs-debian",
                "scripts/mkrootfs-debian.sh",
                &|p| p.join(".runrs-stamp").exists() && NEEDED.iter().all(|f| p.join(f).exists()),
            )
        })
        .clone()
}

/// Who runs the workload: the spec's process.user.
#[derive(Clone, Copy)]
struct User {
    uid: u32,
    gid: u32,
    additional_gids: &'static [u32],
}

const ROOT: User = User {
    uid: 0,
    gid: 0,
    additional_gids: &[],
};

/// Docker's default capability set: what a Debian container normally runs with.
const DOCKER_CAPS: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// A bundle on the shared read-only rootfs with a fresh work dir at /mnt.
struct DebianBundle {
    dir: PathBuf,
}

impl DebianBundle {
    fn new(script: &str, user: User, no_new_privs: bool) -> DebianBundle {
        let dir = std::env::temp_dir().join(unique_id("runrs-test-debian"));
        let work = dir.join("work");
        fs::create_dir_all(&work).unwrap_or_else(|e| panic!("mkdir {}: {e}", work.display()));
        let mut spec = default_spec(&["/bin/bash", "-c", script]);
        spec["root"] = serde_json::json!({
            "path": debian_rootfs().to_string_lossy(),
            "readonly": true,
        });
        let caps = if user.uid == 0 {
            serde_json::json!(DOCKER_CAPS)
        } else {
            serde_json::json!([])
        };
        spec["process"]["capabilities"] = serde_json::json!({
            "bounding": DOCKER_CAPS, "effective": caps, "permitted": caps,
        });
        spec["process"]["user"] = serde_json::json!({
            "uid": user.uid, "gid": user.gid, "additionalGids": user.additional_gids,
        });
        spec["process"]["env"] = serde_json::json!([
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME=/tmp",
            "LC_ALL=C",
            "TERM=dumb",
            "COLUMNS=200",
        ]);
        spec["process"]["cwd"] = serde_json::json!("/mnt");
        spec["process"]["noNewPrivileges"] = serde_json::json!(no_new_privs);
        let mounts = spec["mounts"]
            .as_array_mut()
            .expect("default spec has mounts");
        mounts.push(serde_json::json!({
            "destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
            "options": ["nosuid", "nodev", "mode=1777", "size=262144k"],
        }));
        mounts.push(serde_json::json!({
            "destination": "/mnt", "type": "bind", "source": work.to_string_lossy(),
            "options": ["rbind", "rw"],
        }));
        let text = serde_json::to_string_pretty(&spec).expect("serialize config.json");
        fs::write(dir.join("config.json"), text + "\n").expect("write config.json");
        if user.uid != 0 {
            // The workload's own work dir, as a home directory would be.
            std::os::unix::fs::chown(&work, Some(user.uid), Some(user.gid))
                .expect("chown work dir");
        }
        DebianBundle { dir }
    }
}

impl Drop for DebianBundle {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn run_runc(script: &str, user: User, no_new_privs: bool) -> Output {
    let bundle = DebianBundle::new(script, user, no_new_privs);
    let state = std::env::temp_dir().join(unique_id("runrs-test-runc-root"));
    let id = unique_id("deb-runc");
    let mut cmd = Command::new(RUNC);
    cmd.arg("--root")
        .arg(&state)
        .args(["run", "--bundle"])
        .arg(&bundle.dir)
        .arg(&id);
    let out = run_command(cmd);
    let mut del = Command::new(RUNC);
    del.arg("--root")
        .arg(&state)
        .args(["delete", "--force", &id]);
    let _ = run_command(del);
    let _ = fs::remove_dir_all(&state);
    out
}

fn run_runrs(script: &str, user: User, no_new_privs: bool) -> Output {
    run_runrs_on("seccomp", script, user, no_new_privs)
}

fn run_runrs_on(platform: &str, script: &str, user: User, no_new_privs: bool) -> Output {
    let bundle = DebianBundle::new(script, user, no_new_privs);
    let root = Root::new();
    let id = unique_id("deb-runrs");
    let b = bundle.dir.to_string_lossy().into_owned();
    let platform = format!("--platform={platform}");
    run(&root, &[&platform, "run", "--bundle", &b, &id])
}

/// What may legitimately differ between two runs of the same script, which
/// the scripts cannot leave out themselves: the host-side temp directory
/// name (never printed today, kept for safety) and trailing blanks.
fn normalise(text: &str) -> Vec<String> {
    text.lines().map(|l| l.trim_end().to_string()).collect()
}

/// Runs `script` under runc and runrs as `user` and asserts both print the
/// same (normalised) stdout and stderr and exit with the same status.
fn compare(name: &str, script: &str, user: User) {
    compare_nnp(name, script, user, true)
}

/// `compare` with the spec's noNewPrivileges as given.
fn compare_nnp(name: &str, script: &str, user: User, no_new_privs: bool) {
    assert!(
        Path::new(RUNC).exists(),
        "{RUNC} is missing: install runc (Debian package `runc`), e.g. by running scripts/test.sh"
    );
    let script = format!("set -eu\n{script}\necho '--- end of {name}'\n");
    let want = run_runc(&script, user, no_new_privs);
    assert_eq!(
        want.status.code(),
        Some(0),
        "{name}: runc run failed (the workload itself is broken)\n{}",
        describe(&want)
    );
    let got = run_runrs(&script, user, no_new_privs);
    let mut diff = String::new();
    for (what, w, g) in [
        ("stdout", &want.stdout, &got.stdout),
        ("stderr", &want.stderr, &got.stderr),
    ] {
        let (w, g) = (
            normalise(&String::from_utf8_lossy(w)),
            normalise(&String::from_utf8_lossy(g)),
        );
        let mut shown = 0;
        for i in 0..w.len().max(g.len()) {
            let (a, b) = (w.get(i), g.get(i));
            if a != b && shown < 12 {
                shown += 1;
                diff.push_str(&format!(
                    "{what} line {}:\n  runc:  {}\n  runrs: {}\n",
                    i + 1,
                    a.map(String::as_str).unwrap_or("<none>"),
                    b.map(String::as_str).unwrap_or("<none>")
                ));
            }
        }
    }
    if want.status.code() != got.status.code() {
        diff.push_str(&format!(
            "exit status: runc {}, runrs {}\n",
            want.status, got.status
        ));
    }
    assert!(
        diff.is_empty(),
        "{name}: runrs and runc differ:\n{diff}\n--- runc:\n{}\n--- runrs:\n{}",
        describe(&want),
        describe(&got)
    );
}

#[test]
fn coreutils_files() {
    compare(
        "coreutils_files",
        r#"
mkdir -p tree/a/b tree/c
printf 'hello\n' > tree/a/f1
printf 'world\nabc\n' > tree/a/b/f2
seq 1 2000 > tree/c/nums
ln -s ../a/f1 tree/c/link
chmod 640 tree/a/f1
chmod 750 tree/a/b
chown 1000:1000 tree/c/nums
chown -h 1000:1000 tree/c/link
touch -d '2020-01-02 03:04:05' tree/a/f1
ls -laR --time-style=+ tree
find tree -printf '%p %y %m %u %g %s %l\n' | sort
find tree -name 'f*' -type f | sort
find tree -newer tree/a/f1 -type f | sort
cp -a tree copy
diff -r tree copy && echo copies-equal
stat -c '%n %a %U %G %s %F %h' copy/a/f1 copy/c/link copy/c/nums
stat -c '%n %y' copy/a/f1
mv copy/a/f1 copy/a/f1.moved
mv copy/c copy/a/
ls -R copy
readlink copy/a/c/link
cat copy/a/c/link 2>&1 || echo dangling
ln -s f1.moved copy/a/l2
cat copy/a/l2
ln copy/a/f1.moved copy/a/hard
stat -c '%n %h' copy/a/hard
rm -r copy/a/b
ls copy/a
du -a --apparent-size tree | sort -k2
du -s tree
df -P /mnt /tmp | awk 'NR > 1 { print $6 }'
df -P -t tmpfs /tmp | awk 'NR > 1 { print $1, $2, $6 }'
tar cf /tmp/t.tar -C tree .
tar tf /tmp/t.tar | sort
mkdir /tmp/x
tar xpf /tmp/t.tar -C /tmp/x
ls -lR --time-style=+ /tmp/x
stat -c '%n %y' /tmp/x/a/f1
tar czf /tmp/t.tgz -C /tmp x && tar tzf /tmp/t.tgz | sort | head -3
sort -r -n tree/c/nums | head -3
sort tree/c/nums | uniq -c | sort -k2 | head -3
sed -n 's/^1\(.\)$/one-\1/p' tree/c/nums
sed -i 's/hello/bye/' tree/a/f1 && cat tree/a/f1
ls -la --time-style=+ tree/a
wc -l tree/c/nums
md5sum tree/c/nums
"#,
        ROOT,
    );
}

#[test]
fn python_stdlib() {
    compare(
        "python_stdlib",
        r#"
python3 - <<'EOF'
import os, pathlib, tempfile, shutil, subprocess, stat, sys
base = pathlib.Path(tempfile.mkdtemp(dir='/mnt', prefix='py'))
os.chdir(base)
print(os.getcwd() == str(base), base.parent)
p = pathlib.Path('a')
p.mkdir()
(p / 'x.txt').write_text('hi\n')
(p / 'sub').mkdir(mode=0o700)
(p / 'sub' / 'y.bin').write_bytes(bytes(range(256)) * 40)
os.symlink('x.txt', p / 'lnk')
os.link(p / 'x.txt', p / 'hard')
os.chmod(p / 'x.txt', 0o600)
os.utime(p / 'x.txt', (1000000000, 1000000000))
for root, dirs, files in sorted(os.walk('a')):
    dirs.sort()
    for f in sorted(files):
        st = os.lstat(os.path.join(root, f))
        print(root, f, oct(st.st_mode), st.st_size, st.st_nlink, st.st_uid)
print(sorted(e.name for e in os.scandir('a')), [e.is_symlink() for e in sorted(os.scandir('a'), key=lambda e: e.name)])
print(os.readlink('a/lnk'), os.path.realpath('a/lnk') == str(base / 'a' / 'x.txt'))
print(os.stat('a/x.txt').st_mtime, os.path.getsize('a/sub/y.bin'))
shutil.copytree('a', 'b', symlinks=True)
print(sorted(os.listdir('b')), os.path.islink('b/lnk'), os.stat('b/x.txt').st_mtime)
shutil.copy2('a/sub/y.bin', 'c.bin')
print(open('c.bin', 'rb').read() == open('a/sub/y.bin', 'rb').read())
shutil.move('b', 'moved')
print(sorted(os.listdir('.')))
shutil.rmtree('moved')
print(sorted(os.listdir('.')))
try:
    os.setxattr('a/x.txt', 'user.runrs', b'value')
    print('xattr', os.getxattr('a/x.txt', 'user.runrs'), os.listxattr('a/x.txt'))
    shutil.copy2('a/x.txt', 'xa.txt')
    print('copied xattr', os.listxattr('xa.txt'))
    os.setxattr('a', 'user.dir', b'\x00bin\x01')
    print('dir xattr', os.getxattr('a', 'user.dir'), os.listxattr('a/lnk', follow_symlinks=False))
    os.removexattr('a/x.txt', 'user.runrs')
    print('after remove', os.listxattr('a/x.txt'))
    os.getxattr('a/x.txt', 'user.gone')
except OSError as e:
    print('xattr error', e.errno)
with tempfile.NamedTemporaryFile(dir='.', delete=False) as t:
    t.write(b'temp')
print(os.path.dirname(t.name) == str(base), open(t.name).read())
os.unlink(t.name)
with tempfile.TemporaryDirectory() as d:
    pathlib.Path(d, 'f').write_text('x')
    print(os.path.dirname(d), os.listdir(d))
print(os.path.exists(d))
r = subprocess.run(['ls', '-1', 'a'], capture_output=True, text=True)
print(r.returncode, r.stdout.split())
print(subprocess.check_output('echo $((6*7)); pwd', shell=True, cwd='a').decode().split()[0])
r = subprocess.run(['cat', 'nope'], capture_output=True, text=True)
print(r.returncode, r.stderr.strip())
fd = os.open('a', os.O_RDONLY | os.O_DIRECTORY)
print(sorted(os.listdir(fd)))
os.close(fd)
fd = os.open('.', os.O_PATH)
print(os.stat('a/x.txt', dir_fd=fd).st_size, os.path.samestat(os.fstat(fd), os.stat('.')))
os.close(fd)
try:
    open('/proc/1/root/etc/hostname')
except OSError as e:
    print('proc root', e.errno)
print(os.getuid(), os.geteuid(), os.getgid(), os.getgroups())
print(os.cpu_count() == len(os.sched_getaffinity(0)))
print(pathlib.Path('/etc/debian_version').read_text().split('.')[0])
print(sorted(pathlib.Path('a').glob('**/*')))
print(os.access('a/x.txt', os.R_OK | os.W_OK), os.access('/etc/shadow', os.W_OK))
os.rename('a/x.txt', 'a/z.txt')
print(os.path.exists('a/x.txt'), os.stat('a/z.txt').st_nlink)
os.truncate('a/z.txt', 1)
print(open('a/z.txt').read())
os.mkfifo('fifo')
print(stat.S_ISFIFO(os.stat('fifo').st_mode))
EOF
"#,
        ROOT,
    );
}

#[test]
fn gcc_compile_and_run() {
    compare(
        "gcc_compile_and_run",
        r#"
cat > prog.c <<'EOF'
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void) {
    char *names[64];
    int n = 0;
    DIR *d = opendir("/etc/apt");
    struct dirent *e;
    while (d && (e = readdir(d)) && n < 64)
        names[n++] = strdup(e->d_name);
    if (d)
        closedir(d);
    qsort(names, n, sizeof *names, cmp);
    for (int i = 0; i < n; i++)
        printf("entry %s\n", names[i]);
    int fd = open("out.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    dprintf(fd, "written by %d\n", 42);
    close(fd);
    struct stat st;
    stat("out.txt", &st);
    printf("size %lld mode %o\n", (long long)st.st_size, st.st_mode & 07777);
    pid_t child = fork();
    if (child == 0) {
        execlp("cat", "cat", "out.txt", (char *)NULL);
        _exit(127);
    }
    int status;
    waitpid(child, &status, 0);
    printf("child exited %d\n", WEXITSTATUS(status));
    char cwd[256];
    printf("cwd %s\n", getcwd(cwd, sizeof cwd));
    return 3;
}
EOF
gcc -O1 -Wall -o prog prog.c
./prog || echo "exit $?"
gcc -static -o prog-static prog.c 2>/dev/null && ./prog-static > static.out || true
file_type=$(head -c 4 prog | od -An -c | tr -d ' ')
echo "elf: $file_type"
"#,
        ROOT,
    );
}

#[test]
fn sqlite3_database() {
    compare(
        "sqlite3_database",
        r#"
sqlite3 db.sqlite <<'EOF'
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, n INTEGER);
INSERT INTO t(name, n) VALUES ('a', 1), ('b', 2), ('c', 3);
CREATE INDEX t_n ON t(n);
EOF
sqlite3 db.sqlite "SELECT name, n * 10 FROM t ORDER BY n DESC;"
sqlite3 db.sqlite "PRAGMA journal_mode=WAL; INSERT INTO t(name, n) VALUES ('d', 4); SELECT count(*), sum(n) FROM t;"
sqlite3 db.sqlite "PRAGMA integrity_check; SELECT name FROM t WHERE n > 2;"
sqlite3 -header -csv db.sqlite "SELECT * FROM t;"
ls db.sqlite*
sqlite3 /tmp/other.db "CREATE TABLE x(v); BEGIN; INSERT INTO x VALUES (1); INSERT INTO x VALUES (2); COMMIT; SELECT group_concat(v) FROM x;"
sqlite3 :memory: "SELECT sqlite_version() > '3';"
"#,
        ROOT,
    );
}

#[test]
fn git_repository() {
    compare(
        "git_repository",
        r#"
export GIT_AUTHOR_DATE='2024-01-01T00:00:00Z' GIT_COMMITTER_DATE='2024-01-01T00:00:00Z'
git config --global user.email test@example.com
git config --global user.name Tester
git config --global init.defaultBranch main
git init -q repo
cd repo
printf 'one\n' > a.txt
mkdir dir && printf 'two\n' > dir/b.txt
git add .
git commit -q -m first
printf 'three\n' >> a.txt
git status --short
git diff
git commit -q -am second
git log --format='%H %an %s'
git ls-files -s
git checkout -q -b feature
git rm -q dir/b.txt
git commit -q -m third
git checkout -q main
git merge -q --no-edit feature
git log --oneline --graph
git show --stat HEAD | tail -3
git gc -q
git count-objects -v | grep -v size
git fsck 2>&1
"#,
        ROOT,
    );
}

#[test]
fn procps_ps_and_top() {
    compare(
        "procps_ps_and_top",
        r#"
sleep 30 &
sleeper=$!
# Pids other than init's differ (runc's own init forks use a few), so
# they print as P; their order is kept.
p() { awk -v cols="$1" 'BEGIN { n = split(cols, c, ",") } { for (i = 1; i <= n; i++) if ($c[i] ~ /^[0-9]+$/ && $c[i] > 1) $c[i] = "P"; print }'; }
# Each tool writes to a file first: in a pipeline the other members'
# states (R or S, still bash or already exec'd) are a race.
ps aux > /tmp/ps1
awk '{ print $1, $2, $8, $11, $12, $13 }' /tmp/ps1 | p 2
ps -eo pid,ppid,user,group,stat,nice,pri,cls,comm > /tmp/ps2
p 1,2 < /tmp/ps2
ps -o pid,args -p $sleeper > /tmp/ps3
p 1 < /tmp/ps3
ps -eo pid,tty,comm --sort=-pid > /tmp/ps4
p 1 < /tmp/ps4
top -bn1 > /tmp/top
awk 'NR <= 5 { split($0, a, /[0-9]/); print a[1] } NR == 7 { print } NR > 7 { print $1, $2, $8, $12 }' /tmp/top | p 1
kill $sleeper
wait $sleeper || echo "sleep ended by signal $(( $? - 128 ))"
"#,
        ROOT,
    );
}

#[test]
fn proc_and_sys() {
    compare(
        "proc_and_sys",
        r#"
grep -E '^(Name|State|Tgid|Pid|PPid|Uid|Gid|Groups|Threads|Cap|NoNewPrivs|Seccomp:|Umask|SigBlk)' /proc/self/status | sed -E 's/^(Tgid|Pid):.*/\1: P/'
# Only SIGPIPE: what else is ignored depends on who started runc.
ign=$(awk '/^SigIgn/ { print $2 }' /proc/self/status)
echo "SIGPIPE ignored: $(( (0x$ign >> 12) & 1 ))"
cut -d' ' -f1-9 /proc/self/stat | awk '{ $1 = "PID"; $4 = $4 > 0; $5 = $5 > 0; $6 = $6 > 0; print }'
awk '{ print NF }' /proc/self/stat /proc/self/statm /proc/loadavg /proc/uptime
awk '{ print $1 }' /proc/meminfo | head -5
head -1 /proc/stat | awk '{ print $1, NF }'
grep -c '^cpu[0-9]' /proc/stat
nproc
getconf _NPROCESSORS_ONLN
cat /sys/devices/system/cpu/online /sys/devices/system/cpu/possible /sys/devices/system/cpu/kernel_max
ls -d /sys/devices/system/cpu/cpu[0-9]* | wc -l
getconf _NPROCESSORS_CONF
cat /sys/kernel/mm/transparent_hugepage/enabled /sys/kernel/mm/transparent_hugepage/hpage_pmd_size
stat -c '%A %n' /sys/devices/system/cpu /sys/devices/system/cpu/cpu0 /sys/devices/system/cpu/online /sys/kernel/mm/transparent_hugepage/enabled
cat /proc/self/cmdline | tr '\0' ' '; echo
readlink /proc/self/exe /proc/self/cwd /proc/self/root
ls /proc/self/fd/ | sort -n | head -3
ls /dev | sort
cat /proc/sys/kernel/hostname /proc/sys/kernel/pid_max
# A synthetic directory as the cwd: bash's logical pwd, getcwd (pwd -P,
# python), children inheriting it, /proc/<pid>/cwd, and leaving it.
(cd /proc/self && head -1 status && pwd && /bin/pwd | sed -E 's#^/proc/[0-9]+$#/proc/P#' \
  && readlink /proc/self/cwd | sed -E 's#^/proc/[0-9]+$#/proc/P#' && cd task && cd .. && cat comm \
  && python3 -c 'import os; print(os.getcwd() == "/proc/%d" % os.getppid(), open("comm").read().strip())' \
  && cd /proc/sys/kernel && cat hostname && /bin/pwd && cd -P .. && /bin/pwd && cd / && /bin/pwd)
echo hello > /dev/null && head -c 4 /dev/zero | od -An -tx1
grep -c . /proc/self/mounts > /dev/null && echo mounts-readable
# runc also lists its masked and read-only /proc and /sys paths as mounts;
# runrs's sentry hides them without mounts, so only the spec's are compared.
m='$2 ~ /^\/(proc|dev|dev\/shm|sys|tmp|mnt)?$/'
awk "$m { print \$1, \$2, \$3 }" /proc/self/mounts
awk '{ split($0, a, " - "); split(a[2], b, " "); $0 = $5 " " b[1] " " b[2] } '"$m"' { print }' /proc/self/mountinfo
df -T | awk '$7 !~ /^\/(proc|sys)\// { print $1, $2, $7 }'
df -h / | awk 'NR == 2 { print $1, $6 }'
uname -s -m
"#,
        ROOT,
    );
}

/// A copy of /etc, big directories (/usr/bin, python3.11), install/touch -r/mkfifo/dd/split, and what the system looks like (mounts, devices, users, limits).
#[test]
fn coreutils_system_tree() {
    compare(
        "coreutils_system_tree",
        r#"
cd /mnt
cp -a /etc etc-copy
diff -r --no-dereference /etc etc-copy && echo etc-copy-equal
find etc-copy -type l | sort | head -5
find etc-copy | wc -l
ls -laR --time-style=+ /etc/apt | head -20
ls -la --time-style=+ /usr/bin | wc -l
find /usr/lib/python3.11 -name '*.py' | wc -l
du -s --apparent-size /usr/share/doc | cut -f1 > /dev/null && echo du-ok
readlink -f /bin/sh /usr/bin/python3
realpath --relative-to=/usr/lib /usr/share/doc
mktemp -d /tmp/tmp.XXXXXX | sed 's/\.[A-Za-z0-9]*$//'
install -m 4750 -o 1000 -g 100 /dev/null inst && stat -c '%a %U %G' inst
touch -r /etc/passwd ref && [ "$(stat -c %Y ref)" = "$(stat -c %Y /etc/passwd)" ] && echo touch-r-ok
chmod -R go-rwx etc-copy/apt && stat -c '%a %n' etc-copy/apt etc-copy/apt/sources.list.d
mkfifo fifo && test -p fifo && echo fifo-ok
ls /proc/self/fd | wc -l
ulimit -n
hostname; uname -n
getent passwd root user
timeout 5 sleep 0.1 && echo timeout-ok
env | sort | grep -v '^_='
stat -c '%F %a %U' / /tmp /dev/null /dev/zero /proc /sys
df -h / /tmp /mnt /dev | awk '{ print $6 }'
dd if=/dev/zero of=zeros bs=1k count=64 2>&1 | head -1
split -b 10k zeros part- && ls part-* | wc -l
seq 100000 | sort -R | sort -n | tail -1
xargs -n 2 echo < /etc/hostname > /dev/null && echo xargs-ok
cat /proc/cpuinfo | grep -c ^processor
printf 'b\na\n' | sort | tee sorted | wc -l
ln -sf /nonexistent dangling && ls -l dangling | awk '{ print $9, $10, $11 }'
test -e dangling || echo dangling-missing
rm -rf etc-copy && echo rm-ok
"#,
        ROOT,
    );
}

/// Python's subprocess pipes, multiprocessing (queues and a pool over /dev/shm semaphores), threads, unix and TCP sockets, signals, fork, zip/tar/sqlite3, mmap, locks, venv and compileall.
#[test]
fn python_processes_and_ipc() {
    compare(
        "python_processes_and_ipc",
        r#"
cd /mnt
python3 - <<'PY'
import os, sys, subprocess, threading, multiprocessing, socket, signal, select, shutil, resource, pwd, grp, json, hashlib, zipfile, tarfile, sqlite3, tempfile, io, glob, fcntl, mmap, stat
print(os.statvfs('/mnt').f_bsize > 0, shutil.disk_usage('/tmp').total > 0)
print(pwd.getpwuid(0).pw_name, grp.getgrgid(100).gr_name, pwd.getpwnam('user').pw_dir)
print(resource.getrlimit(resource.RLIMIT_NOFILE))
p = subprocess.Popen(['sort'], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
out, _ = p.communicate(b'c\nb\na\n')
print(out.split(), p.returncode)
print(subprocess.run('ls /etc | head -3; exit 3', shell=True, capture_output=True).returncode)
def work(q, n): q.put(n * n)
q = multiprocessing.Queue()
ps = [multiprocessing.Process(target=work, args=(q, i)) for i in range(4)]
[p.start() for p in ps]; [p.join() for p in ps]
print(sorted(q.get() for _ in range(4)))
with multiprocessing.Pool(2) as pool:
    print(pool.map(abs, [-1, -2, 3]))
res = []
ts = [threading.Thread(target=lambda i=i: res.append(i)) for i in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
print(sorted(res))
a, b = socket.socketpair()
a.sendall(b'ping'); print(b.recv(4))
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); srv.bind('/tmp/sock'); srv.listen(1)
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); c.connect('/tmp/sock')
conn, _ = srv.accept(); c.sendall(b'unix'); print(conn.recv(4), stat.S_ISSOCK(os.stat('/tmp/sock').st_mode))
t = socket.socket(); t.bind(('127.0.0.1', 0)); t.listen(1)
u = socket.create_connection(t.getsockname()); v, _ = t.accept(); u.sendall(b'tcp'); print(v.recv(3))
r, w = os.pipe(); os.write(w, b'x'); print(select.select([r], [], [], 1)[0] == [r])
got = []
signal.signal(signal.SIGUSR1, lambda *a: got.append(1)); os.kill(os.getpid(), signal.SIGUSR1); print(got)
pid = os.fork()
if pid == 0:
    os._exit(7)
print(os.WEXITSTATUS(os.waitpid(pid, 0)[1]))
with zipfile.ZipFile('z.zip', 'w') as z:
    z.writestr('a.txt', 'hello')
print(zipfile.ZipFile('z.zip').read('a.txt'))
with tarfile.open('t.tar.gz', 'w:gz') as tf:
    tf.add('/etc/apt', arcname='apt')
print(sorted(tarfile.open('t.tar.gz').getnames())[:3])
db = sqlite3.connect('p.db'); db.execute('create table t(x)'); db.executemany('insert into t values (?)', [(i,) for i in range(100)]); db.commit()
print(db.execute('select sum(x) from t').fetchone())
print(hashlib.sha256(open('/etc/os-release', 'rb').read()).hexdigest()[:16])
with open('m.bin', 'w+b') as f:
    f.write(b'\0' * 4096); f.flush()
    m = mmap.mmap(f.fileno(), 4096); m[0:5] = b'hello'; m.flush(); m.close()
print(open('m.bin', 'rb').read(5))
fd = os.open('lock', os.O_CREAT | os.O_RDWR); fcntl.flock(fd, fcntl.LOCK_EX); fcntl.lockf(fd, fcntl.LOCK_UN); print('locked')
print(sorted(glob.glob('/etc/apt/*'))[:2])
print(json.dumps({'cwd': os.getcwd(), 'exe': sys.executable, 'prefix': sys.prefix}))
print(os.path.ismount('/mnt'), os.path.ismount('/tmp'), os.path.ismount('/'), os.path.ismount('/etc'))
print(len(os.listdir('/proc/self/fd')) > 2, os.readlink('/proc/self/cwd'))
print(os.uname().sysname, os.uname().nodename)
import venv
PY
python3 -m venv --without-pip /tmp/venv && /tmp/venv/bin/python -c 'import sys; print(sys.prefix)'
python3 -m compileall -q /mnt > /dev/null && echo compiled
"#,
        ROOT,
    );
}

/// A /proc/<pid> directory used as a pidfd (as CPython's own tests do):
/// SIGKILL and SIGSTOP sent to the container's init through /proc/1 are
/// ignored, as Linux ignores them from inside the init's pid namespace,
/// and a child gets its signal.
#[test]
fn python_pidfd_of_proc_directories() {
    compare(
        "python_pidfd_of_proc_directories",
        r#"
python3 - <<'PY'
import os, signal, subprocess
init = os.open('/proc/1', os.O_RDONLY | os.O_DIRECTORY)
signal.pidfd_send_signal(init, signal.SIGKILL)
signal.pidfd_send_signal(init, signal.SIGSTOP)
signal.pidfd_send_signal(init, 0)
child = subprocess.Popen(['sleep', '30'])
fd = os.open('/proc/%d' % child.pid, os.O_RDONLY | os.O_DIRECTORY)
signal.pidfd_send_signal(fd, signal.SIGTERM)
print('child', child.wait())
try:
    signal.pidfd_send_signal(fd, 0)
except ProcessLookupError:
    print('reaped: ESRCH')
PY
echo 'init lives'
"#,
        ROOT,
    );
}

/// A process and a thread naming themselves through /proc/self/comm and
/// /proc/self/task/<tid>/comm (as setproctitle-style code and runtimes
/// naming threads do), what ps then shows, another process's comm refused
/// at write, and oom_score_adj raised and read back.
#[test]
fn python_proc_comm_and_oom_score_adj() {
    compare(
        "python_proc_comm_and_oom_score_adj",
        r#"
python3 - <<'PY'
import os, threading, subprocess, errno
with open('/proc/self/comm', 'w') as f:
    f.write('pyworker')
print(open('/proc/self/comm').read().strip())
ready, done = threading.Event(), threading.Event()
t = threading.Thread(target=lambda: (ready.set(), done.wait()))
t.start(); ready.wait()
with open(f'/proc/self/task/{t.native_id}/comm', 'w') as f:
    f.write('pythread')
print(open(f'/proc/self/task/{t.native_id}/comm').read().strip())
pid = str(os.getpid())
print(subprocess.run(['ps', '-o', 'comm=', '-p', pid], capture_output=True, text=True).stdout.split())
print(subprocess.run(['ps', '-L', '-o', 'comm=', '-p', pid], capture_output=True, text=True).stdout.split())
done.set(); t.join()
fd = os.open(f'/proc/{os.getppid()}/comm', os.O_WRONLY)
try:
    os.write(fd, b'stolen')
except OSError as e:
    print('parent comm:', errno.errorcode[e.errno])
os.close(fd)
with open('/proc/self/oom_score_adj', 'w') as f:
    f.write('250')
print(open('/proc/self/oom_score_adj').read().strip())
print(subprocess.run(['cat', '/proc/self/oom_score_adj'], capture_output=True, text=True).stdout.strip())
PY
"#,
        ROOT,
    );
}

/// AF_UNIX path sockets (bound and connected through the gofer): a
/// socketserver stream server with a client, the addresses both ends see,
/// the socket inode's mode and owner under a umask, a datagram server,
/// EADDRINUSE, ECONNREFUSED and ENOENT.
#[test]
fn python_unix_sockets() {
    compare(
        "python_unix_sockets",
        r#"
mkdir -p /tmp/s && cd /tmp/s
python3 - <<'PY'
import os, socket, socketserver, stat, threading
class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(self.rfile.readline().upper())
os.umask(0o077)
srv = socketserver.UnixStreamServer('rel.sock', Echo)
print('server', srv.server_address)
threading.Thread(target=srv.serve_forever, daemon=True).start()
st = os.stat('rel.sock')
print(stat.S_ISSOCK(st.st_mode), oct(stat.S_IMODE(st.st_mode)), st.st_uid, st.st_gid)
for path in ['rel.sock', '/tmp/s/rel.sock', '../s/./rel.sock']:
    c = socket.socket(socket.AF_UNIX)
    c.connect(path)
    c.sendall(b'hello ' + path.encode() + b'\n')
    print(c.recv(100), c.getpeername(), repr(c.getsockname()))
    c.close()
srv.shutdown()
d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
d.bind('/tmp/s/dgram')
w = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
w.bind('client.dgram')
w.sendto(b'datagram', '/tmp/s/dgram')
print(d.recvfrom(100))
for what, path in [('inuse', 'rel.sock'), ('file', '/etc/hostname'), ('nodir', '/nonexistent/x')]:
    try:
        socket.socket(socket.AF_UNIX).bind(path)
    except OSError as e:
        print(what, type(e).__name__, e.errno)
for path in ['dgram', 'missing.sock', '/etc/hostname']:
    try:
        socket.socket(socket.AF_UNIX).connect(path)
    except OSError as e:
        print(path, type(e).__name__, e.errno)
os.unlink('rel.sock')
print(sorted(os.listdir('.')))
PY
"#,
        ROOT,
    );
}

/// inotify through glibc (ctypes): a watch on a directory reports the
/// creation and removal of a file in it, by name; a missing path is ENOENT.
#[test]
fn python_inotify() {
    compare(
        "python_inotify",
        r#"
cd /mnt
python3 - <<'PY'
import ctypes, os, select, struct
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
os.mkdir('w'); os.symlink('w', 'link')
wd = libc.inotify_add_watch(fd, b'link', 0x100 | 0x200)
print(wd > 0, libc.inotify_add_watch(fd, b'/mnt/w', 0x100 | 0x200) == wd)
open('w/f', 'w').close(); os.unlink('/mnt/w/f')
select.select([fd], [], [], 2)
data, off = os.read(fd, 4096), 0
while off < len(data):
    _, mask, _, ln = struct.unpack_from('iIII', data, off)
    print(hex(mask), data[off + 16:off + 16 + ln].rstrip(b'\0'))
    off += 16 + ln
print(libc.inotify_add_watch(fd, b'missing', 0x100), ctypes.get_errno())
print(libc.inotify_add_watch(fd, b'link', 0x100 | 0x2000000 | 0x1000000), ctypes.get_errno())
PY
"#,
        ROOT,
    );
}

/// AF_UNIX path sockets as a user without capabilities: EACCES without
/// write permission on the socket file or the directory.
#[test]
fn python_unix_sockets_as_user() {
    compare(
        "python_unix_sockets_as_user",
        r#"
cd /mnt
python3 - <<'PY'
import os, socket
l = socket.socket(socket.AF_UNIX); l.bind('mine.sock'); l.listen(2)
st = os.stat('mine.sock'); print(oct(st.st_mode), st.st_uid, st.st_gid)
os.chmod('mine.sock', 0o500)
try:
    socket.socket(socket.AF_UNIX).connect('mine.sock')
except OSError as e:
    print('no write', type(e).__name__, e.errno)
os.chmod('mine.sock', 0o700)
socket.socket(socket.AF_UNIX).connect('/mnt/mine.sock'); print('connected')
os.mkdir('ro', 0o500)
try:
    socket.socket(socket.AF_UNIX).bind('ro/new.sock')
except OSError as e:
    print('no dir write', type(e).__name__, e.errno)
os.chmod('ro', 0o700)
PY
"#,
        USER,
    );
}

/// Building a shared and a static library, dlopen, ldd, and execve of scripts: a shebang, a missing interpreter (ENOENT), no shebang (ENOEXEC, the shell runs it), no exec bit (EACCES).
#[test]
fn gcc_shared_static_and_exec() {
    compare(
        "gcc_shared_static_and_exec",
        r#"
cd /mnt
mkdir -p src
cat > src/lib.c <<'C'
int triple(int x) { return 3 * x; }
C
cat > src/main.c <<'C'
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <sys/xattr.h>
int triple(int);
int main(int argc, char **argv) {
    void *h = dlopen("libtriple.so", RTLD_NOW);
    if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
    int (*f)(int) = (int (*)(int))dlsym(h, "triple");
    printf("triple(%d) = %d %d\n", argc, f(argc), triple(5));
    char buf[256];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("exe %s\n", buf);
    printf("euid %d access %d\n", geteuid(), access("/etc/shadow", R_OK));
    return 0;
}
C
gcc -c -fPIC -o src/lib.o src/lib.c
gcc -shared -o libtriple.so src/lib.o
ar rcs libtriple.a src/lib.o
gcc -o prog src/main.c -L. -ltriple -ldl
LD_LIBRARY_PATH=/mnt ./prog a b
gcc -static -o prog-static src/main.c libtriple.a 2>/dev/null || echo static-link-failed
ldd ./prog | awk '{ print $1 }' | sort
printf '#!/bin/sh\necho "script $0 $1"\n' > s.sh && chmod +x s.sh && ./s.sh arg
printf '#!/nonexistent/interp\n' > bad.sh && chmod +x bad.sh && { ./bad.sh 2>&1 || echo "bad interp $?"; }
printf 'echo no shebang\n' > plain && chmod +x plain && ./plain
cp /bin/true ./t && ./t && echo copied-binary-runs
chmod -x t && { ./t 2>&1 || echo "noexec $?"; }
python3 -c 'import os; os.execv("/bin/echo", ["echo", "execv"])'
env -i /usr/bin/env | wc -l
cd / && /mnt/prog 2>&1 | head -1 || true
"#,
        ROOT,
    );
}

const USER: User = User {
    uid: 1000,
    gid: 1000,
    additional_gids: &[100],
};

#[test]
fn identity_as_user() {
    compare(
        "identity_as_user",
        r#"
id
id -un
id -Gn
whoami
touch /tmp/mine /mnt/mine
stat -c '%n %U %G %a' /tmp/mine /mnt/mine
cat /etc/shadow 2>&1 || echo "shadow denied"
ls /root 2>&1 || echo "root dir denied"
touch /etc/nope 2>&1 || echo "etc read-only"
mkdir -m 700 /mnt/private && ls -ld --time-style=+ /mnt/private
python3 -c 'import os; print(os.getresuid(), os.getresgid(), sorted(os.getgroups()))'
grep -E '^(Uid|Gid|Groups|CapEff|CapPrm|CapBnd)' /proc/self/status
chown root /tmp/mine 2>&1 || echo "chown denied"
"#,
        USER,
    );
}

#[test]
fn identity_as_root() {
    compare(
        "identity_as_root",
        r#"
id
stat -c '%U %G' /etc/passwd
touch /tmp/r && chown 1000:100 /tmp/r && stat -c '%U %G' /tmp/r
chmod 4755 /tmp/r && stat -c '%a' /tmp/r
"#,
        ROOT,
    );
}

/// What a daemon does when it drops to its own user (postgres's initdb,
/// nginx or redis workers): su, runuser and setpriv switch for real, the
/// new user enters and writes its own 0700 directory (the kernel checks
/// chdir and the sentry checks opens: they must agree), other users are
/// refused, root enters it with CAP_DAC_OVERRIDE; SysV shared memory made
/// 0600 by one user is refused to another; a set-user-ID program is
/// honoured unless noNewPrivileges. Run with noNewPrivileges false and
/// true, compared with runc each time.
const DAEMON_USERS: &str = r#"
mkdir -m 700 /tmp/data && chown user:user /tmp/data
su user -s /bin/sh -c 'cd /tmp/data && echo 15 > PG_VERSION && mkdir -m 700 base && cd base && pwd && id'
runuser -u user -- sh -c 'cd /tmp/data && cat PG_VERSION && stat -c "%n %U:%G %a" . PG_VERSION base'
setpriv --reuid=1000 --regid=1000 --init-groups sh -c 'cd /tmp/data/base && touch f && ls'
setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'cd /tmp/data 2>&1 || echo nobody refused; cat /tmp/data/PG_VERSION 2>&1 || true'
cd /tmp/data && pwd && cd /
cat > /tmp/shm.c <<'C'
#define _GNU_SOURCE
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/shm.h>
int main(void) {
    if (setresuid(1000, 1000, 0)) { perror("setresuid"); return 1; }
    int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    printf("created by %d: %s%c", geteuid(), id >= 0 ? "ok" : strerror(errno), 10);
    setresuid(0, 0, 0);
    setresuid(65534, 65534, 0);
    void *p = shmat(id, NULL, 0);
    printf("attach by %d: %s%c", geteuid(), p == (void *)-1 ? strerror(errno) : "ok", 10);
    setresuid(0, 0, 0);
    setresuid(1000, 1000, 0);
    p = shmat(id, NULL, 0);
    printf("attach by %d: %s%c", geteuid(), p == (void *)-1 ? strerror(errno) : "ok", 10);
    shmctl(id, IPC_RMID, NULL);
    return 0;
}
C
cat > /tmp/euid.c <<'C'
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
int main(void) { printf("uid %d euid %d%c", getuid(), geteuid(), 10); return 0; }
C
gcc -o /tmp/shm /tmp/shm.c
/tmp/shm
gcc -o /mnt/euid /tmp/euid.c
chmod 4755 /mnt/euid
setpriv --reuid=1000 --regid=1000 --init-groups /mnt/euid
grep NoNewPrivs /proc/self/status
"#;

/// PostgreSQL as its own user: initdb makes and enters its 0700 data
/// directory, the server starts on a unix socket, psql queries it, and it
/// stops (under the emulated identity of earlier versions, initdb failed:
/// the kernel refused postgres its own directory).
const POSTGRES: &str = r#"
mkdir -p /tmp/pg && chown postgres:postgres /tmp/pg
su postgres -s /bin/sh -c '/usr/lib/postgresql/15/bin/initdb -D /tmp/pg/data >/tmp/pg/initdb.log 2>&1 && echo initdb ok'
stat -c '%n %U:%G %a' /tmp/pg/data /tmp/pg/data/PG_VERSION
su postgres -s /bin/sh -c "/usr/lib/postgresql/15/bin/pg_ctl -D /tmp/pg/data -o \"-k /tmp/pg -c listen_addresses=''\" -l /tmp/pg/log -w start >/dev/null && echo started"
su postgres -s /bin/sh -c "psql -h /tmp/pg -At -c 'select 1'"
su postgres -s /bin/sh -c "psql -h /tmp/pg -At -c 'create table t(x int); insert into t values (42); select x from t'"
su postgres -s /bin/sh -c 'psql -h /tmp/pg -At -c "select usename from pg_stat_activity where usename is not null"'
su postgres -s /bin/sh -c '/usr/lib/postgresql/15/bin/pg_ctl -D /tmp/pg/data -w stop >/dev/null && echo stopped'
"#;

#[test]
fn postgres_as_its_own_user() {
    compare_nnp("postgres_as_its_own_user", POSTGRES, ROOT, true);
}

#[test]
fn postgres_as_its_own_user_without_no_new_privs() {
    compare_nnp(
        "postgres_as_its_own_user_without_no_new_privs",
        POSTGRES,
        ROOT,
        false,
    );
}

#[test]
fn daemon_users_without_no_new_privs() {
    compare_nnp(
        "daemon_users_without_no_new_privs",
        DAEMON_USERS,
        ROOT,
        false,
    );
}

#[test]
fn daemon_users_with_no_new_privs() {
    compare_nnp("daemon_users_with_no_new_privs", DAEMON_USERS, ROOT, true);
}

/// Container root switching to a user without su (as entrypoint scripts
/// and gosu do): setgroups, setgid, setuid from python (glibc broadcasts
/// them to every thread), then what the new user can see and create;
/// util-linux setpriv does the same with its own calls.
#[test]
fn user_switch_without_su() {
    compare(
        "user_switch_without_su",
        r#"
python3 - <<'PY'
import os, subprocess, sys, threading
ready, done = threading.Event(), []
def other_thread():
    ready.wait()
    done.append((os.getresuid(), os.getresgid()))
t = threading.Thread(target=other_thread)
t.start()
os.setgroups([100])
os.setgid(1000)
os.setuid(1000)
ready.set()
t.join()
print("thread", done)
print(os.getresuid(), os.getresgid(), os.getgroups())
with open("/tmp/switched", "w") as f:
    f.write("x")
os.mkdir("/tmp/switched.d")
sys.stdout.flush()
subprocess.run(["stat", "-c", "%n %U:%G %a", "/tmp/switched", "/tmp/switched.d"])
subprocess.run(["id"])
for path in ["/etc/shadow", "/root/.bashrc"]:
    try:
        open(path)
    except OSError as e:
        print(path, e.strerror)
for call in [lambda: os.setuid(0), lambda: os.setgroups([0]), lambda: os.chown("/tmp/switched", 0, 0)]:
    try:
        call()
    except OSError as e:
        print(e.strerror)
sys.stdout.flush()
subprocess.run(["sh", "-c", "grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb)' /proc/self/status; ps -o user,group,supgrp,comm"])
PY
stat -c '%n %U:%G' /tmp/switched /tmp/switched.d
setpriv --reuid=1000 --regid=100 --clear-groups sh -c 'id; touch /tmp/by-setpriv; stat -c "%U:%G" /tmp/by-setpriv; cat /etc/shadow 2>&1 | head -1'
setpriv --reuid=1000 --regid=1000 --init-groups --inh-caps=-all sh -c 'id; grep -E "^Cap(Prm|Eff)" /proc/self/status'
"#,
        ROOT,
    );
}

/// What a non-root user may not do: read 0600/0640 files, enter 0700
/// directories, write the read-only rootfs, chgrp to a group it lacks, link
/// across mounts; and what it may (its own files, /proc of its processes).
#[test]
fn permissions_as_user() {
    compare(
        "permissions_as_user",
        r#"
set +e
cd /tmp
echo secret > /tmp/mine; chmod 600 /tmp/mine
ls -l --time-style=+ /tmp/mine
cat /etc/shadow; echo "rc $?"
cat /root/.bashrc; echo "rc $?"
ls /root; echo "rc $?"
touch /etc/x; echo "rc $?"
mkdir /usr/local/x; echo "rc $?"
test -w /etc/passwd; echo "w $?"
test -r /etc/shadow; echo "r $?"
test -x /root; echo "x $?"
find /etc -maxdepth 2 -name '*.conf' 2>&1 | sort | head -5
find /var/cache -maxdepth 3 2>&1 | sort | head -8
ls -la --time-style=+ /var/log | head -5
python3 -c 'import os; print(os.access("/etc/shadow", os.R_OK), os.access("/tmp/mine", os.W_OK))'
python3 -c 'open("/etc/shadow")' 2>&1 | tail -1
chmod 644 /etc/passwd; echo "rc $?"
chown user /tmp/mine; echo "rc $?"
chgrp users /tmp/mine; echo "rc $?"; stat -c '%U %G' /tmp/mine
chgrp root /tmp/mine; echo "rc $?"
ln /etc/shadow /tmp/hl; echo "rc $?"
ln -s /etc/shadow /tmp/sl && cat /tmp/sl; echo "rc $?"
mkdir -p /tmp/d/e && chmod 000 /tmp/d && ls /tmp/d; echo "rc $?"; chmod 755 /tmp/d
cat /proc/1/environ > /dev/null; echo "rc $?"
ls /proc/1/fd; echo "rc $?"
readlink /proc/1/cwd; echo "rc $?"
kill -0 1; echo "rc $?"
id
newgrp 2>&1 | head -1 || true
ps -o user,group,supgrp,comm
"#,
        USER,
    );
}

/// procps beyond ps: threads (ps -L, /proc/<pid>/task), pgrep/pkill, free,
/// uptime, vmstat, pmap, pwdx, w, sysctl.
#[test]
fn procps_tools() {
    compare(
        "procps_tools",
        r#"
sleep 30 &
s=$!
python3 -c 'import threading, time; [threading.Thread(target=time.sleep, args=(30,), daemon=True).start() for _ in range(3)]; time.sleep(30)' &
py=$!
sleep 0.5
# UID, LWP count, TTY, TIME, command of every thread (LWP ids and CPU% vary).
ps -eLf > /tmp/psl
awk '{ print $1, $6, $8, $9, $10 }' /tmp/psl
ps -o nlwp,comm -p $py
ls /proc/$py/task | wc -l
pgrep -l sleep | awk '{ print $2 }'
pgrep -c python3
free -w | awk '{ print $1 }'
uptime | grep -c 'load average'
vmstat 1 1 | head -2
cat /proc/swaps
pmap $py | head -2 | awk '{ print $2 }'
pwdx $s | awk '{ print $2 }'
pkill -TERM sleep
wait $s || echo "sleep status $?"
kill $py
wait $py || echo "py status $?"
w -h | wc -l
sysctl kernel.hostname kernel.pid_max
cut -d' ' -f1-2 /proc/version
"#,
        ROOT,
    );
}

/// Files in depth: tar --xattrs round trip, touch -h on a symlink, statfs
/// types, sed -i keeping owner and mode, external sort with temp files and
/// SIGPIPE, sparse files, fallocate, link counts, renameat2 EXCHANGE,
/// setuid/setgid/sticky bits and umask.
#[test]
fn coreutils_file_semantics() {
    compare(
        "coreutils_file_semantics",
        r#"
cd /mnt
mkdir x && echo data > x/f && ln -s f x/l
python3 -c 'import os; os.setxattr("x/f", "user.tag", b"t1"); os.setxattr("x", "user.dir", b"d")'
tar --xattrs -cf a.tar x
mkdir out && tar --xattrs -xf a.tar -C out
python3 -c 'import os; print(os.getxattr("out/x/f", "user.tag"), os.listxattr("out/x"))'
tar --xattrs -tvf a.tar | awk '{ print $1, $2, $6 }'
touch -h -d '2001-02-03 04:05:06' x/l && stat -c '%n %y' x/l
touch -d '2002-02-03 04:05:06' x/f && stat -c '%n %y %x' x/f
stat -f -c '%T %b' /mnt | awk '{ print $1 }'
stat -f -c '%T' /tmp /proc /sys /dev
echo hello > s.txt && chown 1000:100 s.txt && chmod 640 s.txt && sed -i 's/hello/bye/' s.txt && stat -c '%U %G %a' s.txt && cat s.txt
seq 200000 | TMPDIR=/mnt sort -S 64k -r | head -2
truncate -s 1M sparse && du -k sparse | cut -f1 && stat -c %s sparse
fallocate -l 64k falloc && stat -c %s falloc
cp --sparse=always sparse sparse2 && stat -c %s sparse2
ln x/f hardlink && stat -c '%h' x/f
rm hardlink && stat -c '%h' x/f
mv x/f x/g && ls x
rename_ok=$(python3 -c 'import os; os.rename("x/g", "x/h"); print("ok")') && echo $rename_ok
python3 -c 'import os, ctypes; libc = ctypes.CDLL(None); print(libc.renameat2(-100, b"x/h", -100, b"x/l", 2), ctypes.get_errno())'
ls x
find / -xdev -name 'passwd' -path '*etc*' 2>/dev/null | sort
chmod u+s,g+s x/h 2>&1 || echo 'dangling after exchange'
chmod u+s,g+s x/l && stat -c '%A' x/l
mkdir -m 1777 sticky && stat -c '%A' sticky
umask 077 && touch um && stat -c '%a' um
"#,
        ROOT,
    );
}

/// Everyday tools: perl, gzip/xz, diff/cmp, date and locales, getent,
/// flock, dpkg/apt queries, a pty through script(1), nice/ionice/taskset/
/// chrt/renice/prlimit, findmnt/mountpoint, hexdump, checksums.
#[test]
fn misc_tools() {
    compare(
        "misc_tools",
        r#"
set +e
cd /mnt
perl -e 'opendir(my $d, "/etc/apt") or die; print join(" ", sort grep { !/^\./ } readdir $d), "\n"; print -d "/tmp" ? "dir\n" : "no\n"; my @s = stat("/etc/passwd"); print "$s[2] $s[4]\n"'
perl -MFile::Temp=tempdir -MFile::Find -e 'my $t = tempdir(CLEANUP => 1); open F, ">$t/x"; print F "1"; close F; find(sub { print "$_\n" if -f }, $t)'
seq 1000 | gzip -9 > n.gz && zcat n.gz | tail -1 && gzip -t n.gz && echo gzip-ok
seq 1000 | xz > n.xz 2>/dev/null && xzcat n.xz | wc -l || echo no-xz
cmp /etc/passwd /etc/passwd && echo same
diff <(seq 3) <(seq 4) ; echo "diff $?"
date -d '2020-02-29 12:00 UTC' +%s
TZ=UTC date -d @0
locale 2>&1 | head -2
echo héllo | iconv -f utf-8 -t ascii//TRANSLIT 2>&1
getent hosts localhost | awk '{ print $1 }' | sort -u
getent group users
flock /tmp/lk -c 'echo locked'
dpkg --print-architecture
dpkg -l coreutils | tail -1 | awk '{ print $1, $2 }'
dpkg-query -W -f='${Package}\n' sed
apt-cache policy sed 2>&1 | head -2
apt-get -s install nano 2>&1 | tail -1
script -qc 'echo in-pty; tty | cut -c1-8' /dev/null 2>&1 | tr -d '\r'
nohup true > /dev/null 2>&1 && echo nohup-ok
nice -n 5 nice
stdbuf -oL echo stdbuf
ionice -c3 true && echo ionice-ok
taskset -p 1 | awk '{ print $NF }'
chrt -p 1 2>&1 | head -1
renice -n 1 -p $$ | cut -d' ' -f2-
prlimit --pid $$ --nofile | tail -1
findmnt -n -o TARGET,FSTYPE / 2>&1
mountpoint /tmp; mountpoint /etc
hexdump -C /etc/hostname | head -1 | cut -c1-20
base64 /etc/hostname | head -1 > /dev/null && echo b64
sha256sum /etc/debian_version
"#,
        ROOT,
    );
}

/// The runtime's stdout and stderr are host files here (`run_command`), as
/// when a CI runner redirects a job's log: /dev/stdout, /dev/stderr and
/// /proc/self/fd/N reopen those fds (runc hands the workload pipes, runrs
/// the files themselves), never a path resolved in the container, and
/// the fd links name no host path.
#[test]
fn stdio_host_files_through_dev_stdout() {
    compare(
        "stdio_host_files_through_dev_stdout",
        r#"
cd /mnt
sh -c 'echo dash-stdout > /dev/stdout; echo dash-stderr > /dev/stderr; echo dash-fd1 >> /proc/self/fd/1'
python3 -c '
import sys
with open("/dev/stdout", "w") as f: f.write("py-stdout\n")
with open("/proc/self/fd/2", "w") as f: f.write("py-stderr\n")
'
echo through-tee | tee /dev/stdout
cat /etc/debian_version > /dev/stdout
case "$(readlink /proc/$$/fd/1)" in /*) echo "stdout link: a path" ;; *) echo "stdout link: no path" ;; esac
[ -w /dev/stdout ] && echo "stdout writable"
ls -A /mnt /tmp
echo done >&2
"#,
        ROOT,
    );
}

/// Network introspection of the container's own network namespace, as
/// `ip addr` and Node's os.networkInterfaces() do it (iproute2 and node
/// are not in the rootfs): Python's if_nameindex and SIOCGIF* ioctls,
/// and getifaddrs (a NETLINK_ROUTE dump) from a C program.
#[test]
fn network_interfaces() {
    compare(
        "network_interfaces",
        r#"
cd /mnt
python3 - <<'PYEOF'
import fcntl, socket, struct
print("if_nameindex", socket.if_nameindex())
print("lo index", socket.if_nametoindex("lo"), socket.if_indextoname(1))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
req = struct.pack("16s16x", b"lo")
addr = fcntl.ioctl(s, 0x8915, req)  # SIOCGIFADDR
print("SIOCGIFADDR", socket.inet_ntoa(addr[20:24]))
flags = struct.unpack("H", fcntl.ioctl(s, 0x8913, req)[16:18])[0]  # SIOCGIFFLAGS
print("up", bool(flags & 1), "loopback", bool(flags & 8))
mtu = struct.unpack("i", fcntl.ioctl(s, 0x8921, req)[16:20])[0]  # SIOCGIFMTU
print("mtu", mtu)
try:
    fcntl.ioctl(s, 0x8914, struct.pack("16sH14x", b"lo", 0))  # SIOCSIFFLAGS
except OSError as e:
    print("SIOCSIFFLAGS refused")
n = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
print("netlink route socket", n.family == socket.AF_NETLINK)
PYEOF
cat > ifaddrs.c <<'CEOF'
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    struct ifaddrs *all;
    if (getifaddrs(&all) != 0) {
        perror("getifaddrs");
        return 1;
    }
    for (struct ifaddrs *i = all; i; i = i->ifa_next) {
        char text[INET6_ADDRSTRLEN] = "-";
        int family = i->ifa_addr ? i->ifa_addr->sa_family : -1;
        if (family == AF_INET)
            inet_ntop(family, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, text, sizeof text);
        else if (family == AF_INET6)
            inet_ntop(family, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, text, sizeof text);
        printf("%s family %d addr %s up %d\n", i->ifa_name, family, text,
               !!(i->ifa_flags & IFF_UP));
    }
    freeifaddrs(all);
    return 0;
}
CEOF
gcc -O1 -Wall -o ifaddrs ifaddrs.c
./ifaddrs | sort
"#,
        ROOT,
    );
}

/// The legacy getdents(2), as LeakSanitizer's at-exit check lists
/// /proc/<pid>/task with it (then stops the threads with ptrace, see
/// `asan_leak_check`): a synthetic and a real directory.
#[test]
fn legacy_getdents() {
    compare(
        "legacy_getdents",
        r#"
cd /mnt
cat > gd.c <<'CEOF'
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct linux_dirent {
    unsigned long d_ino;
    unsigned long d_off;
    unsigned short d_reclen;
    char d_name[];
};

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    char buf[64], *names[256];
    int n = 0;
    long r;
    while ((r = syscall(SYS_getdents, fd, buf, sizeof buf)) > 0)
        for (long off = 0; off < r;) {
            struct linux_dirent *d = (struct linux_dirent *)(buf + off);
            char type = buf[off + d->d_reclen - 1];
            char *name = malloc(300);
            snprintf(name, 300, "%s type %d", d->d_name, type);
            if (n < 256)
                names[n++] = name;
            off += d->d_reclen;
        }
    if (r < 0)
        perror("getdents");
    qsort(names, n, sizeof *names, cmp);
    printf("%s:", dir);
    for (int i = 0; i < n; i++)
        printf(" [%s]", names[i]);
    printf("\n");
    close(fd);
}

int main(void) {
    char task[64];
    snprintf(task, sizeof task, "/proc/%d/task", getpid());
    list(task);
    list("/etc/apt");
    return 0;
}
CEOF
gcc -O1 -Wall -o gd gd.c
./gd | sed "s/^\/proc\/[0-9]*\/task: \[\. type 4\] \[\.\. type 4\] \[[0-9]* type 4\]$/task: dot dotdot one-thread/"
"#,
        ROOT,
    );
}

/// `strace -f` of a shell pipeline (issue 23): the tracer traces
/// processes of its own container. Pids, addresses, the dynamic loader's
/// calls and the interleaving of the processes differ between two runs,
/// so each process's trace (`-ff`: one file per process) is reduced to
/// what a pipeline must show: its execve, the pipe, the data it reads and
/// writes, how it ended.
#[test]
fn strace_pipeline() {
    compare(
        "strace_pipeline",
        r#"
cd /mnt
strace -ff -q -s 64 -o trace sh -c 'echo a | cat'
echo "status $?"
for f in trace.*; do
    grep -E '^(execve\(|pipe2?\(|dup2\(|write\(1, "a|read\(0, "a|\+\+\+ )' "$f" \
        | sed -E 's/0x[0-9a-f]+/ADDR/g; s/ +/ /g' | paste -sd '|'
done | sort
"#,
        ROOT,
    );
}

/// gdb: a breakpoint, a backtrace, locals and the run to the end of a
/// small gcc-compiled program (issue 23), gdb reading and writing the
/// inferior through /proc/<pid>/mem as under runc. Addresses are left out.
#[test]
fn gdb_breakpoint_and_backtrace() {
    compare(
        "gdb_breakpoint_and_backtrace",
        r#"
cd /mnt
cat > prog.c <<'CEOF'
#include <stdio.h>
static int g(int x) { return x * 2; }
static int f(int y) { return g(y + 1) + 1; }
int main(void) { printf("result %d\n", f(3)); return 0; }
CEOF
gcc -g -O0 -o prog prog.c
gdb -batch -nx -ex 'break g' -ex run -ex bt -ex 'print x' -ex 'finish' -ex continue ./prog 2>&1 \
    | sed -E 's/0x[0-9a-f]+/ADDR/g; s/process [0-9]+/process N/g'
"#,
        ROOT,
    );
}

/// An ASan+LSan program (gcc -fsanitize=address): LeakSanitizer stops the
/// threads with ptrace from a CLONE_UNTRACED thread, lists
/// /proc/<pid>/task with getdents, then reports the leak and exits 1; a
/// clean one exits 0 (issue 23).
#[test]
fn asan_leak_check() {
    compare(
        "asan_leak_check",
        r#"
cd /mnt
cat > leak.c <<'CEOF'
#include <stdlib.h>
#include <string.h>
void *keep;
int main(int argc, char **argv) {
    char *p = malloc(42);
    strcpy(p, "leaked");
    if (argc > 1) free(p);
    p = 0;
    keep = malloc(7);
    return 0;
}
CEOF
gcc -g -fsanitize=address -o leak leak.c
set +e
./leak 2> err; echo "leak: exit $?"
grep -E '^(Direct|Indirect) leak|^SUMMARY' err
./leak clean 2> err; echo "clean: exit $?"
cat err
"#,
        ROOT,
    );
}

/// On the ptrace platform the sentry is every task's tracer: a workload's
/// ptrace fails at once with EPERM (strace and gdb say so and exit), and
/// LeakSanitizer, which needs ptrace from a CLONE_UNTRACED thread, gets
/// EPERM for that clone and reports a fatal error instead of a leak
/// check (`ASAN_OPTIONS=detect_leaks=0` runs the rest of ASan). Nothing
/// waits: the whole script has the test's timeout.
#[test]
fn ptrace_platform_refuses_tracing_at_once() {
    let script = r#"
cd /mnt
set +e
strace -o /dev/null true 2>&1 | head -n 1; echo "strace: ${PIPESTATUS[0]}"
gdb -batch -nx -ex run /bin/true 2>&1 | grep -m1 -o 'Operation not permitted'; echo "gdb done"
cat > leak.c <<'CEOF'
#include <stdlib.h>
int main(void) { void *p = malloc(42); p = 0; return 0; }
CEOF
gcc -fsanitize=address -o leak leak.c
./leak 2> err; echo "leak: exit $?"
grep -o 'LeakSanitizer has encountered a fatal error' err
ASAN_OPTIONS=detect_leaks=0 ./leak; echo "no leak check: exit $?"
"#;
    let out = run_runrs_on("ptrace", script, ROOT, true);
    let text = String::from_utf8_lossy(&out.stdout);
    let want = [
        "strace: test_ptrace_get_syscall_info: PTRACE_TRACEME: Operation not permitted",
        "strace: 1",
        "Operation not permitted",
        "gdb done",
        "leak: exit 1",
        "LeakSanitizer has encountered a fatal error",
        "no leak check: exit 0",
    ];
    let got: Vec<&str> = text.lines().collect();
    assert_eq!(got, want, "{}", describe(&out));
}
