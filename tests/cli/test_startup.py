"""`synfinance` starts without the libraries only a few commands need (each costs every command its import)."""

from __future__ import annotations

import subprocess
import sys

# scipy.stats (quality comparisons: 1.1 s on a 2-core machine), altair (report pages: 0.5 s), LightGBM (the model
# commands: 0.2 s), Ray and FastAPI (the pipeline and the API)
HEAVY = ("scipy.stats", "altair", "lightgbm", "ray", "fastapi")


def test_the_command_line_loads_no_library_only_some_commands_need() -> None:
    probe = f"import sys, synfinance.cli; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == []
