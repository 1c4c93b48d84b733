# Shared by scripts/e2e-setup.sh, scripts/e2e-podman-setup.sh and scripts/e2e-cri-setup.sh (sourced;
# they set ROOT, ROOTFS, SRC_BIN, DEST_DIR, DEST_BIN and define say/die).

# Waits until "$@" succeeds, at most $1 seconds. Returns 1 on timeout.
wait_for() {
    local timeout=$1; shift
    local deadline=$((SECONDS + timeout))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.5
    done
}

# Installs the Debian packages "$@" that are missing.
install_missing() {
    local missing=() pkg
    for pkg in "$@"; do
        if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != 'install ok installed' ]; then
            missing+=("$pkg")
        fi
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        say "$* already installed"
    fi
    command -v python3 >/dev/null || die "python3 is required"
}

# Builds the busybox rootfs at $ROOTFS when missing.
ensure_busybox_rootfs() {
    if [ -x "$ROOTFS/bin/busybox" ] && [ -e "$ROOTFS/bin/sh" ]; then
        say "rootfs $ROOTFS present"
    else
        say "building rootfs $ROOTFS"
        bash "$ROOT/scripts/mkrootfs-busybox.sh" "$ROOTFS"
    fi
}

# Copies $SRC_BIN to $DEST_BIN atomically (a rename: running copies keep
# their inode, so a rebuild never breaks running containers).
install_runrs_binary() {
    [ -x "$SRC_BIN" ] || die "runrs binary $SRC_BIN missing (run cargo build first, or set RUNRS_BIN)"
    mkdir -p "$DEST_DIR"
    if [ -x "$DEST_BIN" ] && cmp -s "$SRC_BIN" "$DEST_BIN"; then
        say "$DEST_BIN is up to date"
    else
        say "installing $SRC_BIN -> $DEST_BIN"
        cp "$SRC_BIN" "$DEST_BIN.tmp.$$"
        chmod 0755 "$DEST_BIN.tmp.$$"
        mv -f "$DEST_BIN.tmp.$$" "$DEST_BIN"
    fi
}
