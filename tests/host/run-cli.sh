#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/host/run-cli.sh: `hvmctl run` as a CI job meets it on a machine without Xen or with bad
# input: the usage errors (exit 2, a message naming what is wrong), a config that does not parse,
# no Xen to talk to (exit 2, and still valid JSON / JUnit reports naming why), several configs
# with -j. What needs Xen is in the boot scenarios run-pass, run-fail and run-parallel.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
HVMCTL=${HVMCTL:-$PWD/build/hvmctl}
TEST=run-cli
T=$(mktemp -d /tmp/hvmd-run-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass() { echo "PASS $TEST/$1"; }
bad() { echo "FAIL $TEST/$1: $2"; }
[ -x "$HVMCTL" ] || { bad setup "$HVMCTL not built"; exit 1; }
command -v python3 >/dev/null || { bad setup "python3 is missing (images/deps build installs it)"; exit 1; }

# expect_usage NAME MESSAGE-REGEX ARGS...: exit 2 and a message on stderr
expect_usage() {
    local name=$1 re=$2 rc; shift 2
    (cd "$T" && "$HVMCTL" run "$@" > "$T/out" 2> "$T/err"); rc=$?
    if [ $rc != 2 ]; then bad "$name" "exit $rc, not 2"
    elif ! grep -qE -e "$re" "$T/err"; then bad "$name" "no message /$re/: $(head -3 "$T/err")"
    elif [ -e "$T/hvmctl-run" ]; then bad "$name" "a usage error made the artifacts folder"
    else pass "$name"; fi
}
touch "$T/vmlinuz"
printf 'name = "hostpv"\ntype = "pv"\nkernel = "%s/vmlinuz"\nmemory = 128\n' "$T" > "$T/good.cfg"
printf 'name = "broken"\ntype = "pv"\nkernel = "%s/no-such-kernel"\nmemory = 128\n' "$T" > "$T/broken.cfg"

expect_usage no-config 'no config file' --expect x
expect_usage bad-regex "--expect 'boot\\(': not a regular expression" "$T/good.cfg" --expect 'boot('
expect_usage empty-pattern "empty pattern" "$T/good.cfg" --expect 'serial:'
expect_usage mistyped-source "--expect 'seral:login': no source 'seral' \\(did you mean serial\\?\\); the sources are serial, pv, console, xen, dm and any" "$T/good.cfg" --expect 'seral:login'
expect_usage mistyped-source-fail "--fail 'xem:panic': no source 'xem' \\(did you mean xen\\?\\)" "$T/good.cfg" --expect x --fail 'xem:panic'
expect_usage both-stdout "--json - and --junit -: only one report can go to standard output" "$T/good.cfg" --expect x --json - --junit -
expect_usage bad-fail-regex "--fail '\\[z-a\\]': not a regular expression" "$T/good.cfg" --fail '[z-a]'
expect_usage unknown-check "--no-check kasn: no such check" "$T/good.cfg" --no-check panic,kasn
expect_usage bad-jobs "-j 0: a number of runs at once" -j 0 "$T/good.cfg"
expect_usage send-one-arg "--send takes two arguments" "$T/good.cfg" --expect x --send 'grub>'
expect_usage send-bad-regex "--send 'boot\\(': not a regular expression" "$T/good.cfg" --send 'boot(' ls
expect_usage send-bad-text "--send 'grub>' 'caf.*': byte 3 \\(0xc3\\): not printable ASCII" "$T/good.cfg" --send 'grub>' "$(printf 'caf\303\251')"
expect_usage send-bad-escape "is no escape" "$T/good.cfg" --send 'grub>' 'ls\q'
expect_usage bad-timeout "--step-timeout soon: a number of seconds" "$T/good.cfg" --step-timeout soon --expect x

out=$("$HVMCTL" run --list-checks); rc=$?
n=$(grep -cE '^(panic|kasan|ubsan|bug|oops|warning|no-boot-device|triple-fault|crash) ' <<<"$out")
if [ $rc = 0 ] && [ "$n" = 9 ]; then pass list-checks; else bad list-checks "exit $rc, $n checks listed"; fi

# validate JSON JUNIT KIND VERDICT RUNS: both parse, and say what they should
validate() {
    python3 - "$@" <<'PY'
import json, sys, xml.etree.ElementTree as ET
j = json.load(open(sys.argv[1])); x = ET.parse(sys.argv[2]).getroot()
kinds, verdict, runs = sys.argv[3].split(","), sys.argv[4], int(sys.argv[5])
assert j["verdict"] == verdict and j["exit_code"] == 2, (j["verdict"], j["exit_code"])
assert len(j["runs"]) == runs == len(x.findall("testsuite")), len(j["runs"])
for r in j["runs"]:
    assert r["verdict"] == "error" and r["kind"] in kinds, (r["verdict"], r["kind"])
    assert r["failure"]["kind"] == r["kind"] and r["domid"] is None
    assert all(s["status"] == "not reached" for s in r["steps"]), r["steps"]
for ts in x.findall("testsuite"):
    create = ts.find("testcase[@name='create']")
    assert create is not None and create.find("error") is not None
    assert int(ts.get("errors")) == 1 and int(ts.get("skipped")) == len(ts.findall("testcase")) - 1
PY
}

# a config that does not parse: exit 2, the message names file, line and key; reports say so
(cd "$T" && "$HVMCTL" run broken.cfg --expect UP --json r.json --junit r.xml > out 2> err); rc=$?
if [ $rc != 2 ]; then bad bad-config "exit $rc, not 2"
elif ! grep -q "broken.cfg:3: kernel: .*no-such-kernel" "$T/err"; then bad bad-config "message: $(cat "$T/err")"
elif ! grep -q '^ERROR broken: broken.cfg: not created (1 error): broken.cfg:3: kernel: .*no-such-kernel' "$T/out"; then bad bad-config "summary: $(cat "$T/out")"
elif ! v=$(validate "$T/r.json" "$T/r.xml" config error 1 2>&1); then bad bad-config "reports: $v"
# every error of the file is in the JSON's reason and the JUnit create case's message
elif ! grep -q '"reason": "broken.cfg: not created (1 error): broken.cfg:3: kernel: .*no-such-kernel' "$T/r.json"; then bad bad-config "r.json's reason: $(grep reason "$T/r.json" | head -2)"
elif ! grep -q '<error message="broken.cfg: not created (1 error): broken.cfg:3: kernel: .*no-such-kernel' "$T/r.xml"; then bad bad-config "r.xml: no error naming the config's error"
elif [ ! -s "$T/hvmctl-run/broken/result.json" ]; then bad bad-config "no result.json in the run's folder"
else pass bad-config; fi

# no Xen here (a Xen host would fail the create of this fake kernel instead): exit 2, a reason
(cd "$T" && "$HVMCTL" run good.cfg --expect UP --json r.json --junit r.xml --artifacts art > out 2> err); rc=$?
if [ $rc != 2 ]; then bad no-xen "exit $rc, not 2"
elif ! grep -qE '^ERROR hostpv: (cannot talk to Xen|libxl could not create)' "$T/out"; then bad no-xen "summary: $(cat "$T/out")"
elif ! v=$(validate "$T/r.json" "$T/r.xml" xen,create error 1 2>&1); then bad no-xen "reports: $v"
elif [ ! -s "$T/art/good/junit.xml" ]; then bad no-xen "--artifacts art: no art/good/junit.xml"
else pass no-xen; fi

# several configs, -j 2: one summary line each, a total, one report for all
cp "$T/broken.cfg" "$T/broken2.cfg"
(cd "$T" && "$HVMCTL" run -j 2 -q broken.cfg broken2.cfg good.cfg --expect UP --json all.json --junit all.xml > out 2> err); rc=$?
if [ $rc != 2 ]; then bad jobs "exit $rc, not 2"
elif [ "$(grep -c '^ERROR ' "$T/out")" != 3 ]; then bad jobs "not 3 summary lines: $(cat "$T/out")"
elif ! grep -q '^hvmctl run: 0 passed, 0 failed, 3 errors (3 configs, -j 2, ' "$T/out"; then bad jobs "total: $(tail -1 "$T/out")"
elif ! v=$(validate "$T/all.json" "$T/all.xml" config,xen,create error 3 2>&1); then bad jobs "reports: $v"
elif [ ! -s "$T/hvmctl-run/broken2/hvmctl.log" ]; then bad jobs "a child's messages are not in its hvmctl.log"
else pass jobs; fi
# --json -: the report alone on standard output (it parses), the runs' summaries on stderr
(cd "$T" && "$HVMCTL" run -j 2 -q broken.cfg good.cfg --expect UP --json - --junit all.xml > out 2> err); rc=$?
if [ $rc != 2 ]; then bad json-stdout "exit $rc, not 2"
elif ! v=$(validate "$T/out" "$T/all.xml" config,xen,create error 2 2>&1); then bad json-stdout "stdout is not the report: $v: $(head -3 "$T/out")"
elif ! grep -q '^hvmctl run: 0 passed, 0 failed, 2 errors' "$T/err"; then bad json-stdout "no summary on stderr: $(tail -2 "$T/err")"
else pass json-stdout; fi
exit 0
