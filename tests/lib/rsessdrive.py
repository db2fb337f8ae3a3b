#!/usr/bin/env python3
"""rsessdrive.py: drive `qmail-remote -S HOST` for tests (hub/remote/rsession.h).

  rsessdrive.py QMAIL-REMOTE HOST < SCRIPT

runs QMAIL-REMOTE -S HOST in the current directory (the home) and follows
SCRIPT, one command a line:

  job S/N SENDER RCPT...   write a job (SENDER '-' is the empty sender);
                           job i gets tag byte i % 256 (0 included)
  jobs N S/N SENDER RCPT.. N such jobs
  raw HEX                  write these bytes as they are
  sleep SEC                pause
  wait                     wait until every job so far is answered
  eof                      close qmail-remote's fd 0
At the end of the script fd 0 stays open until qmail-remote exits (its
idle exit) unless `eof` was given. Reports are read all along and checked:
each job's records carry its tag, one per recipient then one K/Z/D, jobs
in order. Output, one line per job, then a summary:

  J <index> <letters> <elapsed-ms> <last record's text>
  exit <code> jobs <answered>/<written> errors <n> seconds <s>
Standard library only; every wait is bounded (60 s).
"""
import os
import subprocess
import sys
import threading
import time


def main():
    qr, host = sys.argv[1], sys.argv[2]
    p = subprocess.Popen([qr, "-S", host], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    t0 = time.time()
    jobs = []            # (tag, nrcpt, time written)
    got = []             # (letters, text, ms)
    errors = []
    cond = threading.Condition()

    def reader():
        buf = b""
        out = p.stdout
        while True:
            data = os.read(out.fileno(), 65536)
            if not data:
                break
            buf += data
            while True:
                with cond:
                    if len(got) >= len(jobs):
                        break
                    tag, nrcpt, tw = jobs[len(got)]
                recs = []
                pos = 0
                for _ in range(nrcpt + 1):
                    # the tag byte may itself be NUL: the text ends at the
                    # first NUL after it
                    z = buf.find(b"\0", pos + 1) if pos < len(buf) else -1
                    if z < 0:
                        break
                    recs.append(buf[pos:z])
                    pos = z + 1
                if len(recs) < nrcpt + 1:
                    break
                buf = buf[pos:]
                letters = ""
                for r in recs:
                    if len(r) < 2 or r[0] != tag:
                        errors.append("job %d: bad record %r" % (len(got), r[:40]))
                    letters += chr(r[1]) if len(r) > 1 else "?"
                with cond:
                    got.append((letters, recs[-1][2:].decode("latin-1"),
                                int((time.time() - tw) * 1000)))
                    cond.notify_all()
        if buf:
            errors.append("%d stray bytes" % len(buf))
        with cond:
            cond.notify_all()

    th = threading.Thread(target=reader, daemon=True)
    th.start()

    def write(b):
        try:
            p.stdin.write(b)
            p.stdin.flush()
        except BrokenPipeError:
            errors.append("broken pipe")

    def job(sn, sender, rcpts):
        tag = len(jobs) % 256
        with cond:
            jobs.append((tag, len(rcpts), time.time()))
        s = "" if sender == "-" else sender
        write(bytes([tag]) + sn.encode() + b"\0" + s.encode() + b"\0" +
              b"".join(r.encode() + b"\0" for r in rcpts) + b"\0")

    closed = False
    for line in sys.stdin:
        w = line.split()
        if not w:
            continue
        if w[0] == "job":
            job(w[1], w[2], w[3:])
        elif w[0] == "jobs":
            for _ in range(int(w[1])):
                job(w[2], w[3], w[4:])
        elif w[0] == "raw":
            write(bytes.fromhex(w[1]))
        elif w[0] == "sleep":
            time.sleep(float(w[1]))
        elif w[0] == "wait":
            end = time.time() + 60
            with cond:
                while len(got) < len(jobs) and th.is_alive() and time.time() < end:
                    cond.wait(1)
        elif w[0] == "eof":
            p.stdin.close()
            closed = True
    try:
        rc = p.wait(60)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
        errors.append("timeout")
    th.join(10)
    if not closed:
        try:
            p.stdin.close()
        except BrokenPipeError:
            pass
    for i, (letters, text, ms) in enumerate(got):
        print("J %d %s %d %s" % (i, letters, ms, text))
    for e in errors:
        print("E %s" % e)
    print("exit %d jobs %d/%d errors %d seconds %.2f" %
          (rc, len(got), len(jobs), len(errors), time.time() - t0))


if __name__ == "__main__":
    main()
