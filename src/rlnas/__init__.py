"""rlnas: neural architecture search driven by reinforcement learning.

Define a ``SearchSpace`` of ``Choice``s, write an evaluator (any callable from an
``Architecture`` to a mapping of metrics) and call ``search`` with any registered strategy.
"""

from rlnas.errors import InvalidArchitecture, UserError
from rlnas.rewards import Objective
from rlnas.search import SearchResult, search
from rlnas.space import Architecture, Choice, Growth, Rule, SearchSpace
from rlnas.store import Store
from rlnas.strategies import STRATEGIES, Strategy, make_strategy
from rlnas.trial import Status, Trial

__all__ = [
    "STRATEGIES",
    "Architecture",
    "Choice",
    "Growth",
    "InvalidArchitecture",
    "Objective",
    "Rule",
    "SearchResult",
    "SearchSpace",
    "Status",
    "Store",
    "Strategy",
    "Trial",
    "UserError",
    "make_strategy",
    "search",
]
