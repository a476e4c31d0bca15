#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Who does the other side see? A one-purpose TCP pair for the host tests (bounded in time).
    peer.py serve ADDR PORT SECONDS    accept connections for SECONDS, answer each with the peer
                                       address it came from (touches PORT.ready when listening)
    peer.py ask HOST PORT              connect (5 s timeout) and print the server's answer
"""
import os
import socket
import sys
import time

if sys.argv[1] == "serve":
    addr, port, secs = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(4)
    open(os.environ.get("READY", "/dev/null"), "w").close()
    end = time.time() + secs
    while time.time() < end:
        s.settimeout(max(0.1, end - time.time()))
        try:
            c, peer = s.accept()
        except socket.timeout:
            break
        c.sendall(peer[0].encode() + b"\n")
        c.close()
else:
    c = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=5)
    print(c.recv(100).decode().strip())
