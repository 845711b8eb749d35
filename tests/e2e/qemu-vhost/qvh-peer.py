#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The host side of qemu-virtio-net.sh's bulk traffic, run in the test's
network namespace:

  qvh-peer.py SINK_PORT SOURCE_PORT SOURCE_BYTES SECONDS

SINK_PORT: one TCP connection from the guest; every byte is counted and
hashed until the guest's EOF; the sink answers "BYTES SHA256" and closes.
SOURCE_PORT: one TCP connection from the guest; SOURCE_BYTES pseudo-random
bytes are sent to it, then the connection is closed.

One line per direction on stdout:

  QVH-SINK bytes=N sha256=H seconds=S mbit_s=R
  QVH-SOURCE bytes=N sha256=H seconds=S mbit_s=R

(seconds: first byte to last, host clock).  Exit 0 when both connections
were served, 1 (with the reason on stderr) when SECONDS pass first."""
import fcntl
import hashlib
import os
import selectors
import socket
import struct
import sys
import termios
import time


def rate(n, secs):
    return n * 8 / secs / 1e6 if secs > 0 else 0.0


def main():
    sink_port, source_port, source_bytes, limit = (int(a) for a in sys.argv[1:5])
    deadline = time.monotonic() + limit
    data = os.urandom(source_bytes)
    lsock = {}
    sel = selectors.DefaultSelector()
    for name, port in (("sink", sink_port), ("source", source_port)):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        s.listen(1)
        s.setblocking(False)
        lsock[name] = s
        sel.register(s, selectors.EVENT_READ, (name, "listen"))
    print("QVH-PEER listening sink=%d source=%d" % (sink_port, source_port), flush=True)
    done = set()
    st = {}
    while len(done) < 2:
        left = deadline - time.monotonic()
        if left <= 0:
            sys.exit("qvh-peer: timed out after %d s; served: %s; state: %s" %
                     (limit, sorted(done) or "nothing",
                      {k: (v["n"]) for k, v in st.items()}))
        for key, _ in sel.select(min(left, 1.0)):
            name, what = key.data
            if what == "listen":
                c, _ = key.fileobj.accept()
                c.setblocking(False)
                sel.unregister(key.fileobj)
                key.fileobj.close()
                st[name] = {"sock": c, "n": 0, "h": hashlib.sha256(), "t0": None, "t1": None}
                if name == "sink":
                    sel.register(c, selectors.EVENT_READ, (name, "data"))
                else:
                    c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
                    sel.register(c, selectors.EVENT_WRITE, (name, "data"))
                continue
            s = st[name]
            c = s["sock"]
            if name == "sink":
                try:
                    b = c.recv(1 << 16)
                except BlockingIOError:
                    continue
                now = time.monotonic()
                if b:
                    if s["t0"] is None:
                        s["t0"] = now
                    s["t1"] = now
                    s["n"] += len(b)
                    s["h"].update(b)
                    continue
                sel.unregister(c)
                c.setblocking(True)
                c.settimeout(5)
                c.sendall(("%d %s\n" % (s["n"], s["h"].hexdigest())).encode())
                c.close()
                secs = (s["t1"] - s["t0"]) if s["t0"] is not None else 0.0
                print("QVH-SINK bytes=%d sha256=%s seconds=%.3f mbit_s=%.1f" %
                      (s["n"], s["h"].hexdigest(), secs, rate(s["n"], secs)), flush=True)
                done.add(name)
            else:
                if s["t0"] is None:
                    s["t0"] = time.monotonic()
                try:
                    k = c.send(data[s["n"]:s["n"] + (1 << 18)])
                except BlockingIOError:
                    continue
                s["h"].update(data[s["n"]:s["n"] + k])
                s["n"] += k
                if s["n"] < len(data):
                    continue
                sel.unregister(c)
                # Delivered when the guest has acknowledged every byte (the
                # send queue, TIOCOUTQ, is empty), not when the last byte
                # went into our send buffer.
                c.shutdown(socket.SHUT_WR)
                while time.monotonic() < deadline:
                    q = struct.unpack("i", fcntl.ioctl(c, termios.TIOCOUTQ, b"\0" * 4))[0]
                    if q == 0:
                        break
                    time.sleep(0.001)
                s["t1"] = time.monotonic()
                c.close()
                secs = s["t1"] - s["t0"]
                print("QVH-SOURCE bytes=%d sha256=%s seconds=%.3f mbit_s=%.1f" %
                      (s["n"], s["h"].hexdigest(), secs, rate(s["n"], secs)), flush=True)
                done.add(name)


if __name__ == "__main__":
    main()
