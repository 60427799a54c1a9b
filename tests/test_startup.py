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
