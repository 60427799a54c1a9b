"""Where and how many evaluations run at once: the executor's settings, declared once."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from rlnas.errors import UserError
from rlnas.execution import EXECUTORS
from rlnas.settings import Settings


class ExecutionSettings(Settings):
    """How a search spreads its evaluations (see ``rlnas.execution``)."""

    workers: int = Field(1, ge=1, description="Architectures evaluated at once.")
    executor: str | None = Field(
        None,
        description=f"{', '.join(EXECUTORS)} (default: serial for 1 worker, else process).",
        json_schema_extra={"choices": list(EXECUTORS)},
    )
    address: str | None = Field(
        None, description="Ray cluster to join: auto or HOST:PORT (executor ray only)."
    )
    trial_timeout: float | None = Field(
        None, gt=0, description="Fail a trial that runs longer than this many seconds."
    )
    gpus_per_trial: float | None = Field(
        None,
        ge=0,
        description="GPUs each Ray actor asks for; fractions share a GPU (executor ray only).",
    )
    cpus_per_trial: float | None = Field(
        None, gt=0, description="CPUs each Ray actor asks for (default 1; executor ray only)."
    )

    @field_validator("executor")
    @classmethod
    def _a_known_executor(cls, name: str | None) -> str | None:
        if name is not None and name not in EXECUTORS:
            raise ValueError(f"no executor {name!r}; choose one of {', '.join(EXECUTORS)}")
        return name

    def executor_options(self, store: Path | None) -> dict[str, object]:
        """What the ray executor needs: the cluster to join, or where a local Ray keeps files,
        and the resources of each actor."""
        if self.executor != "ray":
            if self.address is not None:
                raise UserError("the address of a Ray cluster applies to the ray executor only")
            if self.gpus_per_trial is not None or self.cpus_per_trial is not None:
                raise UserError(
                    "gpus and cpus per trial apply to the ray executor only; the process "
                    "executor gives each worker its own GPU and splits the CPU threads"
                )
            return {}
        resources: dict[str, object] = {
            name: value
            for name, value in (
                ("gpus_per_trial", self.gpus_per_trial),
                ("cpus_per_trial", self.cpus_per_trial),
            )
            if value is not None
        }
        if self.address is not None:
            return {"address": self.address, **resources}
        return {"temp_dir": None if store is None else store.with_suffix(".ray"), **resources}
