#!/bin/sh
# The file-heavy job (issue 8): create N small files, tar them, untar the
# archive elsewhere, find everything, sha256sum every file. Works in
# /scratch of the rootfs it runs in; the same busybox binaries natively
# (chroot) and in every container.
set -e
n=${1:-5000}
rm -rf /scratch
mkdir -p /scratch/src /scratch/dst
cd /scratch/src
i=0
while [ "$i" -lt "$n" ]; do
    d=d$((i % 50))
    [ -d "$d" ] || mkdir "$d"
    echo "file $i" >"$d/f$i"
    i=$((i + 1))
done
cd /scratch
tar cf src.tar src
tar xf src.tar -C dst
found=$(find dst -type f | wc -l)
[ "$found" -eq "$n" ] || { echo "files.sh: found $found files, want $n" >&2; exit 1; }
find dst -type f -exec sha256sum {} + | sort | sha256sum >/scratch/sums
cat /scratch/sums
rm -rf /scratch
