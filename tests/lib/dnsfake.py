#!/usr/bin/env python3
"""dnsfake.py: a scripted DNS server for the DANE tests (tests/sys/dane.t).

Usage: dnsfake.py ZONEFILE [--bind 127.0.0.1] [--port 0]

Binds UDP and TCP on the same port of --bind (0: one the kernel picks for
UDP, then TCP on it; another try if TCP's is taken), prints the port on
stdout (one line, flushed) and answers until killed. The zone file is read
again for every query, so a test changes the answers by rewriting it. One
record a line, '#' lines and blank lines ignored:

    NAME TYPE FLAGS [DATA...]

  TYPE   A, AAAA, MX ("PREF HOST"), TLSA ("USAGE SELECTOR MTYPE HEX")
  FLAGS  comma-separated: "ad" (the answer has the AD bit, as a validating
         resolver sets for DNSSEC-secure data) or "noad", plus optionally
         "servfail" (answer SERVFAIL), "nxdomain" (NXDOMAIN), "nodata"
         (no records of the type: NOERROR, empty answer; no DATA)

A query's answer: the lines for its name and type. SERVFAIL if one says
so; else NXDOMAIN or NODATA if one says so; else the records. The AD bit
is set when every line used says "ad". A name with lines for other types
only: NODATA (AD if those lines say "ad"); an unknown name: NXDOMAIN
without AD. Nothing here signs or validates: the server plays the part of
a validating resolver that tells the client what it found. Every query is
logged on stderr as "q NAME TYPE -> RCODE ad|noad udp|tcp". An answer
over 512 bytes is sent truncated (TC) over UDP, whole over TCP.
"""
import socket
import struct
import sys
import threading

TYPES = {"A": 1, "MX": 15, "AAAA": 28, "TLSA": 52}
NAMES = {v: k for k, v in TYPES.items()}
MAXMSG = 65535


def wire_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\0"


def rdata(rtype, data):
    if rtype == "A":
        return socket.inet_pton(socket.AF_INET, data[0])
    if rtype == "AAAA":
        return socket.inet_pton(socket.AF_INET6, data[0])
    if rtype == "MX":
        return struct.pack("!H", int(data[0])) + wire_name(data[1])
    if rtype == "TLSA":
        return bytes([int(data[0]), int(data[1]), int(data[2])]) + bytes.fromhex(data[3])
    raise ValueError(rtype)


def load(path):
    recs = []
    with open(path) as f:
        for line in f:
            w = line.split()
            if not w or w[0].startswith("#"):
                continue
            recs.append((w[0].rstrip(".").lower(), w[1].upper(), set(w[2].split(",")), w[3:]))
    return recs


def parse_query(msg):
    """(id, flags, qname, qtype, question bytes) or None."""
    if len(msg) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", msg[:6])
    if qd != 1:
        return None
    pos, labels = 12, []
    while pos < len(msg) and msg[pos] != 0:
        n = msg[pos]
        if n > 63 or pos + 1 + n > len(msg):
            return None
        labels.append(msg[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    if pos + 5 > len(msg):
        return None
    qtype = struct.unpack("!H", msg[pos + 1:pos + 3])[0]
    return qid, flags, ".".join(labels).lower(), qtype, msg[12:pos + 5]


def answer(zonefile, msg, via="udp"):
    q = parse_query(msg)
    if q is None:
        return None
    qid, qflags, qname, qtype, question = q
    recs = load(zonefile)
    tname = NAMES.get(qtype, str(qtype))
    same = [r for r in recs if r[0] == qname and r[1] == tname]
    named = [r for r in recs if r[0] == qname]
    rcode, ad, rrs = 0, False, []
    if same:
        ad = all("ad" in r[2] for r in same)
        if any("servfail" in r[2] for r in same):
            rcode, ad = 2, False
        elif any("nxdomain" in r[2] for r in same):
            rcode = 3
        else:
            rrs = [rdata(r[1], r[3]) for r in same if "nodata" not in r[2]]
    elif named:
        ad = all("ad" in r[2] for r in named)
    else:
        rcode = 3
    flags = 0x8000 | (qflags & 0x0100) | 0x0080 | (0x0020 if ad else 0) | rcode
    out = struct.pack("!HHHHHH", qid, flags, 1, len(rrs), 0, 0) + question
    for rd in rrs:
        out += b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, 300, len(rd)) + rd
    sys.stderr.write("q %s %s -> %d %s %s\n" % (qname, tname, rcode, "ad" if ad else "noad", via))
    sys.stderr.flush()
    return out


def serve_udp(sock, zonefile):
    while True:
        msg, peer = sock.recvfrom(MAXMSG)
        try:
            out = answer(zonefile, msg)
        except Exception as e:  # a broken zone line: say so, answer SERVFAIL
            sys.stderr.write("error %s\n" % e)
            out = msg[:2] + b"\x81\x82" + msg[4:6] + b"\0" * 6 + (parse_query(msg) or [b""] * 5)[4]
        if out is None:
            continue
        if len(out) > 512:   # too big for UDP: truncated, the client asks over TCP
            out = out[:2] + bytes([out[2] | 0x02, out[3]]) + out[4:6] + b"\0" * 6 + parse_query(msg)[4]
        sock.sendto(out, peer)


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def serve_tcp_conn(conn, zonefile):
    conn.settimeout(30)
    try:
        while True:
            head = recv_exact(conn, 2)
            if head is None:
                return
            msg = recv_exact(conn, struct.unpack("!H", head)[0])
            if msg is None:
                return
            out = answer(zonefile, msg, "tcp")
            if out is None:
                return
            conn.sendall(struct.pack("!H", len(out)) + out)
    except OSError:
        pass
    finally:
        conn.close()


def serve_tcp(sock, zonefile):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=serve_tcp_conn, args=(conn, zonefile), daemon=True).start()


def bind_both(host, port):
    for _ in range(20):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((host, port))
        p = u.getsockname()[1]
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            t.bind((host, p))
        except OSError:
            u.close()
            t.close()
            if port:
                raise
            continue
        t.listen(16)
        return u, t, p
    raise OSError("no port free for both UDP and TCP")


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit("usage: dnsfake.py ZONEFILE [--bind IP] [--port N]")
    zonefile, host, port = args[0], "127.0.0.1", 0
    i = 1
    while i < len(args):
        if args[i] == "--bind":
            host = args[i + 1]
        elif args[i] == "--port":
            port = int(args[i + 1])
        i += 2
    u, t, p = bind_both(host, port)
    threading.Thread(target=serve_tcp, args=(t, zonefile), daemon=True).start()
    print(p, flush=True)
    serve_udp(u, zonefile)


if __name__ == "__main__":
    main()
