"""`synfinance model shadow | promote | rollback`: a challenger scored beside the champion, and the champion
changed (or changed back) with a record of why. A running API picks each change up within seconds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from synfinance.cli.conventions import Command, result
from synfinance.cli.model import MODELS, _models

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

    event = promotion.promote(_models(models), version, reason)
    result(event, f"{version} is the champion (was {event['previous'] or 'none'})")


@click.command("rollback", cls=Command, example="synfinance model rollback --reason 'precision fell'")
@REASON
@MODELS
def rollback_cmd(reason: str, models: Path | None) -> None:
    """The champion before the last promotion decides again."""
    from synfinance.model import promotion

    event: dict[str, Any] = promotion.rollback(_models(models), reason)
    result(event, f"rolled back to {event['version']} (from {event['previous']})")
