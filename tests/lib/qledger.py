#!/usr/bin/env python3
"""qledger.py: compare a hub queue with a ledger of the messages handed to
it (tests/fault/*.t: what was acknowledged must be queued, byte for byte).

    qledger.py [--clean] QUEUE LEDGER

LEDGER has one line per message sent, oldest first:

    acked|unacked HOPS ENVFILE BODYFILE

ENVFILE holds the envelope as sent (F<sender>\\0 T<rcpt>\\0 ... \\0), BODYFILE
the message as it must be stored after the Received fields the hub puts on
top: HOPS of them (1: qmail-queue's own line; 2: a receiver's field under
it). Only todo/ is read: no qmail-send runs in these fixtures, so nothing
moves on to info/.

Every todo/S/N entry must be a whole message (hub/queue/QUEUE.md, S4): S = N % 23,
mess/S/N with inode N, intd/S/N (when there) the same inode as todo/S/N,
the envelope u<uid>\\0 p<pid>\\0 i<id>\\0 [m<mid>\\0] [l<len>\\0 c<crc32c>\\0]
(qmail-queued's items: then mess/ must have exactly that length and
CRC-32C, qmail-send's check) followed by exactly one
ledger entry's envelope, the message qmail-queue's Received line (with the
same pid and id), HOPS-1 more Received fields, then exactly that entry's
body. A todo entry that is anything less is what qmail-send would deliver
half-written: BAD. An acked entry must be matched by exactly one todo
entry; an unacked one by at most one (a crash after the commit may queue a
message its client never heard about: a duplicate later, never a loss).

Output, first line: "last=in|out in=K garbage=G", where last is the newest
ledger entry, K how many entries are in the queue and G how many files in
pid/, mess/ and intd/ belong to no todo entry (what a failed or killed run
left for the stale-file cleanup); then one "BAD: ..." line per problem.
--clean then removes that garbage, as qmail-clean's cleanup would, so the
next run starts from a queue holding only committed messages.
Exit 0 with no BAD line, 1 otherwise.
"""
import os
import re
import sys

QQLINE = re.compile(rb'Received: \(qmail (\d+) invoked by uid \d+ id (\d+\.\d{9}\.\d+)\); '
                    rb'[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d \+0000\n')


def load(ledger):
    """[(acked, hops, envelope bytes, body bytes)] from a ledger file."""
    out = []
    with open(ledger) as f:
        for line in f:
            state, hops, envf, bodyf = line.split()
            with open(envf, 'rb') as e, open(bodyf, 'rb') as b:
                out.append((state == 'acked', int(hops), e.read(), b.read()))
    return out


def split_envelope(data):
    """(pid, id, rest) of an envelope file, or None when its head is wrong."""
    items = data.split(b'\0')
    pid = qid = None
    lc = {}
    i = 0
    while i < len(items) and items[i][:1] in (b'u', b'p', b'i', b'm', b'l', b'c'):
        k, v = items[i][:1], items[i][1:]
        if k in (b'l', b'c'):
            lc[k] = v
        if k == b'u' and v != str(os.getuid()).encode():
            return None
        if k == b'p':
            pid = v
        if k == b'i':
            qid = v
        i += 1
    if pid is None or qid is None or len(lc) == 1:
        return None
    return pid, qid, b'\0'.join(items[i:]), lc


def _crctab():
    t = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
        t.append(c)
    return t


CRCTAB = _crctab()


def crc32c(data):
    """CRC-32C (Castagnoli) of data, as hub/send/todo.c checks it."""
    c = 0xffffffff
    for x in data:
        c = CRCTAB[(c ^ x) & 0xff] ^ (c >> 8)
    return c ^ 0xffffffff


def strip_received(mess, hops, pid, qid):
    """The message under its HOPS Received fields, or None if they are wrong."""
    m = QQLINE.match(mess)
    if not m or m.group(1) != pid or m.group(2) != qid:
        return None
    rest = mess[m.end():]
    for _ in range(hops - 1):
        if not rest.startswith(b'Received: '):
            return None
        end = rest.find(b'\n') + 1
        while end and rest[end:end + 1] in (b' ', b'\t'):
            end = rest.find(b'\n', end) + 1
        if not end:
            return None
        rest = rest[end:]
    return rest


def files(q, top):
    """{S/N: path} of the files in q/top/S/."""
    out = {}
    for s in os.listdir(f'{q}/{top}'):
        d = f'{q}/{top}/{s}'
        if os.path.isdir(d):
            for n in os.listdir(d):
                out[f'{s}/{n}'] = f'{d}/{n}'
        else:
            out[s] = d
    return out


def check(q, entries, clean=False):
    """(states, garbage, bad): states[i] is True when entries[i] is queued."""
    bad = []
    hits = [0] * len(entries)
    todo = files(q, 'todo')
    mess, intd, pid = files(q, 'mess'), files(q, 'intd'), files(q, 'pid')
    for name, path in sorted(todo.items()):
        s, _, n = name.partition('/')
        if not n.isdigit() or int(s) != int(n) % 23:
            bad.append(f'todo/{name}: not a queue name')
            continue
        try:
            ms, ts = os.stat(f'{q}/mess/{name}'), os.stat(path)
        except OSError as e:
            bad.append(f'todo/{name}: {e.strerror} (mess/{name})')
            continue
        if ms.st_ino != int(n):
            bad.append(f'todo/{name}: mess/{name} has inode {ms.st_ino}')
            continue
        if name in intd and os.stat(intd[name]).st_ino != ts.st_ino:
            bad.append(f'todo/{name}: intd/{name} is another file')
            continue
        with open(path, 'rb') as f:
            env = split_envelope(f.read())
        if env is None:
            bad.append(f'todo/{name}: envelope head (u, p, i items) wrong')
            continue
        which = [i for i, e in enumerate(entries) if e[2] == env[2]]
        if not which:
            bad.append(f'todo/{name}: envelope matches no message sent (incomplete?): {env[2][:80]!r}')
            continue
        i = which[0]
        with open(f'{q}/mess/{name}', 'rb') as f:
            whole = f.read()
        body = strip_received(whole, entries[i][1], env[0], env[1])
        lc = env[3]
        if lc and (lc[b'l'] != str(len(whole)).encode() or
                   lc[b'c'] != b'%08x' % crc32c(whole)):
            bad.append(f'todo/{name}: message {i + 1}: l/c items do not match mess/{name}')
        elif body is None:
            bad.append(f'todo/{name}: message {i + 1}: Received fields wrong')
        elif body != entries[i][3]:
            bad.append(f'todo/{name}: message {i + 1}: stored {len(body)} bytes differ from '
                       f'the {len(entries[i][3])} sent')
        else:
            hits[i] += 1
    for i, (acked, _, _, _) in enumerate(entries):
        if hits[i] > 1:
            bad.append(f'message {i + 1}: queued {hits[i]} times')
        if acked and not hits[i]:
            bad.append(f'message {i + 1}: acknowledged but not in the queue')
    garbage = list(pid.values())
    garbage += [p for n, p in mess.items() if n not in todo]
    garbage += [p for n, p in intd.items() if n not in todo]
    if clean:
        for p in garbage:
            os.unlink(p)
    return [h > 0 for h in hits], len(garbage), bad


def main():
    args = sys.argv[1:]
    clean = bool(args) and args[0] == '--clean'
    if clean:
        args = args[1:]
    q, ledger = args
    entries = load(ledger)
    states, garbage, bad = check(q, entries, clean)
    last = 'in' if states and states[-1] else 'out'
    print(f'last={last} in={sum(states)} garbage={garbage}')
    for b in bad:
        print('BAD: ' + b)
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
