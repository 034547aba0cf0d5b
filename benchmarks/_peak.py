"""Run wabactl (``python -m reconciler ARGS``) and, as it exits, write its own peak resident
memory to PEAK_FILE: ``python benchmarks/_peak.py PEAK_FILE ARGS...``.

Why not the child's ``ru_maxrss`` from ``wait4``: Linux carries the memory high-water mark of the
process image an ``exec`` replaces into the new program's ``ru_maxrss``, and a child started from
a large benchmark process starts as a copy of it (``subprocess`` forks, or vforks, then execs). So
``ru_maxrss`` is at least the benchmark's own size at that moment: 313 MB for ``python -c pass``
started from a process holding 300 MB. ``VmHWM`` in ``/proc/self/status`` belongs to the memory
of the program now running, so it counts wabactl alone.
"""

from __future__ import annotations

import atexit
import runpy
import sys


def _write_peak(path: str) -> None:
    with open("/proc/self/status", encoding="ascii") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(path, "w", encoding="ascii") as out:
        out.write(f"{int(peak) / 1024:.1f}\n")


if __name__ == "__main__":
    peak_file = sys.argv[1]
    atexit.register(_write_peak, peak_file)
    sys.argv = ["wabactl", *sys.argv[2:]]
    runpy.run_module("reconciler", run_name="__main__", alter_sys=True)
