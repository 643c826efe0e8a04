"""How much legitimate behaviour looks like fraud: the rate of each benign look-alike, scaled by difficulty.

A look-alike is something real customers do that a fraud pattern also does: pay twice at the same shop (the
same place: a replay's zero distance), share a family phone (a shared device), go on a spree (a burst), pay
₹10 for tea (a card test's micro amount), retry a declined ticket booking (the same charge minutes apart).
Without them, one feature separates a fraud type from everything else (PaySim's flaw). The rates below are
the `realistic` ones; `easy` has a quarter of them, `hard` twice (capped at 1). docs/generation.md gives the
real-world figures they imitate.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

SCALE = {"easy": 0.25, "realistic": 1.0, "hard": 2.0}


@dataclass(frozen=True)
class LookalikeRates:
    merchant_location: float = 0.85  # in-person payments located at the shop's own point (the rest: GPS noise)
    device_location: float = 0.85  # online payments located at the device's usual point
    households: float = 0.35  # customers living with another customer (2-6 to a household, same city)
    household_device: float = 0.25  # a household member's device payments made on a shared family device
    sprees: float = 0.006  # payments that start a spree: 3-8 purchases minutes apart
    retries: float = 0.015  # online payments after a declined attempt at the same charge, minutes earlier
    micro_payments: float = 0.12  # in-person UPI food, grocery and fuel payments of ₹5-₹50
    round_amounts: float = 0.35  # bills, fees, gifts and transfers in round hundreds
    first_time_high_value: float = 0.15  # festival electronics and jewellery bought big at a new shop
    refunds: float = 0.01  # online fashion and electronics purchases refunded (reversed), not fraud
    large_purchases: float = 0.0015  # of electronics, jewellery, travel, health, school payments: 0.5-2x income
    new_payees: float = 0.03  # UPI transfers that are a first, larger one to a new person (only beside the scam)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def given(self, overrides: tuple[tuple[str, float], ...] | None) -> LookalikeRates:
        return replace(self, **dict(overrides or ()))

    def scaled(self, difficulty: str) -> LookalikeRates:
        """The rates at a difficulty; the location rates are facts of the world, not difficulty, and stay."""
        k = SCALE[difficulty]
        fixed = ("merchant_location", "device_location")
        return replace(self, **{f.name: min(1.0, getattr(self, f.name) * (1 if f.name in fixed else k))
                                for f in fields(self)})
