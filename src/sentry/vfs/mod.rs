//! The sentry's VFS layer: where a sandbox path lives (in a synthetic file
//! system the sentry serves, /proc and /sys, or behind the gofer), the
//! directory cache (`dcache`) and the one walk every path syscall uses
//! (`walk`). Paths are byte strings, as Linux's.

pub mod dcache;
pub mod longpath;
pub mod walk;

pub use crate::sandbox::{SynthFs, SYNTHETIC_MOUNTS};

/// The source of the empty tmpfs init mounts where a synthetic file
/// system is (the directory the workload's kernel-side opens find).
pub const SYNTHETIC_MOUNT_SOURCE: &str = "runrs-synthetic";

/// The name prefix of the memfd that holds a synthetic file's contents;
/// the file's sandbox path follows, so a rewind can regenerate it and
/// /proc/<pid>/fd/N can show the path as Linux does.
pub const SYNTHETIC_MEMFD: &str = "runrs-synthetic:";

/// The sandbox path of a synthetic file from its memfd's /proc link text
/// ("/memfd:runrs-synthetic:/proc/42/stat (deleted)").
pub fn synthetic_file_of_link(link: &str) -> Option<&str> {
    link.strip_prefix("/memfd:")?
        .strip_prefix(SYNTHETIC_MEMFD)?
        .strip_suffix(" (deleted)")
        .filter(|p| p.starts_with('/'))
}

#[derive(Debug, PartialEq, Eq)]
pub enum Location {
    /// Inside a synthetic mount: the path relative to its root ("" = root).
    Synthetic(SynthFs, String),
    /// Resolved by the gofer (the path as given: it follows the symlinks).
    Gofer,
}

/// Lexical normalisation of an absolute path: `.`, `..`, repeated slashes.
pub fn normalize(path: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for c in path.split(|b| *b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            name => parts.push(name),
        }
    }
    let mut out = Vec::with_capacity(path.len());
    for p in &parts {
        out.push(b'/');
        out.extend_from_slice(p);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

/// Decides who resolves `abs`. A path is synthetic only when lexical
/// normalisation is exact for it (no `..`, which a symlink could redirect);
/// otherwise the gofer walks it and redirects here if it enters a
/// synthetic mount.
pub fn locate(abs: &[u8]) -> Location {
    let has_dotdot = abs.split(|b| *b == b'/').any(|c| c == b"..");
    if has_dotdot {
        return Location::Gofer;
    }
    locate_normalized(&normalize(abs))
}

/// Real mounts of the spec inside a synthetic one (the cgroup mount at
/// /sys/fs/cgroup), which the gofer serves; set once at boot.
static GOFER_SUBTREES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

/// The destinations of spec mounts (type, destination) that lie inside a
/// synthetic mount and are real: everything but the proc and sysfs
/// mounts the sentry serves itself.
pub fn mounts_inside_synthetic<'a>(
    mounts: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<String> {
    mounts
        .into_iter()
        .filter(|(typ, _)| *typ != "proc" && *typ != "sysfs")
        .filter_map(|(_, dest)| {
            let norm = String::from_utf8(normalize(dest.as_bytes())).ok()?;
            let inside = SYNTHETIC_MOUNTS.iter().any(|fs| {
                norm.strip_prefix(fs.mount_point())
                    .is_some_and(|r| r.starts_with('/'))
            });
            inside.then_some(norm)
        })
        .collect()
}

/// Records the subtrees the gofer serves inside synthetic mounts (see
/// `mounts_inside_synthetic`). Only the first call counts.
pub fn set_gofer_subtrees(paths: Vec<String>) {
    let _ = GOFER_SUBTREES.set(paths);
}

fn in_gofer_subtree(norm: &str) -> bool {
    GOFER_SUBTREES.get().is_some_and(|subtrees| {
        subtrees.iter().any(|t| {
            norm.strip_prefix(t.as_str())
                .is_some_and(|r| r.is_empty() || r.starts_with('/'))
        })
    })
}

/// Like `locate` for a path known to be symlink-free (a gofer redirect).
pub fn locate_normalized(norm: &[u8]) -> Location {
    let Ok(s) = std::str::from_utf8(norm) else {
        return Location::Gofer;
    };
    if in_gofer_subtree(s) {
        return Location::Gofer;
    }
    for fs in SYNTHETIC_MOUNTS {
        let m = fs.mount_point();
        if s == m {
            return Location::Synthetic(fs, String::new());
        }
        if let Some(rest) = s.strip_prefix(m).and_then(|r| r.strip_prefix('/')) {
            return Location::Synthetic(fs, rest.to_string());
        }
    }
    Location::Gofer
}

/// The synthetic mount `path` starts with and the (unnormalized) rest
/// below it: `/proc/self/root/..` gives (Proc, "self/root/..").
pub fn synthetic_rest(path: &[u8]) -> Option<(SynthFs, String)> {
    let s = std::str::from_utf8(path).ok()?;
    SYNTHETIC_MOUNTS.into_iter().find_map(|fs| {
        let rest = s.strip_prefix(fs.mount_point())?;
        if rest.is_empty() {
            return Some((fs, String::new()));
        }
        rest.strip_prefix('/').map(|r| (fs, r.to_string()))
    })
}

/// Where the symlink at `rel` in a synthetic mount points: an absolute
/// target as is, a relative one resolved against the link's directory.
pub fn synthetic_link_target(fs: SynthFs, rel: &str, target: &str) -> Vec<u8> {
    let link = format!("{}/{}", fs.mount_point(), rel);
    let dir = link.rsplit_once('/').map_or("", |(d, _)| d);
    join(dir.as_bytes(), target.as_bytes())
}

/// `base` joined with a relative `path` (no normalisation).
pub fn join(base: &[u8], path: &[u8]) -> Vec<u8> {
    if path.first() == Some(&b'/') {
        return path.to_vec();
    }
    let mut out = base.to_vec();
    if out.last() != Some(&b'/') {
        out.push(b'/');
    }
    out.extend_from_slice(path);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_lexically() {
        assert_eq!(normalize(b"/a/./b//c/../d/"), b"/a/b/d");
        assert_eq!(normalize(b"/../.."), b"/");
        assert_eq!(normalize(b"/"), b"/");
    }

    #[test]
    fn locates_synthetic_mounts() {
        assert_eq!(
            locate(b"/proc"),
            Location::Synthetic(SynthFs::Proc, String::new())
        );
        assert_eq!(
            locate(b"/proc/self/status"),
            Location::Synthetic(SynthFs::Proc, "self/status".into())
        );
        assert_eq!(
            locate(b"//sys/./devices"),
            Location::Synthetic(SynthFs::Sys, "devices".into())
        );
        assert_eq!(locate(b"/procfoo"), Location::Gofer);
        assert_eq!(locate(b"/etc/passwd"), Location::Gofer);
        // ".." may follow a symlink: the gofer decides.
        assert_eq!(locate(b"/tmp/../proc/self"), Location::Gofer);
    }

    #[test]
    fn synthetic_file_paths_come_back_from_memfd_links() {
        assert_eq!(
            synthetic_file_of_link("/memfd:runrs-synthetic:/proc/42/stat (deleted)"),
            Some("/proc/42/stat")
        );
        assert_eq!(
            synthetic_file_of_link("/memfd:runrs-synthetic (deleted)"),
            None
        );
        assert_eq!(
            synthetic_file_of_link("/memfd:mine:/proc/1/stat (deleted)"),
            None
        );
        assert_eq!(synthetic_file_of_link("/tmp/runrs-synthetic:/x"), None);
    }

    #[test]
    fn real_mounts_inside_synthetic_ones_are_found() {
        let found = mounts_inside_synthetic([
            ("proc", "/proc"),
            ("sysfs", "/sys"),
            ("cgroup", "/sys/fs/cgroup/"),
            ("bind", "/proc/meminfo"),
            ("tmpfs", "/dev"),
            ("bind", "/system"),
            ("bind", "/sys"),
        ]);
        assert_eq!(found, ["/sys/fs/cgroup", "/proc/meminfo"]);
    }

    #[test]
    fn synthetic_rest_keeps_dotdot() {
        assert_eq!(
            synthetic_rest(b"/proc/self/root/../x"),
            Some((SynthFs::Proc, "self/root/../x".into()))
        );
        assert_eq!(synthetic_rest(b"/sys"), Some((SynthFs::Sys, String::new())));
        assert_eq!(synthetic_rest(b"/procx/y"), None);
    }

    #[test]
    fn synthetic_link_targets_resolve_against_the_link_dir() {
        assert_eq!(
            synthetic_link_target(SynthFs::Proc, "self", "42"),
            b"/proc/42"
        );
        assert_eq!(synthetic_link_target(SynthFs::Proc, "42/root", "/"), b"/");
        assert_eq!(
            synthetic_link_target(SynthFs::Proc, "mounts", "self/mounts"),
            b"/proc/self/mounts"
        );
    }

    #[test]
    fn joins_relative_paths() {
        assert_eq!(join(b"/tmp", b"x"), b"/tmp/x");
        assert_eq!(join(b"/", b"x"), b"/x");
        assert_eq!(join(b"/tmp", b"/abs"), b"/abs");
    }
}
