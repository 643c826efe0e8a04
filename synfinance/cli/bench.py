"""`synfinance bench ...`: performance measurements printed as a table plus one JSON line."""

from __future__ import annotations

import click

from synfinance.bench.report import median, print_report, repeat_probe

PROBE = "synfinance.bench.probe"


@click.group()
def bench() -> None:
    """Benchmarks (medians of repeated runs, each in a fresh process)."""


@bench.command("generate")
@click.option("--count", type=click.IntRange(min=1), default=1_000_000, show_default=True)
@click.option("--runs", type=click.IntRange(min=3), default=3, show_default=True, help="Runs per measurement (median).")
def generate_bench(count: int, runs: int) -> None:
    """Generation + Parquet write throughput and peak RSS, against a same-run Parquet floor."""
    gen = repeat_probe(PROBE, "generate", count, runs)
    plain = repeat_probe(PROBE, "plain", count, runs)
    floor = repeat_probe(PROBE, "floor", count, runs)
    rows_per_s = count / median(gen, "seconds")
    plain_rows_per_s = count / median(plain, "seconds")
    floor_rows_per_s = count / median(floor, "seconds")
    peak = max(r["peak_rss_mb"] for r in gen)
    summary = {
        "count": count, "runs": runs,
        "rows_per_s": round(rows_per_s), "peak_rss_mb": peak,
        "floor_rows_per_s": round(floor_rows_per_s), "ratio_to_floor": round(rows_per_s / floor_rows_per_s, 3),
        "patterns_off_rows_per_s": round(plain_rows_per_s),
        "patterns_ratio": round(rows_per_s / plain_rows_per_s, 3),
        "runs_rows_per_s": [round(count / r["seconds"]) for r in gen],
        "runs_patterns_off_rows_per_s": [round(count / r["seconds"]) for r in plain],
        "runs_floor_rows_per_s": [round(count / r["seconds"]) for r in floor],
    }
    print_report(
        f"bench generate: {count:,} transactions, median of {runs}",
        [
            ("generate → Parquet", f"{rows_per_s:,.0f} rows/s", "patterns on: the default job"),
            ("  patterns off", f"{plain_rows_per_s:,.0f} rows/s", "same job without fraud/anomaly injection"),
            ("  patterns on / off", f"{rows_per_s / plain_rows_per_s:.3f}", "target >= 0.7"),
            ("floor: random rows → Parquet", f"{floor_rows_per_s:,.0f} rows/s", "same schema, same writer"),
            ("ratio to floor", f"{rows_per_s / floor_rows_per_s:.3f}", "generate / floor"),
            ("peak RSS (generate)", f"{peak:,.0f} MB", "max over runs, whole process"),
        ],
        summary,
    )
