# fakelspawn.py: a stand-in qmail-lspawn for the qmail-send tests (the
# spawn protocol, hub/send/qspawn.h: a job is a slot byte, then id,
# sender, recipient and an empty item, each NUL-terminated; the answer is
# the slot byte, a letter and a text, NUL-terminated). The recipient's
# local part decides: bad* gets D, later* Z, anything else K. Each
# recipient is appended to $JOBLOG (one line) when that is set.
# tests/lib/common.sh: fake_lspawn HOME installs it as HOME/bin/qmail-lspawn.
import os
import sys

def answer(rcpt):
    if rcpt.startswith(b"bad"):
        return b"Dno mailbox here (#5.1.1)"
    if rcpt.startswith(b"later"):
        return b"Ztry again later (#4.3.0)"
    return b"Kdelivered"

buf = b""
log = os.environ.get("JOBLOG")
while True:
    d = os.read(0, 65536)
    if not d:
        break
    buf += d
    while True:
        parts = buf[1:].split(b"\0", 4)
        if len(parts) < 5:
            break
        slot, rcpt, buf = buf[0:1], parts[2], parts[4]
        if log:
            with open(log, "ab") as f:
                f.write(rcpt + b"\n")
        sys.stdout.buffer.write(slot + answer(rcpt) + b"\0")
        sys.stdout.buffer.flush()
