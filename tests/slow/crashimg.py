#!/usr/bin/env python3
# crashimg.py: crash images from a blklog log (tests/slow/blklog.c,
# docs/powerloss.md).
#
#   crashimg.py dump LOG
#       the records, one a line: "W off len ns", "Z off len ns", "F ns", "C ns"
#   crashimg.py cuts LOG FROMNS N SEED
#       cut points, one a line "INDEX NS": the C record (the recorder's cut)
#       and N-1 records drawn at random among those received after FROMNS
#       and before the C record. A cut at INDEX keeps the records before it;
#       NS is the time record INDEX arrived, so an acknowledgement that
#       arrived before NS was sent after every flush it waited for had
#       been logged (the recorder serves one request at a time).
#   crashimg.py make LOG SIZE OUTDIR CUT SEED NSUB
#       images for a cut before record CUT. Every write before the last F
#       (an fsync = the device's cache flush) before the cut is durable;
#       the K writes (W and Z records) between that flush and the cut sat
#       in a volatile cache and each may or may not have reached the
#       medium. Images of SIZE bytes in OUTDIR, one line "NAME kept/K" each:
#         drop      none of the K (dm-flakey drop_writes at the flush)
#         all       all K (the cache was written out in time)
#         prefix-J  the first J of the K (a dm-log-writes replay of a
#                   prefix: an in-order cache), J drawn at random
#         subset-I  each of the K kept with probability 1/2 (I = 1..NSUB)
#         torn-I    the same per 4 KB block of each write (a write torn
#                   between its sectors)
import os
import random
import shutil
import struct
import sys

HDR = struct.Struct("=IIQQQ")


def records(path):
    """(type, off, len, ns, data offset in the log) for each record."""
    out = []
    with open(path, "rb") as f:
        pos = 0
        while True:
            h = f.read(HDR.size)
            if len(h) < HDR.size:
                return out
            t, _, off, ln, ns = HDR.unpack(h)
            t = chr(t)
            out.append((t, off, ln, ns, pos + HDR.size))
            pos += HDR.size + (ln if t == "W" else 0)
            f.seek(pos)


def dump(path):
    for t, off, ln, ns, _ in records(path):
        print(t, off, ln, ns) if t in "WZ" else print(t, ns)


def cutrec(recs):
    return next((i for i, r in enumerate(recs) if r[0] == "C"), len(recs) - 1)


def cuts(path, fromns, n, seed):
    recs = records(path)
    c = cutrec(recs)
    print(c, recs[c][3])
    pool = [i for i in range(c) if recs[i][3] > fromns]
    for i in sorted(random.Random(seed).sample(pool, min(n - 1, len(pool)))):
        print(i, recs[i][3])


def make(path, size, outdir, cut, seed, nsub):
    recs = records(path)
    flush = max((i for i in range(cut) if recs[i][0] == "F"), default=-1)
    after = [r for r in recs[flush + 1:cut] if r[0] in "WZ"]
    img = bytearray(size)
    with open(path, "rb") as f:
        def data(r):
            f.seek(r[4])
            return f.read(r[2]) if r[0] == "W" else bytes(r[2])
        for r in recs[:flush + 1]:
            if r[0] in "WZ":
                img[r[1]:r[1] + r[2]] = data(r)
        whole = [(r[1], data(r)) for r in after]
    base = os.path.join(outdir, "drop.img")
    with open(base, "wb") as o:
        o.write(img)
    del img
    print("drop 0/%d" % len(after))

    def variant(name, chosen, unit):
        out = os.path.join(outdir, name + ".img")
        shutil.copyfile(base, out)
        with open(out, "r+b") as o:
            for off, d in chosen:
                o.seek(off)
                o.write(d)
        print("%s %d/%d%s" % (name, len(chosen), len(after) if unit == "" else sum((len(d) + 4095) // 4096 for _, d in whole), unit))

    if not after:
        return
    rnd = random.Random(seed * 1000003 + cut)
    variant("all", whole, "")
    if len(after) > 1:
        k = rnd.randrange(1, len(after))
        variant("prefix-%d" % k, whole[:k], "")
    for i in range(1, nsub + 1):
        variant("subset-%d" % i, [w for w in whole if rnd.random() < 0.5], "")
        torn = [(off + b, d[b:b + 4096]) for off, d in whole
                for b in range(0, len(d), 4096) if rnd.random() < 0.5]
        variant("torn-%d" % i, torn, " blocks")


if __name__ == "__main__":
    a = sys.argv
    if len(a) == 3 and a[1] == "dump":
        dump(a[2])
    elif len(a) == 6 and a[1] == "cuts":
        cuts(a[2], int(a[3]), int(a[4]), int(a[5]))
    elif len(a) == 8 and a[1] == "make":
        make(a[2], int(a[3]), a[4], int(a[5]), int(a[6]), int(a[7]))
    else:
        sys.exit("usage: crashimg.py dump LOG | cuts LOG FROMNS N SEED | make LOG SIZE OUTDIR CUT SEED NSUB")
