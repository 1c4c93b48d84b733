#!/bin/sh
# The git job (issue 19): a repository of N small files in /tmp (a tmpfs
# mount of the spec, served like any container directory): init, add and
# commit them, status, a branch with changes to a tenth of them, checkout
# back and forth, log, gc. Checks its own results, so a wrong answer fails
# the run instead of timing it.
set -e
n=${1:-2000}
export HOME=/tmp GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
rm -rf /tmp/repo
mkdir /tmp/repo
cd /tmp/repo
git init -q -b main
i=0
while [ "$i" -lt "$n" ]; do
    d=d$((i % 40))
    [ -d "$d" ] || mkdir "$d"
    echo "line $i" >"$d/f$i"
    i=$((i + 1))
done
git add -A
git commit -q -m initial
[ -z "$(git status --porcelain)" ] || { echo "git.sh: tree dirty after commit" >&2; exit 1; }
git checkout -q -b topic
i=0
while [ "$i" -lt "$((n / 10))" ]; do
    echo "changed" >>"d$((i % 40))/f$i"
    i=$((i + 1))
done
changed=$(git status --porcelain | wc -l)
[ "$changed" -eq "$((n / 10))" ] || { echo "git.sh: $changed changed files, want $((n / 10))" >&2; exit 1; }
git commit -q -a -m change
git checkout -q main
grep -q changed d0/f0 && { echo "git.sh: main has topic's change" >&2; exit 1; }
git checkout -q topic
git checkout -q main
[ "$(git log --oneline topic | wc -l)" -eq 2 ] || { echo "git.sh: topic should have 2 commits" >&2; exit 1; }
git gc -q
[ "$(git ls-files | wc -l)" -eq "$n" ] || { echo "git.sh: ls-files disagrees" >&2; exit 1; }
cd /
rm -rf /tmp/repo
echo "git.sh: ok"
