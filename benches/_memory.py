"""Peak memory of the running process, shared by the benchmark scripts."""

from __future__ import annotations

import resource


def peak_rss_bytes() -> int:
    """This process's own peak resident memory. VmHWM belongs to the address space made at
    exec; ru_maxrss would carry over the high-water mark of the parent that forked us."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
