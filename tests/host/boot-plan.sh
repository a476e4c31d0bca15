#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/host/boot-plan.sh: how tests/boot/run shares beds (--plan prints the beds a run would
# boot, one per line, without booting): every scenario of a full run is in exactly one bed;
# those that set an option of the bed itself get a bed of their own, those that expect to fail
# (and set nothing else) run last in a shared bed, one per bed; the
# shared beds are 2 x jobs (1 with -j 1) and about equal; --no-share and named scenarios give
# one bed each; a scenario file with share = no stays alone. Uses a copy of the scenarios.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
TEST=boot-plan
pass() { echo "PASS $TEST/$1"; }
bad() { echo "FAIL $TEST/$1: $2"; }
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
mkdir -p "$t/tests/boot"
cp -a tests/boot/run tests/boot/scenarios "$t/tests/boot/"
printf '# SPDX-License-Identifier: GPL-2.0-only\n' > "$t/tests/boot/times"
run() { "$t/tests/boot/run" --out "$t/out" "$@"; }
all=$(cd "$t/tests/boot/scenarios" && grep -L 'manual = yes' *.sh | sed 's/\.sh$//' | sort)
alone=$(cd "$t/tests/boot/scenarios" && grep -lE '^# option: (qemu-mem|qemu-cpu|dom0-args|dom0-mem|dom0-extra|host|share = no)' $(grep -L 'manual = yes' *.sh) | sed 's/\.sh$//' | sort)
enders=$(cd "$t/tests/boot/scenarios" && grep -lE '^# expect: FAIL' $(grep -L 'manual = yes' *.sh) | sed 's/\.sh$//' | sort)

plan=$(run --plan) || bad full "exit $?"
got=$(sed 's/^ *[0-9]* s  //' <<<"$plan" | tr ' ' '\n' | sort)
if [ "$got" = "$all" ]; then pass every-scenario-once
else bad every-scenario-once "$(diff <(echo "$all") <(echo "$got") | head -5 | tr '\n' ' ')"; fi
ok=1
for s in $alone; do grep -qE "^ *[0-9]+ s  $s\$" <<<"$plan" || { ok=0; bad "alone-$s" "not in a bed of its own"; }; done
[ $ok = 1 ] && pass "alone ($(wc -w <<<"$alone") scenarios)"
# each scenario that expects to fail ends a shared bed (its failure ends the bed: nothing after
# it), no bed has two
ok=1
for s in $enders; do grep -qE "^ *[0-9]+ s  [^ ]+ .* $s\$" <<<"$plan" || { ok=0; bad "last-$s" "not last in a shared bed:$plan"; }; done
awk -v e="$(echo $enders)" 'BEGIN { n = split(e, a, " "); for (i = 1; i <= n; i++) is[a[i]] = 1 }
    { c = 0; for (i = 3; i <= NF; i++) c += ($i in is); if (c > 1) exit 1 }' <<<"$plan" ||
    { ok=0; bad "one-per-bed" "$plan"; }
[ $ok = 1 ] && [ -n "$enders" ] && pass "expect-fail-last ($(wc -w <<<"$enders") scenarios)"
shared=$(grep -vcE "^ *[0-9]+ s  [^ ]+\$" <<<"$plan")
[ "$shared" = 4 ] && pass shared-beds-j2 || bad shared-beds-j2 "$shared shared beds, expected 4:$plan"
# about equal: the longest shared bed at most the shortest plus the longest scenario's budget
read -r lo hi < <(grep -vE "^ *[0-9]+ s  [^ ]+\$" <<<"$plan" | awk '{ print $1 }' | sort -n | sed -n '1p;$p' | tr '\n' ' ')
[ "$hi" -le $(( lo * 2 )) ] && pass balanced || bad balanced "shortest $lo s, longest $hi s"
[ "$(run --plan -j 1 | grep -vcE "^ *[0-9]+ s  [^ ]+\$")" = 1 ] && pass one-shared-bed-j1 || bad one-shared-bed-j1 "$(run --plan -j 1)"
n=$(run --plan --no-share | wc -l); [ "$n" = "$(wc -w <<<"$all")" ] && pass no-share || bad no-share "$n beds"
[ "$(run --plan hvmd-iso hvmd-kernel | wc -l)" = 2 ] && pass named-alone || bad named-alone "$(run --plan hvmd-iso hvmd-kernel)"
[ "$(run --plan -j 1 --share hvmd-iso hvmd-kernel)" != "" ] && [ "$(run --plan -j 1 --share hvmd-iso hvmd-kernel | wc -l)" = 1 ] && pass named-share || bad named-share "$(run --plan -j 1 --share hvmd-iso hvmd-kernel)"
# share = no keeps a scenario alone
sed -i '2a # option: share = no' "$t/tests/boot/scenarios/hvmd-iso.sh"
run --plan | grep -qE "^ *[0-9]+ s  hvmd-iso\$" && pass share-no || bad share-no "hvmd-iso is in a shared bed"
out=$(run --plan no-such 2>&1) && bad unknown "accepted" || { grep -q "no scenario 'no-such'" <<<"$out" && pass unknown || bad unknown "$out"; }
