#!/usr/bin/python3
# pop3drive.py: the client side of tests/sys/pop3d.t. Runs $POP3D
# ("qmail-pop3d ./Maildir/") in $HOMEDIR as checkpassword would, the
# client on a socketpair, and prints "PASS name" or "FAIL name: why" per
# check (comments as other lines). One block per argument: basics,
# update, badinput, garbage, limits. $HUB is the installed home (for the
# control files), $SAN=1 for the sanitizer build (wider bounds).
import os, poplib, shutil, socket, subprocess, sys, time

POP3D = os.environ["POP3D"]
HOME = os.environ["HOMEDIR"]
HUB = os.path.dirname(os.path.dirname(POP3D))
SAN = os.environ.get("SAN") == "1"
MD = os.path.join(HOME, "Maildir")
ERR = os.path.join(HOME, "stderr")


def check(cond, name, why=""):
    print(("PASS %s" % name) if cond else ("FAIL %s: %s" % (name, why)))
    sys.stdout.flush()


def fresh(files):
    """files: {"new/NAME": bytes, "cur/NAME": bytes}"""
    shutil.rmtree(MD, ignore_errors=True)
    for d in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(MD, d))
    t = 1700000000
    for name, data in files.items():
        p = os.path.join(MD, name)
        with open(p, "wb") as f:
            f.write(data)
        os.utime(p, (t, t))
        t += 10


def listing():
    return sorted(os.listdir(os.path.join(MD, "new"))), sorted(os.listdir(os.path.join(MD, "cur")))


def start(args=("./Maildir/",)):
    a, b = socket.socketpair()
    err = open(ERR, "wb")
    p = subprocess.Popen([POP3D] + list(args), stdin=b, stdout=b, stderr=err, cwd=HOME, env={})
    b.close()
    err.close()
    return p, a


def finish(p, limit=30):
    try:
        return p.wait(limit)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return "hung"


def raw(data, limit=30):
    """send data, then end of file; everything the server wrote, its exit"""
    p, s = start()
    s.settimeout(limit)
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server has dropped us: read what it said
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    return out, finish(p, limit)


def control(name, value):
    p = os.path.join(HUB, "control", name)
    if value is None:
        if os.path.exists(p):
            os.unlink(p)
    else:
        with open(p, "w") as f:
            f.write(value)


class POP(poplib.POP3):
    def __init__(self, sock):
        self._pair = sock
        poplib.POP3.__init__(self, "pop3d.t", timeout=30)

    def _create_socket(self, timeout):
        self._pair.settimeout(timeout)
        return self._pair


def session():
    p, s = start()
    return p, POP(s)


MSGS = {
    "cur/1700000000.M1P1.hub:2,S": b"From: a\nSubject: one\n\nline1\n.dotline\n..two\n.\nend\n",
    "new/1700000010.M2P2.hub": b"A: b\r\n\r\nbody in CRLF\r\n",
    "new/1700000020.M3P3.hub": b"A: b\n\nx\ry\n",
    "new/1700000030.M4P4.hub": b"A: b\n\nno last LF",
    "new/1700000040.M5P5.hub": b"",
}
# what a client holds for each (unstuffed, CRLF)
WIRE = [
    b"From: a\r\nSubject: one\r\n\r\nline1\r\n.dotline\r\n..two\r\n.\r\nend\r\n",
    b"A: b\r\n\r\nbody in CRLF\r\n",
    b"A: b\r\n\r\nx\ry\r\n",
    b"A: b\r\n\r\nno last LF\r\n",
    b"",
]


def basics():
    fresh(MSGS)
    p, c = session()
    check(c.getwelcome() == b"+OK ", "the first line is qmail's '+OK '", repr(c.getwelcome()))
    total = sum(len(w) for w in WIRE)
    check(c.stat() == (5, total), "STAT: count and octets as sent", repr(c.stat()))
    resp, lines, _ = c.list()
    sizes = [int(l.split()[1]) for l in lines]
    check(sizes == [len(w) for w in WIRE], "LIST: CRLF counted, stuffing not", repr(sizes))
    good = True
    for i, w in enumerate(WIRE):
        resp, lines, octets = c.retr(i + 1)
        got = b"".join(l + b"\r\n" for l in lines)
        if octets != sizes[i] or got != w or resp != b"+OK %d octets" % sizes[i]:
            good = False
            print("# message %d: %r %r %d" % (i + 1, resp, got, octets))
    check(good, "RETR: the bytes and octets LIST promised, for dots, CRLF, bare CR, no last LF, empty")
    resp, lines, _ = c.top(1, 1)
    check(lines == [b"From: a", b"Subject: one", b"", b"line1"], "TOP 1 1", repr(lines))
    resp, lines, _ = c.top(1, 0)
    check(lines == [b"From: a", b"Subject: one", b""], "TOP 1 0", repr(lines))
    resp, lines, _ = c.uidl()
    uids = [l.split()[1] for l in lines]
    check(uids == [n.split("/")[1].split(":")[0].encode() for n in MSGS], "UIDL: the unique part of each name", repr(uids))
    check(c.uidl(2) == b"+OK 2 1700000010.M2P2.hub", "UIDL n", repr(c.uidl(2)))
    caps = c.capa()
    check(sorted(caps) == ["PIPELINING", "RESP-CODES", "TOP", "UIDL", "USER"], "CAPA", repr(caps))
    check(c._shortcmd("LAST") == b"+OK 5", "LAST: the highest message read", "")
    check(c.noop() == b"+OK ", "NOOP")
    check(c.quit() == b"+OK ", "QUIT")
    check(finish(p) == 0, "exit 0 after QUIT")
    new, cur = listing()
    check(new == [] and "1700000010.M2P2.hub:2," in cur, "after QUIT new/ is in cur/ with :2,", repr((new, cur)))
    p, c = session()
    resp, lines, _ = c.uidl()
    check([l.split()[1] for l in lines] == uids, "UIDL the same in the next session, after the move")
    c.quit()
    finish(p)
    # the contract: -ERR and exit 0 before a session
    p, s = start(("./Nope/",))
    s.settimeout(30)
    out = s.makefile("rb").read()
    check(out == b"-ERR [SYS/PERM] this user has no $HOME/Maildir\r\n", "no Maildir: one -ERR line", repr(out))
    check(finish(p) == 0, "and exit 0 (popup writes nothing more)")
    control("timeoutpop3d", "junk\n")
    p, s = start()
    s.settimeout(30)
    out = s.makefile("rb").read()
    control("timeoutpop3d", None)
    check(out == b"-ERR [SYS/TEMP] unable to read controls\r\n", "junk control/timeoutpop3d: -ERR, no session", repr(out))
    check(finish(p) == 0 and "control/timeoutpop3d" in open(ERR).read(), "exit 0, the log names the file")


def update():
    fresh(MSGS)
    out, rc = raw(b"DELE 1\r\nDELE 2\r\n")
    new, cur = listing()
    check(rc == 0 and len(new) == 4 and len(cur) == 1, "DELE without QUIT (end of file): nothing deleted or moved", repr((rc, new, cur)))
    out, rc = raw(b"DELE 1\r\nRSET\r\nQUIT\r\n")
    new, cur = listing()
    check(len(new) + len(cur) == 5, "DELE, RSET, QUIT: nothing deleted", repr((new, cur)))
    fresh(MSGS)
    out, rc = raw(b"DELE 1\r\nDELE 3\r\nQUIT\r\n")
    new, cur = listing()
    check(out.endswith(b"+OK deleted\r\n+OK \r\n") and new == [] and len(cur) == 3
          and "1700000000.M1P1.hub:2,S" not in cur and "1700000020.M3P3.hub:2," not in cur,
          "DELE, QUIT: those two removed, the rest in cur/", repr((out, new, cur)))
    # dropped in the middle of a RETR
    fresh({"new/1.big": b"Subject: big\n\n" + b"x" * 70 + b"\n" * 1 + (b"y" * 99 + b"\n") * 100000, "new/2.small": b"a\n"})
    p, s = start()
    s.sendall(b"DELE 2\r\nRETR 1\r\n")
    s.recv(1000)
    s.close()
    rc = finish(p, 20)
    new, cur = listing()
    check(rc == 0 and len(new) == 2, "client gone mid-RETR: exit, nothing deleted", repr((rc, new, cur)))
    # per-read timeout
    control("timeoutpop3d", "1\n")
    p, s = start()
    t0 = time.time()
    s.sendall(b"DELE 1\r\n")
    s.settimeout(30)
    data = b""
    while True:
        b = s.recv(1000)
        if not b:
            break
        data += b
    dt = time.time() - t0
    control("timeoutpop3d", None)
    new, cur = listing()
    check(finish(p) == 0 and 0.5 < dt < 15 and len(new) == 2, "idle client: closed after timeoutpop3d, nothing deleted", "%.1fs %r" % (dt, (new, cur)))
    # session deadline against a client that keeps talking
    control("timeoutsession", "2\n")
    p, s = start()
    t0 = time.time()
    s.settimeout(30)
    s.sendall(b"DELE 1\r\n")
    closed = False
    while time.time() - t0 < 20:
        try:
            s.sendall(b"NOOP\r\n")
            s.recv(1000)
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
        if closed:
            break
        time.sleep(0.2)
        try:
            s.setblocking(False)
            if s.recv(1000) == b"":
                closed = True
                break
        except BlockingIOError:
            pass
        finally:
            s.settimeout(30)
    dt = time.time() - t0
    control("timeoutsession", None)
    new, cur = listing()
    check(finish(p) == 0 and closed and dt < 15 and len(new) == 2, "busy client: closed at timeoutsession, nothing deleted", "%.1fs closed=%s" % (dt, closed))


def replies(out):
    return [l for l in out.split(b"\r\n") if l]


def badinput():
    fresh(MSGS)
    cmds = [b"RETR 0", b"RETR -1", b"RETR 99999999999999999999", b"RETR x", b"RETR 1x", b"RETR",
            b"TOP 2 99999999999999999999", b"TOP 2", b"DELE 2", b"DELE 2", b"RETR 2", b"LIST 2", b"UIDL 2",
            b"TOP 2 0", b"LIST 1 2 3", b"", b"USER x", b"PASS y", b"STLS", b"XTND XMIT", b"STAT 1", b"stat",
            b"QUIT"]
    out, rc = raw(b"".join(c + b"\r\n" for c in cmds))
    r = [l.split(b" ")[0] for l in replies(out)]
    exp = [b"+OK"] + [b"-ERR"] * 8 + [b"+OK", b"-ERR", b"-ERR", b"-ERR", b"-ERR", b"-ERR", b"-ERR", b"-ERR",
                                      b"-ERR", b"-ERR", b"-ERR", b"-ERR", b"-ERR", b"+OK", b"+OK"]
    check(r == exp, "O4: bad numbers, DELE twice, RETR/LIST/UIDL/TOP after DELE, extra arguments, login commands: -ERR each (pipelined)", repr(replies(out)))
    new, cur = listing()
    check(len(new) + len(cur) == 4, "only the valid DELE took effect at QUIT")
    fresh(MSGS)
    out, rc = raw(b"TOP 1 999999999\r\nQUIT\r\n")
    check(replies(out)[1] == b"+OK top of message follows" and out.count(b"\r\n.\r\n") == 1, "TOP 1 999999999: the whole message")
    out, rc = raw(b"X" * 600 + b"\r\nNOOP\r\nQUIT\r\n")
    check(replies(out) == [b"+OK ", b"-ERR line too long", b"+OK ", b"+OK "], "O5: a 600-byte line: -ERR, the session goes on", repr(replies(out)))
    t0 = time.time()
    out, rc = raw(b"X" * (10 << 20) + b"\r\nNOOP\r\n")
    check(replies(out)[-2:] == [b"-ERR line too long", b"-ERR closing: line far too long"] and rc == 0 and time.time() - t0 < 30, "O5: a 10 MB line: -ERR and dropped", repr(replies(out)[-3:]))
    out, rc = raw(b"NO\0OP\r\nNOOP\r\nST\0AT\r\nNOOP\r\nQU\0IT\r\nNOOP\r\n")
    check(replies(out) == [b"+OK ", b"-ERR NUL in command", b"+OK ", b"-ERR NUL in command", b"+OK ", b"-ERR too many bad command lines"],
          "O5: NUL refused; the third bad line drops", repr(replies(out)))
    out, rc = raw(b"STAT\nQUIT\n")
    check(replies(out) == [b"+OK ", b"+OK 5 %d" % sum(len(w) for w in WIRE), b"+OK "], "LF alone ends a line", repr(replies(out)))
    p, c = session()
    c.list()
    os.unlink(os.path.join(MD, "cur", "1700000000.M1P1.hub:2,S"))
    try:
        c.retr(1)
        check(False, "O7: a message removed after LIST: -ERR")
    except poplib.error_proto as e:
        check(str(e) == "b'-ERR [SYS/TEMP] message vanished'", "O7: a message removed after LIST: -ERR", str(e))
    check(c.retr(2)[0] == b"+OK %d octets" % len(WIRE[1]), "the session goes on")
    check(c.quit() == b"+OK ", "QUIT after it")
    finish(p)


def garbage():
    files = {
        "cur/weird name with spaces:2,": b"A: 1\n\n",
        "cur/\xe9t\xe9:2,".encode("latin-1").decode("utf-8", "surrogateescape"): b"A: 2\n\n",
        "cur/" + "n" * 200 + ":2,S": b"A: 3\n\n",
        "cur/noinfo": b"A: 4\n\n",
        "new/tab\there": b"A: 5\n\n",
        "cur/.dotfile": b"hidden\n",
    }
    fresh(files)
    os.mkdir(os.path.join(MD, "cur", "adir"))
    os.symlink("/etc/passwd", os.path.join(MD, "cur", "link"))
    os.mkfifo(os.path.join(MD, "cur", "fifo"))
    p, c = session()
    n, size = c.stat()
    check(n == 5, "garbage names listed; dot file, directory, symlink, fifo left out", repr(n))
    resp, lines, _ = c.uidl()
    uids = [l.split(b" ", 1)[1] for l in lines]
    check(all(1 <= len(u) <= 70 and all(0x21 <= b <= 0x7e for b in u) for u in uids) and len(set(uids)) == 5,
          "every UIDL is 1-70 printable characters, all different", repr(uids))
    got = b"".join(b"".join(c.retr(i + 1)[1]) for i in range(n))
    check(b"root" not in got, "the symlink's target is never sent")
    c.quit()
    finish(p)
    err = open(ERR, "rb").read()
    check(b"left out cur/link: a symbolic link" in err and b"left out cur/adir: not a regular file" in err and b"dotfile" not in err,
          "warnings name the symlink and the directory", repr(err))


def limits():
    # 100,000 files in $SHMDIR, on /dev/shm when there is one (creating
    # and removing them on the test machine's disk takes minutes; the
    # figure is then the program's CPU, not the disk's)
    global HOME, MD
    n = 100000
    base = os.environ.get("SHMDIR") or HOME
    home = HOME
    HOME = os.path.join(base, "limits")
    MD = os.path.join(HOME, "Maildir")
    try:
        for d in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(MD, d))
        body = b"From: a\nSubject: s\n\n" + b"x" * 60 + b"\n"
        cur = os.path.join(MD, "cur")
        for i in range(n):
            with open(os.path.join(cur, "%d.M%dP1.hub:2," % (1700000000 + i, i)), "wb") as f:
                f.write(body)
        tf = os.path.join(home, "time")
        t0 = time.time()
        p = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", tf, POP3D, "./Maildir/"], cwd=HOME, env={},
                           input=b"STAT\r\nLIST\r\nUIDL\r\nQUIT\r\n", stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        dt = time.time() - t0
        secs, rss = open(tf).read().split()[-2:]
        lines = p.stdout.split(b"\r\n")
        print("100,000 messages in %s: STAT, LIST, UIDL, QUIT in %.2f s, max RSS %s KB" % (base, dt, rss))
        check(lines[1] == b"+OK %d %d" % (n, n * (len(body) + 4)), "100,000 messages: STAT", repr(lines[1]))
        check(p.stdout.count(b"\r\n") == 1 + 1 + (n + 2) * 2 + 1, "every message in LIST and UIDL")
        tl, rl = (240, 600000) if SAN else (60, 100000)
        check(dt < tl, "listed in under %d s (%.1f s)" % (tl, dt))
        check(int(rss) < rl, "in under %d KB (%s KB)" % (rl, rss))
    finally:
        shutil.rmtree(HOME, ignore_errors=True)
        HOME = home
        MD = os.path.join(HOME, "Maildir")


for block in sys.argv[1:]:
    try:
        globals()[block]()
    except Exception as e:  # a check that cannot run is a failure, never a silence
        check(False, "block %s ran to its end" % block, "%s: %s" % (type(e).__name__, e))
        sys.exit(1)
