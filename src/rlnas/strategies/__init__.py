"""Search strategies: one file each, behind the ask/tell interface of ``Strategy``."""

from rlnas.strategies.base import Strategy
from rlnas.strategies.registry import (
    STRATEGIES,
    make_strategy,
    strategy_class,
    strategy_option_rows,
)

__all__ = ["STRATEGIES", "Strategy", "make_strategy", "strategy_class", "strategy_option_rows"]
