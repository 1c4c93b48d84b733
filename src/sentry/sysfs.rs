//! The synthetic /sys: only what language runtimes and libcs read (the CPU
//! lists and one directory per present CPU, transparent hugepage settings),
//! copied from the host's values. /sys/fs/cgroup is the spec's cgroup
//! mount, real and served by the gofer (`rootfs::mount_cgroups` makes it
//! as runc does); without one it is an empty directory.

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
    "kernel/mm",
    "kernel/mm/transparent_hugepage",
];
const CPU_FILES: &[&str] = &[
    "isolated",
    "kernel_max",
    "offline",
    "online",
    "possible",
    "present",
];
/// Read by the JVM, Go's runtime, jemalloc and Redis.
const THP_FILES: &[&str] = &[
    "defrag",
    "enabled",
    "hpage_pmd_size",
    "shmem_enabled",
    "use_zero_page",
];

/// `cpuN` for every CPU the host lists as present (glibc counts these
/// directories for get_nprocs_conf when `possible` is unreadable; lscpu
/// walks them).
fn cpu_dirs() -> Vec<String> {
    let present = std::fs::read_to_string("/sys/devices/system/cpu/present").unwrap_or_default();
    let mut out = Vec::new();
    for range in present.trim().split(',').filter(|r| !r.is_empty()) {
        let (a, b) = range.split_once('-').unwrap_or((range, range));
        if let (Ok(a), Ok(b)) = (a.parse::<u32>(), b.parse::<u32>()) {
            // A corrupt list must not make a huge listing.
            for n in a..=b.min(a.saturating_add(4095)) {
                out.push(format!("devices/system/cpu/cpu{n}"));
            }
        }
    }
    out
}

/// Directories shown empty when the host has them: what runc's default
/// spec masks under /sys (an empty read-only tmpfs there); runrs never
/// shows their contents.
const EMPTY_IF_HOST_HAS: &[&str] = &["firmware", "devices/virtual/powercap"];

fn all_dirs() -> Vec<String> {
    let mut d: Vec<String> = DIRS.iter().map(|s| s.to_string()).collect();
    d.extend(cpu_dirs());
    for masked in EMPTY_IF_HOST_HAS {
        if std::path::Path::new("/sys").join(masked).is_dir() {
            let mut at = String::new();
            for comp in masked.split('/') {
                at = if at.is_empty() {
                    comp.to_owned()
                } else {
                    format!("{at}/{comp}")
                };
                if !d.contains(&at) {
                    d.push(at.clone());
                }
            }
        }
    }
    d
}

fn ino(rel: &str) -> u64 {
    // FNV-1a: stable inode numbers per path.
    rel.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    }) | 1
}

pub fn lookup(rel: &str) -> Result<Node, Errno> {
    let dirs = all_dirs();
    if dirs.iter().any(|d| d == rel) {
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
        for d in dirs.iter().filter(|d| !d.is_empty()) {
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
        let files: &[&str] = match rel {
            "devices/system/cpu" => CPU_FILES,
            "kernel/mm/transparent_hugepage" => THP_FILES,
            _ => &[],
        };
        for f in files {
            entries.push(DirEntry {
                name: (*f).into(),
                kind: EntryKind::File,
                ino: ino(&format!("{prefix}{f}")),
            });
        }
        return Ok(Node::Dir(entries));
    }
    for (dir, files) in [
        ("devices/system/cpu/", CPU_FILES),
        ("kernel/mm/transparent_hugepage/", THP_FILES),
    ] {
        if let Some(f) = rel.strip_prefix(dir) {
            if files.contains(&f) {
                let data = std::fs::read(format!("/sys/{rel}")).map_err(|_| Errno::ENOENT)?;
                return Ok(Node::File(data));
            }
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
        // As Linux's sysfs: the root 0555, directories 0755, tunables 0644, lists 0444.
        Node::Dir(_) if rel.is_empty() => (EntryKind::Dir, libc::S_IFDIR | 0o555, 2),
        // runc's empty tmpfs.
        Node::Dir(_) if EMPTY_IF_HOST_HAS.contains(&rel) => {
            (EntryKind::Dir, libc::S_IFDIR | 0o1777, 2)
        }
        Node::Dir(_) => (EntryKind::Dir, libc::S_IFDIR | 0o755, 2),
        _ if rel.starts_with("kernel/mm/transparent_hugepage/")
            && rel != "kernel/mm/transparent_hugepage/hpage_pmd_size" =>
        {
            (EntryKind::File, libc::S_IFREG | 0o644, 1)
        }
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
        assert!(e.iter().any(|d| d.name == "cpu0"), "{e:?}");
        assert!(matches!(
            lookup("devices/system/cpu/cpu0"),
            Ok(Node::Dir(_))
        ));
        assert_eq!(
            attr("devices/system/cpu").map(|a| a.mode & 0o7777),
            Ok(0o755)
        );
        assert_eq!(lookup("nope").unwrap_err(), Errno::ENOENT);
        // Masked: there when the host has it, and empty.
        if std::path::Path::new("/sys/firmware").is_dir() {
            let Ok(Node::Dir(e)) = lookup("firmware") else {
                panic!("firmware")
            };
            assert_eq!(e.len(), 2, "{e:?}");
        }
        assert_eq!(
            lookup("devices/system/cpu/online/x").unwrap_err(),
            Errno::ENOTDIR
        );
    }
}
