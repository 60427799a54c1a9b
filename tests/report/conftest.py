"""Fixtures of the report tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_store import build_store


@pytest.fixture(scope="session")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One store for all report tests (they only read it)."""
    return build_store(tmp_path_factory.mktemp("report") / "runs.db")
