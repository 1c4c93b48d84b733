//! The caller's terminal as the container's, as runc's tty.go does: when
//! `run` (in the foreground) or `exec -t` get no `--console-socket`, runrs
//! keeps the pty master itself and copies between it and its own stdin and
//! stdout, with the caller's terminal in raw mode (restored when the
//! container's process is done) and its window size passed on, now and on
//! every SIGWINCH.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::termios::{self, SetArg, Termios};

use super::error::{Error, Result};
use crate::sentry::sys;

/// A running proxy. Dropping it restores the caller's terminal and waits
/// (briefly) for the container's last output.
pub struct Proxy {
    master: Arc<OwnedFd>,
    saved: Option<Termios>,
    output: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Starts copying: stdin to `master`, `master` to stdout. When stdin
    /// is not a terminal, it is copied as it is and nothing is made raw.
    pub fn start(master: OwnedFd) -> Result<Proxy> {
        // Our threads inherit the mask: the forwarded signals must reach
        // the forwarder's sigwait, never one of them.
        super::procs::forwarded_signals()
            .thread_block()
            .map_err(Error::sys("block the forwarded signals"))?;
        let master = Arc::new(master);
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(stdin.as_fd()).ok();
        if let Some(t) = &saved {
            let mut raw = t.clone();
            termios::cfmakeraw(&mut raw);
            termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw)
                .map_err(Error::sys("make the terminal raw"))?;
        }
        // Made before anything can fail: its drop restores the terminal.
        let mut proxy = Proxy {
            master: master.clone(),
            saved,
            output: None,
        };
        proxy.resize();
        let mut to_master = File::from(master.try_clone().map_err(Error::PtyMaster)?);
        // Stays blocked on stdin once the container is done; the process
        // exits under it.
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let mut stdin = std::io::stdin();
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if to_master.write_all(&buf[..n]).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        let mut from_master = File::from(master.try_clone().map_err(Error::PtyMaster)?);
        let output = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let mut stdout = std::io::stdout();
            // EIO once every slave is closed: the container's side is done.
            while let Ok(n) = from_master.read(&mut buf) {
                if n == 0 || stdout.write_all(&buf[..n]).is_err() {
                    break;
                }
                let _ = stdout.flush();
            }
        });
        proxy.output = Some(output);
        Ok(proxy)
    }

    /// Gives the container's terminal the caller's window size.
    pub fn resize(&self) {
        if let Ok(ws) = sys::get_winsize(std::io::stdin().as_fd()) {
            let _ = sys::set_winsize(self.master.as_fd(), &ws);
        }
    }

    /// A function for the signal forwarder's SIGWINCH.
    pub fn resizer(&self) -> impl Fn() + Send + 'static {
        let master = self.master.clone();
        move || {
            if let Ok(ws) = sys::get_winsize(std::io::stdin().as_fd()) {
                let _ = sys::set_winsize(master.as_fd(), &ws);
            }
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // The output the process wrote before it exited is still in the
        // pty: copy it out, unless some other process keeps the slave open.
        if let Some(output) = self.output.take() {
            let deadline = Instant::now() + Duration::from_secs(1);
            while !output.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if output.is_finished() {
                let _ = output.join();
            }
        }
        if let Some(t) = &self.saved {
            let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, t);
        }
    }
}
