"""`synfinance bench api`: the scoring API against a no-op Serve endpoint (the platform floor), in one run.

Everything targets 127.0.0.1 and is bounded in time and count. The load generator is asyncio + aiohttp
in the driver process (it shares the two cores with the app, as a client on the same laptop would).
Each client owns a disjoint set of customers and sends their transactions oldest first, so no request
is refused for being older than its customer's last one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import json
import math
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from ray import serve
from starlette.requests import Request
from starlette.responses import Response

from serve.columnar import ARROW_STREAM, to_stream
from synfinance.features.inputs import INPUT_COLUMNS
from synfinance.generation import GenerationParams
from synfinance.generation.replay import replayed
from synfinance.model import registry
from synfinance.model.fitting import fit_model
from synfinance.output.dataset import read_dataset
from synfinance.runner import write_dataset
from synfinance.settings import load_settings
from synfinance.settings.models import RayConfig

CLIENTS = 8
CLOSED_LOOP_CLIENTS = 32  # concurrent single scores in the closed loop (the maximum rate)
CLOSED_LOOP_MAX_RATE = 3_000  # single scores/s the closed-loop phase has bodies for
OPEN_RATE = 1_000  # the open-loop phase: single scores/s
OPEN_CLIENTS = 64  # its customer groups: each sends its own in order, on the fixed schedule
BATCHES_PER_RUN = 8  # per client, in each batch run
KEY = "bench-key-0c1d"
METRICS_OFF = "/off"  # the same app with monitoring.metrics_enabled false: the baseline of the metrics' cost
TRACE_SAMPLED = "/trace01"  # tracing to files, 10 % of requests sampled
TRACE_ALL = "/trace10"  # tracing to files, every request
SHARDED = "/shards"  # the feature store in two shard actors (server.feature_store: shards), one hop per score
MODES = {"on": "", "off": METRICS_OFF, "trace-0.1": TRACE_SAMPLED, "trace-1.0": TRACE_ALL, "shards": SHARDED}


@serve.deployment(ray_actor_options={"num_cpus": 0}, max_ongoing_requests=256)
class Noop:
    """The floor: one Serve hop that reads the body and answers a constant."""

    async def __call__(self, request: Request) -> Response:
        await request.body()
        return Response(b'{"ok": true}', media_type="application/json")


@dataclass
class Load:
    latencies_ms: list[float]
    errors: int
    seconds: float

    def quantile(self, q: float) -> float:
        return float(np.quantile(self.latencies_ms, q)) if self.latencies_ms else float("nan")

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds


def cluster_cpu_s() -> float:
    """CPU seconds used so far by every live process of the local Ray cluster's actors (the apps, Serve's proxy
    and controller): divided by the requests answered, CPU per request, which scheduling noise on a shared
    machine hardly moves (a closed loop's throughput swings +-15 % here)."""
    import os

    from actors.handles import actor_pids

    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for _, pid in actor_pids(None):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        except (OSError, TypeError, IndexError, ValueError):
            continue  # gone, or not on this machine
    return total


def by_client(data: Path, clients: int = CLIENTS) -> list[pa.Table]:
    """The dataset's observable fields, read once, split so each client owns a disjoint set of customers;
    each client's rows oldest first."""
    table = read_dataset(data, verify=False)["transactions"].select(list(INPUT_COLUMNS))
    table = table.sort_by([("timestamp", "ascending")])
    client = pc.dictionary_encode(table["customer_id"]).combine_chunks().indices.to_numpy() % clients
    return [table.filter(pa.array(client == c)) for c in range(clients)]


def moved(per_client: list[pa.Table], years: int, limit: int) -> list[pa.Table]:
    """Per client, its first `limit` transactions moved `years` after the dataset, under new ids."""
    return [replayed(t.slice(0, limit), f"Y{years}-", dt.timedelta(days=365 * years)) for t in per_client]


def bodies(per_client: list[pa.Table], years: int, limit: int) -> list[list[bytes]]:
    """Per client, JSON bodies of its first `limit` transactions moved `years` after the dataset (new ids)."""
    return [[json.dumps(row, default=str).encode() for row in t.to_pylist()] for t in moved(per_client, years, limit)]


async def load(url: str, per_client: list[list[bytes]], seconds: float, rate: float | None = None,
               media: str = "application/json") -> Load:
    """Each client posts its bodies in order for `seconds`: at a fixed total `rate` (open loop: request k of
    client w is due at start + (k * clients + w) / rate), or, with no rate, each as soon as the previous one
    was answered (closed loop). Latency is measured from when a request was due (open loop: a request a slow
    answer held back counts its wait, no coordinated omission) or from send (closed loop). A client sends its
    own requests one after another (its customers' transactions must arrive in time order); with enough clients
    for the rate, an open loop stays on schedule unless answers slow down."""
    clients = len(per_client)
    result = Load([], 0, 0.0)
    headers = {"X-API-Key": KEY, "Content-Type": media, "Accept": media}
    start = 0.0  # set once the heap is quiet (below)

    async def client(w: int, session: aiohttp.ClientSession) -> None:
        for k, body in enumerate(per_client[w]):
            due = start + (k * clients + w) / rate if rate else time.perf_counter()
            if due - start >= seconds:
                return
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            sent = due if rate else time.perf_counter()
            async with session.post(url, data=body, headers=headers) as r:
                await r.read()
                result.errors += r.status != 200
            result.latencies_ms.append((time.perf_counter() - sent) * 1000)

    with quiet_heap():
        start = time.perf_counter() + (0.2 if rate else 0.0)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients)) as session:
            await asyncio.gather(*(client(w, session) for w in range(clients)))
    result.seconds = time.perf_counter() - start
    return result


@contextmanager
def quiet_heap() -> Iterator[None]:
    """The load generator's own garbage collector kept out of the measurement: what is alive when a phase starts
    (the dataset's tables, Ray, the bodies) is collected and frozen, so a full collection during the phase scans only
    what the phase made. Without it, a full collection of the driver's heap paused every client for ~126 ms in the
    middle of the 1,000 req/s open loop, and that pause was counted as the server's latency (from each request's
    due time): it alone made the phase's p99."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def rows_per_s(done: Load, batch_size: int) -> float:
    return len(done.latencies_ms) * batch_size / done.seconds


def batches(per_client: list[list[bytes]], size: int) -> list[list[bytes]]:
    """Per client, batch bodies of `size` of its transactions, oldest first."""
    return [[b'{"transactions": [' + b",".join(rows[i:i + size]) + b"]}" for i in range(0, len(rows) - size + 1, size)]
            for rows in per_client]


def arrow_batches(per_client: list[pa.Table], years: int, size: int, count: int) -> list[list[bytes]]:
    """Per client, Arrow IPC bodies of `size` of its first `count` transactions moved `years` on, oldest first."""
    return [[to_stream(t.slice(i, size)) for i in range(0, t.num_rows - size + 1, size)]
            for t in moved(per_client, years, count)]


def run(count: int, seconds: float, rate: float, batch_size: int, runs: int,
        on_step: Callable[[str], None] = print) -> dict[str, Any]:
    from actors.handles import deploy, serving, session
    from serve.builder import APP_NAME, build_app

    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        data, models = Path(tmp) / "ds", Path(tmp) / "models"
        on_step(f"generating {count:,} transactions with features and training a model ...")
        write_dataset(GenerationParams(count=count, seed=5), data, features=True)
        registry.deploy(models, fit_model(data, models, seed=1, num_threads=2).version)
        environ = {"SYNFINANCE_SECURITY__API_KEYS": json.dumps([{"name": "bench", "key": KEY, "scopes": ["score"]}]),
                   "SYNFINANCE_SECURITY__RATE_LIMIT__REQUESTS_PER_S": "1000000",
                   "SYNFINANCE_SECURITY__RATE_LIMIT__BURST": "1000000"}
        overrides: dict[str, Any] = {"ml.registry_path": str(models), "server.warm_from": str(data)}
        loaded = load_settings(env="test", environ=environ, overrides=overrides)
        variants: dict[str, dict[str, Any]] = {  # route prefix -> the same app with one thing changed
            METRICS_OFF: {"monitoring.metrics_enabled": False},
            TRACE_SAMPLED: {"monitoring.tracing.exporter": "file", "monitoring.tracing.sampling_ratio": 0.1,
                            "monitoring.tracing.file_dir": str(Path(tmp) / "spans")},
            TRACE_ALL: {"monitoring.tracing.exporter": "file", "monitoring.tracing.sampling_ratio": 1.0,
                        "monitoring.tracing.file_dir": str(Path(tmp) / "spans")},
            SHARDED: {"server.feature_store": "shards", "server.feature_shards": 2},
        }
        port = loaded.settings.server.port
        base = f"http://127.0.0.1:{port}"
        with session(RayConfig(num_cpus=2)), serving("127.0.0.1", port):
            on_step("starting the app and the no-op floor ...")
            deploy(build_app(loaded.settings, loaded.version), APP_NAME)
            deploy(Noop.bind(), "noop", "/noop")  # type: ignore[attr-defined]
            # the targets' phases run with only the app and the floor deployed: an idle app's replicas and actors
            # take ~7 % of this machine's CPU (Serve's controller, metrics pushes, health checks)
            rows = by_client(data)  # the dataset read once for both halves
            measured = asyncio.run(_targets(base, data, rows, seconds, rate, batch_size, runs, on_step))
            on_step("starting variants of the app (metrics off, tracing at 0.1 and 1.0, the feature store in "
                    "shards) ...")
            for prefix, changed in variants.items():
                variant = load_settings(env="test", environ=environ, overrides={**overrides, **changed})
                deploy(build_app(variant.settings, variant.version), prefix.strip("/"), prefix)
            compared = asyncio.run(_comparisons(base, rows, seconds, rate, batch_size, runs, on_step))
            return measured | compared | {"count": count}


async def _targets(base: str, data: Path, rows: list[pa.Table], seconds: float, rate: float, batch_size: int,
                   runs: int, on_step: Callable[[str], None]) -> dict[str, Any]:
    """The phases the serving targets are read from: the floor, single scores (paced, closed, open loop), batches."""
    groups, crowd = by_client(data, OPEN_CLIENTS), by_client(data, CLOSED_LOOP_CLIENTS)
    paced = math.ceil(rate * seconds / CLIENTS) + 1  # requests each client sends in a fixed-rate phase
    warm = bodies(rows, 1, 20)
    await load(base + "/v1/score", warm, 1.0, rate)  # connections and code paths warm
    await load(base + "/noop", warm, 1.0, rate)
    on_step(f"floor: no-op endpoint at {rate:g} req/s, {CLIENTS} clients, {seconds:g} s ...")
    floor = await load(base + "/noop", bodies(rows, 2, paced), seconds, rate)
    on_step(f"/v1/score at {rate:g} req/s, {CLIENTS} clients, {seconds:g} s ...")
    score = await load(base + "/v1/score", bodies(rows, 3, paced), seconds, rate)
    on_step(f"/v1/score closed loop, {CLOSED_LOOP_CLIENTS} clients, {seconds / 3:g} s ...")
    # enough for CLOSED_LOOP_MAX_RATE req/s; a faster app runs out early, which shortens but does not skew it
    top = await load(base + "/v1/score", bodies(crowd, 4, math.ceil(CLOSED_LOOP_MAX_RATE * seconds / 3
                                                                     / CLOSED_LOOP_CLIENTS)), seconds / 3)
    on_step(f"/v1/score open loop at {OPEN_RATE:,} req/s, {OPEN_CLIENTS} customer groups, {seconds:g} s ...")
    opened = await load(base + "/v1/score", bodies(groups, 5, math.ceil(OPEN_RATE * seconds / OPEN_CLIENTS) + 1),
                        seconds, OPEN_RATE)
    on_step(f"/v1/score/batch: {batch_size:,}-transaction batches, 2 clients, {runs} runs, JSON then Arrow ...")
    per_run = BATCHES_PER_RUN * batch_size
    json_runs, arrow_runs, bare_runs = [], [], []
    for r in range(runs):  # each run replays the clients' rows a year later than the one before: still in order
        json_body = batches(bodies(rows[:2], 6 + 2 * r, per_run), batch_size)
        json_runs.append(await load(base + "/v1/score/batch", json_body, 120))
        arrow_body = arrow_batches(rows[:2], 7 + 2 * r, batch_size, per_run)
        arrow_runs.append(await load(base + "/v1/score/batch", arrow_body, 120, media=ARROW_STREAM))
        bare_body = arrow_batches(rows[2:4], 6 + 2 * r, batch_size, per_run)  # other customers: their own years
        bare_runs.append(await load(base + "/v1/score/batch?explain=none", bare_body, 120, media=ARROW_STREAM))

    batch_rate = statistics.median(rows_per_s(d, batch_size) for d in json_runs)
    arrow_rate = statistics.median(rows_per_s(d, batch_size) for d in arrow_runs)
    return {
        "rate": rate, "seconds": seconds, "clients": CLIENTS,
        "floor_p50_ms": round(floor.quantile(0.5), 3), "floor_p99_ms": round(floor.quantile(0.99), 3),
        "floor_errors": floor.errors,
        "score_p50_ms": round(score.quantile(0.5), 3), "score_p95_ms": round(score.quantile(0.95), 3),
        "score_p99_ms": round(score.quantile(0.99), 3),
        "score_requests": len(score.latencies_ms), "score_errors": score.errors,
        "score_p50_over_floor_ms": round(score.quantile(0.5) - floor.quantile(0.5), 3),
        "max_score_rate_per_s": round(top.rate, 1), "max_rate_p50_ms": round(top.quantile(0.5), 3),
        "max_rate_errors": top.errors, "max_rate_clients": CLOSED_LOOP_CLIENTS,
        "open_1000_rate_per_s": round(opened.rate, 1), "open_1000_p50_ms": round(opened.quantile(0.5), 3),
        "open_1000_p99_ms": round(opened.quantile(0.99), 3), "open_1000_errors": opened.errors,
        "open_1000_requests": len(opened.latencies_ms),
        "batch_size": batch_size, "batch_rows_per_s": round(batch_rate),
        "runs_batch_rows_per_s": [round(rows_per_s(d, batch_size)) for d in json_runs],
        "batch_errors": sum(d.errors for d in json_runs),
        "arrow_batch_rows_per_s": round(arrow_rate),
        "runs_arrow_batch_rows_per_s": [round(rows_per_s(d, batch_size)) for d in arrow_runs],
        "arrow_batch_errors": sum(d.errors for d in arrow_runs),
        "arrow_batch_explain_none_rows_per_s": round(statistics.median(rows_per_s(d, batch_size) for d in bare_runs)),
        "arrow_batch_explain_none_errors": sum(d.errors for d in bare_runs),
        "arrow_vs_json_batch": round(arrow_rate / batch_rate, 2),
    }


async def _comparisons(base: str, rows: list[pa.Table], seconds: float, rate: float, batch_size: int, runs: int,
                       on_step: Callable[[str], None]) -> dict[str, Any]:
    """The app against its variants, run by run: metrics off, tracing at 0.1 and 1.0, the store in shards."""
    warm = bodies(rows, 1, 20)
    per_run = BATCHES_PER_RUN * batch_size

    on_step(f"metrics on vs off, tracing at 0.1 and 1.0, the store in shards: /v1/score closed loop and "
            f"{batch_size:,}-row JSON batches, rotating, {runs} runs each ...")
    measured: dict[str, dict[str, list[float]]] = {mode: {"score": [], "batch": []} for mode in MODES}
    per_loop = math.ceil(CLOSED_LOOP_MAX_RATE * seconds / 3 / CLIENTS)
    for prefix in MODES.values():  # every app's connections and code paths warm
        await load(base + prefix + "/v1/score", warm, 1.0, rate)
    order = list(MODES.items())
    cpu: dict[str, list[float]] = {mode: [] for mode in MODES}  # CPU ms per single score, per run
    for r in range(runs):  # each app keeps its own feature store: each sees each year once, in order
        for mode, prefix in order[r % len(order):] + order[:r % len(order)]:  # a different mode first each run
            before = cluster_cpu_s()
            done = await load(base + prefix + "/v1/score", bodies(rows, 20 + r, per_loop), seconds / 3)
            cpu[mode].append(1000 * (cluster_cpu_s() - before) / max(1, len(done.latencies_ms)))
            measured[mode]["score"].append(done.rate)
            json_body = batches(bodies(rows[:2], 40 + r, per_run), batch_size)
            batch = await load(base + prefix + "/v1/score/batch", json_body, 120)
            measured[mode]["batch"].append(rows_per_s(batch, batch_size))
    median = {mode: {k: statistics.median(v) for k, v in parts.items()} for mode, parts in measured.items()}

    def loss(mode: str, baseline: str, kind: str) -> float:
        return round(1 - median[mode][kind] / median[baseline][kind], 4)

    cpu_ms = {mode: statistics.median(v) for mode, v in cpu.items()}

    def ratio(mode: str, baseline: str, kind: str) -> float:
        """The median of run-by-run ratios: each run of a mode is next in time to the same run of the baseline, so
        a drift of the machine's load between runs cancels (steadier than a ratio of medians). Rates compare mode
        over baseline; CPU per score baseline over mode (less CPU is more capacity)."""
        ours, theirs = (cpu[baseline], cpu[mode]) if kind == "cpu" else (measured[mode][kind], measured[baseline][kind])
        return statistics.median(a / b for a, b in zip(ours, theirs, strict=True))

    def paired(mode: str, baseline: str, kind: str) -> float:
        """What mode loses against baseline: 1 - ratio."""
        return round(1 - ratio(mode, baseline, kind), 4)

    def cpu_loss(mode: str, baseline: str) -> float:
        """Capacity lost on a saturated machine: 1 - (CPU per score of the baseline) / (CPU per score of mode)."""
        return round(1 - cpu_ms[baseline] / cpu_ms[mode], 4)

    return {
        **{f"{mode}_score_rate_per_s": round(median[mode]["score"], 1) for mode in MODES},
        **{f"{mode}_batch_rows_per_s": round(median[mode]["batch"]) for mode in MODES},
        "metrics_score_throughput_loss": loss("on", "off", "score"),
        "metrics_batch_throughput_loss": loss("on", "off", "batch"),
        "tracing_0.1_score_throughput_loss": loss("trace-0.1", "on", "score"),
        "tracing_0.1_batch_throughput_loss": loss("trace-0.1", "on", "batch"),
        "tracing_1.0_score_throughput_loss": loss("trace-1.0", "on", "score"),
        "tracing_1.0_batch_throughput_loss": loss("trace-1.0", "on", "batch"),
        **{f"{mode}_cpu_ms_per_score": round(cpu_ms[mode], 3) for mode in MODES},
        "metrics_cpu_capacity_loss": cpu_loss("on", "off"),
        **{f"{name}_paired_{kind}_loss": paired(mode, base, kind) for name, mode, base in (
            ("metrics", "on", "off"), ("tracing_0.1", "trace-0.1", "on"), ("tracing_1.0", "trace-1.0", "on"))
           for kind in ("score", "batch", "cpu")},
        # the default layout (the store in the ingress) against the store in shard actors, run by run
        "ingress_over_shards_score_rate": round(ratio("on", "shards", "score"), 3),
        "ingress_over_shards_batch_rate": round(ratio("on", "shards", "batch"), 3),
        "shards_over_ingress_cpu_per_score": round(ratio("on", "shards", "cpu"), 3),
        "tracing_0.1_cpu_capacity_loss": cpu_loss("trace-0.1", "on"),
        "tracing_1.0_cpu_capacity_loss": cpu_loss("trace-1.0", "on"),
        "runs_cpu_ms_per_score": {mode: [round(x, 3) for x in v] for mode, v in cpu.items()},
        "runs_by_mode": {mode: {k: [round(x, 1) for x in v] for k, v in parts.items()}
                         for mode, parts in measured.items()},
    }
