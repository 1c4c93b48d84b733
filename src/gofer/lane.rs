//! A gofer channel's shared-memory lane: requests and replies without a
//! socket syscall.
//!
//! A request and its reply over the channel's socket cost four socket
//! syscalls, about 5.5 µs of a hop on this kind of VM, against 0.7 µs for
//! the same exchange through shared memory between two polling threads
//! (benches: a SEQPACKET ping-pong with both ends polling, and a
//! shared-word one). So while both ends poll (`sys::set_polling`), a
//! request that carries no fd, and a reply that carries none, travel
//! through a lane: a memfd that `create` makes and seals (it can neither
//! shrink nor grow), one lane per channel, mapped by the sentry and the
//! gofer. Fds, and every exchange while an end sleeps, still go through
//! the socket: an end that stopped polling is blocked in `recvmsg`, and
//! a hang-up still ends it there.
//!
//! Each direction has a state word that says where the next message is:
//!
//! - the request word: `IDLE` (the gofer reads the socket), `WATCHING`
//!   (the gofer polls the word), `POSTED` (a request is in the lane),
//!   `POSTED_SOCKET` (a request is in the socket). The gofer sets
//!   `WATCHING` before it answers, so the sentry's next request finds
//!   it; when its polling ends it moves `WATCHING` to `IDLE` with a
//!   compare-and-swap and then sleeps in `recvmsg`. The sentry posts with
//!   a compare-and-swap from `WATCHING`; if that fails the gofer sleeps,
//!   and the request goes to the socket.
//! - the reply word: the sentry sets `WAITING` before it posts, the gofer
//!   moves it to `READY` (reply in the lane) or `READY_SOCKET` (reply in
//!   the socket, sent before the swap); the sentry, when its polling
//!   ends, moves `WAITING` to `SLEEPING` and sleeps in `recvmsg`, and a
//!   gofer that then finds `SLEEPING` sends its reply to the socket.
//!
//! Every word and byte is an atomic access to shared memory, and each end
//! copies a message out before it decodes it: the other end is a separate
//! process that may write anything at any time. A value no state above
//! has is the peer's fault: the sentry fails the call, the gofer falls
//! back to the socket.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use nix::errno::Errno;

use super::proto::MAX_MESSAGE_SIZE;
use crate::metrics::sys::Mapping;

pub const IDLE: u64 = 0;
pub const WATCHING: u64 = 1;
pub const POSTED: u64 = 2;
pub const POSTED_SOCKET: u64 = 3;

pub const SLEEPING: u64 = 0;
pub const WAITING: u64 = 1;
pub const READY: u64 = 2;
pub const READY_SOCKET: u64 = 3;

/// Words of one message buffer: the largest message, rounded up.
const MESSAGE_WORDS: usize = MAX_MESSAGE_SIZE.div_ceil(8);
// The two state words sit on cache lines of their own.
const REQ_STATE: usize = 0;
const REQ_LEN: usize = 1;
const RESP_STATE: usize = 8;
const RESP_LEN: usize = 9;
const REQ_BUF: usize = 16;
const RESP_BUF: usize = REQ_BUF + MESSAGE_WORDS;
/// Words of one lane.
pub const LANE_WORDS: usize = RESP_BUF + MESSAGE_WORDS;

/// The seals `create` puts on the file and the mappers require: its size
/// never changes, so a mapping of it never faults.
const SEALS: libc::c_int = libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_SEAL;

/// Makes the sealed file of `lanes` lanes (by `create`): an fd for each
/// end.
pub fn create(lanes: usize) -> Result<(OwnedFd, OwnedFd), Errno> {
    use nix::sys::memfd::{memfd_create, MFdFlags};
    let fd = memfd_create(
        c"runrs-gofer-lanes",
        MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING,
    )?;
    let len = (lanes * LANE_WORDS * 8) as libc::off_t;
    nix::unistd::ftruncate(&fd, len)?;
    nix::fcntl::fcntl(
        &fd,
        nix::fcntl::FcntlArg::F_ADD_SEALS(nix::fcntl::SealFlag::from_bits_truncate(SEALS)),
    )?;
    let other = fd
        .try_clone()
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))?;
    Ok((fd, other))
}

/// The lanes' file, which `create` passes after the channels when
/// `present`: taken off the end of `fds` and mapped as `channels` lanes.
pub fn take_after_channels(
    fds: &mut Vec<OwnedFd>,
    present: bool,
    channels: usize,
) -> Result<Option<Arc<Lanes>>, Errno> {
    if !present {
        return Ok(None);
    }
    let fd = fds.pop().ok_or(Errno::EBADF)?;
    Lanes::map(fd, channels).map(Some)
}

/// The mapped lanes of one process.
pub struct Lanes {
    map: Mapping,
    count: usize,
}

impl Lanes {
    /// Maps `fd` as `count` lanes, after checking that it is a sealed
    /// file of exactly their size (EINVAL if not).
    pub fn map(fd: impl AsFd, count: usize) -> Result<Arc<Lanes>, Errno> {
        let st = nix::sys::stat::fstat(fd.as_fd())?;
        let words = count.checked_mul(LANE_WORDS).ok_or(Errno::EINVAL)?;
        if count == 0 || st.st_size as u64 != (words as u64) * 8 {
            return Err(Errno::EINVAL);
        }
        let seals = nix::fcntl::fcntl(fd.as_fd(), nix::fcntl::FcntlArg::F_GET_SEALS)?;
        if seals & SEALS != SEALS {
            return Err(Errno::EINVAL);
        }
        let map = Mapping::new(fd, words, true)?;
        Ok(Arc::new(Lanes { map, count }))
    }

    /// Lane `i` (None past the last).
    pub fn lane(self: &Arc<Self>, i: usize) -> Option<Lane> {
        (i < self.count).then(|| Lane {
            lanes: Arc::clone(self),
            base: i * LANE_WORDS,
        })
    }
}

impl std::fmt::Debug for Lanes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Lanes({})", self.count)
    }
}

/// One channel's lane, as seen from either end.
pub struct Lane {
    lanes: Arc<Lanes>,
    base: usize,
}

impl Lane {
    /// The mapping this lane is part of (tests hand it to a gofer).
    #[cfg(test)]
    pub fn lanes_for_test(&self) -> Arc<Lanes> {
        Arc::clone(&self.lanes)
    }

    fn word(&self, i: usize) -> &AtomicU64 {
        &self.lanes.map.words()[self.base + i]
    }

    pub fn request_state(&self) -> u64 {
        self.word(REQ_STATE).load(Ordering::Acquire)
    }

    pub fn set_request_state(&self, v: u64) {
        self.word(REQ_STATE).store(v, Ordering::SeqCst);
    }

    /// Moves the request word from `from` to `to`; Err(the value found).
    pub fn swap_request_state(&self, from: u64, to: u64) -> Result<(), u64> {
        self.word(REQ_STATE)
            .compare_exchange(from, to, Ordering::SeqCst, Ordering::Acquire)
            .map(|_| ())
    }

    pub fn reply_state(&self) -> u64 {
        self.word(RESP_STATE).load(Ordering::Acquire)
    }

    pub fn set_reply_state(&self, v: u64) {
        self.word(RESP_STATE).store(v, Ordering::SeqCst);
    }

    /// Moves the reply word from `from` to `to`; Err(the value found).
    pub fn swap_reply_state(&self, from: u64, to: u64) -> Result<(), u64> {
        self.word(RESP_STATE)
            .compare_exchange(from, to, Ordering::SeqCst, Ordering::Acquire)
            .map(|_| ())
    }

    /// Writes a request into the lane (false if it does not fit).
    pub fn put_request(&self, msg: &[u8]) -> bool {
        self.put(REQ_LEN, REQ_BUF, msg)
    }

    /// Copies the request out into `buf`: its length, or None if the
    /// length word is past the buffer (a peer's garbage).
    pub fn take_request(&self, buf: &mut [u8]) -> Option<usize> {
        self.take(REQ_LEN, REQ_BUF, buf)
    }

    pub fn put_reply(&self, msg: &[u8]) -> bool {
        self.put(RESP_LEN, RESP_BUF, msg)
    }

    pub fn take_reply(&self, buf: &mut [u8]) -> Option<usize> {
        self.take(RESP_LEN, RESP_BUF, buf)
    }

    fn put(&self, len_word: usize, buf_word: usize, msg: &[u8]) -> bool {
        if msg.len() > MAX_MESSAGE_SIZE {
            return false;
        }
        for (i, chunk) in msg.chunks(8).enumerate() {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.word(buf_word + i)
                .store(u64::from_le_bytes(w), Ordering::Relaxed);
        }
        self.word(len_word)
            .store(msg.len() as u64, Ordering::Relaxed);
        true
    }

    fn take(&self, len_word: usize, buf_word: usize, buf: &mut [u8]) -> Option<usize> {
        let len = self.word(len_word).load(Ordering::Relaxed);
        let len = usize::try_from(len).ok()?;
        if len > MAX_MESSAGE_SIZE || len > buf.len() {
            return None;
        }
        for (i, chunk) in buf[..len].chunks_mut(8).enumerate() {
            let w = self
                .word(buf_word + i)
                .load(Ordering::Relaxed)
                .to_le_bytes();
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
        Some(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (Lane, Lane) {
        let (fa, fb) = create(2).expect("create");
        let a = Lanes::map(&fa, 2).expect("map a");
        let b = Lanes::map(&fb, 2).expect("map b");
        (a.lane(1).expect("lane"), b.lane(1).expect("lane"))
    }

    #[test]
    fn messages_cross_between_two_mappings() {
        let (sentry, gofer) = pair();
        let mut buf = vec![0u8; MAX_MESSAGE_SIZE + 1];
        for msg in [&b""[..], b"x", b"twelve bytes", &[7u8; MAX_MESSAGE_SIZE]] {
            assert!(sentry.put_request(msg));
            assert_eq!(gofer.take_request(&mut buf), Some(msg.len()));
            assert_eq!(&buf[..msg.len()], msg);
            assert!(gofer.put_reply(msg));
            assert_eq!(sentry.take_reply(&mut buf), Some(msg.len()));
            assert_eq!(&buf[..msg.len()], msg);
        }
        assert!(!sentry.put_request(&[0u8; MAX_MESSAGE_SIZE + 1]));
    }

    #[test]
    fn states_start_idle_and_swap_only_from_the_expected_value() {
        let (sentry, gofer) = pair();
        assert_eq!(gofer.request_state(), IDLE);
        assert_eq!(sentry.reply_state(), SLEEPING);
        // The gofer sleeps: a post fails and says so.
        assert_eq!(sentry.swap_request_state(WATCHING, POSTED), Err(IDLE));
        gofer.set_request_state(WATCHING);
        assert_eq!(sentry.swap_request_state(WATCHING, POSTED), Ok(()));
        assert_eq!(gofer.swap_request_state(WATCHING, IDLE), Err(POSTED));
    }

    #[test]
    fn a_peer_s_garbage_length_is_refused() {
        let (sentry, gofer) = pair();
        sentry.word(REQ_LEN).store(u64::MAX, Ordering::Relaxed);
        let mut buf = vec![0u8; MAX_MESSAGE_SIZE + 1];
        assert_eq!(gofer.take_request(&mut buf), None);
        sentry
            .word(REQ_LEN)
            .store(MAX_MESSAGE_SIZE as u64 + 1, Ordering::Relaxed);
        assert_eq!(gofer.take_request(&mut buf), None);
    }

    #[test]
    fn an_unsealed_or_wrong_sized_file_is_refused() {
        let (fd, _) = create(2).expect("create");
        assert_eq!(Lanes::map(&fd, 3).err(), Some(Errno::EINVAL));
        assert_eq!(Lanes::map(&fd, 0).err(), Some(Errno::EINVAL));
        use nix::sys::memfd::{memfd_create, MFdFlags};
        let plain = memfd_create(c"plain", MFdFlags::MFD_CLOEXEC).expect("memfd");
        nix::unistd::ftruncate(&plain, (LANE_WORDS * 8) as libc::off_t).expect("truncate");
        assert_eq!(Lanes::map(&plain, 1).err(), Some(Errno::EINVAL));
    }
}
