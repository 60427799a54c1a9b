"""Where and how many evaluations run at once: the executor's settings, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from rlnas.errors import UserError
from rlnas.settings import Settings


class ExecutionSettings(Settings):
    """How a search spreads its evaluations (see ``rlnas.execution``)."""

    workers: int = Field(1, ge=1, description="Architectures evaluated at once.")
    executor: Literal["serial", "process", "ray"] | None = Field(
        None, description="serial, process or ray (default: serial for 1 worker, else process)."
    )
    address: str | None = Field(
        None, description="Ray cluster to join: auto or HOST:PORT (executor ray only)."
    )
    trial_timeout: float | None = Field(
        None, gt=0, description="Fail a trial that runs longer than this many seconds."
    )

    def executor_options(self, store: Path | None) -> dict[str, object]:
        """What the ray executor needs: the cluster to join, or where a local Ray keeps files."""
        if self.executor != "ray":
            if self.address is not None:
                raise UserError("the address of a Ray cluster applies to the ray executor only")
            return {}
        if self.address is not None:
            return {"address": self.address}
        return {"temp_dir": None if store is None else store.with_suffix(".ray")}
