//! Runs tests/fixtures/demo.sh (the script scripts/demo.sh runs) under
//! `runrs run` and under Debian's `runc run` on identical bundles and
//! compares what they print (needs root and runc: scripts/test.sh installs it).

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

const RUNC: &str = "/usr/sbin/runc";

fn demo_bundle() -> Bundle {
    let bundle = Bundle::new(&["/bin/sh", "/demo.sh"]);
    let script = std::fs::read(manifest_dir().join("tests/fixtures/demo.sh"))
        .expect("read tests/fixtures/demo.sh");
    bundle.write_file("demo.sh", &script);
    bundle
}

/// True for `ls -l` entry lines: a type char then nine permission chars.
fn is_ls_entry(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 10 && b"-dlcbps".contains(&b[0]) && b[1..10].iter().all(|c| b"rwxsStT-".contains(c))
}

/// Normalises busybox `ls -la` output: drops the "total" line, the link
/// count and the date/time columns (they legitimately differ between
/// runtimes), and the size of the `dev` directory; every other line is kept
/// as is.
fn normalise(output: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for line in output.lines() {
        if let Some(n) = line.strip_prefix("total ") {
            if n.trim().parse::<u64>().is_ok() {
                continue;
            }
        }
        if !is_ls_entry(line) {
            lines.push(line.to_string());
            continue;
        }
        // mode links user group size month day time-or-year name...
        // (devices print "major, minor" where the size goes).
        let fields: Vec<&str> = line.split_whitespace().collect();
        let device = matches!(line.as_bytes()[0], b'c' | b'b');
        let size_len = if device { 2 } else { 1 };
        let date_at = 4 + size_len;
        if fields.len() < date_at + 4 {
            lines.push(line.to_string());
            continue;
        }
        let mut kept: Vec<&str> = vec![fields[0], fields[2], fields[3]];
        // A tmpfs directory's size counts its entries: /dev's depends on
        // which device nodes and symlinks the runtime creates.
        let tmpfs_dev = fields[0].starts_with('d') && fields[date_at + 3..] == ["dev"];
        if !tmpfs_dev {
            kept.extend(&fields[4..date_at]);
        }
        kept.extend(&fields[date_at + 3..]);
        lines.push(kept.join(" "));
    }
    lines
}

fn runc_run(bundle: &Path, id: &str, state_root: &Path) -> std::process::Output {
    let mut cmd = Command::new(RUNC);
    cmd.arg("--root")
        .arg(state_root)
        .arg("run")
        .arg("--bundle")
        .arg(bundle)
        .arg(id);
    run_command(cmd)
}

/// Runs a bundle from `make_bundle` under runc, checks that runc printed
/// what the test assumes (`runc_as_assumed`), then under runrs, and wants
/// the same stdout.
fn same_stdout_as_runc(
    make_bundle: impl Fn() -> Bundle,
    name: &str,
    runc_as_assumed: impl Fn(&str) -> bool,
) {
    let runc_bundle = make_bundle();
    let runc_root = std::env::temp_dir().join(unique_id("runrs-test-runc-root"));
    let runc_out = runc_run(
        runc_bundle.path(),
        &unique_id(&format!("{name}-runc")),
        &runc_root,
    );
    let _ = std::fs::remove_dir_all(&runc_root);
    let want = String::from_utf8_lossy(&runc_out.stdout).into_owned();
    assert!(
        runc_as_assumed(&want),
        "runc's own output is not what this test assumes:\n{}",
        describe(&runc_out)
    );
    let root = Root::new();
    let bundle = make_bundle();
    let b = bundle.path().to_string_lossy().into_owned();
    let out = run(
        &root,
        &["run", "--bundle", &b, &unique_id(&format!("{name}-runrs"))],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        want,
        "runrs vs runc\n{}",
        describe(&out)
    );
}

#[test]
fn normalise_drops_links_and_dates() {
    let out = "total 48\n\
        drwxr-xr-x   11 root     root          4096 Nov 25 00:33 .\n\
        crw-rw-rw-    1 root     root        1,   3 Nov 25  2024 null\n\
        drwxr-xr-x    5 root     root           320 Nov 25 00:37 dev\n\
        lrwxrwxrwx    1 root     root            16 Nov 25 00:33 link.txt -> /tmp/renamed.txt\n\
        hello\n";
    assert_eq!(
        normalise(out),
        vec![
            "drwxr-xr-x root root 4096 .",
            "crw-rw-rw- root root 1, 3 null",
            "drwxr-xr-x root root dev",
            "lrwxrwxrwx root root 16 link.txt -> /tmp/renamed.txt",
            "hello",
        ]
    );
}

#[test]
fn demo_output_matches_runc() {
    assert!(
        Path::new(RUNC).exists(),
        "{RUNC} is missing: install runc (Debian package `runc`), e.g. by running scripts/test.sh"
    );

    let runc_bundle = demo_bundle();
    let runc_root = std::env::temp_dir().join(unique_id("runrs-test-runc-root"));
    let runc_id = unique_id("cmp-runc");
    let runc_out = runc_run(runc_bundle.path(), &runc_id, &runc_root);
    let _ = run_command({
        let mut c = Command::new(RUNC);
        c.arg("--root")
            .arg(&runc_root)
            .args(["delete", "--force", &runc_id]);
        c
    });
    let _ = std::fs::remove_dir_all(&runc_root);
    assert_eq!(
        runc_out.status.code(),
        Some(42),
        "runc run of the demo\n{}",
        describe(&runc_out)
    );

    let root = Root::new();
    let bundle = demo_bundle();
    let id = unique_id("cmp-runrs");
    let b = bundle.path().to_string_lossy().into_owned();
    let out = run(&root, &["run", "--bundle", &b, &id]);
    assert_eq!(
        out.status.code(),
        Some(42),
        "runrs run of the demo\n{}",
        describe(&out)
    );

    let want = normalise(&String::from_utf8_lossy(&runc_out.stdout));
    let got = normalise(&String::from_utf8_lossy(&out.stdout));
    let mut diff = String::new();
    for i in 0..want.len().max(got.len()) {
        let (w, g) = (want.get(i), got.get(i));
        if w != g {
            diff.push_str(&format!(
                "line {}:\n  runc:  {}\n  runrs: {}\n",
                i + 1,
                w.map(String::as_str).unwrap_or("<none>"),
                g.map(String::as_str).unwrap_or("<none>")
            ));
        }
    }
    assert!(
        diff.is_empty(),
        "runrs and runc printed different output (normalised):\n{diff}\n--- runc stdout:\n{}\n--- runrs stdout:\n{}",
        String::from_utf8_lossy(&runc_out.stdout),
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Supplementary groups decide access on emulated paths when no
/// capability overrides them: uid 1000 reads a root:4242 0640 file and
/// stats through a root:4242 0750 directory only when the spec's
/// additionalGids has 4242 (the sentry takes the groups from the spec
/// until a setgroups or an exec). Same lines under runc and runrs.
#[test]
fn supplementary_groups_match_runc() {
    let script = "cat /tmp/group-file 2>&1; stat -c %n /tmp/group-dir/inner 2>&1; id -G";
    let make_bundle = |gids: &[u32]| {
        let bundle = Bundle::new(&["/bin/sh", "-c", script]);
        let tmp = bundle.rootfs().join("tmp");
        std::fs::write(tmp.join("group-file"), "secret\n").expect("write group-file");
        std::fs::create_dir(tmp.join("group-dir")).expect("mkdir group-dir");
        std::fs::write(tmp.join("group-dir/inner"), "").expect("write inner");
        for (path, mode) in [("group-file", 0o640), ("group-dir", 0o750)] {
            let p = tmp.join(path);
            std::os::unix::fs::chown(&p, Some(0), Some(4242)).expect("chown");
            std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(mode))
                .expect("chmod");
        }
        bundle.config_mut(|c| {
            c["process"]["user"] =
                serde_json::json!({"uid": 1000, "gid": 1000, "additionalGids": gids});
        });
        bundle
    };
    for gids in [&[4242u32][..], &[]] {
        let runc_bundle = make_bundle(gids);
        let runc_root = std::env::temp_dir().join(unique_id("runrs-test-runc-root"));
        let runc_out = runc_run(runc_bundle.path(), &unique_id("grp-runc"), &runc_root);
        let _ = std::fs::remove_dir_all(&runc_root);
        let want = String::from_utf8_lossy(&runc_out.stdout).into_owned();
        let readable = want.starts_with("secret");
        assert_eq!(
            readable,
            !gids.is_empty(),
            "runc's own output is not what this test assumes ({gids:?}):\n{}",
            describe(&runc_out)
        );

        let root = Root::new();
        let bundle = make_bundle(gids);
        let b = bundle.path().to_string_lossy().into_owned();
        let out = run(&root, &["run", "--bundle", &b, &unique_id("grp-runrs")]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            want,
            "additionalGids {gids:?}: runrs vs runc\n{}",
            describe(&out)
        );
    }
}

/// The spec's masked and readonly paths as mounts in /proc/self/mounts
/// (source, target, type, ro/rw; runc's other options and the ids are the
/// host's), what a masked file and directory read as, and
/// /proc/self/cgroup (in a cgroup namespace: every hierarchy at "/"), and
/// a write to /proc/sys (EROFS: runc mounts it read-only).
/// Same lines under runc and runrs.
#[test]
fn masked_readonly_mounts_and_cgroup_match_runc() {
    let script = r#"
while read src tgt typ opts rest; do
  case $tgt in /etc/group|/home|/dev/shm|/var|/proc/sys) echo "$src $tgt $typ ${opts%%,*}";; esac
done < /proc/self/mounts
wc -c < /etc/group; ls -a /home; touch /var/x 2>&1 || true
cat /proc/self/cgroup
(echo x > /proc/sys/kernel/hostname) 2>&1 || true
"#;
    let make_bundle = || {
        let bundle = Bundle::new(&["/bin/sh", "-c", script]);
        std::fs::create_dir_all(bundle.rootfs().join("home/user")).expect("mkdir home/user");
        bundle.config_mut(|c| {
            let ns = c["linux"]["namespaces"].as_array_mut().expect("namespaces");
            if !ns.iter().any(|n| n["type"] == "cgroup") {
                ns.push(serde_json::json!({"type": "cgroup"}));
            }
            for (key, extra) in [
                ("maskedPaths", ["/etc/group", "/home"]),
                ("readonlyPaths", ["/dev/shm", "/var"]),
            ] {
                let list = c["linux"][key]
                    .as_array_mut()
                    .expect("the default spec has the list");
                list.extend(extra.iter().map(|p| serde_json::json!(p)));
                list.push(serde_json::json!("/nonexistent"));
            }
        });
        bundle
    };
    same_stdout_as_runc(make_bundle, "mask", |want| {
        want.contains("tmpfs /home tmpfs ro") && want.contains("proc /proc/sys proc ro")
    });
}

/// unlink and rmdir of a name that is not there: ENOENT where the
/// directory is writable, EROFS on a read-only root or read-only path
/// (Linux checks the mount before it looks the name up), as under runc.
#[test]
fn removing_a_missing_name_fails_as_under_runc() {
    let script = r#"
for d in / /var /tmp /var/sub /tmp/sub; do
  unlink $d/nothere 2>&1; rmdir $d/nothere 2>&1; unlink $d/nothere/ 2>&1
  [ -e $d/present ] && unlink $d/present 2>&1 && echo "removed $d/present"
done
echo end
"#;
    let make_bundle = || {
        let bundle = Bundle::new(&["/bin/sh", "-c", script]);
        for dir in ["var/sub", "tmp/sub"] {
            std::fs::create_dir_all(bundle.rootfs().join(dir)).expect("mkdir");
            std::fs::write(bundle.rootfs().join(dir).join("present"), "x").expect("write");
        }
        std::fs::write(bundle.rootfs().join("var/present"), "x").expect("write");
        bundle.config_mut(|c| {
            c["root"]["readonly"] = serde_json::json!(true);
            c["linux"]["readonlyPaths"]
                .as_array_mut()
                .expect("the default spec has the list")
                .push(serde_json::json!("/var"));
            c["mounts"]
                .as_array_mut()
                .expect("the spec has mounts")
                .push(serde_json::json!({
                    "destination": "/tmp", "type": "bind",
                    "source": bundle.rootfs().join("tmp"), "options": ["rbind", "rw"],
                }));
        });
        bundle
    };
    same_stdout_as_runc(make_bundle, "unlink-missing", |want| {
        want.contains("unlink: can't remove file '//nothere': Read-only file system")
            && want.contains("/tmp/nothere': No such file or directory")
            && want.contains("removed /tmp/sub/present")
            && want.ends_with("end\n")
    });
}

/// /sys/fs/cgroup shows the container's own cgroups as runc mounts them on
/// this host (one read-only directory per hierarchy): what the JVM, Go's
/// runtime and `nproc`-like tools read to size themselves.
#[test]
fn sys_fs_cgroup_matches_runc() {
    // Docker on a v1 host has no cgroup namespace; `runc spec` has one.
    for cgroup_ns in [false, true] {
        sys_fs_cgroup_matches_runc_with(cgroup_ns);
    }
}

fn sys_fs_cgroup_matches_runc_with(cgroup_ns: bool) {
    let script = r#"
ls /sys/fs/cgroup
cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max
cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us
ls /sys/fs/cgroup/pids | grep -c pids
wc -l < /sys/fs/cgroup/pids/cgroup.procs
echo 1 > /sys/fs/cgroup/pids/pids.max || echo refused
mkdir /sys/fs/cgroup/made-here 2>/dev/null || echo mkdir refused
ls -d /sys/fs/cgroup/../cgroup /sys/fs/cgroup/memory/.. /sys/kernel
"#;
    let make_bundle = || {
        let bundle = Bundle::new(&["/bin/sh", "-c", script]);
        bundle.config_mut(|c| {
            // Top-level, so that deleting the container leaves nothing.
            c["linux"]["cgroupsPath"] = serde_json::json!(format!("/{}", unique_id("runrs-cg")));
            let ns = c["linux"]["namespaces"].as_array_mut().expect("namespaces");
            ns.retain(|n| n["type"] != "cgroup");
            if cgroup_ns {
                ns.push(serde_json::json!({"type": "cgroup"}));
            }
            // Docker's cgroup mount.
            c["mounts"]
                .as_array_mut()
                .expect("the spec has mounts")
                .push(serde_json::json!({
                    "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                    "options": ["ro", "nosuid", "noexec", "nodev"],
                }));
            c["linux"]["resources"] = serde_json::json!({
                "memory": {"limit": 268435456},
                "pids": {"limit": 100},
                "cpu": {"quota": 50000, "period": 100000},
            });
        });
        bundle
    };
    let runc_bundle = make_bundle();
    let runc_root = std::env::temp_dir().join(unique_id("runrs-test-runc-root"));
    let runc_out = runc_run(runc_bundle.path(), &unique_id("cg-runc"), &runc_root);
    let _ = std::fs::remove_dir_all(&runc_root);
    let want = String::from_utf8_lossy(&runc_out.stdout).into_owned();
    assert!(
        want.contains("268435456\n100\n50000\n100000\n") && want.contains("refused"),
        "runc's own output is not what this test assumes:\n{}",
        describe(&runc_out)
    );
    let root = Root::new();
    let bundle = make_bundle();
    let b = bundle.path().to_string_lossy().into_owned();
    let out = run(&root, &["run", "--bundle", &b, &unique_id("cg-runrs")]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        want,
        "runrs vs runc (cgroup namespace: {cgroup_ns})\n{}",
        describe(&out)
    );
}

/// A spec with a user namespace mapping container ids 0..65536 to host
/// 100000..165536 (a rootfs owned by the mapped root, as Docker's
/// userns-remap prepares it): the workload is root inside, the maps show
/// the mapping, a file it writes to a bind mount belongs to host uid
/// 100000, chown to a mapped id lands on the mapped host id and to an
/// unmapped one fails, and a switch to a user keeps the files of the
/// mapping apart. Same output and host owners as runc.
#[test]
fn user_namespace_with_mappings_matches_runc() {
    let script = "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; \
        echo hi > /share/f; stat -c '%A %u %g %s %n' /share/*; \
        grep -E '^(Uid|Gid|CapEff)' /proc/self/status; stat -c '%u %g' /proc/self/status /etc/passwd; \
        chown 1000:1000 /share/f && stat -c '%A %u %g %s %n' /share/f; chown 70000 /share/f 2>&1; \
        mkdir /share/private && chmod 700 /share/private; \
        su -s /bin/sh nobody -c 'ls /share/private 2>&1; echo x > /share/x 2>&1'; echo end";
    let make = |share: &Path| {
        let bundle = Bundle::new(&["/bin/sh", "-c", script]);
        let chown = Command::new("chown")
            .args(["-R", "100000:100000"])
            .arg(bundle.rootfs())
            .status()
            .expect("chown -R");
        assert!(chown.success());
        std::fs::create_dir_all(share).expect("mkdir share");
        std::os::unix::fs::chown(share, Some(100000), Some(100000)).expect("chown share");
        let share = share.to_string_lossy().into_owned();
        bundle.config_mut(|c| {
            let ns = c["linux"]["namespaces"].as_array_mut().expect("namespaces");
            ns.push(serde_json::json!({"type": "user"}));
            let map = serde_json::json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
            c["linux"]["uidMappings"] = map.clone();
            c["linux"]["gidMappings"] = map;
            c["mounts"].as_array_mut().expect("mounts").push(serde_json::json!({
                "destination": "/share", "type": "bind", "source": share, "options": ["rbind", "rw"]
            }));
            let caps = serde_json::json!([
                "CAP_CHOWN",
                "CAP_DAC_OVERRIDE",
                "CAP_FOWNER",
                "CAP_SETUID",
                "CAP_SETGID",
                "CAP_KILL"
            ]);
            for set in ["bounding", "effective", "permitted"] {
                c["process"]["capabilities"][set] = caps.clone();
            }
        });
        bundle
    };
    let host_owners = |share: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(share)
            .expect("read share")
            .map(|e| {
                let e = e.expect("entry");
                let m = e.metadata().expect("metadata");
                use std::os::unix::fs::MetadataExt;
                format!(
                    "{} {}:{}",
                    e.file_name().to_string_lossy(),
                    m.uid(),
                    m.gid()
                )
            })
            .collect();
        v.sort();
        v
    };
    let runc_share = std::env::temp_dir().join(unique_id("runrs-test-share-runc"));
    let runc_bundle = make(&runc_share);
    let runc_root = std::env::temp_dir().join(unique_id("runrs-test-runc-root"));
    let want = runc_run(runc_bundle.path(), &unique_id("userns-runc"), &runc_root);
    let _ = std::fs::remove_dir_all(&runc_root);
    let want_owners = host_owners(&runc_share);
    let _ = std::fs::remove_dir_all(&runc_share);
    let want_text = String::from_utf8_lossy(&want.stdout).into_owned();
    assert!(
        want_text.starts_with("0\n0\n") && want_owners.contains(&"f 101000:101000".to_string()),
        "runc's own output is not what this test assumes:\n{}\n{want_owners:?}",
        describe(&want)
    );

    let share = std::env::temp_dir().join(unique_id("runrs-test-share"));
    let bundle = make(&share);
    let root = Root::new();
    let b = bundle.path().to_string_lossy().into_owned();
    let out = run(&root, &["run", "--bundle", &b, &unique_id("userns")]);
    let owners = host_owners(&share);
    let _ = std::fs::remove_dir_all(&share);
    assert_eq!(
        normalise(&String::from_utf8_lossy(&out.stdout)),
        normalise(&want_text),
        "runrs vs runc:\n{}",
        describe(&out)
    );
    assert_eq!(owners, want_owners, "host owners of the bind mount's files");
}

/// Bad user namespace specs fail create with the field named, and leave
/// no state directory behind.
#[test]
fn bad_user_namespace_specs_are_refused() {
    let map =
        |c: u32, h: u32, n: u32| serde_json::json!({"containerID": c, "hostID": h, "size": n});
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    // A user namespace with these uid and gid mappings (None: left out).
    let userns = move |uids: Option<Vec<serde_json::Value>>,
                       gids: Option<Vec<serde_json::Value>>| {
        move |c: &mut serde_json::Value| {
            c["linux"]["namespaces"]
                .as_array_mut()
                .expect("ns")
                .push(serde_json::json!({"type": "user"}));
            if let Some(u) = &uids {
                c["linux"]["uidMappings"] = serde_json::json!(u);
            }
            if let Some(g) = &gids {
                c["linux"]["gidMappings"] = serde_json::json!(g);
            }
        }
    };
    let cases: Vec<(&str, Edit)> = vec![
        (
            // Mappings without a user namespace.
            "linux.uidMappings",
            Box::new(move |c| {
                c["linux"]["uidMappings"] = serde_json::json!([map(0, 100000, 65536)]);
                c["linux"]["gidMappings"] = serde_json::json!([map(0, 100000, 65536)]);
            }),
        ),
        (
            // Overlapping container ids.
            "linux.uidMappings",
            Box::new(userns(
                Some(vec![map(0, 100000, 10), map(5, 200000, 10)]),
                Some(vec![map(0, 100000, 10)]),
            )),
        ),
        (
            // Overlapping host ids.
            "linux.gidMappings",
            Box::new(userns(
                Some(vec![map(0, 100000, 10)]),
                Some(vec![map(0, 100000, 10), map(20, 100005, 10)]),
            )),
        ),
        (
            // Past the last id.
            "linux.uidMappings",
            Box::new(userns(
                Some(vec![map(4294967000, 0, 1000)]),
                Some(vec![map(0, 100000, 10)]),
            )),
        ),
        (
            // A user namespace without mappings.
            "linux.uidMappings",
            Box::new(userns(None, None)),
        ),
        (
            // A rootfs the mapped root cannot enter (made 0700 below).
            "root.path",
            Box::new(userns(
                Some(vec![map(0, 100000, 65536)]),
                Some(vec![map(0, 100000, 65536)]),
            )),
        ),
    ];
    for (i, (field, edit)) in cases.iter().enumerate() {
        let bundle = Bundle::new(&["true"]);
        bundle.config_mut(|c| edit(c));
        if *field == "root.path" {
            // Root-owned 0700: the mapped root (host 100000) cannot enter it.
            std::fs::set_permissions(
                bundle.rootfs(),
                std::os::unix::fs::PermissionsExt::from_mode(0o700),
            )
            .expect("chmod rootfs");
        }
        let root = Root::new();
        let id = unique_id("badns");
        let b = bundle.path().to_string_lossy().into_owned();
        let out = run(&root, &["create", "--bundle", &b, &id]);
        assert!(
            !out.status.success(),
            "case {i} was accepted:\n{}",
            describe(&out)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(field),
            "case {i}: the error does not name {field}:\n{err}"
        );
        assert!(
            !root.state_dir(&id).exists(),
            "case {i}: a state dir is left"
        );
    }
}

/// What a process sees of its mounts and of /proc/sys, as an unprivileged
/// user: mountinfo and mounts line for line (the root's file-system
/// options cut to ro/rw: runrs does not show host paths), the spec's masked
/// paths present and empty, its read-only paths present, the sysctl tree
/// of the container's own network namespace, a root-only sysctl refused,
/// and writes refused as on a read-only /proc/sys. (net/core's xfrm_*
/// entries are left out: Linux shows them only in a network namespace of
/// the initial user namespace, as runc's is without a user namespace;
/// runrs's belongs to the container's, as runc's does with one.)
#[test]
fn mounts_masked_paths_and_sysctls_match_runc() {
    let script = r#"
awk '{ split($0, h, " - "); split(h[1], l, " "); split(h[2], r, " ");
       sb = r[3]; if (l[5] == "/") { split(sb, o, ","); sb = o[1] }
       print l[5], l[6], r[1], r[2], sb }' /proc/self/mountinfo
awk '{ if ($2 == "/") { split($4, o, ","); $4 = o[1] "," o[2] } print }' /proc/self/mounts
for p in /proc/acpi /proc/asound /proc/kcore /proc/keys /proc/latency_stats /proc/timer_list \
         /proc/timer_stats /proc/sched_debug /proc/scsi /sys/firmware; do
  if [ -d $p ]; then echo "$p dir $(ls -A $p | wc -l)"; elif [ -e $p ]; then echo "$p file $(wc -c < $p)"; fi
done
for p in /proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger; do [ -e $p ] && echo "$p there"; done
ls /proc/sys; ls /proc/sys/net; ls /proc/sys/net/ipv4/conf /proc/sys/net/core | grep -v '^xfrm_' | head -40
cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/ostype /proc/sys/kernel/hostname /proc/sys/net/core/somaxconn
cat /proc/sys/net/ipv4/tcp_fastopen_key 2>&1 >/dev/null | sed 's/.*: //'
cat /proc/sys/vm/drop_caches 2>&1 >/dev/null | sed 's/.*: //'
(echo 60 > /proc/sys/vm/swappiness) 2>&1 | sed 's/.*: //'
find /proc/sys/net/ipv4/conf | wc -l
"#;
    let make_bundle = || {
        let bundle = Bundle::new(&["/bin/sh", "-c", script]);
        bundle.config_mut(|c| {
            c["process"]["user"] = serde_json::json!({"uid": 65534, "gid": 65534});
        });
        bundle
    };
    same_stdout_as_runc(make_bundle, "sysctl", |want| {
        want.contains("/proc/acpi dir 0")
            && want.contains("proc /proc/sys proc ro,")
            && want.contains("Permission denied")
            && want.contains("Read-only file system")
    });
}

/// A createContainer hook runs in the container's mount namespace before
/// pivot_root (OCI: "in the container namespace", its path resolved in the
/// runtime's view), with the state ("creating") on its stdin: what it
/// writes into a tmpfs the spec mounts in the rootfs is the container's
/// to read.
#[test]
fn create_container_hook_runs_in_the_container_mount_namespace() {
    let make_bundle = || {
        let bundle = Bundle::new(&["/bin/sh", "-c", "cat /mnt/x/hooked; ls /mnt/x"]);
        std::fs::create_dir_all(bundle.rootfs().join("mnt/x")).expect("mkdir mnt/x");
        let rootfs = bundle.rootfs().to_string_lossy().into_owned();
        bundle.config_mut(|c| {
            c["mounts"].as_array_mut().expect("mounts").push(serde_json::json!({
                "destination": "/mnt/x", "type": "tmpfs", "source": "tmpfs",
                "options": ["nosuid", "nodev"]
            }));
            c["hooks"] = serde_json::json!({"createContainer": [{
                "path": "/bin/sh",
                "args": ["sh", "-c", "read -r state; echo \"hooked $(echo \"$state\" | grep -c creating)\" > \"$ROOTFS/mnt/x/hooked\""],
                "env": [format!("ROOTFS={rootfs}")]
            }]});
        });
        bundle
    };
    // Had the hook run in the host's mount namespace, its file would be
    // under the tmpfs, not in it, and cat would fail.
    same_stdout_as_runc(make_bundle, "cchook", |want| want == "hooked 1\nhooked\n");
}
