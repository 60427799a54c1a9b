"""An autoregressive LSTM policy over a search space's decisions (Zoph & Le, 2017; ENAS, 2018).

The LSTM emits the decisions one by one. Its first input is a learned start vector; every later
input is the embedding of the option chosen for the previous decision (one embedding table per
decision). One linear head per decision scores that decision's full option list, options the
space forbids after the earlier choices get ``-inf``, and ENAS's ``c * tanh(l / T)`` keeps the
logits in a band so that the policy does not collapse early. An optional value head predicts the
expected reward of each partial architecture from the hidden state (the critic of actor-critic).

Sampling runs without gradients; strategies re-score the architectures they learn from under the
current weights (``forward``), which also gives PPO its new log-probabilities. A proposal's cost
is mostly torch's per-call overhead on tiny tensors, so sampling reads each step's numbers out
once at the end and looks embeddings up by slicing, not through a new index tensor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from rlnas.errors import UserError
from rlnas.space import Architecture, Option, SearchSpace


@dataclass(frozen=True)
class PolicySample:
    """One architecture drawn from the policy, with what the policy said at each decision."""

    architecture: Architecture
    log_prob: float  # of the whole architecture: the sum over decisions
    entropy: float  # summed over decisions
    step_log_probs: tuple[float, ...]
    values: tuple[float, ...]  # predicted reward before each decision; empty without a value head


@dataclass(frozen=True)
class PolicyOutput:
    """Teacher-forced scores of a batch of architectures under the current weights (with grad)."""

    step_log_probs: torch.Tensor  # [batch, decisions]
    step_entropies: torch.Tensor  # [batch, decisions]
    values: torch.Tensor | None  # [batch, decisions], None without a value head

    @property
    def log_prob(self) -> torch.Tensor:
        return self.step_log_probs.sum(dim=1)

    @property
    def entropy(self) -> torch.Tensor:
        return self.step_entropies.sum(dim=1)

    def __getitem__(self, rows: slice) -> PolicyOutput:
        """The scores of some of the rows (architectures)."""
        values = None if self.values is None else self.values[rows]
        return PolicyOutput(self.step_log_probs[rows], self.step_entropies[rows], values)


class LSTMPolicy(nn.Module):
    """Autoregressive policy: one LSTM step, one softmax head and one embedding per decision.

    ``temperature`` and ``tanh_constant`` shape the logits as ``c * tanh(l / T)`` (ENAS used
    T = 5, c = 2.5); None disables either. Weights start uniform in [-init_range, init_range]
    (Zoph & Le used 0.08, ENAS 0.1), drawn from ``generator`` so that no global seed is touched.
    """

    def __init__(
        self,
        space: SearchSpace,
        hidden_size: int = 64,
        num_layers: int = 1,
        temperature: float | None = None,
        tanh_constant: float | None = None,
        value_head: bool = False,
        init_range: float = 0.1,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.space = space
        self.temperature = temperature
        self.tanh_constant = tanh_constant
        sizes = [len(choice.options) for choice in space.choices]
        self.start = nn.Parameter(torch.zeros(1, hidden_size))
        # torch's default initializers draw from the global generator: fork it so that its state
        # is left as it was (skip_init would do too, but its first call imports torch's compiler,
        # about a second of CPU, more than a whole 300-architecture search spends sampling)
        with torch.random.fork_rng(devices=[]):
            self.cells = nn.ModuleList(
                nn.LSTMCell(hidden_size, hidden_size) for _ in range(num_layers)
            )
            self.embeddings = nn.ModuleList(nn.Embedding(size, hidden_size) for size in sizes)
            self.heads = nn.ModuleList(nn.Linear(hidden_size, size) for size in sizes)
            self.value = nn.Linear(hidden_size, 1) if value_head else None
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.uniform_(-init_range, init_range, generator=generator)
        # per prefix: the open options, the closed ones (masked_fill's), whether any is open
        self._masks: dict[tuple[int, ...], tuple[torch.Tensor, torch.Tensor, bool]] = {}
        self._encoded: dict[Architecture, list[int]] = {}

    # --- the pieces of one decision --------------------------------------------------------------
    def _initial(self, batch: int) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
        zeros = self.start.new_zeros(batch, self.start.shape[1])
        return self.start.expand(batch, -1), [(zeros, zeros) for _ in self.cells]

    def _step(
        self, inputs: torch.Tensor, state: list[tuple[torch.Tensor, torch.Tensor]]
    ) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
        new_state = []
        hidden = inputs
        for cell, (h, c) in zip(self.cells, state):
            h, c = cell(hidden, (h, c))
            new_state.append((h, c))
            hidden = h
        return hidden, new_state

    def _logits(self, position: int, hidden: torch.Tensor) -> torch.Tensor:
        logits = self.heads[position](hidden)
        if self.temperature is not None:
            logits = logits / self.temperature
        if self.tanh_constant is not None:
            logits = self.tanh_constant * torch.tanh(logits)
        return logits

    def mask(self, prefix: Sequence[int]) -> torch.Tensor:
        """Open options of decision ``len(prefix)`` after the earlier option indices ``prefix``."""
        return self._mask_entry(prefix)[0]

    def _mask_entry(self, prefix: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor, bool]:
        key = tuple(prefix)
        entry = self._masks.get(key)
        if entry is None:
            mask = torch.from_numpy(self.space.open_mask(self.space.choices_at(key)))
            if len(self._masks) > 200_000:  # bound the memory a huge space could take
                self._masks.clear()
            entry = self._masks[key] = (mask, ~mask, bool(mask.any()))
        return entry

    # --- sampling --------------------------------------------------------------------------------
    @torch.inference_mode()
    def sample(self, generator: torch.Generator, max_tries: int = 100) -> PolicySample:
        """Draw one architecture, decision by decision, from the masked softmax of each head.

        A draw that reaches a decision with no open option (rules the masks could not foresee)
        starts over, like ``SearchSpace.sample``.
        """
        for _ in range(max_tries):
            drawn = self._draw(generator)
            if drawn is not None:
                return drawn
        raise UserError(
            f"the policy reached a dead end {max_tries} times in space {self.space.name!r}: "
            "its rules leave (almost) nothing open; loosen them"
        )

    def _draw(self, generator: torch.Generator) -> PolicySample | None:
        inputs, state = self._initial(1)
        indices: list[int] = []
        chosen_log_probs, plogp, predicted = [], [], []  # 0-d tensors, read out at the end
        for position in range(len(self.space.choices)):
            hidden, state = self._step(inputs, state)
            if self.value is not None:
                predicted.append(self.value(hidden)[0, 0])
            _, closed, any_open = self._mask_entry(indices)
            if not any_open:
                return None
            logits = self._logits(position, hidden)[0].masked_fill(closed, float("-inf"))
            step_log_probs = torch.log_softmax(logits, dim=0)
            probs = step_log_probs.exp()
            index = int(torch.multinomial(probs, 1, generator=generator))
            indices.append(index)
            chosen_log_probs.append(step_log_probs[index])
            plogp.append((probs * step_log_probs.masked_fill(closed, 0.0)).sum())
            inputs = self.embeddings[position].weight[index : index + 1]
        log_probs = torch.stack(chosen_log_probs).tolist()
        entropy = -sum(torch.stack(plogp).tolist())
        values = torch.stack(predicted).tolist() if predicted else []
        choices = self.space.choices_at(indices)
        return PolicySample(
            self.space.architecture(choices),
            sum(log_probs),
            entropy,
            tuple(log_probs),
            tuple(values),
        )

    @torch.no_grad()
    def sample_batch(
        self, count: int, generator: torch.Generator
    ) -> tuple[list[Architecture], torch.Tensor]:
        """Draw ``count`` architectures at once, one LSTM step per decision for the whole batch.

        Much cheaper than ``count`` calls of ``sample`` (DyNA-PPO trains on many model-rewarded
        batches). Rows that reach a dead end are dropped, so fewer may come back. Returns the
        architectures and their per-decision log-probabilities ``[rows, decisions]``.
        """
        inputs, state = self._initial(count)
        rows: list[list[int]] = [[] for _ in range(count)]
        alive = torch.ones(count, dtype=torch.bool)
        log_probs = []
        for position in range(len(self.space.choices)):
            hidden, state = self._step(inputs, state)
            mask = torch.stack([self.mask(row) for row in rows])
            dead = ~mask.any(dim=1)
            alive &= ~dead
            mask[dead] = True  # any option: the row is dropped at the end
            logits = self._logits(position, hidden).masked_fill(~mask, float("-inf"))
            step_log_probs = torch.log_softmax(logits, dim=1)
            chosen = torch.multinomial(step_log_probs.exp(), 1, generator=generator)
            log_probs.append(step_log_probs.gather(1, chosen)[:, 0])
            for row, index in zip(rows, chosen[:, 0].tolist()):
                row.append(index)
            inputs = self.embeddings[position](chosen[:, 0])
        kept = [i for i in range(count) if alive[i]]
        architectures = [self.space.architecture(self.space.choices_at(rows[i])) for i in kept]
        return architectures, torch.stack(log_probs, dim=1)[kept]

    # --- scoring ---------------------------------------------------------------------------------
    def forward(self, architectures: Sequence[Architecture]) -> PolicyOutput:
        """Log-probabilities, entropies and values of each decision of ``architectures``."""
        encoded = [self._encode(architecture) for architecture in architectures]
        chosen = torch.tensor(encoded, dtype=torch.long)
        inputs, state = self._initial(len(encoded))
        log_probs, entropies, values = [], [], []
        for position in range(len(self.space.choices)):
            hidden, state = self._step(inputs, state)
            if self.value is not None:
                values.append(self.value(hidden)[:, 0])
            closed = torch.stack([self._mask_entry(row[:position])[1] for row in encoded])
            logits = self._logits(position, hidden).masked_fill(closed, float("-inf"))
            step_log_probs = torch.log_softmax(logits, dim=1)
            log_probs.append(step_log_probs.gather(1, chosen[:, position : position + 1])[:, 0])
            safe = step_log_probs.masked_fill(closed, 0.0)
            entropies.append(-(safe.exp() * safe).sum(dim=1))
            inputs = self.embeddings[position](chosen[:, position])
        return PolicyOutput(
            torch.stack(log_probs, dim=1),
            torch.stack(entropies, dim=1),
            torch.stack(values, dim=1) if values else None,
        )

    def _encode(self, architecture: Architecture) -> list[int]:
        """Option indices of ``architecture``, cached: strategies score the same walks often."""
        encoded = self._encoded.get(architecture)
        if encoded is None:
            if len(self._encoded) > 100_000:  # bound the memory a long search could take
                self._encoded.clear()
            encoded = self._encoded[architecture] = self.space.encode(architecture)
        return encoded

    @torch.no_grad()
    def probabilities(self, earlier: Sequence[Option] = ()) -> torch.Tensor:
        """The policy's distribution over the next decision's full option list after ``earlier``."""
        indices = [
            next(
                index
                for index, candidate in enumerate(self.space.choices[position].options)
                if type(candidate) is type(option) and candidate == option
            )
            for position, option in enumerate(earlier)
        ]
        inputs, state = self._initial(1)
        for position in range(len(indices) + 1):
            hidden, state = self._step(inputs, state)
            if position < len(indices):
                inputs = self.embeddings[position](torch.tensor([indices[position]]))
        position = len(indices)
        logits = self._logits(position, hidden)[0].masked_fill(~self.mask(indices), float("-inf"))
        return torch.softmax(logits, dim=0)

    @torch.no_grad()
    def diagnostics(self) -> dict[str, Any]:
        """Along the greedy path: each decision's probabilities and entropy, and the value.

        The keys are those ``Strategy.diagnostics`` documents; ``value`` (with a value head) is the
        expected reward predicted before any decision is made.
        """
        inputs, state = self._initial(1)
        indices: list[int] = []
        probabilities: dict[str, list[float]] = {}
        entropy: dict[str, float] = {}
        result: dict[str, Any] = {"probabilities": probabilities, "entropy": entropy}
        for position, choice in enumerate(self.space.choices):
            hidden, state = self._step(inputs, state)
            if self.value is not None and position == 0:
                result["value"] = float(self.value(hidden))
            mask = self.mask(indices)
            if not bool(mask.any()):
                break
            logits = self._logits(position, hidden)[0].masked_fill(~mask, float("-inf"))
            log_probs = torch.log_softmax(logits, dim=0)
            probs = log_probs.exp()
            probabilities[choice.name] = probs.tolist()
            entropy[choice.name] = -float((probs * log_probs.masked_fill(~mask, 0.0)).sum())
            indices.append(int(probs.argmax()))
            inputs = self.embeddings[position](torch.tensor([indices[-1]]))
        return result
