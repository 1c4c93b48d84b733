//! Workload paths through the sentry's lexical helpers and the gofer's
//! confined walker on a small tree whose symlinks point up, out, at
//! themselves and across a synthetic mount. Whatever the path, the walker
//! may only hand back descriptors inside the root (checked through
//! /proc/self/fd), a redirect only into a synthetic mount, and the lexical
//! helpers must give normalized absolute paths; nothing may panic.
//!
//! Shared by the libFuzzer target `fuzz/fuzz_targets/path_walk.rs` and the
//! corpus replay in `tests/fuzz_replay.rs`.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::sync::OnceLock;

use runrs::gofer::proto::{Follow, Walked};
use runrs::gofer::walk::{Mounts, Walker};
use runrs::sentry::vfs;

struct Tree {
    root_path: PathBuf,
    root: OwnedFd,
    mounts: Mounts,
}

fn tree() -> &'static Tree {
    static TREE: OnceLock<Tree> = OnceLock::new();
    TREE.get_or_init(|| {
        // A fixed name (scripts/fuzz.sh runs one target at a time), rebuilt
        // at each start, so runs that libFuzzer ends with exit() leave one tree.
        let base = std::env::temp_dir().join("runrs-fuzz-walk");
        let root_path = base.join("root");
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(root_path.join("a/b/c")).expect("mkdir tree");
        std::fs::create_dir_all(root_path.join("proc")).expect("mkdir proc");
        std::fs::create_dir_all(base.join("outside")).expect("mkdir outside");
        std::fs::write(base.join("outside/secret"), b"secret").expect("write secret");
        std::fs::write(root_path.join("a/file"), b"inside").expect("write file");
        let links: [(&str, PathBuf); 7] = [
            ("a/up", PathBuf::from("../../../../..")),
            ("a/b/abs", PathBuf::from("/a")),
            ("loop", PathBuf::from("loop")),
            ("out", base.join("outside")),
            ("a/b/toproc", PathBuf::from("../../proc/self")),
            ("rel", PathBuf::from("a/b/c/../../file")),
            ("dangling", PathBuf::from("/nonexistent/x")),
        ];
        for (name, target) in links {
            symlink(target, root_path.join(name)).expect("symlink");
        }
        let root = std::fs::File::open(&root_path).expect("open root");
        Tree {
            root_path: root_path.canonicalize().expect("canonicalize"),
            root: root.into(),
            mounts: Mounts::new(&["/proc", "/sys"]),
        }
    })
}

fn assert_inside(t: &Tree, fd: &OwnedFd, path: &[u8]) {
    let link =
        std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).expect("readlink fd");
    assert!(
        link.starts_with(&t.root_path),
        "{:?} resolved outside the root: {}",
        String::from_utf8_lossy(path),
        link.display()
    );
}

fn assert_redirect(path: &[u8], r: &runrs::gofer::proto::Redirect) {
    assert!(
        r.path.starts_with("/proc") || r.path.starts_with("/sys"),
        "{:?} redirected to {:?}",
        String::from_utf8_lossy(path),
        r.path
    );
}

/// The invariant, for one input (libFuzzer's or a corpus file).
pub fn check(data: &[u8]) {
    if data.len() > 512 {
        return;
    }
    let norm = vfs::normalize(data);
    assert!(norm.starts_with(b"/"));
    assert!(!norm.split(|b| *b == b'/').any(|c| c == b".." || c == b"."));
    assert_eq!(vfs::normalize(&norm), norm, "normalize is idempotent");
    let _ = vfs::locate(data);
    let _ = vfs::synthetic_rest(data);

    let t = tree();
    let w = Walker::new(t.root.as_fd(), &t.mounts);
    if let Some(Ok(fd)) = w.fast_open(data, libc::O_PATH | libc::O_NOFOLLOW, 0) {
        assert_inside(t, &fd, data);
    }
    for follow in [Follow::Follow, Follow::NoFollow] {
        match w.resolve(data, follow, 0) {
            Ok(Walked::Done(target)) => {
                if let Some(fd) = &target.fd {
                    assert_inside(t, fd, data);
                }
                if let Some((dir, _)) = &target.parent {
                    assert_inside(t, dir, data);
                }
            }
            Ok(Walked::Redirect(r)) => assert_redirect(data, &r),
            Err(_) => {}
        }
    }
    match w.resolve_parent(data, 0) {
        Ok(Walked::Done(p)) => assert_inside(t, &p.dir, data),
        Ok(Walked::Redirect(r)) => assert_redirect(data, &r),
        Err(_) => {}
    }
}
