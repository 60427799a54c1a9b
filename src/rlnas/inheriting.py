"""Progressive growth that reuses what it trained: which parent a step grows from, and the
trained weights a search keeps for that.

With ``inherit`` on, a progressive step starts from its parent's trained weights and trains
``step_epochs`` more (Net2Net, Chen et al., ICLR 2016; network morphism, Wei et al., ICML 2016;
EAS, Cai et al., AAAI 2018). The parent is derived from the child itself: a step of an episode
adds one growth step at the end of what is made, so the parent is the child with its last
non-fill step back at its fill (``parent_of``). Deriving it from the structure, not from the
strategy's episode, keeps strategies out of it and lets a step grow from the same network
trained in an earlier episode.

``Parents`` holds the trained weights (safetensors bytes) of the last few settled networks, as
many as open episodes can grow from (a serial progressive search grows from the last one; each
further worker keeps another episode open). A child whose parent is still training, failed, was
never evaluated or whose weights are no longer kept trains from scratch, and its trial says why.
The weights also go to the store (``Store.keep_weights``), so a resumed search finds its parents.

A scheduler stops and continues training by its own rungs, which a step of ``step_epochs`` does
not fit: the combination is refused.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Iterable

from pydantic import Field

from rlnas.errors import InvalidArchitecture, UserError
from rlnas.evaluator import Lineage
from rlnas.settings import Settings
from rlnas.space import Architecture, SearchSpace


class InheritanceSettings(Settings):
    """Whether progressive steps start from their parents' trained weights, and how far they
    train then.

    ``step_epochs = 1``: one more epoch is what the Net2Net and EAS experiments gave a grown
    network before comparing it, and with function-preserving growth it starts at the parent's
    accuracy, so it rarely needs more (``benchmarks/progressive.py`` measures it).
    """

    inherit: bool = Field(
        False,
        description="Progressive: a grown network starts from its parent's trained weights "
        "(function-preserving growth) and trains step_epochs; the first step from scratch.",
    )
    step_epochs: int = Field(
        1, ge=1, description="Inherit: epochs a network grown from its parent trains."
    )

    def check(self, epochs: int, progressive: bool, scheduler: str) -> None:
        """One-line errors for settings that cannot inherit, before anything is stored."""
        if not self.inherit:
            return
        if not progressive:
            raise UserError(
                "inherit needs progressive growth (mode = 'progressive'): a one-shot search "
                "has no parent to inherit from"
            )
        if scheduler != "none":
            raise UserError(
                f"inherit and scheduler {scheduler} both decide how far a candidate trains; "
                "use one of them (scheduler = 'none' with inherit)"
            )
        if self.step_epochs > epochs:
            raise UserError(
                f"step_epochs ({self.step_epochs}) exceeds the epochs per candidate ({epochs}); "
                "a grown step trains at most as long as a network from scratch"
            )


def parent_of(space: SearchSpace, child: Architecture) -> Architecture | None:
    """The network ``child`` grew from by its last growth step: that step back at its fill.

    None when the child makes no more than one step (a first step), or when the network before
    its last step is not a valid architecture (an episode does not evaluate that step).
    """
    growth = space.growth
    if growth is None:
        return None
    made = [
        number
        for number, step in enumerate(growth.steps)
        if any(child.choices[name] != growth.fill[name] for name in step)
    ]
    if len(made) < 2:
        return None
    reset = {name: growth.fill[name] for name in growth.steps[made[-1]]}
    try:
        return space.architecture({**child.choices, **reset})
    except InvalidArchitecture:
        return None


class Parents:
    """The trained weights that the next steps can grow from, the most recent ``capacity``."""

    def __init__(self, space: SearchSpace, step_epochs: int, capacity: int) -> None:
        self.space = space
        self.step_epochs = step_epochs
        self.capacity = max(1, capacity)
        self.weights: OrderedDict[str, tuple[Architecture, bytes]] = OrderedDict()

    def lineage(
        self, child: Architecture, in_flight: Collection[str], failed: Collection[str]
    ) -> Lineage:
        """What ``child`` grows from: its parent's weights where they are kept, else why not."""
        parent = parent_of(self.space, child)
        if parent is None:
            return Lineage(why_not="a first step")
        key = parent.key
        if key in self.weights:
            self.weights.move_to_end(key)  # a parent in use stays
            return Lineage(parent, self.weights[key][1])
        if key in in_flight:
            return Lineage(why_not="its parent is still training")
        if key in failed:
            return Lineage(why_not="its parent failed")
        return Lineage(why_not="its parent's weights are not kept")

    def keep(self, architecture: Architecture, weights: bytes) -> None:
        """Keep a settled network's weights; the oldest go beyond ``capacity``."""
        self.weights[architecture.key] = (architecture, weights)
        self.weights.move_to_end(architecture.key)
        while len(self.weights) > self.capacity:
            self.weights.popitem(last=False)

    def keys(self) -> list[str]:
        """The kept networks, oldest first: what a checkpoint records."""
        return list(self.weights)

    def restore(self, kept: Iterable[tuple[Architecture, bytes]]) -> None:
        self.weights = OrderedDict(
            (architecture.key, (architecture, w)) for architecture, w in kept
        )
