//! Builds the container's mount table inside init's new mount namespace,
//! as runc does: rootfs bind, the spec's mounts, /dev nodes, pivot_root.
//!
//! /proc and /sys are not the host's: they get an empty read-only tmpfs as
//! mountpoint (the sentry serves their contents), so nothing of the host's
//! procfs or sysfs is reachable from the workload's mount namespace.

use std::collections::VecDeque;
use std::fs;
use std::os::unix::fs::{symlink, DirBuilderExt};
use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::{makedev, mknod, Mode, SFlag};

use super::spec::{ContainerConfig, Device, MountSpec};

#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    #[error("mount {typ} on {}: {source}", .dest.display())]
    Mount {
        typ: String,
        dest: PathBuf,
        source: nix::Error,
    },
    #[error("create mountpoint {}: {source}", .path.display())]
    Mountpoint {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("mount source {}: {source}", .path.display())]
    Source {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("path {path:?} in the rootfs: too many levels of symbolic links")]
    SymlinkLoop { path: String },
    #[error("device {}: {source}", .path.display())]
    Device { path: PathBuf, source: nix::Error },
    #[error("{step}: {source}")]
    Step {
        step: &'static str,
        source: nix::Error,
    },
    #[error(
        "mounts: {typ} at {destination:?} must be mounted on an ordinary directory, \
         and the rootfs has a symlink or a non-directory there"
    )]
    NotDirectory { typ: String, destination: String },
    #[error("{step} {}: {source}", .path.display())]
    Io {
        step: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

type Result<T> = std::result::Result<T, RootfsError>;

/// Resolves `unsafe_path` under `root` the way the container will see it:
/// symlinks are followed inside `root` and `..` never leaves it.
pub fn secure_join(root: &Path, unsafe_path: &str) -> Result<PathBuf> {
    let mut parts: Vec<String> = Vec::new();
    let mut pending: VecDeque<String> = unsafe_path
        .split('/')
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect();
    let mut links = 0;
    while let Some(c) = pending.pop_front() {
        match c.as_str() {
            "." => {}
            ".." => {
                parts.pop();
            }
            name => {
                let candidate = root.join(parts.join("/")).join(name);
                match fs::symlink_metadata(&candidate) {
                    Ok(m) if m.file_type().is_symlink() => {
                        links += 1;
                        if links > 255 {
                            return Err(RootfsError::SymlinkLoop {
                                path: unsafe_path.to_string(),
                            });
                        }
                        let target =
                            fs::read_link(&candidate).map_err(|source| RootfsError::Io {
                                step: "readlink",
                                path: candidate.clone(),
                                source,
                            })?;
                        let t = target.to_string_lossy().to_string();
                        if t.starts_with('/') {
                            parts.clear();
                        }
                        for comp in t.split('/').filter(|c| !c.is_empty()).rev() {
                            pending.push_front(comp.to_string());
                        }
                    }
                    _ => parts.push(name.to_string()),
                }
            }
        }
    }
    Ok(root.join(parts.join("/")))
}

struct ParsedOptions {
    flags: MsFlags,
    propagation: MsFlags,
    data: Vec<String>,
    bind: bool,
    /// runc's and crun's extension: the tmpfs starts with a copy of what
    /// the image has at its mountpoint (podman's `--read-only` /tmp, /run).
    tmpcopyup: bool,
    /// runc's recursive options (`rro`, `rnosuid`, ...): MOUNT_ATTR_* bits
    /// to set and to clear on the mount and every mount below it.
    rec_set: u64,
    rec_clr: u64,
}

/// runc's recursive mount options: (option, MOUNT_ATTR_* bit, clears it).
const RECURSIVE_OPTIONS: [(&str, u64, bool); 18] = [
    ("rro", libc::MOUNT_ATTR_RDONLY, false),
    ("rrw", libc::MOUNT_ATTR_RDONLY, true),
    ("rnosuid", libc::MOUNT_ATTR_NOSUID, false),
    ("rsuid", libc::MOUNT_ATTR_NOSUID, true),
    ("rnodev", libc::MOUNT_ATTR_NODEV, false),
    ("rdev", libc::MOUNT_ATTR_NODEV, true),
    ("rnoexec", libc::MOUNT_ATTR_NOEXEC, false),
    ("rexec", libc::MOUNT_ATTR_NOEXEC, true),
    ("rnodiratime", libc::MOUNT_ATTR_NODIRATIME, false),
    ("rdiratime", libc::MOUNT_ATTR_NODIRATIME, true),
    ("rrelatime", libc::MOUNT_ATTR_RELATIME, false),
    ("rnorelatime", libc::MOUNT_ATTR_RELATIME, true),
    ("rnoatime", libc::MOUNT_ATTR_NOATIME, false),
    ("ratime", libc::MOUNT_ATTR_NOATIME, true),
    ("rstrictatime", libc::MOUNT_ATTR_STRICTATIME, false),
    ("rnostrictatime", libc::MOUNT_ATTR_STRICTATIME, true),
    ("rnosymfollow", libc::MOUNT_ATTR_NOSYMFOLLOW, false),
    ("rsymfollow", libc::MOUNT_ATTR_NOSYMFOLLOW, true),
];

fn parse_options(options: &[String]) -> ParsedOptions {
    let mut flags = MsFlags::empty();
    let mut propagation = MsFlags::empty();
    let mut data = Vec::new();
    let mut bind = false;
    let mut tmpcopyup = false;
    let (mut rec_set, mut rec_clr) = (0u64, 0u64);
    for o in options {
        if let Some(&(_, bit, clear)) = RECURSIVE_OPTIONS.iter().find(|(n, _, _)| n == o) {
            if clear {
                rec_clr |= bit;
            } else {
                rec_set |= bit;
                // An atime mode replaces the mount's: clear the field first.
                if bit & libc::MOUNT_ATTR__ATIME == bit {
                    rec_clr |= libc::MOUNT_ATTR__ATIME;
                }
            }
            continue;
        }
        match o.as_str() {
            "ro" => flags |= MsFlags::MS_RDONLY,
            "rw" => flags &= !MsFlags::MS_RDONLY,
            "nosuid" => flags |= MsFlags::MS_NOSUID,
            "suid" => flags &= !MsFlags::MS_NOSUID,
            "nodev" => flags |= MsFlags::MS_NODEV,
            "dev" => flags &= !MsFlags::MS_NODEV,
            "noexec" => flags |= MsFlags::MS_NOEXEC,
            "exec" => flags &= !MsFlags::MS_NOEXEC,
            "sync" => flags |= MsFlags::MS_SYNCHRONOUS,
            "async" => flags &= !MsFlags::MS_SYNCHRONOUS,
            "dirsync" => flags |= MsFlags::MS_DIRSYNC,
            "noatime" => flags |= MsFlags::MS_NOATIME,
            "atime" => flags &= !MsFlags::MS_NOATIME,
            "nodiratime" => flags |= MsFlags::MS_NODIRATIME,
            "diratime" => flags &= !MsFlags::MS_NODIRATIME,
            "relatime" => flags |= MsFlags::MS_RELATIME,
            "norelatime" => flags &= !MsFlags::MS_RELATIME,
            "strictatime" => flags |= MsFlags::MS_STRICTATIME,
            "nostrictatime" => flags &= !MsFlags::MS_STRICTATIME,
            "mand" => flags |= MsFlags::MS_MANDLOCK,
            "nomand" => flags &= !MsFlags::MS_MANDLOCK,
            "bind" => bind = true,
            "tmpcopyup" => tmpcopyup = true,
            "rbind" => {
                bind = true;
                flags |= MsFlags::MS_REC
            }
            "private" => propagation = MsFlags::MS_PRIVATE,
            "rprivate" => propagation = MsFlags::MS_PRIVATE | MsFlags::MS_REC,
            "shared" => propagation = MsFlags::MS_SHARED,
            "rshared" => propagation = MsFlags::MS_SHARED | MsFlags::MS_REC,
            "slave" => propagation = MsFlags::MS_SLAVE,
            "rslave" => propagation = MsFlags::MS_SLAVE | MsFlags::MS_REC,
            "unbindable" => propagation = MsFlags::MS_UNBINDABLE,
            "runbindable" => propagation = MsFlags::MS_UNBINDABLE | MsFlags::MS_REC,
            other => data.push(other.to_string()),
        }
    }
    ParsedOptions {
        flags,
        propagation,
        data,
        bind,
        tmpcopyup,
        rec_set,
        rec_clr,
    }
}

fn mkdir_all(path: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(path)
        .map_err(|source| RootfsError::Mountpoint {
            path: path.to_path_buf(),
            source,
        })
}

fn do_mount(
    source: Option<&str>,
    dest: &Path,
    typ: Option<&str>,
    flags: MsFlags,
    data: Option<&str>,
    what: &str,
) -> Result<()> {
    mount(source, dest, typ, flags, data).map_err(|source| RootfsError::Mount {
        typ: what.to_string(),
        dest: dest.to_path_buf(),
        source,
    })
}

const SYNTHETIC_MOUNT_FLAGS: MsFlags = MsFlags::MS_NOSUID
    .union(MsFlags::MS_NODEV)
    .union(MsFlags::MS_NOEXEC);
const SYNTHETIC_MOUNT_DATA: &str = "size=4k,mode=555";

/// As runc: /proc and /sys go on an ordinary directory or nowhere. A
/// symlink (or a file) the image put at the destination is refused rather
/// than followed: it has been the way of mounting procfs somewhere else.
fn refuse_non_directory(rootfs: &Path, m: &MountSpec) -> Result<()> {
    let dest = Path::new(&m.destination);
    let (Some(parent), Some(name)) = (dest.parent(), dest.file_name()) else {
        return Ok(());
    };
    let at = secure_join(rootfs, &parent.to_string_lossy())?.join(name);
    match fs::symlink_metadata(&at) {
        Ok(meta) if !meta.is_dir() => Err(RootfsError::NotDirectory {
            typ: m.typ.clone(),
            destination: m.destination.clone(),
        }),
        _ => Ok(()),
    }
}

fn mount_one(rootfs: &Path, m: &MountSpec) -> Result<()> {
    let dest = secure_join(rootfs, &m.destination)?;
    let opts = parse_options(&m.options);
    let data = opts.data.join(",");
    let data = (!data.is_empty()).then_some(data.as_str());
    if opts.bind || m.typ == "bind" {
        let src = PathBuf::from(&m.source);
        let meta = fs::metadata(&src).map_err(|source| RootfsError::Source {
            path: src.clone(),
            source,
        })?;
        if meta.is_dir() {
            mkdir_all(&dest)?;
        } else {
            if let Some(parent) = dest.parent() {
                mkdir_all(parent)?;
            }
            if !dest.exists() {
                fs::File::create(&dest).map_err(|source| RootfsError::Mountpoint {
                    path: dest.clone(),
                    source,
                })?;
            }
        }
        let rec = opts.flags & MsFlags::MS_REC;
        do_mount(
            Some(&m.source),
            &dest,
            None,
            MsFlags::MS_BIND | rec,
            None,
            "bind",
        )?;
        let remount_flags = opts.flags & !MsFlags::MS_REC;
        if !remount_flags.is_empty() {
            do_mount(
                None,
                &dest,
                None,
                MsFlags::MS_REMOUNT | MsFlags::MS_BIND | remount_flags,
                None,
                "bind remount",
            )?;
        }
    } else {
        match m.typ.as_str() {
            // Served by the sentry: an empty read-only tmpfs hides whatever
            // the image has there and gives synthetic directories a real
            // directory to open.
            // Writable until the spec's mounts below it (/sys/fs/cgroup)
            // have their mountpoints: `prepare` then makes it read-only.
            "proc" | "sysfs" => {
                refuse_non_directory(rootfs, m)?;
                mkdir_all(&dest)?;
                do_mount(
                    Some(crate::sentry::vfs::SYNTHETIC_MOUNT_SOURCE),
                    &dest,
                    Some("tmpfs"),
                    SYNTHETIC_MOUNT_FLAGS,
                    Some(SYNTHETIC_MOUNT_DATA),
                    &m.typ,
                )?;
            }
            // Filled by `mount_cgroups` once init is in its cgroups, which
            // also applies the mount's propagation: here the mountpoint is
            // a plain directory, not a mount, and a propagation change on
            // it fails with EINVAL (podman asks for `rprivate`).
            "cgroup" | "cgroup2" => {
                mkdir_all(&dest)?;
                return Ok(());
            }
            "mqueue" => {
                mkdir_all(&dest)?;
                if let Err(e) = do_mount(
                    Some("mqueue"),
                    &dest,
                    Some("mqueue"),
                    opts.flags,
                    data,
                    "mqueue",
                ) {
                    crate::log::warn(&e.to_string());
                }
            }
            typ => {
                mkdir_all(&dest)?;
                let source = if m.source.is_empty() {
                    typ
                } else {
                    m.source.as_str()
                };
                // The image's directory, still reachable through this fd
                // once the tmpfs covers it.
                let under = match (opts.tmpcopyup, typ) {
                    (true, "tmpfs") => {
                        Some(fs::File::open(&dest).map_err(|source| RootfsError::Io {
                            step: "tmpcopyup: open",
                            path: dest.clone(),
                            source,
                        })?)
                    }
                    _ => None,
                };
                // As runc: a read-only tmpfs is mounted writable, and made
                // read-only by `prepare` once its mountpoints, device
                // nodes and copies are in place (a read-only /dev still
                // gets /dev/pts, /dev/shm and its devices).
                let flags = match typ {
                    "tmpfs" => opts.flags & !MsFlags::MS_RDONLY,
                    _ => opts.flags,
                };
                do_mount(Some(source), &dest, Some(typ), flags, data, typ)?;
                if let Some(under) = under {
                    use std::os::fd::AsRawFd;
                    use std::os::unix::fs::PermissionsExt;
                    let from = PathBuf::from(format!("/proc/self/fd/{}", under.as_raw_fd()));
                    copy_tree(&from, &dest)?;
                    // As runc, the tmpfs takes the mode of the directory it
                    // covers.
                    let mode = under
                        .metadata()
                        .map_err(|source| RootfsError::Io {
                            step: "tmpcopyup: stat",
                            path: dest.clone(),
                            source,
                        })?
                        .permissions()
                        .mode();
                    fs::set_permissions(&dest, fs::Permissions::from_mode(mode & 0o7777)).map_err(
                        |source| RootfsError::Io {
                            step: "tmpcopyup: chmod",
                            path: dest.clone(),
                            source,
                        },
                    )?;
                }
            }
        }
    }
    if !opts.propagation.is_empty() {
        do_mount(None, &dest, None, opts.propagation, None, "propagation")?;
    }
    Ok(())
}

/// Copies the directory tree `from` into the existing directory `to`:
/// directories, regular files and symlinks (never followed) with their
/// modes and owners, as runc's tmpcopyup. Other file types are left out.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    use std::os::unix::fs::{lchown, MetadataExt, PermissionsExt};
    let io = |step: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| RootfsError::Io { step, path, source }
    };
    let entries = fs::read_dir(from).map_err(io("tmpcopyup: read", from))?;
    for entry in entries {
        let entry = entry.map_err(io("tmpcopyup: read", from))?;
        let src = entry.path();
        let dst = to.join(entry.file_name());
        let meta = fs::symlink_metadata(&src).map_err(io("tmpcopyup: stat", &src))?;
        let kind = meta.file_type();
        if kind.is_dir() {
            fs::create_dir(&dst).map_err(io("tmpcopyup: mkdir", &dst))?;
            copy_tree(&src, &dst)?;
        } else if kind.is_file() {
            fs::copy(&src, &dst).map_err(io("tmpcopyup: copy", &dst))?;
        } else if kind.is_symlink() {
            let target = fs::read_link(&src).map_err(io("tmpcopyup: readlink", &src))?;
            symlink(&target, &dst).map_err(io("tmpcopyup: symlink", &dst))?;
        } else {
            continue;
        }
        lchown(&dst, Some(meta.uid()), Some(meta.gid())).map_err(io("tmpcopyup: chown", &dst))?;
        if !kind.is_symlink() {
            fs::set_permissions(&dst, fs::Permissions::from_mode(meta.mode() & 0o7777))
                .map_err(io("tmpcopyup: chmod", &dst))?;
        }
    }
    Ok(())
}

fn default_devices() -> Vec<Device> {
    super::spec::SANDBOX_DEVICES
        .iter()
        .map(|&(name, major, minor)| Device {
            path: format!("/dev/{name}"),
            typ: "c".into(),
            major,
            minor,
            file_mode: Some(0o666),
            uid: Some(0),
            gid: Some(0),
        })
        .collect()
}

fn create_device(rootfs: &Path, d: &Device) -> Result<()> {
    let dest = secure_join(rootfs, &d.path)?;
    if let Some(parent) = dest.parent() {
        mkdir_all(parent)?;
    }
    let kind = match d.typ.as_str() {
        "c" | "u" => SFlag::S_IFCHR,
        "b" => SFlag::S_IFBLK,
        "p" => SFlag::S_IFIFO,
        _ => {
            return Err(RootfsError::Device {
                path: dest,
                source: nix::Error::EINVAL,
            })
        }
    };
    let mode = Mode::from_bits_truncate(d.file_mode.unwrap_or(0o666) & 0o7777);
    let _ = fs::remove_file(&dest);
    let dev = makedev(d.major as u64, d.minor as u64);
    match mknod(&dest, kind, mode, dev) {
        Ok(()) => {
            // mknod applies the umask; set the spec's mode exactly.
            let _ = fs::set_permissions(
                &dest,
                std::os::unix::fs::PermissionsExt::from_mode(mode.bits()),
            );
            let _ = nix::unistd::chown(
                &dest,
                d.uid.map(nix::unistd::Uid::from_raw),
                d.gid.map(nix::unistd::Gid::from_raw),
            );
            Ok(())
        }
        Err(e) => {
            // Without CAP_MKNOD: bind the host's node, as runc does in a
            // user namespace; the default set's node by its numbers,
            // whatever path the spec gives it (never another host node).
            let name = crate::sandbox::sandbox_device(d.major, d.minor);
            let Some(name) = name.filter(|_| kind == SFlag::S_IFCHR) else {
                return Err(RootfsError::Device {
                    path: dest,
                    source: e,
                });
            };
            let host = format!("/dev/{name}");
            fs::File::create(&dest).map_err(|source| RootfsError::Mountpoint {
                path: dest.clone(),
                source,
            })?;
            do_mount(
                Some(host.as_str()),
                &dest,
                None,
                MsFlags::MS_BIND,
                None,
                "device bind",
            )
        }
    }
}

/// The mount point of the mount that holds `path` (the longest mount point
/// in /proc/self/mountinfo that is `path` or one of its parents).
fn mount_point_of(path: &Path) -> Result<PathBuf> {
    let info = Path::new("/proc/self/mountinfo");
    let text = fs::read_to_string(info).map_err(|source| RootfsError::Io {
        step: "read",
        path: info.to_path_buf(),
        source,
    })?;
    Ok(longest_mount_point(&text, path).unwrap_or_else(|| PathBuf::from("/")))
}

/// The longest mount point of a mountinfo text that is `path` or one of
/// its parents. Mount points are the fifth field, with space, tab,
/// newline and backslash written as octal escapes.
fn longest_mount_point(mountinfo: &str, path: &Path) -> Option<PathBuf> {
    mountinfo
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|mp| PathBuf::from(unescape_octal(mp)))
        .filter(|mp| path.starts_with(mp))
        .max_by_key(|mp| mp.as_os_str().len())
}

fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let oct = b
            .get(i + 1..i + 4)
            .filter(|d| b[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match oct {
            Some(d) => {
                out.push(
                    d.iter()
                        .fold(0u8, |n, c| n.wrapping_mul(8).wrapping_add(c - b'0')),
                );
                i += 4;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Everything before pivot_root: propagation, rootfs bind, mounts, /dev.
pub fn prepare(cfg: &ContainerConfig) -> Result<()> {
    let prop = match cfg.rootfs_propagation.as_deref() {
        Some("shared") | Some("rshared") => MsFlags::MS_SHARED,
        Some("private") | Some("rprivate") => MsFlags::MS_PRIVATE,
        Some("unbindable") | Some("runbindable") => MsFlags::MS_UNBINDABLE,
        _ => MsFlags::MS_SLAVE,
    };
    do_mount(
        None,
        Path::new("/"),
        None,
        MsFlags::MS_REC | prop,
        None,
        "root propagation",
    )?;
    let rootfs = &cfg.rootfs;
    // As runc's rootfsParentMountPrivate: the mount holding the rootfs
    // becomes private, so the rootfs bind below does not propagate out and
    // pivot_root's check (no shared parent mount) passes with
    // `rootfsPropagation: shared`.
    let parent = mount_point_of(rootfs)?;
    do_mount(
        None,
        &parent,
        None,
        MsFlags::MS_PRIVATE,
        None,
        "rootfs parent private",
    )?;
    do_mount(
        Some(&rootfs.to_string_lossy()),
        rootfs,
        None,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None,
        "rootfs bind",
    )?;
    let dev_is_tmpfs = cfg.dev_is_tmpfs();
    for m in &cfg.mounts {
        mount_one(rootfs, m)?;
    }
    for m in cfg
        .mounts
        .iter()
        .filter(|m| m.typ == "proc" || m.typ == "sysfs")
    {
        do_mount(
            None,
            &secure_join(rootfs, &m.destination)?,
            None,
            MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | SYNTHETIC_MOUNT_FLAGS,
            Some(SYNTHETIC_MOUNT_DATA),
            "read-only remount",
        )?;
    }
    let mut devices = if dev_is_tmpfs {
        default_devices()
    } else {
        vec![]
    };
    // Never a host device beyond the default set (`--privileged` lists
    // them all): `spec::load` warned about those left out.
    devices.extend(cfg.devices.iter().filter(|d| d.in_sandbox_set()).cloned());
    for d in &devices {
        create_device(rootfs, d)?;
    }
    if dev_is_tmpfs {
        let dev = secure_join(rootfs, "/dev")?;
        for (name, target) in [
            ("fd", "/proc/self/fd"),
            ("stdin", "/proc/self/fd/0"),
            ("stdout", "/proc/self/fd/1"),
            ("stderr", "/proc/self/fd/2"),
            ("core", "/proc/kcore"),
        ] {
            // As runc: /dev/core only where the kernel has /proc/kcore
            // (CONFIG_PROC_KCORE), so `ls /dev` matches runc's.
            if name == "core" && !Path::new("/proc/kcore").exists() {
                continue;
            }
            let _ = symlink(target, dev.join(name));
        }
        if dev.join("pts/ptmx").exists() {
            let _ = fs::remove_file(dev.join("ptmx"));
            let _ = symlink("pts/ptmx", dev.join("ptmx"));
        }
    }
    // Docker's -w may name a directory the image lacks: runc creates it.
    let cwd = secure_join(rootfs, &cfg.process.cwd)?;
    if !cwd.exists() {
        mkdir_all(&cwd)?;
    }
    for m in &cfg.mounts {
        let opts = parse_options(&m.options);
        let dest = || secure_join(rootfs, &m.destination);
        // A bind remount, as runc's remountReadonly: the mount is
        // read-only, its tmpfs (superblock) stays as mounted.
        if m.typ == "tmpfs" && !opts.bind && opts.flags.contains(MsFlags::MS_RDONLY) {
            do_mount(
                None,
                &dest()?,
                None,
                MsFlags::MS_REMOUNT | MsFlags::MS_BIND | (opts.flags & !MsFlags::MS_REC),
                None,
                "read-only tmpfs remount",
            )?;
        }
        if opts.rec_set != 0 || opts.rec_clr != 0 {
            let dest = dest()?;
            crate::sandbox::sys::mount_setattr_recursive(&dest, opts.rec_set, opts.rec_clr)
                .map_err(|source| RootfsError::Mount {
                    typ: "recursive mount options".into(),
                    dest,
                    source,
                })?;
        }
    }
    Ok(())
}

/// No device node but the sandbox's own opens through the workload's
/// kernel: the image's root mount and every mount of the spec are nodev,
/// except /dev (the tmpfs `prepare` fills with the sandbox's set),
/// devpts, and binds of a node of that set or a pty (podman binds the
/// host's /dev/null). The gofer refuses any other node anyway; this guards
/// the opens the workload's kernel does itself (a FIFO's, and the ones
/// `sentry::syscalls::file::open_cached` leaves to it), whose path the
/// workload may rewrite, where no devices cgroup does (cgroup v2). Made
/// last, after pivot_root, so that neither the spec's `rdev` nor a
/// read-only remount (which sets a mount's flags anew) undoes it. The
/// read-only paths' binds are covered too, but for those under /dev: a
/// path there that is no mount point would set all of /dev.
fn nodev_outside_dev(cfg: &ContainerConfig) -> Result<()> {
    let root = Path::new("/");
    let set_nodev = |dest: &Path, recursive: bool| {
        crate::sandbox::sys::mount_setattr(dest, libc::MOUNT_ATTR_NODEV, 0, recursive).map_err(
            |source| RootfsError::Mount {
                typ: "nodev".into(),
                dest: dest.to_path_buf(),
                source,
            },
        )
    };
    // Only the root mount: /dev and the spec's mounts lie on it.
    set_nodev(root, false)?;
    for m in &cfg.mounts {
        let opts = parse_options(&m.options);
        let bind = opts.bind || m.typ == "bind";
        let keeps_devices = (m.destination == "/dev" && m.typ == "tmpfs")
            || m.typ == "devpts"
            || (bind && is_sandbox_device_node(Path::new(&m.source)));
        // proc, sysfs and cgroup destinations are not mounts of the spec's
        // kind yet (synthetic tmpfs, nodev already; cgroups come later).
        let mounted_here = !matches!(m.typ.as_str(), "proc" | "sysfs" | "cgroup" | "cgroup2");
        if keeps_devices || !mounted_here {
            continue;
        }
        set_nodev(&secure_join(root, &m.destination)?, true)?;
    }
    for p in &cfg.readonly_paths {
        let path = secure_join(root, p)?;
        if is_synthetic(p) || path.starts_with("/dev") || !path.exists() {
            continue;
        }
        set_nodev(&path, true)?;
    }
    Ok(())
}

/// Whether `path` is a device node the workload may open
/// (`sandbox::workload_may_open_char_device`: the set, /dev/ptmx, ptys).
fn is_sandbox_device_node(path: &Path) -> bool {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    fs::metadata(path).is_ok_and(|meta| {
        meta.file_type().is_char_device()
            && crate::sandbox::workload_may_open_char_device(
                i64::from(libc::major(meta.rdev())),
                i64::from(libc::minor(meta.rdev())),
            )
    })
}

/// The spec's cgroup mounts, made as runc makes them, once init is in its
/// cgroups: on a cgroup v1 (or hybrid) host a tmpfs holding, for each v1
/// hierarchy the container joined, a bind of its directory there (with
/// the mount's flags, read-only as the specs ask); on a v2-only host a
/// bind of its v2 directory. `cfg.cgroups_path` is the resolved path
/// create saved (init's own /proc/self/cgroup is relative to the cgroup
/// namespace it was cloned into).
pub fn mount_cgroups(cfg: &ContainerConfig) -> Result<()> {
    let cgroup_mounts: Vec<&MountSpec> = cfg
        .mounts
        .iter()
        .filter(|m| m.typ == "cgroup" || m.typ == "cgroup2")
        .collect();
    let Some(rel) = cfg.cgroups_path.as_deref() else {
        return Ok(());
    };
    if cgroup_mounts.is_empty() {
        return Ok(());
    }
    let cgroup = super::cgroups::Cgroup::at(rel);
    for m in cgroup_mounts {
        let dest = secure_join(&cfg.rootfs, &m.destination)?;
        let opts = parse_options(&m.options);
        let flags = opts.flags & !MsFlags::MS_REC;
        let bind = |src: &Path, target: &Path| -> Result<()> {
            do_mount(
                Some(&src.to_string_lossy()),
                target,
                None,
                MsFlags::MS_BIND,
                None,
                "cgroup bind",
            )?;
            do_mount(
                None,
                target,
                None,
                MsFlags::MS_REMOUNT | MsFlags::MS_BIND | flags,
                None,
                "cgroup bind remount",
            )
        };
        if cgroup.is_v2() {
            let Some((_, dir)) = cgroup.dirs().first() else {
                continue;
            };
            bind(dir, &dest)?;
        } else {
            do_mount(
                Some("tmpfs"),
                &dest,
                Some("tmpfs"),
                SYNTHETIC_MOUNT_FLAGS,
                Some("mode=755"),
                "cgroup tmpfs",
            )?;
            for (name, dir) in cgroup.shown_v1_hierarchies() {
                let target = dest.join(name);
                mkdir_all(&target)?;
                bind(dir, &target)?;
            }
            // The tmpfs holding the hierarchies is read-only too when the
            // mount is (runc's mountCgroupV1): no directory can be made
            // beside them.
            if flags.contains(MsFlags::MS_RDONLY) {
                do_mount(
                    None,
                    &dest,
                    None,
                    MsFlags::MS_REMOUNT | SYNTHETIC_MOUNT_FLAGS | MsFlags::MS_RDONLY,
                    Some("mode=755"),
                    "cgroup tmpfs read-only",
                )?;
            }
        }
        // The spec's propagation (podman: `rprivate`), now that `dest` is
        // a mount.
        if !opts.propagation.is_empty() {
            do_mount(None, &dest, None, opts.propagation, None, "propagation")?;
        }
    }
    Ok(())
}

/// pivot_root into the rootfs and detach the old root (runc's trick of
/// pivoting "." onto "." avoids needing a directory for the old root).
pub fn pivot(cfg: &ContainerConfig) -> Result<()> {
    let step = |step: &'static str| move |source| RootfsError::Step { step, source };
    nix::unistd::chdir(&cfg.rootfs).map_err(step("chdir rootfs"))?;
    nix::unistd::pivot_root(".", ".").map_err(step("pivot_root"))?;
    // Make the old root a slave so its unmount never propagates to the host.
    mount(
        None::<&str>,
        ".",
        None::<&str>,
        MsFlags::MS_SLAVE | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(step("make old root rslave"))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(step("unmount old root"))?;
    nix::unistd::chdir("/").map_err(step("chdir /"))?;
    for p in &cfg.readonly_paths {
        readonly_path(p)?;
    }
    for p in &cfg.masked_paths {
        mask_path(p)?;
    }
    if cfg.readonly_root {
        mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY,
            None::<&str>,
        )
        .map_err(step("remount / read-only"))?;
    }
    if cfg.dev_is_tmpfs() {
        nodev_outside_dev(cfg)?;
    }
    Ok(())
}

/// Paths under the sentry's synthetic mounts are handled there.
fn is_synthetic(path: &str) -> bool {
    ["/proc", "/sys"]
        .iter()
        .any(|m| path == *m || path.starts_with(&format!("{m}/")))
}

fn readonly_path(p: &str) -> Result<()> {
    if is_synthetic(p) || !Path::new(p).exists() {
        return Ok(());
    }
    do_mount(
        Some(p),
        Path::new(p),
        None,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None,
        "readonly path",
    )?;
    do_mount(
        None,
        Path::new(p),
        None,
        MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY,
        None,
        "readonly path",
    )
}

fn mask_path(p: &str) -> Result<()> {
    if is_synthetic(p) {
        return Ok(());
    }
    match fs::metadata(p) {
        Err(_) => Ok(()),
        Ok(m) if m.is_dir() => do_mount(
            Some("tmpfs"),
            Path::new(p),
            Some("tmpfs"),
            MsFlags::MS_RDONLY,
            None,
            "masked path",
        ),
        Ok(_) => do_mount(
            Some("/dev/null"),
            Path::new(p),
            None,
            MsFlags::MS_BIND,
            None,
            "masked path",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_point_of_a_path_is_the_longest_parent() {
        let info = "22 1 8:1 / / rw shared:1 - ext4 /dev/sda1 rw\n\
                    30 22 0:5 / /var/lib rw - tmpfs tmpfs rw\n\
                    31 22 0:6 / /var/lib/con\\040tainers rw - tmpfs tmpfs rw\n\
                    32 22 0:7 / /var/libx rw - tmpfs tmpfs rw\n";
        let at = |p: &str| longest_mount_point(info, Path::new(p));
        assert_eq!(at("/var/lib/a/rootfs"), Some(PathBuf::from("/var/lib")));
        assert_eq!(
            at("/var/lib/con tainers/x"),
            Some(PathBuf::from("/var/lib/con tainers"))
        );
        assert_eq!(at("/var/libxyz"), Some(PathBuf::from("/")));
        assert_eq!(at("/var/lib"), Some(PathBuf::from("/var/lib")));
        assert_eq!(longest_mount_point("", Path::new("/x")), None);
    }

    #[test]
    fn secure_join_stays_inside_root() {
        let root = std::env::temp_dir().join(format!("runrs-sj-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("a/b")).expect("mkdir");
        symlink("/etc", root.join("abs")).expect("symlink");
        symlink("../../../../..", root.join("a/up")).expect("symlink");
        symlink("loop", root.join("loop")).expect("symlink");
        assert_eq!(
            secure_join(&root, "/../../x").expect("join"),
            root.join("x")
        );
        assert_eq!(
            secure_join(&root, "/abs/passwd").expect("join"),
            root.join("etc/passwd")
        );
        assert_eq!(
            secure_join(&root, "/a/up/etc").expect("join"),
            root.join("etc")
        );
        assert_eq!(
            secure_join(&root, "a/./b/../b").expect("join"),
            root.join("a/b")
        );
        assert!(matches!(
            secure_join(&root, "/loop/x"),
            Err(RootfsError::SymlinkLoop { .. })
        ));
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn options_split_into_flags_propagation_and_data() {
        let o = parse_options(&[
            "rbind".into(),
            "ro".into(),
            "rprivate".into(),
            "size=1m".into(),
        ]);
        assert!(o.bind);
        assert!(o.flags.contains(MsFlags::MS_RDONLY | MsFlags::MS_REC));
        assert_eq!(o.propagation, MsFlags::MS_PRIVATE | MsFlags::MS_REC);
        assert_eq!(o.data, ["size=1m"]);
    }
}
