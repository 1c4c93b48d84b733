//! uname: the host's kernel identity with the container's hostname.

use super::{Ctx, Outcome, SysResult};
use crate::sentry::sys;

fn set_field(field: &mut [libc::c_char], value: &str) {
    field.iter_mut().for_each(|c| *c = 0);
    for (dst, src) in field.iter_mut().zip(value.bytes().take(64)) {
        *dst = src as libc::c_char;
    }
}

/// uname(2).
pub fn uname(ctx: &mut Ctx) -> SysResult {
    let buf = ctx.arg(0);
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
    ctx.write(buf, sys::struct_bytes(&u))?;
    Ok(Outcome::Value(0))
}
