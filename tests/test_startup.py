"""``rlnas list`` starts quickly: naming what rlnas knows loads neither torch nor the tasks."""

from __future__ import annotations

import subprocess
import sys


def test_list_loads_no_torch() -> None:
    code = (
        "import sys; from rlnas import cli; sys.argv = ['rlnas', 'list']\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "assert 'torch' not in sys.modules, 'rlnas list imported torch'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "spaces: chain-cnn" in done.stdout and "csv:PATH" in done.stdout


def test_a_budget_1_search_imports_no_scikit_learn(tmp_path) -> None:
    """digits' rows and the split come without scikit-learn, whose import took seconds."""
    code = (
        "import sys; from rlnas import cli\n"
        "sys.argv = ['rlnas', 'search', '--task', 'digits', '--space', 'mlp', '--budget', '1',\n"
        "            '--epochs', '1', '--store', 'runs.db']\n"
        "try:\n    cli.main()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
        "assert 'sklearn' not in sys.modules, 'the search imported scikit-learn'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "best of 1 trials" in done.stdout
