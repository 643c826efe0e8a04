"""Champion and challenger: the version that decides, the one scored beside it in shadow, and every promotion.

The registry's `active` version is the champion: its decisions are the service's. A challenger
(`challenger.json`) is scored on the same features in the same process for a share of the traffic; its
scores never decide. Promotion makes a version the champion and remembers the one it replaced
(`promotions.jsonl`, one line per promotion or rollback); rollback goes back to it.

    shadow(root, "v0004", share=1.0)     # v0004 scores beside the champion
    promote(root, "v0004", "retrained on the campaign's weeks")
    rollback(root, "precision fell")     # the champion before v0004 decides again
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from synfinance.errors import ModelError, ParameterError, Problem
from synfinance.model import registry
from synfinance.output.files import atomic_path

CHALLENGER = "challenger.json"
HISTORY = "promotions.jsonl"


@dataclass(frozen=True)
class Shadow:
    version: str
    share: float  # of scored transactions the challenger scores too, 0-1
    since: str  # ISO time it started

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def challenger(root: Path) -> Shadow | None:
    path = Path(root) / CHALLENGER
    if not path.is_file():
        return None
    body = json.loads(path.read_text())
    return Shadow(str(body["version"]), float(body["share"]), str(body["since"]))


def shadow(root: Path, version: str, share: float = 1.0) -> Shadow:
    """Score `version` beside the champion on `share` of the traffic (its scores never decide)."""
    problems = []
    if not 0 < share <= 1:
        problems.append(Problem("share", share, "a share of the traffic above 0 and at most 1"))
    if version == registry.active_version(root):
        problems.append(Problem("version", version, "a version other than the champion (the active one)"))
    if problems:
        raise ParameterError(problems)
    registry.load(root, version)  # only a loadable model can shadow
    chosen = Shadow(version, share, _now())
    with atomic_path(Path(root) / CHALLENGER) as tmp:
        tmp.write_text(json.dumps(chosen.to_json()) + "\n")
    return chosen


def stop_shadow(root: Path) -> Shadow | None:
    """No challenger any more; the one there was, if any."""
    was = challenger(root)
    (Path(root) / CHALLENGER).unlink(missing_ok=True)
    return was


def promote(root: Path, version: str, reason: str = "") -> dict[str, Any]:
    """Make `version` the champion; the champion it replaces is remembered for rollback. A version promoted
    from shadow stops shadowing."""
    previous = registry.active_version(root)
    if version == previous:
        raise ParameterError([Problem("version", version, "a version other than the champion (the active one)")])
    registry.deploy(root, version)
    current = challenger(root)
    if current is not None and current.version == version:
        stop_shadow(root)
    return _record(root, "promote", version, previous, reason)


def rollback(root: Path, reason: str = "") -> dict[str, Any]:
    """The champion before the last promotion decides again; ModelError when nothing was promoted."""
    active = registry.active_version(root)
    promoted = [e for e in history(root) if e["action"] == "promote" and e["version"] == active]
    if not promoted or promoted[-1]["previous"] is None:
        raise ModelError(f"nothing to roll back to: {active or 'no version'} was not promoted over another one "
                         "(synfinance model promote)")
    previous = promoted[-1]["previous"]
    registry.deploy(root, previous)
    return _record(root, "rollback", previous, active, reason)


def history(root: Path) -> list[dict[str, Any]]:
    """Every promotion and rollback, oldest first."""
    path = Path(root) / HISTORY
    return [json.loads(line) for line in path.read_text().splitlines() if line] if path.is_file() else []


def _record(root: Path, action: str, version: str, previous: str | None, reason: str) -> dict[str, Any]:
    event = {"at": _now(), "action": action, "version": version, "previous": previous, "reason": reason}
    with (Path(root) / HISTORY).open("a") as out:
        out.write(json.dumps(event) + "\n")
    return event


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()
