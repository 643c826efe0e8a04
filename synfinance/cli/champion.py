"""`synfinance model shadow | promote | rollback`: a challenger scored beside the champion, and the champion
changed (or changed back) with a record of why. A running API picks each change up within seconds."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import click

from synfinance.cli.conventions import Command, result
from synfinance.cli.model import MODELS, _models
from synfinance.cli.pushing import push_finished
from synfinance.settings import load_settings

REASON = click.option("--reason", default="", help="Why: kept in the registry's promotions.jsonl and logged.")


@click.command("shadow", cls=Command, example="synfinance model shadow v0002 --share 0.5")
@click.argument("version", required=False)
@click.option("--share", type=float, default=1.0, show_default=True,
              help="Share of scored transactions the challenger scores too.")
@click.option("--stop", is_flag=True, help="No challenger any more.")
@MODELS
def shadow_cmd(version: str | None, share: float, stop: bool, models: Path | None) -> None:
    """Score VERSION beside the champion (the active version) on the same features, in the same process: its
    decisions are counted and compared with the champion's, and never decide."""
    from synfinance.errors import ParameterError, Problem
    from synfinance.model import promotion

    root = _models(models)
    if stop == (version is not None):
        raise ParameterError([Problem("version", version, "a version to shadow, or --stop (not both)")])
    if stop:
        was = promotion.stop_shadow(root)
        result({"challenger": None, "stopped": None if was is None else was.version},
               f"no challenger{'' if was is None else f' ({was.version} stopped shadowing)'}")
        return
    assert version is not None
    chosen = promotion.shadow(root, version, share)
    result({"challenger": chosen.to_json()}, f"{version} scores {share:.0%} of the traffic in shadow")


@click.command("promote", cls=Command, example="synfinance model promote v0002 --reason 'retrained'")
@click.argument("version")
@REASON
@MODELS
def promote_cmd(version: str, reason: str, models: Path | None) -> None:
    """Make VERSION the champion; the one it replaces is remembered (`model rollback` goes back to it)."""
    from synfinance.model import promotion
    from synfinance.observability import metrics

    event = promotion.promote(_models(models), version, reason)
    push_finished("promote", 0, 0.0, {(metrics.MODEL_PROMOTIONS, (version, event["previous"] or "none")): time.time()})
    result(event, f"{version} is the champion (was {event['previous'] or 'none'})")


@click.command("rollback", cls=Command, example="synfinance model rollback --reason 'precision fell'")
@REASON
@MODELS
def rollback_cmd(reason: str, models: Path | None) -> None:
    """The champion before the last promotion decides again."""
    from synfinance.model import promotion
    from synfinance.observability import metrics

    event: dict[str, Any] = promotion.rollback(_models(models), reason)
    push_finished("rollback", 0, 0.0,  # a job of its own: a push replaces the job's last one
                  {(metrics.MODEL_ROLLBACKS, (event["previous"], event["version"], "hand")): time.time()})
    result(event, f"rolled back to {event['version']} (from {event['previous']})")


@click.command("guard", cls=Command, example="synfinance model guard")
@click.option("--watch", type=float, default=None, metavar="SECONDS",
              help="Judge again every SECONDS until stopped (Ctrl-C) [default: once].")
@MODELS
def guard_cmd(watch: float | None, models: Path | None) -> None:
    """Within ml.guard.window_s of the last promotion, hold the new champion against the one it replaced on what
    the service stored (label feedback on their reviews and declines, their decline rates: the previous one's
    over the window before the promotion, the new one's since) and roll it back when clearly worse (ml.guard:
    precision_margin, decline_jump). A rollback is logged (event model.rolled_back) and pushed as a metric."""
    root = _models(models)
    while True:
        doc = guard_once(root)
        result(doc, doc["verdict"])
        if watch is None:
            return
        time.sleep(watch)  # a watch loop between passes: the next pass judges what has arrived since


def guard_once(root: Path) -> dict[str, Any]:
    """One pass of the guard: what it judged, and whether it rolled back."""
    import asyncio

    from synfinance.model import promotion, registry
    from synfinance.model.guard import Figures, judge
    from synfinance.observability import metrics
    from synfinance.observability.logs import get_logger
    from synfinance.store.connect import Database
    from synfinance.store.feedback import version_figures

    settings = load_settings().settings
    guard, now = settings.ml.guard, dt.datetime.now(dt.UTC)
    history = promotion.history(root)
    last = history[-1] if history else None
    active = registry.active_version(root)
    if last is None or last["action"] != "promote" or last["version"] != active or last["previous"] is None:
        return {"rolled_back": False, "verdict": f"nothing to guard: {active or 'no version'} was not just promoted"}
    champion: str = last["version"]
    at, window = dt.datetime.fromisoformat(last["at"]), dt.timedelta(seconds=guard.window_s)
    if now - at > window:
        return {"rolled_back": False, "verdict": f"{champion} was promoted {now - at} ago, past ml.guard.window_s"}

    async def figures() -> tuple[dict[str, int], dict[str, int]]:
        conn = await Database.from_config(settings.database).connect(application="guard")
        try:
            return (await version_figures(conn, last["previous"], at - window, at),
                    await version_figures(conn, champion, at, now))
        finally:
            await conn.close()

    before, after = asyncio.run(figures())
    verdict = judge(Figures(last["previous"], **before), Figures(champion, **after), guard)
    doc: dict[str, Any] = {"rolled_back": verdict.roll_back, "verdict": verdict.reason, "champion": champion,
                           "previous": last["previous"], "promoted_at": last["at"], "before": before, "after": after}
    if verdict.roll_back:
        event = promotion.rollback(root, f"guard: {verdict.reason}")
        get_logger("synfinance.ops").warning("model.rolled_back", version=event["previous"], to=event["version"],
                                             reason=verdict.reason)
        push_finished("guard", 0, 0.0,
                      {(metrics.MODEL_ROLLBACKS, (event["previous"], event["version"], "guard")): time.time()})
        doc["verdict"] = f"rolled back to {event['version']}: {verdict.reason}"
    return doc
