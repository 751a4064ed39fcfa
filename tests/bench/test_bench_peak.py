"""bench/peak.py: a child's peak memory is its own, not its parent's, and a stretch of this process
is measured from where it starts (getrusage and wait4 reported the parent's high-water mark)."""

import os
import sys

import pytest

from bench.peak import peak_mb, reset_peak, run_measured

pytestmark = pytest.mark.pure  # reads no database: the PostgreSQL pass leaves it out (tests/conftest.py)


def _held(megabytes):
    block = bytearray(megabytes * 1024 * 1024)
    for offset in range(0, len(block), 4096):  # touch every page, so it is resident
        block[offset] = 1
    return block


def test_a_child_reports_its_own_peak_not_its_parents(tmp_path):
    held = _held(300)
    source = tmp_path / "small.json"
    source.write_text("[1, 2, 3]")
    seconds, child_peak = run_measured([sys.executable, "-m", "json.tool", str(source)], dict(os.environ))
    assert peak_mb() > 300
    assert seconds > 0
    assert 1 < child_peak < 100
    del held


def test_a_stretch_of_this_process_is_measured_from_its_start():
    _held(200)  # freed at once: a high-water mark that the reset must forget
    start = reset_peak()
    assert peak_mb() < start + 50
    held = _held(120)
    assert peak_mb() >= start + 110
    del held
