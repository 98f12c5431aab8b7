"""Wall time, peak RSS and CPU time of one command, measured by a small launcher process.

A child's ru_maxrss counts the memory of the process it was forked from (Linux carries the
high-water mark over fork and exec), so a benchmark that holds data itself would inflate every
tool it times. A fresh `python -S` (about 10 MiB) forks the command and reports its peak.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as fh:
    fh.write(f"{usage.ru_maxrss // 1024} {usage.ru_utime + usage.ru_stime}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def timed(cmd: list[str]) -> tuple[float, int]:
    """(wall seconds, peak RSS MiB) of ``cmd``; exits with its output when it fails."""
    seconds, rss, _ = measured(cmd)
    return seconds, rss


def measured(cmd: list[str]) -> tuple[float, int, float]:
    """(wall seconds, peak RSS MiB, CPU seconds user + system, its children included)."""
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as usage:
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, usage.name, *cmd],
                              stdout=out, stderr=subprocess.STDOUT)
        seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            out.seek(0)
            sys.exit(f"{' '.join(cmd[:4])} failed:\n{out.read()[-3000:].decode(errors='replace')}")
        rss, cpu = usage.read().split()
        return seconds, int(rss), float(cpu)


def server_cpu(pid_file) -> float | None:
    """CPU seconds of a local PostgreSQL's ended backends so far (its postmaster's children
    time, from postmaster.pid); None when the server is not local."""
    try:
        pid = open(pid_file).readline().strip()
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
