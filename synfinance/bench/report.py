"""Run probes in subprocesses and summarise them: medians, ratios, a table and one JSON line."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from synfinance.observability.memory import peak_rss_mb
from synfinance.output.files import atomic_path
from synfinance.settings import load_settings


def emit(kind: str, result: dict[str, Any]) -> None:
    """A probe's answer: its measurements plus this process's peak RSS, as the one JSON line run_probe reads."""
    print(json.dumps({"kind": kind, **result, "peak_rss_mb": round(peak_rss_mb(), 1)}))


def run_probe(module: str, args: Sequence[str]) -> dict[str, Any]:
    """Run `python -m module args...` and return the JSON object on its last stdout line."""
    done = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark probe {module} {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def repeat_probe(module: str, kind: str, count: int, runs: int, with_out: bool = True,
                 extra: Sequence[str] = ()) -> list[dict[str, Any]]:
    results = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix=f"synfinance-bench-{kind}-") as tmp:
            out = [str(Path(tmp) / "out")] if with_out else []
            results.append(run_probe(module, [kind, str(count), *out, *extra]))
    return results


def median(results: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in results))


def print_report(title: str, rows: list[tuple[str, str, str]], summary: dict[str, Any], kind: str,
                 show: tuple[bool, bool] = (True, True)) -> None:
    """The table and the JSON line on stdout (each as `show` says), and the JSON kept as
    quality.bench_dir/<kind>.json (the latest figures of each benchmark, which quality gates and baselines read)."""
    table = Table(title=title)
    for header in ("measure", "value", "note"):
        table.add_column(header)
    for row in rows:
        table.add_row(*row)
    if show[0]:
        Console().print(table)
    line = json.dumps(summary, sort_keys=True)
    if show[1]:
        print(line)
    folder = Path(load_settings().settings.quality.bench_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(folder / f"{kind}.json") as tmp:
            tmp.write_text(line + "\n")
    except OSError as exc:
        Console(stderr=True).print(f"warning: benchmark figures not kept in {folder}: {exc.strerror}")
