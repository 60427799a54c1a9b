"""Episodes of a search that inherits weights, as chains of growth: each network and the one it
grew from (``StoredTrial.parent``), for ``rlnas show``, the report and the trajectory export."""

from __future__ import annotations

from collections.abc import Sequence

from rlnas.store import StoredTrial


def inherited(trials: Sequence[StoredTrial]) -> bool:
    """Whether the trials come from a search that inherits weights (they say how they started)."""
    return any(trial.start is not None for trial in trials)


def growth_chains(trials: Sequence[StoredTrial]) -> list[list[StoredTrial]]:
    """Every chain from a network trained from scratch to one nothing grew from, in trial order.

    A network that several later steps grew from (in several episodes) begins or ends each of
    their chains; the first trial of a key is the one that was trained.
    """
    by_key: dict[str, StoredTrial] = {}
    for trial in trials:
        by_key.setdefault(trial.key, trial)
    parents = {trial.parent for trial in by_key.values() if trial.parent in by_key}
    chains = []
    for leaf in by_key.values():
        if leaf.key in parents:
            continue
        chain = [leaf]
        while chain[-1].parent in by_key and len(chain) <= len(by_key):
            chain.append(by_key[chain[-1].parent])  # type: ignore[index]
        chains.append(chain[::-1])
    return sorted(chains, key=lambda chain: chain[0].number)


def chain_text(chain: Sequence[StoredTrial], metric: str) -> str:
    """``#0 (0.91) -> #3 (0.94, inherited)``: each trial's number, metric and how it started."""
    parts = []
    for trial in chain:
        value = trial.metrics.get(metric)
        shown = "failed" if value is None else f"{value:.4g}"
        how = (trial.start or "").split(":")[0]
        parts.append(f"#{trial.number} ({shown}{', ' + how if how else ''})")
    return " -> ".join(parts)
