#!/usr/bin/env bash
# Builds a minimal busybox root filesystem at DEST (rebuilt from scratch if
# DEST exists): bin/busybox plus one symlink per applet, the usual empty
# directories, and etc/{passwd,group,hostname}.
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 DEST" >&2
    exit 2
fi
DEST=$1

if [ ! -x /bin/busybox ]; then
    echo "mkrootfs-busybox: /bin/busybox missing, installing busybox-static" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq busybox-static >/dev/null; then
        apt-get update -qq
        apt-get install -y -qq busybox-static >/dev/null
    fi
fi
if ! file_out=$(LC_ALL=C od -An -c -N4 /bin/busybox) || [[ $file_out != *E*L*F* ]]; then
    echo "mkrootfs-busybox: /bin/busybox is not an ELF binary" >&2
    exit 1
fi

# Refuse to wipe something that obviously is not a rootfs we made.
case "$(realpath -m "$DEST")" in
    / | /bin | /usr | /etc | /home | /root | /tmp | /var)
        echo "mkrootfs-busybox: refusing to use $DEST as DEST" >&2
        exit 1
        ;;
esac

rm -rf "$DEST"
mkdir -p "$DEST"
cd "$DEST"
mkdir -p bin etc proc sys dev root home var tmp home/user
chmod 1777 tmp
chmod 700 root
cp /bin/busybox bin/busybox
chmod 755 bin/busybox

# One symlink per applet, all in bin/ (PATH=/bin is enough).
/bin/busybox --list | while IFS= read -r applet; do
    [ -n "$applet" ] && [ "$applet" != busybox ] && ln -sf busybox "bin/$applet"
done

cat > etc/passwd <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > etc/group <<'GROUP'
root:x:0:
tty:x:5:
user:x:1000:
nogroup:x:65534:
GROUP
echo runrs-demo > etc/hostname
chown 1000:1000 home/user

echo "mkrootfs-busybox: rootfs ready at $DEST ($(ls bin | wc -l) entries in bin/)"
