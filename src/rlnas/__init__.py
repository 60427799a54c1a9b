"""rlnas: neural architecture search driven by reinforcement learning.

Define a ``SearchSpace`` of ``Choice``s, write an evaluator (any callable from an
``Architecture`` to a mapping of metrics) and call ``search`` with any registered strategy; or
describe a whole search (a benchmark or a task, its strategy, estimator and executor) as a
``SearchConfig`` and ``run`` it, exactly as ``rlnas search`` does. ``TabularBenchmark.from_file``
reads your own table of architectures and their metrics.
"""

from rlnas.config import SearchConfig
from rlnas.errors import InvalidArchitecture, UserError
from rlnas.estimators.tabular import TabularBenchmark
from rlnas.evaluator import Evaluator, FidelityEvaluator, Job, Progress, StatefulEvaluator
from rlnas.rewards import Objective
from rlnas.runner import resume, run
from rlnas.schedulers import SCHEDULERS, Scheduler, make_scheduler
from rlnas.search import SearchResult, search
from rlnas.space import Architecture, Choice, Growth, Rule, SearchSpace
from rlnas.store import Store
from rlnas.strategies import STRATEGIES, Strategy, make_strategy
from rlnas.strategies.episodes import EpisodeSettings
from rlnas.trial import Status, Trial

__all__ = [
    "SCHEDULERS",
    "STRATEGIES",
    "Architecture",
    "Choice",
    "EpisodeSettings",
    "Evaluator",
    "FidelityEvaluator",
    "Growth",
    "InvalidArchitecture",
    "Job",
    "Objective",
    "Progress",
    "Rule",
    "Scheduler",
    "SearchConfig",
    "SearchResult",
    "SearchSpace",
    "StatefulEvaluator",
    "Status",
    "Store",
    "Strategy",
    "TabularBenchmark",
    "Trial",
    "UserError",
    "make_scheduler",
    "make_strategy",
    "resume",
    "run",
    "search",
]
