"""Test-wide settings."""

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
