"""Running a scenario against a stack, and its verdict.

    verdict = run(load_scenario("db-down-serving"), stack)
    verdict.passed, verdict.rows()     # the table `synfinance chaos run` prints

The verdict counts like a Jepsen checker: every write the API acknowledged (2xx) must be stored exactly once at
the end (lost: acknowledged, not stored; duplicated: stored more than once); a pipeline or a load must leave
exactly the rows it was given. Time to recover is from the last fault step to the end of the last failed answer.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import requests

from actors.handles import serve_pids
from actors.pipeline import run_pipeline
from chaos.faults import FullDisk, WorkerFaults
from chaos.load import Answer, Ledger, Load, Requests
from chaos.scenario import ARMED, Probe, Scenario, Step
from chaos.stack import APP, Stack, app_settings
from serve.schemas import TransactionIn
from synfinance.errors import OutputError, SynFinanceError
from synfinance.features.inputs import INPUT_COLUMNS, INPUT_SCHEMA
from synfinance.features.online import OnlineShard, shard_of
from synfinance.generation import GenerationParams
from synfinance.output.dataset import read_manifest
from synfinance.output.files import sha256_file
from synfinance.sinks import DatasetSink, Sink
from synfinance.sinks.postgres import PostgresSink
from synfinance.store.connect import Database
from synfinance.store.load import load_dataset
from synfinance.store.migrations import migrate
from synfinance.store.repository import TransactionRepository

T = TypeVar("T")
PROBE_WAIT_S = 5.0  # a probe step waits this long for its condition
STEADY_WAIT_S = 30.0  # the hypothesis after the method waits this long (or recover_within_s) to hold again


@dataclass(frozen=True)
class Check:
    name: str
    expected: str
    observed: str
    passed: bool


@dataclass
class Verdict:
    scenario: str
    title: str
    requests: int = 0
    answers: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> status -> count
    accepted: int = 0  # writes acknowledged (api), rows given (pipeline, db-load)
    stored: int = 0  # of those, stored (rows present at the end)
    lost: int = 0
    duplicated: int = 0
    recover_s: float | None = None
    checks: list[Check] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    def check(self, name: str, expected: str, observed: Any, passed: bool) -> None:
        self.checks.append(Check(name, expected, str(observed), bool(passed)))

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}

    def rows(self) -> list[tuple[str, str]]:
        """The verdict table: (what, value)."""
        answers = "; ".join(f"{k} " + " ".join(f"{s}×{n}" for s, n in sorted(v.items()))
                            for k, v in sorted(self.answers.items())) or "-"
        recover = "-" if self.recover_s is None else f"{self.recover_s:.1f} s"
        return [("requests sent", f"{self.requests:,}"), ("answers by status", answers),
                ("records accepted", f"{self.accepted:,}"), ("records stored", f"{self.stored:,}"),
                ("lost", f"{self.lost:,}"), ("duplicated", f"{self.duplicated:,}"), ("time to recover", recover),
                *((f"{c.name} ({c.expected})", f"{c.observed} {'ok' if c.passed else 'FAILED'}") for c in self.checks),
                ("verdict", "PASS" if self.passed else "FAIL")]


def run(scenario: Scenario, stack: Stack, name: str = "") -> Verdict:
    """Check the steady state, run the method (with its load or run), roll back, check the steady state again."""
    verdict = Verdict(name or scenario.title, scenario.title)
    started = time.monotonic()
    _steady(scenario, stack, verdict, "before", 0.0)
    try:
        {"api": _api, "pipeline": _pipeline, "db-load": _db_load}[scenario.kind](scenario, stack, verdict)
    finally:
        for step in scenario.rollbacks:
            _fault(step, stack)
    _steady(scenario, stack, verdict, "after", scenario.expect.recover_within_s or STEADY_WAIT_S)
    verdict.seconds = round(time.monotonic() - started, 1)
    return verdict


# -- faults and probes ---------------------------------------------------------------------------------------
def _fault(step: Step, stack: Stack) -> None:
    proxy, args = stack.proxy, step.args
    actions: dict[str, Callable[[], Any]] = {
        "db-cut": proxy.cut, "db-refuse": proxy.refuse, "db-restore": proxy.restore,
        "db-slow": lambda: proxy.slow(float(args.get("latency_ms", 500)), float(args.get("jitter_ms", 0))),
        "db-throttle": lambda: proxy.throttle(float(args.get("bytes_per_s", 64_000))),
        "kill-ingress": lambda: _kill(serve_pids(APP, deployment="Ingress"), "ingress replica"),
        "kill-feature-shard": lambda: _kill(serve_pids(APP, actor=f"features-{int(args.get('index', 0))}"),
                                            "feature-store shard"),
    }
    if step.fault in actions:
        actions[step.fault]()


def _kill(pids: list[int], what: str) -> None:
    if not pids:
        raise SynFinanceError(f"chaos: no live {what} to kill in app {APP!r}")
    os.kill(pids[0], signal.SIGKILL)  # a hard death, like the OOM killer's


def _probe_holds(probe: Probe | Step, stack: Stack, http: bool) -> tuple[bool, str]:
    if not http or stack.base is None:  # no API in the scenario: the hypothesis is that the database answers
        ok = _database_answers(stack.proxied())
        return ok == (probe.probe != "not-ready"), "database answers" if ok else "database does not answer"
    path = "/health/live" if probe.probe == "live" else f"/health/ready?route={probe.route}"
    try:
        r = requests.get(stack.base + path, timeout=5)
    except requests.RequestException as exc:
        return False, f"no answer ({type(exc).__name__})"
    if probe.probe == "not-ready":
        down = r.json().get("down", []) if r.status_code == 503 else []
        return r.status_code == 503 and (probe.down is None or probe.down in down), f"{r.status_code} down={down}"
    return r.status_code == 200, str(r.status_code)


def _probe(probe: Probe | Step, stack: Stack, wait_s: float, http: bool) -> tuple[bool, str]:
    deadline = time.monotonic() + wait_s
    while True:
        ok, seen = _probe_holds(probe, stack, http)
        if ok or time.monotonic() >= deadline:
            return ok, seen
        time.sleep(0.1)


def _steady(scenario: Scenario, stack: Stack, verdict: Verdict, when: str, wait_s: float) -> None:
    for probe in scenario.steady_state:
        ok, seen = _probe(probe, stack, wait_s, scenario.kind == "api")
        verdict.check(f"steady state {when}: {probe.probe} {probe.route}", "holds", seen, ok)


def _timeline(method: tuple[Step, ...], stack: Stack, verdict: Verdict, started: float,
              done: threading.Event, http: bool = False) -> float:
    """Apply the method's steps at their times (armed faults were applied before); the last fault's time."""
    last_fault = 0.0
    for step in sorted(method, key=lambda s: s.at_s):
        if step.fault in ARMED:
            continue
        if done.wait(max(0.0, started + step.at_s - time.monotonic())):
            verdict.check(f"at {step.at_s:g} s: {step.fault or step.probe}", "while the work runs",
                          "the work had ended", False)
            break  # the work ended before this step: the scenario did not test what it says
        if step.fault is not None:
            _fault(step, stack)
            last_fault = time.monotonic() - started
        else:
            ok, seen = _probe(step, stack, PROBE_WAIT_S, http)
            verdict.check(f"at {step.at_s:g} s: {step.probe} {step.route}" + (f" ({step.down} down)" if step.down
                                                                              else ""), "holds", seen, ok)
    return last_fault


@dataclass
class Ran:
    """What the work under a method gave: its result or error, when the last fault was applied, how long it took."""

    result: Any
    error: BaseException | None
    last_fault_s: float
    seconds: float

    def after_last_fault_s(self) -> float | None:
        """How long the work went on after the last fault step (None: no fault step on the timeline)."""
        return round(max(0.0, self.seconds - self.last_fault_s), 2) if self.last_fault_s else None


def _under_method(work: Callable[[], Any], scenario: Scenario, stack: Stack, verdict: Verdict,
                  http: bool = False) -> Ran:
    """Run work in the background while the method's steps are applied on their timeline; wait for it."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["result"] = work()
        except BaseException as exc:  # handed to the verdict, which says what failed
            box["error"] = exc
        finally:
            done.set()

    started = time.monotonic()
    thread = threading.Thread(target=target, name="chaos-work", daemon=True)
    thread.start()
    last_fault = _timeline(scenario.method, stack, verdict, started, done, http)
    thread.join()
    return Ran(box.get("result"), box.get("error"), last_fault, time.monotonic() - started)


# -- the API under load --------------------------------------------------------------------------------------
def _api(scenario: Scenario, stack: Stack, verdict: Verdict) -> None:
    assert stack.base is not None and scenario.load is not None
    ledger = Ledger()
    source = Requests.from_dataset(stack.data, uuid.uuid4().hex[:8], scenario.load.concurrency)
    load = Load(stack.base, stack.keys, scenario.load, source, ledger)
    ran = _under_method(load.run, scenario, stack, verdict, http=True)
    if ran.error is not None:
        raise ran.error
    answers: list[Answer] = ran.result
    verdict.requests = len(answers)
    by_kind: dict[str, Counter[int]] = {}
    for a in answers:
        by_kind.setdefault(a.kind, Counter())[a.status] += 1
    verdict.answers = {k: {str(s): n for s, n in sorted(c.items())} for k, c in by_kind.items()}
    copies = Counter(_on(stack.db, lambda conn: TransactionRepository(conn).stored(ledger.acked + ledger.unacked)))
    verdict.accepted = len(ledger.acked)
    verdict.stored = sum(1 for i in ledger.acked if copies[i] >= 1)
    verdict.lost = verdict.accepted - verdict.stored
    verdict.duplicated = sum(1 for n in copies.values() if n > 1)
    stack.acknowledged.extend(ledger.records)
    verdict.notes["unacknowledged_writes"] = len(ledger.unacked)
    verdict.notes["unacknowledged_but_stored"] = sum(1 for i in ledger.unacked if copies[i] >= 1)
    failed = [a for a in answers if not 200 <= a.status < 300]
    verdict.recover_s = round(max(0.0, max(a.sent_s + a.seconds for a in failed) - ran.last_fault_s), 2) \
        if failed else 0.0
    _expectations(scenario, verdict, answers)
    if scenario.expect.state_rebuilt:
        killed = next(int(s.args.get("index", 0)) for s in scenario.method if s.fault == "kill-feature-shard")
        _state_rebuilt(stack, source, ledger, killed, verdict)


def _expectations(scenario: Scenario, verdict: Verdict, answers: list[Answer]) -> None:
    e = scenario.expect
    if e.lost is not None:
        verdict.check("lost", f"<= {e.lost}", verdict.lost, verdict.lost <= e.lost)
    if e.duplicated is not None:
        verdict.check("duplicated", f"<= {e.duplicated}", verdict.duplicated, verdict.duplicated <= e.duplicated)
    if e.recover_within_s is not None and verdict.recover_s is not None:
        verdict.check("time to recover", f"<= {e.recover_within_s:g} s", f"{verdict.recover_s:.1f} s",
                      verdict.recover_s <= e.recover_within_s)
    if e.max_error_rate is not None:
        counted = [a for a in answers if a.kind in e.error_kinds]
        rate = sum(1 for a in counted if not 200 <= a.status < 300) / max(1, len(counted))
        verdict.check(f"error rate of {'+'.join(e.error_kinds)}", f"<= {e.max_error_rate:.2%}", f"{rate:.2%}",
                      rate <= e.max_error_rate and bool(counted))
    if e.fast_unavailable_s is not None:
        unavailable = sorted(a.seconds for a in answers if a.status == 503)
        p90 = unavailable[int(0.9 * (len(unavailable) - 1))] if unavailable else 0.0
        with_header = all(a.retry_after for a in answers if a.status == 503)
        verdict.check("503s fast (p90), with Retry-After", f"<= {e.fast_unavailable_s:g} s",
                      f"{len(unavailable)} answers, p90 {p90:.2f} s, slowest {max(unavailable, default=0):.2f} s, "
                      f"Retry-After {'on all' if with_header else 'MISSING'}",
                      bool(unavailable) and p90 <= e.fast_unavailable_s and with_header)
    for kind, limit in e.max_seconds.items():
        slowest = max((a.seconds for a in answers if a.kind == kind), default=0.0)
        verdict.check(f"slowest {kind}", f"<= {limit:g} s", f"{slowest:.2f} s", slowest <= limit)
    if scenario.load is not None:
        peak = _peak_in_flight(answers)
        verdict.check("requests in flight", f"<= {scenario.load.concurrency}", peak,
                      peak <= scenario.load.concurrency)


def _state_rebuilt(stack: Stack, source: Requests, ledger: Ledger, index: int, verdict: Verdict) -> None:
    """The killed shard's customers, scored now with ?features=true, against a shard that never died: warmed from
    the same dataset, then given every write the app acknowledged on this stack (this run's and earlier runs':
    merchants and devices are shared) in time order."""
    shards = app_settings(stack).server.feature_shards
    reference = OnlineShard(index, shards)
    reference.warm(stack.data)
    mine = [_inputs(r) for r in stack.acknowledged if shard_of([r["customer_id"]], shards)[0] == index]
    reference.replay(pa.Table.from_pylist(mine, schema=INPUT_SCHEMA))
    written = {r["customer_id"] for r in ledger.records if shard_of([r["customer_id"]], shards)[0] == index}
    probes = [body for client in range(len(source.groups) * 3)
              for _, _, body, _ in [source.body("score", client)] if body["customer_id"] in written][:20]
    equal = 0
    for body in probes:
        r = requests.post(f"{stack.base}/v1/score?features=true", json=body, headers={"X-API-Key": stack.keys["score"]},
                          timeout=30)
        if r.status_code != 200:
            continue
        served = np.array([np.nan if v is None else v for v in r.json()["features"].values()], dtype=float)
        equal += bool(np.allclose(served, reference.one(_inputs(body)), rtol=1e-9, atol=1e-9, equal_nan=True))
    verdict.check(f"state of shard {index}'s customers", "features equal a fault-free shard's",
                  f"{equal}/{len(probes)} probes equal", bool(probes) and equal == len(probes))


def _inputs(record: dict[str, Any]) -> dict[str, Any]:
    """A record's scoring fields as the API reads them (typed by its request model)."""
    return TransactionIn.model_validate({k: record[k] for k in INPUT_COLUMNS}).model_dump()


def _peak_in_flight(answers: list[Answer]) -> int:
    edges = sorted([(a.sent_s, 1) for a in answers] + [(a.sent_s + a.seconds, -1) for a in answers])
    peak = now = 0
    for _, step in edges:
        now += step
        peak = max(peak, now)
    return peak


def _on(db: Database, work: Callable[[Any], Awaitable[T]]) -> T:
    """work(connection) on a connection of its own, closed after."""
    async def run() -> T:
        conn = await db.connect()
        try:
            return await work(conn)
        finally:
            await conn.close()
    return asyncio.run(run())


def _database_answers(db: Database) -> bool:
    """A connection opens (through the proxy: the server answered the handshake and authentication)."""
    async def nothing(_: Any) -> None:
        return None
    try:
        _on(db, nothing)
    except (SynFinanceError, OSError):
        return False
    return True


# -- a pipeline run, and a database load -----------------------------------------------------------------------
def _params(scenario: Scenario) -> GenerationParams:
    spec = scenario.pipeline
    assert spec is not None
    return GenerationParams(count=spec.rows, seed=77, customers=max(100, spec.rows // 100),
                            merchants=max(338, spec.rows // 100), shard_size=spec.shard_size)


def _armed(scenario: Scenario, work: Path) -> tuple[WorkerFaults | None, int | None]:
    kill: set[int] = set()
    press: set[int] = set()
    press_mb, full_after = 0, None
    for step in scenario.method:
        if step.fault == "kill-worker":
            kill |= {int(s) for s in step.args.get("shards", [1])}
        elif step.fault == "memory-pressure":
            press |= {int(s) for s in step.args.get("shards", [0])}
            press_mb = int(step.args.get("mb", 256))
        elif step.fault == "disk-full":
            full_after = int(step.args.get("after_bytes", 1_000_000))
    faults = None
    if kill or press:
        faults = WorkerFaults.arm(work / f"faults-{uuid.uuid4().hex[:6]}", kill)
        faults = WorkerFaults(faults.marker_dir, faults.kill_on_shards, frozenset(press), press_mb)
    return faults, full_after


def _content(directory: Path) -> dict[str, str]:
    return {str(f["path"]): str(f["sha256"]) for f in read_manifest(directory)["files"]}


def _pipeline(scenario: Scenario, stack: Stack, verdict: Verdict) -> None:
    spec, params = scenario.pipeline, _params(scenario)
    assert spec is not None
    work = stack.work / f"pipeline-{uuid.uuid4().hex[:8]}"
    e = scenario.expect
    baseline = None
    if spec.sink == "dataset":
        report = run_pipeline(params, DatasetSink(work / "baseline"), spec.workers, spec.features)
        assert report.manifest is not None
        baseline = _content(work / "baseline")
    faults, full_after = _armed(scenario, work)
    target: Database | None = None
    if spec.sink == "postgres":
        target = Database(stack.db.url, f"{stack.db.schema}_p{uuid.uuid4().hex[:6]}")
        asyncio.run(migrate(target))
        sink: Sink = PostgresSink(stack.proxied(target.schema))  # retried with database.bulk_retry's defaults
    else:
        sink = DatasetSink(work / "faulted")
    if full_after is not None:
        sink = FullDisk(sink, full_after)
    ran = _under_method(lambda: run_pipeline(params, sink, spec.workers, spec.features, worker_fault=faults),
                        scenario, stack, verdict)
    verdict.recover_s = ran.after_last_fault_s()
    verdict.accepted = params.count
    if e.fails_cleanly:
        _failed_cleanly(ran.error, work, baseline, params, spec.workers, spec.features, verdict)
        return
    if ran.error is not None:
        raise ran.error
    report = ran.result
    verdict.notes["shards_redone"] = report.restarts
    verdict.notes["rows_by_worker"] = report.rows_by_worker
    if target is not None:
        rows, distinct = _census(target)
        asyncio.run(target.drop_schema())
    else:
        rows = distinct = report.rows
    _counted(verdict, rows, distinct)
    if e.same_hash and baseline is not None:
        faulted = _content(work / "faulted")
        verdict.check("content equals the fault-free run's", f"{len(baseline)} files equal",
                      f"{sum(faulted.get(p) == h for p, h in baseline.items())} equal", faulted == baseline)
    if e.restarts is not None:
        verdict.check("shards redone", f">= {e.restarts}", report.restarts, report.restarts >= e.restarts)


def _counted(verdict: Verdict, rows: int, distinct: int) -> None:
    e_rows = verdict.accepted
    verdict.stored = distinct
    verdict.lost = max(0, e_rows - distinct)
    verdict.duplicated = rows - distinct
    verdict.check("rows stored", f"exactly {e_rows:,}", f"{rows:,} ({distinct:,} distinct)",
                  rows == distinct == e_rows)


def _failed_cleanly(error: BaseException | None, work: Path, baseline: dict[str, str] | None,
                    params: GenerationParams, workers: int, features: bool, verdict: Verdict) -> None:
    message = str(error) if error is not None else "no error"
    verdict.notes["error"] = message
    verdict.check("the run stops with one clear error", "OutputError naming the cause",
                  message[:160], isinstance(error, OutputError) and "No space left" in message)
    assert baseline is not None
    faulted = work / "faulted"
    written = {str(p.relative_to(faulted)): sha256_file(p) for p in faulted.rglob("*") if p.is_file()}
    intact = {p: h for p, h in written.items() if baseline.get(p) == h}
    stray = sorted(set(written) - set(intact))
    verdict.stored = sum(pq.read_metadata(faulted / p).num_rows for p in intact if p.startswith("transactions/"))
    verdict.check("files written before it intact", "every file complete, none partial",
                  f"{len(intact)} complete, stray: {stray[:3] or 'none'}", bool(intact) and not stray)
    report = run_pipeline(params, DatasetSink(faulted), workers, features)  # the re-run, space freed
    again = _content(faulted)
    verdict.notes["rerun_rows"] = report.rows
    verdict.check("a re-run completes", "content equals the fault-free run's",
                  f"{sum(again.get(p) == h for p, h in baseline.items())}/{len(baseline)} files equal",
                  again == baseline)


def _census(db: Database) -> tuple[int, int]:
    return _on(db, lambda conn: TransactionRepository(conn).census())


def _db_load(scenario: Scenario, stack: Stack, verdict: Verdict) -> None:
    target = Database(stack.db.url, f"{stack.db.schema}_l{uuid.uuid4().hex[:6]}")
    asyncio.run(migrate(target))
    proxied = stack.proxied(target.schema)  # retried with database.bulk_retry's defaults
    ran = _under_method(lambda: asyncio.run(load_dataset(proxied, stack.data, workers=2)), scenario, stack, verdict)
    verdict.recover_s = ran.after_last_fault_s()
    try:
        if ran.error is not None:
            raise ran.error
        verdict.accepted = sum(int(f["rows"]) for f in read_manifest(stack.data)["files"]
                               if str(f["path"]).startswith("transactions/"))
        rows, distinct = _census(target)
        _counted(verdict, rows, distinct)
        verdict.notes["load_seconds"] = round(ran.result.seconds, 2)
    finally:
        asyncio.run(target.drop_schema())


def dumps(verdicts: list[Verdict]) -> str:
    return json.dumps([v.to_json() for v in verdicts], indent=2, default=str)
