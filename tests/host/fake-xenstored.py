#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""A stand-in xenstored for host tests, where there is no Xen: it speaks the xenstore wire
protocol (xen/io/xs_wire.h) on a unix socket, so the real libxenstore in hvmctl talks to it
(XENSTORED_PATH=SOCKET). It keeps the store in memory, resolves relative paths against
/local/domain/0 as xenstored does for dom0, and after every change writes the whole store as
"path=value" lines to DUMP so a test can read what the client wrote.

    fake-xenstored.py SOCKET DUMP [PRELOAD]     (PRELOAD: "path=value" lines)
It exits by itself after 300 s, or when SOCKET is removed.
"""
import os
import select
import socket
import struct
import sys
import time

XS_DIRECTORY, XS_READ, XS_GET_PERMS, XS_WATCH, XS_UNWATCH = 1, 2, 3, 4, 5
XS_TRANSACTION_START, XS_TRANSACTION_END, XS_GET_DOMAIN_PATH = 6, 7, 10
XS_WRITE, XS_MKDIR, XS_RM, XS_SET_PERMS, XS_ERROR = 11, 12, 13, 14, 16
HDR = struct.Struct("<IIII")
HOME = "/local/domain/0"


def absolute(p):
    p = p.rstrip("\0")
    return p if p.startswith("/") else HOME + "/" + p


def main():
    sock_path, dump = sys.argv[1], sys.argv[2]
    store = {}
    if len(sys.argv) > 3:
        with open(sys.argv[3]) as f:
            for line in f:
                line = line.rstrip("\n")
                if "=" in line:
                    k, v = line.split("=", 1)
                    store[absolute(k)] = v.encode()

    def save():
        tmp = dump + ".tmp"
        with open(tmp, "w") as f:
            for k in sorted(store):
                f.write("%s=%s\n" % (k, store[k].decode(errors="replace")))
        os.rename(tmp, dump)

    def mkparents(p):
        parts = p.split("/")
        for i in range(2, len(parts)):
            store.setdefault("/".join(parts[:i]), b"")

    save()
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    srv.listen(8)
    clients = {}
    deadline = time.time() + 300
    while time.time() < deadline and os.path.exists(sock_path):
        r, _, _ = select.select([srv] + list(clients), [], [], 0.5)
        for s in r:
            if s is srv:
                c, _ = srv.accept()
                clients[c] = b""
                continue
            data = s.recv(65536)
            if not data:
                del clients[s]
                s.close()
                continue
            clients[s] += data
            buf = clients[s]
            while len(buf) >= HDR.size:
                typ, rid, tx, ln = HDR.unpack_from(buf)
                if len(buf) < HDR.size + ln:
                    break
                body = buf[HDR.size:HDR.size + ln]
                buf = buf[HDR.size + ln:]
                rtype, reply = typ, b"OK\0"
                if typ == XS_READ:
                    p = absolute(body.decode())
                    if p in store:
                        reply = store[p]
                    else:
                        rtype, reply = XS_ERROR, b"ENOENT\0"
                elif typ == XS_WRITE:
                    p, _, v = body.partition(b"\0")
                    p = absolute(p.decode())
                    mkparents(p)
                    store[p] = v
                    save()
                elif typ == XS_MKDIR:
                    p = absolute(body.decode())
                    mkparents(p)
                    store.setdefault(p, b"")
                    save()
                elif typ == XS_RM:
                    p = absolute(body.decode())
                    for k in [k for k in store if k == p or k.startswith(p + "/")]:
                        del store[k]
                    save()
                elif typ == XS_DIRECTORY:
                    p = absolute(body.decode()).rstrip("/")
                    kids = sorted({k[len(p) + 1:].split("/")[0] for k in store
                                   if k.startswith(p + "/")})
                    reply = b"".join(k.encode() + b"\0" for k in kids)
                elif typ == XS_GET_DOMAIN_PATH:
                    reply = ("/local/domain/%s" % body.decode().rstrip("\0")).encode() + b"\0"
                elif typ == XS_TRANSACTION_START:
                    reply = b"1\0"
                elif typ == XS_GET_PERMS:
                    reply = b"n0\0"
                elif typ in (XS_TRANSACTION_END, XS_WATCH, XS_UNWATCH, XS_SET_PERMS):
                    pass
                else:
                    rtype, reply = XS_ERROR, b"ENOSYS\0"
                s.sendall(HDR.pack(rtype, rid, tx, len(reply)) + reply)
            clients[s] = buf
    srv.close()


if __name__ == "__main__":
    main()
