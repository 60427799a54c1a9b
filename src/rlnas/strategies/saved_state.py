"""State saved from a declared list of attributes (as Stable-Baselines3 saves its algorithms).

A class lists what it saves in ``saved``; ``state_dict`` and ``load_state_dict`` then handle each
attribute by what it holds now: a numpy ``Generator`` (its bit generator's state), a
``torch.Generator`` (``get_state``/``set_state``), anything with ``state_dict`` and
``load_state_dict`` (torch modules and optimizers, the reward shaper, episodes: a deep copy of
its state), a deque or a set (saved as a list, restored as what it was), or a plain value (a deep
copy). Architectures may stand anywhere in it: the store saves them (``rlnas.store``).
Hand-write the two methods only where saving does real work (a cache rebuilt, a format changed).
"""

from __future__ import annotations

import copy
import sys
from collections import deque
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Stateful(Protocol):
    """Something that saves and restores itself (a torch module or optimizer, a shaper)."""

    def state_dict(self) -> Any: ...

    def load_state_dict(self, state: Any) -> Any: ...


class SavedState:
    """``state_dict`` and ``load_state_dict`` over the attributes named in ``saved``."""

    saved: ClassVar[tuple[str, ...]] = ()
    """The attributes that make up the state; a subclass extends its base's tuple."""

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly from here: each attribute in ``saved``."""
        return {name: saved_value(getattr(self, name)) for name in self.saved}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned."""
        for name in self.saved:
            current = getattr(self, name)
            restored = loaded_value(current, state[name])
            if restored is not current:
                setattr(self, name, restored)


def saved_value(value: Any) -> Any:
    """What is saved of one attribute's value: a copy, never the live object."""
    torch = sys.modules.get("torch")  # loaded already if the value can be one of its kinds
    if isinstance(value, np.random.Generator):
        return copy.deepcopy(value.bit_generator.state)
    if torch is not None and isinstance(value, torch.Generator):
        return value.get_state()
    if isinstance(value, Stateful):
        return copy.deepcopy(value.state_dict())
    if isinstance(value, deque):
        return copy.deepcopy(list(value))
    if isinstance(value, set | frozenset):
        return sorted(value)
    return copy.deepcopy(value)


def loaded_value(current: Any, saved: Any) -> Any:
    """The attribute's value restored from ``saved``: ``current`` itself where it restores in
    place (generators and stateful objects), else a new value of the same kind."""
    torch = sys.modules.get("torch")
    if isinstance(current, np.random.Generator):
        current.bit_generator.state = copy.deepcopy(saved)
        return current
    if torch is not None and isinstance(current, torch.Generator):
        current.set_state(saved)
        return current
    if isinstance(current, Stateful):
        current.load_state_dict(copy.deepcopy(saved))
        return current
    if isinstance(current, deque):
        return deque(copy.deepcopy(saved), maxlen=current.maxlen)
    if isinstance(current, set | frozenset):
        return type(current)(saved)
    return copy.deepcopy(saved)
