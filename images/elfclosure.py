#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""elfclosure.py ROOT PATH...: print PATH... and every shared library they need (DT_NEEDED,
recursively), resolved inside ROOT the way ld.so would in the standard Debian directories.
A PATH given as an absolute path outside ROOT (a binary the project built) is read for what it
needs but not printed itself.
Symlinks are printed along with what they point at, so a cpio of the list is self-contained.
A library that cannot be found is an error: a dom0 that fails at exec is worse than a build
that stops here."""
import os, subprocess, sys

LIBDIRS = ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", "lib", "usr/lib",
           "usr/lib/xen-4.17/lib/x86_64-linux-gnu"]

def needed(path):
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True).stdout
    return [l.split("[", 1)[1].split("]", 1)[0] for l in out.splitlines() if "(NEEDED)" in l]

def is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False

def add_with_links(root, rel, out):
    """Add rel and, if it is a symlink, the chain of what it points at (inside root)."""
    while rel not in out:
        out.add(rel)
        full = os.path.join(root, rel)
        if not os.path.islink(full):
            return rel
        target = os.readlink(full)
        if target.startswith("/"):
            rel = target.lstrip("/")
        else:
            rel = os.path.normpath(os.path.join(os.path.dirname(rel), target))
    return rel

def main():
    root, paths = sys.argv[1], sys.argv[2:]
    out, todo, done = set(), [], set()
    external = []
    for p in paths:
        if os.path.isabs(p) and not p.startswith(os.path.abspath(root) + "/"):
            external.append(p)
            continue
        p = p.lstrip("/")
        if not os.path.lexists(os.path.join(root, p)):
            sys.exit(f"elfclosure: {p} is not in {root}")
        todo.append(add_with_links(root, p, out))
    add_with_links(root, "lib64/ld-linux-x86-64.so.2", out)
    while todo or external:
        if external:
            full = rel = external.pop()
        else:
            rel = todo.pop()
            if rel in done:
                continue
            done.add(rel)
            full = os.path.join(root, rel)
        if not is_elf(full):
            continue
        for lib in needed(full):
            for d in LIBDIRS:
                cand = os.path.join(d, lib)
                if os.path.lexists(os.path.join(root, cand)):
                    todo.append(add_with_links(root, cand, out))
                    break
            else:
                sys.exit(f"elfclosure: {rel} needs {lib}, not found in {root}")
    for rel in sorted(out):
        print(rel)

main()
