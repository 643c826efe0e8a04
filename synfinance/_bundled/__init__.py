"""Where the files beside the code are: config/, migrations/ and monitoring/ of a checkout, or the copies a wheel
carries as synfinance._bundled.<name> (setup.py maps them there for `pip install .`)."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """The directory `name` (config, migrations or monitoring): the installed copy, else the checkout's."""
    installed = HERE / name
    return installed if installed.is_dir() else HERE.parents[1] / name
