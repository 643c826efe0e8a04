"""`synfinance bench ...`: performance measurements printed as a table plus one JSON line."""

from __future__ import annotations

import statistics
from typing import Any

import click

from synfinance.bench.report import median, print_report, repeat_probe, run_probe
from synfinance.cli.conventions import Section, quiet, wants_json

PROBE = "synfinance.bench.probe"


@click.group(cls=Section)
def bench() -> None:
    """Benchmarks (medians of repeated runs, each in a fresh process)."""


def report(title: str, rows: list[tuple[str, str, str]], summary: dict[str, Any], kind: str) -> None:
    """The table and the JSON line; --json: the JSON alone; --quiet: neither (the figures are still kept)."""
    print_report(title, rows, summary, kind, show=(not (quiet() or wants_json()), wants_json() or not quiet()))


@bench.command("generate", example="synfinance bench generate --count 20000")
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
    report(
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
        kind="generate",
    )


@bench.command("features", example="synfinance bench features --count 5000")
@click.option("--count", type=click.IntRange(min=1000), default=1_000_000, show_default=True)
@click.option("--runs", type=click.IntRange(min=3), default=3, show_default=True)
def features_bench(count: int, runs: int) -> None:
    """Feature extraction: batch rows/s per core, online p50/p99, peak RSS, state size vs transactions."""
    probe = "synfinance.bench.features_probe"
    batch = repeat_probe(probe, "batch", count, runs, with_out=False)
    floor = repeat_probe(probe, "floor", count, runs, with_out=False)
    online = repeat_probe(probe, "online", count, runs, with_out=False)
    customers = str(max(100, count // 100))  # the default population for count, kept for the 2x run
    double = repeat_probe(probe, "batch", 2 * count, 1, with_out=False, extra=[customers])[0]
    rows_per_s = count / median(batch, "seconds")
    floor_rows_per_s = count / median(floor, "seconds")
    summary = {
        "count": count, "runs": runs,
        "batch_rows_per_s": round(rows_per_s), "floor_rows_per_s": round(floor_rows_per_s),
        "ratio_to_floor": round(rows_per_s / floor_rows_per_s, 3),
        "online_p50_ms": round(median(online, "p50_ms"), 3), "online_p99_ms": round(median(online, "p99_ms"), 3),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in batch), "peak_rss_mb_double": double["peak_rss_mb"],
        "state_mb": round(median(batch, "state_mb"), 1), "state_mb_double": round(double["state_mb"], 1),
        "runs_batch_rows_per_s": [round(count / r["seconds"]) for r in batch],
    }
    report(
        f"bench features: {count:,} transactions, median of {runs}, one core",
        [
            ("batch extraction", f"{rows_per_s:,.0f} rows/s", "69 features, shard by shard; target >= 200,000"),
            ("floor: input conversion", f"{floor_rows_per_s:,.0f} rows/s", "reading the input columns only"),
            ("online p50 / p99", f"{summary['online_p50_ms']} / {summary['online_p99_ms']} ms",
             "one transaction, warm state; target p99 <= 1 ms"),
            ("peak RSS", f"{summary['peak_rss_mb']:,.0f} MB (2x count: {summary['peak_rss_mb_double']:,.0f} MB)",
             "whole process, data included"),
            ("feature state", f"{summary['state_mb']} MB (2x count: {summary['state_mb_double']} MB)",
             "same customers: grows with keys, not transactions"),
        ],
        summary,
        kind="features",
    )


@bench.command("quality", example="synfinance bench quality --count 10000")
@click.option("--count", type=click.IntRange(min=10_000), default=1_000_000, show_default=True)
@click.option("--runs", type=click.IntRange(min=3), default=3, show_default=True)
def quality_bench(count: int, runs: int) -> None:
    """Data-quality checks on one core: every validator over COUNT transactions with features, against the
    same-run floor of reading the dataset."""
    import tempfile
    from pathlib import Path

    probe = "synfinance.bench.quality_probe"
    with tempfile.TemporaryDirectory(prefix="synfinance-bench-quality-") as tmp:
        data = str(Path(tmp) / "dataset")
        run_probe(probe, ["generate", str(count), data])
        results = [run_probe(probe, ["check", str(count), data]) for _ in range(runs)]
    per_million = 1_000_000 / count
    check_s, read_s = median(results, "check_seconds"), median(results, "read_seconds")
    slowest = sorted(results[0]["validators"], key=lambda n: -statistics.median(r["validators"][n] for r in results))
    summary = {
        "count": count, "runs": runs, "check_seconds_1m": round(check_s * per_million, 3),
        "read_seconds_1m": round(read_s * per_million, 3), "check_to_read": round(check_s / read_s, 3),
        "validator_seconds_1m": {n: round(statistics.median(r["validators"][n] for r in results) * per_million, 3)
                                 for n in slowest},
        "runs_check_seconds": [round(r["check_seconds"], 3) for r in results],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in results), "violations": results[0]["violations"],
    }
    report(
        f"bench quality: {count:,} transactions with features, median of {runs}, one core",
        [
            ("check (every validator)", f"{summary['check_seconds_1m']:.2f} s per 1M rows", "target <= 5 s"),
            ("floor: read the dataset", f"{summary['read_seconds_1m']:.2f} s per 1M rows", "Parquet, 119 columns"),
            ("check / read", f"{summary['check_to_read']:.2f}", "same run"),
            ("slowest validators", ", ".join(f"{n} {summary['validator_seconds_1m'][n]:.2f} s" for n in slowest[:3]),
             "per 1M rows"),
            ("peak RSS", f"{summary['peak_rss_mb']:,.0f} MB", "whole process, data included"),
        ],
        summary,
        kind="quality",
    )


@bench.command("model", example="synfinance bench model --count 10000")
@click.option("--count", type=click.IntRange(min=10_000), default=1_000_000, show_default=True)
@click.option("--runs", type=click.IntRange(min=3), default=3, show_default=True)
def model_bench(count: int, runs: int) -> None:
    """LightGBM: training time (2 threads), batch prediction rows/s, single-row predict p50/p99."""
    probe = "synfinance.bench.model_probe"
    trains = repeat_probe(probe, "train", count, runs, with_out=False)
    predicts = repeat_probe(probe, "predict", count, runs, with_out=False)
    train_s = median(trains, "seconds")
    summary = {
        "count": count, "runs": runs, "train_rows": trains[0]["rows"],
        "train_seconds": round(train_s, 2), "runs_train_seconds": [round(r["seconds"], 2) for r in trains],
        "batch_predict_rows_per_s": round(median(predicts, "batch_rows_per_s")),
        "single_predict_p50_ms": round(median(predicts, "p50_ms"), 3),
        "single_predict_p99_ms": round(median(predicts, "p99_ms"), 3),
        "predict_1m_seconds": round(median(predicts, "predict_1m_seconds"), 2),
        "runs_predict_1m_seconds": [round(r["predict_1m_seconds"], 2) for r in predicts],
        "explained_share": round(predicts[0]["explained_share"], 4),
    }
    report(
        f"bench model: {count:,} transactions, median of {runs}",
        [
            ("training (2 threads)", f"{train_s:.1f} s", f"{trains[0]['rows']:,} training rows; target <= 60 s"),
            ("batch prediction", f"{summary['batch_predict_rows_per_s']:,} rows/s", "target >= 200,000"),
            ("single-row p50 / p99", f"{summary['single_predict_p50_ms']} / {summary['single_predict_p99_ms']} ms",
             "in-process, 1 thread; target p99 <= 1 ms"),
            ("scoring path, per 1M rows", f"{summary['predict_1m_seconds']} s",
             f"policy + reasons for the {summary['explained_share']:.1%} flagged + Arrow; target <= 20 s"),
        ],
        summary,
        kind="model",
    )


@bench.command("db", example="synfinance bench db --count 10000")
@click.option("--count", type=click.IntRange(min=10_000), default=1_000_000, show_default=True)
@click.option("--runs", type=click.IntRange(min=3), default=3, show_default=True)
def db_bench(count: int, runs: int) -> None:
    """PostgreSQL: bulk COPY load, idempotent reload, incremental load; get-by-id and page-query latency."""
    from synfinance.settings import load_settings

    url = load_settings().settings.database.url.get_secret_value()
    r = run_probe("synfinance.bench.db_probe", ["db", str(count), str(runs), url])
    load_s, reload_s = statistics.median(r["load_s"]), statistics.median(r["reload_s"])
    increment_s = statistics.median(r["increment_s"])
    summary = {
        "count": count, "runs": runs,
        "copy_rows_per_s": round(count / load_s), "runs_load_s": [round(s, 2) for s in r["load_s"]],
        "reload_s": round(reload_s, 2), "reload_rows_per_s": round(count / reload_s),
        "incremental_rows_per_s": round(r["increment_rows"] / increment_s),
        **{k: round(v, 3) for k, v in r.items() if k.endswith("_ms")},
        "peak_rss_mb": r["peak_rss_mb"],
    }
    f = summary
    report(
        f"bench db: {count:,} transactions, median of {runs} loads into a fresh schema",
        [
            ("bulk load (COPY)", f"{f['copy_rows_per_s']:,} rows/s",
             f"{load_s:.1f} s incl. labels and the index rebuild; target >= 150,000"),
            ("idempotent reload", f"{reload_s:.1f} s", f"{f['reload_rows_per_s']:,} rows/s; inserts nothing"),
            ("incremental load", f"{f['incremental_rows_per_s']:,} rows/s",
             f"{r['increment_rows']:,} new rows into the populated table, indexes maintained"),
            ("floor: SELECT 1", f"{f['floor_p50_ms']} / {f['floor_p99_ms']} ms", "p50 / p99, same connection"),
            ("get by id", f"{f['get_by_id_p50_ms']} / {f['get_by_id_p99_ms']} ms",
             f"p50 / p99 = {f['get_by_id_p99_ms'] / f['floor_p99_ms']:.1f}x floor p99; target p99 <= 5 ms"),
            ("page: customer, 50 rows", f"{f['page_p50_ms']} / {f['page_p99_ms']} ms", "target p99 <= 20 ms"),
            ("page: merchant since date", f"{f['merchant_page_p50_ms']} / {f['merchant_page_p99_ms']} ms",
             "50 rows"),
        ],
        {**summary, "page_query_p99_ms": summary["page_p99_ms"]},
        kind="db",
    )


@bench.command("pipeline", example="synfinance bench pipeline --count 10000 --large 20000")
@click.option("--count", type=click.IntRange(min=10_000), default=1_000_000, show_default=True)
@click.option("--large", type=click.IntRange(min=10_000), default=10_000_000, show_default=True,
              help="Rows of the memory-flatness run (2 workers, once).")
@click.option("--runs", type=click.IntRange(min=3), default=3, show_default=True)
def pipeline_bench(count: int, large: int, runs: int) -> None:
    """Ray pipeline (generate + patterns + features -> Parquet): 1 vs 2 workers, in-process floor, peak RSS."""
    probe = "actors.bench"
    local = repeat_probe(probe, "local", count, runs)
    one = repeat_probe(probe, "pipeline", count, runs, extra=["1"])
    two = repeat_probe(probe, "pipeline", count, runs, extra=["2"])
    big = repeat_probe(probe, "pipeline", large, 1, extra=["2"])[0]
    r1, r2, r0 = median(one, "rows_per_s"), median(two, "rows_per_s"), median(local, "rows_per_s")

    def peak(result: dict[str, Any], key: str) -> float:
        """The largest process: the driver's RSS and each actor's `key` memory."""
        return float(max([result["peak_rss_mb"], *(m[key] for m in result["actors_usage"].values())]))

    cpu = {name: median(results, "cpu_us_per_row") for name, results in
           (("in_process", local), ("workers_1", one), ("workers_2", two))}
    rss_1m = statistics.median(peak(r, "peak_rss_mb") for r in two)
    private_1m = statistics.median(peak(r, "peak_private_mb") for r in two)
    summary = {
        "count": count, "runs": runs, "large": large,
        "workers_1_rows_per_s": round(r1), "workers_2_rows_per_s": round(r2), "speedup": round(r2 / r1, 2),
        "in_process_rows_per_s": round(r0), "workers_2_vs_in_process": round(r2 / r0, 2),
        "peak_rss_mb_1m": round(private_1m, 1), "peak_rss_mb_10m": round(peak(big, "peak_private_mb"), 1),
        "rss_ratio_10m_to_1m": round(peak(big, "peak_private_mb") / private_1m, 2),
        "rss_incl_shared_store_pages_mb_1m": round(rss_1m, 1),
        "rss_incl_shared_store_pages_mb_10m": round(peak(big, "peak_rss_mb"), 1),
        "large_rows_per_s": round(big["rows_per_s"]),
        "driver_peak_rss_mb_1m": statistics.median(r["peak_rss_mb"] for r in two),
        **{f"cpu_us_per_row_{name}": round(us, 2) for name, us in cpu.items()},
        "ray_overhead": round(cpu["workers_2"] / cpu["in_process"], 3),
    }
    f = summary
    report(
        f"bench pipeline: generate + patterns + features -> Parquet, median of {runs}",
        [
            ("in process, no Ray", f"{r0:,.0f} rows/s", f"{count:,} rows; the floor"),
            ("Ray, 1 worker", f"{r1:,.0f} rows/s", "+ a sink actor"),
            ("Ray, 2 workers", f"{r2:,.0f} rows/s", "target >= 250,000"),
            ("speedup 2 vs 1", f"{f['speedup']}x", "target >= 1.6x"),
            ("CPU per row: in process / 1 / 2 workers",
             f"{cpu['in_process']:.2f} / {cpu['workers_1']:.2f} / {cpu['workers_2']:.2f} us",
             f"every process summed (driver, workers, sink); Ray's overhead {f['ray_overhead']}x, target <= 1.10x"),
            (f"peak memory, {count:,}", f"{f['peak_rss_mb_1m']} MB",
             f"largest process: driver RSS, actors' private memory ({f['rss_incl_shared_store_pages_mb_1m']} MB "
             "counting touched object-store pages)"),
            (f"peak memory, {large:,}", f"{f['peak_rss_mb_10m']} MB",
             f"{f['rss_ratio_10m_to_1m']}x the smaller run; target <= 1.3x; {f['large_rows_per_s']:,} rows/s "
             f"({f['rss_incl_shared_store_pages_mb_10m']} MB with store pages)"),
        ],
        summary,
        kind="pipeline",
    )


@bench.command("api", example="synfinance bench api --count 50000 --seconds 5")
@click.option("--count", type=click.IntRange(min=50_000), default=200_000, show_default=True,
              help="Transactions generated to warm the feature store and to send.")
@click.option("--seconds", type=click.FloatRange(min=5, max=300), default=30, show_default=True,
              help="Length of each fixed-rate phase.")
@click.option("--rate", type=click.FloatRange(min=1, max=1000), default=50, show_default=True, help="Requests/s.")
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=1000, show_default=True)
@click.option("--runs", type=click.IntRange(min=3), default=3, show_default=True, help="Batch runs (median).")
def api_bench(count: int, seconds: float, rate: float, batch_size: int, runs: int) -> None:
    """/v1/score latency at a fixed rate vs a no-op Serve endpoint, max single-score rate, batch throughput."""
    from serve.bench import CLIENTS, run

    s = run(count, seconds, rate, batch_size, runs, on_step=lambda m: click.echo(m, err=True))
    report(
        f"bench api: {rate:g} req/s, {CLIENTS} clients, {seconds:g} s per phase, 127.0.0.1",
        [
            ("floor: no-op Serve endpoint p50 / p99", f"{s['floor_p50_ms']:.2f} / {s['floor_p99_ms']:.2f} ms",
             "one Serve hop, same bodies"),
            ("/v1/score p50 / p99", f"{s['score_p50_ms']:.2f} / {s['score_p99_ms']:.2f} ms", "target p99 <= 15 ms"),
            ("/v1/score p50 over floor", f"{s['score_p50_over_floor_ms']:.2f} ms", "target <= 2.5 ms"),
            ("/v1/score errors", f"{s['score_errors']} of {s['score_requests']}", "target 0"),
            ("max single-score rate", f"{s['max_score_rate_per_s']:,.0f} req/s",
             f"closed loop, {s['max_rate_clients']} clients; p50 {s['max_rate_p50_ms']:.1f} ms; target >= 1,000"),
            ("open loop at 1,000 req/s: answered, p50 / p99",
             f"{s['open_1000_rate_per_s']:,.0f}/s, {s['open_1000_p50_ms']:.1f} / {s['open_1000_p99_ms']:.1f} ms",
             f"{s['open_1000_errors']} errors; target p99 <= 50 ms"),
            (f"batch ({batch_size:,} per request), JSON", f"{s['batch_rows_per_s']:,.0f} rows/s",
             f"median of {runs}, 2 clients"),
            (f"batch ({batch_size:,} per request), Arrow", f"{s['arrow_batch_rows_per_s']:,.0f} rows/s",
             f"{s['arrow_vs_json_batch']}x JSON; Arrow IPC body and response; target >= 50,000"),
            ("store in the ingress over in shards", f"{s['ingress_over_shards_score_rate']}x single scores/s",
             f"{s['ingress_over_shards_batch_rate']}x batch rows/s; shards take "
             f"{s['shards_over_ingress_cpu_per_score']}x the CPU per score (run-by-run medians)"),
            ("metrics on / off: max single-score rate",
             f"{s['on_score_rate_per_s']:,.0f} / {s['off_score_rate_per_s']:,.0f} req/s",
             f"loss {s['metrics_score_throughput_loss']:.1%}; target <= 3 %"),
            ("metrics on / off: batch", f"{s['on_batch_rows_per_s']:,.0f} / {s['off_batch_rows_per_s']:,.0f} rows/s",
             f"loss {s['metrics_batch_throughput_loss']:.1%}; target <= 3 %; medians of {runs}, rotating"),
            ("tracing 0.1 / off: max single-score rate",
             f"{s['trace-0.1_score_rate_per_s']:,.0f} / {s['on_score_rate_per_s']:,.0f} req/s",
             f"loss {s['tracing_0.1_score_throughput_loss']:.1%}; target <= 3 %"),
            ("tracing 1.0 / off: max single-score rate",
             f"{s['trace-1.0_score_rate_per_s']:,.0f} / {s['on_score_rate_per_s']:,.0f} req/s",
             f"loss {s['tracing_1.0_score_throughput_loss']:.1%}; reported"),
            ("CPU per score: off / on / trace 0.1 / 1.0",
             " / ".join(f"{s[f'{m}_cpu_ms_per_score']:.2f}" for m in ("off", "on", "trace-0.1", "trace-1.0")) + " ms",
             f"capacity loss: metrics {s['metrics_cpu_capacity_loss']:.1%}, tracing 0.1 "
             f"{s['tracing_0.1_cpu_capacity_loss']:.1%}, 1.0 {s['tracing_1.0_cpu_capacity_loss']:.1%}"),
            ("paired run-by-run losses (score / batch / CPU)",
             f"metrics {s['metrics_paired_score_loss']:.1%} / {s['metrics_paired_batch_loss']:.1%} / "
             f"{s['metrics_paired_cpu_loss']:.1%}",
             f"tracing 0.1: {s['tracing_0.1_paired_score_loss']:.1%} / {s['tracing_0.1_paired_batch_loss']:.1%} / "
             f"{s['tracing_0.1_paired_cpu_loss']:.1%}; 1.0: {s['tracing_1.0_paired_score_loss']:.1%} / "
             f"{s['tracing_1.0_paired_batch_loss']:.1%} / {s['tracing_1.0_paired_cpu_loss']:.1%}"),
            ("tracing 0.1 and 1.0 / off: batch",
             f"{s['trace-0.1_batch_rows_per_s']:,.0f}, {s['trace-1.0_batch_rows_per_s']:,.0f} / "
             f"{s['on_batch_rows_per_s']:,.0f} rows/s",
             f"loss {s['tracing_0.1_batch_throughput_loss']:.1%} and {s['tracing_1.0_batch_throughput_loss']:.1%}"),
        ],
        s,
        kind="api",
    )
