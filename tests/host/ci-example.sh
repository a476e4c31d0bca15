#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/host/ci-example.sh: README's GitHub Actions and GitLab examples hold together: every
# project script they call exists and is executable, the two YAML blocks call the same ones;
# tests/boot/example/tap-initrd.sh packs an initrd whose /init prints the TAP plan and results
# the examples' hvmctl run options expect, with a static busybox as bin/busybox and bin/sh,
# and refuses a dynamic busybox naming it; tiny-kernel.sh refuses a source that is not a Linux
# tree or tarball, naming it. (The kernel build itself takes minutes: not here; the session's
# notes give the run that booted it in the bed.) No Xen, no bed.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
TEST=ci-example
T=$(mktemp -d /tmp/hvmd-ci-example.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass() { echo "PASS $TEST/$1"; }
bad() { echo "FAIL $TEST/$1: $2"; }

# the YAML blocks of README's "Your kernel in the bed" section (GitHub's, then GitLab's): the
# project paths they run
blocks() { awk -v want="$1" '/^### Your kernel in the bed/ { s = 1 } /^## / && s && !/^### / { s = 0 }
    s && /^```yaml$/ { n++; y = 1; next } /^```$/ { y = 0 } y && (want == 0 || n == want)' README.md; }
yaml=$(blocks 0)
gh=$(blocks 1 | grep -oE 'hvmd/tests/[A-Za-z0-9/._-]+' | sort -u)
gl=$(blocks 2 | grep -oE 'hvmd/tests/[A-Za-z0-9/._-]+' | sort -u)
ok=1
[ -n "$gh" ] || { ok=0; bad scripts-exist "README's first YAML block runs no project script"; }
for p in $gh $gl; do
    [ -x "${p#hvmd/}" ] || { ok=0; bad scripts-exist "README's YAML runs $p, which is not an executable file of the tree"; }
done
[ $ok = 1 ] && pass "scripts-exist ($(echo $gh | wc -w) scripts)"
[ "$gh" = "$gl" ] && pass same-scripts || bad same-scripts "GitHub's block runs: $(echo $gh), GitLab's: $(echo $gl)"
grep -q -- "--tests tap --expect 'pv:^ALL TESTS DONE\$' --wait-poweroff" <<<"$yaml" && pass options ||
    bad options "the examples no longer pass --tests tap --expect 'pv:^ALL TESTS DONE\$' --wait-poweroff"

# a static stand-in for busybox (the initrd script checks only that it is static and copies it)
printf 'int main(void) { return 0; }\n' > "$T/bb.c"
if gcc -static -o "$T/busybox" "$T/bb.c" 2>"$T/cc.log"; then
    if out=$(BUSYBOX="$T/busybox" tests/boot/example/tap-initrd.sh "$T/initrd.gz" 2>&1); then
        mkdir -p "$T/x" && (cd "$T/x" && zcat "$T/initrd.gz" | cpio -id --quiet 2>/dev/null)
        if [ -x "$T/x/init" ] && cmp -s "$T/busybox" "$T/x/bin/busybox" && [ "$(readlink "$T/x/bin/sh")" = busybox ] &&
           grep -qx 'echo 1..2' "$T/x/init" && grep -qx 'echo ok 1 - boots' "$T/x/init" &&
           grep -qx 'echo ALL TESTS DONE' "$T/x/init" && grep -qx 'poweroff -f' "$T/x/init"; then
            pass initrd
        else
            bad initrd "the initrd lacks /init's TAP lines, bin/busybox or bin/sh: $(cd "$T/x" && find . | tr '\n' ' ')"
        fi
    else
        bad initrd "tap-initrd.sh failed: $out"
    fi
else
    bad initrd "cannot link a static program for the test: $(head -3 "$T/cc.log")"
fi
out=$(BUSYBOX=/bin/true tests/boot/example/tap-initrd.sh "$T/d.gz" 2>&1); rc=$?
[ $rc = 2 ] && grep -q "/bin/true is not static" <<<"$out" && [ ! -e "$T/d.gz" ] && pass dynamic-busybox ||
    bad dynamic-busybox "exit $rc: $out"
out=$(tests/boot/example/tiny-kernel.sh "$T/nothing" "$T/k" 2>&1); rc=$?
[ $rc = 2 ] && grep -q "$T/nothing: no such file or directory" <<<"$out" && pass kernel-missing || bad kernel-missing "exit $rc: $out"
out=$(tests/boot/example/tiny-kernel.sh README.md "$T/k" 2>&1); rc=$?
[ $rc = 2 ] && grep -q "README.md is not a tarball" <<<"$out" && pass kernel-not-tarball || bad kernel-not-tarball "exit $rc: $out"
out=$(tests/boot/example/tiny-kernel.sh tests "$T/k" 2>&1); rc=$?
[ $rc = 2 ] && grep -q "tests is not a Linux source tree" <<<"$out" && pass kernel-not-tree || bad kernel-not-tree "exit $rc: $out"
out=$(tests/boot/example/tiny-kernel.sh 2>&1); rc=$?
[ $rc = 2 ] && grep -q "usage:" <<<"$out" && pass kernel-usage || bad kernel-usage "exit $rc: $out"
