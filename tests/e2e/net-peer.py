#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The host side of the guest's network scenarios, run inside the test's
network namespace:

  net-peer.py echo  LOCAL_IP GUEST_IP PORT COUNT   send COUNT datagrams to
      GUEST_IP:PORT, one at a time, and check each comes back byte-exact
  net-peer.py sink  LOCAL_IP PORT BYTES SECONDS    count UDP bytes arriving
      at LOCAL_IP:PORT until BYTES, SECONDS, or 2 s of silence after the
      first; print them; success if at least 95% of BYTES came (UDP may
      drop under a burst; the loss is printed)
  net-peer.py mcast LOCAL_IP PORT JOIN COUNT SECONDS   the guest's
      multicast scenario: on the guest's "ready N" (UDP to LOCAL_IP:PORT)
      send COUNT datagrams each to JOIN, to a group whose Ethernet address
      hashes to JOIN's logical-address-filter bit, and to one that hashes
      elsewhere, then "end N COUNT JOIN COLLIDING OTHER"; done on "pass"
  net-peer.py rr-server LOCAL_IP PORT SECONDS LOG   the guest's rr
      scenario: echo every datagram to LOCAL_IP:PORT back to its sender
      until SECONDS or a datagram of exactly b"rr-done" (not echoed); the
      seq is the payload's first 8 bytes, little-endian (as
      tests/guest/scenarios/rr.c writes it).  LOG: one line per datagram,
      "TIME SEQ dup|new" (TIME from time.time(); SEQ "-" if shorter than
      8 bytes), dup if that seq came before; written on SIGTERM too

Prints one result line; exit 0 on success, 1 with the reason otherwise.
Every wait is bounded."""
import signal
import socket
import subprocess
import sys
import time


def datagram(i):
    size = 1 + (i * 131) % 1400
    return bytes((i * 7 + k) & 0xff for k in range(size))


def echo(local, guest, port, count):
    # The kernel's ping resolves the guest first (the guest answers ARP and
    # ICMP echo), so the datagrams need no retry but in rare cases.
    for _ in range(20):
        try:
            if subprocess.run(["ping", "-c", "1", "-W", "1", guest],
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode == 0:
                break
        except FileNotFoundError:  # no ping(8): the retries below cope
            break
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((local, 0))
    s.settimeout(0.5)
    ok = 0
    sent = set()
    for i in range(count):
        data = datagram(i)
        for attempt in range(20):
            s.sendto(data, (guest, port))
            matched = False
            while True:
                try:
                    got, src = s.recvfrom(2048)
                except socket.timeout:
                    break
                if src != (guest, port):
                    print(f"echo: datagram {i} came back from {src}")
                    return 1
                if got == data:
                    matched = True
                    break
                # a late echo of an earlier datagram we had sent again
                if got in sent:
                    continue
                print(f"echo: datagram {i} ({len(data)} bytes) came back different ({len(got)} bytes)")
                return 1
            if matched:
                ok += 1
                sent.add(data)
                break
        else:
            print(f"echo: no echo for datagram {i} after 20 tries")
            return 1
    print(f"echo: {ok} datagrams echoed byte-exact")
    return 0


def sink(local, port, want, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:  # root: past net.core.rmem_max, so a burst fits
        s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((local, port))
    s.settimeout(0.2)
    got = dgrams = 0
    end = time.monotonic() + seconds
    first = last = None
    while got < want and time.monotonic() < end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            if last and time.monotonic() - last > 2:
                break
            continue
        now = time.monotonic()
        first = first or now
        last = now
        got += len(d)
        dgrams += 1
    secs = (last - first) if first and last and last > first else 0
    rate = f", {got * 8 / secs / 1e6:.1f} Mbit/s" if secs else ""
    lost = 100.0 * (want - got) / want if want else 0
    print(f"sink: {dgrams} datagrams, {got} of {want} bytes ({lost:.1f}% lost){rate}")
    return 0 if got * 100 >= want * 95 else 1


def ladrf_bit(mac):
    """The chip's hash: the top 6 bits of the little-endian CRC-32 of the
    destination address, without the final inversion."""
    crc = 0xffffffff
    for b in mac:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xedb88320 if crc & 1 else crc >> 1
    return crc >> 26


def group_mac(group):
    g = socket.inet_aton(group)
    return bytes([0x01, 0x00, 0x5e, g[1] & 0x7f, g[2], g[3]])


def mcast(local, port, join, count, seconds):
    bit = ladrf_bit(group_mac(join))
    candidates = [f"239.2.{i >> 8}.{i & 0xff}" for i in range(1, 4096)]
    colliding = next(g for g in candidates if ladrf_bit(group_mac(g)) == bit)
    other = next(g for g in candidates if ladrf_bit(group_mac(g)) != bit)
    ctl = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ctl.bind((local, port))
    ctl.settimeout(0.5)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                  socket.inet_aton(local))
    tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    print(f"mcast: join {join} (filter bit {bit}), colliding {colliding}, "
          f"other {other} (bit {ladrf_bit(group_mac(other))})")
    end = time.monotonic() + seconds
    done = set()
    while time.monotonic() < end:
        try:
            msg, src = ctl.recvfrom(2048)
        except socket.timeout:
            continue
        words = msg.decode(errors="replace").split()
        if words[:1] == ["pass"]:
            print(f"mcast: the guest checked {' '.join(words[1:])}")
            return 0
        if words[:1] == ["fail"]:
            print(f"mcast: the guest failed: {' '.join(words[1:])}")
            return 1
        if len(words) != 2 or words[0] != "ready":
            print(f"mcast: unexpected {msg!r} from {src}")
            return 1
        # A "ready" said again (ours was late, or "end" was lost): the
        # burst only once per phase.
        if words[1] not in done:
            done.add(words[1])
            burst(tx, port, (join, colliding, other), count)
        ctl.sendto(f"end {words[1]} {count} {join} {colliding} {other}".encode(), src)
    print(f"mcast: no verdict from the guest in {seconds} s")
    return 1


def burst(tx, port, groups, count):
    for g in groups:
        for i in range(count):
            tx.sendto(f"mc {g} {i}".encode().ljust(64, b" "), (g, port))
            time.sleep(0.001)  # paced: the guest's ring holds 32
    time.sleep(0.2)


def rr_server(local, port, seconds, log):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:  # a restarted back-end may hand over a burst at once
        s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
    except OSError:
        pass
    s.bind((local, port))
    s.settimeout(0.2)
    end = time.monotonic() + seconds
    seen = set()
    rows = []  # (time, seq or None, dup): written at the end, off the path
    dups = 0
    stop = []
    # A harness that gives up on the guest still gets the log.
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    while time.monotonic() < end and not stop:
        try:
            d, src = s.recvfrom(65536)
        except (socket.timeout, InterruptedError):
            continue
        now = time.time()
        if d == b"rr-done":
            break
        # Echo first: the guest is waiting, the bookkeeping is not.
        s.sendto(d, src)
        seq = int.from_bytes(d[:8], "little") if len(d) >= 8 else None
        dup = seq is not None and seq in seen
        if seq is not None:
            seen.add(seq)
        dups += dup
        rows.append((now, seq, dup))
    with open(log, "w") as f:
        for t, seq, dup in rows:
            f.write(f"{t:.6f} {'-' if seq is None else seq} "
                    f"{'dup' if dup else 'new'}\n")
    first = f"{rows[0][0]:.6f}" if rows else "-"
    last = f"{rows[-1][0]:.6f}" if rows else "-"
    print(f"rr-server: {len(rows)} datagrams, {dups} duplicate seqs, "
          f"first {first} last {last}")
    return 0


def main(argv):
    if len(argv) == 6 and argv[1] == "rr-server":
        return rr_server(argv[2], int(argv[3]), float(argv[4]), argv[5])
    if len(argv) == 7 and argv[1] == "mcast":
        return mcast(argv[2], int(argv[3]), argv[4], int(argv[5]),
                     float(argv[6]))
    if len(argv) == 6 and argv[1] == "echo":
        return echo(argv[2], argv[3], int(argv[4]), int(argv[5]))
    if len(argv) == 6 and argv[1] == "sink":
        return sink(argv[2], int(argv[3]), int(argv[4]), float(argv[5]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
