//! uname: the host's kernel identity with the container's hostname.

use std::sync::OnceLock;

use super::{Ctx, Outcome, SysResult};
use crate::sentry::sys;

fn set_field(field: &mut [libc::c_char], value: &str) {
    field.iter_mut().for_each(|c| *c = 0);
    for (dst, src) in field.iter_mut().zip(value.bytes().take(64)) {
        *dst = src as libc::c_char;
    }
}

/// The answer, made once: the host's release and the spec's names are
/// fixed for the sandbox's life (the workload cannot set them).
static UTSNAME: OnceLock<Vec<u8>> = OnceLock::new();

/// uname(2).
pub fn uname(ctx: &mut Ctx) -> SysResult {
    let buf = ctx.arg(0);
    let bytes = UTSNAME.get_or_init(|| utsname(ctx));
    ctx.write(buf, bytes)?;
    Ok(Outcome::Value(0))
}

fn utsname(ctx: &Ctx) -> Vec<u8> {
    let mut u = sys::host_uname();
    let hostname = ctx.sentry.cfg.hostname.clone().unwrap_or_default();
    set_field(&mut u.nodename, &hostname);
    let domain = ctx
        .sentry
        .cfg
        .domainname
        .clone()
        .unwrap_or_else(|| "(none)".into());
    set_field(&mut u.domainname, &domain);
    sys::struct_bytes(&u).to_vec()
}

/// The handlers against a real sentry, a recording fake platform and an
/// in-process gofer over a temporary tree (`sentry::testkit`).
#[cfg(test)]
mod handler_tests {
    use nix::errno::Errno;

    use crate::sentry::testkit::{errno, value, Kit};

    /// struct utsname: six 65-byte fields; nodename second, domainname last.
    #[test]
    fn uname_shows_the_containers_hostname() {
        let k = Kit::new("uname");
        let buf = k.platform.buf(6 * 65);
        assert_eq!(value(k.call("uname", [buf, 0, 0, 0, 0, 0])), 0);
        assert_eq!(k.platform.get_cstr(buf), "Linux");
        assert_eq!(k.platform.get_cstr(buf + 65), "box");
        assert_eq!(k.platform.get_cstr(buf + 5 * 65), "(none)");
    }

    #[test]
    fn uname_into_unmapped_memory_is_efault() {
        let k = Kit::new("uname-efault");
        assert_eq!(errno(k.call("uname", [0x30, 0, 0, 0, 0, 0])), Errno::EFAULT);
    }
}
