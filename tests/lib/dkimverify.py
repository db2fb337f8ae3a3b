#!/usr/bin/python3
"""dkimverify.py: check a message's DKIM signatures with an independent
verifier (dkimpy, Debian's python3-dkim; Ed25519 through python3-nacl),
for tests/sys/dkim.t.

    dkimverify.py RECORDS [COUNT] < message

RECORDS is what `qmailctl dkimkey` prints, one or more records in zone
file form:  NAME IN TXT ( "string" "string" ... )  (the strings are
joined, as a resolver does; a string over 255 bytes is an error). The
DNS lookups of the verifier are answered from them, nothing else.
Prints one line per signature, "ok d=D s=S a=A" or "fail d=D s=S: why";
exit 0 when every signature verifies and there are COUNT of them (any
number but zero when COUNT is not given), 1 otherwise, 2 on bad input.
"""
import re
import sys

import dkim


def records(path):
    text = open(path, encoding="ascii").read()
    out = {}
    for m in re.finditer(r'(\S+)\s+IN\s+TXT\s+\(([^)]*)\)', text):
        strings = re.findall(r'"([^"]*)"', m.group(2))
        for s in strings:
            if len(s) > 255:
                sys.exit("dkimverify: a TXT string over 255 bytes: %d" % len(s))
        out[m.group(1).lower().rstrip(".")] = "".join(strings).encode()
    if not out:
        sys.exit("dkimverify: no record in " + path)
    return out


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: dkimverify.py RECORDS [COUNT] < message")
    txt = records(sys.argv[1])

    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        return txt.get(name.lower().rstrip("."))

    msg = sys.stdin.buffer.read()
    d = dkim.DKIM(msg)
    sigs = [v for k, v in d.headers if k.lower() == b"dkim-signature"]
    good = 0
    for i, raw in enumerate(sigs):
        tags = dict(re.findall(rb'\s*([a-z]+)\s*=\s*([^;]*)', raw))
        desc = "d=%s s=%s a=%s" % (tags.get(b"d", b"?").decode(), tags.get(b"s", b"?").decode(),
                                   tags.get(b"a", b"?").decode())
        try:
            v = dkim.DKIM(msg).verify(idx=i, dnsfunc=dnsfunc)
            why = "" if v else "signature does not verify"
        except dkim.DKIMException as e:
            v, why = False, str(e)
        print(("ok " + desc) if v else ("fail %s: %s" % (desc, why)))
        good += 1 if v else 0
    want = int(sys.argv[2]) if len(sys.argv) == 3 else None
    print("signatures: %d, verified: %d" % (len(sigs), good))
    ok = good == len(sigs) and (len(sigs) == want if want is not None else good > 0)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
