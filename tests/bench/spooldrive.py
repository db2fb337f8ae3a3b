#!/usr/bin/env python3
"""spooldrive.py: timing driver for tests/bench/spool.sh (not a test).

    spooldrive.py N MSGFILE LEAF_A LEAF_B

Sends MSGFILE N times through each leaf's bin/sendmail (an empty
environment but PATH and LOGNAME, sender and recipient as arguments),
alternating A, B, A, B ... so that drift on the machine hits both alike.
Each child is started with posix_spawn and reaped with wait4: its own
user+sys CPU is exact. Prints, per leaf, one line of key=value pairs:
ok (exit 0 count), wall and cpu per send in microseconds (mean and
median)."""
import os, statistics, sys, time


def one(prog, msg):
    fd = os.open(msg, os.O_RDONLY)
    null = os.open("/dev/null", os.O_WRONLY)
    env = {"PATH": "/usr/bin:/bin", "LOGNAME": "bench"}
    argv = [prog, "-f", "bench@leaf.test", "mbox@hub.test"]
    t0 = time.monotonic()
    pid = os.posix_spawn(prog, argv, env, file_actions=[
        (os.POSIX_SPAWN_DUP2, fd, 0), (os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)])
    _, status, ru = os.wait4(pid, 0)
    wall = time.monotonic() - t0
    os.close(fd)
    os.close(null)
    return os.waitstatus_to_exitcode(status) == 0, wall, ru.ru_utime + ru.ru_stime


def main():
    n, msg, leaves = int(sys.argv[1]), sys.argv[2], sys.argv[3:5]
    res = {leaf: ([], [], 0) for leaf in leaves}
    for _ in range(n):
        for leaf in leaves:
            ok, wall, cpu = one(leaf + "/bin/sendmail", msg)
            w, c, k = res[leaf]
            w.append(wall)
            c.append(cpu)
            res[leaf] = (w, c, k + ok)
    for leaf in leaves:
        w, c, k = res[leaf]
        print("leaf=%s ok=%d wall_mean=%.0f wall_median=%.0f cpu_mean=%.0f cpu_median=%.0f" % (
            leaf, k, 1e6 * statistics.mean(w), 1e6 * statistics.median(w),
            1e6 * statistics.mean(c), 1e6 * statistics.median(c)))


if __name__ == "__main__":
    main()
