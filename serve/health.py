"""Health of the running app, component by component, with liveness / readiness / startup meaning.

- live: the ingress answers (no dependency is asked: a dead database never makes the service not-live);
- startup: every feature-store shard has warmed and answers;
- ready, per group of routes: `scoring` (/v1/score*) needs the model and the feature store; `queries`
  (GET /v1/...) the database; `writes` (POST /v1/transactions, feedback) all three. A dependency that is
  down or slower than CHECK_S makes only the groups that need it not-ready.

Each check gets CHECK_S; a check that takes longer reports `slow` (and counts as down for readiness).
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, Literal

CHECK_S = 2.0
LOW_DISK_BYTES = 1 << 30  # less free than this (or under 5 % of the disk) is `low`
Group = Literal["scoring", "queries", "writes"]
NEEDS: dict[str, tuple[str, ...]] = {"scoring": ("model", "feature_store"), "queries": ("database",),
                                     "writes": ("model", "feature_store", "database")}


async def timed(check: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """The check's answer with its round trip in ms; `slow` after CHECK_S, `unavailable` on an error."""
    started = time.perf_counter()
    try:
        answer = await asyncio.wait_for(check, CHECK_S)
    except TimeoutError:
        return {"status": "slow", "reason": f"no answer within {CHECK_S:g} s"}
    except Exception as exc:  # a health check reports what went wrong, it does not fail
        return {"status": "unavailable", "reason": f"{type(exc).__name__}: {exc}"}
    return {**answer, "round_trip_ms": round((time.perf_counter() - started) * 1000, 3)}


def model_state(info: dict[str, Any]) -> dict[str, Any]:
    if "ready" not in info:  # the check itself failed or was slow
        return info
    return {"status": "ok", "version": info["version"]} if info["ready"] else \
        {"status": "unavailable", "reason": info["reason"]}


def feature_store_state(shards: list[dict[str, int]], held_in: str, settling: int = 0) -> dict[str, Any]:
    """held_in: server.feature_store (the ingress replica itself, or shard actors); settling: this replica's writes
    being stored, those past their request's deadline included (their rows stay in the state if stored, else not)."""
    return {"status": "ok", "held_in": held_in, "shards": len(shards),
            "customers": sum(s["customers"] for s in shards), "writes_settling": settling, "detail": shards}


def disk_state(paths: list[Path]) -> dict[str, Any]:
    """Free space where the app writes (model registry, state, traces); `low` under 1 GiB or 5 %."""
    found: dict[str, Any] = {}
    for path in paths:
        probe = next((p for p in (path, *path.resolve().parents) if p.exists()), Path("/"))
        usage = shutil.disk_usage(probe)
        low = usage.free < LOW_DISK_BYTES or usage.free < 0.05 * usage.total
        found[str(path)] = {"free_mb": usage.free // (1 << 20), "free_ratio": round(usage.free / usage.total, 4),
                            "status": "low" if low else "ok"}
    worst = "low" if any(d["status"] == "low" for d in found.values()) else "ok"
    return {"status": worst, "paths": found}


def readiness(components: dict[str, dict[str, Any]]) -> dict[str, bool]:
    """Which groups of routes can be served now (a disabled database counts as ready: nothing to wait for)."""
    up = {name: c.get("status") in ("ok", "disabled") for name, c in components.items()}
    return {group: all(up.get(n, False) for n in needs) for group, needs in NEEDS.items()}


def overall(ready: dict[str, bool], components: dict[str, dict[str, Any]]) -> str:
    """unavailable: cannot score; degraded: scores, but something else is down or low; ok."""
    if not ready["scoring"]:
        return "unavailable"
    return "ok" if all(c.get("status") in ("ok", "disabled") for c in components.values()) else "degraded"
