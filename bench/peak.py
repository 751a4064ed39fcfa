"""Peak memory that means what it says, on Linux.

`getrusage`'s and `wait4`'s `ru_maxrss` are no use here: a child inherits its parent's high-water
mark through fork and exec, so under `make bench` (one process that has already held the chain's
data set, some 250 MB) every child and every later measurement reported that figure whatever it did.
The kernel's own mark for the current address space, `VmHWM` in /proc/self/status, starts afresh at
exec and can be reset (writing 5 to /proc/self/clear_refs), so:

- `run_measured(command, env)` runs `python -m MODULE ARGS` in a child through this module, which
  writes the child's VmHWM to a file as it exits: (seconds, peak MB of the child alone);
- `reset_peak()` then `peak_mb()` measure a stretch of this process.
"""

import re
import runpy
import subprocess
import sys
import tempfile
import time

from bench.common import PYTHON, ROOT


def _status_mb(field):
    with open("/proc/self/status") as status:
        return int(re.search(rf"^{field}:\s+(\d+) kB", status.read(), re.MULTILINE).group(1)) / 1024


def reset_peak():
    """Start this process's high-water mark afresh at its present size; returns that size in MB."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    return _status_mb("VmRSS")


def peak_mb():
    """The most memory this process has held since it started or since `reset_peak`, in MB."""
    return _status_mb("VmHWM")


def run_measured(command, env):
    """(seconds, peak RSS in MB) of `command` ([PYTHON, "-m", MODULE, *args]) run as a child."""
    if command[:2] != [PYTHON, "-m"]:
        raise ValueError(f"run_measured runs python -m MODULE commands, not {command[:2]}")
    with tempfile.NamedTemporaryFile(prefix="perception-peak-", mode="r") as report:
        started = time.perf_counter()
        process = subprocess.run([PYTHON, "-m", "bench.peak", report.name, *command[2:]], cwd=ROOT, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        elapsed = time.perf_counter() - started
        if process.returncode != 0:
            raise RuntimeError(f"{command[2:5]} failed: {process.stderr.decode()[-2000:]}")
        return elapsed, float(report.read())


def _main():
    report, module, *arguments = sys.argv[1:]
    sys.argv = [module, *arguments]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as done:
        if done.code not in (None, 0):
            raise
    finally:
        with open(report, "w") as handle:
            handle.write(str(peak_mb()))


if __name__ == "__main__":
    _main()
