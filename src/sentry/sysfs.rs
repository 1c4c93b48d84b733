//! The synthetic /sys: only what language runtimes read (the CPU lists),
//! copied from the host's values, and an empty cgroup directory.

use nix::errno::Errno;

use super::fs::procfs::{DirEntry, EntryKind, Node, NodeAttr};

const DIRS: &[&str] = &[
    "",
    "devices",
    "devices/system",
    "devices/system/cpu",
    "fs",
    "fs/cgroup",
    "kernel",
];
const CPU_FILES: &[&str] = &["online", "possible", "present"];

fn ino(rel: &str) -> u64 {
    // FNV-1a: stable inode numbers per path.
    rel.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    }) | 1
}

pub fn lookup(rel: &str) -> Result<Node, Errno> {
    if DIRS.contains(&rel) {
        let prefix = if rel.is_empty() {
            String::new()
        } else {
            format!("{rel}/")
        };
        let mut entries = vec![
            DirEntry {
                name: ".".into(),
                kind: EntryKind::Dir,
                ino: ino(rel),
            },
            DirEntry {
                name: "..".into(),
                kind: EntryKind::Dir,
                ino: 1,
            },
        ];
        for d in DIRS.iter().filter(|d| !d.is_empty()) {
            if let Some(name) = d.strip_prefix(&prefix) {
                if !name.contains('/') && !name.is_empty() {
                    entries.push(DirEntry {
                        name: name.into(),
                        kind: EntryKind::Dir,
                        ino: ino(d),
                    });
                }
            }
        }
        if rel == "devices/system/cpu" {
            for f in CPU_FILES {
                entries.push(DirEntry {
                    name: (*f).into(),
                    kind: EntryKind::File,
                    ino: ino(&format!("{prefix}{f}")),
                });
            }
        }
        return Ok(Node::Dir(entries));
    }
    if let Some(f) = rel.strip_prefix("devices/system/cpu/") {
        if CPU_FILES.contains(&f) {
            let data =
                std::fs::read(format!("/sys/devices/system/cpu/{f}")).map_err(|_| Errno::ENOENT)?;
            return Ok(Node::File(data));
        }
    }
    // A file used as a directory is ENOTDIR, as Linux says.
    if let Some((parent, _)) = rel.rsplit_once('/') {
        if lookup(parent).is_ok_and(|n| matches!(n, Node::File(_))) {
            return Err(Errno::ENOTDIR);
        }
    }
    Err(Errno::ENOENT)
}

pub fn attr(rel: &str) -> Result<NodeAttr, Errno> {
    let node = lookup(rel)?;
    let (kind, mode, nlink) = match node {
        Node::Dir(_) => (EntryKind::Dir, libc::S_IFDIR | 0o555, 2),
        _ => (EntryKind::File, libc::S_IFREG | 0o444, 1),
    };
    Ok(NodeAttr {
        kind,
        mode,
        uid: 0,
        gid: 0,
        nlink,
        ino: ino(rel),
        size: if kind == EntryKind::Dir { 0 } else { 4096 },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_and_errors() {
        assert!(matches!(
            lookup("devices/system/cpu/online"),
            Ok(Node::File(_))
        ));
        let Ok(Node::Dir(e)) = lookup("devices/system/cpu") else {
            panic!("dir")
        };
        assert!(e.iter().any(|d| d.name == "possible"));
        assert_eq!(lookup("nope").unwrap_err(), Errno::ENOENT);
        assert_eq!(
            lookup("devices/system/cpu/online/x").unwrap_err(),
            Errno::ENOTDIR
        );
    }
}
