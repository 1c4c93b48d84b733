//! The mappings of the counters file: the only `unsafe` of `metrics`.

use std::num::NonZeroUsize;
use std::os::fd::AsFd;
use std::ptr::NonNull;
use std::sync::atomic::AtomicU64;

use nix::sys::mman::{mmap, munmap, MapFlags, ProtFlags};

/// A shared mapping of a whole counters file, as 64-bit atomic words.
pub struct Mapping {
    ptr: NonNull<std::ffi::c_void>,
    words: usize,
}

// SAFETY: the mapping is plain shared memory accessed only through
// `AtomicU64`s; moving or sharing the handle between threads is as safe as
// sharing a `&[AtomicU64]`.
unsafe impl Send for Mapping {}
// SAFETY: as above.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps the first `words * 8` bytes of `fd`, writable when `write`.
    ///
    /// Preconditions: the file is at least that long (checked by the
    /// callers with fstat) and nobody shrinks it while it is mapped (only
    /// the sentry writes it, and it never truncates after creating it).
    pub fn new(fd: impl AsFd, words: usize, write: bool) -> nix::Result<Mapping> {
        let len = NonZeroUsize::new(words * 8).ok_or(nix::errno::Errno::EINVAL)?;
        let prot = if write {
            ProtFlags::PROT_READ | ProtFlags::PROT_WRITE
        } else {
            ProtFlags::PROT_READ
        };
        // SAFETY: a new shared mapping of a file we hold; no existing Rust
        // object aliases the address range the kernel chooses.
        let ptr = unsafe { mmap(None, len, prot, MapFlags::MAP_SHARED, fd, 0)? };
        Ok(Mapping { ptr, words })
    }

    /// The words. Atomic loads are sound on a read-only mapping (they
    /// are plain loads on x86_64); a read-only mapping must never be
    /// written through them (a store faults).
    pub fn words(&self) -> &[AtomicU64] {
        // SAFETY: the mapping is `words * 8` bytes, page-aligned (so
        // aligned for AtomicU64, which has u64's layout), lives as long as
        // `self`, and is only ever accessed atomically by this process.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().cast::<AtomicU64>(), self.words) }
    }

    /// Keeps the mapping for the rest of the process (the sentry's
    /// counters), returning its words.
    pub fn leak(self) -> &'static [AtomicU64] {
        let m = std::mem::ManuallyDrop::new(self);
        // SAFETY: the mapping is never unmapped (no Drop runs), so the
        // words live for the rest of the process.
        unsafe { std::slice::from_raw_parts(m.ptr.as_ptr().cast::<AtomicU64>(), m.words) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the range is the one mmap returned, and the borrow of
        // `words()` cannot outlive `self`.
        let _ = unsafe { munmap(self.ptr, self.words * 8) };
    }
}
