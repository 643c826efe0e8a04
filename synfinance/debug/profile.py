"""Profile a synfinance command in this process: CPU by function (cProfile), memory by allocation site
(tracemalloc), and wall-clock time by stage (the command's own trace spans, written to a temporary directory).

    report = profile(["generate", "transactions", "--count", "100000", "--out", "ds"], memory=True)
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from synfinance.observability import tracing
from synfinance.settings import load_settings

HIDDEN = ("/click/", "synfinance/debug/profile.py", "synfinance/cli/debug.py", "cProfile", "<frozen")  # wrappers
STAGE_ENV = {"SYNFINANCE_MONITORING__TRACING__EXPORTER": "file",
             "SYNFINANCE_MONITORING__TRACING__SAMPLING_RATIO": "1.0"}


def profile(run: Callable[[], Any], memory: bool = False, top: int = 15) -> dict[str, Any]:
    """Run `run()` under the profilers; what took the time and the memory. The command's exceptions propagate."""
    with tempfile.TemporaryDirectory(prefix="synfinance-profile-") as spans:
        saved = {k: os.environ.get(k) for k in [*STAGE_ENV, "SYNFINANCE_MONITORING__TRACING__FILE_DIR"]}
        os.environ.update({**STAGE_ENV, "SYNFINANCE_MONITORING__TRACING__FILE_DIR": spans})
        if memory:
            tracemalloc.start(10)
        profiler = cProfile.Profile()
        started = time.perf_counter()
        try:
            profiler.runcall(run)
        finally:
            seconds = time.perf_counter() - started
            snapshot = tracemalloc.take_snapshot() if memory else None
            if memory:
                tracemalloc.stop()
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            # the profiled command may have set up the file exporter into `spans`, removed below: back to the
            # settings' own tracing (a shell runs more commands in this process)
            tracing.setup(load_settings().settings.monitoring.tracing, "cli")
        report: dict[str, Any] = {"seconds": round(seconds, 3), "cpu": _cpu(profiler, top),
                                  "stages": _stages(Path(spans))}
    if snapshot is not None:
        report["memory"] = [{"where": str(s.traceback[0]), "mb": round(s.size / 2**20, 3), "blocks": s.count}
                            for s in snapshot.statistics("lineno")[:top]]
    return report


def _cpu(profiler: cProfile.Profile, top: int) -> list[dict[str, Any]]:
    stats = pstats.Stats(profiler)
    rows = []
    for (file, line, name), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        if any(part in file for part in HIDDEN):
            continue
        rows.append({"function": f"{Path(file).name}:{line}({name})", "calls": calls, "own_s": round(own, 4),
                     "cumulative_s": round(cumulative, 4)})
    return sorted(rows, key=lambda r: -r["cumulative_s"])[:top]


def _stages(directory: Path) -> list[dict[str, Any]]:
    """Total wall-clock time per span name (the stages the code marks), longest first."""
    totals: dict[str, list[float]] = {}
    for path in directory.glob("spans-*.jsonl"):
        for line in path.read_text().splitlines():
            s = json.loads(line)
            totals.setdefault(s["name"], []).append((s["end_ns"] - s["start_ns"]) / 1e9)
    return sorted(({"stage": k, "count": len(v), "seconds": round(sum(v), 3)} for k, v in totals.items()),
                  key=lambda r: -r["seconds"])
