#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""pcap-compare.py HOST.pcap BACKEND.pcap MAC PORT MIN

The frames of UDP port PORT to or from station MAC, in the capture taken
on the host's interface (dumpcap) and in dev-net-backend's --pcap, must be
the same frames byte for byte, in the same order, each way, and at least
MIN of them each way.  Prints one line; exit 0 when they agree, 1 if not.
Reads libpcap files (either byte order, Ethernet link type) itself."""
import struct
import sys


def frames(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError(f"{path}: too short for a pcap header")
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError(f"{path}: not a libpcap file (pcapng? use dumpcap -P)")
    linktype = struct.unpack(e + "I", data[20:24])[0]
    if linktype != 1:
        raise ValueError(f"{path}: link type {linktype}, not Ethernet")
    off, out = 24, []
    while off + 16 <= len(data):
        incl, orig = struct.unpack(e + "II", data[off + 8:off + 16])
        if incl != orig:
            raise ValueError(f"{path}: a truncated frame (snaplen)")
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return out


def udp_port(frame):
    if len(frame) < 42 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
        return None
    ihl = (frame[14] & 15) * 4
    return struct.unpack(">HH", frame[14 + ihl:18 + ihl])


def pick(fr, mac, port):
    out_, in_ = [], []
    for f in fr:
        p = udp_port(f)
        if not p or port not in p:
            continue
        if f[6:12] == mac:
            out_.append(f)
        elif f[0:6] == mac:
            in_.append(f)
    return out_, in_


def main(argv):
    if len(argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    mac = bytes(int(b, 16) for b in argv[3].split(":"))
    port, least = int(argv[4]), int(argv[5])
    try:
        host = pick(frames(argv[1]), mac, port)
        back = pick(frames(argv[2]), mac, port)
    except (OSError, ValueError) as e:
        print(f"pcap-compare: {e}")
        return 1
    for name, h, b in (("from the guest", host[0], back[0]),
                       ("to the guest", host[1], back[1])):
        if len(h) < least or len(b) < least:
            print(f"pcap-compare: {name}: {len(h)} frames on the host, "
                  f"{len(b)} at the back-end, want at least {least}")
            return 1
        if h != b:
            i = next((k for k in range(min(len(h), len(b))) if h[k] != b[k]),
                     min(len(h), len(b)))
            print(f"pcap-compare: {name}: {len(h)} frames on the host, "
                  f"{len(b)} at the back-end, first difference at frame {i}")
            return 1
    print(f"pcap-compare: {len(host[0])} frames from the guest and "
          f"{len(host[1])} to it, byte-exact on the host and at the back-end")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
