"""lsgan_theory.resources: the one torch-thread setting and the one process-alive check the package uses (the
memory budget is tested with the inputs that trip it, tests/test_bad_input_core.py)."""

import os
import subprocess
import sys

import pytest
import torch

from lsgan_theory.resources import pid_alive, torch_threads


def test_torch_threads_sets_and_restores_the_callers_setting():
    before = torch.get_num_threads()
    other = 2 if before == 1 else 1
    with torch_threads(other):
        assert torch.get_num_threads() == other  # negative control for the restore below: it did change
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError, match="inside"):
        with torch_threads(other):
            raise RuntimeError("inside")
    assert torch.get_num_threads() == before  # restored on an exception too
    for unchanged in (None, 0):
        with torch_threads(unchanged):
            assert torch.get_num_threads() == before


def test_pid_alive_tells_a_finished_process_from_a_running_one():
    assert pid_alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert pid_alive(child.pid)
    finally:
        child.kill()
        child.wait()  # reaped: the pid names no process now (reuse within this test is not plausible)
    assert not pid_alive(child.pid)
    assert pid_alive(2**40)  # a pid the OS cannot check (OverflowError): treated as alive, its files kept
