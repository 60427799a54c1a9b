"""Test-wide settings."""

import itertools
import types

import pytest
import torch
from hypothesis import settings
from threadpoolctl import threadpool_limits

# Strategies run tiny networks and small linear solves: one thread is faster than several, and
# much faster when the CPU is shared with other processes (threads then spin while they wait).
torch.set_num_threads(1)
threadpool_limits(1)

# Property tests draw the same examples on every run, so that CI passes or fails for a reason
# in the code and not in the draw; run with --hypothesis-profile=explore to search afresh.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("repeatable")


@pytest.fixture
def loop_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The search loop's clock advances 0.5 s a reading, so a time budget runs out after a set
    number of waits however fast the machine trains (a real clock let a fast one finish first)."""
    readings = itertools.count()
    clock = types.SimpleNamespace(monotonic=lambda: 0.5 * next(readings))
    monkeypatch.setattr("rlnas.search_loop.time", clock)
