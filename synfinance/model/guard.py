"""Guarded promotion: within a window after a promotion, the new champion is held against the one it replaced,
on what the service stored, and rolled back when it is clearly worse.

    verdict = judge(before, after, settings.ml.guard)   # Figures of the previous and the new champion
    if verdict.roll_back: promotion.rollback(root, verdict.reason)

Two rules, each judged only on enough evidence: the new champion's precision on label feedback (reviews and
declines found fraud) below the previous champion's by more than `precision_margin`; or its decline rate above
`decline_jump` times the previous one's and a point more.
"""

from __future__ import annotations

from dataclasses import dataclass

from synfinance.settings.models import GuardConfig


@dataclass(frozen=True)
class Figures:
    """A version's record: fed-back flagged transactions (reviews and declines) and how many were fraud; what it
    decided, and how many it declined."""

    version: str
    flagged: int  # fed back as tp or fp
    true_flags: int  # tp
    scored: int
    declined: int

    @property
    def precision(self) -> float | None:
        return self.true_flags / self.flagged if self.flagged else None

    @property
    def decline_rate(self) -> float | None:
        return self.declined / self.scored if self.scored else None


@dataclass(frozen=True)
class Verdict:
    roll_back: bool
    reason: str  # why, or what was not yet judged


def judge(before: Figures, after: Figures, guard: GuardConfig) -> Verdict:
    """Roll `after` (the new champion) back to `before`? (see the module)"""
    notes = []
    if after.flagged >= guard.min_flagged and before.flagged >= guard.min_flagged:
        assert after.precision is not None and before.precision is not None
        if after.precision < before.precision - guard.precision_margin:
            return Verdict(True, f"precision of {after.version} {after.precision:.3f} on {after.flagged} fed-back "
                                 f"flags, below {before.version}'s {before.precision:.3f} by more than "
                                 f"{guard.precision_margin}")
    else:
        notes.append(f"precision not judged yet ({after.flagged} and {before.flagged} fed-back flags, "
                     f"{guard.min_flagged} needed)")
    if after.scored >= guard.min_scored and before.decline_rate is not None:
        assert after.decline_rate is not None
        if after.decline_rate > guard.decline_jump * before.decline_rate + 0.01:
            return Verdict(True, f"decline rate of {after.version} {after.decline_rate:.2%} over {after.scored} "
                                 f"transactions, above {guard.decline_jump}x {before.version}'s "
                                 f"{before.decline_rate:.2%} + 1 point")
    else:
        notes.append(f"decline rate not judged yet ({after.scored} decided, {guard.min_scored} needed)")
    return Verdict(False, "; ".join(notes) or f"{after.version} holds up against {before.version}")
