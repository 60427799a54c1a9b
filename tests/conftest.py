"""Test-wide settings."""

import torch
from threadpoolctl import threadpool_limits

# Strategies run tiny networks and small linear solves: one thread is faster than several, and
# much faster when the CPU is shared with other processes (threads then spin while they wait).
torch.set_num_threads(1)
threadpool_limits(1)
