"""Households share: a family phone or computer, and sometimes a UPI handle (imitates the shared devices of
coordinated and chained attacks and of account takeover)."""

from __future__ import annotations

from synfinance.generation.lookalikes.base import LookAlike, Shard
from synfinance.population import payments as pay
from synfinance.world.frame import Frame

KINDS = len(pay.INSTRUMENT_KINDS)


class SharedDevice(LookAlike):
    name = "household_device"
    imitates = "coordinated_attack, chained_attack, account_takeover (a device several customers use)"
    summary = "A household member pays on the family's shared phone or computer, sometimes from a shared UPI handle."
    order = 10

    def _apply(self, frame: Frame, shard: Shard, rate: float) -> None:
        cust, device = frame["cust"], frame["device"]
        head = shard.plan.households[cust]
        rows = shard.chosen((head != cust) & (device >= 0), rate)
        device[rows] = head[rows] * 2 + device[rows] % 2  # the head's device of the same kind (phone, computer)
        upi = rows[(frame["mode"][rows] == pay.UPI) & (shard.rng.random(len(rows)) < 0.5)]
        frame["instrument"][upi] = head[upi] * KINDS  # the family's UPI handle (instrument kind 0)
